"""/duyet: officers review what waits in their units, oldest first: submitted pledges,
year-end self-assessments (confirmed as proposed, or with another rating and a reason) and good
examples members told about (handlers/review_examples.py). Limited to the officer's subtree
(admins: every tree); nobody reviews their own."""

from __future__ import annotations

from datetime import datetime

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, Pledge, RoleName, Unit
from bot.services import audit, examples, plans, pledges, units
from bot.services.members import group_key
from bot.textutil import one_line
from bot.timefmt import fmt_datetime
from handlers import member_docs, review_examples
from handlers.assessment import assessment_lines
from handlers.member_docs import rating_label
from handlers.pledge import render
from handlers.scopes import Scope, paths, scopes

router = Router("review")

CARD = "card"
COMMENT = "comment"
RATING = "rating"
REASON = "reason"

MAX_REASON_CHARS = 500


def _may_review(ctx: Context, pledge: Pledge) -> Member | None:
    """The pledge's member, if the caller may review it (in scope, not their own)."""
    member = ctx.session.get(Member, pledge.member_id)
    if member is None or member.deleted_at is not None:
        return None
    if ctx.actor.member is not None and member.id == ctx.actor.member.id:
        return None
    unit = ctx.session.get(Unit, member.unit_id)
    return member if unit is not None and ctx.actor.can_manage(unit) else None


def _me(ctx: Context) -> int | None:
    return ctx.actor.member.id if ctx.actor.member is not None else None


# --- /duyet -------------------------------------------------------------------------------------


def _review_campaigns(ctx: Context, found: list[Scope]) -> list[str]:
    """The plans whose pledges and self-assessments wait in /duyet: the current ones and last
    year's (self-assessments sent in December are confirmed in January)."""
    ids = {s.campaign.id for s in found}
    for scope in found:
        code = plans.root_code(ctx.session, scope.unit.id or 0)
        ids |= {c.id for c in plans.recent(ctx.session, code, now=ctx.now, tz=ctx.settings.tz)}
    return sorted(ids)


