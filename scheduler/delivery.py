"""The delivery worker: sends the outbox of one platform, each row exactly once, at a rate.

One worker per platform and process. It claims due rows in batches (bot/services/outbox.py),
records each attempt (row SENDING, committed) before making the call, and writes the outcome
after it. A row is never sent twice: a process killed during a call leaves its row SENDING, which
recovery turns into UNKNOWN instead of sending it again.

Limits it keeps:
* at most `rate_per_second` calls per second (capped by the platform: 30/s on Telegram), paced
  on the injected clock and sleep. On PostgreSQL, where every process runs a worker, the pace
  lives in the database (outbox.lock_pace), so the rate holds for all workers together; on
  SQLite there is one worker and the pace is kept in memory;
* at most 20 messages a minute to one group chat, counted per worker (a row over it waits with
  next_attempt_at);
* a 429 pauses every send for retry_after seconds (every worker's, through the shared pace);
  the row goes back to the queue, its attempt not counted;
* other errors are retried after 2, 4, 8, 16 s, up to `max_attempts`, then FAILED.
Database work runs in a thread (asyncio.to_thread, as the engine's does), one short transaction at
a time, so a lock wait never stalls the event loop the bot shares. Logs carry ids and counts only,
never texts, names or chat ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

import sqlalchemy
from sqlmodel import Session

from bot.models import BroadcastKind, OutboxStatus, utcnow
from bot.services import outbox
from bot.services.outbox import BroadcastInfo, ClaimedRow, Outcome, SendResult
from bot.texts import Texts

logger = logging.getLogger(__name__)

BACKOFF_BASE = 2.0  # seconds: 2, 4, 8, 16 ...
IDLE_SECONDS = 1.0
RECOVER_EVERY = timedelta(seconds=30)
# above this rate a commit per call costs rate (SQLite waits for its disk): rows are started and
# their outcomes written in groups, and a crash leaves at most one group's calls as "unknown"
GROUP_ABOVE = 50
REPORT_TRIES = 3
TOLERANCE = 1e-6  # seconds: clocks count microseconds, a sleep may end half of one early


class Sender(Protocol):
    platform: str

    async def send(
        self, chat_id: str, text: str, photo: bytes | None = None, *, kind: str | None = None
    ) -> SendResult:
        """`kind`: the broadcast's kind (None for a report to one person), for platforms whose
        monthly message limit gives some kinds priority over others (bot/services/quota.py).
        A sender may also have `flush()`, called (in a thread) when the worker pauses or stops,
        to write what it keeps for later."""
        ...


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class _Pace:
    """Spacing of calls: slot k at start + k/rate (GCRA). A call is never more than `window`
    behind its slot: being late by less does not move the schedule (sleeping a little too long
    costs no rate), being later starts afresh instead of catching up in a burst. With half an
    interval, at most rate + 1 calls fall in any one second."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate
        # above 100/s one interval is shorter than a database commit: allow 50 ms of catching up
        self.window = self.interval / 2 if rate <= 100 else 0.05
        self.next = -math.inf

    def take(self, now: float, want: int) -> tuple[int, float]:
        """(calls allowed now, seconds to wait when none)."""
        slot = now if self.next == -math.inf else max(self.next, now - self.window)
        if now < slot - TOLERANCE:
            return 0, slot - now
        granted = min(want, int(max(now - slot, 0.0) / self.interval) + 1)
        self.next = slot + granted * self.interval
        return granted, 0.0

    def give_back(self, n: int) -> None:
        self.next -= n * self.interval

    def restart(self, now: float) -> None:
        self.next = now


