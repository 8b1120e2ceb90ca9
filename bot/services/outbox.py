"""The outbox: one row per recipient of a broadcast, delivered exactly once by the delivery worker
(scheduler/delivery.py). This module is the database side; it never talks to a platform.

Row lifecycle (OutboxStatus):

    pending --claim--> claimed --start--> sending --> sent | blocked | failed | pending (retry)
       |                  |  \\--give back--> pending
       |                  \\--start--> skipped (a reminder whose member has submitted meanwhile)
       \\--cancel--> cancelled            sending --recover (process died)--> unknown

* ``claim``: ``UPDATE ... WHERE id IN (SELECT id ... ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED)
  RETURNING ...`` takes pending rows of one platform that are due (``next_attempt_at`` null or
  passed) and whose broadcast is SENDING, marking them CLAIMED with ``claimed_by``/``claimed_at``.
  On PostgreSQL, SKIP LOCKED lets several workers claim side by side without ever taking the same
  row; SQLite has no lock clause (one worker), the single UPDATE statement is atomic there.
* ``start``: just before the call, the row becomes SENDING with ``attempts + 1`` and is committed:
  the attempt is recorded before the call is made. Only rows still CLAIMED by this worker are
  started, so a row cancelled or requeued meanwhile is never sent. ``claimed_at`` is set to the
  start time, so it always tells when the worker last touched the row.
* ``record``: the outcome of each call (sent, blocked, retry later, failed).
* ``recover``: after a crash, CLAIMED rows (never attempted) go back to PENDING; SENDING rows
  (the call may have gone through) become UNKNOWN and are never sent again.
* ``finish``: a SENDING broadcast with no row left in pending/claimed/sending becomes DONE; its
  final report is then taken once (``take_report``: ``report_sent_at`` set before the call), so a
  process that dies between the two leaves the report for the next round, never sends it twice.
* ``pace``: on PostgreSQL, where several processes deliver, the next send slot of a platform and
  the pause it asked for (429) live in one ``deliverypace`` row, locked for the instant it takes
  to move it, so the configured rate is the rate of all workers together.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple

from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.messages import to_plain
from bot.models import (
    Broadcast,
    BroadcastStatus,
    DeliveryPace,
    GroupLink,
    Identity,
    OutboxMessage,
    OutboxStatus,
    Pledge,
)
from bot.texts import Texts

logger = logging.getLogger(__name__)

_T = OutboxMessage.__table__  # type: ignore[attr-defined]
_B = Broadcast.__table__  # type: ignore[attr-defined]
_I = Identity.__table__  # type: ignore[attr-defined]
_G = GroupLink.__table__  # type: ignore[attr-defined]
_P = Pledge.__table__  # type: ignore[attr-defined]
_R = DeliveryPace.__table__  # type: ignore[attr-defined]

ACTIVE = (OutboxStatus.PENDING, OutboxStatus.CLAIMED, OutboxStatus.SENDING)
TITLE_LENGTH = 40
ERROR_LENGTH = 200


@dataclass(frozen=True)
class SendResult:
    """What a platform answered to one send."""

    status: Literal["sent", "blocked", "retry_after", "error", "held"]
    retry_after: float = 0.0  # seconds, for "retry_after"
    error: str = ""  # short reason, no personal data
    retryable: bool = True  # for "error": whether trying again later may succeed


class Recipient(NamedTuple):
    platform: str
    chat_id: str
    member_id: int | None = None
    is_group: bool = False


class ClaimedRow(NamedTuple):
    id: int
    broadcast_id: int
    chat_id: str
    member_id: int | None
    is_group: bool
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What to write for one row after its call (see ``record``)."""

    row: ClaimedRow
    status: OutboxStatus  # SENT, BLOCKED, FAILED or PENDING (retry)
    at: datetime
    next_attempt_at: datetime | None = None
    error: str | None = None
    count_attempt: bool = True  # False for a 429: the attempt is given back


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- the public API ------------------------------------------------------------------------------


def enqueue(
    session: Session, broadcast_id: int, recipients: Iterable[Recipient], *, chunk: int = 1000
) -> int:
    """Insert one pending row per recipient; a recipient already there is left alone, so a second
    call adds nothing. Returns the rows added. Recipients are consumed in chunks of `chunk`
    (one bulk ``INSERT ... ON CONFLICT DO NOTHING`` each), so an iterator of 100,000 uses little
    memory. Does not commit: the caller commits together with the broadcast's new status."""
    postgres = _is_postgres(session)
    added = 0
    iterator = iter(recipients)
    while batch := list(itertools.islice(iterator, chunk)):
        if postgres:
            added += _insert_postgres(session, broadcast_id, batch)
        else:
            added += _insert_sqlite(session, broadcast_id, batch)
    if postgres and added >= ANALYZE_AFTER:
        _analyze(session)
    return added


