"""Pledge suggestions, the rating rule and the campaign's pledge dates: the shipped content is
usable, and every defect an editor can make is reported at its line."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.catalog import Catalog, PledgeBook, RatingRule, load_catalog
from bot.config import PROJECT_ROOT
from bot.content import check_content
from bot.models import MemberGroup
from bot.pledgebook import EXAMPLE_GROUPS, GROUPS, RESULTS, SECTIONS, sections_for
from bot.yamlfile import Problem
from tests.test_catalog import BASE, CAMPAIGNS, LONG, assert_one, build, where

CONTENT = PROJECT_ROOT / "content"
DEMO_TOPIC = "dan-chu-phap-che-2024"

PLEDGES = """\
suggestions:
  - id: hoc-chu-de
    section: study
    topics: [chu-de]
    text: "Học tập chủ đề thử."
    source: {file: "seed.txt", section: "I", quote: "tổ chức học tập cho toàn thể đoàn viên"}
  - id: lam-theo
    section: follow
    groups: [cong_chuc, vien_chuc]
    text: "Dám nghĩ, dám nói, dám làm."
    source: {file: "seed.txt", section: "I", quote: "đăng ký làm theo *Dám nghĩ; dám nói; dám làm*"}
  - id: neu-guong
    section: example
    groups: [can_bo_cong_doan]
    text: "Nêu gương trong học tập."
    source: {file: "seed.txt", section: "I", quote: "Dám nghĩ"}
  - id: bien-phap
    section: measures
    text: "Tự kiểm tra hằng quý."
    source: {file: "seed.txt", section: "I", quote: "Mỗi đoàn viên"}
rating:
  points:
    done: 2
    partly: 1
    not_done: 0
  levels:
    - id: xuat-sac
      label: "Xuất sắc"
      min_percent: 90
      max_not_done: 0
    - id: tot
      label: "Tốt"
      min_percent: 70
    - id: khong
      label: "Không đạt"
      min_percent: 0
"""

PLEDGE_RULE = """\
    pledge:
      submit_before: "2026-04-10"
      late_allowed: true
      assessment_opens: "2026-11-01"
      assessment_closes: "2026-12-31"
