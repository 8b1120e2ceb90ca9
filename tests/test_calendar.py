"""The anniversary calendar: shipped posts are clean, counts and round variants, rendering escapes
values, every defect is reported at file:line, and upcoming() wraps over the year."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import Calendar, Event, Post, load_calendar
from bot.config import PROJECT_ROOT
from bot.content import Content
from bot.yamlfile import ContentError, Problem, load_yaml

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TOPIC = "Dân chủ và pháp chế 2024"
TOPIC_TITLE = "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về thực hành dân chủ"

CALENDAR = """\
grace_hours: 6
default_time: "07:00"
events:
  - id: sinh-nhat-bac
    day: 19
    month: 5
    since: 1890
    name: "Ngày sinh Chủ tịch Hồ Chí Minh"
    post: sinh-nhat-bac
  - id: quoc-khanh
    day: 2
    month: 9
    since: 1945
    name: "Quốc khánh"
    time: "08:30"
"""

POST = """\
text: |-
  <b>Kỷ niệm {count} năm {name}</b>
  Ngày {date}. Chuyên đề: {topic}.
  Học /hoc, thi /thi.
round_text: |-
  <b>Trọng thể kỷ niệm {count} năm</b>
  <i>{topic_title}</i>
"""

SHORT = 'text: "<b>{name}</b> năm {year}"\n'

BASE = {
    "calendar.yaml": CALENDAR,
    "posts/sinh-nhat-bac.yaml": POST,
    "posts/quoc-khanh.yaml": SHORT,
}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def build(root: Path, changes: dict[str, str | bytes | None] | None = None) -> Path:
    """A content dir from BASE; changes add or replace files, None leaves a file out."""
    files: dict[str, str | bytes | None] = {**BASE, **(changes or {})}
    for name, data in files.items():
        if data is None:
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return root


def problems_with(root: Path, file: str, old: str, new: str) -> list[Problem]:
    """Load BASE with one edit (old -> new, once) in one file."""
    assert old in BASE[file], old
    build(root, {file: BASE[file].replace(old, new, 1)})
    return load_calendar(root)[1]


def assert_one(problems: list[Problem], file: str, line: int, phrase: str) -> None:
    found = [(p.file.name, p.line, p.message) for p in problems]
    assert len(found) == 1, found
    name, at, message = found[0]
    assert (name, at) == (Path(file).name, line), found
    assert phrase in message, message


def render(calendar: Calendar, event_id: str, year: int, **kw: str) -> str:
    event = calendar.event(event_id)
    assert event is not None
    kw.setdefault("topic", TOPIC)
    kw.setdefault("topic_title", TOPIC_TITLE)
    return calendar.render(event, year, tz=TZ, **kw)[0]  # type: ignore[arg-type]


# --- the shipped content ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Calendar:
    calendar, problems = load_calendar(PROJECT_ROOT / "content")
    assert [str(p) for p in problems] == []
    return calendar


def test_shipped_calendar_is_clean_and_complete(shipped: Calendar, content: Content) -> None:
    ids = [e.id for e in shipped.events]
    for required in ("sinh-nhat-bac", "cong-doan", "quoc-khanh"):
        assert required in ids
    assert len(ids) >= 6
    assert shipped.grace == timedelta(hours=6)
    assert [e.id for e in content.calendar.events] == ids  # load_content loads it too
    for event in shipped.events:
        assert event.post in shipped.posts


@pytest.mark.parametrize(
    ("event_id", "count", "solemn"),
    [("sinh-nhat-bac", 135, True), ("cong-doan", 96, False), ("quoc-khanh", 80, True)],
)
def test_shipped_counts_and_round_variant(
    shipped: Calendar, event_id: str, count: int, solemn: bool
) -> None:
    event = shipped.event(event_id)
    assert event is not None
    assert event.count(2025) == count
    text = render(shipped, event_id, 2025)
    assert f"{count} năm" in text
    assert ("Trọng thể" in text) is solemn
    assert "{" not in text and "}" not in text


def test_shipped_posts_read_well(shipped: Calendar) -> None:
    for event in shipped.events:
        for year in range(2025, 2035):
            text = render(shipped, event.id, year)
            assert 600 <= len(text) <= 1500, (event.id, year, len(text))
            assert unicodedata.normalize("NFC", text) == text
            assert "/hoc" in text and "/thi" in text and "/dangky" in text
            assert TOPIC in text or TOPIC_TITLE in text


def test_occurrence_is_local_time(shipped: Calendar) -> None:
    event = shipped.event("sinh-nhat-bac")
    assert event is not None
    when = event.occurrence(2025, TZ)
    assert when.tzinfo is not None
    assert when.astimezone(UTC) == datetime(2025, 5, 19, 0, 0, tzinfo=UTC)


# --- rendering --------------------------------------------------------------------------------


def test_render_fills_and_escapes(tmp_path: Path) -> None:
    calendar, problems = load_calendar(build(tmp_path))
    assert problems == []
    text = render(calendar, "sinh-nhat-bac", 2026, topic="A & B <i>")
    assert text.startswith("<b>Kỷ niệm 136 năm Ngày sinh Chủ tịch Hồ Chí Minh</b>\n")
    assert "Ngày 19/05/2026. Chuyên đề: A &amp; B &lt;i&gt;." in text
    solemn = render(calendar, "sinh-nhat-bac", 2025, topic_title="<b>& chuyên đề")
    assert solemn == "<b>Trọng thể kỷ niệm 135 năm</b>\n<i>&lt;b&gt;&amp; chuyên đề</i>"
    assert len(solemn) <= 4096


def test_round_variant_falls_back_to_text(tmp_path: Path) -> None:
    calendar, _ = load_calendar(build(tmp_path))
    assert render(calendar, "quoc-khanh", 2025) == "<b>Quốc khánh</b> năm 2025"  # 80: no round_text


def test_render_returns_the_image(tmp_path: Path) -> None:
    root = build(
        tmp_path, {"posts/anh.png": PNG, "posts/quoc-khanh.yaml": SHORT + "image: anh.png\n"}
    )
    calendar, problems = load_calendar(root)
    assert problems == []
    event = calendar.event("quoc-khanh")
    assert event is not None
    assert event.time == time(8, 30)
    assert calendar.render(event, 2025, topic=TOPIC, topic_title=TOPIC_TITLE, tz=TZ)[1] == PNG
    other = calendar.event("sinh-nhat-bac")
    assert other is not None
    assert other.time == time(7, 0)
    assert calendar.render(other, 2025, topic=TOPIC, topic_title=TOPIC_TITLE, tz=TZ)[1] is None


def test_missing_calendar_is_an_empty_calendar(tmp_path: Path) -> None:
    calendar, problems = load_calendar(tmp_path)
    assert problems == []
    assert calendar.events == []
    assert calendar.upcoming(datetime(2025, 1, 1, tzinfo=UTC), TZ) == []


def test_post_defaults_to_the_event_id(tmp_path: Path) -> None:
    calendar, problems = load_calendar(build(tmp_path))
    assert problems == []
    event = calendar.event("quoc-khanh")
    assert event is not None and event.post == "quoc-khanh"


# --- upcoming ---------------------------------------------------------------------------------


def _calendar() -> Calendar:
    post = Post(text="{name}")
    events = [
        Event("dang", 3, 2, 1930, "Đảng", time(7, 0), "p"),
        Event("bac", 19, 5, 1890, "Bác", time(7, 0), "p"),
        Event("quoc-khanh", 2, 9, 1945, "Quốc khánh", time(7, 0), "p"),
    ]
    return Calendar(events=events, posts={"p": post})


def test_upcoming_soonest_first() -> None:
    calendar = _calendar()
    after = datetime(2025, 3, 1, 12, 0, tzinfo=TZ)
    found = [(e.id, when) for e, when in calendar.upcoming(after, TZ, limit=3)]
    assert found == [
        ("bac", datetime(2025, 5, 19, 7, 0, tzinfo=TZ)),
        ("quoc-khanh", datetime(2025, 9, 2, 7, 0, tzinfo=TZ)),
        ("dang", datetime(2026, 2, 3, 7, 0, tzinfo=TZ)),
    ]


def test_upcoming_wraps_over_the_year() -> None:
    calendar = _calendar()
    after = datetime(2025, 9, 2, 7, 0, tzinfo=TZ)  # the 2/9 post itself is not "after"
    found = [(e.id, when.year) for e, when in calendar.upcoming(after, TZ, limit=5)]
    assert found == [
        ("dang", 2026),
        ("bac", 2026),
        ("quoc-khanh", 2026),
        ("dang", 2027),
        ("bac", 2027),
    ]


def test_upcoming_takes_any_zone_and_refuses_naive() -> None:
    calendar = _calendar()
    after = datetime(2025, 5, 19, 0, 30, tzinfo=UTC)  # 07:30 in Vietnam: today's post is past
    first, when = calendar.upcoming(after, TZ, limit=1)[0]
    assert first.id == "quoc-khanh" and when.year == 2025
    assert calendar.upcoming(after, TZ, limit=0) == []
    with pytest.raises(ValueError):
        calendar.upcoming(datetime(2025, 1, 1), TZ)


# --- defects at file:line ---------------------------------------------------------------------


def test_unknown_post_file(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, "calendar.yaml", "post: sinh-nhat-bac", "post: sinh-nhat")
    assert_one(problems, "calendar.yaml", 9, "posts/sinh-nhat.yaml")


def test_unknown_post_file_by_id(tmp_path: Path) -> None:
    build(tmp_path, {"posts/quoc-khanh.yaml": None})
    assert_one(load_calendar(tmp_path)[1], "calendar.yaml", 10, "posts/quoc-khanh.yaml")


def test_duplicate_id(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, "calendar.yaml", "id: quoc-khanh", "id: sinh-nhat-bac")
    assert_one(problems, "calendar.yaml", 10, "trùng với sự kiện ở dòng 4")


@pytest.mark.parametrize(("day", "phrase"), [("31", "31/2"), ("29", "năm nhuận")])
def test_day_not_in_every_year(tmp_path: Path, day: str, phrase: str) -> None:
    old = "day: 2\n    month: 9"
    problems = problems_with(tmp_path, "calendar.yaml", old, f"day: {day}\n    month: 2")
    assert_one(problems, "calendar.yaml", 11, phrase)


@pytest.mark.parametrize(
    ("old", "new", "line", "phrase"),
    [
        ("since: 1890", "since: 2101", 7, "nhỏ hơn hoặc bằng 2100"),
        ("since: 1890", "since: 999", 7, "lớn hơn hoặc bằng 1000"),
        ("month: 5", "month: 13", 6, "nhỏ hơn hoặc bằng 12"),
        ("day: 19", "day: 0", 5, "lớn hơn hoặc bằng 1"),
        ('time: "08:30"', 'time: "25:00"', 15, "giờ không hợp lệ “25:00”"),
        ('time: "08:30"', "time: 8:30", 15, "dấu ngoặc kép"),
        ('default_time: "07:00"', 'default_time: "7h"', 2, "giờ không hợp lệ"),
        ("grace_hours: 6", "grace_hours: -1", 1, "lớn hơn hoặc bằng 0"),
        ('    name: "Quốc khánh"\n', "", 10, "name: thiếu trường bắt buộc"),
        ("    post: sinh-nhat-bac\n", "    post: sinh-nhat-bac\n    picture: x\n", 10, "gõ nhầm"),
        ("id: quoc-khanh", "id: Quoc_Khanh", 10, "không hợp lệ"),
    ],
)
def test_event_defects(tmp_path: Path, old: str, new: str, line: int, phrase: str) -> None:
    assert_one(problems_with(tmp_path, "calendar.yaml", old, new), "calendar.yaml", line, phrase)


def test_broken_settings_still_check_the_events(tmp_path: Path) -> None:
    text = CALENDAR.replace("grace_hours: 6", "grace_hours: many").replace("day: 19", "day: 32")
    build(tmp_path, {"calendar.yaml": text})
    calendar, problems = load_calendar(tmp_path)
    assert [(p.file.name, p.line) for p in problems] == [("calendar.yaml", 1), ("calendar.yaml", 5)]
    assert [e.id for e in calendar.events] == ["quoc-khanh"]


def test_not_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Quốc khánh")
    problems = problems_with(tmp_path, "calendar.yaml", '"Quốc khánh"', f'"{decomposed}"')
    assert_one(problems, "calendar.yaml", 14, "NFC")


@pytest.mark.parametrize(
    ("old", "new", "line", "phrase"),
    [
        ("{topic}.", "{chu_de}.", 3, "“{chu_de}” không được dùng"),
        ("{topic}.", "{topic.", 3, "không có “}” đóng"),
        ("/thi.", "/thi}.", 4, "dấu “}” thừa"),
        ("{count} năm</b>\n  <i>", "{count:03} năm</b>\n  <i>", 6, "“{count:03}”"),
        ("Học /hoc", '<a href="x">Học</a> /hoc', 4, '“<a href="x">” không được dùng'),
        ("Học /hoc", '<b class="x">Học</b> /hoc', 4, "không được có thuộc tính"),
        ("Học /hoc", "<b>Học /hoc", 4, "“<b>” chưa được đóng"),
        ("Học /hoc", "Học</i> /hoc", 4, "“</i>” không có thẻ mở"),
        ("<i>{topic_title}</i>", "<i><b>{topic_title}</i></b>", 7, "đóng trước"),
        ("Học /hoc", "Học 1 < 2 /hoc", 4, "viết &lt;"),
        ("Học /hoc", "Học & thi /hoc", 4, "viết &amp;"),
        ("round_text: |-", "round_text: |-\n  <div>x</div>", 6, "“<div>” không được dùng"),
        ("round_text:", "title: x\nround_text:", 5, "gõ nhầm"),
    ],
)
def test_post_defects(tmp_path: Path, old: str, new: str, line: int, phrase: str) -> None:
    problems = problems_with(tmp_path, "posts/sinh-nhat-bac.yaml", old, new)
    assert_one(problems, "sinh-nhat-bac.yaml", line, phrase)


def test_entities_are_fine(tmp_path: Path) -> None:
    problems = problems_with(
        tmp_path, "posts/sinh-nhat-bac.yaml", "Học /hoc", "Học &amp; thi &lt;3 &#128512; {{x}}"
    )
    assert problems == []


def test_defect_in_a_quoted_one_line_text(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, "posts/quoc-khanh.yaml", "{year}", "{nam}")
    assert_one(problems, "quoc-khanh.yaml", 1, "{nam}")


def test_post_too_long_with_the_longest_values(tmp_path: Path) -> None:
    long = "<b>{name}</b> " + "ạ" * 3200 + " {topic_title}"  # fits with short values, not long ones
    build(tmp_path, {"posts/quoc-khanh.yaml": f"# note\ntext: |-\n  {long}\n"})
    assert_one(load_calendar(tmp_path)[1], "quoc-khanh.yaml", 2, "tối đa 3500")


def test_empty_text(tmp_path: Path) -> None:
    build(tmp_path, {"posts/quoc-khanh.yaml": 'text: "  "\n'})
    assert_one(load_calendar(tmp_path)[1], "quoc-khanh.yaml", 1, "không được để trống")


@pytest.mark.parametrize(
    ("image", "files", "phrase"),
    [
        ("anh.png", {}, "không tìm thấy tệp ảnh “anh.png”"),
        ("anh.gif", {"posts/anh.gif": b"GIF89a"}, ".png, .jpg hoặc .jpeg"),
        ("../anh.png", {"anh.png": PNG}, ".png, .jpg hoặc .jpeg"),
        ("anh.jpg", {"posts/anh.jpg": PNG}, "không phải ảnh JPG"),
    ],
)
def test_image_defects(
    tmp_path: Path, image: str, files: dict[str, str | bytes | None], phrase: str
) -> None:
    post = SHORT + f"image: {image}\n"
    build(tmp_path, {"posts/quoc-khanh.yaml": post, **files})
    calendar, problems = load_calendar(tmp_path)
    assert_one(problems, "quoc-khanh.yaml", 2, phrase)
    assert calendar.event("quoc-khanh") is None  # an event whose post is broken is left out


def test_image_too_big(tmp_path: Path) -> None:
    big = PNG + b"\x00" * (5 * 1024 * 1024)
    build(tmp_path, {"posts/quoc-khanh.yaml": SHORT + "image: anh.png\n", "posts/anh.png": big})
    assert_one(load_calendar(tmp_path)[1], "quoc-khanh.yaml", 2, "tối đa 5 MB")


def test_broken_yaml(tmp_path: Path) -> None:
    build(tmp_path, {"calendar.yaml": CALENDAR + "  - id: [\n"})
    problems = load_calendar(tmp_path)[1]
    assert len(problems) == 1 and "YAML không hợp lệ" in problems[0].message


def test_a_yaml_mistake_quotes_the_line_with_a_caret(tmp_path: Path) -> None:
    path = tmp_path / "su-kien.yaml"
    path.write_text("title: Ngày Quốc khánh\nday: [2, 9\nmonth: 9\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_yaml(path)
    (problem,) = raised.value.problems
    assert problem.line == 3 and "YAML không hợp lệ" in problem.message
    assert "    day: [2, 9\n         ^" in problem.message  # where to look, for a non-programmer


# --- the good examples of the tree ------------------------------------------------------------


def test_examples_fill_their_paragraph_or_leave_no_gap(tmp_path: Path) -> None:
    post = "text: |-\n  <b>{name}</b>\n\n  {examples}\n\n  Gõ /guongtot để giới thiệu.\n"
    calendar, problems = load_calendar(build(tmp_path, {"posts/quoc-khanh.yaml": post}))
    assert problems == []
    block = "🌟 <b>Gương tốt:</b>\n• <b>Cô Lan</b> (CĐCS A): kèm các cháu"
    shown = render(calendar, "quoc-khanh", 2026, examples=block)
    assert shown == f"<b>Quốc khánh</b>\n\n{block}\n\nGõ /guongtot để giới thiệu."
    plain = render(calendar, "quoc-khanh", 2026)
    assert plain == "<b>Quốc khánh</b>\n\nGõ /guongtot để giới thiệu."


def test_the_examples_placeholder_is_checked_like_the_others(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, "posts/sinh-nhat-bac.yaml", "{topic}.", "{example}.")
    assert_one(problems, "sinh-nhat-bac.yaml", 3, "“{example}” không được dùng")
    assert "{examples}" in problems[0].message  # named among the allowed ones
    long = "text: |-\n  {examples}\n  " + "x" * 1900 + "\n"  # fits only without examples
    build(tmp_path, {"posts/quoc-khanh.yaml": long})
    (problem,) = load_calendar(tmp_path)[1]
    assert "khi điền các chỗ trống với giá trị dài nhất" in problem.message


def test_shipped_anniversaries_of_the_plans_carry_the_examples(shipped: Calendar) -> None:
    for event_id in ("sinh-nhat-bac", "cong-doan", "quoc-khanh"):
        post = shipped.posts[event_id]
        for template in (post.text, post.round_text):
            assert template is not None and "{examples}" in template and "/guongtot" in template
