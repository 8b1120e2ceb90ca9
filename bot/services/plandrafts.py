"""Making plans: next year's drafted from the tree's last plan (or the presets) with every date
moved, the checks a new plan must pass, the presets imported on a first start, and the demo tree's
plan kept ahead of today for `congdoan chat`."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlmodel import Session, select

from bot.campaign import Campaign, PledgeRule, QuizRule
from bot.catalog import Catalog
from bot.models import Plan, Pledge
from bot.services import plans
from bot.services.plans import PlanError

logger = logging.getLogger(__name__)

PRESETS = "presets"  # created_by of plans imported from content/campaigns.yaml
DEMO = "demo"  # created_by of the demo tree's plans made by `congdoan chat`
DEMO_LEAD = timedelta(days=30)  # the demo's pledge is due at least this far ahead
DEFAULT_DEADLINE = (4, 10)  # "trước ngày 10/4" (Kế hoạch LĐLĐ tỉnh Bình Thuận)
_ID_YEAR = re.compile(r"^(.*\D)-?(\d{4})$")


def local_today(now: datetime, tz: ZoneInfo) -> date:
    return now.astimezone(tz).date()


def default_pledge(year: int) -> PledgeRule:
    """What the seed plans say: before 10/4, self-assessment from 1/11 to the year's end."""
    return PledgeRule(
        submit_before=date(year, *DEFAULT_DEADLINE),
        assessment_opens=date(year, 11, 1),
        assessment_closes=date(year, 12, 31),
    )


def base_for(
    session: Session, catalog: Catalog, *, root: str, base_id: str | None = None
) -> Campaign | None:
    """What a new plan of the tree copies: the plan named, else the tree's last plan, else the
    presets (the tree's, a shared one, or the latest)."""
    if base_id:
        found = plans.get(session, base_id)
        if found is None:
            raise PlanError("base_unknown", id=base_id)
        return found.campaign
    mine = [p for p in plans.of_root(session, root) if p.updated_by != DEMO]  # the demo's plan
    live = [p for p in mine if p.ended_at is None] or mine  # has its dates moved: not a pattern
    if live:
        return live[0].campaign
    presets = sorted(catalog.campaigns, key=lambda c: c.year, reverse=True)
    for wanted in (root, None):
        found_preset = next((c for c in presets if c.root_unit == wanted), None)
        if found_preset is not None:
            return found_preset
    return presets[0] if presets else None


def new_id(session: Session, root: str, year: int, base: Campaign | None) -> str:
    """'demo-2026' gives 'demo-2027'; otherwise the root's code and the year; never one in use."""
    match = _ID_YEAR.match(base.id) if base is not None and base.root_unit == root else None
    stem = match.group(1).rstrip("-") if match else re.sub(r"[^a-z0-9]+", "-", root.lower())
    stem = stem.strip("-")[:50] or "ke-hoach"
    taken = set(session.exec(select(Plan.id)).all())
    candidate, n = f"{stem}-{year}", 2
    while candidate in taken:
        candidate, n = f"{stem}-{year}-{n}", n + 1
    return candidate


def draft(
    session: Session,
    catalog: Catalog,
    *,
    root: str,
    year: int,
    base_id: str | None = None,
    base: Campaign | None = None,
) -> tuple[Campaign, Campaign | None]:
    """A plan for the tree and year (not stored), and what it was copied from (`base`, else as
    `base_for` finds it)."""
    base = base or base_for(session, catalog, root=root, base_id=base_id)
    if base is None:
        topic = max(catalog.topics.values(), key=lambda t: max(t.years, default=0), default=None)
        if topic is None:
            raise PlanError("no_topics")
        quizzes = [QuizRule(topic=topic.id)] if len(catalog.banks.get(topic.id, [])) >= 10 else []
        made = Campaign(id="x", year=year, topic=topic.id, quizzes=quizzes)
    else:
        made = base.moved(years=year - base.year)
    if made.pledge is None:
        made = made.model_copy(update={"pledge": default_pledge(year)})
    made = made.model_copy(update={"id": new_id(session, root, year, base), "root_unit": root})
    return made, base


def check(campaign: Campaign, catalog: Catalog, *, today: date) -> None:
    """What a new plan must be: a known topic, quizzes with enough questions, a pledge due after
    today, a start before the deadline, report deadlines after today and the start, in order.
    Raises PlanError naming the first problem."""
    if not today.year - 1 <= campaign.year <= today.year + 5:
        raise PlanError("year_range", year=campaign.year, low=today.year - 1, high=today.year + 5)
    if campaign.topic not in catalog.topics:
        raise PlanError("topic_unknown", topic=campaign.topic)
    for rule in campaign.quizzes:
        have = len(catalog.banks.get(rule.topic, []))
        if rule.topic not in catalog.topics or not have:
            raise PlanError("quiz_unknown", topic=rule.topic)
        if rule.questions > have:
            raise PlanError("quiz_too_many", topic=rule.topic, questions=rule.questions, have=have)
    rule_ = campaign.pledge
    if rule_ is not None:
        if rule_.submit_before <= today:
            raise PlanError("deadline_past", day=f"{rule_.submit_before:%d/%m/%Y}")
        if campaign.opens_on >= rule_.submit_before:
            raise PlanError(
                "starts_after_deadline",
                starts=f"{campaign.opens_on:%d/%m/%Y}",
                day=f"{rule_.submit_before:%d/%m/%Y}",
            )
    check_reports(
        [(r.name, r.due) for r in campaign.reports], starts=campaign.opens_on, today=today
    )


