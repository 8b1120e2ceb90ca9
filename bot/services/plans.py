"""The yearly plans (kế hoạch) of the unit trees, in the database: which one is current for a tree,
and their changes. Every process keeps the plans in memory for a few seconds (`PLAN_TTL`, by the
clock it is given), so the hot path reads the table at most that often; a process that changes a
plan rereads at once, the other replicas within `PLAN_TTL`.

Which plan is current: among a tree's plans that are not ended and whose start day (default 1/1
of their year) has come, the one of the latest year, as long as that year is not over. A plan of
a year that is over is never current: nothing shows last year's pledge as due. Its figures stay
readable (`for_figures`) and its self-assessment stays open until its window closes
(`open_assessments`). A tree without plans of its own uses the shared ones (no root unit)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import event
from sqlmodel import Session, col, select

from bot.campaign import Campaign
from bot.enginecache import per_engine
from bot.models import Member, Plan, Unit
from bot.services import audit
from bot.texts import Refusal

logger = logging.getLogger(__name__)

PLAN_TTL = timedelta(seconds=15)


class PlanError(Refusal):
    """A change to a plan that cannot be made (`plans.errors.*`)."""

    PREFIX = "plans.errors."


@dataclass(frozen=True)
class StoredPlan:
    campaign: Campaign
    ended_at: datetime | None
    version: int
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def id(self) -> str:
        return self.campaign.id

    @property
    def root(self) -> str | None:
        return self.campaign.root_unit

    @property
    def year(self) -> int:
        return self.campaign.year

    @property
    def starts_on(self) -> date:
        return self.campaign.opens_on

    def started(self, today: date) -> bool:
        return self.starts_on <= today

    def editable(self, today: date) -> bool:
        """Only a plan that has not started can be changed: nobody has used it yet."""
        return self.ended_at is None and not self.started(today)


def _stored(row: Plan) -> StoredPlan | None:
    try:
        campaign = Campaign.model_validate(
            {
                "id": row.id,
                "year": row.year,
                "root_unit": row.root_unit,
                "topic": row.topic,
                "quizzes": row.quizzes,
                "pledge": row.pledge,
                "reports": row.reports,
                "starts_on": row.starts_on,
            }
        )
    except ValidationError as exc:
        logger.error("plan=%s cannot be read, ignored: %s", row.id, exc.error_count())
        return None
    return StoredPlan(
        campaign=campaign,
        ended_at=row.ended_at,
        version=row.version,
        created_by=row.created_by,
        updated_by=row.updated_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


# --- the cache --------------------------------------------------------------------------------


class _Cache:
    def __init__(self) -> None:
        self.plans: tuple[StoredPlan, ...] = ()
        self.loaded_at: datetime | None = None
        self.generation = 0  # bumped by every change this process makes
        self.loaded_generation = -1
        self.lock = threading.Lock()

    def fresh(self, now: datetime) -> bool:
        return (
            self.loaded_at is not None
            and self.loaded_generation == self.generation
            and self.loaded_at <= now < self.loaded_at + PLAN_TTL
        )

    def changed(self) -> None:
        with self.lock:
            self.generation += 1


def _cache(session: Session) -> _Cache:
    return per_engine("plans", session, _Cache)


def stored(session: Session, *, now: datetime) -> tuple[StoredPlan, ...]:
    """Every plan, from memory unless older than PLAN_TTL (or changed by this process)."""
    cache = _cache(session)
    with cache.lock:
        if cache.fresh(now):
            return cache.plans
        generation = cache.generation
    rows = session.exec(select(Plan).order_by(col(Plan.year), col(Plan.id))).all()
    plans = tuple(p for p in (_stored(r) for r in rows) if p is not None)
    with cache.lock:
        cache.plans, cache.loaded_at, cache.loaded_generation = plans, now, generation
    return plans


def _changed(session: Session) -> None:
    """This process changed a plan: read them again now, and again once the change is committed
    or rolled back (another update may have reread them in between)."""
    cache = _cache(session)
    cache.changed()
    event.listen(session, "after_commit", lambda _s: cache.changed(), once=True)
    event.listen(session, "after_rollback", lambda _s: cache.changed(), once=True)


# --- which plan --------------------------------------------------------------------------------


def root_code(session: Session, unit_id: int) -> str | None:
    """The code of the root of the unit's tree (the LĐLĐ tỉnh)."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        return None
    root_id = int(unit.path.strip("/").split("/")[0]) if unit.path.strip("/") else unit.id
    root = session.get(Unit, root_id)
    return root.code if root is not None else None


