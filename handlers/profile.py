"""/toi: my profile."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, Unit
from bot.services import campaigns, pledges, quizzes, study, units
from bot.services.members import group_key, initials
from bot.texts import Raw
from bot.timefmt import fmt_date, fmt_datetime, fmt_duration
from handlers.pledge import status_text as pledge_status

router = Router("profile")

PREFS = "prefs"


def card(ctx: Context, member: Member) -> str:
    """The profile as the member sees it."""
    unit = ctx.session.get(Unit, member.unit_id)
    role = ctx.actor.role.value if ctx.actor.member is member and ctx.actor.role else "member"
    text = ctx.t(
        "profile.card",
        name=member.full_name or "",
        unit=units.full_name(ctx.session, unit) if unit else "—",
        group=ctx.t(group_key(member.group)),
        party=ctx.t("common.yes" if member.party_member else "common.no"),
        board_name=initials(member.full_name or "") if member.initials_only else member.full_name,
        role=ctx.t(f"roles.{role}"),
        consent_at=fmt_datetime(member.consent_at, ctx.settings.tz),
        consent_version=member.consent_version or "—",
    )
    if ctx.actor.member is member and ctx.actor.officer_units:
        scope = ", ".join(u.name for u in ctx.actor.officer_units)
        text += "\n" + ctx.t("profile.officer_scope", units=scope)
    return Raw(text)


@router.command("toi")
def show(ctx: Context) -> None:
    """Show the caller's profile."""
    member = ctx.actor.member
    assert member is not None
    lines = [card(ctx, member), "", ctx.t("profile.studied_header")]
    assert member.id is not None
    progress = study.all_progress(ctx.session, member_id=member.id)
    catalog = ctx.content.catalog
    for topic_id, row in progress.items():
        topic = catalog.topics.get(topic_id)
        if topic is None:
            continue
        state = (
            ctx.t("profile.studied_done", date=fmt_date(row.completed_at, ctx.settings.tz))
            if row.completed_at
            else ctx.t(
                "profile.studied_progress", n=row.section_index + 1, total=len(topic.sections)
            )
        )
        mark = "✅ " if row.completed_at else "📖 "
        lines.append(ctx.t("profile.studied_line", mark=mark, title=topic.short_title, state=state))
    if not progress:
        lines.append(ctx.t("profile.studied_none"))
    lines += ["", ctx.t("profile.quiz_header")]
    campaign = campaigns.for_member(ctx.session, catalog, member, now=ctx.now, tz=ctx.settings.tz)
    results = []
    for rule in campaign.quizzes if campaign else []:
        best = quizzes.best(
            ctx.session,
            member_id=member.id,
            campaign_id=campaign.id,  # type: ignore[union-attr]
            topic_id=rule.topic,
        )
        if best is not None:
            topic = catalog.topics.get(rule.topic)
            results.append(
                ctx.t(
                    "profile.quiz_line",
                    title=topic.short_title if topic else rule.topic,
                    score=best.score,
                    total=best.total,
                    elapsed=fmt_duration(best.elapsed_seconds or 0),
                    passed=ctx.t("profile.quiz_passed") if best.passed else "",
                )
            )
    lines += results or [ctx.t("profile.quiz_none")]
    if campaign is not None and campaign.pledge is not None:
        pledge = pledges.get(ctx.session, member_id=member.id, campaign_id=campaign.id)
        lines += ["", ctx.t("profile.pledge_header", year=campaign.year)]
        if pledge is None or pledge.first_submitted_at is None:
            last = fmt_date(pledges.last_day(campaign.pledge))
            lines.append(ctx.t("profile.pledge_none", last=last))
        else:
            lines.append(pledge_status(ctx, pledge))
    ctx.say_html("\n".join(lines))
    _ask_prefs(ctx, member)


def _ask_prefs(ctx: Context, member: Member) -> None:
    """What the member receives, with a button to switch each."""
    posts = "profile.off" if member.mute_anniversaries else "profile.on"
    news = "profile.off" if member.mute_announcements else "profile.on"
    text = ctx.t("profile.prefs", posts=ctx.t(posts), news=ctx.t(news))
    options = [
        Option(
            ctx.t("profile.posts_on" if member.mute_anniversaries else "profile.posts_off"), "posts"
        ),
        Option(
            ctx.t("profile.news_on" if member.mute_announcements else "profile.news_off"), "news"
        ),
    ]
    ctx.begin(router.name, PREFS)
    ctx.ask(text, options)


@router.step(PREFS)
def on_prefs(ctx: Context) -> None:
    member = ctx.actor.member
    assert member is not None
    if ctx.choice == "posts":
        member.mute_anniversaries = not member.mute_anniversaries
    elif ctx.choice == "news":
        member.mute_announcements = not member.mute_announcements
    else:
        ctx.finish()
        ctx.say("engine.unknown_input")
        return
    member.updated_at = ctx.now
    ctx.session.add(member)
    ctx.say("profile.prefs_saved")
    _ask_prefs(ctx, member)
