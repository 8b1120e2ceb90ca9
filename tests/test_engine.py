"""Engine behaviour that every flow relies on: errors, serialization, limits, rendering."""

from __future__ import annotations

import asyncio
import io
import logging
import re

from sqlmodel import Session, select

from bot.channels.console import ConsoleChannel
from bot.channels.memory import MemoryChat
from bot.engine import Engine
from bot.flow import Context, Router
from bot.messages import Incoming, split_text, to_plain
from bot.models import ConversationState, ProcessedUpdate


def _engine_with(app, router: Router) -> Engine:  # type: ignore[no-untyped-def]
    from handlers import routers

    return Engine(
        db=app.db,
        settings=app.settings,
        texts=app.content.texts,
        routers=[*routers(), router],
        content=app.content,
    )


def test_a_failing_handler_apologizes_with_the_code_that_is_logged(app, caplog):
    broken = Router("broken")

    @broken.command("vo", role=None)
    def explode(ctx: Context) -> None:
        ctx.say("register.welcome")
        raise RuntimeError("boom")

    me = MemoryChat(_engine_with(app, broken), "7")
    with caplog.at_level(logging.ERROR):
        me.say("/vo")
    text = me.last_text()
    assert "Xin lỗi" in text and "Traceback" not in text and "boom" not in text
    code = re.search(r"mã lỗi: (\w{6})", text)
    assert code is not None
    [record] = [r for r in caplog.records if "handler failed" in r.getMessage()]
    assert f"ref={code.group(1)}" in record.getMessage()
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
    assert "Chào mừng" not in text  # what the handler said before failing is not sent
    with Session(app.db) as s:  # a webhook retry of the same update is not processed again
        assert s.exec(select(ProcessedUpdate)).all()
    me.say("/start")  # the chat still works
    assert "Bước 1/5" in me.last_text()


def test_updates_of_one_chat_run_one_at_a_time(app):
    """Twenty concurrent taps in one chat: each sees the state the previous one saved."""
    counter = Router("counter")

    @counter.command("dem", role=None)
    def count(ctx: Context) -> None:
        ctx.begin("counter", "n", {"n": 0})

    @counter.step("n")
    def step(ctx: Context) -> None:
        ctx.data["n"] = ctx.data.get("n", 0) + 1

    engine = _engine_with(app, counter)

    def incoming(i: int, chat: str) -> Incoming:
        return Incoming(
            platform="memory",
            update_id=f"{chat}-{i}",
            user_id=chat,
            chat_id=chat,
            text="/dem" if i == 0 else "+",
        )

    async def main() -> None:
        for chat in ("a", "b"):
            await engine.handle(incoming(0, chat))
        await asyncio.gather(
            *(engine.handle(incoming(i, c)) for i in range(1, 21) for c in ("a", "b"))
        )

    asyncio.run(main())
    with Session(app.db) as s:
        states = {r.chat_id: r.data["n"] for r in s.exec(select(ConversationState)).all()}
    assert states == {"a": 20, "b": 20}


def test_long_text_is_split_at_paragraphs_within_the_limit():
    paragraphs = [f"Đoạn {i}: " + "chữ " * 300 for i in range(8)]
    text = "\n\n".join(paragraphs)
    parts = split_text(text, 4096)
    assert all(len(p) <= 4096 for p in parts) and len(parts) > 1
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert split_text("x" * 5000, 2000) == ["x" * 2000, "x" * 2000, "x" * 1000]


def test_html_subset_renders_as_plain_text():
    assert to_plain("<b>Đăng ký</b> &lt;b&gt; &amp; <i>xong</i>") == "Đăng ký <b> & xong"


def test_console_shows_numbered_choices_and_accepts_numbers(app):
    out = io.StringIO()
    console = ConsoleChannel(app.engine, files_dir=app.settings.content_dir, out=out)
    console.handle_line("/start CDCS-MN-HM")
    console.handle_line("Hoàng Văn Nam")
    assert "1. Cán bộ công đoàn" in out.getvalue() and "4. Công nhân lao động" in out.getvalue()
    console.handle_line("3")
    assert "Bước 4/5" in out.getvalue()
    assert "<b>" not in out.getvalue()


def test_an_old_button_is_known_stale_before_the_update_is_handled(app, chat):  # type: ignore[no-untyped-def]
    """A channel answers a pressed button while the engine works; it can say "old button" at
    once for a double tap or an old message, and only then."""
    me = chat("31")
    me.say("/start CDCS-MN-HM")
    me.say("Phạm Thị Hoa")
    first = me.last_choices().options[0].data
    me.press("Viên chức")
    current = me.last_choices().options[0].data

    def pressed(data: str) -> Incoming:
        return Incoming(platform="memory", update_id="x", user_id="31", chat_id="31", choice=data)

    assert app.engine.surely_stale(pressed(first))
    assert not app.engine.surely_stale(pressed(current))
    assert app.engine.surely_stale(pressed("'; DROP--"))  # data the bot never makes
    other = Incoming(platform="memory", update_id="y", user_id="32", chat_id="32", choice=first)
    assert not app.engine.surely_stale(other)  # another chat: unknown, the engine decides
    me.press_data(first)
    assert "tin nhắn cũ" in me.last_text()  # and the engine says so in the chat
