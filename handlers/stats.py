"""/thongke: pledge, quiz and study figures by unit for an officer's subtree (admins: every unit),
with buttons to open a child unit and go back up, and a PNG chart of the completion rates.

The figures of the whole view are computed once per /thongke and kept briefly in memory, so the
buttons (open, up, pages, chart) answer at once; typing /thongke again always recomputes. Every
press checks the caller's scopes again: a stale or forged button never shows a unit outside them.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from bot.flow import Context, Router
from bot.messages import Option, to_plain
from bot.models import RoleName, Unit
from bot.numfmt import parse_count
from bot.services import pledges, stats, units
from bot.services.stats import StatsTree
from bot.textutil import fold
from bot.timefmt import fmt_date, fmt_datetime
from handlers.planhints import no_plan
from handlers.pledge import deadline_text
from handlers.scopes import View, views
from handlers.statstext import (
    child_block,
    cut,
    num,
    pct,
    rank_units,
    total_block,
    unit_name,
    values,
)

logger = logging.getLogger(__name__)

router = Router("stats", keep_place=False)

PICK = "pick"
VIEW = "view"
REAL = "real"

PAGE = 8  # child units per message: keeps it well under Telegram's 4,096 characters
NAME_CHARS = 60  # unit names in the text are cut to this
LABEL_CHARS = 32  # unit names on buttons
TRAIL_CHARS = 30  # each name in the "you are here" line
SNAPSHOT_SECONDS = 120  # how long the buttons reuse the figures of the last /thongke
SNAPSHOTS_KEPT = 16
MAX_REAL = 5_000_000  # members of one unit: more is a typing mistake


def _find(ctx: Context, key: object) -> View | None:
    return next((v for v in views(ctx) if v.key == key), None)


# --- figures kept for the buttons ---------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    view: str
    tree: StatsTree
    at: datetime  # when the figures were read (shown to the user)
    born: float  # time.monotonic() then


_snapshots: OrderedDict[str, _Snapshot] = OrderedDict()
_snapshots_lock = threading.Lock()


def _figures(ctx: Context, view: View, *, fresh: bool) -> tuple[str, _Snapshot]:
    """The figures of the view: those of this chat's last /thongke if recent, else read now."""
    token = str(ctx.data.get("snap") or "")
    if not fresh and token:
        with _snapshots_lock:
            kept = _snapshots.get(token)
        if kept and kept.view == view.key and time.monotonic() - kept.born < SNAPSHOT_SECONDS:
            return token, kept
    tree = stats.tree(ctx.session, view.campaign, view.top, now=ctx.now)
    snapshot = _Snapshot(view.key, tree, tree.as_of or ctx.now, time.monotonic())
    token = secrets.token_hex(8)
    with _snapshots_lock:
        _snapshots[token] = snapshot
        while len(_snapshots) > SNAPSHOTS_KEPT:
            _snapshots.popitem(last=False)
    return token, snapshot


# --- the report ---------------------------------------------------------------------------------


def _parent(view: View, unit: Unit | None) -> tuple[bool, int | None]:
    """Whether "up" is possible from here, and where to: None is the view's top."""
    if unit is None:
        return False, None
    if view.top is not None and unit.parent_id == view.top.id:
        return True, None
    return True, unit.parent_id


def _header(ctx: Context, view: View, snapshot: _Snapshot, unit: Unit | None, name: str) -> str:
    """Title, where the unit sits (below the view's top), the deadline, the time of the figures."""
    lines = [ctx.t("stats.head", year=view.campaign.year, unit=cut(name, NAME_CHARS * 2))]
    if unit is not None:
        chain = units.ancestors(ctx.session, unit)
        trail = [cut(a.name, TRAIL_CHARS) for a in chain if view.covers(a) and a.id != unit.id]
        if view.top is None:
            trail.insert(0, ctx.t("stats.all_units"))
        lines.append(ctx.t("stats.trail", trail=" › ".join(trail)))
    if view.current:
        lines.append(deadline_text(ctx, view.rule))
    else:  # last year's figures: no deadline to count down, and no plan for this year yet
        year = ctx.now.astimezone(ctx.settings.tz).year
        lines.append(ctx.t("stats.past_plan", year=year, plan_year=view.campaign.year))
        if ctx.actor.makes_plans:
            lines.append(ctx.t("plans.make_hint", year=year))
    lines.append(ctx.t("stats.as_of", at=fmt_datetime(snapshot.at, ctx.settings.tz)))
    return "\n".join(lines)


