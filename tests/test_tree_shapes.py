"""No district level, no fixed number of levels (issue 16, item 14): Vietnam removed the district
level on 1/7/2025. A province whose base unions sit right under it (2 levels) and one with
branches, member unions, section unions and groups (6 levels) both work for a newcomer choosing
their unit and for /thongke adding the members up; the demo tree and the texts have no "huyện"."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import pytest
from sqlmodel import Session

from bot.app import App, build_app, ensure_demo_plan
from bot.channels.memory import MemoryChat
from bot.config import PROJECT_ROOT, Settings
from bot.content import Content
from bot.contentmodel import strings
from bot.services import units
from bot.yamlfile import load_yaml

ROOT = "LDLD-DEMO"  # the code the demo plan's presets belong to

TWO_LEVELS = [
    (ROOT, "LĐLĐ tỉnh Hai Cấp", ""),
    ("CDCS-SO-NV", "CĐCS Sở Nội vụ", ROOT),
    ("CDCS-CTY-GO", "CĐCS Công ty Chế biến gỗ Rừng Xanh", ROOT),
]
SIX_LEVELS = [
    (ROOT, "LĐLĐ tỉnh Sáu Cấp", ""),
    ("CD-NGANH-YT", "Công đoàn ngành Y tế", ROOT),
    ("CDCS-BV", "CĐCS Bệnh viện Đa khoa tỉnh", "CD-NGANH-YT"),
    ("CDCS-TV-NOI", "Công đoàn cơ sở thành viên Khối Nội", "CDCS-BV"),
    ("CDBP-TIM", "Công đoàn bộ phận Khoa Tim mạch", "CDCS-TV-NOI"),
    ("TO-DD", "Tổ công đoàn Điều dưỡng", "CDBP-TIM"),
]


def _app(settings: Settings, content: Content, tree: list[tuple[str, str, str]]) -> App:
    built = build_app(settings, extra_admins={"memory": {"admin"}}, content=content)
    rows = [(n, {"code": c, "name": name, "parent_code": p}) for n, (c, name, p) in enumerate(tree)]
    with Session(built.db) as s:
        result = units.import_units(s, rows)
        s.commit()
    assert not result.errors and result.created == len(tree)
    ensure_demo_plan(built)  # the plan of this year for the tree whose root is LDLD-DEMO
    return built


@pytest.fixture
def two(settings: Settings, content: Content) -> Iterator[App]:
    built = _app(settings, content, TWO_LEVELS)
    yield built
    built.db.dispose()


@pytest.fixture
def six(settings: Settings, content: Content) -> Iterator[App]:
    built = _app(settings, content, SIX_LEVELS)
    yield built
    built.db.dispose()


def _members_line(text: str) -> str:
    return next(line for line in text.splitlines() if "Đã tham gia trên Trợ lý" in line)


def test_two_levels_a_base_union_right_under_the_province(two: App) -> None:
    me = MemoryChat(two.engine, "21")
    me.say("/start")
    me.say("Đinh Văn Gỗ")
    labels = [o.label for o in me.last_choices().options]  # one province: its units at once
    assert any("Công ty Chế biến gỗ" in label for label in labels), labels
    assert any("Sở Nội vụ" in label for label in labels), labels
    me.press("Chế biến gỗ")
    assert "Bước 3/5" in me.last_text()  # a base union without children is chosen at once
    me.press("Công nhân lao động")
    me.press("Không")
    me.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in me.last_text()
    other = MemoryChat(two.engine, "22")
    other.say("/start")
    other.say("Lê Thị Vụ")
    other.press("Sở Nội vụ")
    other.press("Công chức")
    other.press("Có")
    other.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in other.last_text()

    admin = MemoryChat(two.engine, "admin")
    admin.say("/thongke")
    text = admin.last_text()
    assert "Thống kê năm" in text and "LĐLĐ tỉnh Hai Cấp" in text
    assert "2 đoàn viên (đảng viên: 1)" in _members_line(text)
    assert "CĐCS Sở Nội vụ" in text and "CĐCS Công ty Chế biến gỗ Rừng Xanh" in text


def test_six_levels_down_to_a_group_and_back_up(six: App) -> None:
    me = MemoryChat(six.engine, "61")
    me.say("/start")
    me.say("Trần Thị Tâm")
    for step in ("ngành Y tế", "Bệnh viện Đa khoa", "Khối Nội", "Khoa Tim mạch"):
        me.press(step)
        assert "Các đơn vị trực thuộc" in me.last_text(), step
    me.press("Tổ công đoàn Điều dưỡng")
    assert "Bước 3/5" in me.last_text()
    me.press("Viên chức")
    me.press("Có")
    me.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in me.last_text()
    # another walks half way down and chooses a unit that has units below it
    other = MemoryChat(six.engine, "62")
    other.say("/start")
    other.say("Võ Văn Nội")
    other.press("ngành Y tế")
    other.press("Bệnh viện Đa khoa")
    other.press("Khối Nội")
    other.press("Chọn: Công đoàn cơ sở thành viên Khối Nội")
    other.press("Viên chức")
    other.press("Không")
    other.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in other.last_text()

    admin = MemoryChat(six.engine, "admin")
    admin.say("/thongke")
    assert "2 đoàn viên (đảng viên: 1)" in _members_line(admin.last_text())
    expected = {  # each level adds up its whole subtree
        "Công đoàn ngành Y tế": 2,
        "CĐCS Bệnh viện Đa khoa tỉnh": 2,
        "Công đoàn cơ sở thành viên Khối Nội": 2,
        "Công đoàn bộ phận Khoa Tim mạch": 1,
        "Tổ công đoàn Điều dưỡng": 1,
    }
    trail = ["LĐLĐ tỉnh Sáu Cấp"]
    for name, count in expected.items():
        labels = [o.label for o in admin.last_choices().options]
        opened = next((o for o in admin.last_choices().options if name[:20] in o.label), None)
        assert opened is not None, (name, labels, admin.last_text())
        admin.press_data(opened.data)
        text = admin.last_text()
        assert "Thống kê năm" in text and name in text.splitlines()[0], text
        assert f"{count} đoàn viên" in _members_line(text), (name, text)
        where = next(line for line in text.splitlines() if line.startswith("📍 Thuộc: "))
        assert where.startswith("📍 Thuộc: LĐLĐ tỉnh Sáu Cấp"), where  # every level above it
        assert where.count(" › ") == len(trail) - 1, where  # (long names cut short)
        trail.append(name)


def test_the_demo_tree_and_the_texts_have_no_district_level() -> None:
    district = re.compile(r"(?<!\w)(?:huyện|Huyện|HUYỆN)(?!\w)|(?<![A-Z])HUYEN(?![A-Z])")
    with (PROJECT_ROOT / "content" / "units_demo.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["code"] for r in rows if district.search(r["code"] + r["name"])] == []
    codes = {r["code"] for r in rows}
    kept = {"LDLD-DEMO", "CD-NGANH-GD", "CDCS-MN-HM", "CDCS-CTY-MAY", "TO-CD-MAY-1"}
    assert kept | {"CDCS-THPT-LTV", "CDCS-THCS-NTT", "CD-KCN"} <= codes
    texts = load_yaml(PROJECT_ROOT / "content" / "texts.yaml")
    found = [(loc, text) for loc, text in strings(texts.data, ()) if district.search(text)]
    assert found == []
