"""Issue 13 end to end over real HTTP, the real python-telegram-bot code against the Bot API
double: an admin sends next year's official document in the chat, publishes the topic, sends
the questions as an XLSX, makes the year's plan with it in /kehoach; a member studies it (the
section cites the new document) and takes the quiz with the new questions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from bot.app import build_app, load_demo_units
from bot.messages import to_plain
from bot.models import Plan
from tests import docsamples
from tests.conftest import make_settings
from tests.doubles.telegram_api import FakeTelegramAPI
from tests.helpers import Clock
from tests.test_telegram_e2e import Running, polling_bot

ADMIN = 7001
MEMBER = 7002


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    with FakeTelegramAPI() as fake:
        yield fake


@pytest.fixture
async def running(db_url: str, api: FakeTelegramAPI) -> AsyncIterator[Running]:
    settings = make_settings(
        db_url,
        telegram_bot_token=api.token,
        telegram_api_base_url=api.root,
        admin_telegram_ids=str(ADMIN),
    )
    clock = Clock(datetime(2027, 1, 5, 2, tzinfo=UTC))  # 9:00 in Hà Nội; 2027 has no plan yet
    built = build_app(settings, clock=clock)
    load_demo_units(built)
    async with polling_bot(built, api) as running:
        yield running


async def answer(
    api: FakeTelegramAPI, user: int, expect: str, do: object, *, edits: bool = False
) -> str:
    """Do something (a text, a button's label as ("press", label), a file as ("file", name,
    data)) and wait until a new message of the bot in that chat says `expect` (or an edited
    one, with `edits`: a quiz goes on in one message)."""
    methods = ("sendMessage", "editMessageText") if edits else ("sendMessage",)
    mark = api.mark()
    if isinstance(do, str):
        api.send_text(user, do)
    elif isinstance(do, tuple) and do[0] == "press":
        api.press_button(user, str(do[1]))
    elif isinstance(do, tuple) and do[0] == "file":
        api.send_document(user, do[2], str(do[1]))

    def arrived() -> str | None:
        texts = [
            to_plain(str(c.params.get("text") or c.params.get("caption") or ""))
            for c in api.calls[mark:]
            if c.ok and c.chat_id == user and c.method in methods
        ]
        found = [t for t in texts if expect in t]
        return found[-1] if found else None

    return await api.await_for(arrived, timeout=10)


def button(api: FakeTelegramAPI, user: int, labels: tuple[str, ...]) -> str | None:
    """A label of the chat's latest keyboard that contains one of `labels`."""
    latest = next((m for m in reversed(api.messages(user)) if api.buttons(m)), None)
    found = [t for t, _ in api.buttons(latest) if any(label in t for label in labels)]
    return found[0] if found else None


async def register(api: FakeTelegramAPI, user: int, name: str) -> None:
    await answer(api, user, "họ và tên", "/start CDCS-MN-HM")
    await answer(api, user, "nhóm đối tượng", name)
    await answer(api, user, "đảng viên", ("press", "Viên chức"))
    await answer(api, user, "Đồng ý xử lý", ("press", "Không"))
    await answer(api, user, "Khai báo thông tin thành công", ("press", "Tôi đồng ý"))


