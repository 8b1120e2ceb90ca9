"""The year-end self-assessment of a pledge (/dangky → "Tự đánh giá cuối năm"): each "làm theo"
and "nêu gương" commitment done, partly done or not, with a note; the rating it proposes; sent for
an officer to confirm in /duyet; the member gets it as a DOCX when they send it. Open from the
plan's `assessment_opens`, also for last year's plan until its window closes. Every answer is saved
at once."""

from __future__ import annotations

from typing import Any

from bot.campaign import Campaign, PledgeRule
from bot.flow import Context, Router
from bot.messages import Option
from bot.models import AssessmentStatus, Pledge
from bot.pledgebook import RESULTS
from bot.services import pledges
from bot.texts import Raw
from bot.textutil import one_line
from handlers import member_docs
from handlers.member_docs import rating_label
from handlers.pledgeplans import Reach, find, pledge_of

router = Router("assessment")

ASSESS = "assess"
ASSESS_NOTE = "assess_note"
ASSESS_REVIEW = "assess_review"

MAX_NOTE_CHARS = 300


def status_line(ctx: Context, rule: PledgeRule, pledge: Pledge) -> str | None:
    """The self-assessment's state, when it is open (or already done)."""
    status = pledge.assessment_status
    if status == AssessmentStatus.CONFIRMED:
        confirmed = pledge.rating_confirmed or pledge.rating
        return ctx.t("pledge.assess_confirmed", rating=rating_label(ctx, confirmed))
    if pledge.first_submitted_at is None:
        return None
    if not pledges.assessment_open(rule, ctx.now, ctx.settings.tz):
        return None
    if status == AssessmentStatus.SUBMITTED:
        return ctx.t("pledge.assess_submitted", rating=rating_label(ctx, pledge.rating))
    if status == AssessmentStatus.RETURNED:
        return ctx.t("pledge.assess_returned", comment=pledge.assessment_comment or "")
    return ctx.t("pledge.assess_open")


def start(ctx: Context, campaign: Campaign, pledge: Pledge) -> None:
    """From /dangky: resume, or start again after the officer returned it."""
    restart = pledge.assessment_status == AssessmentStatus.RETURNED
    _assess_next(ctx, campaign, pledge, restart=restart)


def _load(ctx: Context) -> tuple[Campaign, PledgeRule, Pledge] | None:
    """The plan and pledge of a running assessment; None (and the flow ends) if gone."""
    found: Reach | None = find(ctx, ctx.data.get("campaign")) if ctx.actor.member else None
    if found is None:
        ctx.finish()
        ctx.say("pledge.no_campaign_now")
        return None
    return found.campaign, found.rule, pledge_of(ctx, found.campaign)


def _assess_next(ctx: Context, campaign: Campaign, pledge: Pledge, *, restart: bool) -> None:
    """Ask about the next commitment not yet assessed, or show the summary."""
    items = pledges.commitments(pledge.content)
    rows = [] if restart else list(pledge.assessment or [])
    if restart:
        pledges.save_assessment(ctx.session, pledge, [], ctx.now)
    if not items:
        ctx.finish()
        ctx.say("pledge.assess_nothing")
        return
    if len(rows) >= len(items):
        _assess_summary(ctx, campaign, pledge)
        return
    n = len(rows)
    options = [Option(ctx.t(f"pledge.results_button.{r}"), f"r:{r}") for r in RESULTS]
    ctx.begin(router.name, ASSESS, {"campaign": campaign.id, "n": n})
    ctx.ask(ctx.t("pledge.assess_item", n=n + 1, total=len(items), text=items[n]), options)


@router.step(ASSESS)
def on_assess(ctx: Context) -> None:
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, _rule, pledge = loaded
    items = pledges.commitments(pledge.content)
    rows = list(pledge.assessment or [])
    n = int(ctx.data.get("n", -1))
    result = (ctx.choice or "").removeprefix("r:")
    if n != len(rows) or n >= len(items):
        _assess_next(ctx, campaign, pledge, restart=False)
        return
    if result not in RESULTS:
        ctx.say("admin.need_choice")
        _assess_next(ctx, campaign, pledge, restart=False)
        return
    ctx.begin(router.name, ASSESS_NOTE, {"campaign": campaign.id, "n": n, "result": result})
    ctx.ask(ctx.t("pledge.ask_note"), [Option(ctx.t("pledge.skip_note"), "skip")])


