"""An officer chooses a unit of their scope (their units and everything below): the tree walk
and name search of handlers/unitpick.py, starting at their own unit; a unit outside the scope,
chosen by an old button, a search or a typed code, is refused and the list offered again."""

from __future__ import annotations

from bot.flow import Context
from bot.messages import Option
from bot.models import Unit
from bot.services import units
from handlers import unitpick
from handlers.scopes import roots


def offer(ctx: Context, intro: str) -> None:
    found = roots(ctx)
    if ctx.actor.is_admin or not found:
        unitpick.offer(ctx, None, intro=intro)
        return
    if len(found) == 1:
        unitpick.offer(ctx, found[0].id, intro=intro)
        return
    ctx.data["pick_intro"] = intro
    options = []
    for unit in found:
        has_kids = bool(units.children(ctx.session, unit.id))
        data = f"open:{unit.id}" if has_kids else f"pick:{unit.id}"
        options.append(Option(unit.name[:60] + (" ›" if has_kids else ""), data))
    ctx.ask(intro, options)


def handle(ctx: Context) -> Unit | None:
    """The unit chosen, if in the caller's scope; otherwise ask again and None."""
    unit = unitpick.handle(ctx)
    if unit is None:
        return None
    if not ctx.actor.can_manage(unit):
        ctx.say("scope.outside", unit=unit.name)
        offer(ctx, str(ctx.data.get("pick_intro") or ctx.t("scope.pick")))
        return None
    return unit


def single(ctx: Context) -> Unit | None:
    """The officer's only unit when it has no units below it: nothing to choose."""
    found = roots(ctx)
    if ctx.actor.is_admin or len(found) != 1:
        return None
    return found[0] if not units.children(ctx.session, found[0].id) else None
