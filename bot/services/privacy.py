"""A member's rights over their personal data (Law 91/2025/QH15, Decree 356/2025/NĐ-CP): export
everything the bot holds about them, and erase it when they withdraw consent.

Erasure keeps the member row and what the unit's figures are made of (unit, group, party flag,
pledge status and times, rating, study progress, quiz scores), anonymous: nothing left links it
to a person. Actor refs ("telegram:123") of the erased person become `member:<id>` everywhere,
so a later registration from the same account never inherits the erased history.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, literal, or_, update
from sqlmodel import Session, SQLModel, col, select

from bot.models import (
    AuditLog,
    Broadcast,
    ConversationState,
    GroupLink,
    Identity,
    Member,
    OutboxMessage,
    OutboxStatus,
    Pledge,
    QuizAttempt,
    RoleGrant,
    StudyProgress,
    Unit,
)
from bot.models_year import ExampleStatus, GoodExample, StudyCheckIn, StudySession
from bot.services import audit, pledges, units
from bot.services.permissions import Actor

EXPORT_FORMAT = "congdoan-bot/personal-data"
EXPORT_VERSION = 1
ERASED_PREFIX = "member:"  # the actor ref of an erased member: "member:<id>"
OTHER_PERSON = "officer"  # stands for another person's actor ref in an export
_ORPHAN_USER = "erased:"  # the conversation row of the chat the erasure was confirmed in


def erased_ref(member_id: int) -> str:
    return f"{ERASED_PREFIX}{member_id}"


def identity_ref(identity: Identity) -> str:
    """The actor ref this identity acts under (see Actor.ref)."""
    return Actor(platform=identity.platform, user_id=identity.platform_user_id).ref


# --- export -----------------------------------------------------------------------------------


@dataclass
class Export:
    """Everything the bot holds about one member, as rows."""

    member: Member
    unit_chain: list[Unit]  # the member's unit, from the root down
    units: dict[int, Unit]  # units the roles and group links name
    identities: list[Identity]
    roles: list[RoleGrant]
    progress: list[StudyProgress]
    attempts: list[QuizAttempt]
    pledges: list[Pledge]
    links: list[GroupLink]
    audit: list[AuditLog]  # rows where the member acted or was acted upon
    checkins: list[tuple[StudyCheckIn, StudySession]] = field(default_factory=list)
    examples: list[GoodExample] = field(default_factory=list)  # good examples they told about
    refs: frozenset[str] = frozenset()  # the member's own actor refs

    def who(self, ref: str | None) -> str | None:
        """An actor ref as the member may see it: their own, or "officer" for anyone else's
        (another person's platform id is that person's data)."""
        return ref if ref is None or ref in self.refs else OTHER_PERSON


def collect(session: Session, member: Member) -> Export:
    assert member.id is not None
    mid = member.id
    identities = list(session.exec(select(Identity).where(Identity.member_id == mid)).all())
    refs = [identity_ref(i) for i in identities] + [erased_ref(mid)]
    roles = list(session.exec(select(RoleGrant).where(RoleGrant.member_id == mid)).all())
    links = list(
        session.exec(
            select(GroupLink).where(col(GroupLink.linked_by).in_(refs)).order_by(col(GroupLink.id))
        ).all()
    )
    detail = col(AuditLog.detail)
    audit_rows = session.exec(
        select(AuditLog)
        .where(
            or_(
                col(AuditLog.actor).in_(refs),
                detail["member"].as_integer() == mid,
                detail["member_id"].as_integer() == mid,
            )
        )
        .order_by(col(AuditLog.id))
    ).all()
    own = session.get(Unit, member.unit_id)
    unit_ids = {r.unit_id for r in roles if r.unit_id} | {g.unit_id for g in links}
    found = session.exec(select(Unit).where(col(Unit.id).in_(sorted(unit_ids)))).all()
    return Export(
        member=member,
        unit_chain=units.ancestors(session, own) if own is not None else [],
        units={u.id: u for u in found if u.id is not None},
        identities=identities,
        roles=roles,
        progress=list(
            session.exec(
                select(StudyProgress)
                .where(StudyProgress.member_id == mid)
                .order_by(col(StudyProgress.id))
            ).all()
        ),
        attempts=list(
            session.exec(
                select(QuizAttempt)
                .where(QuizAttempt.member_id == mid)
                .order_by(col(QuizAttempt.started_at), col(QuizAttempt.id))
            ).all()
        ),
        pledges=list(
            session.exec(
                select(Pledge).where(Pledge.member_id == mid).order_by(col(Pledge.year))
            ).all()
        ),
        links=links,
        audit=list(audit_rows),
        refs=frozenset(refs),
        checkins=[
            (c, conf)
            for c, conf in session.exec(
                select(StudyCheckIn, StudySession)
                .join(StudySession, col(StudySession.id) == StudyCheckIn.session_id)
                .where(StudyCheckIn.member_id == mid)
                .order_by(col(StudyCheckIn.checked_in_at))
            ).all()
        ],
        examples=list(
            session.exec(
                select(GoodExample)
                .where(GoodExample.submitted_by == mid)
                .order_by(col(GoodExample.id))
            ).all()
        ),
    )


def _row(model: SQLModel, **extra: Any) -> dict[str, Any]:
    return {**model.model_dump(), **extra}


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def as_json(export: Export, *, now: datetime) -> bytes:
    """The machine-readable copy (data portability): every stored field, times in UTC ISO 8601."""

    known = {u.id: u for u in export.unit_chain} | export.units

    def unit(unit_id: int | None) -> dict[str, Any] | None:
        found = known.get(unit_id) if unit_id is not None else None
        return {"id": found.id, "code": found.code, "name": found.name} if found else None

    doc = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": now,
        "member": _row(
            export.member,
            unit=unit(export.member.unit_id),
            unit_path=[u.name for u in export.unit_chain],
        ),
        "identities": [_row(i) for i in export.identities],
        "roles": [_row(r, unit=unit(r.unit_id)) for r in export.roles],
        "study_progress": [_row(p) for p in export.progress],
        "quiz_attempts": [_row(a) for a in export.attempts],
        "pledges": [_row(p, reviewer=export.who(p.reviewer)) for p in export.pledges],
        "group_links": [_row(g, unit=unit(g.unit_id)) for g in export.links],
        "conference_checkins": [
            _row(c, conference={"held_on": conf.held_on.isoformat(), "topic": conf.topic})
            for c, conf in export.checkins
        ],
        "good_examples": [
            {
                **_row(e, reviewer=export.who(e.reviewer)),
                "photo": e.photo is not None,  # the photo itself is in the chat it was sent from
            }
            for e in export.examples
        ],
        "audit": [_row(a, actor=export.who(a.actor)) for a in export.audit],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2, default=_json_value).encode("utf-8")


# --- the readable copy ------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One section of the readable export: a heading, lines ((label, value) pairs or plain
    text), and an optional table whose first row is its header. All plain text, no markup."""

    heading: str
    lines: Sequence[tuple[str, str] | str] = ()
    table: Sequence[Sequence[str]] = ()


