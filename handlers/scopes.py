"""Whose figures and records an officer reaches: their units and everything below them (admins:
every tree), each with the current plan of its tree (or, for figures, its latest one). /duyet,
/chuanop, /thongke, /baocao, /lich and the records of the plan's year (/hoinghi, /dotpha,
/guongtot) all start here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.campaign import Campaign, PledgeRule
from bot.flow import Context
from bot.models import Unit
from bot.services import plans, units
from bot.services.plans import PlanRef


def unit_plan(ctx: Context, unit_id: int) -> PlanRef | None:
    """The plan a unit's year is recorded in (conferences, breakthroughs, good models)."""
    return plans.for_unit(ctx.session, unit_id, now=ctx.now, tz=ctx.settings.tz)


def flow_unit_and_plan(ctx: Context) -> tuple[Unit, PlanRef] | None:
    """The unit and plan a form was started for, checked again when it is saved: still in the
    person's scope and still the current plan. Otherwise the flow ends, saying why."""
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    if unit is None or unit.id is None or not ctx.actor.can_manage(unit):
        ctx.finish()
        ctx.say("scope.forbidden")
        return None
    plan = unit_plan(ctx, unit.id)
    if plan is None or plan.id != ctx.data.get("plan"):
        ctx.finish()
        ctx.say("conference.plan_changed")
        return None
    return unit, plan


def roots(ctx: Context) -> list[Unit]:
    """The caller's top units: an officer's units (none inside another), an admin's roots."""
    found = units.children(ctx.session, None) if ctx.actor.is_admin else ctx.actor.officer_units
    found = [u for u in found if not any(o is not u and u.path.startswith(o.path) for o in found)]
    return sorted(found, key=lambda u: u.path)


def paths(ctx: Context) -> list[str] | None:
    """Path prefixes of the caller's reach; None: everything (an admin)."""
    return None if ctx.actor.is_admin else [u.path for u in roots(ctx)]


@dataclass(frozen=True)
class Scope:
    unit: Unit
    campaign: Campaign
    rule: PledgeRule
    current: bool = True  # False: last year's plan, shown for its figures (no plan this year yet)


def scopes(ctx: Context, *, figures: bool = False) -> list[Scope]:
    """The caller's subtrees with their current plans: an officer's units, or every root for an
    admin. A unit inside another of the caller's units is dropped, so nobody is counted twice.
    `figures`: a tree without a current plan shows its latest one (last year's figures)."""
    tz = ctx.settings.tz
    out = []
    for unit in roots(ctx):
        assert unit.id is not None
        code = plans.root_code(ctx.session, unit.id)
        if figures:
            found = plans.for_figures(ctx.session, code, now=ctx.now, tz=tz)
        else:
            campaign = plans.current(ctx.session, code, now=ctx.now, tz=tz)
            found = (campaign, True) if campaign is not None else None
        if found is not None and found[0].pledge is not None:
            out.append(Scope(unit, found[0], found[0].pledge, found[1]))
    return out


@dataclass(frozen=True)
class View:
    """What one /thongke or /baocao covers: a campaign and a top unit (None: every unit, for an
    admin whose trees all share one campaign)."""

    campaign: Campaign
    rule: PledgeRule
    top: Unit | None
    current: bool = True  # False: last year's plan (this year's is not made yet)

    @property
    def key(self) -> str:
        return f"{self.campaign.id}:{self.top.id if self.top is not None else '*'}"

    def covers(self, unit: Unit) -> bool:
        return self.top is None or unit.path.startswith(self.top.path)


def views(ctx: Context) -> list[View]:
    """The caller's views: an officer's units, or for an admin every tree (one view of all units
    when every root shares the same campaign)."""
    found = scopes(ctx, figures=True)
    shared = len(found) > 1 and len({s.campaign.id for s in found}) == 1
    if ctx.actor.is_admin and shared and len(found) == len(units.children(ctx.session, None)):
        return [View(found[0].campaign, found[0].rule, None, found[0].current)]
    return [View(s.campaign, s.rule, s.unit, s.current) for s in found]
