"""The good examples in /duyet: the officer of the unit concerned approves one as told, edits
the text and approves it, or declines it with a note the member receives. A decision applies
once: a double tap or a second officer finds it decided and changes nothing."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, Unit
from bot.models_year import ExampleStatus, GoodExample
from bot.services import audit, examples, units
from bot.services.examples import Invalid
from handlers import review

router = Router("review_example")

CARD = "card"
EDIT = "edit"
NOTE = "note"


def _may_review(ctx: Context, example: GoodExample) -> Unit | None:
    """The example's unit, if the caller may decide on it (in scope, not told by them)."""
    if example.status != ExampleStatus.SUBMITTED:
        return None
    me = ctx.actor.member.id if ctx.actor.member is not None else None
    if me is not None and example.submitted_by == me:
        return None
    unit = ctx.session.get(Unit, example.unit_id)
    return unit if unit is not None and ctx.actor.can_manage(unit) else None


def card(ctx: Context, example: GoodExample, skipped: list[str]) -> bool:
    """Show one example with its choices; False if the caller may not decide on it."""
    unit = _may_review(ctx, example)
    if unit is None:
        return False
    teller = ctx.session.get(Member, example.submitted_by) if example.submitted_by else None
    text = ctx.t(
        "review_example.card",
        person=example.person,
        unit=units.full_name(ctx.session, unit),
        text=examples.shown_text(example),
        teller=(teller.full_name if teller is not None else None) or "—",
        consent=ctx.t(
            "review_example.consent_yes" if example.consent else "review_example.consent_no"
        ),
    )
    if example.photo:
        ctx.photo(example.photo, f"guong-tot-{example.id}.jpg")
    ctx.say_html(text)
    ctx.begin(router.name, CARD, {"example": example.id, "skipped": skipped})
    ctx.ask(
        ctx.t("review_example.ask"),
        [
            Option(ctx.t("review_example.approve"), "approve"),
            Option(ctx.t("review_example.edit"), "edit"),
            Option(ctx.t("review_example.decline"), "decline"),
            Option(ctx.t("review.skip"), "skip"),
            Option(ctx.t("review.stop"), "stop"),
        ],
        columns=2,
    )
    return True


def _current(ctx: Context) -> GoodExample | None:
    example = ctx.session.get(GoodExample, int(ctx.data.get("example") or 0))
    if example is None or _may_review(ctx, example) is None:
        return None
    return example


def _skipped(ctx: Context) -> list[str]:
    return list(ctx.data.get("skipped") or [])


def _gone(ctx: Context) -> None:
    ctx.say("review_example.gone")
    review.show_next(ctx, _skipped(ctx))


@router.step(CARD)
def on_card(ctx: Context) -> None:
    if ctx.choice == "stop":
        ctx.finish()
        ctx.say("review.stopped")
        return
    example = _current(ctx)
    if example is None:
        _gone(ctx)
        return
    skipped = _skipped(ctx)
    if ctx.choice == "skip":
        review.show_next(ctx, [*skipped, f"example:{example.id}"])
    elif ctx.choice == "approve":
        _decide(ctx, example, approve=True, edited=None, note=None)
    elif ctx.choice == "edit":
        ctx.goto(EDIT)
        ctx.ask(
            ctx.t("review_example.ask_edit", low=examples.TEXT_MIN, high=examples.TEXT_MAX),
            [Option(ctx.t("review.comment_back"), "back")],
        )
    elif ctx.choice == "decline":
        ctx.goto(NOTE)
        ctx.ask(ctx.t("review_example.ask_note"), [Option(ctx.t("review.comment_back"), "back")])
    else:
        ctx.say("admin.need_choice")
        card(ctx, example, skipped)


@router.step(EDIT)
def on_edit(ctx: Context) -> None:
    example = _current(ctx)
    if example is None:
        _gone(ctx)
        return
    if ctx.choice == "back":
        card(ctx, example, _skipped(ctx))
        return
    try:
        edited = examples.clean(ctx.text, examples.TEXT_MIN, examples.TEXT_MAX, lines=True)
    except Invalid as exc:
        ctx.say(
            f"review_example.text_{exc.key}",
            length=len(ctx.text),
            low=examples.TEXT_MIN,
            high=examples.TEXT_MAX,
        )
        return
    _decide(ctx, example, approve=True, edited=edited, note=None)


@router.step(NOTE)
def on_note(ctx: Context) -> None:
    example = _current(ctx)
    if example is None:
        _gone(ctx)
        return
    if ctx.choice == "back":
        card(ctx, example, _skipped(ctx))
        return
    try:
        note = examples.clean(ctx.text, examples.NOTE_MIN, examples.NOTE_MAX)
    except Invalid as exc:
        ctx.say(f"review_example.note_{exc.key}", length=len(ctx.text), high=examples.NOTE_MAX)
        return
    _decide(ctx, example, approve=False, edited=None, note=note)


def _decide(
    ctx: Context, example: GoodExample, *, approve: bool, edited: str | None, note: str | None
) -> None:
    assert example.id is not None
    done = examples.decide(
        ctx.session,
        example_id=example.id,
        approve=approve,
        edited_text=edited,
        note=note,
        reviewer=ctx.actor.ref,
        now=ctx.now,
    )
    if not done:
        ctx.say("review_example.changed")
        review.show_next(ctx, _skipped(ctx))
        return
    action = "example_approve" if approve else "example_decline"
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action=action,
        example=example.id,
        unit=example.unit_id,
    )
    ctx.say(f"review_example.{'approved' if approve else 'declined'}", person=example.person)
    if example.submitted_by is not None:
        key = "review_example.notify_approved" if approve else "review_example.notify_declined"
        ctx.notify(example.submitted_by, ctx.t(key, person=example.person, note=note or ""))
    review.show_next(ctx, _skipped(ctx))
