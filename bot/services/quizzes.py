"""Quizzes: draw, shuffle, answer, score, time limits, attempt limits, leaderboards."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from bot.catalog import Campaign, Catalog, Question, QuizRule
from bot.db import guarded_update
from bot.models import Member, QuizAttempt, Unit


@dataclass(frozen=True)
class Shown:
    """A question as this member sees it: options in their shuffled order."""

    index: int
    total: int
    question: Question
    options: list[str]


@dataclass(frozen=True)
class Outcome:
    correct: bool
    question: Question
    right: list[str]  # the right options' texts
    right_positions: list[int]  # their positions as shown
    finished: bool


class QuizError(Exception):
    """Not a state the quiz can be in (an old question, a finished attempt)."""


def draw(bank: list[Question], count: int, rng: random.Random) -> list[Question]:
    """Distinct questions at random, as many as asked or as the bank has."""
    return rng.sample(bank, min(count, len(bank)))


def start(
    session: Session,
    *,
    member_id: int,
    campaign: Campaign,
    rule: QuizRule,
    bank: list[Question],
    rng: random.Random,
    now: datetime,
) -> QuizAttempt:
    questions = draw(bank, rule.questions, rng)
    orders = []
    for q in questions:
        order = list(range(len(q.options)))
        rng.shuffle(order)
        orders.append(order)
    attempt = QuizAttempt(
        member_id=member_id,
        campaign_id=campaign.id,
        topic_id=rule.topic,
        question_ids=[q.id for q in questions],
        option_orders=orders,
        answers=[None] * len(questions),
        total=len(questions),
        started_at=now,
        deadline_at=now + timedelta(minutes=rule.time_limit_minutes)
        if rule.time_limit_minutes
        else None,
    )
    session.add(attempt)
    session.flush()
    return attempt


def shown(attempt: QuizAttempt, catalog: Catalog, index: int | None = None) -> Shown:
    i = attempt.current if index is None else index
    question = catalog.questions[attempt.question_ids[i]]
    options = [question.options[j] for j in attempt.option_orders[i]]
    return Shown(index=i, total=attempt.total, question=question, options=options)


def answer(
    session: Session,
    attempt: QuizAttempt,
    *,
    index: int,
    positions: list[int],
    catalog: Catalog,
    now: datetime,
) -> Outcome:
    """Record the answer to question `index` (positions as shown); only the current one counts."""
    if attempt.finished_at is not None or index != attempt.current:
        raise QuizError("not the current question")
    order = attempt.option_orders[index]
    if not positions or any(not 0 <= p < len(order) for p in positions):
        raise QuizError("no such option")
    question = catalog.questions[attempt.question_ids[index]]
    chosen = sorted({order[p] for p in positions})
    correct = chosen == sorted(question.correct)
    answers = list(attempt.answers)
    answers[index] = chosen
    values: dict[str, Any] = {
        "answers": answers,
        "score": attempt.score + int(correct),
        "current": index + 1,
    }
    if index + 1 >= attempt.total:
        values.update(_finished(attempt, now=now))
    _record(session, attempt, index, values)
    right_positions = [order.index(c) for c in question.correct]
    return Outcome(
        correct=correct,
        question=question,
        right=[question.options[c] for c in question.correct],
        right_positions=sorted(right_positions),
        finished=attempt.finished_at is not None,
    )


def finish(attempt: QuizAttempt, *, now: datetime, timed_out: bool = False) -> None:
    for name, value in _finished(attempt, now=now, timed_out=timed_out).items():
        setattr(attempt, name, value)


def _finished(attempt: QuizAttempt, *, now: datetime, timed_out: bool = False) -> dict[str, Any]:
    end = min(now, attempt.deadline_at) if attempt.deadline_at and timed_out else now
    return {
        "finished_at": end,
        "elapsed_seconds": max(0, int((end - attempt.started_at).total_seconds())),
        "timed_out": timed_out,
    }


def _record(session: Session, attempt: QuizAttempt, index: int, values: dict[str, Any]) -> None:
    """Save an answer through the table, not the ORM's unit of work (whose flush was an eighth
    of the engine's CPU per quiz answer), and only while question `index` is still the current
    one: an answer counted meanwhile (another process) is not counted twice. The attempt in the
    session then holds the saved values as its committed state."""
    result = session.connection().execute(
        _answer_statement(tuple(values)),
        {"row_id": attempt.id, "read_current": index, **values},
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise QuizError("not the current question")
    for name, value in values.items():
        set_committed_value(attempt, name, value)


@cache
def _answer_statement(names: tuple[str, ...]) -> Any:
    """The UPDATE of `_record` for these columns, built once."""
    return guarded_update(QuizAttempt.__table__, "current", names)  # type: ignore[attr-defined]


def expired(attempt: QuizAttempt, now: datetime) -> bool:
    return attempt.deadline_at is not None and now > attempt.deadline_at


def close_if_expired(session: Session, attempt: QuizAttempt, now: datetime) -> bool:
    """A running attempt past its time limit ends; unanswered questions count as wrong."""
    if attempt.finished_at is None and expired(attempt, now):
        finish(attempt, now=now, timed_out=True)
        session.add(attempt)
        session.flush()
        return True
    return False


def grade(attempt: QuizAttempt, rule: QuizRule) -> bool:
    """Passing is at least pass_percent of the questions right."""
    return attempt.total > 0 and attempt.score * 100 >= rule.pass_percent * attempt.total


def running(session: Session, *, member_id: int, campaign_id: str) -> QuizAttempt | None:
    return session.exec(
        select(QuizAttempt)
        .where(
            QuizAttempt.member_id == member_id,
            QuizAttempt.campaign_id == campaign_id,
            col(QuizAttempt.finished_at).is_(None),
        )
        .order_by(col(QuizAttempt.started_at).desc())
        .limit(1)
    ).first()


def period_start(now: datetime, period: str, tz: ZoneInfo) -> datetime | None:
    """Start of the current day/week/month in local time; None for the whole campaign."""
    local = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return local
    if period == "week":
        return local - timedelta(days=local.weekday())
    if period == "month":
        return local.replace(day=1)
    return None


def attempts_used(
    session: Session,
    *,
    member_id: int,
    campaign_id: str,
    rule: QuizRule,
    now: datetime,
    tz: ZoneInfo,
) -> int:
    query = (
        select(func.count())
        .select_from(QuizAttempt)
        .where(
            QuizAttempt.member_id == member_id,
            QuizAttempt.campaign_id == campaign_id,
            QuizAttempt.topic_id == rule.topic,
        )
    )
    since = period_start(now, rule.period, tz)
    if since is not None:
        query = query.where(col(QuizAttempt.started_at) >= since)
    return int(session.exec(query).one())


def best(
    session: Session, *, member_id: int, campaign_id: str, topic_id: str
) -> QuizAttempt | None:
    return session.exec(
        select(QuizAttempt)
        .where(
            QuizAttempt.member_id == member_id,
            QuizAttempt.campaign_id == campaign_id,
            QuizAttempt.topic_id == topic_id,
            col(QuizAttempt.finished_at).is_not(None),
        )
        .order_by(
            col(QuizAttempt.score).desc(),
            col(QuizAttempt.elapsed_seconds).asc(),
            col(QuizAttempt.finished_at).asc(),
        )
        .limit(1)  # the ORM would otherwise read (and decode) every attempt to return one
    ).first()


@dataclass(frozen=True)
class BoardRow:
    rank: int
    member_id: int
    name: str
    initials_only: bool
    unit: str
    score: int
    total: int
    elapsed_seconds: int


def _best_rows(campaign_id: str, topic_id: str):  # type: ignore[no-untyped-def]
    """Each member's best finished attempt: score, then time, then who finished first."""
    rn = func.row_number().over(
        partition_by=col(QuizAttempt.member_id),
        order_by=(
            col(QuizAttempt.score).desc(),
            col(QuizAttempt.elapsed_seconds).asc(),
            col(QuizAttempt.finished_at).asc(),
        ),
    )
    return (
        sa_select(
            col(QuizAttempt.member_id).label("member_id"),
            col(QuizAttempt.score).label("score"),
            col(QuizAttempt.total).label("total"),
            col(QuizAttempt.elapsed_seconds).label("elapsed"),
            col(QuizAttempt.finished_at).label("finished"),
            rn.label("rn"),
        )
        .where(
            col(QuizAttempt.campaign_id) == campaign_id,
            col(QuizAttempt.topic_id) == topic_id,
            col(QuizAttempt.finished_at).is_not(None),
        )
        .subquery()
    )


