"""/toi: my profile, what I receive, and my rights over my data: export it, or withdraw consent
and have it erased (Law 91/2025/QH15, Decree 356/2025/NĐ-CP)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.flow import Context, Router
from bot.messages import Option, to_plain
from bot.models import Member, Pledge, StudyProgress, Unit
from bot.pledgebook import sections_for
from bot.services import audit, linking, plans, pledges, privacy, quizzes, study, units
from bot.services.members import group_key, initials
from bot.services.privacy import Export, Part
from bot.texts import Raw
from bot.timefmt import fmt_date, fmt_datetime, fmt_duration
from handlers.assessment import rating_label
from handlers.audit import describe
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
    campaign = plans.for_member(ctx.session, member, now=ctx.now, tz=ctx.settings.tz)
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
        _export(ctx, member)  # the state is unchanged: the buttons above stay usable
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


# --- my data: export ----------------------------------------------------------------------------


def _export(ctx: Context, member: Member) -> None:
    """Everything the bot holds about the member: a readable DOCX and the same as JSON."""
    assert member.id is not None
    data = privacy.collect(ctx.session, member)
    title = _plain(ctx, "privacy.docx.title")
    intro = [
        _plain(ctx, "privacy.docx.exported", at=fmt_datetime(ctx.now, ctx.settings.tz)),
        _plain(ctx, "privacy.docx.intro"),
    ]
    from bot.services.privacy_docx import render_docx  # python-docx: loaded when used

    document = render_docx(title, intro, _parts(ctx, data))
    ctx.say("privacy.export_sent")
    stem = f"du-lieu-ca-nhan-{member.id}"
    life = timedelta(days=1)  # where files go by link: the whole of the person's data
    ctx.document(document, f"{stem}.docx", ctx.t("privacy.docx_caption"), ttl=life)
    ctx.document(
        privacy.as_json(data, now=ctx.now), f"{stem}.json", ctx.t("privacy.json_caption"), ttl=life
    )
    audit.record(ctx.session, actor=ctx.actor.ref, action="data_export", member=member.id)
    logger.info("member=%s exported their data", member.id)


def _plain(ctx: Context, key: str, **values: Any) -> str:
    """A text for the DOCX: plain, the values exactly as stored (no HTML escaping)."""
    return to_plain(ctx.t(key, **values))


def _parts(ctx: Context, data: Export) -> list[Part]:
    m = data.member
    tz = ctx.settings.tz

    def when(dt: datetime | None) -> str:
        return fmt_datetime(dt, tz)

    def label(key: str, **values: Any) -> str:
        return _plain(ctx, f"privacy.docx.{key}", **values)

    def yes_no(value: bool) -> str:
        return _plain(ctx, "common.yes" if value else "common.no")

    none = [label("none")]
    name = m.full_name or "—"
    parts = [
        Part(
            label("profile"),
            [
                (label("member_id"), f"#{m.id}"),
                (label("name"), name),
                (label("unit"), " › ".join(u.name for u in data.unit_chain) or "—"),
                (label("group"), _plain(ctx, group_key(m.group))),
                (label("party"), yes_no(m.party_member)),
                (label("board_name"), initials(name) if m.initials_only else name),
                (label("registered"), when(m.created_at)),
                (label("updated"), when(m.updated_at)),
            ],
        ),
        Part(
            label("consent"),
            [
                (label("consent_at"), when(m.consent_at)),
                (label("consent_version"), m.consent_version or "—"),
            ],
        ),
        Part(
            label("identities"),
            [
                label(
                    "identity_line",
                    platform=_platform(ctx, i.platform),
                    user=i.platform_user_id,
                    chat=i.chat_id,
                    since=when(i.created_at),
                )
                + (label("blocked") if i.blocked else "")
                for i in data.identities
            ]
            or none,
        ),
        Part(
            label("roles"),
            [label("role_now", role=_plain(ctx, f"roles.{_role(ctx)}"))]
            + [
                label(
                    "role_line",
                    role=_plain(ctx, f"roles.{r.role}") if f"roles.{r.role}" in ctx.t else r.role,
                    unit=data.units[r.unit_id].name if r.unit_id in data.units else "—",
                    at=when(r.granted_at),
                    by=r.granted_by,
                )
                for r in data.roles
            ],
        ),
        Part(
            label("prefs"),
            [
                (
                    label("posts"),
                    _plain(ctx, "profile.off" if m.mute_anniversaries else "profile.on"),
                ),
                (
                    label("news"),
                    _plain(ctx, "profile.off" if m.mute_announcements else "profile.on"),
                ),
            ],
        ),
        Part(label("study"), [_study_line(ctx, p) for p in data.progress] or none),
        _quiz_part(ctx, data, label),
    ]
    parts += [_pledge_part(ctx, data, p, label) for p in data.pledges] or [
        Part(label("pledges"), none)
    ]
    parts.append(
        Part(
            label("links"),
            [
                label(
                    "link_line",
                    platform=_platform(ctx, g.platform),
                    chat=g.chat_id,
                    unit=data.units[g.unit_id].name if g.unit_id in data.units else "—",
                    at=when(g.linked_at),
                )
                + ("" if g.active else label("link_off"))
                for g in data.links
            ]
            or none,
        )
    )
    head = [label(k) for k in ("audit_at", "audit_who", "audit_action", "audit_detail")]
    rows = [
        [when(r.at), _who(ctx, data, r.actor), to_plain(action), to_plain(detail)]
        for r, (action, detail) in zip(data.audit, describe(ctx, data.audit), strict=True)
    ]
    parts.append(Part(label("audit"), [] if rows else none, [head, *rows] if rows else []))
    return parts


def _role(ctx: Context) -> str:
    """The role the person has now, as the profile shows it (an admin named in the settings has
    no grant row, and is an admin all the same)."""
    return ctx.actor.role.value if ctx.actor.role else "member"


def _platform(ctx: Context, platform: str) -> str:
    return to_plain(platform_name(ctx, platform))


def _topic(ctx: Context, topic_id: str) -> str:
    topic = ctx.content.catalog.topics.get(topic_id)
    return str(topic.short_title) if topic else topic_id


def _study_line(ctx: Context, row: StudyProgress) -> str:
    topic = ctx.content.catalog.topics.get(row.topic_id)
    if row.completed_at:
        state = _plain(
            ctx, "profile.studied_done", date=fmt_date(row.completed_at, ctx.settings.tz)
        )
    else:
        total = len(topic.sections) if topic else "?"
        state = _plain(ctx, "profile.studied_progress", n=row.section_index + 1, total=total)
    return f"{_topic(ctx, row.topic_id)}: {state}"


def _quiz_part(ctx: Context, data: Export, label: Callable[..., str]) -> Part:
    """Every attempt: date, topic, score, time."""
    if not data.attempts:
        return Part(label("quizzes"), [label("none")])
    head = [label(f"quiz_{k}") for k in ("date", "topic", "score", "time")]
    rows = []
    for a in data.attempts:
        if a.finished_at is None:
            time = label("quiz_running")
        elif a.timed_out:
            time = label("quiz_timed_out")
        else:
            time = fmt_duration(a.elapsed_seconds or 0)
        score = f"{a.score}/{a.total}" + (_plain(ctx, "profile.quiz_passed") if a.passed else "")
        rows.append([fmt_date(a.started_at, ctx.settings.tz), _topic(ctx, a.topic_id), score, time])
    return Part(label("quizzes"), [], [head, *rows])


def _who(ctx: Context, export: privacy.Export, ref: str | None) -> str:
    """Who did something, in the member's copy: never another person's account id."""
    shown = export.who(ref)
    if shown is None:
        return "—"
    return _plain(ctx, "privacy.other_person") if shown == privacy.OTHER_PERSON else shown


def _pledge_part(
    ctx: Context, export: privacy.Export, pledge: Pledge, label: Callable[..., str]
) -> Part:
    """Status, times, the text as submitted (and the draft if it differs), the self-assessment."""
    tz = ctx.settings.tz
    timing = "—"
    if pledge.first_submitted_at is not None:
        timing = _plain(ctx, "pledge.late" if pledge.late else "pledge.on_time")
    lines: list[tuple[str, str] | str] = [
        to_plain(pledge_status(ctx, pledge)),
        (label("revision"), str(pledge.revision)),
        (label("first_submitted"), fmt_datetime(pledge.first_submitted_at, tz)),
        (label("submitted"), fmt_datetime(pledge.submitted_at, tz)),
        (label("timing"), timing),
        (label("reviewed"), fmt_datetime(pledge.reviewed_at, tz)),
        (label("reviewer"), _who(ctx, export, pledge.reviewer)),
    ]
    for title, doc in (("content", pledge.content), ("draft", pledge.draft)):
        if doc is None or (title == "draft" and not _differs(pledge)):
            continue
        lines.append(label(title))
        group = str(doc.get("_group") or export.member.group)
        for section in sections_for(group):
            lines.append(_plain(ctx, f"pledge.sections.{section}") + ":")
            items = [i["text"] for i in pledges.items(doc, section)]
            lines += [f"– {text}" for text in items] or ["–"]
        if doc.get("timeline"):
            lines.append((label("timeline"), str(doc["timeline"])))
    if pledge.assessment_status:
        status = f"privacy.docx.assess.{pledge.assessment_status}"
        lines += [
            label("assessment"),
            (label("assessment_status"), _plain(ctx, status) if status in ctx.t else "—"),
            (label("assessment_submitted"), fmt_datetime(pledge.assessment_submitted_at, tz)),
        ]
        for n, row in enumerate(pledge.assessment or [], 1):
            result = row.get("result")
            key = f"pledge.results.{result}"
            verdict = _plain(ctx, key) if key in ctx.t else str(result or "—")
            note = f" ({row['note']})" if row.get("note") else ""
            text = str(row.get("text", "")).rstrip(" .;:")  # "…được giao.: " read badly
            lines.append(f"{n}. {text}: {verdict}{note}")
        lines += [
            (label("rating"), rating_label(ctx, pledge.rating)),
            (label("assessment_reviewed"), fmt_datetime(pledge.assessment_reviewed_at, tz)),
            (label("assessment_comment"), pledge.assessment_comment or "—"),
        ]
    return Part(label("pledge", year=pledge.year), lines)


def _differs(pledge: Pledge) -> bool:
    """A draft worth showing: never submitted, or changed since."""
    return pledge.content is None or pledges.has_unsent_changes(pledge)


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