def _render(
    ctx: Context, view: View, snapshot: _Snapshot, unit: Unit | None, page: int
) -> tuple[str, list[Option], int]:
    """The text for one unit of the view (None: its top), its buttons, and the page shown."""
    tree = snapshot.tree
    at = unit.id if unit is not None else None
    here = tree.unit(at) if at is not None else tree.total
    assert here is not None
    name = unit_name(ctx, here)
    children = tree.children(at)
    ranked = rank_units(children)
    pages = max(1, math.ceil(len(ranked) / PAGE))
    page = max(0, min(page, pages - 1))
    first = page * PAGE
    shown = list(enumerate(ranked[first : first + PAGE], start=first + 1))

    blocks = [_header(ctx, view, snapshot, unit, name)]
    if not here.members:
        blocks.append(ctx.t("stats.no_members", unit=cut(name, NAME_CHARS)))
        if here.real_members is not None:
            blocks.append(ctx.t("stats.members_real", **values(here)))
    else:
        blocks.append("\n".join(total_block(ctx, here, len(children))))
    if ranked:
        head = "stats.children_page" if pages > 1 else "stats.children_head"
        blocks.append(ctx.t(head, page=page + 1, pages=pages))
        own = tree.own(at)
        if page == 0 and own is not None and own.members:
            title = ctx.t("stats.own_name", unit=cut(name, NAME_CHARS))
            blocks.append(child_block(ctx, title, own))
        for n, child in shown:
            title = ctx.t("stats.child_name", n=n, unit=cut(child.name, NAME_CHARS))
            blocks.append(child_block(ctx, title, child))
        if len(ranked) > first + PAGE:
            blocks.append(ctx.t("stats.more", count=num(len(ranked) - first - PAGE)))
    if here.members and len(children) > len(ranked):
        blocks.append(ctx.t("stats.empty_units", count=num(len(children) - len(ranked))))

    options = [
        Option(
            to_plain(ctx.t("stats.open", n=n, unit=cut(child.name, LABEL_CHARS))),
            f"open:{child.unit_id}",
        )
        for n, child in shown
    ]
    if page > 0:
        options.append(Option(ctx.t("stats.prev"), f"page:{page - 1}"))
    if page + 1 < pages:
        options.append(Option(ctx.t("stats.next"), f"page:{page + 1}"))
    can_go_up, parent_id = _parent(view, unit)
    parent = tree.unit(parent_id) if parent_id is not None else tree.total
    if can_go_up and parent is not None:
        up = cut(unit_name(ctx, parent), LABEL_CHARS)
        options.append(Option(to_plain(ctx.t("stats.up", unit=up)), "up"))
    if ranked:
        options.append(Option(ctx.t("stats.chart"), "chart"))
    shown_unit = unit or view.top
    if shown_unit is not None and ctx.actor.can_manage(shown_unit):
        options.append(Option(ctx.t("stats.real_button"), "real"))
    return "\n\n".join(blocks), options, page


def _resolve(ctx: Context, view: View, at: object) -> tuple[bool, Unit | None]:
    """The unit `at` names (None: the view's top), if the caller may see it."""
    if at is None:
        return True, None
    unit = ctx.session.get(Unit, int(str(at))) if str(at).isdigit() else None
    if unit is None or not view.covers(unit) or not ctx.actor.can_manage(unit):
        logger.info("stats: unit out of scope refused unit=%s actor=%s", at, ctx.actor.ref)
        return False, None
    if view.top is not None and unit.id == view.top.id:
        return True, None
    return True, unit


def _refuse(ctx: Context) -> None:
    ctx.finish()
    ctx.say("stats.out_of_scope")


