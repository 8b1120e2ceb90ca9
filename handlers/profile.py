"""/toi: my profile, what I receive, and my rights over my data: export it, or withdraw consent
and have it erased (Law 91/2025/QH15, Decree 356/2025/NĐ-CP)."""

from __future__ import annotations

import logging

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, Unit
from bot.services import conferences, linking, plans, pledges, privacy, quizzes, study, units
from bot.services.members import group_key, initials
from bot.texts import Raw
from bot.timefmt import fmt_date, fmt_datetime, fmt_duration
from handlers import mydata
from handlers.breakthroughs import member_lines as breakthrough_lines
from handlers.link import platform_name
from handlers.pledge import status_text as pledge_status

logger = logging.getLogger(__name__)

router = Router("profile", keep_place=False)

PREFS = "prefs"
CONFIRM_ERASE = "confirm_erase"


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
    if ctx.actor.member is member and member.id is not None:
        text += "\n" + _accounts(ctx, member.id)
    return Raw(text)


def _accounts(ctx: Context, member_id: int) -> str:
    """The member's chat accounts with their ids (the IT person copies an id into ADMIN_*_IDS)."""
    here = (ctx.incoming.platform, ctx.incoming.user_id)
    lines = [ctx.t("profile.accounts_header")]
    for identity in linking.accounts(ctx.session, member_id):
        mine = (identity.platform, identity.platform_user_id) == here
        lines.append(
            ctx.t(
                "profile.account_line_here" if mine else "profile.account_line",
                app=platform_name(ctx, identity.platform),
                id=identity.platform_user_id,
            )
        )
    return "\n".join(lines)


def _invitations(ctx: Context) -> list[str]:
    """For officers: how members of their units join (a link on Telegram, a code on Zalo)."""
    lines: list[str] = []
    for unit in ctx.actor.officer_units[:3]:
        lines += ["", ctx.t("invite.header", unit=unit.name), *ctx.invitation(unit.code)]
    return lines


@router.command("toi", role=None)
def show(ctx: Context) -> None:
    """Show the caller's profile (to someone not registered: their account id)."""
    member = ctx.actor.member
    if member is None:
        ctx.say(
            "profile.not_registered_id",
            app=platform_name(ctx, ctx.incoming.platform),
            id=ctx.incoming.user_id,
        )
        return
    lines = [card(ctx, member), *_invitations(ctx), "", ctx.t("profile.studied_header")]
    assert member.id is not None
    progress = study.all_progress(ctx.session, member_id=member.id)
    catalog = ctx.catalog
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
    campaign = plans.for_member(ctx.session, member, now=ctx.now, tz=ctx.settings.tz)
    if campaign is not None:
        held = conferences.attended(ctx.session, member_id=member.id, campaign_id=campaign.id)
        if held:
            lines.append(ctx.t("profile.checkins", count=held, year=campaign.year))
    lines += ["", ctx.t("profile.quiz_header")]
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
    if campaign is not None:
        task = breakthrough_lines(ctx, member, campaign.id)
        lines += ["", *task] if task else []
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
        Option(ctx.t("privacy.export_button"), "export"),
    ]
    assert member.id is not None
    here = (ctx.incoming.platform, ctx.incoming.user_id)
    for identity in linking.accounts(ctx.session, member.id):
        if (identity.platform, identity.platform_user_id) != here:
            app = platform_name(ctx, identity.platform)
            options.append(Option(ctx.t("profile.unlink", app=app), f"unlink:{identity.id}"))
    options.append(Option(ctx.t("privacy.erase_button"), "erase"))
    ctx.begin(router.name, PREFS)
    ctx.ask(text + "\n" + ctx.t("profile.link_hint"), options)


@router.step(PREFS)
def on_prefs(ctx: Context) -> None:
    member = ctx.actor.member
    if member is None:  # erased meanwhile, from another chat
        ctx.finish()
        ctx.say("privacy.already_erased")
        return
    if ctx.choice == "export":
        mydata.export(ctx, member)  # the state is unchanged: the buttons above stay usable
        return
    if ctx.choice == "erase":
        _ask_erase(ctx)
        return
    if (ctx.choice or "").startswith("unlink:"):
        identity_id = int((ctx.choice or "").removeprefix("unlink:"))
        assert member.id is not None
        done = linking.unlink(
            ctx.session, member_id=member.id, identity_id=identity_id, actor_ref=ctx.actor.ref
        )
        ctx.say("profile.unlinked" if done else "admin.need_choice")
        _ask_prefs(ctx, member)
        return
    if ctx.choice == "posts":
        member.mute_anniversaries = not member.mute_anniversaries
    elif ctx.choice == "news":
        member.mute_announcements = not member.mute_announcements
    else:  # typed something else: the menu is offered again
        ctx.say("admin.need_choice")
        _ask_prefs(ctx, member)
        return
    member.updated_at = ctx.now
    ctx.session.add(member)
    ctx.say("profile.prefs_saved")
    _ask_prefs(ctx, member)


# --- my data: withdraw consent and erase --------------------------------------------------------


def _ask_erase(ctx: Context) -> None:
    """Exactly what will be erased and what will be kept, and why; then a clear choice."""
    ctx.begin(router.name, CONFIRM_ERASE)
    ctx.ask(
        ctx.t("privacy.confirm"),
        [
            Option(ctx.t("privacy.confirm_yes"), "erase", exact=True),
            Option(ctx.t("privacy.confirm_no"), "keep"),
        ],
        columns=2,
    )


@router.step(CONFIRM_ERASE)
def on_confirm_erase(ctx: Context) -> None:
    member = ctx.actor.member
    if member is None:  # erased meanwhile, from another chat
        ctx.finish()
        ctx.say("privacy.already_erased")
        return
    if ctx.choice == "keep":
        ctx.finish()
        ctx.say("privacy.kept")
        return
    if ctx.choice != "erase":
        ctx.say("privacy.need_choice")
        _ask_erase(ctx)
        return
    incoming = ctx.incoming
    chat = (incoming.platform, incoming.chat_id, incoming.user_id)
    privacy.erase(ctx.session, member, now=ctx.now, chat=chat)
    ctx.finish()
    ctx.say("privacy.erased")
    logger.info("member=%s withdrew consent; personal data erased", member.id)
