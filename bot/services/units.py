"""The unit tree: import from CSV/XLSX, walk, search, subtree paths."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.models import Unit, utcnow
from bot.numfmt import parse_count
from bot.services import audit
from bot.textutil import fold, nfc

COLUMNS = ("code", "name", "parent_code")
COUNT_COLUMNS = ("members", "party_members")  # optional: the real membership of each unit
MAX_COUNT = 5_000_000


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


class UnitFileError(Exception):
    """The file cannot be read as a unit table; the message says why, in Vietnamese."""


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV or XLSX unit table, with their line numbers."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(path)
    if suffix in {".csv", ".txt"}:
        return _read_csv(path.read_bytes())
    raise UnitFileError(f"Chỉ nhận tệp .csv hoặc .xlsx (nhận được '{path.suffix}')")


def _read_csv(raw: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnitFileError("Tệp CSV phải lưu bằng mã UTF-8") from None
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = list(reader)
    return _rows_with_header(rows)


def _read_xlsx(path: Path) -> list[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnitFileError(f"Không mở được tệp Excel: {type(exc).__name__}") from None
    ws = wb.worksheets[0]
    rows = [["" if v is None else str(v) for v in row] for row in ws.iter_rows(values_only=True)]
    wb.close()
    return _rows_with_header(rows)


def _rows_with_header(rows: list[list[str]]) -> list[tuple[int, dict[str, str]]]:
    if not rows:
        raise UnitFileError("Tệp trống")
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise UnitFileError(
            f"Thiếu cột {', '.join(missing)}; dòng đầu phải là: code,name,parent_code"
        )
    index = {c: header.index(c) for c in (*COLUMNS, *COUNT_COLUMNS) if c in header}
    out = []
    for line_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {c: (row[i].strip() if i < len(row) else "") for c, i in index.items()}
        out.append((line_no, values))
    return out


def import_units(session: Session, rows: list[tuple[int, dict[str, str]]]) -> ImportResult:
    """Create or update units by code; parents may come after children in the file."""
    result = ImportResult()
    seen: dict[str, int] = {}
    wanted: dict[str, tuple[str, str]] = {}
    counts: dict[str, dict[str, int]] = {}
    for line, values in rows:
        code, name, parent = values["code"], nfc(values["name"]), values["parent_code"]
        found = _counts(line, values, result.errors)
        if found:
            counts[code] = found
        if not code:
            result.errors.append(f"Dòng {line}: thiếu mã đơn vị (code)")
            continue
        if len(code) > 50 or not all(c.isalnum() or c in "-_." for c in code):
            result.errors.append(
                f"Dòng {line}: mã '{code}' chỉ được gồm chữ, số, - _ . (≤ 50 ký tự)"
            )
            continue
        if not name or len(name) > 255:
            result.errors.append(f"Dòng {line}: tên đơn vị trống hoặc dài quá 255 ký tự")
            continue
        if code in seen:
            result.errors.append(f"Dòng {line}: mã '{code}' trùng với dòng {seen[code]}")
            continue
        if parent == code:
            result.errors.append(f"Dòng {line}: đơn vị không thể là cấp trên của chính nó")
            continue
        seen[code] = line
        wanted[code] = (name, parent)
    if result.errors:
        return result

    existing = {u.code: u for u in session.exec(select(Unit)).all()}
    for code, (_, parent_code) in wanted.items():
        if parent_code and parent_code not in wanted and parent_code not in existing:
            result.errors.append(f"Dòng {seen[code]}: không có đơn vị cấp trên mã '{parent_code}'")
    if result.errors:
        return result

    code_of = {u.id: u.code for u in existing.values()}
    final_parent: dict[str, str | None] = {
        code: code_of.get(u.parent_id) if u.parent_id else None for code, u in existing.items()
    }
    final_parent.update({code: parent or None for code, (_, parent) in wanted.items()})
    for code in wanted:
        trail: set[str] = set()
        cur: str | None = code
        while cur is not None:
            if cur in trail:
                result.errors.append(f"Dòng {seen[code]}: cây đơn vị bị vòng lặp tại '{code}'")
                return result
            trail.add(cur)
            cur = final_parent.get(cur)

    now = utcnow()
    for code, (name, _) in wanted.items():
        unit = existing.get(code)
        if unit is None:
            unit = Unit(code=code, name=name, search_name=fold(name), path="", depth=0)
            session.add(unit)
            existing[code] = unit
            result.created += 1
        elif (
            unit.name != name
            or (code_of.get(unit.parent_id) if unit.parent_id else None) != (final_parent[code])
            or any(getattr(unit, k) != v for k, v in counts.get(code, {}).items())
        ):
            unit.name, unit.search_name, unit.updated_at = name, fold(name), now
            result.updated += 1
        else:
            result.unchanged += 1
        for column, value in counts.get(code, {}).items():
            setattr(unit, column, value)
    session.flush()
    for code, unit in existing.items():
        up = final_parent.get(code)
        unit.parent_id = existing[up].id if up else None
    _recompute_paths(session, list(existing.values()))
    session.flush()
    return result


def _counts(line: int, values: dict[str, str], errors: list[str]) -> dict[str, int]:
    """The real counts of one row (an empty cell leaves the unit's count as it is)."""
    out: dict[str, int] = {}
    for column in COUNT_COLUMNS:
        raw = values.get(column, "").strip()
        if not raw:
            continue
        value = parse_count(raw)
        if value is None or value > MAX_COUNT:
            errors.append(
                f"Dòng {line}: {column} “{raw[:20]}” phải là một số nguyên từ 0 đến 5.000.000"
            )
            continue
        out[column] = value
    if out.get("party_members", 0) > out.get("members", MAX_COUNT):
        errors.append(f"Dòng {line}: số đảng viên (party_members) lớn hơn số đoàn viên (members)")
    return out


def set_counts(
    session: Session, *, unit: Unit, members: int | None, party_members: int | None, by: str
) -> None:
    """The real membership of a unit and everything below it, typed by its officer (None: not
    known); audited."""
    unit.members, unit.party_members, unit.updated_at = members, party_members, utcnow()
    session.add(unit)
    audit.record(
        session,
        actor=by,
        action="unit_counts",
        unit=unit.id,
        members=members,
        party_members=party_members,
    )


def _recompute_paths(session: Session, units: list[Unit]) -> None:
    children: dict[int | None, list[Unit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    stack = [(u, "/", 0) for u in children.get(None, [])]
    while stack:
        unit, prefix, depth = stack.pop()
        path = f"{prefix}{unit.id}/"
        if unit.path != path or unit.depth != depth:
            unit.path, unit.depth = path, depth
            session.add(unit)
        stack.extend((c, path, depth + 1) for c in children.get(unit.id, []))


def by_code(session: Session, code: str) -> Unit | None:
    code = code.strip()
    if not code or len(code) > 50:
        return None
    found = session.exec(select(Unit).where(Unit.code == code)).first()
    if found is None:  # typed by hand: "cdcs-mn-hm" is CDCS-MN-HM
        found = session.exec(select(Unit).where(func.upper(Unit.code) == code.upper())).first()
    return found


def children(session: Session, parent_id: int | None) -> list[Unit]:
    """By name as people read it ("các" before "ngành" before "Viên"), as the reports list them,
    whatever the database's collation."""
    kids = session.exec(select(Unit).where(Unit.parent_id == parent_id)).all()
    return sorted(kids, key=lambda u: (u.name.casefold(), u.code))


def search(session: Session, text: str, limit: int = 8) -> list[Unit]:
    """Units whose name contains every typed word, diacritics optional."""
    words = fold(text).split()
    if not words:
        return []
    query = select(Unit)
    for word in words[:6]:
        query = query.where(col(Unit.search_name).contains(word, autoescape=True))
    return list(session.exec(query.order_by(col(Unit.depth).desc(), Unit.name).limit(limit)).all())


def ancestors(session: Session, unit: Unit) -> list[Unit]:
    """From the root down to the unit itself."""
    ids = [int(x) for x in unit.path.strip("/").split("/") if x]
    found = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(ids))).all()}
    return [found[i] for i in ids if i in found]


def full_name(session: Session, unit: Unit) -> str:
    """'CĐCS Trường THPT A – Công đoàn ngành Giáo dục' style: the unit, then its parent."""
    chain = ancestors(session, unit)
    if len(chain) >= 2:
        return f"{unit.name} – {chain[-2].name}"
    return unit.name