class _SharedPace:
    """The same spacing, with the next free slot and the 429 pause in the platform's
    `deliverypace` row, so several workers (processes) share one rate. A worker books a few
    slots at a time (about 0.2 s of sending) in one short transaction holding the row lock, then
    uses them at their times; a booked slot more than half an interval past is dropped, not
    caught up, and slots not used are never given back (that only slows down)."""

    BOOK_SECONDS = 0.2

    def __init__(self, db: sqlalchemy.Engine, platform: str, pace: _Pace, epoch: datetime):
        self.db = db
        self.platform = platform
        self.interval = pace.interval
        self.window = pace.window
        self.batch = max(1, min(500, math.ceil(self.BOOK_SECONDS / pace.interval)))
        self.epoch = epoch
        self.booked: deque[float] = deque()

    def book(self, now: float) -> tuple[float, list[float]]:
        """Book the next free slots: (when the shared pause ends, -inf for none; the slots).
        Nothing is booked during a pause. Runs in a thread; `absorb` takes the result."""
        slots: list[float] = []
        with Session(self.db) as s:
            row = outbox.lock_pace(s, self.platform)
            paused = self._secs(row.paused_until)
            if now >= paused:
                booked = self._secs(row.next_at)
                slot = max(booked, now - self.window) if booked != -math.inf else now
                slots = [slot + i * self.interval for i in range(self.batch)]
                row = row._replace(next_at=self._at(slot + self.batch * self.interval))
            outbox.save_pace(s, self.platform, row)
        return paused, slots

    def absorb(self, slots: list[float]) -> None:
        self.booked = deque(sorted([*self.booked, *slots]))

    def grant(self, now: float, want: int) -> tuple[int, float]:
        """(booked slots due now, given out; seconds until the next one when none is)."""
        while self.booked and self.booked[0] < now - self.window:
            self.booked.popleft()  # late (a slow round): sending it now would crowd the next
        granted = 0
        while self.booked and granted < want and self.booked[0] <= now + TOLERANCE:
            self.booked.popleft()
            granted += 1
        return granted, (self.booked[0] - now if not granted and self.booked else 0.0)

    def pause(self, until: datetime) -> None:
        """Tell every worker of the platform to wait until then (a 429 said so)."""
        with Session(self.db) as s:
            row = outbox.lock_pace(s, self.platform)
            if row.paused_until is None or row.paused_until < until:
                row = row._replace(paused_until=until)
            outbox.save_pace(s, self.platform, row)

    def _secs(self, at: datetime | None) -> float:
        return -math.inf if at is None else (at - self.epoch).total_seconds()

    def _at(self, secs: float) -> datetime | None:
        """Rounded up to the microsecond the database keeps: never a slot earlier than due."""
        if secs == -math.inf:
            return None
        return self.epoch + timedelta(microseconds=math.ceil(secs * 1e6))