@router.command("duyet", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    """How many wait, then the first one."""
    found = scopes(ctx, figures=True)
    queue = _queue(ctx, found, skipped=[])
    told = examples.waiting(ctx.session, paths=paths(ctx), exclude_member=_me(ctx), limit=0)
    if not found and not told.count:
        ctx.say("review.no_campaign")
        return
    if not queue.pledges and not queue.assessments and not told.count:
        ctx.say("review.nothing")
        return
    ctx.say(
        "review.waiting",
        pledges=queue.pledges,
        assessments=queue.assessments,
        examples=told.count,
    )
    show_next(ctx, skipped=[])


def _queue(ctx: Context, found: list[Scope], skipped: list[str]) -> pledges.ReviewQueue:
    if not found:
        return pledges.ReviewQueue(0, 0, [])
    return pledges.to_review(
        ctx.session,
        campaign_ids=_review_campaigns(ctx, found),
        paths=None if ctx.actor.is_admin else [s.unit.path for s in found],
        exclude_member=_me(ctx),
        skipped=skipped,
    )


def show_next(ctx: Context, skipped: list[str]) -> None:
    """The oldest pledge, then self-assessment, then good example not put off; or the end."""
    for pledge, kind in _queue(ctx, scopes(ctx, figures=True), skipped).next:
        member = _may_review(ctx, pledge)
        if member is None:
            continue
        _card(ctx, pledge, member, kind, skipped)
        return
    put_off = [int(k.split(":")[1]) for k in skipped if k.startswith("example:")]
    told = examples.waiting(ctx.session, paths=paths(ctx), exclude_member=_me(ctx), skipped=put_off)
    for example in told.next:
        if review_examples.card(ctx, example, skipped):
            return
    ctx.finish()
    ctx.say("review.done" if not skipped else "review.done_skipped", skipped=len(skipped))


def _card(ctx: Context, pledge: Pledge, member: Member, kind: str, skipped: list[str]) -> None:
    tz = ctx.settings.tz
    unit = ctx.session.get(Unit, member.unit_id)
    head = ctx.t(
        "review.card_head",
        name=member.full_name or "",
        unit=units.full_name(ctx.session, unit) if unit else "—",
        group=ctx.t(group_key(member.group)),
    )
    if kind == "pledge":
        timing = ctx.t("pledge.late" if pledge.late else "pledge.on_time")
        when = ctx.t(
            "review.card_submitted",
            at=fmt_datetime(pledge.submitted_at, tz),
            timing=timing,
            revision=pledge.revision,
        )
        body = render(ctx, pledge.year, pledge.content or {}, member.group)
        ctx.say_html("\n".join([head, when, "", body]))
        options = [
            Option(ctx.t("review.approve"), "approve"),
            Option(ctx.t("review.return"), "return"),
        ]
        marker: int | str = pledge.revision
    else:
        rows = pledge.assessment or []
        lines = [
            head,
            ctx.t("review.card_assessment", at=fmt_datetime(pledge.assessment_submitted_at, tz)),
        ]
        lines += assessment_lines(ctx, rows)
        rating = rating_label(ctx, pledge.rating)
        lines.append(ctx.t("review.assess_rating", rating=rating))
        ctx.say_html("\n".join(lines))
        options = [
            Option(ctx.t("review.confirm"), "approve"),
            Option(ctx.t("review.change_rating"), "rating"),
            Option(ctx.t("review.return"), "return"),
        ]
        sent = pledge.assessment_submitted_at
        marker = sent.isoformat() if sent else ""  # what the decision applies to
    options += [Option(ctx.t("review.skip"), "skip"), Option(ctx.t("review.stop"), "stop")]
    ctx.begin(
        router.name,
        CARD,
        {"pledge": pledge.id, "kind": kind, "marker": marker, "skipped": skipped},
    )
    ctx.ask(ctx.t("review.card_ask"), options, columns=2)


def _current(ctx: Context) -> tuple[Pledge, Member] | None:
    """The pledge on screen, if the caller may still act on it."""
    pledge = ctx.session.get(Pledge, int(ctx.data.get("pledge") or 0))
    member = _may_review(ctx, pledge) if pledge is not None else None
    if pledge is None or member is None:
        return None
    return pledge, member


def _skipped(ctx: Context) -> list[str]:
    return list(ctx.data.get("skipped") or [])


@router.step(CARD)
def on_card(ctx: Context) -> None:
    skipped = _skipped(ctx)
    kind = str(ctx.data.get("kind"))
    choice = ctx.choice
    if choice == "stop":
        ctx.finish()
        ctx.say("review.stopped")
        return
    current = _current(ctx)
    if current is None:
        ctx.say("review.gone")
        show_next(ctx, skipped)
        return
    pledge, member = current
    if choice == "skip":
        skipped.append(f"{kind}:{pledge.id}")
        show_next(ctx, skipped)
        return
    if choice == "approve":
        _decide(ctx, pledge, member, approve=True, comment=None)
        show_next(ctx, skipped)
        return
    if choice == "return":
        ctx.goto(COMMENT)
        ctx.ask(ctx.t("review.ask_comment"), [Option(ctx.t("review.comment_back"), "back")])
        return
    if choice == "rating" and kind == "assessment":
        _ask_rating(ctx, pledge)
        return
    ctx.say("admin.need_choice")
    _card(ctx, pledge, member, kind, skipped)


@router.step(COMMENT)
def on_comment(ctx: Context) -> None:
    skipped = _skipped(ctx)
    current = _current(ctx)
    if current is None:
        ctx.say("review.gone")
        show_next(ctx, skipped)
        return
    pledge, member = current
    if ctx.choice == "back":
        _card(ctx, pledge, member, str(ctx.data.get("kind")), skipped)
        return
    comment = one_line(ctx.text)
    if ctx.choice is not None or len(comment) < 5 or len(comment) > pledges.MAX_COMMENT_CHARS:
        key = (
            "review.comment_too_long"
            if len(comment) > pledges.MAX_COMMENT_CHARS
            else "review.comment_need"
        )
        ctx.say(key, length=len(comment), limit=pledges.MAX_COMMENT_CHARS)
        ctx.ask(ctx.t("review.ask_comment"), [Option(ctx.t("review.comment_back"), "back")])
        return
    _decide(ctx, pledge, member, approve=False, comment=comment)
    show_next(ctx, skipped)


# --- another rating than the proposed one ---------------------------------------------------


def _ask_rating(ctx: Context, pledge: Pledge) -> None:
    levels = ctx.catalog.pledges.rating.levels
    options = [Option(str(level.label), f"r:{level.id}") for level in levels]
    options.append(Option(ctx.t("review.comment_back"), "back"))
    ctx.goto(RATING)
    proposed = rating_label(ctx, pledge.rating)
    ctx.ask(ctx.t("review.ask_rating", rating=proposed), options)


@router.step(RATING)
def on_rating(ctx: Context) -> None:
    skipped = _skipped(ctx)
    current = _current(ctx)
    if current is None:
        ctx.say("review.gone")
        show_next(ctx, skipped)
        return
    pledge, member = current
    levels = {level.id for level in ctx.catalog.pledges.rating.levels}
    chosen = (ctx.choice or "").removeprefix("r:")
    if ctx.choice == "back":
        _card(ctx, pledge, member, "assessment", skipped)
        return
    if chosen not in levels:
        ctx.say("admin.need_choice")
        _ask_rating(ctx, pledge)
        return
    if chosen == pledge.rating:  # the same as proposed: a plain confirmation
        _decide(ctx, pledge, member, approve=True, comment=None)
        show_next(ctx, skipped)
        return
    ctx.data["rating"] = chosen
    ctx.goto(REASON)
    ctx.ask(
        ctx.t("review.ask_reason", rating=rating_label(ctx, chosen)),
        [Option(ctx.t("review.comment_back"), "back")],
    )


@router.step(REASON)
def on_reason(ctx: Context) -> None:
    skipped = _skipped(ctx)
    current = _current(ctx)
    if current is None:
        ctx.say("review.gone")
        show_next(ctx, skipped)
        return
    pledge, member = current
    if ctx.choice == "back":
        _ask_rating(ctx, pledge)
        return
    reason = one_line(ctx.text)
    if ctx.choice is not None or len(reason) < 5 or len(reason) > MAX_REASON_CHARS:
        key = "review.comment_too_long" if len(reason) > MAX_REASON_CHARS else "review.reason_need"
        ctx.say(key, length=len(reason), limit=MAX_REASON_CHARS)
        ctx.ask(
            ctx.t("review.ask_reason", rating=rating_label(ctx, str(ctx.data.get("rating")))),
            [Option(ctx.t("review.comment_back"), "back")],
        )
        return
    rating = str(ctx.data.get("rating"))
    _decide(ctx, pledge, member, approve=True, comment=None, rating=rating, reason=reason)
    show_next(ctx, skipped)


# --- the decision -------------------------------------------------------------------------


def _decide(
    ctx: Context,
    pledge: Pledge,
    member: Member,
    *,
    approve: bool,
    comment: str | None,
    rating: str | None = None,
    reason: str | None = None,
) -> None:
    """Apply the decision to exactly what the officer read, tell the member, record it."""
    kind = str(ctx.data.get("kind"))
    marker = ctx.data.get("marker")
    assert pledge.id is not None and member.id is not None
    if kind == "pledge":
        ok = pledges.review(
            ctx.session,
            pledge_id=pledge.id,
            revision=int(marker or 0),
            approve=approve,
            comment=comment,
            reviewer=ctx.actor.ref,
            now=ctx.now,
        )
    else:
        ok = bool(marker) and pledges.review_assessment(
            ctx.session,
            pledge_id=pledge.id,
            submitted_at=datetime.fromisoformat(str(marker)),
            confirm=approve,
            comment=comment,
            now=ctx.now,
            rating=rating,
            reason=reason,
        )
    if not ok:
        ctx.say("review.changed")
        return
    action = f"{kind}_{'approve' if approve else 'return'}"
    detail: dict[str, object] = {"pledge": pledge.id, "member": member.id}
    if rating is not None:  # the reason is kept on the pledge; the trail holds ids, not texts
        detail.update(proposed=pledge.rating, rating=rating)
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="assessment_rating" if rating is not None else action,
        **detail,
    )
    key = f"review.{action}d" if approve else f"review.{action}ed"
    ctx.say(key, name=member.full_name or "")
    note = f"review.notify_{action}"
    given = rating_label(ctx, rating or pledge.rating)
    ctx.notify(member.id, ctx.t(note, year=pledge.year, comment=comment or "", rating=given))
    if kind == "assessment" and approve:  # the confirmed copy, to print and sign
        ctx.session.refresh(pledge)
        copy = member_docs.assessment_document(ctx, pledge.year, pledge, member)
        ctx.notify_reply(member.id, copy)