ANALYZE_AFTER = 10_000
_PG_INSERT = text(
    """
    INSERT INTO outboxmessage (broadcast_id, platform, chat_id, member_id, is_group, status,
                               attempts)
    SELECT :broadcast_id, r.platform, r.chat_id, r.member_id, r.is_group, :status, 0
    FROM unnest(CAST(:platforms AS varchar[]), CAST(:chat_ids AS varchar[]),
                CAST(:member_ids AS integer[]), CAST(:is_group AS boolean[]))
         AS r(platform, chat_id, member_id, is_group)
    ON CONFLICT (broadcast_id, platform, chat_id) DO NOTHING
    """
)


def _insert_postgres(session: Session, broadcast_id: int, batch: list[Recipient]) -> int:
    """Four arrays instead of thousands of parameters: 100,000 rows in about a second."""
    result = session.execute(
        _PG_INSERT,
        {
            "broadcast_id": broadcast_id,
            "status": OutboxStatus.PENDING.value,
            "platforms": [r.platform for r in batch],
            "chat_ids": [str(r.chat_id) for r in batch],
            "member_ids": [r.member_id for r in batch],
            "is_group": [bool(r.is_group) for r in batch],
        },
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _insert_sqlite(session: Session, broadcast_id: int, batch: list[Recipient]) -> int:
    rows = [
        {
            "broadcast_id": broadcast_id,
            "platform": r.platform,
            "chat_id": str(r.chat_id),
            "member_id": r.member_id,
            "is_group": bool(r.is_group),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
        }
        for r in batch
    ]
    # RETURNING makes SQLAlchemy send multi-row VALUES statements ("insertmanyvalues"), and only
    # the rows really inserted (not ignored) come back
    stmt = sqlite_insert(_T).on_conflict_do_nothing().returning(_T.c.id)
    return len(session.execute(stmt, rows).all())


def _analyze(session: Session) -> None:
    """Fresh planner statistics after a big enqueue: a year-old outbox is mostly SENT rows, and
    with stale statistics PostgreSQL would sort every pending row at each claim instead of reading
    a short id range. Best effort (needs ownership of the table)."""
    try:
        with session.begin_nested():
            session.execute(text("ANALYZE outboxmessage"))
    except DBAPIError as exc:
        logger.info("outbox: ANALYZE skipped (%s)", type(exc).__name__)


def counts(session: Session, broadcast_id: int) -> dict[str, int]:
    """Rows per OutboxStatus value (every status present, 0 if none) plus "total"."""
    found: dict[str, int] = {s.value: 0 for s in OutboxStatus}
    rows = session.execute(
        select(_T.c.status, func.count())
        .where(_T.c.broadcast_id == broadcast_id)
        .group_by(_T.c.status)
    )
    for status, n in rows:
        found[str(status)] = int(n)
    found["total"] = sum(found[s.value] for s in OutboxStatus)
    return found


def _open_broadcasts() -> Any:
    """Broadcasts that can have rows in claimed/sending (a DONE one cannot): keeps recovery on the
    (broadcast_id, status) index instead of scanning a year of outbox rows."""
    return select(_B.c.id).where(_B.c.status != BroadcastStatus.DONE.value)


def recover(
    session: Session,
    *,
    now: datetime,
    stale_after: timedelta = timedelta(minutes=2),
    exclude_worker: str | None = None,
) -> tuple[int, int]:
    """After a crash: CLAIMED rows untouched for `stale_after` go back to PENDING (never
    attempted); SENDING rows untouched for `stale_after` become UNKNOWN (the call may have gone
    through: never resent). `exclude_worker` leaves the rows of a worker known to be alive (the
    caller itself). Returns (requeued, unknown). Does not commit."""
    cutoff = now - stale_after
    where = [_T.c.claimed_at <= cutoff, _T.c.broadcast_id.in_(_open_broadcasts())]
    if exclude_worker is not None:
        where.append(or_(_T.c.claimed_by.is_(None), _T.c.claimed_by != exclude_worker))
    requeued = session.execute(
        update(_T)
        .where(_T.c.status == OutboxStatus.CLAIMED.value, *where)
        .values(
            status=OutboxStatus.PENDING.value, next_attempt_at=now, claimed_by=None, claimed_at=None
        )
    ).rowcount  # type: ignore[attr-defined]
    unknown = session.execute(
        update(_T)
        .where(_T.c.status == OutboxStatus.SENDING.value, *where)
        .values(status=OutboxStatus.UNKNOWN.value, last_error="interrupted during the call")
    ).rowcount  # type: ignore[attr-defined]
    return int(requeued), int(unknown)


def cancel(session: Session, broadcast_id: int) -> int:
    """Rows not yet attempted (pending, and claimed by a worker but not started) become CANCELLED;
    rows being sent finish normally. Returns rows cancelled. Does not commit; the caller sets the
    broadcast's own status."""
    result = session.execute(
        update(_T)
        .where(
            _T.c.broadcast_id == broadcast_id,
            _T.c.status.in_([OutboxStatus.PENDING.value, OutboxStatus.CLAIMED.value]),
        )
        .values(status=OutboxStatus.CANCELLED.value, claimed_by=None, claimed_at=None)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- the worker's side (used by scheduler/delivery.py; each call is one short transaction) -------


class Claim(NamedTuple):
    rows: list[ClaimedRow]
    floor: int | None  # pass back as `after` next time


def claim(
    session: Session,
    *,
    platform: str,
    worker_id: str,
    now: datetime,
    limit: int,
    after: int | None = None,
) -> Claim:
    """Take up to `limit` due pending rows of `platform` whose broadcast is SENDING and mark them
    CLAIMED by `worker_id`; commits. First rows waiting for a retry whose time has come (by that
    time), then fresh rows in id order. PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so workers
    claiming side by side take disjoint rows; SQLite: the same single UPDATE statement without
    the lock clause (one worker).

    `after` is the floor returned by the previous claim (None at first): fresh rows are looked for
    above it, so a claim reads a short id range instead of walking or sorting the whole outbox (a
    year of broadcasts). When it finds too few, the floor is looked up again (the smallest fresh
    pending id), which also picks up rows given back or requeued below it."""
    sending = _T.c.broadcast_id.in_(
        select(_B.c.id).where(_B.c.status == BroadcastStatus.SENDING.value)
    )
    pending = and_(_T.c.platform == platform, _T.c.status == OutboxStatus.PENDING.value, sending)
    retries = and_(
        pending, _T.c.next_attempt_at.is_not(None), _T.c.next_attempt_at <= now
    )  # ordered by the claim index (platform, status, next_attempt_at): never a table walk
    rows = _claim(session, retries, (_T.c.next_attempt_at, _T.c.id), worker_id, now, limit)
    fresh = and_(pending, _T.c.next_attempt_at.is_(None))
    floor = after
    for looked_up in (False, True):
        if len(rows) >= limit or (looked_up and floor is None):
            break
        if floor is None or looked_up:
            lowest = _lowest_fresh(session, platform, sending)
            if lowest is None or (looked_up and floor is not None and lowest > floor):
                break  # nothing fresh below the floor either
            floor = lowest - 1
        got = _claim(
            session, and_(fresh, _T.c.id > floor), (_T.c.id,), worker_id, now, limit - len(rows)
        )
        if got:
            floor = got[-1].id
        rows += got
    session.commit()
    return Claim(sorted(rows, key=lambda r: r.id), floor)


def _lowest_fresh(session: Session, platform: str, sending: Any) -> int | None:
    """The smallest id of a fresh pending row of a SENDING broadcast (`id + 0`: read through the
    claim index, never by walking the primary key past every sent row)."""
    value = session.execute(
        select(func.min(_T.c.id + 0)).where(
            _T.c.platform == platform,
            _T.c.status == OutboxStatus.PENDING.value,
            _T.c.next_attempt_at.is_(None),
            sending,
        )
    ).scalar()
    return None if value is None else int(value)


def _claim(
    session: Session, where: Any, order: tuple[Any, ...], worker_id: str, now: datetime, limit: int
) -> list[ClaimedRow]:
    due = select(_T.c.id).where(where).order_by(*order).limit(limit)
    if _is_postgres(session):
        # a MATERIALIZED CTE runs once: with `id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`
        # the planner may re-run the subquery for each row (a nested loop) and claim past `limit`
        picked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
        which = _T.c.id == picked.c.id
    else:
        which = _T.c.id.in_(due)  # SQLite evaluates it once, as a list
    result = session.execute(
        update(_T)
        .where(which, _T.c.status == OutboxStatus.PENDING.value)
        .values(status=OutboxStatus.CLAIMED.value, claimed_by=worker_id, claimed_at=now)
        .returning(
            _T.c.id, _T.c.broadcast_id, _T.c.chat_id, _T.c.member_id, _T.c.is_group, _T.c.attempts
        )
    )
    return sorted((ClaimedRow(*r) for r in result), key=lambda r: r.id)


def submitted_members(session: Session, campaign_id: str, member_ids: Iterable[int]) -> set[int]:
    """Which of these members have submitted their pledge of the campaign (at least once)."""
    ids = sorted(set(member_ids))
    if not ids:
        return set()
    rows = session.execute(
        select(_P.c.member_id).where(
            _P.c.campaign_id == campaign_id,
            _P.c.member_id.in_(ids),
            _P.c.first_submitted_at.is_not(None),
        )
    )
    return {int(m) for (m,) in rows}


def start(
    session: Session,
    *,
    worker_id: str,
    now: datetime,
    send: Sequence[int],
    skip: Sequence[int] = (),
    defer: Sequence[tuple[int, datetime]] = (),
) -> set[int]:
    """In one commit: rows `send` become SENDING with attempts + 1 (the attempt is recorded
    before the call); rows `skip` become SKIPPED; rows `defer` go back to PENDING until their time,
    the attempt not counted (a group over its per-minute limit). Only rows still CLAIMED by
    `worker_id` change. Returns the ids that may be sent now."""
    mine = and_(_T.c.status == OutboxStatus.CLAIMED.value, _T.c.claimed_by == worker_id)
    started: set[int] = set()
    if send:
        result = session.execute(
            update(_T)
            .where(_T.c.id.in_(list(send)), mine)
            .values(status=OutboxStatus.SENDING.value, attempts=_T.c.attempts + 1, claimed_at=now)
            .returning(_T.c.id)
        )
        started = {int(i) for (i,) in result}
    if skip:
        session.execute(
            update(_T)
            .where(_T.c.id.in_(list(skip)), mine)
            .values(status=OutboxStatus.SKIPPED.value, claimed_by=None, claimed_at=None)
        )
    if defer:
        session.execute(
            update(_T)
            .where(_T.c.id == bindparam("row_id"), mine)
            .values(
                status=OutboxStatus.PENDING.value,
                next_attempt_at=bindparam("until", type_=_T.c.next_attempt_at.type),
                claimed_by=None,
                claimed_at=None,
            ),
            [{"row_id": i, "until": until} for i, until in defer],
        )
    session.commit()
    return started


def release(session: Session, *, worker_id: str, ids: Sequence[int], now: datetime) -> int:
    """Give back rows this worker claimed but did not start (due at once: a row going back to
    the queue always gets a next_attempt_at, so the next claim finds it first). Commits."""
    if not ids:
        return 0
    result = session.execute(
        update(_T)
        .where(
            _T.c.id.in_(list(ids)),
            _T.c.status == OutboxStatus.CLAIMED.value,
            _T.c.claimed_by == worker_id,
        )
        .values(
            status=OutboxStatus.PENDING.value, next_attempt_at=now, claimed_by=None, claimed_at=None
        )
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def record(session: Session, platform: str, outcomes: Sequence[Outcome]) -> None:
    """Write the outcome of each call, in one commit. A blocked private chat marks its Identity
    blocked (the recipient listing skips it from then on); a blocked group chat marks its
    GroupLink inactive."""
    if not outcomes:
        return
    params = [
        {
            "row_id": o.row.id,
            "status": o.status.value,
            "sent_at": o.at if o.status == OutboxStatus.SENT else None,
            "next_attempt_at": o.next_attempt_at,
            "error": (o.error or "")[:ERROR_LENGTH] or None,
            "given_back": 0 if o.count_attempt else 1,
        }
        for o in outcomes
    ]
    session.execute(
        update(_T)
        .where(_T.c.id == bindparam("row_id"))
        .values(
            status=bindparam("status"),
            sent_at=bindparam("sent_at", type_=_T.c.sent_at.type),
            next_attempt_at=bindparam("next_attempt_at", type_=_T.c.next_attempt_at.type),
            last_error=bindparam("error"),
            attempts=_T.c.attempts - bindparam("given_back"),
        ),
        params,
    )
    retried = [o.row.id for o in outcomes if o.status == OutboxStatus.PENDING]
    if retried:  # back in the queue: nobody holds it any more
        session.execute(
            update(_T).where(_T.c.id.in_(retried)).values(claimed_by=None, claimed_at=None)
        )
    for o in outcomes:
        if o.status != OutboxStatus.BLOCKED:
            continue
        if o.row.is_group:
            session.execute(
                update(_G)
                .where(_G.c.platform == platform, _G.c.chat_id == o.row.chat_id)
                .values(active=False)
            )
        else:
            # private chat id == user id on Telegram; the member id keeps it on an index
            who = (
                _I.c.member_id == o.row.member_id
                if o.row.member_id is not None
                else _I.c.platform_user_id == o.row.chat_id
            )
            session.execute(
                update(_I)
                .where(_I.c.platform == platform, _I.c.chat_id == o.row.chat_id, who)
                .values(blocked=True)
            )
    session.commit()


@dataclass(frozen=True)
class BroadcastInfo:
    """What the worker needs of a broadcast (cached while it is delivered)."""

    id: int
    kind: str
    campaign_id: str | None
    text: str
    photo: bytes | None
    report_platform: str | None
    report_chat_id: str | None


def broadcast_info(session: Session, broadcast_id: int) -> BroadcastInfo | None:
    row = session.execute(
        select(
            _B.c.id,
            _B.c.kind,
            _B.c.campaign_id,
            _B.c.text,
            _B.c.photo,
            _B.c.report_platform,
            _B.c.report_chat_id,
        ).where(_B.c.id == broadcast_id)
    ).first()
    return None if row is None else BroadcastInfo(*row)


def finish(session: Session, *, platform: str, now: datetime) -> list[int]:
    """Set DONE (with finished_at) every SENDING broadcast with no row left in pending, claimed or
    sending, and return their ids. A broadcast whose report goes to another platform is left for
    that platform's worker, which sends the report. Commits."""
    active = exists().where(
        _T.c.broadcast_id == _B.c.id, _T.c.status.in_([s.value for s in ACTIVE])
    )
    mine = or_(
        _B.c.report_platform.is_(None),
        _B.c.report_chat_id.is_(None),
        _B.c.report_platform == platform,
    )
    candidates = [
        int(i)
        for (i,) in session.execute(
            select(_B.c.id).where(_B.c.status == BroadcastStatus.SENDING.value, mine, ~active)
        )
    ]
    done = []
    for broadcast_id in candidates:  # conditional: only one worker wins each broadcast
        result = session.execute(
            update(_B)
            .where(_B.c.id == broadcast_id, _B.c.status == BroadcastStatus.SENDING.value, ~active)
            .values(status=BroadcastStatus.DONE.value, finished_at=now)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            done.append(broadcast_id)
    session.commit()
    return done


REPORT_WITHIN = timedelta(days=1)  # a report not sent by then is not worth sending any more


def reports_due(session: Session, *, platform: str, now: datetime) -> list[int]:
    """DONE broadcasts (finished within a day) whose final report goes to this platform and was
    not attempted yet."""
    return [
        int(i)
        for (i,) in session.execute(
            select(_B.c.id).where(
                _B.c.status == BroadcastStatus.DONE.value,
                _B.c.report_platform == platform,
                _B.c.report_chat_id.is_not(None),
                _B.c.report_sent_at.is_(None),
                _B.c.finished_at >= now - REPORT_WITHIN,
            )
        )
    ]


def take_report(session: Session, broadcast_id: int, *, now: datetime) -> bool:
    """Record the report's attempt before it is made; False if another worker took it. Commits."""
    result = session.execute(
        update(_B)
        .where(_B.c.id == broadcast_id, _B.c.report_sent_at.is_(None))
        .values(report_sent_at=now)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


class PaceRow(NamedTuple):
    next_at: datetime | None
    paused_until: datetime | None


def lock_pace(session: Session, platform: str) -> PaceRow:
    """The platform's shared pace row, locked until the session commits (PostgreSQL)."""
    session.execute(pg_insert(_R).values(platform=platform, next_at=None).on_conflict_do_nothing())
    row = session.execute(
        select(_R.c.next_at, _R.c.paused_until).where(_R.c.platform == platform).with_for_update()
    ).one()
    return PaceRow(*row)


def save_pace(session: Session, platform: str, pace: PaceRow) -> None:
    session.execute(update(_R).where(_R.c.platform == platform).values(**pace._asdict()))
    session.commit()


def report_text(texts: Texts, broadcast_text: str, figures: dict[str, int]) -> str:
    """The final report: what happened to each recipient of the broadcast."""
    plain = " ".join(to_plain(broadcast_text).split())
    title = plain[:TITLE_LENGTH]
    if len(plain) > TITLE_LENGTH:  # whole words, and say it goes on
        title = (title.rsplit(" ", 1)[0] if " " in title else title).rstrip(" ,.;:–-") + "…"
    text = texts(
        "outbox.report",
        title=title,
        sent=figures["sent"],
        total=figures["total"],
        blocked=figures["blocked"],
        failed=figures["failed"],
        unknown=figures["unknown"],
        skipped=figures["skipped"],
    )
    if figures["unknown"]:
        text += "\n" + texts("outbox.unknown_note")
    if figures["held"]:
        text += "\n" + texts("outbox.held_note", held=figures["held"])
    return text
