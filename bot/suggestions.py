"""The pledge suggestions and the rating rule of content/pledges.yaml."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from bot import pledgebook
from bot.contentmodel import Int, Slug, StrictModel, text_field
from bot.pledgebook import DEFAULT_LEVELS, DEFAULT_POINTS, EXAMPLE_GROUPS, GroupId, SectionId
from bot.topics import SourceRef


class Suggestion(StrictModel):
    """A ready-made commitment the member can tick in one section of the pledge."""

    id: Slug
    section: SectionId
    groups: list[GroupId] | None = None  # None: every member group
    topics: list[Slug] | None = None  # None: whatever the campaign's yearly topic
    text: Annotated[str, text_field(300)]
    source: SourceRef

    def applies(self, *, group: str, topic: str | None) -> bool:
        return pledgebook.applies(self.groups, self.topics, group=group, topic=topic)

    @field_validator("groups")
    @classmethod
    def _valid_groups(cls, groups: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if groups is None:
            return None
        _check_list(groups, "nhóm", "mọi nhóm đoàn viên")
        others = [g for g in groups if g not in EXAMPLE_GROUPS]
        if info.data.get("section") == "example" and others:
            raise ValueError(
                f"mục nêu gương (example) chỉ dành cho {' và '.join(sorted(EXAMPLE_GROUPS))}; "
                f"bỏ {', '.join(others)}"
            )
        return groups

    @field_validator("topics")
    @classmethod
    def _valid_topics(cls, topics: list[str] | None) -> list[str] | None:
        if topics is not None:
            _check_list(topics, "chủ đề", "mọi chủ đề")
        return topics

    @field_validator("source")
    @classmethod
    def _quote_required(cls, source: SourceRef) -> SourceRef:
        if source.quote is None:
            raise ValueError("gợi ý phải có quote: đoạn trích nguyên văn làm căn cứ cho gợi ý")
        return source


def _check_list(values: list[str], what: str, omitted: str) -> None:
    if not values:
        raise ValueError(f"danh sách {what} rỗng; muốn áp dụng cho {omitted} thì bỏ hẳn dòng này")
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"{what} bị lặp: {', '.join(duplicates)}")


class RatingLevel(StrictModel):
    id: Slug
    label: Annotated[str, text_field(100)]
    min_percent: Annotated[Int, Field(ge=0, le=100)]
    max_not_done: Annotated[Int, Field(ge=0)] | None = None  # at most this many "not done"


def _default_levels() -> list[RatingLevel]:
    return [
        RatingLevel(id=i, label=label, min_percent=low, max_not_done=most)
        for i, label, low, most in DEFAULT_LEVELS
    ]


class RatingRule(StrictModel):
    """Points per result, and the levels proposed from the percentage of the maximum."""

    points: dict[str, Annotated[Int, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_POINTS)
    )
    levels: list[RatingLevel] = Field(default_factory=_default_levels, min_length=1)

    def percent(self, results: list[str]) -> int:
        """Rounded-down percent of the maximum points; 0 for no commitments."""
        return pledgebook.percent(self.points, results)

    def rate(self, results: list[str]) -> RatingLevel:
        """The first level, from the top, whose conditions hold."""
        return pledgebook.first_level(self.levels, self.percent(results), results.count("not_done"))


class PledgeBook(StrictModel):
    """content/pledges.yaml: the suggestions offered per section, and the rating rule."""

    suggestions: list[Suggestion] = Field(default_factory=list)
    rating: RatingRule = Field(default_factory=RatingRule)

    def for_section(self, section: str, *, group: str, topic: str | None) -> list[Suggestion]:
        """This section's suggestions for this group and yearly topic, in file order."""
        if section not in pledgebook.sections_for(group):
            return []
        return [
            s
            for s in self.suggestions
            if s.section == section and s.applies(group=group, topic=topic)
        ]
