"""Which plans a member's /dangky reaches: the current plan of their tree, and a past plan whose
year-end self-assessment is still open for a pledge they submitted in it (only to assess it:
nothing shows last year's pledge as due)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.campaign import Campaign, PledgeRule
from bot.flow import Context
from bot.models import Member, Pledge
from bot.services import plans, pledges


@dataclass(frozen=True)
class Reach:
    campaign: Campaign
    rule: PledgeRule
    current: bool  # False: a past year's plan, reachable for its self-assessment only


def member(ctx: Context) -> Member:
    found = ctx.actor.member
    assert found is not None and found.id is not None
    return found


def reachable(ctx: Context) -> list[Reach]:
    """The current plan (when it collects pledges) first, then past ones still to assess."""
    me = member(ctx)
    assert me.id is not None
    tz = ctx.settings.tz
    root = plans.root_code(ctx.session, me.unit_id)
    out = []
    now_plan = plans.current(ctx.session, root, now=ctx.now, tz=tz)
    if now_plan is not None and now_plan.pledge is not None:
        out.append(Reach(now_plan, now_plan.pledge, True))
    for past in plans.open_assessments(ctx.session, root, now=ctx.now, tz=tz):
        pledge = pledges.get(ctx.session, member_id=me.id, campaign_id=past.id)
        if past.pledge is not None and pledge is not None and pledge.first_submitted_at:
            out.append(Reach(past, past.pledge, False))
    return out


def find(ctx: Context, campaign_id: object) -> Reach | None:
    return next((r for r in reachable(ctx) if r.campaign.id == campaign_id), None)


def pledge_of(ctx: Context, campaign: Campaign) -> Pledge:
    me = member(ctx)
    assert me.id is not None
    return pledges.get_or_create(
        ctx.session, member_id=me.id, campaign_id=campaign.id, year=campaign.year
    )
