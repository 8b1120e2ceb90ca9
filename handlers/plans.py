"""/kehoach: the yearly plans (kế hoạch) of my trees, by year; next year's made by copying the
last one with every date moved a year and each field confirmed (handlers/planform.py); a plan
that has not started edited; a plan ended. For admins and officers of a whole tree. A tree with
no plan at all goes straight to making one: this year's, or (from 1/11) the year chosen."""

from __future__ import annotations

from datetime import date

from bot.flow import Context
from bot.messages import Option
from bot.models import RoleName, Unit
from bot.services import plandrafts, plans
from bot.services.permissions import Actor, plan_roots
from bot.services.plans import PlanError, StoredPlan
from bot.texts import Raw
from bot.timefmt import fmt_date
from handlers.planform import begin_form, old_topic, router, summary_lines, today, topic_years

ROOT = "root"
TREE = "tree"
FIRST = "first"
END = "end"

SHOWN = 3  # the newest plans get buttons (view, edit, end); older ones are listed only
NEXT_YEAR_FROM_MONTH = 11


def _makes_plans(actor: Actor) -> bool:
    return actor.makes_plans


@router.command("kehoach", role=RoleName.OFFICER, allowed=_makes_plans, refusal="plans.forbidden")
def begin(ctx: Context) -> None:
    """My trees' plans; with several trees, which one first."""
    roots = plan_roots(ctx.session, ctx.actor)
    if not roots:
        ctx.say("plans.no_units")
        return
    if len(roots) == 1:
        _tree(ctx, roots[0])
        return
    ctx.begin(router.name, ROOT)
    options = [Option(r.name[:60], f"u:{r.id}") for r in sorted(roots, key=lambda u: u.name)]
    ctx.ask(ctx.t("plans.pick_root"), options)


def _root(ctx: Context, unit_id: object) -> Unit | None:
    """One of the caller's trees (checked again at every step)."""
    return next((r for r in plan_roots(ctx.session, ctx.actor) if r.id == unit_id), None)


def _step_root(ctx: Context) -> Unit | None:
    """The tree a step works on, checked again; None (the flow ended, the person told) when it is
    no longer theirs."""
    root = _root(ctx, ctx.data.get("root"))
    if root is None:
        ctx.finish()
        ctx.say("plans.not_yours")
    return root


@router.step(ROOT)
def on_root(ctx: Context) -> None:
    choice = ctx.choice or ""
    root = _root(ctx, int(choice[2:])) if choice.startswith("u:") and choice[2:].isdigit() else None
    if root is None:
        ctx.say("plans.need_choice")
        return
    _tree(ctx, root)


def years_to_make(mine: list[StoredPlan], day: date) -> list[int]:
    """This year's plan if missing; next year's once this year's exists or from 1/11."""
    have = {p.year for p in mine if p.ended_at is None}
    years = [] if day.year in have else [day.year]
    if day.year + 1 not in have and (day.year in have or day.month >= NEXT_YEAR_FROM_MONTH):
        years.append(day.year + 1)
    return years


def _status(ctx: Context, plan: StoredPlan, current_id: str | None, day: date) -> str:
    if plan.ended_at is not None:
        return ctx.t("plans.status_ended", day=fmt_date(plan.ended_at, ctx.settings.tz))
    if plan.id == current_id:
        return ctx.t("plans.status_current")
    if not plan.started(day):
        return ctx.t("plans.status_upcoming", day=fmt_date(plan.starts_on))
    return ctx.t("plans.status_past")


def _tree(ctx: Context, root: Unit) -> None:
    """The tree's plans by year, and what can be done with them."""
    day = today(ctx)
    mine = plans.of_root(ctx.session, root.code)
    years = years_to_make(mine, day)
    if not mine and len(years) == 1:  # a fresh deployment: straight to making its plan
        ctx.say("plans.first_plan", unit=root.name, year=years[0])
        _new(ctx, root, years[0])
        return
    if not mine and years:  # late in the year: this year's, or already next year's
        ctx.begin(router.name, FIRST, {"root": root.id})
        options = [Option(ctx.t("plans.make", year=y), f"new:{y}") for y in years]
        text = ctx.t("plans.first_pick", unit=root.name, year=day.year, next=day.year + 1)
        ctx.ask(text, options, typed_numbers=False)  # "2027" typed is a year, not option 2027
        return
    now_plan = plans.current(ctx.session, root.code, now=ctx.now, tz=ctx.settings.tz)
    current_id = now_plan.id if now_plan is not None and now_plan.root_unit == root.code else None
    lines = [ctx.t("plans.tree_head", unit=root.name)]
    for plan in mine:
        rule = plan.campaign.pledge
        lines.append(
            ctx.t(
                "plans.tree_line",
                year=plan.year,
                id=plan.id,
                topic=_topic(ctx, plan.campaign.topic),
                old=_old_mark(ctx, plan),
                deadline=fmt_date(rule.submit_before) if rule else "—",
                status=_status(ctx, plan, current_id, day),
            )
        )
    for year in years:
        lines.append(ctx.t("plans.tree_missing", year=year))
    options = [Option(ctx.t("plans.make", year=y), f"new:{y}") for y in years]
    for plan in [p for p in mine if p.ended_at is None][:SHOWN]:
        options.append(Option(ctx.t("plans.view", year=plan.year), f"view:{plan.id}"))
        if plan.editable(day):
            options.append(Option(ctx.t("plans.edit", year=plan.year), f"edit:{plan.id}"))
        options.append(Option(ctx.t("plans.end", year=plan.year), f"end:{plan.id}"))
    ctx.begin(router.name, TREE, {"root": root.id})
    ctx.ask("\n".join(lines), options)


