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

from bot import charts
from bot.flow import Context, Router
from bot.messages import Option, to_plain
from bot.models import RoleName, Unit
from bot.services import pledges, stats, units
from bot.services.stats import StatsTree, UnitFigures
from bot.timefmt import fmt_date, fmt_datetime
from handlers.pledge import deadline_text
from handlers.scopes import View, views

logger = logging.getLogger(__name__)

router = Router("stats")

PICK = "pick"
VIEW = "view"

PAGE = 8  # child units per message: keeps it well under Telegram's 4,096 characters
NAME_CHARS = 60  # unit names in the text are cut to this
LABEL_CHARS = 32  # unit names on buttons
TRAIL_CHARS = 30  # each name in the "you are here" line
BAR_CELLS = 10
SNAPSHOT_SECONDS = 120  # how long the buttons reuse the figures of the last /thongke
SNAPSHOTS_KEPT = 16


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


# --- formatting ---------------------------------------------------------------------------------


def _n(value: int) -> str:
    """1234567 -> '1.234.567'."""
    return f"{value:,}".replace(",", ".")


def _pct(value: float | None) -> str:
    """66.66 -> '66,7%', 50.0 -> '50%', None -> '—'."""
    if value is None:
        return "—"
    text = f"{value:.1f}".replace(".", ",")
    return (text[:-2] if text.endswith(",0") else text) + "%"


def _bar(value: float | None) -> str:
    cells = max(0, min(BAR_CELLS, round((value or 0) * BAR_CELLS / 100)))
    return "█" * cells + "░" * (BAR_CELLS - cells)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _name(ctx: Context, figures: UnitFigures) -> str:
    return figures.name if figures.unit_id is not None else ctx.t("stats.all_units")


def _values(f: UnitFigures) -> dict[str, str]:
    """Every figure of a unit, formatted: each text takes the ones it names."""
    return {
        "members": _n(f.members),
        "party": _n(f.party_members),
        "submitted": _n(f.submitted),
        "pct": _pct(f.completion_pct),
        "bar": _bar(f.completion_pct),
        "on_time": _n(f.on_time),
        "late": _n(f.late),
        "missing": _n(f.not_submitted),
        "approved": _n(f.approved),
        "waiting": _n(f.waiting),
        "returned": _n(f.returned),
        "takers": _n(f.quiz_takers),
        "passed": _n(f.quiz_passed),
        "rate": _pct(f.pass_rate_pct),
        "avg": _pct(f.avg_score_pct),
        "studied": _n(f.studied),
        "checked_in": _n(f.checked_in),
        "studied_any": _n(f.studied_any),
    }


def _total_block(ctx: Context, f: UnitFigures, unit_count: int) -> list[str]:
    v = _values(f)
    head = (
        ctx.t("stats.total_head", units=_n(unit_count))
        if unit_count
        else ctx.t("stats.total_head_leaf")
    )
    return [
        head,
        *(
            ctx.t(f"stats.{key}", **v)
            for key in ("members", "submitted", "bar", "timing", "review")
        ),
        ctx.t("stats.quiz" if f.quiz_takers else "stats.quiz_none", **v),
        ctx.t("stats.studied", **v),
        ctx.t("stats.checked_in", **v),
    ]


def _child_block(ctx: Context, head: str, f: UnitFigures) -> str:
    v = _values(f)
    lines = [head, *(ctx.t(f"stats.child_{key}", **v) for key in ("submitted", "timing", "review"))]
    lines.append(ctx.t("stats.child_quiz" if f.quiz_takers else "stats.child_quiz_none", **v))
    return "\n".join(lines)