def _local(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def _started(plans: Iterable[StoredPlan], root: str | None, today: date) -> list[StoredPlan]:
    """The tree's plans that have started (ended ones too), the latest year first: its own, or
    the shared ones while none of its own has started."""
    started = [p for p in plans if p.started(today)]
    own = [p for p in started if p.root == root] if root is not None else []
    found = own or [p for p in started if p.root is None]
    return sorted(found, key=lambda p: (p.year, p.starts_on), reverse=True)


def current(session: Session, root: str | None, *, now: datetime, tz: ZoneInfo) -> Campaign | None:
    """The plan the tree works on today, or None (no plan yet, or only plans of past years)."""
    today = _local(now, tz)
    started = _started(stored(session, now=now), root, today)
    live = [p for p in started if p.ended_at is None]
    return live[0].campaign if live and live[0].year >= today.year else None


def for_member(session: Session, member: Member, *, now: datetime, tz: ZoneInfo) -> Campaign | None:
    return current(session, root_code(session, member.unit_id), now=now, tz=tz)


def for_figures(
    session: Session, root: str | None, *, now: datetime, tz: ZoneInfo
) -> tuple[Campaign, bool] | None:
    """The plan whose figures to show: the current one (True), else the latest that started,
    ended or not (False): in January, before the new plan, last year's figures."""
    found = current(session, root, now=now, tz=tz)
    if found is not None:
        return found, True
    started = _started(stored(session, now=now), root, _local(now, tz))
    return (started[0].campaign, False) if started else None


def recent(session: Session, root: str | None, *, now: datetime, tz: ZoneInfo) -> list[Campaign]:
    """Plans that may still have work in them: started, not ended, of this year or the last one
    (their self-assessments are reviewed, their report deadlines reminded)."""
    today = _local(now, tz)
    started = _started(stored(session, now=now), root, today)
    return [p.campaign for p in started if p.ended_at is None and p.year >= today.year - 1]


def open_assessments(
    session: Session, root: str | None, *, now: datetime, tz: ZoneInfo
) -> list[Campaign]:
    """Plans other than the current one whose year-end self-assessment is open today."""
    today = _local(now, tz)
    now_plan = current(session, root, now=now, tz=tz)
    out = []
    for plan in recent(session, root, now=now, tz=tz):
        rule = plan.pledge
        if (now_plan is not None and plan.id == now_plan.id) or rule is None:
            continue
        closes = rule.assessment_closes
        opens = rule.assessment_opens
        if opens is not None and opens <= today and (closes is None or today <= closes):
            out.append(plan)
    return out


def has_year(session: Session, root: str | None, year: int, *, now: datetime) -> bool:
    """Whether the tree (or every tree, through a shared plan) has a plan for that year."""
    plans = [p for p in stored(session, now=now) if p.ended_at is None and p.year == year]
    return any(p.root in (root, None) for p in plans)


# --- reading for the admins --------------------------------------------------------------------


def read_all(session: Session) -> list[StoredPlan]:
    """Every plan straight from the table (for /kehoach and the command line, not the hot path)."""
    rows = session.exec(select(Plan).order_by(col(Plan.year), col(Plan.id))).all()
    return [p for p in (_stored(r) for r in rows) if p is not None]


def of_root(session: Session, root: str) -> list[StoredPlan]:
    """A tree's own plans, newest year first."""
    found = [p for p in read_all(session) if p.root == root]
    return sorted(found, key=lambda p: (p.year, p.created_at), reverse=True)


def get(session: Session, plan_id: str) -> StoredPlan | None:
    row = session.get(Plan, plan_id)
    return _stored(row) if row is not None else None


# --- changes -------------------------------------------------------------------------------------


def _write(row: Plan, campaign: Campaign) -> None:
    data = campaign.model_dump(mode="json")
    row.root_unit = campaign.root_unit
    row.year = campaign.year
    row.topic = campaign.topic
    row.quizzes = data["quizzes"]
    row.pledge = data["pledge"]
    row.reports = data["reports"]
    row.starts_on = campaign.opens_on


def create(
    session: Session, campaign: Campaign, *, by: str, now: datetime, audited: bool = True
) -> StoredPlan:
    """Store a new plan. One live plan per tree and year; its id is never reused. People's
    plans are audited; the system's (presets, the demo) only logged."""
    if session.get(Plan, campaign.id) is not None:
        raise PlanError("id_taken", id=campaign.id)
    for other in read_all(session):
        if other.root == campaign.root_unit and other.year == campaign.year and not other.ended_at:
            raise PlanError("year_taken", year=campaign.year, id=other.id)
    row = Plan(
        id=campaign.id,
        year=campaign.year,
        topic=campaign.topic,
        starts_on=campaign.opens_on,
        created_by=by,
        updated_by=by,
        created_at=now,
        updated_at=now,
    )
    _write(row, campaign)
    session.add(row)
    session.flush()
    if audited:
        audit.record(
            session,
            actor=by,
            action="plan_create",
            plan=campaign.id,
            root=campaign.root_unit,
            year=campaign.year,
        )
    _changed(session)
    logger.info("plan created plan=%s by=%s", campaign.id, by)
    found = _stored(row)
    assert found is not None
    return found


def update(
    session: Session, campaign: Campaign, *, by: str, now: datetime, tz: ZoneInfo, version: int
) -> StoredPlan:
    """Change a plan that has not started, if nobody changed it since `version` was read."""
    row = session.get(Plan, campaign.id)
    if row is None:
        raise PlanError("unknown", id=campaign.id)
    if row.ended_at is not None:
        raise PlanError("ended", year=row.year)
    if row.starts_on <= _local(now, tz):
        raise PlanError("started", year=row.year, day=f"{row.starts_on:%d/%m/%Y}")
    if row.version != version:
        raise PlanError("changed", year=row.year)
    _write(row, campaign)
    row.updated_by, row.updated_at, row.version = by, now, row.version + 1
    session.add(row)
    session.flush()
    audit.record(session, actor=by, action="plan_update", plan=row.id, year=row.year)
    _changed(session)
    logger.info("plan updated plan=%s by=%s version=%s", row.id, by, row.version)
    found = _stored(row)
    assert found is not None
    return found


def end(session: Session, plan_id: str, *, by: str, now: datetime) -> StoredPlan:
    """End a plan: it is no longer current anywhere; its pledges and figures are kept."""
    row = session.get(Plan, plan_id)
    if row is None:
        raise PlanError("unknown", id=plan_id)
    if row.ended_at is not None:
        raise PlanError("ended", year=row.year)
    row.ended_at, row.updated_by, row.updated_at = now, by, now
    row.version += 1
    session.add(row)
    session.flush()
    audit.record(session, actor=by, action="plan_end", plan=row.id, year=row.year)
    _changed(session)
    logger.info("plan ended plan=%s by=%s", row.id, by)
    found = _stored(row)
    assert found is not None
    return found


def move_dates(session: Session, plan_id: str, *, days: int, by: str, now: datetime) -> None:
    """Move every date of a plan (the demo's, kept ahead of today); not for people's plans."""
    row = session.get(Plan, plan_id)
    found = _stored(row) if row is not None else None
    if row is None or found is None:
        return
    moved = found.campaign.moved(days=days)
    _write(row, moved.model_copy(update={"starts_on": found.campaign.starts_on}))
    row.updated_by, row.updated_at, row.version = by, now, row.version + 1
    session.add(row)
    session.flush()
    _changed(session)


@dataclass(frozen=True)
class PlanRef:
    """What the records of a year are filed under (conferences, breakthrough tasks, models)."""

    id: str
    year: int
    topic: str  # the yearly topic's id


def for_unit(session: Session, unit_id: int, *, now: datetime, tz: ZoneInfo) -> PlanRef | None:
    """The current plan of the unit's tree, if any."""
    campaign = current(session, root_code(session, unit_id), now=now, tz=tz)
    if campaign is None:
        return None
    return PlanRef(id=campaign.id, year=campaign.year, topic=campaign.topic)
