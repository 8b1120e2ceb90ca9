"""Study conferences ("hội nghị học tập, quán triệt", Phụ lục 1): an officer records one held by
a unit of their scope, with the attendance typed, or counted from members' check-ins with a
code until a set time. Each member is counted once per conference, with their party flag; a
check-in also counts as having studied the year's topic (bot.services.stats)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.models import Member, Unit
from bot.models_year import ConferenceForm, StudyCheckIn, StudySession
from bot.services.plans import PlanRef
from bot.textutil import one_line

CODE_PREFIX = "HN"
CODE_DIGITS = 6
MAX_ATTENDEES = 100_000
TOPIC_MIN, TOPIC_MAX = 5, 300
MAX_OPEN = timedelta(days=7)  # a check-in stays open at most this long
FORMS: tuple[str, ...] = tuple(f.value for f in ConferenceForm)

_CODE = re.compile(rf"^{CODE_PREFIX}\d{{{CODE_DIGITS}}}$")
_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_CLOCK = re.compile(r"^(\d{1,2})[:hH](\d{2})$")
_COUNTS = re.compile(r"^(\d+)\D+(\d+)$")


class Invalid(ValueError):
    """Input that cannot be recorded; `key` names the text that says why."""

    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


# --- reading what the officer types ---------------------------------------------------------


def normalize_code(typed: str | None) -> str | None:
    """'hn 482-913' -> 'HN482913'; None if it is not a conference code's shape."""
    code = re.sub(r"[\s.-]", "", typed or "").upper()
    return code if _CODE.match(code) else None


def parse_date(typed: str, *, year: int) -> date:
    """A dd/mm/yyyy date in the plan's year."""
    match = _DATE.match(one_line(typed))
    if match is None:
        raise Invalid("date_format")
    try:
        day = date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise Invalid("date_invalid") from None
    if day.year != year:
        raise Invalid("date_year")
    return day


def parse_count(typed: str) -> int:
    text = one_line(typed).replace(".", "").replace(",", "")
    if not text.isdigit():
        raise Invalid("count_format")
    value = int(text)
    if value > MAX_ATTENDEES:
        raise Invalid("count_big")
    return value


def parse_counts(typed: str) -> tuple[int, int]:
    """'45 12', '45/12', '45, trong đó 12': attendees, then party members among them."""
    match = _COUNTS.match(one_line(typed))
    if match is None:
        raise Invalid("counts_format")
    return check_counts(parse_count(match[1]), parse_count(match[2]))


def check_counts(attendees: int, party: int) -> tuple[int, int]:
    if attendees < 1:
        raise Invalid("count_zero")
    if party > attendees:
        raise Invalid("party_over")
    return attendees, party


def clean_topic(typed: str) -> str:
    topic = one_line(typed)
    if len(topic) < TOPIC_MIN:
        raise Invalid("topic_short")
    if len(topic) > TOPIC_MAX:
        raise Invalid("topic_long")
    return topic