"""

P = "pledges.yaml"
C = "campaigns.yaml"
FILES = {**BASE, P: PLEDGES, C: CAMPAIGNS + PLEDGE_RULE}


def problems_with(root: Path, file: str, old: str, new: str) -> list[Problem]:
    """Load the fixture with one edit (old -> new, once) in one file."""
    assert old in FILES[file], old
    build(root, {**FILES, file: FILES[file].replace(old, new, 1)})
    return load_catalog(root)[1]


def load(root: Path, changes: dict[str, str | None] | None = None) -> tuple[Catalog, list[Problem]]:
    """Load the fixture; changes replace files, None leaves a file out."""
    build(root, {**FILES, **(changes or {})})
    return load_catalog(root)


# --- the shipped content ---------------------------------------------------------------------


def test_shipped_content_is_clean() -> None:
    assert [str(p) for p in check_content(CONTENT)] == []


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    catalog, problems = load_catalog(CONTENT)
    assert problems == []
    return catalog


def test_shipped_suggestions_cover_every_group_and_section(shipped: Catalog) -> None:
    book = shipped.pledges
    assert 40 <= len(book.suggestions) <= 55
    for group in GROUPS:
        for section in sections_for(group):
            found = book.for_section(section, group=group, topic=DEMO_TOPIC)
            assert len(found) >= 3, (group, section)
        assert len(book.for_section("follow", group=group, topic=DEMO_TOPIC)) >= 3
    for group in ("vien_chuc", "cong_nhan_lao_dong"):
        assert book.for_section("example", group=group, topic=DEMO_TOPIC) == []


def test_shipped_study_has_one_item_per_topic(shipped: Catalog) -> None:
    book = shipped.pledges
    for topic in shipped.topics:
        specific = [s for s in book.suggestions if s.section == "study" and s.topics == [topic]]
        assert len(specific) == 1, topic


def test_shipped_texts_are_short_and_normalised(shipped: Catalog) -> None:
    for suggestion in shipped.pledges.suggestions:
        assert len(suggestion.text) <= 200, suggestion.id
        assert unicodedata.normalize("NFC", suggestion.text) == suggestion.text
        assert suggestion.source.quote


def test_shipped_demo_campaign_has_pledge_dates(shipped: Catalog) -> None:
    campaign = next(c for c in shipped.campaigns if (c.root_unit, c.year) == ("LDLD-DEMO", 2026))
    assert campaign.pledge is not None
    rule = campaign.pledge
    assert rule.submit_before.isoformat() == "2026-04-10"
    assert rule.late_allowed is True
    assert rule.assessment_opens is not None and rule.assessment_opens.isoformat() == "2026-11-01"
    assert rule.assessment_closes is not None
    assert rule.assessment_closes.isoformat() == "2026-12-31"


def test_shipped_rating_is_the_default(shipped: Catalog) -> None:
    assert shipped.pledges.rating == RatingRule()


# --- the fixture -------------------------------------------------------------------------------


def test_fixture_is_clean(tmp_path: Path) -> None:
    catalog, problems = load(tmp_path)
    assert where(problems) == []
    book = catalog.pledges
    assert [s.id for s in book.suggestions] == ["hoc-chu-de", "lam-theo", "neu-guong", "bien-phap"]
    assert [level.id for level in book.rating.levels] == ["xuat-sac", "tot", "khong"]
    assert catalog.campaigns[0].pledge is not None


def test_no_pledges_file_means_no_suggestions_and_the_default_rating(tmp_path: Path) -> None:
    catalog, problems = load(tmp_path, {P: None})
    assert problems == []
    assert catalog.pledges == PledgeBook()
    assert catalog.pledges.suggestions == []
    assert [level.id for level in catalog.pledges.rating.levels] == [
        "xuat-sac",
        "tot",
        "hoan-thanh",
        "khong-hoan-thanh",
    ]


def test_rating_is_optional_in_the_file(tmp_path: Path) -> None:
    catalog, problems = load(tmp_path, {P: PLEDGES.split("rating:")[0]})
    assert problems == []
    assert catalog.pledges.rating == RatingRule()


def test_campaign_without_pledge_block(tmp_path: Path) -> None:
    catalog, problems = load(tmp_path, {C: CAMPAIGNS})
    assert problems == []
    assert catalog.campaigns[0].pledge is None


# --- one defect per case: (file, old, new, line, phrase) -------------------------------------

LAST_QUOTE = ', quote: "Mỗi đoàn viên"'

CASES = [
    # suggestions
    (P, "section: study", "section: hoc", 3, "study, follow, example hoặc measures"),
    (P, "[cong_chuc, vien_chuc]", "[cong_chuc, nhan_vien]", 9, "groups[1]: phải là một trong"),
    (P, "[cong_chuc, vien_chuc]", "[]", 9, "danh sách nhóm rỗng"),
    (P, "[cong_chuc, vien_chuc]", "[cong_chuc, cong_chuc]", 9, "nhóm bị lặp: cong_chuc"),
    (P, "topics: [chu-de]", "topics: [khong-co]", 4, "chủ đề “khong-co” không có tệp"),
    (P, "topics: [chu-de]", "topics: []", 4, "danh sách chủ đề rỗng"),
    (P, "id: lam-theo", "id: hoc-chu-de", 7, "mã gợi ý “hoc-chu-de” trùng với gợi ý ở dòng 2"),
    (P, "id: lam-theo", "id: Lam Theo", 7, "chỉ dùng chữ thường"),
    (P, '"Học tập chủ đề thử."', f'"{LONG}"', 5, "dài 412 ký tự, tối đa 300"),
    (P, '"Học tập chủ đề thử."', '" "', 5, "không được để trống"),
    (
        P,
        "Học tập chủ đề thử.",
        unicodedata.normalize("NFD", "Học tập chủ đề thử."),
        5,
        "suggestions[0].text: văn bản chưa chuẩn hóa Unicode NFC",
    ),
    (P, '    text: "Tự kiểm tra hằng quý."\n', "", 17, "text: thiếu trường bắt buộc"),
    (P, LAST_QUOTE, "", 20, "gợi ý phải có quote"),
    (P, '"Mỗi đoàn viên"', '"Mỗi công nhân"', 20, "không có nguyên văn trong “seed.txt”"),
    (
        P,
        'file: "seed.txt", section: "I", quote: "Mỗi',
        'file: "x.txt", section: "I", quote: "Mỗi',
        20,
        "không tìm thấy tệp văn bản gốc “x.txt”",
    ),
    (P, "section: measures", "section: measures\n    note: x", 19, "note: trường không có"),
    # nêu gương is for union officers and civil servants only
    (P, "[can_bo_cong_doan]", "[can_bo_cong_doan, vien_chuc]", 14, "bỏ vien_chuc"),
    (P, "[can_bo_cong_doan]", "[cong_nhan_lao_dong]", 14, "bỏ cong_nhan_lao_dong"),
    # rating
    (P, "partly: 1", "partly: 3", 24, "“partly” (3) không được lớn hơn điểm “done” (2)"),
    (P, "not_done: 0", "not_done: 2", 25, "“not_done” (2) không được lớn hơn điểm “partly” (1)"),
    (P, "    not_done: 0\n", "", 22, "thiếu điểm cho: not_done"),
    (P, "partly: 1", "partly: 1\n    partial: 1", 25, "khóa “partial” không hợp lệ"),
    (P, "partly: 1", "partly: -1", 24, "phải lớn hơn hoặc bằng 0"),
    (P, "partly: 1", "partly: một", 24, "phải là số nguyên"),
    (P, "min_percent: 70", "min_percent: 90", 33, "phải nhỏ hơn min_percent của mức ở trên (90)"),
    (P, "min_percent: 70", "min_percent: 95", 33, "phải nhỏ hơn min_percent của mức ở trên (90)"),
    (P, "min_percent: 0", "min_percent: 10", 36, "mức cuối cùng phải có min_percent: 0"),
    (P, "min_percent: 90", "min_percent: 101", 29, "nhỏ hơn hoặc bằng 100"),
    (P, "id: tot", "id: xuat-sac", 31, "mã mức “xuat-sac” trùng với mức thứ 1"),
    (P, '      label: "Tốt"\n', "", 31, "label: thiếu trường bắt buộc"),
    (P, "max_not_done: 0", "max_not_done: -1", 30, "phải lớn hơn hoặc bằng 0"),
    # the campaign's pledge dates
    (C, 'opens: "2026-11-01"', 'opens: "2026-04-01"', 12, "phải sau hạn nộp bản đăng ký"),
    (C, 'opens: "2026-11-01"', 'opens: "2026-04-10"', 12, "(10/04/2026) phải sau hạn nộp"),
    (C, 'closes: "2026-12-31"', 'closes: "2026-10-31"', 13, "không được trước ngày mở"),
    (C, '      assessment_opens: "2026-11-01"\n', "", 12, "phải có assessment_opens"),
    (C, "late_allowed: true", "late_allowed: abc", 11, "late_allowed: phải là true hoặc false"),
    (C, "late_allowed: true", "late_allowed: 1", 11, "phải là true hoặc false"),
    (C, 'submit_before: "2026-04-10"', 'submit_before: "10/4/2026"', 10, "ngày không hợp lệ"),
    (C, 'submit_before: "2026-04-10"', "submit_before: 2026-02-30", 10, "“2026-02-30”"),
    (C, '      submit_before: "2026-04-10"\n', "", 9, "submit_before: thiếu trường bắt buộc"),
    (C, "late_allowed: true", "late_alowed: true", 11, "late_alowed: trường không có"),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "phrase"), CASES)
def test_defect_is_reported_at_its_line(
    tmp_path: Path, file: str, old: str, new: str, line: int, phrase: str
) -> None:
    assert_one(problems_with(tmp_path, file, old, new), file, line, phrase)


def test_yaml_yes_is_a_bool(tmp_path: Path) -> None:
    build(tmp_path, {**FILES, C: FILES[C].replace("late_allowed: true", "late_allowed: no")})
    catalog, problems = load_catalog(tmp_path)
    assert problems == []
    rule = catalog.campaigns[0].pledge
    assert rule is not None and rule.late_allowed is False


def test_assessment_dates_are_optional(tmp_path: Path) -> None:
    rule_text = '    pledge:\n      submit_before: "2026-04-10"\n'
    catalog, problems = load(tmp_path, {C: CAMPAIGNS + rule_text})
    assert problems == []
    rule = catalog.campaigns[0].pledge
    assert rule is not None
    assert (rule.late_allowed, rule.assessment_opens, rule.assessment_closes) == (True, None, None)


def test_one_bad_suggestion_drops_only_itself(tmp_path: Path) -> None:
    build(tmp_path, {**FILES, P: PLEDGES.replace("section: follow", "section: lam", 1)})
    catalog, problems = load_catalog(tmp_path)
    assert len(problems) == 1
    assert [s.id for s in catalog.pledges.suggestions] == ["hoc-chu-de", "neu-guong", "bien-phap"]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"Mỗi đoàn viên"', '"Mỗi công nhân"'),  # quote not in the seed
        ("topics: [chu-de]", "topics: [khong-co]"),  # unknown topic
        ("id: lam-theo", "id: hoc-chu-de"),  # duplicate id: the second one goes
    ],
)
def test_suggestion_failing_a_cross_check_is_dropped(tmp_path: Path, old: str, new: str) -> None:
    build(tmp_path, {**FILES, P: PLEDGES.replace(old, new, 1)})
    catalog, problems = load_catalog(tmp_path)
    assert len(problems) == 1
    assert len(catalog.pledges.suggestions) == 3


def test_bad_rating_falls_back_to_the_default(tmp_path: Path) -> None:
    build(tmp_path, {**FILES, P: PLEDGES.replace("min_percent: 0", "min_percent: 10")})
    catalog, problems = load_catalog(tmp_path)
    assert len(problems) == 1
    assert catalog.pledges.rating == RatingRule()
    assert len(catalog.pledges.suggestions) == 4


def test_several_defects_are_all_reported(tmp_path: Path) -> None:
    text = PLEDGES.replace("section: study", "section: hoc").replace("partly: 1", "partly: 5")
    build(tmp_path, {**FILES, P: text})
    found = [(name, line) for name, line, _ in where(load_catalog(tmp_path)[1])]
    assert found == [(P, 3), (P, 24)]


# --- sections and suggestions per member ----------------------------------------------------------


def test_constants_match_the_member_groups() -> None:
    assert set(GROUPS) == {g.value for g in MemberGroup}
    assert {MemberGroup.UNION_OFFICER.value, MemberGroup.CIVIL_SERVANT.value} == EXAMPLE_GROUPS
    assert SECTIONS == ("study", "follow", "example", "measures")
    assert RESULTS == ("done", "partly", "not_done")


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("can_bo_cong_doan", ("study", "follow", "example", "measures")),
        ("cong_chuc", ("study", "follow", "example", "measures")),
        ("vien_chuc", ("study", "follow", "measures")),
        ("cong_nhan_lao_dong", ("study", "follow", "measures")),
    ],
)
def test_sections_for(group: str, expected: tuple[str, ...]) -> None:
    assert sections_for(group) == expected


@pytest.mark.parametrize(
    ("section", "group", "topic", "expected"),
    [
        ("study", "vien_chuc", "chu-de", ["hoc-chu-de"]),
        ("study", "vien_chuc", "khac", []),  # a topic-specific suggestion needs its topic
        ("study", "vien_chuc", None, []),
        ("follow", "cong_chuc", None, ["lam-theo"]),
        ("follow", "can_bo_cong_doan", "chu-de", []),  # not one of its groups
        ("example", "can_bo_cong_doan", "chu-de", ["neu-guong"]),
        ("example", "vien_chuc", "chu-de", []),
        ("measures", "cong_nhan_lao_dong", None, ["bien-phap"]),  # topic-less: always
        ("measures", "cong_nhan_lao_dong", "chu-de", ["bien-phap"]),
        ("khac", "cong_chuc", "chu-de", []),
    ],
)
def test_for_section(
    tmp_path: Path, section: str, group: str, topic: str | None, expected: list[str]
) -> None:
    book = load(tmp_path)[0].pledges
    assert [s.id for s in book.for_section(section, group=group, topic=topic)] == expected


def test_example_without_groups_reaches_only_officers_and_civil_servants(tmp_path: Path) -> None:
    text = PLEDGES.replace("    groups: [can_bo_cong_doan]\n", "", 1)
    book = load(tmp_path, {P: text})[0].pledges
    for group in GROUPS:
        found = [s.id for s in book.for_section("example", group=group, topic=None)]
        assert found == (["neu-guong"] if group in EXAMPLE_GROUPS else []), group


# --- the rating ---------------------------------------------------------------------------------

D, H, N = "done", "partly", "not_done"


@pytest.mark.parametrize(
    ("results", "percent", "level"),
    [
        ([], 0, "khong-hoan-thanh"),
        ([D] * 10, 100, "xuat-sac"),
        ([D] * 9 + [H], 95, "xuat-sac"),
        ([D] * 4 + [H], 90, "xuat-sac"),  # exactly 90, nothing left undone
        ([D] * 19 + [N], 95, "tot"),  # high percent but one commitment not done
        ([D] * 9 + [N], 90, "tot"),
        ([D] * 7 + [N] * 3, 70, "tot"),  # exactly 70
        ([D] * 2 + [H], 83, "tot"),  # 5/6 rounds down
        ([D] * 6 + [H] + [N] * 3, 65, "hoan-thanh"),
        ([H] * 3, 50, "hoan-thanh"),  # exactly 50
        ([D] + [H] * 2, 66, "hoan-thanh"),  # 4/6 rounds down
        ([D] * 24 + [H] + [N] * 25, 49, "khong-hoan-thanh"),
        ([N] * 4, 0, "khong-hoan-thanh"),
    ],
)
def test_default_rating(results: list[str], percent: int, level: str) -> None:
    rule = RatingRule()
    assert rule.percent(results) == percent
    assert rule.rate(results).id == level


def test_rating_labels() -> None:
    rule = RatingRule()
    assert rule.rate(["done"]).label == "Hoàn thành xuất sắc nhiệm vụ"
    assert rule.rate(["not_done"]).label == "Không hoàn thành nhiệm vụ"


def test_rating_from_the_file(tmp_path: Path) -> None:
    rule = load(tmp_path)[0].pledges.rating
    assert rule.rate([D, D, D, D, H]).id == "xuat-sac"
    assert rule.rate([D, D, D, N]).id == "tot"
    assert rule.rate([H, H]).id == "khong"


def test_points_other_than_the_default(tmp_path: Path) -> None:
    text = PLEDGES.replace("done: 2", "done: 4", 1).replace("partly: 1", "partly: 2")
    rule = load(tmp_path, {P: text})[0].pledges.rating
    assert rule.points == {"done": 4, "partly": 2, "not_done": 0}
    assert rule.percent([D, H, H, N]) == 50


def test_unknown_result_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown results"):
        RatingRule().percent(["done", "xong"])
