"""Good models and effective ways of working ("mô hình hay, cách làm hiệu quả") an officer records
for a unit of their scope in the plan's year, from /guongtot: name, how it works, results,
whether it is new (Phụ lục 5, with the recognition it earned) or replicated from an earlier
year (Phụ lục 6). The list of the year's models, with removal of a mistaken one."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Unit
from bot.models_year import GoodModel
from bot.services import audit, examples, units
from bot.services.examples import Invalid, ModelDraft
from handlers import scopepick
from handlers.scopes import flow_unit_and_plan, paths, roots, unit_plan

router = Router("goodmodel")

HOME = "home"
UNIT = "unit"
NAME = "name"
HOW = "how"
RESULTS = "results"
KIND = "kind"
RECOGNITION = "recognition"
CONFIRM = "confirm"
DELETE = "delete"

LISTED = 15
_LIMITS = {
    NAME: (examples.NAME_MIN, examples.NAME_MAX, False),
    HOW: (examples.DETAIL_MIN, examples.DETAIL_MAX, True),
    RESULTS: (examples.DETAIL_MIN, examples.DETAIL_MAX, True),
}


def _recorded(ctx: Context) -> list[tuple[GoodModel, Unit]]:
    found: list[tuple[GoodModel, Unit]] = []
    for plan_id in sorted({p.id for u in roots(ctx) if (p := unit_plan(ctx, u.id or 0))}):
        found += examples.models_in_scope(ctx.session, campaign_id=plan_id, paths=paths(ctx))
    return found[-LISTED:]


def begin(ctx: Context) -> None:
    """The year's models of the officer's units, then: record one, or remove one."""
    found = _recorded(ctx)
    lines = [ctx.t("models.head", count=len(found))]
    options = [Option(ctx.t("models.new"), "new")]
    for n, (model, unit) in enumerate(found, 1):
        kind = ctx.t("models.kind_replicated" if model.replicated else "models.kind_new")
        lines.append(ctx.t("models.line", n=n, name=model.name, unit=unit.name, kind=kind))
        options.append(Option(ctx.t("models.delete", n=n), f"d:{model.id}"))
    if not found:
        lines.append(ctx.t("models.none"))
    options.append(Option(ctx.t("common.done"), "done"))
    ctx.begin(router.name, HOME)
    ctx.ask("\n".join(lines), options, columns=2)


@router.step(HOME)
def on_home(ctx: Context) -> None:
    choice = ctx.choice or ""
    if choice == "done":
        ctx.finish()
        ctx.say("models.closed")
    elif choice == "new":
        ctx.goto(UNIT)
        only = scopepick.single(ctx)
        if only is not None:
            _chosen(ctx, only)
        else:
            scopepick.offer(ctx, ctx.t("models.ask_unit"))
    elif choice.startswith("d:"):
        model = _model(ctx, choice.removeprefix("d:"))
        if model is None:
            ctx.say("admin.need_choice")
            return
        _ask_delete(ctx, model)
    else:
        ctx.say("admin.need_choice")


def _ask_delete(ctx: Context, model: GoodModel) -> None:
    ctx.data["model"] = model.id
    ctx.goto(DELETE)
    ctx.ask(
        ctx.t("models.ask_delete", name=model.name),
        [
            Option(ctx.t("models.delete_yes"), "yes", exact=True),
            Option(ctx.t("review.comment_back"), "back"),
        ],
    )


def _model(ctx: Context, raw: object) -> GoodModel | None:
    """A model of a unit in the caller's scope (a button may be old, or forged)."""
    text = str(raw or "")
    model = ctx.session.get(GoodModel, int(text)) if text.isdigit() else None
    unit = ctx.session.get(Unit, model.unit_id) if model is not None else None
    return model if unit is not None and ctx.actor.can_manage(unit) else None


@router.step(DELETE)
def on_delete(ctx: Context) -> None:
    model = _model(ctx, ctx.data.get("model"))
    if model is None:
        ctx.say("models.gone")
        begin(ctx)
        return
    if ctx.choice == "back":
        begin(ctx)
        return
    if ctx.choice != "yes":
        ctx.say("admin.need_choice")
        _ask_delete(ctx, model)
        return
    audit.record(
        ctx.session, actor=ctx.actor.ref, action="model_delete", model=model.id, unit=model.unit_id
    )
    ctx.session.delete(model)
    ctx.session.flush()
    ctx.say("models.deleted")
    begin(ctx)


@router.step(UNIT)
def on_unit(ctx: Context) -> None:
    unit = scopepick.handle(ctx)
    if unit is not None:
        _chosen(ctx, unit)