def _scoped(best, unit_path: str | None):  # type: ignore[no-untyped-def]
    query = (
        sa_select(
            best,
            col(Member.full_name),
            col(Member.initials_only),
            col(Unit.name).label("unit_name"),
        )
        .join(Member, col(Member.id) == best.c.member_id)
        .join(Unit, col(Unit.id) == Member.unit_id)
        .where(best.c.rn == 1, col(Member.deleted_at).is_(None))
    )
    if unit_path:
        query = query.where(col(Unit.path).startswith(unit_path))
    return query


def leaderboard(
    session: Session,
    *,
    campaign_id: str,
    topic_id: str,
    unit_path: str | None = None,
    limit: int = 10,
) -> list[BoardRow]:
    best = _best_rows(campaign_id, topic_id)
    query = (
        _scoped(best, unit_path)
        .order_by(
            best.c.score.desc(), best.c.elapsed.asc(), best.c.finished.asc(), best.c.member_id
        )
        .limit(limit)
    )
    rows = session.execute(query).all()
    return [
        BoardRow(
            rank=i,
            member_id=r.member_id,
            name=r.full_name or "",
            initials_only=r.initials_only,
            unit=r.unit_name,
            score=r.score,
            total=r.total,
            elapsed_seconds=r.elapsed or 0,
        )
        for i, r in enumerate(rows, start=1)
    ]


def rank_of(
    session: Session,
    *,
    member_id: int,
    campaign_id: str,
    topic_id: str,
    unit_path: str | None = None,
) -> int | None:
    """1 + the number of members whose best is strictly better; None without a finished try."""
    mine = best(session, member_id=member_id, campaign_id=campaign_id, topic_id=topic_id)
    if mine is None or mine.finished_at is None:
        return None
    best_rows = _best_rows(campaign_id, topic_id)
    scoped = _scoped(best_rows, unit_path).subquery()
    elapsed = mine.elapsed_seconds or 0
    better = or_(
        scoped.c.score > mine.score,
        and_(scoped.c.score == mine.score, scoped.c.elapsed < elapsed),
        and_(
            scoped.c.score == mine.score,
            scoped.c.elapsed == elapsed,
            scoped.c.finished < mine.finished_at,
        ),
    )
    count = session.execute(sa_select(func.count()).select_from(scoped).where(better)).scalar()
    return int(count or 0) + 1