async def test_the_new_years_topic_and_questions_over_telegram(running: Running) -> None:
    api = running.api
    await register(api, ADMIN, "Trần Thị Lan")
    await answer(api, ADMIN, "Chuyên đề và câu hỏi thi", "/chuyende")
    await answer(api, ADMIN, "Gửi tài liệu học tập", ("press", "Thêm chuyên đề"))
    # a wrong file first, then the document
    await answer(api, ADMIN, "không phải DOCX", ("file", "ghi-chu.txt", b"ghi chu"))
    outline = await answer(  # the outline, not the line before it ("chia thành 4 mục")
        api, ADMIN, "4 mục:", ("file", "Chuyen de 2027.docx", docsamples.topic_docx())
    )
    assert "Bản nháp: Chuyên đề năm 2027" in outline and "II.2. Đoàn viên" in outline
    await answer(api, ADMIN, "Gõ tên ngắn", ("press", "Đổi tên ngắn"))
    await answer(api, ADMIN, "Tên ngắn (trên nút chọn): Tiết kiệm 2027", "Tiết kiệm 2027")
    await answer(api, ADMIN, "Gửi tệp Excel", ("press", "Nhập câu hỏi từ Excel"))
    sheet = docsamples.sheet(docsamples.good_rows())
    mark = api.mark()
    await answer(api, ADMIN, "Câu hỏi thi: 10", ("file", "cau-hoi.xlsx", sheet))
    assert any("10 câu mới" in (c.text or "") for c in api.sent_to(ADMIN, since=mark))
    await answer(api, ADMIN, "Xuất bản “", ("press", "Xuất bản"))
    await answer(api, ADMIN, "📘 Đã xuất bản:", ("press", "Xuất bản"))
    # the template and the bank come back as files in the chat
    mark = api.mark()
    await answer(api, ADMIN, "4 mục", ("press", "Tải câu hỏi hiện có"))
    sent = await api.await_for_call("sendDocument", since=mark)
    assert sent.files["document"][0] == "cau-hoi-chuyen-de-2027.xlsx"

    # the plan for 2027 with the new topic and its quiz
    await answer(api, ADMIN, "Kế hoạch học tập và làm theo", "/kehoach")
    await answer(api, ADMIN, "Mục 1/8", ("press", "Tạo kế hoạch năm 2027"))
    await answer(api, ADMIN, "Mục 2/8", ("press", "Tiết kiệm 2027"))
    await answer(api, ADMIN, "Mục 2/8", ("press", "⬜ Tiết kiệm 2027"))
    message = api.last_message(ADMIN)
    for label, _data in api.buttons(message):
        if label.startswith("✅") and "Tiết kiệm 2027" not in label:
            await answer(api, ADMIN, "Mục 2/8", ("press", label))
    await answer(api, ADMIN, "Mục 3/8", ("press", "Xong"))
    await answer(api, ADMIN, "Mục 4/8", ("press", "Giữ"))
    await answer(api, ADMIN, "Mục 5/8", ("press", "Có nhận"))
    await answer(api, ADMIN, "Mục 6/8", ("press", "Giữ"))
    await answer(api, ADMIN, "Mục 7/8", ("press", "Giữ"))
    await answer(api, ADMIN, "Mục 8/8", ("press", "Giữ các hạn này"))
    await answer(api, ADMIN, "“Tiết kiệm 2027”", ("press", "Giữ"))
    await answer(api, ADMIN, "Đã lưu kế hoạch năm 2027", ("press", "Lưu kế hoạch"))
    with Session(running.app.db) as s:
        plan = s.get(Plan, "demo-2027")
    assert plan is not None and plan.topic == "chuyen-de-2027"

    # a member studies it and takes the quiz with the new questions
    await register(api, MEMBER, "Ngô Thị Thu")
    await answer(api, MEMBER, "Học chuyên đề", "/hoc")
    section = await answer(api, MEMBER, "Phần 1/4", ("press", "Tiết kiệm 2027"))
    assert "Chuyên đề năm 2027: Học tập và làm theo" in section  # the new document cited
    api.send_text(MEMBER, "/thi")
    await api.await_for(lambda: button(api, MEMBER, ("Bắt đầu", "Tiết kiệm 2027")), timeout=10)
    if button(api, MEMBER, ("Tiết kiệm 2027",)):  # several quizzes: choose it first
        api.press_button(MEMBER, "Tiết kiệm 2027")
        await api.await_for(lambda: button(api, MEMBER, ("Bắt đầu",)), timeout=10)
    question = await answer(api, MEMBER, "Câu 1/", ("press", "Bắt đầu"), edits=True)
    assert any(str(row[1]) in question for row in docsamples.good_rows())
    after = await answer(api, MEMBER, "📖", ("press", "A"), edits=True)
    assert "📖 Chuyên đề năm 2027: Học tập và làm theo" in after