def _show(ctx: Context, view: View, at: object, page: int = 0, *, fresh: bool = False) -> None:
    ok, unit = _resolve(ctx, view, at)
    if not ok:
        _refuse(ctx)
        return
    token, snapshot = _figures(ctx, view, fresh=fresh)
    if unit is not None and snapshot.tree.unit(unit.id or 0) is None:  # newer than the figures
        token, snapshot = _figures(ctx, view, fresh=True)
    text, options, page = _render(ctx, view, snapshot, unit, page)
    if not options:
        ctx.finish()
        ctx.say_html(text)
        return
    data = {"view": view.key, "at": unit.id if unit else None, "page": page, "snap": token}
    ctx.begin(router.name, VIEW, data)
    ctx.ask(text, options)


def _chart(ctx: Context, view: View) -> None:
    from bot import charts  # matplotlib: loaded when a chart is drawn

    ok, unit = _resolve(ctx, view, ctx.data.get("at"))
    if not ok:
        _refuse(ctx)
        return
    token, snapshot = _figures(ctx, view, fresh=False)
    tree = snapshot.tree
    here = tree.unit(unit.id or 0) if unit is not None else tree.total
    if here is None:
        ctx.say("stats.gone")
        return
    ranked = rank_units(tree.children(unit.id if unit else None))
    if not ranked:
        ctx.say("stats.chart_none")
        return
    tz = ctx.settings.tz
    name = unit_name(ctx, here)
    dates = {"deadline": fmt_date(pledges.last_day(view.rule)), "today": fmt_date(ctx.now, tz)}
    bars = [
        charts.Bar(
            child.name,
            child.rate_pct or 0.0,
            to_plain(
                ctx.t(
                    "stats.chart_bar",
                    pct=pct(child.rate_pct),
                    submitted=num(child.submitted),
                    members=num(child.real_members if child.real_members else child.members),
                )
            ),
        )
        for child in ranked[: charts.MAX_BARS]
    ]
    rest = ranked[charts.MAX_BARS :]
    note = ""
    if rest:
        note = ctx.t("stats.chart_rest", count=num(len(rest)), pct=pct(rest[0].rate_pct))
    png = charts.completion_chart(
        title=to_plain(ctx.t("stats.chart_title", unit=name)),
        subtitle=to_plain(ctx.t("stats.chart_dates", **dates)),
        bars=bars,
        axis_label=to_plain(ctx.t("stats.chart_axis")),
        reference=(
            here.rate_pct or 0.0,
            to_plain(ctx.t("stats.chart_overall", pct=pct(here.rate_pct))),
        ),
        note=to_plain(note),
    )
    code = here.code.lower() or "tat-ca"
    caption = ctx.t("stats.chart_caption", unit=cut(name, NAME_CHARS), **dates)
    ctx.photo(png, f"thong-ke-{code}.png", caption)
    _, options, page = _render(ctx, view, snapshot, unit, int(ctx.data.get("page") or 0))
    ctx.data.update(snap=token, page=page)
    ctx.ask(ctx.t("stats.after_chart"), options)


# --- commands and steps -------------------------------------------------------------------------


