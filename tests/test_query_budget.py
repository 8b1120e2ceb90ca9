"""The statement budget of the common paths (issue 15): at most 5 SQL statements and 1 commit per
update for a quiz answer, a study step and a registration step: the dedupe claim, the state and
the person (one statement), the flow's own work, the state saved. A regression shows here in CI,
without timing anything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlmodel import Session, select

from bot.models import QuizAttempt
from tests.helpers import register

BUDGET = 5
# PostgreSQL claims the update in the statement that loads the state: one statement fewer
BUDGET_BY_DATABASE = {"sqlite": BUDGET, "postgresql": BUDGET - 1}


@dataclass
class Counted:
    database: str
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def counting(db) -> Iterator[Counted]:  # type: ignore[no-untyped-def]
    seen = Counted(db.dialect.name)

    def on_execute(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        seen.statements.append(" ".join(statement.split())[:90])

    def on_commit(conn):  # type: ignore[no-untyped-def]
        seen.commits += 1

    event.listen(db, "before_cursor_execute", on_execute)
    event.listen(db, "commit", on_commit)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", on_execute)
        event.remove(db, "commit", on_commit)


def within_budget(seen: Counted) -> None:
    assert len(seen.statements) <= BUDGET_BY_DATABASE[seen.database], "\n".join(seen.statements)
    assert seen.commits == 1


def test_a_quiz_answer_stays_within_the_statement_budget(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("b1")
    register(me)
    me.say("/thi")
    me.press("7 dám")
    me.press("Bắt đầu")
    for _ in range(10):  # the first question with one answer
        with Session(app.db) as s:
            attempt = s.exec(select(QuizAttempt)).one()
        question = app.content.catalog.questions[attempt.question_ids[attempt.current]]
        if not question.multiple:
            break
        me.press(me.last_choices().options[0].label)
        me.press("Trả lời")
    with counting(app.db) as seen:
        me.press(me.last_choices().options[0].label)
    assert re.search(r"Câu \d+/", me.last_text()) or "Kết quả" in me.last_text()
    within_budget(seen)
    # the attempt is read with the state (the quiz router's preload): no statement of its own
    assert not any(s.startswith("SELECT quizattempt.") for s in seen.statements), seen.statements


def test_a_study_step_stays_within_the_statement_budget(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("b2")
    register(me)
    me.say("/hoc")
    with counting(app.db) as opened:
        me.press(me.last_choices().options[0].label)
    with counting(app.db) as seen:
        me.press("Tiếp")
    assert "Phần 2/" in me.last_text()
    within_budget(opened)
    within_budget(seen)


def test_a_registration_step_stays_within_the_statement_budget(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("b3")
    me.say("/start CDCS-MN-HM")
    with counting(app.db) as named:
        me.say("Đặng Thị Thu")
    with counting(app.db) as grouped:
        me.press("Viên chức")
    assert "Bước 4/5" in me.last_text()
    within_budget(named)
    within_budget(grouped)


def test_a_quiz_end_reads_the_best_attempt_not_every_attempt(app, chat) -> None:  # type: ignore[no-untyped-def]
    """A member practising for a contest piles up attempts; the result at each quiz's end names
    the best one, which must not mean reading (and decoding) all of them."""
    me = chat("b4")
    register(me)
    me.say("/thi")
    me.press("7 dám")
    me.press("Bắt đầu")
    with Session(app.db) as s:
        running = s.exec(select(QuizAttempt)).one()
        running_id, fields = running.id, running.model_dump(exclude={"id"})
        earlier = running.started_at.replace(year=running.started_at.year - 1)
        for n in range(30):  # last year's practice: finished, scores of 0 and up
            done = {"score": n % running.total, "started_at": earlier, "finished_at": earlier}
            s.add(QuizAttempt(**{**fields, **done}))
        s.commit()
    loaded: list[int] = []

    def on_load(target, context):  # type: ignore[no-untyped-def]
        loaded.append(target.id)

    event.listen(QuizAttempt, "load", on_load)
    try:
        for _ in range(40):  # to the last answer (a question with several answers: two steps)
            with Session(app.db) as s:
                attempt = s.exec(select(QuizAttempt).where(QuizAttempt.id == running_id)).one()
            if attempt.finished_at is not None:
                break
            several = app.content.catalog.questions[attempt.question_ids[attempt.current]].multiple
            if several:
                me.press(me.last_choices().options[0].label)
            loaded.clear()
            me.press("Trả lời" if several else me.last_choices().options[0].label)
            by_the_answer = list(loaded)
    finally:
        event.remove(QuizAttempt, "load", on_load)
    assert attempt.finished_at is not None
    assert "Điểm cao nhất của bạn" in me.last_text()
    assert len(by_the_answer) <= 2, by_the_answer  # the running attempt, and the best one