class DeliveryWorker:
    def __init__(
        self,
        db: sqlalchemy.Engine,
        sender: Sender,
        *,
        texts: Texts,
        rate_per_second: float,
        clock: Callable[[], datetime] = utcnow,
        batch_size: int = 50,
        max_attempts: int = 5,
        worker_id: str | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        concurrency: int | None = None,
        stale_after: timedelta = timedelta(minutes=2),
        shared_pace: bool | None = None,
    ):
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        self.db = db
        self.sender = sender
        self.platform = sender.platform
        self.texts = texts
        cap = getattr(sender, "max_rate_per_second", None)  # the platform's own limit
        self.rate = min(rate_per_second, cap) if cap else rate_per_second
        self.group_per_minute: int | None = getattr(sender, "group_per_minute", None)
        self.clock = clock
        self.batch_size = max(1, batch_size)
        self.max_attempts = max(1, max_attempts)
        self.worker_id = (worker_id or default_worker_id())[:64]
        self._sleep = sleep
        # calls in flight: enough to keep the pace when a call takes ~0.5 s
        self.concurrency = concurrency or max(1, min(32, math.ceil(self.rate / 2)))
        self.stale_after = stale_after
        self._pace = _Pace(self.rate)
        self._epoch = clock()
        if shared_pace is None:  # several processes deliver only on PostgreSQL
            shared_pace = db.dialect.name == "postgresql"
        self._shared = (
            _SharedPace(db, self.platform, self._pace, self._epoch) if shared_pace else None
        )
        self._booking: asyncio.Future[tuple[float, list[float]]] | None = None
        self._taking = asyncio.Lock()
        self._paused_until = -math.inf
        self._groups: dict[str, deque[float]] = {}
        self._broadcasts: OrderedDict[int, BroadcastInfo | None] = OrderedDict()
        self._last_recover: datetime | None = None
        self._floor: int | None = None  # claims look for fresh rows above it (outbox.claim)
        self.sent = 0  # successful calls by this worker (for benches and logs)

    # -- entry points --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: recover rows left by a dead process, then claim, send and
        finish broadcasts; wait ~1 s when nothing is due. On stop, rows claimed but not started
        are given back and calls in flight are awaited."""
        logger.info(
            "delivery worker %s platform=%s rate=%.1f/s", self.worker_id, self.platform, self.rate
        )
        while not stop.is_set():
            try:
                await self._recover_if_due()
                processed = await self._cycle(stop)
            except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError) as exc:
                logger.warning("delivery: database unavailable (%s), retrying", type(exc).__name__)
                processed = 0
            except Exception as exc:  # keep delivering; the message may hold SQL parameters
                logger.error("delivery: round failed (%s), retrying", type(exc).__name__)
                processed = 0
            if processed == 0 and not stop.is_set():
                await self._wait(IDLE_SECONDS, stop)
        await self._settle()
        logger.info("delivery worker %s stopped", self.worker_id)

    async def drain(self) -> int:
        """Process until nothing is due now; returns the rows handled (sent, blocked, failed,
        skipped, or put back for a later retry)."""
        total = 0
        while True:
            processed = await self._cycle(None)
            total += processed
            if processed == 0:
                await self._settle()
                return total

    # -- one round: claim a batch, deliver it, finish broadcasts -------------------------------

    async def _cycle(self, stop: asyncio.Event | None) -> int:
        if await self._wait_pause(stop):
            return 0
        rows, self._floor = await asyncio.to_thread(self._claim)
        processed = await self._deliver(rows, stop) if rows else 0
        await self._finish()
        return processed

    def _claim(self) -> outbox.Claim:
        with Session(self.db) as s:
            return outbox.claim(
                s,
                platform=self.platform,
                worker_id=self.worker_id,
                now=self.clock(),
                limit=self.batch_size,
                after=self._floor,
            )

    async def _deliver(self, rows: Sequence[ClaimedRow], stop: asyncio.Event | None) -> int:
        """Send a claimed batch: calls paced and `concurrency` at most in flight, each row marked
        SENDING (committed) before its call and its outcome written after, in the background (the
        next call does not wait for that commit), all written before the batch ends. Above 100/s,
        where pacing never waits, rows are started and outcomes written in groups (fewer
        commits)."""
        queue = deque(rows)
        inflight: set[asyncio.Task[Outcome]] = set()
        unrecorded: list[Outcome] = []
        recording: set[asyncio.Future[int]] = set()
        group = max(1, self.concurrency // 2) if self.rate > GROUP_ABOVE else 1
        processed = 0
        try:
            while queue or inflight:
                finished = {t for t in inflight if t.done()}
                inflight -= finished
                unrecorded += [t.result() for t in finished]
                if unrecorded and (len(unrecorded) >= group or not queue):
                    written, unrecorded = unrecorded, []
                    recording.add(asyncio.ensure_future(asyncio.to_thread(self._record, written)))
                if finished:
                    continue
                if stop is not None and stop.is_set():
                    break
                free = self.concurrency - len(inflight)
                if not queue or free < (group if inflight else 1):
                    await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                if self._now() < self._paused_until:
                    if inflight:  # let the calls already made come back first
                        await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                    elif await self._wait_pause(stop):
                        break
                    continue
                granted, wait = await self._take(min(len(queue), free))
                if not granted:
                    if await self._wait(wait, stop):
                        break
                    continue
                picked = [queue.popleft() for _ in range(granted)]
                to_send, handled = await asyncio.to_thread(self._start, picked)
                processed += handled
                if self._shared is None:
                    self._pace.give_back(granted - len(to_send))
                for row, info in to_send:
                    inflight.add(asyncio.create_task(self._call(row, info)))
                await asyncio.sleep(0)  # the calls start now, at their slot, before any sleep
            if inflight:  # stopping: calls already made are awaited and recorded
                done, _ = await asyncio.wait(inflight)
                unrecorded += [t.result() for t in done]
                inflight.clear()
            if unrecorded:
                written, unrecorded = unrecorded, []
                recording.add(asyncio.ensure_future(asyncio.to_thread(self._record, written)))
            for written_count in await asyncio.gather(*recording):  # a failed write raises here
                processed += written_count
            recording.clear()
        finally:
            for task in inflight:  # cancelled: the rows stay SENDING, recovered as UNKNOWN
                task.cancel()
            if recording:  # writes under way finish before the rest is given back
                with contextlib.suppress(Exception):
                    await asyncio.wait(recording)
            if unrecorded:  # calls that came back before a failure: keep what is known
                with contextlib.suppress(Exception):
                    self._record(unrecorded)
            if queue:
                with Session(self.db) as s:
                    outbox.release(
                        s, worker_id=self.worker_id, ids=[r.id for r in queue], now=self.clock()
                    )
        return processed

    def _start(self, rows: list[ClaimedRow]) -> tuple[list[tuple[ClaimedRow, BroadcastInfo]], int]:
        """Mark the picked rows SENDING (committed before any call), or SKIPPED (a reminder to a
        member who has submitted), or deferred (a group over its per-minute limit)."""
        now = self.clock()
        now_s = self._secs(now)
        send: list[tuple[ClaimedRow, BroadcastInfo]] = []
        skip: list[int] = []
        defer: list[tuple[int, datetime]] = []
        with Session(self.db) as s:
            infos = {r.broadcast_id: self._info(s, r.broadcast_id) for r in rows}
            submitted: set[int] = set()
            for info in infos.values():
                if info and info.kind == BroadcastKind.REMINDER.value and info.campaign_id:
                    members = [
                        r.member_id
                        for r in rows
                        if r.broadcast_id == info.id and r.member_id is not None
                    ]
                    submitted |= outbox.submitted_members(s, info.campaign_id, members)
            for row in rows:
                info = infos[row.broadcast_id]
                if info is None or (row.member_id is not None and row.member_id in submitted):
                    skip.append(row.id)
                    continue
                if row.is_group:
                    wait_until = self._group_slot(row.chat_id, now_s)
                    if wait_until is not None:
                        defer.append((row.id, self._at(wait_until)))
                        continue
                    self._groups.setdefault(row.chat_id, deque()).append(now_s)
                send.append((row, info))
            started = outbox.start(
                s,
                worker_id=self.worker_id,
                now=now,
                send=[r.id for r, _ in send],
                skip=skip,
                defer=defer,
            )
        if skip:
            logger.info("delivery: %s row(s) skipped (no longer needed)", len(skip))
        return [(r, i) for r, i in send if r.id in started], len(skip) + len(defer)

    def _group_slot(self, chat_id: str, now_s: float) -> float | None:
        """None if the group may get a message now, else when it may."""
        if not self.group_per_minute:
            return None
        times = self._groups.get(chat_id)
        if times is None:
            return None
        while times and times[0] <= now_s - 60:
            times.popleft()
        if not times:
            del self._groups[chat_id]
            return None
        if len(times) < self.group_per_minute:
            return None
        return times[0] + 60

    async def _call(self, row: ClaimedRow, info: BroadcastInfo) -> Outcome:
        # a call scheduled just before another call got a 429 waits out the pause too, then
        # takes a fresh slot: the calls held by the pause do not go out together at its end
        waited = False
        while (left := self._paused_until - self._now()) > 0:
            waited = True
            await self._sleep(left)
        while waited:
            granted, wait = await self._take(1)
            if granted:
                break
            await self._sleep(max(wait, TOLERANCE))
        try:
            result = await self.sender.send(row.chat_id, info.text, info.photo, kind=info.kind)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a sender should not raise; never lose the row if it does
            result = SendResult("error", error=type(exc).__name__)
        return self._outcome(row, result)

    def _outcome(self, row: ClaimedRow, result: SendResult) -> Outcome:
        now = self.clock()
        if result.status == "sent":
            self.sent += 1
            return Outcome(row, OutboxStatus.SENT, now)
        if result.status == "blocked":
            return Outcome(row, OutboxStatus.BLOCKED, now, error=result.error or "blocked")
        if result.status == "held":
            return Outcome(row, OutboxStatus.HELD, now, error=result.error or "monthly limit")
        if result.status == "retry_after":
            pause = max(result.retry_after, 0.0)
            self._paused_until = max(self._paused_until, self._secs(now) + pause)
            logger.warning(
                "delivery: %s asked to wait %.1f s (row=%s)", self.platform, pause, row.id
            )
            return Outcome(
                row,
                OutboxStatus.PENDING,
                now,
                next_attempt_at=now + timedelta(seconds=pause),
                error=result.error,
                count_attempt=False,
            )
        attempts = row.attempts + 1  # counted when the call started
        if result.retryable and attempts < self.max_attempts:
            delay = BACKOFF_BASE**attempts
            return Outcome(
                row,
                OutboxStatus.PENDING,
                now,
                next_attempt_at=now + timedelta(seconds=delay),
                error=result.error,
            )
        return Outcome(row, OutboxStatus.FAILED, now, error=result.error or "failed")

    def _record(self, outcomes: list[Outcome]) -> int:
        with Session(self.db) as s:
            outbox.record(s, self.platform, outcomes)
        pauses = [o.next_attempt_at for o in outcomes if not o.count_attempt and o.next_attempt_at]
        if self._shared is not None and pauses:
            self._shared.pause(max(pauses))
        for o in outcomes:
            if o.status != OutboxStatus.SENT:
                logger.info(
                    "delivery: broadcast=%s row=%s -> %s (%s)",
                    o.row.broadcast_id,
                    o.row.id,
                    o.status.value,
                    o.error or "",
                )
        return len(outcomes)

    # -- broadcasts ----------------------------------------------------------------------------

    def _info(self, session: Session, broadcast_id: int) -> BroadcastInfo | None:
        if broadcast_id in self._broadcasts:
            self._broadcasts.move_to_end(broadcast_id)
            return self._broadcasts[broadcast_id]
        info = outbox.broadcast_info(session, broadcast_id)
        self._broadcasts[broadcast_id] = info
        while len(self._broadcasts) > 16:
            self._broadcasts.popitem(last=False)
        return info

    async def _take(self, want: int) -> tuple[int, float]:
        """(calls allowed now, seconds to wait when none). On PostgreSQL from the shared pace,
        booking the next slots in the background while the last ones are being used. One
        taker at a time: calls held by a 429 pause take their slots beside the batch loop."""
        async with self._taking:
            return await self._take_now(want)

    async def _take_now(self, want: int) -> tuple[int, float]:
        shared = self._shared
        if shared is None:
            return self._pace.take(self._now(), want)
        if self._booking is not None and self._booking.done():
            self._absorb(await self._booking)
        if self._booking is None and len(shared.booked) <= shared.batch // 2:
            self._booking = asyncio.ensure_future(asyncio.to_thread(shared.book, self._now()))
        granted, wait = shared.grant(self._now(), want)
        if granted or shared.booked:
            return granted, wait
        if self._booking is None:  # what was booked had all gone stale
            self._booking = asyncio.ensure_future(asyncio.to_thread(shared.book, self._now()))
        paused = self._absorb(await self._booking)
        if not shared.booked:  # the platform asked every worker to wait
            return 0, max(paused - self._now(), TOLERANCE)
        return shared.grant(self._now(), want)

    def _absorb(self, booked: tuple[float, list[float]]) -> float:
        self._booking = None
        paused, slots = booked
        assert self._shared is not None
        self._shared.absorb(slots)
        self._paused_until = max(self._paused_until, paused)
        return paused

    async def _settle(self) -> None:
        """Wait for a booking still under way (its slots are simply not used), and let the
        sender write what it keeps for later (the month's message count)."""
        if self._booking is not None:
            with contextlib.suppress(Exception):
                await self._booking
            self._booking = None
        flush = getattr(self.sender, "flush", None)
        if flush is not None:
            try:
                await asyncio.to_thread(flush)
            except Exception as exc:  # a statistic: never a reason to fail a delivery
                logger.warning("delivery: sender flush failed (%s)", type(exc).__name__)

    async def _finish(self) -> None:
        """Close broadcasts with nothing left to send, then send the final reports not sent yet
        (also those of broadcasts closed by a process that died before reporting)."""
        for info, figures in await asyncio.to_thread(self._finish_broadcasts):
            try:
                await self._report(info, figures)
            except Exception as exc:  # the broadcast is done; the report is best effort
                logger.warning("broadcast=%s: report failed (%s)", info.id, type(exc).__name__)

    def _finish_broadcasts(self) -> list[tuple[BroadcastInfo, dict[str, int]]]:
        """Close what is finished (logged with its figures); return the reports to send now,
        each taken (report_sent_at) before it is sent."""
        now = self.clock()
        reports = []
        with Session(self.db) as s:
            for broadcast_id in outbox.finish(s, platform=self.platform, now=now):
                self._broadcasts.pop(broadcast_id, None)
                figures = outbox.counts(s, broadcast_id)
                logger.info(
                    "broadcast=%s done total=%s sent=%s blocked=%s failed=%s unknown=%s skipped=%s",
                    broadcast_id,
                    figures["total"],
                    figures["sent"],
                    figures["blocked"],
                    figures["failed"],
                    figures["unknown"],
                    figures["skipped"],
                )
            for broadcast_id in outbox.reports_due(s, platform=self.platform, now=now):
                info = outbox.broadcast_info(s, broadcast_id)
                if info is not None and outbox.take_report(s, broadcast_id, now=now):
                    reports.append((info, outbox.counts(s, broadcast_id)))
        return reports

    async def _report(self, info: BroadcastInfo, figures: dict[str, int]) -> None:
        """The final report goes straight through the sender (not through the outbox)."""
        text = outbox.report_text(self.texts, info.text, figures)
        assert info.report_chat_id is not None
        for attempt in range(1, REPORT_TRIES + 1):
            await self._wait_pause(None)
            while True:
                granted, wait = await self._take(1)
                if granted:
                    break
                await self._sleep(wait)
            result = await self.sender.send(info.report_chat_id, text)
            if result.status == "sent":
                return
            if result.status == "retry_after":
                self._paused_until = max(self._paused_until, self._now() + result.retry_after)
            elif result.status == "blocked" or not result.retryable:
                break
            elif attempt < REPORT_TRIES:
                await self._sleep(BACKOFF_BASE**attempt)
        logger.warning("broadcast=%s: the final report could not be sent", info.id)

    # -- recovery and time ---------------------------------------------------------------------

    def _recover(self) -> None:
        now = self.clock()
        with Session(self.db) as s:
            requeued, unknown = outbox.recover(
                s, now=now, stale_after=self.stale_after, exclude_worker=self.worker_id
            )
            s.commit()
        self._last_recover = now
        self._floor = None  # requeued rows may sit below it: look it up again
        if requeued or unknown:
            logger.warning(
                "delivery: recovered after a stop: %s row(s) requeued, %s unknown",
                requeued,
                unknown,
            )

    async def _recover_if_due(self) -> None:
        if self._last_recover is None or self.clock() - self._last_recover >= RECOVER_EVERY:
            await asyncio.to_thread(self._recover)

    def _secs(self, at: datetime) -> float:
        """Seconds since the worker was made: exact microseconds, unlike epoch floats."""
        return (at - self._epoch).total_seconds()

    def _at(self, secs: float) -> datetime:
        return self._epoch + timedelta(seconds=secs)

    def _now(self) -> float:
        return self._secs(self.clock())

    async def _wait_pause(self, stop: asyncio.Event | None) -> bool:
        """Wait out a 429 pause; True if stopped meanwhile."""
        waited = False
        while (left := self._paused_until - self._now()) > TOLERANCE:
            waited = True
            if await self._wait(left, stop):
                return True
        if waited:
            self._pace.restart(self._now())
        return False

    async def _wait(self, seconds: float, stop: asyncio.Event | None) -> bool:
        """Sleep (the injected sleep), cut short by `stop`; True if stopped."""
        if stop is None:
            await self._sleep(seconds)
            return False
        if stop.is_set():
            return True
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
        return stop.is_set()