def _ranked(children: list[UnitFigures]) -> list[UnitFigures]:
    """Child units with members, the lowest completion first (they need attention)."""
    return sorted(
        (c for c in children if c.members),
        key=lambda c: (c.completion_pct or 0.0, c.name.casefold(), c.code),
    )


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
    lines = [ctx.t("stats.head", year=view.campaign.year, unit=_cut(name, NAME_CHARS * 2))]
    if unit is not None:
        chain = units.ancestors(ctx.session, unit)
        trail = [_cut(a.name, TRAIL_CHARS) for a in chain if view.covers(a) and a.id != unit.id]
        if view.top is None:
            trail.insert(0, ctx.t("stats.all_units"))
        lines.append(ctx.t("stats.trail", trail=" › ".join(trail)))
    lines.append(deadline_text(ctx, view.rule))
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
    name = _name(ctx, here)
    children = tree.children(at)
    ranked = _ranked(children)
    pages = max(1, math.ceil(len(ranked) / PAGE))
    page = max(0, min(page, pages - 1))
    first = page * PAGE
    shown = list(enumerate(ranked[first : first + PAGE], start=first + 1))

    blocks = [_header(ctx, view, snapshot, unit, name)]
    if not here.members:
        blocks.append(ctx.t("stats.no_members", unit=_cut(name, NAME_CHARS)))
    else:
        blocks.append("\n".join(_total_block(ctx, here, len(children))))
    if ranked:
        head = "stats.children_page" if pages > 1 else "stats.children_head"
        blocks.append(ctx.t(head, page=page + 1, pages=pages))
        own = tree.own(at)
        if page == 0 and own is not None and own.members:
            title = ctx.t("stats.own_name", unit=_cut(name, NAME_CHARS))
            blocks.append(_child_block(ctx, title, own))
        for n, child in shown:
            title = ctx.t("stats.child_name", n=n, unit=_cut(child.name, NAME_CHARS))
            blocks.append(_child_block(ctx, title, child))
        if len(ranked) > first + PAGE:
            blocks.append(ctx.t("stats.more", count=_n(len(ranked) - first - PAGE)))
    if here.members and len(children) > len(ranked):
        blocks.append(ctx.t("stats.empty_units", count=_n(len(children) - len(ranked))))

    options = [
        Option(
            to_plain(ctx.t("stats.open", n=n, unit=_cut(child.name, LABEL_CHARS))),
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
        up = _cut(_name(ctx, parent), LABEL_CHARS)
        options.append(Option(to_plain(ctx.t("stats.up", unit=up)), "up"))
    if ranked:
        options.append(Option(ctx.t("stats.chart"), "chart"))
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
    ranked = _ranked(tree.children(unit.id if unit else None))
    if not ranked:
        ctx.say("stats.chart_none")
        return
    tz = ctx.settings.tz
    name = _name(ctx, here)
    dates = {"deadline": fmt_date(pledges.last_day(view.rule)), "today": fmt_date(ctx.now, tz)}
    bars = [
        charts.Bar(
            child.name,
            child.completion_pct or 0.0,
            to_plain(
                ctx.t(
                    "stats.chart_bar",
                    pct=_pct(child.completion_pct),
                    submitted=_n(child.submitted),
                    members=_n(child.members),
                )
            ),
        )
        for child in ranked[: charts.MAX_BARS]
    ]
    rest = ranked[charts.MAX_BARS :]
    note = ""
    if rest:
        note = ctx.t("stats.chart_rest", count=_n(len(rest)), pct=_pct(rest[0].completion_pct))
    png = charts.completion_chart(
        title=to_plain(ctx.t("stats.chart_title", unit=name)),
        subtitle=to_plain(ctx.t("stats.chart_dates", **dates)),
        bars=bars,
        axis_label=to_plain(ctx.t("stats.chart_axis")),
        reference=(
            here.completion_pct or 0.0,
            to_plain(ctx.t("stats.chart_overall", pct=_pct(here.completion_pct))),
        ),
        note=to_plain(note),
    )
    code = here.code.lower() or "tat-ca"
    caption = ctx.t("stats.chart_caption", unit=_cut(name, NAME_CHARS), **dates)
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
        ctx.say("stats.no_campaign")
        return
    code = ctx.args.strip()
    if code:
        unit = units.by_code(ctx.session, code)
        if unit is None:
            ctx.say("stats.unknown_unit", code=_cut(code, 50))
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
            _cut(v.top.name if v.top else ctx.t("stats.all_units"), LABEL_CHARS * 2),
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
    else:
        ctx.say("stats.use_buttons")
