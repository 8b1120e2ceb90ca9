"""The scheduler inside `congdoan run`: APScheduler ticks the Planner every half minute (only in
the one process that holds the PostgreSQL advisory lock), and delivery workers drain the outbox in
every process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot import locks
from bot.app import App
from bot.locks import AdvisoryLock
from bot.models import utcnow
from scheduler.delivery import DeliveryWorker, Sender
from scheduler.jobs import Planner

logger = logging.getLogger(__name__)

RETRY_LEADERSHIP_SECONDS = 30.0


class SchedulerService:
    def __init__(
        self,
        app: App,
        senders: Sequence[Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        tick_seconds: float = 30.0,
    ):
        self.app = app
        self.senders = list(senders)
        self.clock = clock
        self.tick_seconds = tick_seconds
        self.planner = Planner(
            app.db, app.content, app.settings, platforms={s.platform for s in self.senders}
        )
        self.leadership = AdvisoryLock(app.db, locks.SCHEDULER)
        self._ticking = asyncio.Lock()  # held during a tick, so stopping waits for it

    async def run(self, stop: asyncio.Event) -> None:
        workers = [
            DeliveryWorker(
                self.app.db,
                sender,
                texts=self.app.content.texts,
                rate_per_second=self.app.settings.rate_for(sender.platform),
                clock=self.clock,
            )
            for sender in self.senders
        ]
        await asyncio.gather(self._lead(stop), *(w.run(stop) for w in workers))

    async def _lead(self, stop: asyncio.Event) -> None:
        while not await asyncio.to_thread(self.leadership.try_acquire):
            logger.info("another process runs the scheduler; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RETRY_LEADERSHIP_SECONDS)
            if stop.is_set():
                return
        scheduler = AsyncIOScheduler(timezone=self.app.settings.tz)
        scheduler.add_job(
            self.tick,
            IntervalTrigger(seconds=self.tick_seconds),
            next_run_time=datetime.now(self.app.settings.tz),
            coalesce=True,
            max_instances=1,
            id="tick",
        )
        scheduler.start()
        logger.info("scheduler started")
        try:
            await stop.wait()
        finally:
            scheduler.pause()
            async with self._ticking:  # a tick under way finishes its transaction first
                scheduler.shutdown(wait=False)
            await asyncio.to_thread(self.leadership.release)

    async def tick(self) -> None:
        try:
            async with self._ticking:
                report = await asyncio.to_thread(self.planner.tick, self.clock())
        except Exception:
            logger.exception("scheduler tick failed")
            return
        if report.created or report.skipped or report.started:
            logger.info(
                "tick created=%s skipped=%s started=%s",
                len(report.created),
                len(report.skipped),
                len(report.started),
            )