# --- erasure ----------------------------------------------------------------------------------


def erase(session: Session, member: Member, *, now: datetime, chat: tuple[str, str, str]) -> None:
    """Withdraw consent and erase the member's personal data, in the caller's transaction.

    `chat` is (platform, chat_id, user_id) of the conversation the erasure is confirmed in: the
    engine saves that conversation row after the handler, so it is unlinked (its keys replaced)
    rather than deleted; the row left by the previous erasure is removed at the same time.
    """
    assert member.id is not None
    mid = member.id
    alias = erased_ref(mid)
    identities = list(session.exec(select(Identity).where(Identity.member_id == mid)).all())
    refs = [identity_ref(i) for i in identities]

    current = session.exec(
        select(ConversationState).where(
            ConversationState.platform == chat[0],
            ConversationState.chat_id == chat[1],
            ConversationState.user_id == chat[2],
        )
    ).first()
    keep = current.id if current is not None else -1
    mine = [
        (col(ConversationState.platform) == i.platform)
        & (col(ConversationState.user_id) == i.platform_user_id)
        for i in identities
    ]
    orphans = col(ConversationState.user_id).startswith(_ORPHAN_USER, autoescape=True)
    session.execute(
        delete(ConversationState).where(or_(orphans, *mine), col(ConversationState.id) != keep)
    )
    if current is not None:
        session.execute(
            update(ConversationState)
            .where(col(ConversationState.id) == keep)
            .values(chat_id="-", user_id=f"{_ORPHAN_USER}{keep}", data={})
            .execution_options(synchronize_session=False)
        )

    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.member_id) == mid)
        .values(chat_id=literal(_ORPHAN_USER) + cast(col(OutboxMessage.id), String))
    )
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.member_id) == mid,
            col(OutboxMessage.status).in_([OutboxStatus.PENDING, OutboxStatus.CLAIMED]),
        )
        .values(status=OutboxStatus.CANCELLED)
    )
    if refs:
        for table, column in (
            (AuditLog, AuditLog.actor),
            (GroupLink, GroupLink.linked_by),
            (RoleGrant, RoleGrant.granted_by),
            (Pledge, Pledge.reviewer),
        ):
            session.execute(update(table).where(col(column).in_(refs)).values({column: alias}))
        session.execute(
            update(Broadcast)
            .where(col(Broadcast.created_by).in_(refs))
            .values(created_by=alias, report_platform=None, report_chat_id=None)
        )
    session.execute(delete(RoleGrant).where(col(RoleGrant.member_id) == mid))
    session.execute(delete(Identity).where(col(Identity.member_id) == mid))
    # good examples they told about: those not yet reviewed go; decided ones (about someone
    # else, maybe published) stay, no longer linked to them. Check-ins stay as anonymous counts.
    told = col(GoodExample.submitted_by) == mid
    session.execute(
        delete(GoodExample).where(told, col(GoodExample.status) == ExampleStatus.SUBMITTED)
    )
    session.execute(update(GoodExample).where(told).values(submitted_by=None))
    if refs:
        session.execute(
            update(GoodExample).where(col(GoodExample.reviewer).in_(refs)).values(reviewer=alias)
        )

    for pledge in session.exec(select(Pledge).where(Pledge.member_id == mid)).all():
        _blank(pledge, now)
        session.add(pledge)

    member.full_name = None
    member.search_name = None
    member.consent_at = None
    member.consent_version = None
    member.initials_only = False
    member.mute_anniversaries = False
    member.mute_announcements = False
    member.deleted_at = now
    member.updated_at = now
    session.add(member)
    audit.record(session, actor=alias, action="data_delete", member=mid)
    session.flush()


def _blank(pledge: Pledge, now: datetime) -> None:
    """Keep what the counts are made of (status, times, late, revision, ratings, results);
    drop every text the member wrote or ticked and the comments about them."""
    empty = pledges.empty_draft()
    pledge.draft = dict(empty)
    if pledge.content is not None:
        group = pledge.content.get("_group")
        pledge.content = {**empty, **({"_group": group} if group else {})}
    if pledge.assessment is not None:
        pledge.assessment = [
            {"text": "", "result": row.get("result"), "note": ""} for row in pledge.assessment
        ]
    pledge.review_comment = None
    pledge.assessment_comment = None
    pledge.rating_reason = None
    pledge.updated_at = now
