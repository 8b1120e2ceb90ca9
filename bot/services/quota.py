"""A platform's monthly message limit (Zalo plans: the free one is reported at 3,000 outbound
messages a month). Every outbound message is counted in `platformusage` for the calendar month
(local time); with a limit, a message is sent only if taking it keeps the month at or under its
kind's ceiling, in one conditional UPDATE, so several processes never go over together.

Priorities are ceilings: replies in conversations (and notices to admins) may use the whole
month; deadline reminders up to 95%; officers' announcements up to 85%; anniversary posts up to
75%. So when a month runs short, anniversary posts are held back first, then announcements,
then reminders, and people who write to the bot still get answers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.models import BroadcastKind, PlatformUsage

REPLY = "reply"  # a message in a conversation (or a report to the officer who sent a broadcast)
SHARE: dict[str, float] = {
    REPLY: 1.0,
    BroadcastKind.ADMIN_NOTICE.value: 1.0,
    BroadcastKind.REMINDER.value: 0.95,
    BroadcastKind.OFFICER_REMINDER.value: 0.95,
    BroadcastKind.ANNOUNCEMENT.value: 0.85,
    BroadcastKind.ANNIVERSARY.value: 0.75,
}
WARN_SHARE = 0.8  # admins are told when the month reaches this share

_U = PlatformUsage.__table__  # type: ignore[attr-defined]


def month_of(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).strftime("%Y-%m")


def ceiling(limit: int, kind: str | None) -> int:
    """How far into the month's limit a message of this kind may go."""
    return int(limit * SHARE.get(kind or REPLY, SHARE[BroadcastKind.ANNIVERSARY.value]))


def take(
    session: Session,
    *,
    platform: str,
    month: str,
    count: int,
    limit: int,
    kind: str | None = None,
) -> bool:
    """Count `count` messages about to be sent; False (and counted as held) if that would pass
    the kind's ceiling. Without a limit (0) it only counts. Commits."""
    _ensure(session, platform, month)
    where = [_U.c.platform == platform, _U.c.month == month]
    if limit > 0:
        where.append(_U.c.sent + count <= ceiling(limit, kind))
    result = session.execute(update(_U).where(*where).values(sent=_U.c.sent + count))
    taken = bool(result.rowcount)  # type: ignore[attr-defined]
    if not taken:
        session.execute(
            update(_U)
            .where(_U.c.platform == platform, _U.c.month == month)
            .values(held=_U.c.held + count)
        )
    session.commit()
    return taken


def _ensure(session: Session, platform: str, month: str) -> None:
    values = {"platform": platform, "month": month, "sent": 0, "held": 0}
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(_U).values(**values).on_conflict_do_nothing())


@dataclass(frozen=True)
class Usage:
    platform: str
    month: str
    sent: int
    held: int
    limit: int

    @property
    def percent(self) -> int:
        return int(100 * self.sent / self.limit) if self.limit else 0


def usage(session: Session, *, platform: str, month: str, limit: int) -> Usage:
    row = session.execute(
        select(_U.c.sent, _U.c.held).where(_U.c.platform == platform, _U.c.month == month)
    ).first()
    sent, held = (int(row[0]), int(row[1])) if row else (0, 0)
    return Usage(platform, month, sent, held, limit)


def notices_due(session: Session, *, platform: str, month: str, limit: int) -> list[str]:
    """Which admin notices the month calls for now: "warn" (80% used), "held" (something was
    held back); each marked as given, so it is given once a month. Does not commit."""
    if limit <= 0:
        return []
    row = session.get(PlatformUsage, (platform, month))
    if row is None:
        return []
    due = []
    if row.warned_at is None and row.sent >= limit * WARN_SHARE:
        due.append("warn")
    if row.held_notice_at is None and row.held > 0:
        due.append("held")
    return due


def mark_notice(session: Session, *, platform: str, month: str, notice: str, now: datetime) -> None:
    column = "warned_at" if notice == "warn" else "held_notice_at"
    session.execute(
        update(_U).where(_U.c.platform == platform, _U.c.month == month).values({column: now})
    )


class Counter:
    """A platform's month counter for a channel or sender (blocking: call it from a thread).

    With a limit, every take is one conditional UPDATE, so nothing ever goes over it. Without
    one the month is only counted: counts are added up here and written at most once a second
    (or every FLUSH_EVERY messages), so a mass send does not pay a commit per message."""

    FLUSH_EVERY = 200
    FLUSH_SECONDS = 1.0

    def __init__(
        self, db: Engine, *, platform: str, limit: int, tz: ZoneInfo, clock: Callable[[], datetime]
    ):
        self.db = db
        self.platform = platform
        self.limit = limit
        self.tz = tz
        self.clock = clock
        self._lock = threading.Lock()
        self._unwritten: dict[str, int] = {}  # month -> messages counted, not yet written
        self._written_at = time.monotonic()

    def take(self, count: int, kind: str | None = None) -> bool:
        month = month_of(self.clock(), self.tz)
        if self.limit <= 0:
            with self._lock:
                self._unwritten[month] = self._unwritten.get(month, 0) + count
                due = (
                    sum(self._unwritten.values()) >= self.FLUSH_EVERY
                    or time.monotonic() - self._written_at >= self.FLUSH_SECONDS
                )
            if due:
                self.flush()
            return True
        with Session(self.db) as session:
            return take(
                session,
                platform=self.platform,
                month=month,
                count=count,
                limit=self.limit,
                kind=kind,
            )

    def flush(self) -> None:
        """Write what was counted without a limit (also when a worker stops)."""
        with self._lock:
            unwritten, self._unwritten = self._unwritten, {}
            self._written_at = time.monotonic()
        if not unwritten:
            return
        with Session(self.db) as session:
            for month, count in unwritten.items():
                take(session, platform=self.platform, month=month, count=count, limit=0)

    def give_back(self, count: int) -> None:
        """Messages counted but not sent after all (the platform refused the call)."""
        month = month_of(self.clock(), self.tz)
        if self.limit <= 0:
            with self._lock:
                self._unwritten[month] = self._unwritten.get(month, 0) - count
            return
        with Session(self.db) as session:
            session.execute(
                update(_U)
                .where(_U.c.platform == self.platform, _U.c.month == month, _U.c.sent >= count)
                .values(sent=_U.c.sent - count)
            )
            session.commit()
