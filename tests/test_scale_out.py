"""Two bot processes on one PostgreSQL database (issue 15: scale out behind one address): the same
member's updates reach both, interleaved and at the same moment. Every update is answered once,
a double tap counts once, and the conversation state stays consistent."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, select

from bot.app import build_app
from bot.messages import Choices, Incoming
from bot.models import QuizAttempt
from tests.helpers import register


@pytest.fixture
def pair(app, db_url, settings, content):  # type: ignore[no-untyped-def]
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes share a database on PostgreSQL only")
    other = build_app(settings, content=content)
    yield app.engine, other.engine
    other.db.dispose()


def _press(platform_update: str, data: str) -> Incoming:
    return Incoming(
        platform="memory", update_id=platform_update, user_id="s1", chat_id="s1", choice=data
    )


def _texts(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(getattr(r, "text", "") for r in response.replies)


def _current(response) -> Choices:  # type: ignore[no-untyped-def]
    return next(r for r in reversed(response.replies) if isinstance(r, Choices))


def test_a_quiz_answered_through_two_processes_counts_each_answer_once(pair, app, chat) -> None:  # type: ignore[no-untyped-def]
    """Each button is tapped twice, the taps reaching the two processes at the same moment:
    one tap is processed, the other is told the button is old; the quiz ends with ten answers,
    each counted once."""
    me = chat("s1")
    register(me)
    me.say("/thi")
    me.press("7 dám")
    me.press("Bắt đầu")
    on_screen = me.last_choices()
    with ThreadPoolExecutor(max_workers=2) as pool:
        for n in range(60):  # ten questions, some with several answers (ticks, then submit)
            labels = [o.label for o in on_screen.options]
            ticked = any("☑" in label for label in labels)
            data = on_screen.options[-1 if ticked and "Trả lời" in labels[-1] else 0].data
            taps = [_press(f"tap-{n}-a", data), _press(f"tap-{n}-b", data)]
            both = list(
                pool.map(lambda pick: pick[0].handle_sync(pick[1]), zip(pair, taps, strict=True))
            )
            stale = [r for r in both if "tin nhắn cũ" in _texts(r)]
            winners = [r for r in both if r not in stale]
            assert len(winners) == 1 and len(stale) == 1, [_texts(r) for r in both]
            if "🏁" in _texts(winners[0]):  # the result
                break
            on_screen = _current(winners[0])
    with Session(app.db) as s:
        attempt = s.exec(select(QuizAttempt)).one()
    assert attempt.finished_at is not None and attempt.current == attempt.total == 10
    assert all(a is not None for a in attempt.answers)


def test_the_same_update_at_two_processes_is_answered_by_one(pair, chat) -> None:  # type: ignore[no-untyped-def]
    first, second = pair
    me = chat("s1")
    register(me)
    update = Incoming(
        platform="memory", update_id="dup-77", user_id="s1", chat_id="s1", text="/trogiup"
    )
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda e: e.handle_sync(update), [first, second]))
    assert sorted(r.duplicate for r in both) == [False, True]
