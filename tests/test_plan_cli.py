"""A fresh deployment with its own unit tree, run from the command line and the chat: units
imported (with real member counts), this year's plan made with `congdoan plan new`, then a member
registers, studies, takes a quiz and submits a pledge, and /thongke counts it. And every refusal
of `congdoan plan` is one Vietnamese line, with a non-zero exit code and no traceback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from bot.app import build_app
from bot.channels.memory import MemoryChat
from bot.models import Plan, Pledge, QuizAttempt, StudyProgress, Unit, utcnow
from tests.helpers import Clock, register, run_cli
from tests.test_pledge import submit, tick
from tests.test_quiz import _answer

UNITS = """code,name,parent_code,members,party_members
TINH-X,LĐLĐ tỉnh Xanh,,,
KCN-X1,Công đoàn các Khu công nghiệp tỉnh Xanh,TINH-X,,
CDCS-SX,CĐCS Nhà máy Sông Xanh,KCN-X1,120,10
"""
YEAR = utcnow().year + 1  # next year: its default deadline (10/4) is always ahead of today


def import_units(tmp_path: Path) -> str:
    path = tmp_path / "donvi.csv"
    path.write_text(UNITS, encoding="utf-8")
    code, out = run_cli("units", "import", str(path))
    assert code == 0, out
    return out


def test_a_fresh_deployment_runs_its_year(cli_env, tmp_path, settings, content) -> None:  # type: ignore[no-untyped-def]
    out = import_units(tmp_path)
    assert "Đã nạp: 3 mới" in out and "congdoan plan new --root TINH-X" in out
    code, out = run_cli("plan", "list")
    assert code == 0 and "Chú ý: TINH-X (LĐLĐ tỉnh Xanh) chưa có kế hoạch năm" in out
    assert "demo-2026\tLDLD-DEMO (không có trong cây đơn vị)" in out  # the presets, imported
    code, out = run_cli("plan", "new", "--root", "TINH-X", "--year", str(YEAR))
    assert code == 0, out
    assert f"Đã tạo kế hoạch tinh-x-{YEAR}." in out
    assert f"nộp trước ngày 10/04/{YEAR}" in out and "TINH-X (LĐLĐ tỉnh Xanh)" in out
    code, out = run_cli("plan", "show", f"tinh-x-{YEAR}")
    assert code == 0 and f"Kế hoạch tinh-x-{YEAR} – TINH-X (LĐLĐ tỉnh Xanh), năm {YEAR}" in out
    assert f"Tự đánh giá: từ 01/11/{YEAR} đến 31/12/{YEAR}" in out

    clock = Clock(datetime(YEAR, 2, 16, 2, 0, tzinfo=UTC))  # 09:00, 16/02, in Vietnam
    app = build_app(settings, clock=clock, content=content, extra_admins={"memory": {"admin"}})
    me = MemoryChat(app.engine, "m1")
    register(me, name="Hoàng Thị Xuân", unit="Sông Xanh", group="Công nhân lao động")
    me.say("/hoc")  # the plan's topic comes first
    assert f"chuyên đề của kế hoạch năm {YEAR} đứng đầu" in me.last_text()
    me.press_data(me.last_choices().options[0].data)
    while "Hoàn thành" not in str(me.last_choices().options):
        me.press("Tiếp")
    me.press("Hoàn thành")
    assert "Bạn đã học xong chuyên đề" in me.last_text()
    me.say("/thi")
    me.press("7 dám")
    me.press("Bắt đầu")
    while "Kết quả" not in me.last_text():
        _answer(me, app, right=True)
    me.say("/dangky")
    assert f"năm {YEAR}" in me.last_text() and f"hết ngày 09/04/{YEAR}" in me.last_text()
    me.press("Bắt đầu viết")
    while "Phần " in me.last_text() and "Xong" in str(me.last_choices().options):
        tick(me, 1)
        me.press("Xong")
    me.press(f"Cả năm {YEAR}")
    submit(me)
    with Session(app.db) as s:
        assert s.exec(select(Pledge.campaign_id)).all() == [f"tinh-x-{YEAR}"]
        assert s.exec(select(QuizAttempt.campaign_id)).all() == [f"tinh-x-{YEAR}"]
        assert s.exec(select(StudyProgress.completed_at)).one() is not None

    admin = MemoryChat(app.engine, "admin")
    admin.say("/thongke")
    text = admin.last_text()
    assert f"Thống kê năm {YEAR}: LĐLĐ tỉnh Xanh" in text
    assert "Đã nộp bản đăng ký: 1/120 (0,83%) so với số đoàn viên thực tế · 1 trên Trợ lý" in text
    assert "dự thi" in text and "Học xong chuyên đề của kế hoạch: 1 người" in text
    app.db.dispose()


REFUSALS = [
    (["plan", "new", "--year", "2030"], "thiếu --root"),
    (["plan", "new", "--root", "TINH-X", "--year", "năm sau"], "--year phải là một năm"),
    (["plan", "new", "--root", "KHONG-CO", "--year", str(YEAR)], "không có đơn vị mã KHONG-CO"),
    (
        ["plan", "new", "--root", "CDCS-SX", "--year", str(YEAR)],
        "CDCS-SX không phải đơn vị gốc: kế hoạch làm cho cả cây, dùng --root TINH-X",
    ),
    (["plan", "new", "--root", "TINH-X", "--year", "1990"], "Năm 1990 không hợp lệ"),
    (
        ["plan", "new", "--root", "TINH-X", "--year", str(YEAR), "--pledge-deadline", "10/04/2027"],
        "--pledge-deadline phải có dạng YYYY-MM-DD",
    ),
    (
        [
            "plan",
            "new",
            "--root",
            "TINH-X",
            "--year",
            str(YEAR - 1),
            "--pledge-deadline",
            "2000-01-01",
        ],
        "Hạn nộp bản đăng ký 01/01/2000 đã qua",
    ),
    (
        ["plan", "new", "--root", "TINH-X", "--year", str(YEAR), "--topic", "khong-co"],
        "Không có chuyên đề mã khong-co",
    ),
    (
        ["plan", "new", "--root", "TINH-X", "--year", str(YEAR), "--from", "nope"],
        "Không có kế hoạch mã nope để sao chép",
    ),
    (["plan", "show", "nope"], "không có kế hoạch mã “nope”"),
]


@pytest.mark.parametrize(("args", "says"), REFUSALS)
def test_plan_refusals_are_one_line(cli_env, tmp_path, args, says) -> None:  # type: ignore[no-untyped-def]
    import_units(tmp_path)
    code, out = run_cli(*args)
    assert code != 0 and says in out, out
    assert len(out.strip().splitlines()) == 1 and out.startswith("Lỗi: ")


def test_a_year_is_made_once_and_options_are_used(cli_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import_units(tmp_path)
    deadline = (utcnow() + timedelta(days=400)).date()
    code, out = run_cli(
        "plan", "new", "--root", "TINH-X", "--year", str(YEAR), "--topic", "bay-dam-2024",
        "--pledge-deadline", deadline.isoformat(),
    )  # fmt: skip
    assert code == 0, out
    assert f"nộp trước ngày {deadline:%d/%m/%Y}" in out and "7 dám (chuyên đề của năm trước)" in out
    code, out = run_cli("plan", "new", "--root", "TINH-X", "--year", str(YEAR))
    assert code != 0 and f"đã có kế hoạch năm {YEAR} (mã tinh-x-{YEAR})" in out
    code, out = run_cli("plan", "new", "--root", "TINH-X", "--year", str(YEAR + 1))
    assert code == 0 and f"Đã tạo kế hoạch tinh-x-{YEAR + 1}." in out  # copied from the last one
    assert "7 dám" in out
    code, out = run_cli("plan", "list")
    assert f"tinh-x-{YEAR}\tTINH-X\tnăm {YEAR}" in out and "chưa bắt đầu" in out


def test_report_deadlines_already_passed_are_left_out(cli_env, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """This year's plan made on 20/11: the command line cannot ask for new report deadlines, so
    those already passed are left out, and it says which."""
    from bot import models

    import_units(tmp_path)
    monkeypatch.setattr(models, "utcnow", lambda: datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    args = ("plan", "new", "--root", "TINH-X", "--year", "2026")
    code, out = run_cli(*args, "--pledge-deadline", "2026-12-01")
    assert code == 0, out
    assert (
        "Không đưa vào kế hoạch các hạn báo cáo đã qua: Báo cáo kết quả thực hiện 06 tháng "
        "(06/05/2026); Báo cáo kết quả thực hiện 01 năm (11/11/2026)."
    ) in out
    assert "Hạn báo cáo: không có" in out


def test_units_import_takes_real_counts(cli_env, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    import_units(tmp_path)
    again = tmp_path / "again.csv"
    again.write_text(
        "code;name;parent_code;members;party_members\n"
        "TINH-X;LĐLĐ tỉnh Xanh;;1.234;\n"  # Vietnamese thousands; an empty cell keeps the count
        "CDCS-SX;CĐCS Nhà máy Sông Xanh;KCN-X1;;\n",
        encoding="utf-8",
    )
    code, out = run_cli("units", "import", str(again))
    assert code == 0 and "1 cập nhật" in out, out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "code,name,parent_code,members,party_members\nTINH-X,LĐLĐ tỉnh Xanh,,nhiều,\n"
        "CDCS-SX,CĐCS Nhà máy Sông Xanh,KCN-X1,10,20\n",
        encoding="utf-8",
    )
    code, out = run_cli("units", "import", str(bad))
    assert code == 1 and "Dòng 2: members “nhiều” phải là một số nguyên" in out
    assert "Dòng 3: số đảng viên (party_members) lớn hơn số đoàn viên (members)" in out
    engine = build_app(settings).db
    with Session(engine) as s:
        counts = {u.code: (u.members, u.party_members) for u in s.exec(select(Unit)).all()}
        assert s.exec(select(Plan)).first() is not None  # (the presets: the app was built)
    engine.dispose()
    assert counts["TINH-X"] == (1234, None) and counts["CDCS-SX"] == (120, 10)
