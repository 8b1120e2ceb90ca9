"""Database tables (SQLModel). Tables are created by Alembic migrations, never by create_all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utc_field(**kw: Any) -> Any:
    nullable = kw.pop("nullable", False)
    column = Column(UTCDateTime(), nullable=nullable, **kw)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class MemberGroup(StrEnum):
    UNION_OFFICER = "can_bo_cong_doan"
    CIVIL_SERVANT = "cong_chuc"
    PUBLIC_EMPLOYEE = "vien_chuc"
    WORKER = "cong_nhan_lao_dong"


class RoleName(StrEnum):
    MEMBER = "member"
    OFFICER = "officer"
    ADMIN = "admin"


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=50, unique=True, index=True)
    name: str = Field(max_length=255)
    search_name: str = Field(max_length=255, description="lowercase, no diacritics")
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    path: str = Field(max_length=1000, index=True, description="/id/id/.../ from the root")
    depth: int = 0
    # the real membership of the unit and everything below it (from the units file or typed by
    # an officer in /thongke); None: not known, rates are then of those registered with the bot
    members: int | None = None
    party_members: int | None = None
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class Member(SQLModel, table=True):
    # per-unit figures (stats, reports) read only this index: no table rows
    __table_args__ = (Index("ix_member_unit_figures", "unit_id", "deleted_at", "party_member"),)

    id: int | None = Field(default=None, primary_key=True)
    full_name: str | None = Field(default=None, max_length=100)
    search_name: str | None = Field(default=None, max_length=100, index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    group: str = Field(max_length=32)
    party_member: bool = False
    consent_at: datetime | None = utc_field(nullable=True)
    consent_version: str | None = Field(default=None, max_length=32)
    initials_only: bool = False
    mute_anniversaries: bool = False  # anniversary posts off (chosen in /toi)
    mute_announcements: bool = False  # officers' announcements off (reminders stay on)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    deleted_at: datetime | None = utc_field(nullable=True)


class Identity(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    platform_user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    member_id: int | None = Field(default=None, foreign_key="member.id", index=True)
    blocked: bool = False
    created_at: datetime = utc_field()
    # when the person last wrote from this account (kept to the hour): a member on two apps
    # gets mass messages once, on the app they used last
    last_seen_at: datetime | None = utc_field(nullable=True)


class RoleGrant(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("member_id", "role", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    role: str = Field(max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    granted_by: str = Field(max_length=80)
    granted_at: datetime = utc_field()


class ConversationState(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    flow: str | None = Field(default=None, max_length=40)
    step: str | None = Field(default=None, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    updated_at: datetime = utc_field()


class ProcessedUpdate(SQLModel, table=True):
    platform: str = Field(max_length=16, primary_key=True)
    update_id: str = Field(max_length=64, primary_key=True)
    processed_at: datetime = utc_field(index=True)


class AuditLog(SQLModel, table=True):
    __table_args__ = (Index("ix_auditlog_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = utc_field()
    actor: str = Field(max_length=80)
    action: str = Field(max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class StudyProgress(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("member_id", "topic_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    topic_id: str = Field(max_length=64)
    section_index: int = 0
    completed_at: datetime | None = utc_field(nullable=True)
    updated_at: datetime = utc_field()


class QuizAttempt(SQLModel, table=True):
    __table_args__ = (
        Index("ix_quizattempt_board", "campaign_id", "topic_id", "finished_at"),
        Index("ix_quizattempt_member_topic", "member_id", "topic_id"),
        Index(  # covers the stats and reports: the best score per member without the JSON rows
            "ix_quizattempt_campaign_member",
            *("campaign_id", "member_id", "topic_id", "finished_at", "score", "total", "passed"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    campaign_id: str = Field(max_length=64)
    topic_id: str = Field(max_length=64)
    question_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    option_orders: list[list[int]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    answers: list[list[int] | None] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    current: int = 0
    score: int = 0
    total: int = 0
    started_at: datetime = utc_field()
    deadline_at: datetime | None = utc_field(nullable=True)
    finished_at: datetime | None = utc_field(nullable=True)
    elapsed_seconds: int | None = None
    timed_out: bool = False
    passed: bool = False


class PledgeStatus(StrEnum):
    DRAFT = "draft"  # written, never submitted
    SUBMITTED = "submitted"  # waiting for an officer
    APPROVED = "approved"
    RETURNED = "returned"  # sent back with a comment; the member fixes and resubmits


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    RETURNED = "returned"


class Pledge(SQLModel, table=True):
    """A member's yearly pledge: a working draft, the submitted copy, its review, the year-end
    self-assessment. Texts are copied in, so editing content/ never changes a submitted pledge."""

    __table_args__ = (
        UniqueConstraint("member_id", "campaign_id"),
        Index("ix_pledge_campaign_status", "campaign_id", "status"),
        Index(  # covers the stats: the campaign's pledges per member without the JSON rows
            "ix_pledge_campaign_member",
            *("campaign_id", "member_id", "first_submitted_at", "status", "late"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    campaign_id: str = Field(max_length=64)
    year: int
    status: str = Field(default=PledgeStatus.DRAFT, max_length=16)
    draft: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    revision: int = 0  # bumped at every submission, so a review applies to what was read
    first_submitted_at: datetime | None = utc_field(nullable=True)
    submitted_at: datetime | None = utc_field(nullable=True)
    late: bool = False
    reviewed_at: datetime | None = utc_field(nullable=True)
    reviewer: str | None = Field(default=None, max_length=80)
    review_comment: str | None = Field(default=None, max_length=500)
    assessment: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    assessment_status: str | None = Field(default=None, max_length=16)
    assessment_submitted_at: datetime | None = utc_field(nullable=True)
    rating: str | None = Field(default=None, max_length=40)  # proposed by the rule
    rating_confirmed: str | None = Field(default=None, max_length=40)  # the officer's
    rating_reason: str | None = Field(default=None, max_length=500)  # why it was changed
    assessment_reviewed_at: datetime | None = utc_field(nullable=True)
    assessment_comment: str | None = Field(default=None, max_length=500)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class BroadcastKind(StrEnum):
    ANNOUNCEMENT = "announcement"  # an officer's /thongbao
    ANNIVERSARY = "anniversary"  # a post from content/calendar.yaml
    REMINDER = "reminder"  # a pledge deadline reminder to members who have not submitted
    OFFICER_REMINDER = "officer_reminder"  # a report deadline reminder to officers
    ADMIN_NOTICE = "admin_notice"  # to the admins: e.g. a platform's monthly message limit


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time; recipients not yet listed
    SENDING = "sending"  # recipients listed in the outbox, being delivered
    DONE = "done"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # a post found too late (past the grace window): recorded, never sent


class Broadcast(SQLModel, table=True):
    """One mass message: its text, who it goes to, when. `key` makes scheduled posts and reminders
    happen once (e.g. "anniversary:19-05:2026:LDLD-DEMO")."""

    __table_args__ = (Index("ix_broadcast_due", "status", "scheduled_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=120, unique=True)
    kind: str = Field(max_length=24)
    status: str = Field(default=BroadcastStatus.SCHEDULED, max_length=16)
    unit_id: int | None = Field(default=None, foreign_key="unit.id")  # target subtree; None: all
    campaign_id: str | None = Field(default=None, max_length=64)
    text: str = Field(max_length=4096)  # HTML subset, exactly as recipients see it
    photo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_by: str = Field(max_length=80)  # actor ref or "scheduler"
    report_platform: str | None = Field(default=None, max_length=16)  # who gets the final report
    report_chat_id: str | None = Field(default=None, max_length=64)
    scheduled_at: datetime = utc_field()
    created_at: datetime = utc_field()
    started_at: datetime | None = utc_field(nullable=True)
    finished_at: datetime | None = utc_field(nullable=True)
    report_sent_at: datetime | None = utc_field(nullable=True)  # the final report was attempted
    note: str | None = Field(default=None, max_length=200)  # e.g. why a post was skipped


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"  # taken by a worker, not yet attempted: safe to give back
    SENDING = "sending"  # the call is being made: if the process dies now, the outcome is unknown
    SENT = "sent"
    BLOCKED = "blocked"  # 403: the person blocked the bot or left
    FAILED = "failed"  # retries exhausted, or a permanent error
    UNKNOWN = "unknown"  # the process died during the call: not resent, reported as unknown
    SKIPPED = "skipped"  # no longer needed (a reminder to someone who has since submitted)
    CANCELLED = "cancelled"
    HELD = "held"  # not sent: the platform's monthly message limit (Zalo plans) was reached


class OutboxMessage(SQLModel, table=True):
    """One recipient of one broadcast: a member's chat or a unit's group chat."""

    __table_args__ = (
        UniqueConstraint("broadcast_id", "platform", "chat_id"),
        Index("ix_outbox_claim", "platform", "status", "next_attempt_at"),
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcast.id")
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    is_group: bool = False
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = utc_field(nullable=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = utc_field(nullable=True)
    sent_at: datetime | None = utc_field(nullable=True)
    last_error: str | None = Field(default=None, max_length=200)


class UnitTally(SQLModel, table=True):
    """A unit's own figures for a campaign (members registered directly in it), as of
    `refreshed_at`: the scheduler refreshes them, so /thongke over a large tree rolls up a few
    thousand rows instead of reading a million (bot/services/stats.py)."""

    campaign_id: str = Field(max_length=64, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", primary_key=True)
    members: int = 0
    party_members: int = 0
    submitted: int = 0
    late: int = 0
    approved: int = 0
    returned: int = 0
    quiz_takers: int = 0
    quiz_passed: int = 0
    score_sum: float = 0.0
    studied: int = 0
    checked_in: int = 0
    studied_any: int = 0
    refreshed_at: datetime = utc_field()


class DeliveryPace(SQLModel, table=True):
    """The send rate shared by every delivery worker of a platform (on PostgreSQL, where several
    processes deliver): the next free send slot, and the pause the platform asked for (429)."""

    platform: str = Field(max_length=16, primary_key=True)
    next_at: datetime | None = utc_field(nullable=True)
    paused_until: datetime | None = utc_field(nullable=True)


class GroupLink(SQLModel, table=True):
    """A group chat linked to a unit with /ganhom: it receives the unit's posts."""

    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=16)
    chat_id: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    linked_by: str = Field(max_length=80)
    linked_at: datetime = utc_field()
    active: bool = True


