"""The yearly plan (kế hoạch) of a unit tree, as one validated shape: its topic, quizzes, pledge
dates and report deadlines. Plans live in the database (bot/services/plans.py); content/
campaigns.yaml holds the presets they start from."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from bot.contentmodel import Bool, Int, Slug, StrictModel, fmt_day, text_field


class QuizRule(StrictModel):
    topic: Slug
    questions: Annotated[Int, Field(ge=1, le=50)] = 10
    time_limit_minutes: Annotated[Int, Field(ge=1, le=240)] | None = None
    attempts: Annotated[Int, Field(ge=1)] | None = None
    period: Literal["day", "week", "month", "campaign"] = "campaign"
    pass_percent: Annotated[Int, Field(ge=1, le=100)] = 80


class Reminders(StrictModel):
    """Deadline reminders to members who have not submitted: days before the last day, at a time."""

    days_before: list[Annotated[Int, Field(ge=0, le=60)]] = Field(default_factory=lambda: [7, 3, 1])
    at: datetime.time = datetime.time(8, 0)  # local time; write it quoted: "08:00"

    @field_validator("days_before")
    @classmethod
    def _distinct(cls, days: list[int]) -> list[int]:
        if len(set(days)) != len(days):
            raise ValueError("các ngày nhắc bị lặp")
        return sorted(days, reverse=True)


class ReportDeadline(StrictModel):
    """A report officers owe their superiors (e.g. 6-month and 1-year), reminded beforehand."""

    name: Annotated[str, text_field(120)]
    due: datetime.date  # the last day
    remind_days_before: list[Annotated[Int, Field(ge=0, le=60)]] = Field(
        default_factory=lambda: [7, 1]
    )


class PledgeRule(StrictModel):
    """When the campaign's pledges are due and when the year-end self-assessment is open."""

    submit_before: datetime.date  # "trước ngày 10/4": on time until 09/04 23:59:59 local time
    late_allowed: Bool = True  # after the deadline: submit marked late (True) or closed (False)
    assessment_opens: datetime.date | None = None  # the self-assessment opens on this day
    assessment_closes: datetime.date | None = None  # inclusive last day; None: never closes
    reminders: Reminders = Reminders()

    @field_validator("assessment_opens")
    @classmethod
    def _opens_after_deadline(
        cls, opens: datetime.date | None, info: ValidationInfo
    ) -> datetime.date | None:
        deadline = info.data.get("submit_before")
        if opens is not None and deadline is not None and opens <= deadline:
            raise ValueError(
                f"ngày mở tự đánh giá ({fmt_day(opens)}) phải sau hạn nộp bản đăng ký "
                f"submit_before ({fmt_day(deadline)})"
            )
        return opens

    @field_validator("assessment_closes")
    @classmethod
    def _closes_after_opening(
        cls, closes: datetime.date | None, info: ValidationInfo
    ) -> datetime.date | None:
        if closes is None or "assessment_opens" not in info.data:
            return closes  # an invalid assessment_opens is reported on its own line
        opens = info.data["assessment_opens"]
        if opens is None:
            raise ValueError("có ngày đóng tự đánh giá thì phải có assessment_opens (ngày mở)")
        if closes < opens:
            raise ValueError(
                f"ngày đóng tự đánh giá ({fmt_day(closes)}) không được trước ngày mở "
                f"assessment_opens ({fmt_day(opens)})"
            )
        return closes


class Campaign(StrictModel):
    """One tree's plan for one year. Its id is what pledges, quiz attempts, broadcasts and tallies
    keep (`campaign_id`), so it never changes."""

    id: Slug
    year: Annotated[Int, Field(ge=2000, le=2100)]
    root_unit: Annotated[str, text_field(60)] | None = None  # a root unit's code; None: shared
    topic: Slug
    quizzes: list[QuizRule]
    pledge: PledgeRule | None = None  # None: this campaign collects no pledges
    reports: list[ReportDeadline] = Field(default_factory=list)  # officers are reminded
    starts_on: datetime.date | None = None  # current for its tree from this day; None: 1/1

    @property
    def opens_on(self) -> datetime.date:
        return self.starts_on or datetime.date(self.year, 1, 1)

    def moved(self, *, years: int = 0, days: int = 0) -> Campaign:
        """The same plan with every date moved (29/2 becomes 28/2 in a year without it)."""

        def move(day: datetime.date) -> datetime.date:
            return add_years(day, years) + datetime.timedelta(days=days)

        pledge = None
        if self.pledge is not None:
            rule = self.pledge
            pledge = rule.model_copy(
                update={
                    "submit_before": move(rule.submit_before),
                    "assessment_opens": rule.assessment_opens and move(rule.assessment_opens),
                    "assessment_closes": rule.assessment_closes and move(rule.assessment_closes),
                }
            )
        reports = [r.model_copy(update={"due": move(r.due)}) for r in self.reports]
        return self.model_copy(
            update={
                "year": self.year + years,
                "pledge": pledge,
                "reports": reports,
                "starts_on": self.starts_on and move(self.starts_on),
            }
        )


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29/2 in a year without it
        return day.replace(year=day.year + years, day=28)


class CampaignsFile(StrictModel):
    campaigns: list[Campaign]
