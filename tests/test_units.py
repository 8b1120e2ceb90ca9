"""Importing the unit tree from CSV and XLSX."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.models import Unit
from bot.services.units import UnitFileError, import_units, read_rows, search


def _import(app, path: Path):  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        result = import_units(s, read_rows(path))
        if result.errors:
            s.rollback()
        else:
            s.commit()
    return result


def _tree(app) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        units = s.exec(select(Unit)).all()
        by_id = {u.id: u for u in units}
        return {u.code: by_id[u.parent_id].code if u.parent_id else None for u in units}


def test_csv_children_before_parents_and_reimport_updates(app, tmp_path):
    csv = tmp_path / "donvi.csv"
    csv.write_text(
        "code;name;parent_code\nX-CS;CĐCS Xã Một;X-H\nX-H;Công đoàn ngành X;LDLD-DEMO\n",
        encoding="utf-8-sig",
    )
    result = _import(app, csv)
    assert (result.created, result.errors) == (2, [])
    assert _tree(app)["X-CS"] == "X-H"
    csv.write_text("code,name,parent_code\nX-CS,CĐCS Xã Một (mới),CD-NGANH-GD\n", encoding="utf-8")
    result = _import(app, csv)
    assert (result.created, result.updated) == (0, 1)
    assert _tree(app)["X-CS"] == "CD-NGANH-GD"
    with Session(app.db) as s:
        moved = s.exec(select(Unit).where(Unit.code == "X-CS")).one()
        parent = s.exec(select(Unit).where(Unit.code == "CD-NGANH-GD")).one()
        assert moved.name == "CĐCS Xã Một (mới)" and moved.path.startswith(parent.path)
        assert [u.code for u in search(s, "xa mot")] == ["X-CS"]


def test_xlsx_import(app, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "name", "parent_code"])
    ws.append(["Y-1", "Công đoàn Khu công nghiệp", "LDLD-DEMO"])
    ws.append(["Y-2", "CĐCS Công ty Cổ phần Thép", "Y-1"])
    path = tmp_path / "donvi.xlsx"
    wb.save(path)
    assert _import(app, path).created == 2
    assert _tree(app)["Y-2"] == "Y-1"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ("code,name,parent_code\nA,Một,KHONG-CO\n", "không có đơn vị cấp trên mã 'KHONG-CO'"),
        ("code,name,parent_code\nA,Một,\nA,Hai,\n", "trùng với dòng 2"),
        ("code,name,parent_code\nA,Một,B\nB,Hai,A\n", "vòng lặp"),
        ("code,name,parent_code\nA,,\n", "tên đơn vị trống"),
        ("code,name,parent_code\nA B,Một,\n", "chỉ được gồm chữ, số"),
        ("code,name,parent_code\n,Một,\n", "thiếu mã đơn vị"),
    ],
)
def test_bad_rows_are_reported_with_their_line_and_nothing_is_imported(app, tmp_path, body, error):
    path = tmp_path / "bad.csv"
    path.write_text(body, encoding="utf-8")
    before = _tree(app)
    result = _import(app, path)
    assert any(error in e for e in result.errors), result.errors
    assert _tree(app) == before


def test_unreadable_files_say_why(tmp_path):
    wrong = tmp_path / "donvi.csv"
    wrong.write_text("ma,ten\nA,B\n", encoding="utf-8")
    with pytest.raises(UnitFileError, match="Thiếu cột code, name, parent_code"):
        read_rows(wrong)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("code,name,parent_code\nA,Tr\xe2m,\n".encode("latin-1"))
    with pytest.raises(UnitFileError, match="UTF-8"):
        read_rows(latin)
    with pytest.raises(UnitFileError, match=r"\.csv hoặc \.xlsx"):
        read_rows(tmp_path / "donvi.pdf")


def test_cli_import_reports_and_fails_cleanly(app, tmp_path, monkeypatch):
    from bot.cli import app as cli
    from bot.config import get_settings

    monkeypatch.setenv("DATABASE_URL", app.settings.database_url)
    get_settings.cache_clear()
    try:
        good = tmp_path / "ok.csv"
        good.write_text("code,name,parent_code\nZ-1,Công đoàn Z,LDLD-DEMO\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["units", "import", str(good)])
        assert result.exit_code == 0 and "1 mới" in result.output
        bad = tmp_path / "bad.csv"
        bad.write_text("code,name,parent_code\nZ-2,Hai,NONE\n", encoding="utf-8")
        result = CliRunner().invoke(cli, ["units", "import", str(bad)])
        assert result.exit_code == 1 and "Dòng 2" in result.output
    finally:
        get_settings.cache_clear()
