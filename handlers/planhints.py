"""What members and admins are told when their tree has no plan (kế hoạch) for now: members an
honest line, those who make plans (admins, officers of a whole tree) the command that makes one."""

from __future__ import annotations

from bot.flow import Context
from bot.services import plans
from bot.services.permissions import plan_roots

NEXT_YEAR_FROM_MONTH = 11  # from 1/11, next year's plan is due


def no_plan(ctx: Context, key: str) -> None:
    """The flow's own words (`key`, with {year}), then, for plan makers, how to make one."""
    year = ctx.now.astimezone(ctx.settings.tz).year
    ctx.say(key, year=year)
    if ctx.actor.makes_plans:
        ctx.say("plans.make_hint", year=year)


def missing(ctx: Context) -> list[str]:
    """One line per tree of the caller that lacks this year's plan (or, from 1/11, next year's):
    shown to plan makers when they open /start."""
    if not ctx.actor.makes_plans:
        return []
    today = ctx.now.astimezone(ctx.settings.tz).date()
    lines = []
    for root in plan_roots(ctx.session, ctx.actor):
        found = plans.current(ctx.session, root.code, now=ctx.now, tz=ctx.settings.tz)
        if found is None:
            lines.append(ctx.t("plans.start_prompt", unit=root.name, year=today.year))
        elif today.month >= NEXT_YEAR_FROM_MONTH and not plans.has_year(
            ctx.session, root.code, today.year + 1, now=ctx.now
        ):
            lines.append(ctx.t("plans.start_prompt", unit=root.name, year=today.year + 1))
    return lines