def parse_closing(typed: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    """'HH:MM' (today) or 'dd/mm/yyyy HH:MM', local time; later than now, within MAX_OPEN."""
    parts = one_line(typed).split()
    clock = _CLOCK.match(parts[-1]) if parts else None
    if clock is None or len(parts) > 2:
        raise Invalid("closes_format")
    hour, minute = int(clock[1]), int(clock[2])
    if hour > 23 or minute > 59:
        raise Invalid("closes_format")
    day = now.astimezone(tz).date()
    if len(parts) == 2:
        match = _DATE.match(parts[0])
        if match is None:
            raise Invalid("closes_format")
        try:
            day = date(int(match[3]), int(match[2]), int(match[1]))
        except ValueError:
            raise Invalid("date_invalid") from None
    return check_closing(datetime.combine(day, time(hour, minute), tz), now=now)


def check_closing(closes: datetime, *, now: datetime) -> datetime:
    if closes <= now:
        raise Invalid("closes_past")
    if closes > now + MAX_OPEN:
        raise Invalid("closes_far")
    return closes


# --- recording ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """A conference as the officer described it, before it is saved."""

    unit_id: int
    form: str
    held_on: date
    topic: str
    attendees: int | None = None  # typed attendance ...
    party_attendees: int | None = None
    closes_at: datetime | None = None  # ... or check-in until this time


def _new_code(session: Session) -> str:
    while True:
        code = CODE_PREFIX + "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        taken = session.exec(select(StudySession.id).where(StudySession.checkin_code == code))
        if taken.first() is None:
            return code


def record(
    session: Session, *, draft: Draft, plan: PlanRef, created_by: str, now: datetime
) -> StudySession:
    if draft.form not in FORMS:
        raise Invalid("form")
    if draft.closes_at is None:
        if draft.attendees is None or draft.party_attendees is None:
            raise Invalid("counts_format")
        check_counts(draft.attendees, draft.party_attendees)
    row = StudySession(
        unit_id=draft.unit_id,
        campaign_id=plan.id,
        year=plan.year,
        form=draft.form,
        held_on=draft.held_on,
        topic=draft.topic,
        attendees=None if draft.closes_at else draft.attendees,
        party_attendees=None if draft.closes_at else draft.party_attendees,
        checkin_code=_new_code(session) if draft.closes_at else None,
        closes_at=draft.closes_at,
        created_by=created_by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def by_code(session: Session, code: str) -> StudySession | None:
    return session.exec(select(StudySession).where(StudySession.checkin_code == code)).first()


def is_open(row: StudySession, now: datetime) -> bool:
    return row.closes_at is not None and now < row.closes_at


def close(session: Session, row: StudySession, *, now: datetime) -> bool:
    """End the check-in now; False if it had ended already."""
    if not is_open(row, now):
        return False
    row.closes_at = now
    session.add(row)
    session.flush()
    return True


@dataclass(frozen=True)
class CheckIn:
    ok: bool
    reason: str = ""  # when not ok: unknown, closed, outside, already
    conference: StudySession | None = None
    at: datetime | None = None  # when the member checked in (now, or earlier if already)


def check_in(session: Session, *, code: str, member: Member, now: datetime) -> CheckIn:
    """Count the member at the conference of this code, once, with their party flag."""
    row = by_code(session, code)
    if row is None:
        return CheckIn(False, "unknown")
    assert row.id is not None and member.id is not None
    earlier = session.exec(
        select(StudyCheckIn).where(
            StudyCheckIn.session_id == row.id, StudyCheckIn.member_id == member.id
        )
    ).first()
    if earlier is not None:
        return CheckIn(False, "already", row, earlier.checked_in_at)
    if not is_open(row, now):
        return CheckIn(False, "closed", row)
    unit = session.get(Unit, row.unit_id)
    mine = session.get(Unit, member.unit_id)
    if unit is None or mine is None or not mine.path.startswith(unit.path):
        return CheckIn(False, "outside", row)
    try:
        with session.begin_nested():  # a double tap racing this one: counted once
            session.add(
                StudyCheckIn(
                    session_id=row.id,
                    member_id=member.id,
                    party_member=member.party_member,
                    checked_in_at=now,
                )
            )
    except IntegrityError:
        return CheckIn(False, "already", row, now)
    return CheckIn(True, conference=row, at=now)


@dataclass(frozen=True)
class Attendance:
    attendees: int
    party: int


def attendance(session: Session, rows: Iterable[StudySession]) -> dict[int, Attendance]:
    """Each conference's attendance: typed, or its check-ins so far."""
    rows = list(rows)
    counted = [r.id for r in rows if r.attendees is None and r.id is not None]
    found: dict[int, Attendance] = {}
    if counted:
        query = (
            select(
                col(StudyCheckIn.session_id),
                func.count(),
                func.sum(case((col(StudyCheckIn.party_member), 1), else_=0)),
            )
            .where(col(StudyCheckIn.session_id).in_(counted))
            .group_by(col(StudyCheckIn.session_id))
        )
        for session_id, count, party in session.exec(query).all():  # type: ignore[call-overload]
            found[session_id] = Attendance(count, int(party or 0))
    out = {}
    for r in rows:
        assert r.id is not None
        if r.attendees is not None:
            out[r.id] = Attendance(r.attendees, r.party_attendees or 0)
        else:
            out[r.id] = found.get(r.id, Attendance(0, 0))
    return out


def in_scope(
    session: Session, *, campaign_id: str, paths: list[str] | None, limit: int | None = None
) -> list[tuple[StudySession, Unit]]:
    """The plan's conferences held by units under these paths (None: everywhere), the latest
    first."""
    query = (
        select(StudySession, Unit)
        .join(Unit, col(Unit.id) == StudySession.unit_id)
        .where(StudySession.campaign_id == campaign_id)
        .order_by(col(StudySession.held_on).desc(), col(StudySession.id).desc())
    )
    if paths is not None:
        query = query.where(or_(*(col(Unit.path).startswith(p) for p in paths)))
    if limit is not None:
        query = query.limit(limit)
    return [(s, u) for s, u in session.exec(query).all()]


def attended(session: Session, *, member_id: int, campaign_id: str) -> int:
    """The plan's conferences the member checked in at."""
    return int(
        session.exec(
            select(func.count())
            .select_from(StudyCheckIn)
            .join(StudySession, col(StudySession.id) == StudyCheckIn.session_id)
            .where(StudyCheckIn.member_id == member_id, StudySession.campaign_id == campaign_id)
        ).one()
    )
