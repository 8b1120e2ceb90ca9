"""Choosing a unit: walk the tree with buttons, page by page, or type part of its name."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select

from bot.flow import Context
from bot.messages import Option
from bot.models import Unit
from bot.services import units

PAGE = 8
_LABEL_MAX = 60


def _label(text: str) -> str:
    return text if len(text) <= _LABEL_MAX else text[: _LABEL_MAX - 1] + "…"


def offer(ctx: Context, parent_id: int | None, page: int = 0, intro: str | None = None) -> None:
    """Show the children of a unit (or the top of the tree) as buttons."""
    session = ctx.session
    parent = session.get(Unit, parent_id) if parent_id is not None else None
    kids = units.children(session, parent_id)
    if parent is None and len(kids) == 1:  # one province at the top: start below it
        parent, kids = kids[0], units.children(session, kids[0].id)
    if parent is None and not kids:
        ctx.say("register.no_units")
        return
    ids = [k.id for k in kids]
    counts = dict(
        session.exec(  # type: ignore[arg-type]
            select(col(Unit.parent_id), func.count())
            .where(col(Unit.parent_id).in_(ids))
            .group_by(col(Unit.parent_id))
        ).all()
    )
    start = page * PAGE
    shown = kids[start : start + PAGE]
    options = [
        Option(
            _label(k.name + (" ›" if counts.get(k.id) else "")),
            f"open:{k.id}" if counts.get(k.id) else f"pick:{k.id}",
        )
        for k in shown
    ]
    here = parent.id if parent is not None else None
    if start > 0:
        options.append(Option("‹ Trang trước", f"page:{here or 0}:{page - 1}"))
    if start + PAGE < len(kids):
        options.append(Option("Trang sau ›", f"page:{here or 0}:{page + 1}"))
    if parent is not None:
        options.append(
            Option(_label(ctx.t("register.unit_pick_this", unit=parent.name)), f"pick:{parent.id}")
        )
        if parent.parent_id is not None:
            options.append(Option(ctx.t("common.back"), f"open:{parent.parent_id}"))
    at_top = parent_id is None
    if intro is not None:  # kept for when the list is offered again (a mistake, "back")
        ctx.data["pick_intro"] = intro
    elif at_top:
        intro = ctx.data.get("pick_intro")
    text = intro or (
        ctx.t("register.unit_level", unit=parent.name)
        if parent is not None and not at_top
        else ctx.t("register.ask_unit")
    )
    ctx.ask(text, options)


def handle(ctx: Context) -> Unit | None:
    """Interpret the answer to `offer`: a unit when one was chosen, else ask again and None."""
    choice = ctx.choice
    if choice is not None:
        kind, _, rest = choice.partition(":")
        if kind == "pick":
            unit = ctx.session.get(Unit, int(rest))
            if unit is not None:
                return unit
        elif kind == "open":
            offer(ctx, int(rest) or None)
            return None
        elif kind == "page":
            parent, _, page = rest.partition(":")
            offer(ctx, int(parent) or None, int(page))
            return None
        offer(ctx, None)
        return None
    query = ctx.text
    if not query:
        ctx.say("register.unit_need_choice")
        offer(ctx, None)
        return None
    coded = units.by_code(ctx.session, query) if len(query.split()) == 1 else None
    if coded is not None:  # the unit's code, as an invitation gives it
        return coded
    found = units.search(ctx.session, query[:100])
    if not found:
        if units.children(ctx.session, None):  # a tree to walk instead (else `offer` says so)
            ctx.say("register.unit_search_none", query=query[:100])
        offer(ctx, None)
        return None
    options = [Option(_label(units.full_name(ctx.session, u)), f"pick:{u.id}") for u in found]
    options.append(Option(ctx.t("common.back"), "open:0"))
    ctx.ask(ctx.t("register.unit_search_results", query=query[:100]), options)
    return None
