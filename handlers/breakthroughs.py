"""/dotpha: an officer keeps the breakthrough contents (nhiệm vụ trọng tâm, đột phá: Phụ lục 3)
and the pressing issues (vấn đề bức xúc, nổi cộm: Phụ lục 4) of a unit in their scope for the
plan's year: add, mark done, update the share of an issue solved, remove. Members see their
unit's breakthrough task in /dangky and /toi (`member_lines`)."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, RoleName, Unit
from bot.models_year import Breakthrough, BreakthroughKind, BreakthroughStatus
from bot.services import audit, breakthroughs
from bot.services.breakthroughs import Invalid
from bot.services.plans import PlanRef
from handlers import scopepick
from handlers.scopes import flow_unit_and_plan, roots, unit_plan

router = Router("breakthrough")

UNIT = "unit"
HOME = "home"
ADD = "add"
ITEM = "item"
PERCENT = "percent"
DELETE = "delete"


def member_lines(ctx: Context, member: Member, campaign_id: str) -> list[str]:
    """The breakthrough task of the member's unit (or of the nearest unit above that chose
    one), so a pledge can refer to it."""
    unit = ctx.session.get(Unit, member.unit_id)
    if unit is None:
        return []
    found = breakthroughs.nearest_contents(ctx.session, unit=unit, campaign_id=campaign_id)
    if found is None:
        return []
    owner, items = found
    lines = [ctx.t("breakthrough.member_head", unit=owner.name)]
    lines += [ctx.t("breakthrough.member_line", text=b.text) for b in items[:5]]
    return lines


@router.command("dotpha", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    if not roots(ctx):
        ctx.say("conference.no_units")
        return
    ctx.begin(router.name, UNIT)
    only = scopepick.single(ctx)
    if only is not None:
        _open(ctx, only)
        return
    scopepick.offer(ctx, ctx.t("breakthrough.ask_unit"))


@router.step(UNIT)
def on_unit(ctx: Context) -> None:
    unit = scopepick.handle(ctx)
    if unit is not None:
        _open(ctx, unit)


def _open(ctx: Context, unit: Unit) -> None:
    plan = unit_plan(ctx, unit.id or 0)
    if plan is None:
        ctx.finish()
        ctx.say("conference.no_plan", unit=unit.name)
        return
    ctx.begin(router.name, HOME, {"unit": unit.id, "plan": plan.id, "year": plan.year})
    _home(ctx)


def _items(ctx: Context, unit: Unit, plan: PlanRef) -> list[Breakthrough]:
    assert unit.id is not None
    return breakthroughs.of_unit(ctx.session, unit_id=unit.id, campaign_id=plan.id)


def _state(ctx: Context, item: Breakthrough) -> str:
    if item.kind == BreakthroughKind.CONTENT:
        done = item.status == BreakthroughStatus.DONE
        return ctx.t("breakthrough.content_done" if done else "breakthrough.content_ongoing")
    if item.status == BreakthroughStatus.DONE:
        return ctx.t("breakthrough.issue_done")
    return ctx.t("breakthrough.issue_ongoing", percent=item.solved_percent)


def _home(ctx: Context) -> None:
    loaded = flow_unit_and_plan(ctx)
    if loaded is None:
        return
    unit, plan = loaded
    items = _items(ctx, unit, plan)
    lines = [ctx.t("breakthrough.head", unit=unit.name, year=plan.year)]
    options: list[Option] = []
    for kind in (BreakthroughKind.CONTENT, BreakthroughKind.ISSUE):
        lines += ["", ctx.t(f"breakthrough.section_{kind.value}")]
        mine = [(n, b) for n, b in enumerate(items, 1) if b.kind == kind]
        if not mine:
            lines.append(ctx.t(f"breakthrough.none_{kind.value}"))
        for n, item in mine:
            lines.append(ctx.t("breakthrough.line", n=n, text=item.text, state=_state(ctx, item)))
            options.append(Option(ctx.t("breakthrough.edit_item", n=n), f"i:{item.id}"))
    options = [
        Option(ctx.t("breakthrough.add_content"), "add:content"),
        Option(ctx.t("breakthrough.add_issue"), "add:issue"),
        *options[:20],
        Option(ctx.t("common.done"), "done"),
    ]
    ctx.goto(HOME)
    ctx.ask("\n".join(lines), options, columns=2)


def _item(ctx: Context, unit: Unit, plan: PlanRef, raw: object) -> Breakthrough | None:
    """An item of this unit and plan (a button may be old, or forged)."""
    text = str(raw or "")
    item = ctx.session.get(Breakthrough, int(text)) if text.isdigit() else None
    if item is None or item.unit_id != unit.id or item.campaign_id != plan.id:
        return None
    return item


@router.step(HOME)
def on_home(ctx: Context) -> None:
    loaded = flow_unit_and_plan(ctx)
    if loaded is None:
        return
    unit, plan = loaded
    choice = ctx.choice or ""
    if choice == "done":
        ctx.finish()
        ctx.say("breakthrough.closed")
        return
    if choice in ("add:content", "add:issue"):
        ctx.data["kind"] = choice.removeprefix("add:")
        _ask_text(ctx)
        return
    item = _item(ctx, unit, plan, choice.removeprefix("i:")) if choice.startswith("i:") else None
    if item is not None:
        _ask_item(ctx, item)
        return
    ctx.say("admin.need_choice")
    _home(ctx)


def _ask_text(ctx: Context) -> None:
    ctx.goto(ADD)
    key = f"breakthrough.ask_{ctx.data.get('kind')}"
    ctx.ask(
        ctx.t(key, low=breakthroughs.TEXT_MIN, high=breakthroughs.TEXT_MAX),
        [Option(ctx.t("review.comment_back"), "back")],
    )


@router.step(ADD)
def on_add(ctx: Context) -> None:
    loaded = flow_unit_and_plan(ctx)
    if loaded is None:
        return
    unit, plan = loaded
    if ctx.choice == "back":
        _home(ctx)
        return
    assert unit.id is not None
    try:
        item = breakthroughs.add(
            ctx.session,
            unit_id=unit.id,
            plan=plan,
            kind=str(ctx.data.get("kind")),
            text=ctx.text if ctx.choice is None else "",
            by=ctx.actor.ref,
            now=ctx.now,
        )
    except Invalid as exc:
        limits = {"low": breakthroughs.TEXT_MIN, "high": breakthroughs.TEXT_MAX}
        ctx.say(
            f"breakthrough.{exc.key}",
            length=len(ctx.text),
            limit=breakthroughs.MAX_PER_UNIT,
            **limits,
        )
        if exc.key == "too_many":
            _home(ctx)
        else:
            _ask_text(ctx)
        return
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="breakthrough_add",
        unit=unit.id,
        breakthrough=item.id,
    )
    ctx.say("breakthrough.added")
    _home(ctx)


def _ask_item(ctx: Context, item: Breakthrough) -> None:
    ctx.data["item"] = item.id
    ctx.goto(ITEM)
    if item.kind == BreakthroughKind.CONTENT:
        options = [
            Option(ctx.t("breakthrough.mark_content_done"), "done"),
            Option(ctx.t("breakthrough.mark_content_ongoing"), "ongoing"),
        ]
    else:
        options = [
            Option(ctx.t("breakthrough.mark_issue_done"), "done"),
            Option(ctx.t("breakthrough.mark_issue_percent"), "percent"),
        ]
    options += [
        Option(ctx.t("breakthrough.delete"), "delete"),
        Option(ctx.t("review.comment_back"), "back"),
    ]
    ctx.ask(ctx.t("breakthrough.item", text=item.text, state=_state(ctx, item)), options)


def _current(ctx: Context) -> tuple[Unit, Breakthrough] | None:
    loaded = flow_unit_and_plan(ctx)
    if loaded is None:
        return None
    unit, plan = loaded
    item = _item(ctx, unit, plan, ctx.data.get("item"))
    if item is None:
        ctx.say("breakthrough.gone")
        _home(ctx)
        return None
    return unit, item


def _progress(ctx: Context, item: Breakthrough, *, done: bool, percent: int | None) -> None:
    breakthroughs.set_progress(ctx.session, item, done=done, percent=percent, now=ctx.now)
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="breakthrough_update",
        unit=item.unit_id,
        breakthrough=item.id,
        percent=item.solved_percent,
    )
    ctx.say("breakthrough.updated")
    _home(ctx)


@router.step(ITEM)
def on_item(ctx: Context) -> None:
    current = _current(ctx)
    if current is None:
        return
    _unit, item = current
    if ctx.choice == "back":
        _home(ctx)
    elif ctx.choice in ("done", "ongoing"):
        _progress(ctx, item, done=ctx.choice == "done", percent=None)
    elif ctx.choice == "percent" and item.kind == BreakthroughKind.ISSUE:
        ctx.goto(PERCENT)
        ctx.ask(
            ctx.t("breakthrough.ask_percent", percent=item.solved_percent),
            [Option(ctx.t("review.comment_back"), "back")],
            typed_numbers=False,
        )
    elif ctx.choice == "delete":
        _ask_delete(ctx, item)
    else:
        ctx.say("admin.need_choice")
        _ask_item(ctx, item)


@router.step(PERCENT)
def on_percent(ctx: Context) -> None:
    current = _current(ctx)
    if current is None:
        return
    _unit, item = current
    if ctx.choice == "back":
        _ask_item(ctx, item)
        return
    try:
        percent = breakthroughs.parse_percent(ctx.text if ctx.choice is None else "")
    except Invalid as exc:
        ctx.say(f"breakthrough.{exc.key}")
        return
    _progress(ctx, item, done=False, percent=percent)


def _ask_delete(ctx: Context, item: Breakthrough) -> None:
    ctx.goto(DELETE)
    ctx.ask(
        ctx.t("breakthrough.ask_delete", text=item.text),
        [
            Option(ctx.t("breakthrough.delete_yes"), "yes", exact=True),
            Option(ctx.t("review.comment_back"), "back"),
        ],
    )


@router.step(DELETE)
def on_delete(ctx: Context) -> None:
    current = _current(ctx)
    if current is None:
        return
    _unit, item = current
    if ctx.choice == "back":
        _ask_item(ctx, item)
        return
    if ctx.choice != "yes":
        ctx.say("admin.need_choice")
        _ask_delete(ctx, item)
        return
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="breakthrough_delete",
        unit=item.unit_id,
        breakthrough=item.id,
    )
    breakthroughs.remove(ctx.session, item)
    ctx.say("breakthrough.deleted")
    _home(ctx)