def _chosen(ctx: Context, unit: Unit) -> None:
    assert unit.id is not None
    plan = unit_plan(ctx, unit.id)
    if plan is None:
        ctx.finish()
        ctx.say("conference.no_plan", unit=unit.name)
        return
    ctx.data.update(unit=unit.id, plan=plan.id)
    _ask(ctx, NAME)


def _ask(ctx: Context, step: str) -> None:
    ctx.goto(step)
    low, high, _ = _LIMITS[step]
    ctx.say(f"models.ask_{step}", low=low, high=high)


def _typed(ctx: Context, step: str) -> str | None:
    low, high, lines = _LIMITS[step]
    try:
        return examples.clean(
            ctx.incoming.text or "" if ctx.choice is None else "", low, high, lines=lines
        )
    except Invalid as exc:
        ctx.say(f"models.text_{exc.key}", length=len(ctx.text), low=low, high=high)
        return None


@router.step(NAME)
def on_name(ctx: Context) -> None:
    value = _typed(ctx, NAME)
    if value is not None:
        ctx.data["name"] = value
        _ask(ctx, HOW)


@router.step(HOW)
def on_how(ctx: Context) -> None:
    value = _typed(ctx, HOW)
    if value is not None:
        ctx.data["how"] = value
        _ask(ctx, RESULTS)


@router.step(RESULTS)
def on_results(ctx: Context) -> None:
    value = _typed(ctx, RESULTS)
    if value is not None:
        ctx.data["results"] = value
        _ask_kind(ctx)


def _ask_kind(ctx: Context) -> None:
    ctx.goto(KIND)
    ctx.ask(
        ctx.t("models.ask_kind"),
        [
            Option(ctx.t("models.kind_new"), "new"),
            Option(ctx.t("models.kind_replicated"), "replicated"),
        ],
    )


@router.step(KIND)
def on_kind(ctx: Context) -> None:
    if ctx.choice not in ("new", "replicated"):
        ctx.say("admin.need_choice")
        _ask_kind(ctx)
        return
    ctx.data["replicated"] = ctx.choice == "replicated"
    ctx.data.pop("recognition", None)
    if ctx.choice == "replicated":
        _confirm(ctx)
        return
    ctx.goto(RECOGNITION)
    ctx.ask(ctx.t("models.ask_recognition"), [Option(ctx.t("models.no_recognition"), "none")])


@router.step(RECOGNITION)
def on_recognition(ctx: Context) -> None:
    if ctx.choice != "none":
        try:
            typed = ctx.text if ctx.choice is None else ""
            ctx.data["recognition"] = examples.clean(typed, 2, examples.RECOGNITION_MAX)
        except Invalid as exc:
            ctx.say(
                f"models.text_{exc.key}", length=len(ctx.text), low=2, high=examples.RECOGNITION_MAX
            )
            return
    _confirm(ctx)


def _confirm(ctx: Context) -> None:
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    ctx.goto(CONFIRM)
    kind = "models.kind_replicated" if ctx.data.get("replicated") else "models.kind_new"
    ctx.ask(
        ctx.t(
            "models.summary",
            unit=units.full_name(ctx.session, unit) if unit else "—",
            name=ctx.data.get("name", ""),
            how=ctx.data.get("how", ""),
            results=ctx.data.get("results", ""),
            kind=ctx.t(kind),
            recognition=ctx.data.get("recognition") or "—",
        ),
        [
            Option(ctx.t("models.save"), "save", exact=True),
            Option(ctx.t("conference.drop"), "drop"),
        ],
    )


@router.step(CONFIRM)
def on_confirm(ctx: Context) -> None:
    if ctx.choice == "drop":
        ctx.finish()
        ctx.say("models.dropped")
        return
    if ctx.choice != "save":
        ctx.say("admin.need_choice")
        _confirm(ctx)
        return
    loaded = flow_unit_and_plan(ctx)
    if loaded is None:
        return
    unit, plan = loaded
    assert unit.id is not None
    draft = ModelDraft(
        unit_id=unit.id,
        name=str(ctx.data.get("name", "")),
        how=str(ctx.data.get("how", "")),
        results=str(ctx.data.get("results", "")),
        replicated=bool(ctx.data.get("replicated")),
        recognition=ctx.data.get("recognition"),
    )
    model = examples.record_model(
        ctx.session, draft=draft, plan=plan, by=ctx.actor.ref, now=ctx.now
    )
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="model_record",
        model=model.id,
        unit=unit.id,
    )
    ctx.finish()
    ctx.say("models.saved", name=model.name, annex=6 if model.replicated else 5)
