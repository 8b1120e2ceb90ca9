"""Statistics and report benchmark: 1,000,000 members in 5,000 units with pledges, quiz attempts
and study progress; times `stats.tree` (what /thongke computes) for the root and for a branch,
and the branch's /baocao documents (XLSX + DOCX) in a child process, on SQLite and PostgreSQL.
Not part of the test suite; see bench/README.md.

    python bench/stats.py [--db sqlite|postgres|both] [--members 1000000]

The generated SQLite file is cached under /tmp (keyed by the member count and the generator's
version) and brought to the current schema with the migrations, so a re-run starts at once.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from bench.procmem import status_mb  # noqa: E402
from bot.db import make_engine, upgrade  # noqa: E402
from bot.models import Unit  # noqa: E402
from bot.textutil import fold  # noqa: E402

GENERATOR_VERSION = 2  # bump when the generated data changes: the cached SQLite file is remade
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_DATABASE = "bench_stats"
CAMPAIGN = "demo-2026"  # content/campaigns.yaml: topic dan-chu-phap-che-2024, two quizzes
ROOT_CODE = "LDLD-DEMO"
BRANCH_CODE = "NGANH-01"
UNITS = 5000
BRANCHES = 59  # under the root; the rest are base unions (every 8th a "tổ" one level deeper)
BRANCH_SHARE = 0.02  # of the members in NGANH-01: 20,000 of 1,000,000
BATCH = 50_000  # members generated and written per round
RUNS = 5

STUDY_TOPIC = "dan-chu-phap-che-2024"
QUIZZES = (("bay-dam-2024", 10), ("dan-chu-phap-che-2024", 20))
DEADLINE = datetime(2026, 4, 9, 17, tzinfo=UTC)  # "trước ngày 10/4" in Vietnam
SEASON_START = datetime(2026, 2, 15, 1, tzinfo=UTC)
GROUPS = ("can_bo_cong_doan", "cong_chuc", "vien_chuc", "cong_nhan_lao_dong")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Kim")
GIVEN = ("An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hạnh", "Hoa", "Hùng", "Lan")
GIVEN += ("Linh", "Long", "Mai", "Nam", "Ngân", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Yến")


# --- the data ---------------------------------------------------------------------------------


@dataclass
class Tables:
    """Rows of one batch, as tuples in the column order of COLUMNS."""

    member: list[tuple[Any, ...]]
    pledge: list[tuple[Any, ...]]
    quizattempt: list[tuple[Any, ...]]
    studyprogress: list[tuple[Any, ...]]


COLUMNS = {
    "unit": "id code name search_name parent_id path depth created_at updated_at",
    "member": (
        "id full_name search_name unit_id group party_member consent_at consent_version "
        "initials_only mute_anniversaries mute_announcements created_at updated_at deleted_at"
    ),
    "pledge": (
        "id member_id campaign_id year status draft content revision first_submitted_at "
        "submitted_at late reviewed_at reviewer created_at updated_at"
    ),
    "quizattempt": (
        "id member_id campaign_id topic_id question_ids option_orders answers current score "
        "total started_at finished_at elapsed_seconds timed_out passed"
    ),
    "studyprogress": "id member_id topic_id section_index completed_at updated_at",
}


def unit_rows(now: datetime) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The tree: the root, BRANCHES branches, base unions (NGANH-01 holds BRANCH_SHARE of
    them); returns the rows and the ids of the base unions, which members are spread over."""
    rows: list[tuple[Any, ...]] = [
        (1, ROOT_CODE, "LĐLĐ tỉnh Bench", fold("LĐLĐ tỉnh Bench"), None, "/1/", 0, now, now)
    ]
    for d in range(1, BRANCHES + 1):
        name = f"Công đoàn ngành {d:02d}"
        rows.append((1 + d, f"NGANH-{d:02d}", name, fold(name), 1, f"/1/{1 + d}/", 1, now, now))
    base = UNITS - 1 - BRANCHES
    big = max(1, round(base * BRANCH_SHARE))  # base unions of NGANH-01
    last_in: dict[int, tuple[int, str]] = {}
    for i in range(base):
        uid = 2 + BRANCHES + i
        branch = 2 if i < big else 3 + (i - big) % (BRANCHES - 1)
        parent, path, depth = branch, f"/1/{branch}/", 2
        if i % 8 == 7 and branch in last_in:  # a "tổ công đoàn" inside the previous union
            parent, path = last_in[branch]
            depth = 3
        name = f"CĐCS Đơn vị {i + 1:04d}" if depth == 2 else f"Tổ công đoàn {i + 1:04d}"
        code = f"CDCS-{i + 1:04d}"
        rows.append((uid, code, name, fold(name), parent, f"{path}{uid}/", depth, now, now))
        if depth == 2:
            last_in[branch] = (uid, f"{path}{uid}/")
    return rows, [r[0] for r in rows[1 + BRANCHES :]]


