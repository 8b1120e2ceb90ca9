"""The bots under test for bench/interactive.py: subprocesses measured from /proc while they run
(CPU, RSS, the SQL counters of bench/sqlcount/sitecustomize.py), and their databases."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, insert, select, text
from sqlmodel import Session

from bench.crowd import Crowd
from bench.procmem import status_mb
from bench.sqlcount.sitecustomize import FIELDS as SQL_FIELDS

ROOT = Path(__file__).resolve().parent.parent
FIRST_MEMBER = 3_000_000  # Telegram ids of the members registered in bulk
FIRST_SIGNUP = 4_000_000  # and of the people who register during the run
UNIT_CODE = "CDCS-MN-HM"  # members sit in the demo tree, whose campaign has the "7 dám" quiz
SECRET = "bench-webhook-secret-0123456789"
PROFILE_RATE = 250  # py-spy samples per second


TICK = os.sysconf("SC_CLK_TCK")


class BotProcess:
    """A bot in a subprocess: CPU, memory and SQL counters read while it runs."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], workdir: Path):
        self.name = name
        self.log = workdir / f"{name}.log"
        self.sql_path = workdir / f"{name}.sql"
        env = {**env, "CONGDOAN_BENCH_SQL_COUNT": str(self.sql_path)}
        with open(self.log, "wb") as log:
            self.popen = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        self.pid = self.popen.pid
        self.spied = Path(command[0]).name == "py-spy"
        self.started_rss = 0.0
        self.maxrss_mb = 0.0
        self.total_cpu = 0.0

    def find_python(self) -> None:
        """Under py-spy, measure the bot (py-spy's child), not py-spy."""
        try:
            children = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children").read_text()
        except OSError:
            return
        if children.split():
            self.pid = int(children.split()[0])

    def cpu(self) -> float:
        try:
            stat = Path(f"/proc/{self.pid}/stat").read_text()
        except OSError:
            return 0.0
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def status_mb(self, key: str) -> float:
        return status_mb(key, self.pid)

    def sql(self) -> list[int]:
        try:
            data = self.sql_path.read_bytes()
        except OSError:
            return [0] * len(SQL_FIELDS)
        if len(data) < 8 * len(SQL_FIELDS):
            return [0] * len(SQL_FIELDS)
        return [int.from_bytes(data[8 * i : 8 * i + 8], "little") for i in range(len(SQL_FIELDS))]

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        """SIGTERM (the bot stops cleanly), then its CPU from wait4. The peak RSS is the kernel's
        high-water mark read just before (VmHWM): wait4's ru_maxrss also holds the size of the
        process that spawned it, kept across exec (the bench process, hundreds of MB late in a
        run)."""
        if self.popen.returncode is not None:
            return
        self.maxrss_mb = max(self.maxrss_mb, self.status_mb("VmHWM"))
        self.total_cpu = self.cpu()
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pid, status, usage = os.wait4(self.popen.pid, os.WNOHANG)
            if pid:
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                if self.pid == self.popen.pid:
                    self.total_cpu = usage.ru_utime + usage.ru_stime
                return
            time.sleep(0.05)
        self.popen.kill()
        self.popen.wait()

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class CpuCap:
    """At most `cores` of CPU for one process, through a cgroup of its own (cgroup v2 `cpu.max`
    or v1 `cpu.cfs_quota_us`; root, or a delegated cgroup, is needed): a process capped below
    a core behaves as if it had a small machine of its own, so two of them can be compared
    with one on a machine too small to give each a core (the double and the database share
    it). `CpuCap.make` returns None where no cgroup can be made."""

    V2, V1 = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/cpu")
    PERIOD = 10_000  # microseconds: a short period spreads the throttling evenly

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def make(cls, name: str, cores: float) -> CpuCap | None:
        v2 = "cpu" in _read(cls.V2 / "cgroup.controllers").split()
        path = (cls.V2 if v2 else cls.V1) / f"{name}-{os.getpid()}"
        quota = int(cores * cls.PERIOD)
        try:
            path.mkdir()
            if v2:
                (path / "cpu.max").write_text(f"{quota} {cls.PERIOD}")
            else:
                (path / "cpu.cfs_period_us").write_text(str(cls.PERIOD))
                (path / "cpu.cfs_quota_us").write_text(str(quota))
        except OSError:
            with contextlib.suppress(OSError):
                path.rmdir()
            return None
        return cls(path)

    def hold(self, pid: int) -> None:
        """The process (all its threads) under the cap."""
        (self.path / "cgroup.procs").write_text(str(pid))

    def release(self, pid: int) -> None:
        """The process back where the bench runs, then the cap's cgroup removed."""
        with contextlib.suppress(OSError):  # the process may be gone already
            (self.path.parent / "cgroup.procs").write_text(str(pid))
        with contextlib.suppress(OSError):
            self.path.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def python_command(args: argparse.Namespace, name: str, command: list[str]) -> list[str]:
    if not args.profile:
        return command
    out = Path(args.profile) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    return [spy, "record", "-r", str(PROFILE_RATE), "-f", "raw", "-o", str(out), "--", *command]