class StoredFile(SQLModel, table=True):
    """A file served at `{PUBLIC_BASE_URL}/files/<id>` for platforms that take files by URL
    (Zalo): the id is unguessable, the link expires, nothing lists the files."""

    __table_args__ = (Index("ix_storedfile_expires", "expires_at"),)

    id: str = Field(max_length=64, primary_key=True)
    filename: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size: int = 0
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()


class PlatformUsage(SQLModel, table=True):
    """Messages a platform carried for the bot in one calendar month (local time), against the
    plan's limit (ZALO_MONTHLY_MESSAGE_LIMIT); `held` counts messages not sent because of it."""

    platform: str = Field(max_length=16, primary_key=True)
    month: str = Field(max_length=7, primary_key=True)  # "2026-12"
    sent: int = 0
    held: int = 0
    warned_at: datetime | None = utc_field(nullable=True)  # admins told the month reached 80%
    held_notice_at: datetime | None = utc_field(nullable=True)  # admins told messages were held


class LinkCode(SQLModel, table=True):
    """A one-time code from /lienket: typed on the other app within minutes, it attaches that
    account to the same member."""

    code: str = Field(max_length=16, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)


class Plan(SQLModel, table=True):
    """A unit tree's yearly plan (kế hoạch), made by its admins in /kehoach (or from the presets in
    content/campaigns.yaml): the shape of `bot.campaign.Campaign`, plus when it starts, who made
    it and a version for edits. `id` is the campaign id pledges and quiz attempts keep."""

    __table_args__ = (Index("ix_plan_root_year", "root_unit", "year"),)

    id: str = Field(max_length=64, primary_key=True)
    root_unit: str | None = Field(default=None, max_length=50)  # a root's code; None: every tree
    year: int
    topic: str = Field(max_length=64)
    quizzes: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    pledge: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reports: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    starts_on: date  # from this day (local) the plan is current for its tree
    ended_at: datetime | None = utc_field(nullable=True)  # ended by an admin: no longer current
    created_by: str = Field(max_length=80)  # actor ref, "cli", "presets" or "demo"
    updated_by: str = Field(max_length=80)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    version: int = 1
