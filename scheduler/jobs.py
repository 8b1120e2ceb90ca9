"""What is due at a given moment: anniversary posts, pledge deadline reminders, officers' report
reminders and scheduled announcements. Each becomes a Broadcast whose unique key makes it happen
once; `tick(now)` is safe to run any number of times, at any time, after any restart."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import Engine as DbEngine
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import db
from bot.calendar import EXAMPLE_CHARS, Event
from bot.campaign import Campaign, ReportDeadline
from bot.config import Settings
from bot.content import Content
from bot.messages import to_plain
from bot.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    ProcessedUpdate,
    RoleGrant,
    RoleName,
    Unit,
)
from bot.services import (
    audience,
    examples,
    files,
    library,
    outbox,
    plans,
    pledges,
    quota,
    stats,
    units,
    uploads,
)
from bot.services.outbox import Recipient
from bot.textutil import cut
from bot.timefmt import fmt_date, fmt_datetime

logger = logging.getLogger(__name__)

PROCESSED_UPDATES_KEPT = timedelta(days=7)  # webhooks are retried for hours, not days
SCHEDULER = "scheduler"
REPORT_AT = time(8, 0)  # officers' report reminders, local time
TALLY_EVERY = timedelta(minutes=5)  # unit figures for /thongke over large scopes
NEXT_PLAN_FROM_MONTH = 11  # from 1/11, admins are reminded weekly to make next year's plan


@dataclass
class TickReport:
    created: list[str] = field(default_factory=list)  # keys of broadcasts created
    skipped: list[str] = field(default_factory=list)  # keys found past their grace window
    started: list[int] = field(default_factory=list)  # broadcasts whose recipients were listed


class Planner:
    def __init__(self, db: DbEngine, content: Content, settings: Settings, platforms: set[str]):
        self.db = db
        self.content = content
        self.settings = settings
        self.platforms = platforms
        self._known: set[str | None] = set()  # keys of broadcasts already created
        self._tallied: dict[tuple[str, int], datetime] = {}  # (campaign, root) -> last refresh

    @property
    def tz(self) -> ZoneInfo:
        return self.settings.tz

    @property
    def grace(self) -> timedelta:
        return self.content.calendar.grace

    def tick(self, now: datetime) -> TickReport:
        """Create what became due, list the recipients of what is due, prune old records."""
        report = TickReport()
        with Session(self.db, expire_on_commit=False) as session:
            since = now - timedelta(days=400)  # every key a tick can create is younger than this
            self._known = set(
                session.exec(
                    select(Broadcast.key).where(
                        Broadcast.created_by == SCHEDULER, col(Broadcast.scheduled_at) >= since
                    )
                ).all()
            )
            for root in units.children(session, None):
                campaign = plans.current(session, root.code, now=now, tz=self.tz)
                self._anniversaries(session, root, campaign, now, report)
                if campaign is not None:
                    self._reminders(session, root, campaign, now, report)
                for plan in plans.recent(session, root.code, now=now, tz=self.tz):
                    self._report_reminders(session, root, plan, now, report)
                self._plan_missing(session, root, now, report)
            self._quota_notices(session, now, report)
            self._start_due(session, now, report)
            session.execute(
                delete(ProcessedUpdate).where(
                    col(ProcessedUpdate.processed_at) < now - PROCESSED_UPDATES_KEPT
                )
            )
            files.prune(session, now=now)
            uploads.prune(session, now=now)
            session.commit()
        self._refresh_tallies(now)
        return report

    def _refresh_tallies(self, now: datetime) -> None:
        """Every few minutes, each tree's unit figures, which /thongke rolls up for large
        scopes (bot/services/stats.py; a tree too small for that is not tallied); after the
        broadcasts, so they never wait for it."""
        refreshed = False
        with Session(self.db) as session:
            for root in units.children(session, None):
                found = plans.for_figures(session, root.code, now=now, tz=self.tz)
                if found is None or root.id is None:
                    continue
                campaign = found[0]
                last = self._tallied.get((campaign.id, root.id))
                if last is not None and now - last < TALLY_EVERY:
                    continue
                written = stats.refresh(session, campaign, root, now)
                self._tallied[(campaign.id, root.id)] = now
                if written:
                    session.commit()
                    logger.info("tally campaign=%s root=%s units=%s", campaign.id, root.id, written)
                    refreshed = True
        if refreshed:
            db.optimize(self.db)

    # -- creating -----------------------------------------------------------------------------

    def _once(
        self,
        session: Session,
        report: TickReport,
        *,
        key: str,
        due: datetime,
        now: datetime,
        make: Callable[[], Broadcast],
    ) -> None:
        """Create the broadcast of `key` unless it exists; past the grace window it is recorded
        as skipped (and logged), so it is never sent late and never twice."""
        if due > now or key in self._known:
            return
        if session.exec(select(Broadcast.id).where(Broadcast.key == key)).first() is not None:
            return
        self._known.add(key)
        broadcast = make()
        broadcast.key = key
        broadcast.scheduled_at = due
        broadcast.created_by = SCHEDULER
        if now - due > self.grace:
            broadcast.status = BroadcastStatus.SKIPPED
            broadcast.note = f"found {int((now - due).total_seconds() // 60)} min late"
            logger.warning("skipped past its grace window: %s", key)
            report.skipped.append(key)
        else:
            report.created.append(key)
        try:
            with session.begin_nested():
                session.add(broadcast)
        except IntegrityError:  # another scheduler created it a moment ago
            logger.info("already created: %s", key)

    def _quota_notices(self, session: Session, now: datetime, report: TickReport) -> None:
        """Admins are told when a platform's month reaches 80% of its message limit, and when
        messages were held back because of it; once each a month."""
        for platform, limit in self.settings.monthly_limits().items():
            month = quota.month_of(now, self.tz)
            for notice in quota.notices_due(session, platform=platform, month=month, limit=limit):
                use = quota.usage(session, platform=platform, month=month, limit=limit)
                text = self.content.texts(
                    f"quota.{notice}",
                    app=self.content.texts(f"privacy.platforms.{platform}"),
                    sent=use.sent,
                    held=use.held,
                    limit=limit,
                    percent=use.percent,
                    month=f"{month[5:]}/{month[:4]}",
                )
                self._once(
                    session,
                    report,
                    key=f"quota-{notice}:{platform}:{month}",
                    due=now,
                    now=now,
                    make=partial(
                        Broadcast, kind=BroadcastKind.ADMIN_NOTICE, text=text, created_by=SCHEDULER
                    ),
                )
                quota.mark_notice(session, platform=platform, month=month, notice=notice, now=now)

    def _anniversaries(
        self,
        session: Session,
        root: Unit,
        campaign: Campaign | None,
        now: datetime,
        report: TickReport,
    ) -> None:
        calendar = self.content.calendar
        texts = self.content.texts
        topics = library.catalog(session, self.content.catalog, now=now).topics
        topic = topics.get(campaign.topic) if campaign is not None else None
        # without a plan for this year, the campaign's own name, never an old year's topic
        short = topic.short_title if topic else texts("plans.no_topic_short")
        title = topic.title if topic else texts("plans.no_topic_title")
        year = now.astimezone(self.tz).year
        for event in calendar.events:
            due = event.occurrence(year, self.tz)
            if due > now:
                continue

            def post(event: Event = event) -> Broadcast:
                text, photo = calendar.render(
                    event,
                    year,
                    topic=short,
                    topic_title=title,
                    tz=self.tz,
                    examples=self._examples(session, root, now),
                )
                return Broadcast(
                    kind=BroadcastKind.ANNIVERSARY,
                    unit_id=root.id,
                    text=text,
                    photo=photo,
                    created_by=SCHEDULER,
                )

            key = f"anniversary:{event.id}:{year}:{root.code}"
            self._once(session, report, key=key, due=due, now=now, make=post)

    def _plan_missing(
        self, session: Session, root: Unit, now: datetime, report: TickReport
    ) -> None:
        """From 1/11 until next year's plan exists (and all year while this year has none), the
        admins are reminded once a week, with the command that makes it."""
        local = now.astimezone(self.tz)
        year = local.year + 1 if local.month >= NEXT_PLAN_FROM_MONTH else local.year
        if local.time() < REPORT_AT or plans.has_year(session, root.code, year, now=now):
            return
        week = local.isocalendar()
        text = self.content.texts("plans.reminder", unit=root.name, year=year)
        self._once(
            session,
            report,
            key=f"plan-missing:{root.code}:{year}:{week.year}-w{week.week:02d}",
            due=now,
            now=now,
            make=partial(
                Broadcast, kind=BroadcastKind.ADMIN_NOTICE, text=text, created_by=SCHEDULER
            ),
        )

    def _examples(self, session: Session, root: Unit, now: datetime) -> str:
        """The tree's latest approved good examples whose person agreed, for a post's
        {examples}; "" when there are none (the post goes out without them)."""
        found = examples.featured(session, root=root, now=now)
        if not found:
            return ""
        texts = self.content.texts
        lines = [texts("examples.post_head")]
        for example in found:
            unit = session.get(Unit, example.unit_id)
            lines.append(
                texts(
                    "examples.post_line",
                    person=example.person,
                    unit=cut(unit.name, 80) if unit is not None else "",
                    text=cut(" ".join(examples.shown_text(example).split()), EXAMPLE_CHARS),
                )
            )
        return "\n".join(lines)

    def _reminders(
        self, session: Session, root: Unit, campaign: Campaign, now: datetime, report: TickReport
    ) -> None:
        rule = campaign.pledge
        if rule is None or now >= pledges.deadline_at(rule, self.tz):
            return
        last = pledges.last_day(rule)
        texts = self.content.texts
        for days in rule.reminders.days_before:
            due = datetime.combine(last - timedelta(days=days), rule.reminders.at, self.tz)
            key_text = "reminders.pledge_today" if days == 0 else "reminders.pledge"
            self._once(
                session,
                report,
                key=f"reminder:{campaign.id}:{days}:{root.code}",
                due=due,
                now=now,
                make=partial(
                    Broadcast,
                    kind=BroadcastKind.REMINDER,
                    unit_id=root.id,
                    campaign_id=campaign.id,
                    text=texts(key_text, year=campaign.year, days=days, last=fmt_date(last)),
                    created_by=SCHEDULER,
                ),
            )

    def _report_reminders(
        self, session: Session, root: Unit, campaign: Campaign, now: datetime, report: TickReport
    ) -> None:
        """Each officer scope in this tree gets its own figures."""
        scopes = session.exec(
            select(Unit)
            .join(RoleGrant, col(RoleGrant.unit_id) == Unit.id)
            .where(RoleGrant.role == RoleName.OFFICER, col(Unit.path).startswith(root.path))
            .distinct()
        ).all()
        for deadline in campaign.reports:
            for days in deadline.remind_days_before:
                due = datetime.combine(deadline.due - timedelta(days=days), REPORT_AT, self.tz)
                if due > now:
                    continue
                for unit in scopes:
                    remind = partial(
                        self._report_broadcast, session, campaign, unit, deadline, days
                    )
                    key = f"report:{campaign.id}:{deadline.due}:{days}:{unit.code}"
                    self._once(session, report, key=key, due=due, now=now, make=remind)

    def _report_broadcast(
        self,
        session: Session,
        campaign: Campaign,
        unit: Unit,
        deadline: ReportDeadline,
        days: int,
    ) -> Broadcast:
        return Broadcast(
            kind=BroadcastKind.OFFICER_REMINDER,
            unit_id=unit.id,
            campaign_id=campaign.id,
            text=self.content.texts(
                "reminders.report",
                report=deadline.name,
                due=fmt_date(deadline.due),
                days=days,
                unit=unit.name,
                **self._figures(session, campaign, unit),
            ),
            created_by=SCHEDULER,
        )

    def _figures(self, session: Session, campaign: Campaign, unit: Unit) -> dict[str, int]:
        counts = pledges.counts_by_unit(session, campaign_id=campaign.id, paths=[unit.path])
        total = sum(c.members for c in counts)
        missing = sum(c.not_submitted for c in counts)
        return {"total": total, "submitted": total - missing, "missing": missing}

    # -- starting -----------------------------------------------------------------------------

    def _too_late(
        self, session: Session, broadcast: Broadcast, now: datetime, report: TickReport
    ) -> None:
        """An officer's announcement found long after its time (the bot was down): news is
        stale, so it is not sent; the officer is told, through the outbox, once."""
        broadcast.status = BroadcastStatus.SKIPPED
        broadcast.finished_at = now
        broadcast.note = (
            f"found {int((now - broadcast.scheduled_at).total_seconds() // 60)} min late"
        )
        session.add(broadcast)
        logger.warning("broadcast=%s skipped: past its grace window", broadcast.id)
        report.skipped.append(f"broadcast:{broadcast.id}")
        if broadcast.report_platform and broadcast.report_chat_id:
            notice = Broadcast(
                kind=BroadcastKind.ADMIN_NOTICE,
                status=BroadcastStatus.SENDING,
                key=f"late:{broadcast.id}",
                text=self.content.texts(
                    "broadcast.skipped_late",
                    at=fmt_datetime(broadcast.scheduled_at, self.tz),
                    preview=" ".join(to_plain(broadcast.text).split())[:80],
                ),
                created_by=SCHEDULER,
                scheduled_at=now,
                started_at=now,
            )
            session.add(notice)
            session.flush()
            assert notice.id is not None
            outbox.enqueue(
                session,
                notice.id,
                [Recipient(broadcast.report_platform, broadcast.report_chat_id)],
            )
        session.commit()

    def _start_due(self, session: Session, now: datetime, report: TickReport) -> None:
        """List the recipients of every broadcast whose time has come; one transaction each."""
        due = session.exec(
            select(Broadcast)
            .where(
                Broadcast.status == BroadcastStatus.SCHEDULED,
                col(Broadcast.scheduled_at) <= now,
            )
            .order_by(col(Broadcast.scheduled_at), col(Broadcast.id))
        ).all()
        for broadcast in due:
            assert broadcast.id is not None
            if broadcast.created_by != SCHEDULER and now - broadcast.scheduled_at > self.grace:
                self._too_late(session, broadcast, now, report)
                continue
            added = outbox.enqueue(
                session,
                broadcast.id,
                audience.recipients(
                    session,
                    broadcast,
                    platforms=self.platforms,
                    admin_ids=self.settings.admins_by_platform(),
                ),
            )
            broadcast.status = BroadcastStatus.SENDING if added else BroadcastStatus.DONE
            broadcast.started_at = now
            if not added:
                broadcast.finished_at = now
            session.add(broadcast)
            session.commit()
            report.started.append(broadcast.id)
            logger.info("broadcast=%s started recipients=%s", broadcast.id, added)