def check_reports(reports: list[tuple[str, date]], *, starts: date, today: date) -> None:
    """Report deadlines (name, last day), as the pledge's dates: each after today and after the
    plan's start, and each not before the one listed above it. A copied plan keeps last year's
    deadlines moved a year, and a plan made late in the year may find them passed."""
    before: tuple[str, date] | None = None
    for name, due in reports:
        if due <= today:
            raise PlanError("report_past", name=name, day=_day(due), today=_day(today))
        if due <= starts:
            raise PlanError("report_before_start", name=name, day=_day(due), starts=_day(starts))
        if before is not None and due < before[1]:
            raise PlanError(
                "reports_order",
                name=name,
                day=_day(due),
                before=before[0],
                before_day=_day(before[1]),
            )
        before = (name, due)


def without_past_reports(campaign: Campaign, today: date) -> tuple[Campaign, list[str]]:
    """The plan without the report deadlines already passed (the command line has no way to
    type new ones), and what was left out, as "name (dd/mm/yyyy)"."""
    kept = [r for r in campaign.reports if r.due > today]
    dropped = [f"{r.name} ({_day(r.due)})" for r in campaign.reports if r.due <= today]
    return campaign.model_copy(update={"reports": kept}), dropped


def _day(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def with_deadline(campaign: Campaign, deadline: date) -> Campaign:
    """The plan with its pledge due before `deadline`; the self-assessment window moves by as
    many days, so the dates keep their order."""
    rule = campaign.pledge or default_pledge(campaign.year)
    shift = timedelta(days=(deadline - rule.submit_before).days)
    moved = rule.model_copy(
        update={
            "submit_before": deadline,
            "assessment_opens": rule.assessment_opens and rule.assessment_opens + shift,
            "assessment_closes": rule.assessment_closes and rule.assessment_closes + shift,
        }
    )
    return campaign.model_copy(update={"pledge": moved})


# --- presets and the demo ----------------------------------------------------------------------


def import_presets(session: Session, catalog: Catalog, *, now: datetime) -> int:
    """On a first start (no plans at all), the presets of content/campaigns.yaml become the
    plans, once; returns how many."""
    if session.exec(select(Plan.id).limit(1)).first() is not None:
        return 0
    for preset in catalog.campaigns:
        plans.create(session, preset, by=PRESETS, now=now, audited=False)
    return len(catalog.campaigns)


def ensure_demo(
    session: Session, catalog: Catalog, *, root: str, now: datetime, tz: ZoneInfo
) -> Campaign | None:
    """The demo tree always has a plan for this year whose pledge is due ahead of today, so a
    newcomer to `congdoan chat` sees a pledge to write, not one long overdue. A plan somebody
    edited, or with pledges already submitted, is left as it is."""
    today = local_today(now, tz)
    found = plans.current(session, root, now=now, tz=tz)
    if found is not None:
        rule = found.pledge
        if rule is None or rule.submit_before > today:
            return found
        stored = plans.get(session, found.id)
        untouched = stored is not None and stored.updated_by in (PRESETS, DEMO)
        submitted = session.exec(
            select(Pledge.id)
            .where(
                Pledge.campaign_id == found.id,
                Pledge.first_submitted_at.is_not(None),  # type: ignore[union-attr]
            )
            .limit(1)
        ).first()
        if not untouched or submitted is not None or found.root_unit != root:
            return found
        days = (today + DEMO_LEAD - rule.submit_before).days
        plans.move_dates(session, found.id, days=days, by=DEMO, now=now)
        logger.info("demo plan=%s moved %s days ahead", found.id, days)
        return plans.current(session, root, now=now, tz=tz)
    presets = sorted(catalog.campaigns, key=lambda c: c.year, reverse=True)
    preset = next((c for c in presets if c.root_unit == root), None)
    made, _base = draft(session, catalog, root=root, year=today.year, base=preset)
    rule = made.pledge
    if rule is not None and rule.submit_before <= today:
        made = made.moved(days=(today + DEMO_LEAD - rule.submit_before).days)
    made = made.model_copy(update={"starts_on": None})
    plans.create(session, made, by=DEMO, now=now, audited=False)
    logger.info("demo plan=%s made for %s", made.id, today.year)
    return plans.current(session, root, now=now, tz=tz)


# --- the form /kehoach fills in ------------------------------------------------------------------


def to_form(campaign: Campaign) -> dict[str, Any]:
    """A plan as the plain fields /kehoach asks one by one (JSON: kept in the chat's state)."""
    rule = campaign.pledge or default_pledge(campaign.year)
    data = campaign.model_dump(mode="json")
    return {
        "id": campaign.id,
        "root": campaign.root_unit,
        "year": campaign.year,
        "topic": campaign.topic,
        "quizzes": data["quizzes"],
        "submit_before": rule.submit_before.isoformat(),
        "late_allowed": rule.late_allowed,
        "opens": rule.assessment_opens and rule.assessment_opens.isoformat(),
        "closes": rule.assessment_closes and rule.assessment_closes.isoformat(),
        "reminders": rule.reminders.model_dump(mode="json"),
        "reports": data["reports"],
        "starts_on": campaign.opens_on.isoformat(),
    }


def from_form(form: dict[str, Any]) -> Campaign:
    """The plan the form describes; PlanError if it does not hold together."""
    try:
        return Campaign.model_validate(
            {
                "id": form["id"],
                "year": form["year"],
                "root_unit": form["root"],
                "topic": form["topic"],
                "quizzes": form["quizzes"],
                "pledge": {
                    "submit_before": form["submit_before"],
                    "late_allowed": form["late_allowed"],
                    "assessment_opens": form["opens"],
                    "assessment_closes": form["closes"] if form["opens"] else None,
                    "reminders": form["reminders"],
                },
                "reports": form["reports"],
                "starts_on": form["starts_on"],
            }
        )
    except (KeyError, ValidationError):
        raise PlanError("invalid") from None