@router.step(ASSESS_NOTE)
def on_assess_note(ctx: Context) -> None:
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, _rule, pledge = loaded
    items = pledges.commitments(pledge.content)
    rows = list(pledge.assessment or [])
    n = int(ctx.data.get("n", -1))
    if n != len(rows) or n >= len(items):
        _assess_next(ctx, campaign, pledge, restart=False)
        return
    note = ""
    if ctx.choice != "skip":
        note = one_line(ctx.text)
        if not note or len(note) > MAX_NOTE_CHARS:
            key = "pledge.note_empty" if not note else "pledge.own_too_long"
            ctx.say(key, length=len(note), limit=MAX_NOTE_CHARS)
            ctx.ask(ctx.t("pledge.ask_note"), [Option(ctx.t("pledge.skip_note"), "skip")])
            return
    rows.append({"text": items[n], "result": ctx.data.get("result"), "note": note})
    pledges.save_assessment(ctx.session, pledge, rows, ctx.now)
    _assess_next(ctx, campaign, pledge, restart=False)


def assessment_lines(ctx: Context, rows: list[dict[str, Any]]) -> list[str]:
    """Each commitment with its result and note, as the member and the officer read them."""
    return [
        ctx.t(
            "pledge.assess_line",
            n=k,
            text=row.get("text", ""),
            result=ctx.t(f"pledge.results.{row.get('result')}"),
            note=Raw(ctx.t("pledge.assess_note_part", note=row["note"]) if row.get("note") else ""),
        )
        for k, row in enumerate(rows, 1)
    ]


def _assess_summary(ctx: Context, campaign: Campaign, pledge: Pledge) -> None:
    rows = pledge.assessment or []
    rating = ctx.catalog.pledges.rating
    results = [str(r.get("result")) for r in rows]
    level = rating.rate(results)
    lines = [ctx.t("pledge.assess_summary_title", year=campaign.year)]
    lines += assessment_lines(ctx, rows)
    lines += [
        "",
        ctx.t("pledge.assess_rating", percent=rating.percent(results), rating=level.label),
    ]
    ctx.say_html("\n".join(lines))
    ctx.begin(router.name, ASSESS_REVIEW, {"campaign": campaign.id, "rating": level.id})
    ctx.ask(
        ctx.t("pledge.assess_review_ask"),
        [
            Option(ctx.t("pledge.assess_send"), "send"),
            Option(ctx.t("pledge.assess_redo"), "redo"),
            Option(ctx.t("pledge.save_later"), "later"),
        ],
    )


@router.step(ASSESS_REVIEW)
def on_assess_review(ctx: Context) -> None:
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, rule, pledge = loaded
    rows = pledge.assessment or []
    complete = len(rows) >= len(pledges.commitments(pledge.content)) > 0
    if ctx.choice == "redo":
        _assess_next(ctx, campaign, pledge, restart=True)
        return
    if ctx.choice == "later":
        ctx.finish()
        ctx.say("pledge.assess_saved")
        return
    if ctx.choice == "send" and complete:
        if not pledges.assessment_open(rule, ctx.now, ctx.settings.tz):
            ctx.finish()
            ctx.say("pledge.assess_closed")
            return
        level = ctx.catalog.pledges.rating.rate([str(r.get("result")) for r in rows])
        pledges.submit_assessment(ctx.session, pledge, level.id, ctx.now)
        ctx.finish()
        ctx.say("pledge.assess_sent", rating=level.label)
        member = ctx.actor.member
        assert member is not None
        member_docs.send_assessment(ctx, campaign.year, pledge, member)  # the signed copy
        return
    if not complete:
        _assess_next(ctx, campaign, pledge, restart=False)
        return
    ctx.say("admin.need_choice")
    _assess_summary(ctx, campaign, pledge)
