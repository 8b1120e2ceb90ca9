"""A member's copy of their personal data (/toi → "Tải dữ liệu của tôi", Law 91/2025/QH15):
a DOCX that reads well on a phone, and the same as JSON (bot/services/privacy.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.flow import Context
from bot.messages import to_plain
from bot.models import Member, Pledge, StudyProgress
from bot.pledgebook import sections_for
from bot.services import audit, pledges, privacy
from bot.services.members import group_key, initials
from bot.services.privacy import Export, Part
from bot.timefmt import fmt_date, fmt_datetime, fmt_duration
from handlers.audit import describe
from handlers.link import platform_name
from handlers.member_docs import rating_label
from handlers.pledge import status_text as pledge_status

logger = logging.getLogger(__name__)


def export(ctx: Context, member: Member) -> None:
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
    parts.append(
        Part(
            label("checkins"),
            [
                label(
                    "checkin_line",
                    date=fmt_date(conf.held_on),
                    topic=conf.topic,
                    at=when(c.checked_in_at),
                )
                for c, conf in data.checkins
            ]
            or none,
        )
    )
    parts.append(
        Part(
            label("examples"),
            [
                label(
                    "example_line",
                    person=e.person,
                    at=when(e.created_at),
                    status=_plain(ctx, f"examples.status.{e.status}"),
                    text=e.text,
                )
                for e in data.examples
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
    topic = ctx.catalog.topics.get(topic_id)
    return str(topic.short_title) if topic else topic_id


def _study_line(ctx: Context, row: StudyProgress) -> str:
    topic = ctx.catalog.topics.get(row.topic_id)
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
            (label("rating_confirmed"), rating_label(ctx, pledge.rating_confirmed)),
            (label("rating_reason"), pledge.rating_reason or "—"),
            (label("assessment_reviewed"), fmt_datetime(pledge.assessment_reviewed_at, tz)),
            (label("assessment_comment"), pledge.assessment_comment or "—"),
        ]
    return Part(label("pledge", year=pledge.year), lines)


def _differs(pledge: Pledge) -> bool:
    """A draft worth showing: never submitted, or changed since."""
    return pledge.content is None or pledges.has_unsent_changes(pledge)
