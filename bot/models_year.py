"""What units record during a plan's year: study conferences and their check-ins, breakthrough
tasks (đột phá), good examples and models (gương tốt, mô hình). Tables are created by Alembic
migrations."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.models import utc_field


class ConferenceForm(StrEnum):
    """The three kinds of study conference in Phụ lục 1 of the report guide."""

    UPPER_OFFICERS = "upper_officers"  # cấp trên trực tiếp cơ sở (the 2022 guide: cấp huyện)
    BASE_OFFICERS = "base_officers"  # cán bộ công đoàn chủ chốt cấp cơ sở
    MEMBERS = "members"  # đoàn viên, CNVCLĐ


class StudySession(SQLModel, table=True):
    """A study conference ("hội nghị học tập, quán triệt") a unit held in a plan's year: its
    attendance typed by the officer, or counted from members' check-ins with its code."""

    __table_args__ = (Index("ix_studysession_plan_unit", "campaign_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    campaign_id: str = Field(max_length=64)
    year: int
    form: str = Field(max_length=16)
    held_on: date
    topic: str = Field(max_length=300)
    attendees: int | None = None  # typed; None: counted from the check-ins
    party_attendees: int | None = None
    checkin_code: str | None = Field(default=None, max_length=16, unique=True)
    closes_at: datetime | None = utc_field(nullable=True)  # check-in closes
    created_by: str = Field(max_length=80)
    created_at: datetime = utc_field()


class StudyCheckIn(SQLModel, table=True):
    """A member at a conference: counted once, with their party flag at check-in."""

    __table_args__ = (UniqueConstraint("session_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="studysession.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    party_member: bool = False
    checked_in_at: datetime = utc_field()


class BreakthroughKind(StrEnum):
    CONTENT = "content"  # nội dung (nhiệm vụ trọng tâm) đột phá: Phụ lục 3
    ISSUE = "issue"  # vấn đề bức xúc, nổi cộm: Phụ lục 4


class BreakthroughStatus(StrEnum):
    ONGOING = "ongoing"
    DONE = "done"  # a content carried out; an issue solved for good ("dứt điểm")


class Breakthrough(SQLModel, table=True):
    """A unit's breakthrough content or pressing issue for a plan's year."""

    __table_args__ = (Index("ix_breakthrough_plan_unit", "campaign_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    campaign_id: str = Field(max_length=64)
    year: int
    kind: str = Field(max_length=16)
    text: str = Field(max_length=500)
    status: str = Field(default=BreakthroughStatus.ONGOING, max_length=16)
    solved_percent: int = 0  # an issue's share solved, 0-100 (100 when done)
    created_by: str = Field(max_length=80)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class ExampleStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DECLINED = "declined"


class GoodExample(SQLModel, table=True):
    """A good person or deed ("gương người tốt, việc tốt") a member told the union about; the
    unit's officer approves (maybe edits) or declines it. Featured only with `consent`."""

    __table_args__ = (Index("ix_goodexample_unit_status", "unit_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")  # the unit of the person or team it is about
    person: str = Field(max_length=150)  # who: a person or a team
    text: str = Field(max_length=2000)  # as told
    photo: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    consent: bool = False  # the person named agreed to be featured
    submitted_by: int | None = Field(default=None, foreign_key="member.id", index=True)
    status: str = Field(default=ExampleStatus.SUBMITTED, max_length=16)
    edited_text: str | None = Field(default=None, max_length=2000)  # the officer's edit
    officer_note: str | None = Field(default=None, max_length=500)
    reviewer: str | None = Field(default=None, max_length=80)
    reviewed_at: datetime | None = utc_field(nullable=True)
    created_at: datetime = utc_field()


class GoodModel(SQLModel, table=True):
    """A good model or effective way of working ("mô hình hay, cách làm hiệu quả") an officer
    recorded for a plan's year: new (Phụ lục 5) or replicated from an earlier year (Phụ lục 6)."""

    __table_args__ = (Index("ix_goodmodel_plan_unit", "campaign_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    campaign_id: str = Field(max_length=64)
    year: int
    name: str = Field(max_length=200)
    how: str = Field(max_length=1000)
    results: str = Field(max_length=1000)
    recognition: str | None = Field(default=None, max_length=200)  # "Đạt": an award, a title
    replicated: bool = False
    created_by: str = Field(max_length=80)
    created_at: datetime = utc_field()