def _topic(ctx: Context, topic_id: str) -> str:
    topic = ctx.catalog.topics.get(topic_id)
    return topic.short_title if topic is not None else topic_id


def _old_mark(ctx: Context, plan: StoredPlan) -> Raw:
    """The mark after a topic of earlier years, as the form and the summary show it."""
    topic_id = plan.campaign.topic
    if not old_topic(ctx, {"topic": topic_id, "year": plan.year}):
        return Raw("")
    return ctx.t.raw("plans.topic_old_mark", years=topic_years(ctx, topic_id))


def _new(ctx: Context, root: Unit, year: int) -> None:
    try:
        made, base = plandrafts.draft(ctx.session, ctx.catalog, root=root.code, year=year)
    except PlanError as exc:
        ctx.finish()
        ctx.say(exc.key, **exc.values)
        return
    if base is not None and base.root_unit == root.code:
        intro = ctx.t("plans.intro_copy", year=year, base=base.year)
    else:
        intro = ctx.t("plans.intro_presets", year=year)
    begin_form(ctx, plandrafts.to_form(made), mode="new", intro=intro, unit_name=root.name)


@router.step(TREE)
def on_tree(ctx: Context) -> None:
    root = _step_root(ctx)
    if root is None:
        return
    kind, _, arg = (ctx.choice or "").partition(":")
    mine = {p.id: p for p in plans.of_root(ctx.session, root.code)}
    plan = mine.get(arg)
    day = today(ctx)
    if kind == "new" and arg.isdigit() and int(arg) in years_to_make(list(mine.values()), day):
        _new(ctx, root, int(arg))
    elif kind == "view" and plan is not None:
        lines = [ctx.t("plans.view_head", year=plan.year, unit=root.name, id=plan.id)]
        lines += summary_lines(ctx, plandrafts.to_form(plan.campaign))
        ctx.say_html("\n".join(lines))
        _tree(ctx, root)
    elif kind == "edit" and plan is not None and plan.editable(day):
        intro = ctx.t("plans.intro_edit", year=plan.year)
        form = plandrafts.to_form(plan.campaign)
        begin_form(ctx, form, mode="edit", intro=intro, unit_name=root.name, version=plan.version)
    elif kind == "edit" and plan is not None:
        ctx.say("plans.errors.started", year=plan.year, day=fmt_date(plan.starts_on))
        _tree(ctx, root)
    elif kind == "end" and plan is not None and plan.ended_at is None:
        ctx.begin(router.name, END, {"root": root.id, "plan": plan.id})
        ctx.ask(
            ctx.t("plans.end_confirm", year=plan.year, unit=root.name),
            [
                Option(ctx.t("plans.end_yes"), "yes", exact=True),
                Option(ctx.t("plans.end_no"), "no"),
            ],
            columns=2,
        )
    else:
        ctx.say("plans.need_choice")
        _tree(ctx, root)


@router.step(FIRST)
def on_first(ctx: Context) -> None:
    """The year of a tree's first plan: a button, or the year typed."""
    root = _step_root(ctx)
    if root is None:
        return
    choice = ctx.choice or ""
    typed = choice.removeprefix("new:") if choice else ctx.text.strip()
    years = years_to_make(plans.of_root(ctx.session, root.code), today(ctx))
    if typed.isdigit() and int(typed) in years:
        _new(ctx, root, int(typed))
        return
    if choice or not typed.isdigit():
        ctx.say("plans.need_choice")
    else:
        ctx.say("plans.first_year", year=typed[:6], years=" hoặc ".join(map(str, years)))
    _tree(ctx, root)  # asks again, or (someone made a plan meanwhile) lists it


@router.step(END)
def on_end(ctx: Context) -> None:
    root = _step_root(ctx)
    if root is None:
        return
    if ctx.choice == "no":
        _tree(ctx, root)
        return
    if ctx.choice != "yes":
        ctx.say("plans.need_choice")
        return
    plan = plans.get(ctx.session, str(ctx.data.get("plan")))
    if plan is None or plan.root != root.code:
        ctx.finish()
        ctx.say("plans.not_yours")
        return
    try:
        plans.end(ctx.session, plan.id, by=ctx.actor.ref, now=ctx.now)
    except PlanError as exc:
        ctx.say(exc.key, **exc.values)
    else:
        ctx.say("plans.ended", year=plan.year, unit=root.name)
    _tree(ctx, root)