def batches(members: int, base_units: list[int], now: datetime) -> Iterator[Tables]:
    """Members spread evenly over the base units, with ~70% pledges, ~50% quiz takers and ~65%
    who opened the yearly topic; deterministic."""
    rng = random.Random(2026)
    names = [f"{f} {m} {g}" for f in FAMILY for m in MIDDLE for g in GIVEN]
    folded = [fold(n) for n in names]
    consent = now - timedelta(days=120)
    pledge_id = attempt_id = study_id = 0
    for lo in range(0, members, BATCH):
        t = Tables([], [], [], [])
        for mid in range(lo + 1, min(members, lo + BATCH) + 1):
            unit = base_units[(mid - 1) * len(base_units) // members]
            deleted = rng.random() < 0.003
            party = rng.random() < 0.3
            n = rng.randrange(len(names))
            t.member.append(
                (
                    mid,
                    None if deleted else names[n],
                    None if deleted else folded[n],
                    unit,
                    GROUPS[rng.randrange(4)],
                    party,
                    None if deleted else consent,
                    None if deleted else "2026-01",
                    False,
                    False,
                    False,
                    consent,
                    consent,
                    now if deleted else None,
                )
            )
            if rng.random() < 0.7:
                pledge_id += 1
                t.pledge.append(pledge(rng, pledge_id, mid))
            if rng.random() < 0.5:
                for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                    attempt_id += 1
                    t.quizattempt.append(attempt(rng, attempt_id, mid))
            if rng.random() < 0.65:
                study_id += 1
                done = rng.random() < 0.85
                when = SEASON_START + timedelta(seconds=rng.randrange(80 * 86400))
                t.studyprogress.append(
                    (study_id, mid, STUDY_TOPIC, 5 if done else 2, when if done else None, when)
                )
        yield t


def pledge(rng: random.Random, pid: int, mid: int) -> tuple[Any, ...]:
    roll = rng.random()
    status = (
        "draft"
        if roll < 0.08
        else "submitted"
        if roll < 0.43
        else "approved"
        if roll < 0.88
        else "returned"
    )
    first = (
        None if status == "draft" else SEASON_START + timedelta(seconds=rng.randrange(75 * 86400))
    )
    reviewed = first + timedelta(days=3) if first and status in ("approved", "returned") else None
    return (
        pid,
        mid,
        CAMPAIGN,
        2026,
        status,
        "{}",
        None if first is None else "{}",
        0 if first is None else 1,
        first,
        first,
        first is not None and first >= DEADLINE,
        reviewed,
        "telegram:1" if reviewed else None,
        first or SEASON_START,
        reviewed or first or SEASON_START,
    )


def attempt(rng: random.Random, aid: int, mid: int) -> tuple[Any, ...]:
    topic, total = QUIZZES[rng.randrange(2)]
    started = SEASON_START + timedelta(seconds=rng.randrange(90 * 86400))
    finished = rng.random() < 0.95
    score = rng.randint(total // 3, total) if finished else 0
    return (
        aid,
        mid,
        CAMPAIGN,
        topic,
        "[]",
        "[]",
        "[]",
        total if finished else 0,
        score,
        total,
        started,
        started + timedelta(minutes=9) if finished else None,
        540 if finished else None,
        False,
        finished and score * 100 >= 80 * total,
    )


# --- writing it ---------------------------------------------------------------------------------


def quoted(table: str) -> str:
    return ", ".join(f'"{c}"' for c in COLUMNS[table].split())  # "group" is a keyword


def sqlite_text(value: Any) -> Any:
    """SQLAlchemy's SQLite storage of our UTC columns: naive 'YYYY-MM-DD HH:MM:SS.ffffff'."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


def write_sqlite(path: Path, members: int) -> dict[str, int]:
    """One transaction of executemany, journal and fsync off: only for this throwaway file."""
    now = datetime(2026, 1, 5, 2, tzinfo=UTC)
    counts = dict.fromkeys(COLUMNS, 0)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")

    def put(table: str, rows: Sequence[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in COLUMNS[table].split())
        sql = f"INSERT INTO {table} ({quoted(table)}) VALUES ({marks})"
        conn.executemany(sql, ([sqlite_text(v) for v in row] for row in rows))
        counts[table] += len(rows)

    units, base = unit_rows(now)
    put("unit", units)
    for t in batches(members, base, now):
        for table in ("member", "pledge", "quizattempt", "studyprogress"):
            put(table, getattr(t, table))
    conn.execute("COMMIT")
    conn.close()
    return counts


def write_postgres(url: str, members: int) -> dict[str, int]:
    """COPY through psycopg, then ANALYZE (as autovacuum would, a little later)."""
    import psycopg

    now = datetime(2026, 1, 5, 2, tzinfo=UTC)
    counts = dict.fromkeys(COLUMNS, 0)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:

        def put(table: str, rows: Sequence[tuple[Any, ...]]) -> None:
            with cur.copy(f"COPY {table} ({quoted(table)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            counts[table] += len(rows)

        units, base = unit_rows(now)
        put("unit", units)
        for t in batches(members, base, now):
            for table in ("member", "pledge", "quizattempt", "studyprogress"):
                put(table, getattr(t, table))
        for table in COLUMNS:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE")
    return counts


# --- measuring ----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any], runs: int = RUNS) -> list[float]:
    """Milliseconds of `runs` calls after one warm-up call."""
    fn()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def stats_timings(url: str) -> dict[str, Any]:
    """stats.tree counted live, the scheduler's tally refresh, and /thongke as the handler asks
    for it (now=...: the tally for a scope of 20,000 members or more)."""
    from bot.content import load_content
    from bot.models import utcnow
    from bot.services import stats

    catalog = load_content(ROOT / "content").catalog
    campaign = next(c for c in catalog.campaigns if c.id == CAMPAIGN)
    db = make_engine(url)
    out: dict[str, Any] = {}
    with Session(db) as s:
        root = s.exec(select(Unit).where(Unit.code == ROOT_CODE)).one()
        started = time.perf_counter()
        stats.refresh(s, campaign, root, utcnow())
        s.commit()
        out["refresh_s"] = time.perf_counter() - started
        for label, code in (("root", ROOT_CODE), ("branch", BRANCH_CODE)):
            unit = s.exec(select(Unit).where(Unit.code == code)).one()
            tree = stats.tree(s, campaign, unit)
            out[label] = {
                "ms": timed(lambda unit=unit: stats.tree(s, campaign, unit)),  # type: ignore[misc]
                "thongke_ms": timed(
                    lambda unit=unit: stats.tree(s, campaign, unit, now=utcnow())  # type: ignore[misc]
                ),
                "tallied": stats.tree(s, campaign, unit, now=utcnow()).as_of is not None,
                "members": tree.total.members,
                "units": tree.unit_count + 1,
            }
        out["all"] = {"ms": timed(lambda: stats.tree(s, campaign, None))}
    db.dispose()
    return out


def report_child(url: str, code: str) -> None:
    """In a child process: build the unit's /baocao documents; print JSON figures."""
    from bot.content import load_content
    from bot.services import reports

    content = load_content(ROOT / "content")
    campaign = next(c for c in content.catalog.campaigns if c.id == CAMPAIGN)
    db = make_engine(url)
    before = status_mb("VmRSS")  # resident now, after the imports and the content
    with Session(db) as s:
        unit = s.exec(select(Unit).where(Unit.code == code)).one()
        started = time.perf_counter()
        report = reports.build(
            s,
            texts=content.texts,
            catalog=content.catalog,
            campaign=campaign,
            top=unit,
            tz=ZoneInfo("Asia/Ho_Chi_Minh"),
            now=datetime.now(UTC),
        )
        took = time.perf_counter() - started
    db.dispose()
    print(
        json.dumps(
            {
                "build_s": round(took, 2),
                "members": report.members,
                "units": report.units,
                "xlsx_kb": len(report.xlsx) // 1024,
                "docx_kb": len(report.docx) // 1024,
                "rss_before_build_mb": round(before, 1),
                "peak_rss_mb": round(status_mb("VmHWM"), 1),
            }
        )
    )


def report_timing(url: str, code: str) -> dict[str, Any]:
    """Run report_child in its own process: wall time, and the peak RSS it reports (VmHWM)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, __file__, "--report-child", code, "--url", url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    out = process.stdout.read()
    _, status = os.waitpid(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"the report child failed with exit code {process.returncode}")
    figures = dict(json.loads(out.strip().splitlines()[-1]))
    figures["wall_s"] = round(wall, 2)
    return figures


# --- the databases ------------------------------------------------------------------------------


def sqlite_database(members: int) -> tuple[str, str]:
    """The cached file, generated if missing, migrated to the current head."""
    path = Path(f"/tmp/congdoan-bench-stats-{members}-v{GENERATOR_VERSION}.db")
    note = "cached"
    if not path.exists():
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{partial}")
        upgrade(engine)
        engine.dispose()
        started = time.perf_counter()
        counts = write_sqlite(partial, members)
        note = f"generated {rows_note(counts)} in {time.perf_counter() - started:.0f} s"
        partial.rename(path)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)  # indexes added since the file was made
    engine.dispose()
    return url, note


def postgres_database(members: int, reuse: bool) -> tuple[str, str]:
    """A fresh database, or with `reuse` the one a --keep run left if it has the same members."""
    base = make_url(PG_URL)
    url = base.set(database=PG_DATABASE).render_as_string(hide_password=False)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        found = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": PG_DATABASE}
        ).first()
        if reuse and found and count_members(url) == members:
            admin.dispose()
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            return url, "kept from an earlier run (--keep)"
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    started = time.perf_counter()
    counts = write_postgres(url, members)
    return url, f"generated {rows_note(counts)} in {time.perf_counter() - started:.0f} s"


def count_members(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM member")).scalar_one())
    except Exception:  # an unfinished database: made again
        return -1
    finally:
        engine.dispose()


def drop_postgres() -> None:
    admin = create_engine(make_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)'))
    admin.dispose()


def rows_note(counts: dict[str, int]) -> str:
    return ", ".join(f"{v:,} {k}" for k, v in counts.items())


# --- the table ----------------------------------------------------------------------------------


def ms(values: list[float]) -> str:
    return f"{statistics.median(values):,.0f} ms (min {min(values):,.0f}, max {max(values):,.0f})"


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER"


def measure(url: str) -> list[tuple[str, str]]:
    timings = stats_timings(url)
    report = report_timing(url, BRANCH_CODE)
    root, branch = timings["root"], timings["branch"]
    source = {True: "from the tally", False: "counted live"}
    return [
        (
            f"/thongke root ({root['members']:,} members, {root['units']:,} units), "
            f"{source[root['tallied']]}",
            f"{ms(root['thongke_ms'])}  "
            f"[{verdict(statistics.median(root['thongke_ms']) < 300)} goal < 300 ms]",
        ),
        (
            f"/thongke branch {BRANCH_CODE} ({branch['members']:,} members, "
            f"{branch['units']} units), {source[branch['tallied']]}",
            ms(branch["thongke_ms"]),
        ),
        (
            "tally refresh, whole tree (the scheduler, every 5 min)",
            f"{timings['refresh_s']:.2f} s",
        ),
        ("stats.tree root counted live (/baocao, small scopes)", ms(root["ms"])),
        (f"stats.tree branch {BRANCH_CODE} counted live", ms(branch["ms"])),
        ("stats.tree, everything (admin) counted live", ms(timings["all"]["ms"])),
        (
            f"/baocao {BRANCH_CODE}: XLSX + DOCX ({report['members']:,} member rows)",
            f"build {report['build_s']:.2f} s, process {report['wall_s']:.2f} s "
            f"[{verdict(report['wall_s'] < 10)} goal < 10 s]; peak RSS {report['peak_rss_mb']} MB "
            f"({report['rss_before_build_mb']} MB resident before it) "
            f"[{verdict(report['peak_rss_mb'] < 300)} goal < 300 MB]; "
            f"xlsx {report['xlsx_kb']:,} KB, docx {report['docx_kb']} KB",
        ),
    ]


def planner_statistics(url: str, *, on: bool) -> None:
    """SQLite plans without statistics unless ANALYZE ran (the bot does not run it today)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        if on:
            conn.exec_driver_sql("ANALYZE")
        elif conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first():
            conn.exec_driver_sql("DROP TABLE sqlite_stat1")
    engine.dispose()


def run(backend: str, members: int, keep: bool) -> dict[str, list[tuple[str, str]]]:
    if backend == "postgres":
        url, note = postgres_database(members, reuse=keep)
        print(f"[postgres] data: {note}", flush=True)
        try:
            return {"postgres (after ANALYZE)": measure(url)}
        finally:
            if not keep:
                drop_postgres()
    url, note = sqlite_database(members)
    print(f"[sqlite] data: {note}", flush=True)
    planner_statistics(url, on=False)
    plain = measure(url)
    planner_statistics(url, on=True)
    return {"sqlite (no planner statistics)": plain, "sqlite (after ANALYZE)": measure(url)}


def main(args: argparse.Namespace) -> None:
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"members: {args.members:,}, units: {UNITS:,}, median of {RUNS} runs after a warm-up; "
        f"{os.cpu_count()} CPUs, load average {load}",
        flush=True,
    )
    results: dict[str, list[tuple[str, str]]] = {}
    for backend in backends:
        results.update(run(backend, args.members, args.keep))
    for title, lines in results.items():
        print(f"\n{title}:")
        width = max(len(label) for label, _ in lines)
        for label, value in lines:
            print(f"  {label.ljust(width)}  {value}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument(
        "--keep",
        action="store_true",
        help=f"leave the PostgreSQL database {PG_DATABASE} in place, and reuse it next time",
    )
    parser.add_argument("--report-child", metavar="UNIT_CODE", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.report_child:
        report_child(arguments.url, arguments.report_child)
    else:
        main(arguments)