@router.command("thongke", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    """Totals, then each child unit; `/thongke MÃ_ĐƠN_VỊ` opens that unit directly."""
    found = views(ctx)
    if not found:
        no_plan(ctx, "stats.no_campaign")
        return
    code = ctx.args.strip()
    if code:
        unit = units.by_code(ctx.session, code)
        if unit is None:
            ctx.say("stats.unknown_unit", code=cut(code, 50))
            return
        view = next((v for v in found if v.covers(unit)), None)
        if view is None:
            logger.info("stats: unit out of scope refused unit=%s actor=%s", unit.id, ctx.actor.ref)
            ctx.say("stats.out_of_scope")
            return
        _show(ctx, view, unit.id, fresh=True)
        return
    if len(found) == 1:
        _show(ctx, found[0], None, fresh=True)
        return
    ctx.begin(router.name, PICK, {})
    options = [
        Option(
            cut(v.top.name if v.top else ctx.t("stats.all_units"), LABEL_CHARS * 2),
            f"view:{v.key}",
        )
        for v in found[:20]
    ]
    ctx.ask(ctx.t("stats.pick_scope"), options)


@router.step(PICK)
def on_pick(ctx: Context) -> None:
    choice = ctx.choice or ""
    if not choice.startswith("view:"):
        ctx.say("stats.use_buttons")
        return
    view = _find(ctx, choice.removeprefix("view:"))
    if view is None:
        _refuse(ctx)
        return
    _show(ctx, view, None, fresh=True)


@router.step(VIEW)
def on_view(ctx: Context) -> None:
    view = _find(ctx, ctx.data.get("view"))
    if view is None:  # the caller's scopes changed since the buttons were sent
        _refuse(ctx)
        return
    kind, _, arg = (ctx.choice or "").partition(":")
    at = ctx.data.get("at")
    if kind == "open" and arg.isdigit():
        _show(ctx, view, int(arg))
    elif kind == "page" and arg.isdigit():
        _show(ctx, view, at, int(arg))
    elif kind == "up":
        ok, unit = _resolve(ctx, view, at)
        can_go_up, parent_id = _parent(view, unit)
        if not ok or not can_go_up:
            _refuse(ctx)
            return
        _show(ctx, view, parent_id)
    elif kind == "chart":
        _chart(ctx, view)
    elif kind == "real":
        _ask_real(ctx, view)
    else:
        ctx.say("stats.use_buttons")


# --- the real membership, typed by the unit's officer ---------------------------------------------


def _real_unit(ctx: Context, view: View) -> Unit | None:
    """The unit shown, if the caller looks after it (checked again at every step)."""
    ok, unit = _resolve(ctx, view, ctx.data.get("at"))
    shown = unit or view.top if ok else None
    return shown if shown is not None and ctx.actor.can_manage(shown) else None


def _ask_real(ctx: Context, view: View) -> None:
    unit = _real_unit(ctx, view)
    if unit is None:
        _refuse(ctx)
        return
    now = ctx.t("stats.real_unknown")
    if unit.members is not None:
        party = num(unit.party_members) if unit.party_members is not None else "—"
        now = ctx.t("stats.real_now", real=num(unit.members), party=party)
    ctx.goto(REAL)
    ctx.say("stats.real_ask", unit=unit.name, now=now)


def _typed_counts(text: str) -> tuple[int, int | None] | str:
    """'400' or '400 35' (members, party members), or the text key of the mistake."""
    parts = text.split()
    if not parts or len(parts) > 2:
        return "stats.real_format"
    counts = [parse_count(p) for p in parts]
    if any(c is None for c in counts):
        return "stats.real_format"
    members, party = counts[0], counts[1] if len(counts) == 2 else None
    assert members is not None
    if members > MAX_REAL:
        return "stats.real_too_big"
    if party is not None and party > members:
        return "stats.real_party_more"
    return members, party


@router.step(REAL)
def on_real(ctx: Context) -> None:
    """The real number of members (and party members) of the unit shown, or "xóa"."""
    view = _find(ctx, ctx.data.get("view"))
    unit = _real_unit(ctx, view) if view is not None else None
    if view is None or unit is None:
        _refuse(ctx)
        return
    text = ctx.text[:100]
    if fold(text) in ("xoa", "xoa so", "xoa so thuc te"):
        units.set_counts(ctx.session, unit=unit, members=None, party_members=None, by=ctx.actor.ref)
        ctx.say("stats.real_cleared", unit=unit.name)
        _show(ctx, view, ctx.data.get("at"), fresh=True)
        return
    typed = _typed_counts(text)
    if isinstance(typed, str):
        ctx.say(typed, limit=num(MAX_REAL))
        return
    members, party = typed
    figures = stats.tree(ctx.session, view.campaign, unit).total
    if members < figures.members:
        ctx.say("stats.real_below_bot", real=num(members), members=num(figures.members))
        return
    units.set_counts(ctx.session, unit=unit, members=members, party_members=party, by=ctx.actor.ref)
    party_text = num(party) if party is not None else "—"
    ctx.say("stats.real_saved", unit=unit.name, real=num(members), party=party_text)
    _show(ctx, view, ctx.data.get("at"), fresh=True)
