"""The yearly pledge ("bản đăng ký học tập và làm theo"): its sections, who writes which, and the
rule that turns a year-end self-assessment into a proposed rating.

Pure logic, no I/O. The pydantic models that read content/pledges.yaml and the campaign's
`pledge:` block (Suggestion, RatingLevel, RatingRule, PledgeBook in bot.suggestions, PledgeRule in
bot.campaign) call into this module; this module never imports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal, Protocol, TypeVar, get_args

from bot.yamlfile import Loc

SectionId = Literal["study", "follow", "example", "measures"]
GroupId = Literal["can_bo_cong_doan", "cong_chuc", "vien_chuc", "cong_nhan_lao_dong"]
ResultId = Literal["done", "partly", "not_done"]

# study = nội dung học tập; follow = nội dung làm theo; example = nêu gương;
# measures = biện pháp và thời gian thực hiện. In this order on the form.
SECTIONS: tuple[str, ...] = get_args(SectionId)
# The member groups (values of bot.models.MemberGroup).
GROUPS: tuple[str, ...] = get_args(GroupId)
# A commitment at the year-end self-assessment: done, partly done, not done.
RESULTS: tuple[str, ...] = get_args(ResultId)
# "Nêu gương" is written by union officers and civil servants only.
EXAMPLE_GROUPS = frozenset({"can_bo_cong_doan", "cong_chuc"})

DEFAULT_POINTS: dict[str, int] = {"done": 2, "partly": 1, "not_done": 0}
# (id, label, min_percent, max_not_done): checked from the top, the first that holds is proposed.
DEFAULT_LEVELS: tuple[tuple[str, str, int, int | None], ...] = (
    ("xuat-sac", "Hoàn thành xuất sắc nhiệm vụ", 90, 0),
    ("tot", "Hoàn thành tốt nhiệm vụ", 70, None),
    ("hoan-thanh", "Hoàn thành nhiệm vụ", 50, None),
    ("khong-hoan-thanh", "Không hoàn thành nhiệm vụ", 0, None),
)


def sections_for(group: str) -> tuple[str, ...]:
    """The sections of this group's pledge, in order: "example" only for officers/civil servants."""
    return tuple(s for s in SECTIONS if s != "example" or group in EXAMPLE_GROUPS)


def applies(
    groups: Iterable[str] | None, topics: Iterable[str] | None, *, group: str, topic: str | None
) -> bool:
    """Whether a suggestion limited to these groups/topics (None: all) applies to this member.

    A topic-less suggestion applies whatever the campaign's topic; a topic-specific one only when
    the campaign's yearly topic is one of its topics.
    """
    if groups is not None and group not in groups:
        return False
    return topics is None or (topic is not None and topic in topics)


def percent(points: Mapping[str, int], results: Sequence[str]) -> int:
    """Points earned as a percentage of the maximum (every commitment done), rounded down."""
    if not results:
        return 0
    unknown = sorted({r for r in results if r not in RESULTS})
    if unknown:
        raise ValueError(f"unknown results {unknown}; expected one of {RESULTS}")
    earned = sum(points[r] for r in results)
    return earned * 100 // (points["done"] * len(results))


class Level(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def min_percent(self) -> int: ...

    @property
    def max_not_done(self) -> int | None: ...


L = TypeVar("L", bound=Level)


def first_level(levels: Sequence[L], percent: int, not_done: int) -> L:
    """The first level (from the top) whose minimum percent and "not done" limit both hold."""
    for level in levels:
        if percent < level.min_percent:
            continue
        if level.max_not_done is not None and not_done > level.max_not_done:
            continue
        return level
    return levels[-1]  # only reachable with levels that content check rejects


def rating_defects(points: Mapping[str, int], levels: Sequence[Level]) -> list[tuple[Loc, str]]:
    """What is wrong with a rating rule, each with its place under `rating:` (empty: usable)."""
    defects: list[tuple[Loc, str]] = []
    missing = [r for r in RESULTS if r not in points]
    if missing:
        defects.append((("points",), f"thiếu điểm cho: {', '.join(missing)}"))
    for key in points:
        if key not in RESULTS:
            message = f"khóa “{key}” không hợp lệ: chỉ dùng {', '.join(RESULTS)}"
            defects.append((("points", key), message))
    if not missing:
        done, partly, not_done = (points[r] for r in RESULTS)
        if done < 1:
            defects.append((("points", "done"), "điểm “done” phải lớn hơn 0"))
        if partly > done:
            message = f"điểm “partly” ({partly}) không được lớn hơn điểm “done” ({done})"
            defects.append((("points", "partly"), message))
        if not_done > partly:
            message = f"điểm “not_done” ({not_done}) không được lớn hơn điểm “partly” ({partly})"
            defects.append((("points", "not_done"), message))
    first: dict[str, int] = {}
    for i, level in enumerate(levels):
        if level.id in first:
            message = f"mã mức “{level.id}” trùng với mức thứ {first[level.id] + 1}"
            defects.append((("levels", i, "id"), message))
        else:
            first[level.id] = i
        if i > 0 and level.min_percent >= levels[i - 1].min_percent:
            message = (
                f"{level.min_percent} phải nhỏ hơn min_percent của mức ở trên "
                f"({levels[i - 1].min_percent}): các mức xếp từ cao xuống thấp"
            )
            defects.append((("levels", i, "min_percent"), message))
    if levels and levels[-1].min_percent != 0:
        message = "mức cuối cùng phải có min_percent: 0 (để mọi kết quả đều được xếp loại)"
        defects.append((("levels", len(levels) - 1, "min_percent"), message))
    return defects