def start_echo(api: Any, args: argparse.Namespace, workdir: Path) -> BotProcess:
    script = str(ROOT / "bench" / "interactive.py")
    command = [sys.executable, script, "--echo", "--api-root", api.root, "--token", api.token]
    return BotProcess("echo", python_command(args, "echo", command), dict(os.environ), workdir)


def start_full(
    name: str,
    api: Any,
    url: str,
    args: argparse.Namespace,
    workdir: Path,
    *,
    port: int | None = None,
) -> BotProcess:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.root,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "bench" / "sqlcount"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    }
    command = [str(Path(sys.executable).parent / "congdoan"), "run"]
    if port is not None:
        command += ["--webhook", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--webhook-url", "https://bench.invalid"]
    process = BotProcess(name, python_command(args, name, command), env, workdir)
    return process


def wait_ready(process: BotProcess, probe: Any, timeout: float = 60) -> None:
    """Until `probe()` says the bot serves; then its RSS once idle for a second."""
    deadline = time.monotonic() + timeout
    while not probe():
        if not process.alive():
            raise SystemExit(f"{process.name} stopped at start:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{process.name} not ready after {timeout:.0f} s:\n{process.tail()}")
        time.sleep(0.05)
    if process.spied:
        process.find_python()
    time.sleep(1.0)
    process.started_rss = process.status_mb("VmRSS")


def polling_probe(api: Any, since: int) -> Any:
    return lambda: bool(api.calls_of("getUpdates", since=since))


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


# -- databases ------------------------------------------------------------------------------


def prepare(url: str, n: int) -> dict[int, int]:
    """Migrations, the demo units, and `n` members registered with consent (bulk insert).
    Returns the member id of each Telegram user id."""
    from bot.content import load_content
    from bot.db import make_engine, upgrade
    from bot.models import Identity, Member, Unit, utcnow
    from bot.services import units

    db = make_engine(url)
    upgrade(db)
    content = load_content(ROOT / "content")
    now = utcnow()
    with Session(db) as s:
        units.import_units(s, units.read_rows(content.demo_units))
        s.commit()
        unit = s.execute(select(Unit).where(Unit.code == UNIT_CODE)).scalar_one()  # type: ignore[arg-type]
        first = (s.execute(select(func.max(Member.id))).scalar() or 0) + 1
        ids = {FIRST_MEMBER + i: first + i for i in range(n)}
        s.execute(
            insert(Member.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": member_id,
                    "full_name": f"Đoàn Viên Số {member_id}",
                    "search_name": f"doan vien so {member_id}",
                    "unit_id": unit.id,
                    "group": "vien_chuc",
                    "party_member": False,
                    "consent_at": now,
                    "consent_version": content.consent.version,
                    "initials_only": False,
                    "mute_anniversaries": False,
                    "mute_announcements": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for member_id in ids.values()
            ],
        )
        s.execute(
            insert(Identity.__table__),  # type: ignore[attr-defined]
            [
                {
                    "platform": "telegram",
                    "platform_user_id": str(uid),
                    "chat_id": str(uid),
                    "member_id": member_id,
                    "blocked": False,
                    "created_at": now,
                }
                for uid, member_id in ids.items()
            ],
        )
        if db.dialect.name == "postgresql":
            s.execute(text(f"SELECT setval('member_id_seq', {first + n})"))
        s.commit()
    db.dispose()
    return ids


def quiz_check(url: str, crowd: Crowd, ids: dict[int, int]) -> str:
    """Answers the members sent = answers the database holds; finished quizzes complete."""
    from bot.models import QuizAttempt

    db = create_engine(url)
    with Session(db) as s:
        rows = s.execute(
            select(
                QuizAttempt.member_id,
                QuizAttempt.current,
                QuizAttempt.total,
                QuizAttempt.finished_at,
            )  # type: ignore[call-overload]
        ).all()
    db.dispose()
    recorded: Counter[int] = Counter()
    incomplete = 0
    for member_id, current, total, finished in rows:
        recorded[member_id] += current
        if finished is not None and current != total:
            incomplete += 1
    people = [p for p in crowd.people.values() if p.mode == "quiz"]
    off = [p for p in people if recorded[ids[p.uid]] != p.answers]
    sent = sum(p.answers for p in people)
    bad_ends = sum(p.bad_ends for p in people)
    quizzes = sum(p.quizzes for p in people)
    ok = not off and not incomplete and not bad_ends and not crowd.stale
    return (
        f"{'ok' if ok else 'PROBLEM'}: {sent} answers sent, {sum(recorded.values())} recorded; "
        f"{quizzes} quizzes finished, {bad_ends} with a wrong number of answers, "
        f"{incomplete} finished incomplete; members whose count differs: {len(off)}; "
        f"'old button' texts: {crowd.stale}"
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
