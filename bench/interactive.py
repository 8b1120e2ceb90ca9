"""Interactive speed: the bot answering members against the Bot API double, beside a bare
python-telegram-bot echo bot. Not part of the test suite; see bench/README.md.

    python bench/interactive.py [--members 200] [--seconds 10] [--rounds 2] [--database-url URL]

The double (tests/doubles/telegram_api.py) and the simulated members (bench/crowd.py) run in
this process; every bot runs in a subprocess of its own: the echo bot (this file with --echo)
and the real `congdoan run`, its SQL statements counted by bench/sqlcount/sitecustomize.py."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.crowd import Crowd, Person, Templates  # noqa: E402
from bench.sqlcount.sitecustomize import FIELDS as SQL_FIELDS  # noqa: E402

FIRST_MEMBER = 3_000_000  # Telegram ids of the members registered in bulk
FIRST_SIGNUP = 4_000_000  # and of the people who register during the run
UNIT_CODE = "CDCS-MN-HM"  # members sit in the demo tree, whose campaign has the "7 dám" quiz
SECRET = "bench-webhook-secret-0123456789"
PROFILE_RATE = 250
ECHO_TEXT = (
    "<b>Câu 3/10</b>\nHoàn chỉnh một “dám” trong chuyên đề năm 2024: “Dám đương đầu với …”\n\n"
    "<b>A.</b> Rủi ro, thất bại\n<b>B.</b> Áp lực, dư luận\n<b>C.</b> Khó khăn, thử thách\n"
    "<b>D.</b> Cạnh tranh, hội nhập"
)  # a question as the bot shows it, so the double parses the same amount of HTML


# -- the echo bot (a subprocess) ----------------------------------------------------------------


async def echo_main(args: argparse.Namespace) -> None:
    """A bare PTB application built as the bot builds its own: one sendMessage per update (and
    the answer to a button's query), with four buttons so the members can go on pressing."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.constants import ParseMode
    from telegram.ext import ContextTypes, TypeHandler

    from bot.channels.telegram import build_application
    from bot.config import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=args.token, telegram_api_base_url=args.api_root
    )
    application = build_application(settings)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        if update.callback_query is not None:
            await update.callback_query.answer()
        buttons = [
            InlineKeyboardButton(letter, callback_data=f"{update.update_id}:{i}")
            for i, letter in enumerate("ABCD")
        ]
        await application.bot.send_message(
            chat.id,
            ECHO_TEXT,
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup([buttons]),
        )

    application.add_handler(TypeHandler(Update, echo))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with application:
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        await application.start()
        await stop.wait()
        await application.updater.stop()
        await application.stop()


# -- bot processes ------------------------------------------------------------------------------


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
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

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
        """SIGTERM (the bot stops cleanly), then its peak RSS and CPU from wait4."""
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
                    self.maxrss_mb = max(self.maxrss_mb, usage.ru_maxrss / 1024)
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


def python_command(args: argparse.Namespace, name: str, command: list[str]) -> list[str]:
    if not args.profile or name.startswith("echo"):
        return command
    out = Path(args.profile) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    return [spy, "record", "-r", str(PROFILE_RATE), "-f", "raw", "-o", str(out), "--", *command]


def start_echo(api: Any, args: argparse.Namespace, workdir: Path) -> BotProcess:
    command = [sys.executable, __file__, "--echo", "--api-root", api.root, "--token", api.token]
    return BotProcess("echo", command, dict(os.environ), workdir)


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
    if process.pid == process.popen.pid:
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


def database(url: str | None, workdir: Path, tag: str) -> tuple[str, Any]:
    """A fresh database: a SQLite file, or a new database on the given PostgreSQL server."""
    if url is None:
        return f"sqlite:///{workdir / f'bench-{tag}.db'}", None
    base = make_url(url)
    if base.get_backend_name() != "postgresql":
        return url, None
    name = f"congdoan_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


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


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Window:
    """One measured run of one bot."""

    bot: str
    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    cpu: float = 0.0
    own_cpu: float = 0.0
    sql: list[int] = field(default_factory=lambda: [0] * len(SQL_FIELDS))
    offered: float = 0.0
    stuck: int = 0
    kinds: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.updates / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def per_update(self, value: float) -> float:
        return value / self.updates if self.updates else float("nan")

    def api_calls(self) -> float:
        return self.per_update(sum(n for m, n in self.calls.items() if m != "getUpdates"))


class Meter:
    """Counters of a crowd and its bot processes at one moment."""

    def __init__(self, crowd: Crowd, processes: list[BotProcess]):
        self.crowd, self.processes = crowd, processes
        self.at = time.perf_counter()
        self.samples, self.calls = crowd.snapshot()
        self.cpu = sum(p.cpu() for p in processes)
        self.own_cpu = time.process_time()  # the double and the members: this process
        self.sql = [sum(col) for col in zip(*(p.sql() for p in processes), strict=True)]

    def window(self, bot: str, since: Meter, *, by_time: bool = False) -> Window:
        samples = self.crowd.samples[since.samples : self.samples]
        if by_time:
            samples = [s for s in self.crowd.samples if since.at <= s.at < self.at]
        return Window(
            bot=bot,
            updates=len(samples),
            seconds=self.at - since.at,
            latencies=[s.latency for s in samples],
            calls=self.calls - since.calls,
            cpu=self.cpu - since.cpu,
            own_cpu=self.own_cpu - since.own_cpu,
            sql=[a - b for a, b in zip(self.sql, since.sql, strict=True)],
            kinds=Counter(s.kind for s in samples),
        )


def closed_window(
    bot: str, crowd: Crowd, processes: list[BotProcess], uids: list[int], args: argparse.Namespace
) -> Window:
    """Every member answers as soon as the bot replies; measured after a few seconds."""
    crowd.start(uids, "closed")
    time.sleep(args.settle)
    first = Meter(crowd, processes)
    time.sleep(args.seconds)
    window = Meter(crowd, processes).window(bot, first)
    crowd.stop()
    window.stuck = len(crowd.drain(args.drain))
    return window


def open_window(
    bot: str, crowd: Crowd, processes: list[BotProcess], uids: list[int], args: argparse.Namespace
) -> Window:
    """Each member answers every `interval` seconds whatever the bot does; the latency counts
    from when the member meant to answer (a late answer makes the next one late)."""
    interval = args.interval
    duration = max(args.seconds + interval, 3 * interval)
    start = time.perf_counter() + 0.2
    crowd.start(uids, "open")
    schedule = []
    for uid in uids:
        at = start + crowd.rng.uniform(0, interval)
        while at < start + duration:
            schedule.append((at, uid))
            at += interval
    time.sleep(max(0.0, start + interval - time.perf_counter()))
    first = Meter(crowd, processes)
    crowd.run_schedule([s for s in schedule if s[0] >= first.at], start + duration)
    time.sleep(max(0.0, start + duration - time.perf_counter()))
    window = Meter(crowd, processes).window(bot, first, by_time=True)
    window.offered = len(uids) / interval
    crowd.stop()
    window.stuck = len(crowd.drain(args.drain))
    return window


def solo_window(
    bot: str, crowd: Crowd, processes: list[BotProcess], uid: int, answers: int, drain: float
) -> Window:
    """One member alone, `answers` answers in a row."""
    crowd.start([uid], "closed", limit=10)  # warm the path
    crowd.wait(lambda: crowd.limit == 0 and crowd.pending_count() == 0, drain)
    first = Meter(crowd, processes)
    crowd.start([uid], "closed", limit=answers - 1)
    crowd.wait(lambda: crowd.limit == 0 and crowd.pending_count() == 0, drain)
    window = Meter(crowd, processes).window(bot, first)
    crowd.stop()
    return window


@dataclass
class Signup:
    people: int = 0
    spread: float = 0.0
    in_time: int = 0
    finished: int = 0
    last: float | None = None
    window: Window | None = None
    steps: dict[str, list[float]] = field(default_factory=dict)


def signup_run(crowd: Crowd, processes: list[BotProcess], args: argparse.Namespace) -> Signup:
    """`--signups` new people arriving at random within `--signup-spread` seconds, each going
    through the whole registration as fast as the bot answers."""
    uids = [FIRST_SIGNUP + i for i in range(args.signups)]
    crowd.add(uids, "signup")
    crowd.unit_code = UNIT_CODE
    first = Meter(crowd, processes)
    start = first.at + 0.2
    arrivals = sorted((start + crowd.rng.uniform(0, args.signup_spread), uid) for uid in uids)
    crowd.start(uids, "signup")
    crowd.run_schedule(arrivals, float("inf"))
    people = [crowd.people[uid] for uid in uids]
    crowd.wait(
        lambda: all(p.done_at is not None for p in people),
        start + args.signup_spread + args.signup_grace - time.perf_counter(),
    )
    last = Meter(crowd, processes)
    crowd.stop()
    done = [p.done_at - start for p in people if p.done_at is not None]
    result = Signup(
        people=len(uids),
        spread=args.signup_spread,
        in_time=sum(1 for d in done if d <= args.signup_spread),
        finished=len(done),
        last=max(done) if len(done) == len(uids) else None,
        window=last.window("full", first),
    )
    for sample in crowd.samples[first.samples : last.samples]:
        result.steps.setdefault(sample.kind, []).append(sample.latency)
    return result


def warm_up(crowd: Crowd, uids: list[int], timeout: float) -> float:
    """Members start their quiz (/thi, the quiz, Bắt đầu) before anything is measured."""
    started = time.perf_counter()
    crowd.start(uids, "warmup")
    people = [crowd.people[uid] for uid in uids]
    if not crowd.wait(lambda: all(crowd.ready(p) for p in people), timeout):
        stuck = [p for p in people if not crowd.ready(p)]
        raise SystemExit(f"warm-up: {len(stuck)} members not ready, e.g. {describe(stuck[0])}")
    crowd.stop()
    return time.perf_counter() - started


def describe(person: Person) -> str:
    buttons = Crowd._buttons(person)
    return f"{person.uid}: last text {person.last_text!r}, buttons {buttons[:6]}"


# -- the runs -------------------------------------------------------------------------------


@dataclass
class Results:
    closed: dict[str, list[Window]] = field(default_factory=dict)
    open: dict[str, list[Window]] = field(default_factory=dict)
    solo: dict[str, list[Window]] = field(default_factory=dict)
    signup: dict[str, Signup] = field(default_factory=dict)
    memory: dict[str, tuple[float, float]] = field(default_factory=dict)  # after start, peak
    checks: list[str] = field(default_factory=list)
    webhooks: dict[str, list[Window]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def alternate(
    results: dict[str, list[Window]],
    pairs: list[tuple[str, Any]],
    rounds: int,
) -> None:
    """A B A B: each bot's run in turn, `rounds` times; one progress line per run."""
    for r in range(rounds):
        for column, run in pairs:
            window = run()
            results.setdefault(column, []).append(window)
            stuck = f", {window.stuck} still waiting after the drain" if window.stuck else ""
            print(
                f"   round {r + 1} {column}: {window.updates} updates in {window.seconds:.1f} s "
                f"= {window.rate:.1f}/s, p50 {ms(window.pct(0.5))} p95 {ms(window.pct(0.95))}"
                f"{stuck}",
                flush=True,
            )


def run_database(
    label: str,
    url: str | None,
    args: argparse.Namespace,
    workdir: Path,
    echo: tuple[Crowd, BotProcess],
    results: Results,
) -> None:
    from tests.doubles.telegram_api import FakeTelegramAPI

    echo_crowd, echo_process = echo
    tag = "sqlite" if url is None else "postgres"
    url, drop = database(url, workdir, tag)
    everyone = list(range(FIRST_MEMBER, FIRST_MEMBER + max(args.members, args.open_members)))
    closed = everyone[: args.members]
    opened = everyone[: args.open_members]
    api = FakeTelegramAPI().start()
    processes: list[BotProcess] = []
    try:
        took = time.perf_counter()
        ids = prepare(url, len(everyone))
        print(
            f"{label}: {len(everyone)} members registered in bulk "
            f"({time.perf_counter() - took:.1f} s)",
            flush=True,
        )
        crowd = Crowd(api, Templates(ROOT / "content" / "texts.yaml"))
        crowd.add(everyone, "quiz")
        full = start_full(f"full-{tag}", api, url, args, workdir)
        processes.append(full)
        wait_ready(full, polling_probe(api, 0))
        print(f"   full bot started: RSS {full.started_rss:.0f} MB once idle", flush=True)
        took = warm_up(crowd, everyone, 600)
        print(f"   warm-up: {len(everyone)} members in a quiz after {took:.1f} s", flush=True)
        column = f"full, {label}"
        both = [(f"echo ({label} runs)", echo_crowd, echo_process), (column, crowd, full)]
        if "closed" not in args.skip:
            print(f"   closed loop, {len(closed)} members:", flush=True)
            alternate(
                results.closed,
                [
                    (c, lambda c=c, w=w, p=p: closed_window(c, w, [p], closed, args))
                    for c, w, p in both
                ],
                args.rounds,
            )
        if "open" not in args.skip:
            print(f"   open loop, {len(opened)} members every {args.interval:g} s:", flush=True)
            alternate(
                results.open,
                [
                    (c, lambda c=c, w=w, p=p: open_window(c, w, [p], opened, args))
                    for c, w, p in both
                ],
                args.rounds,
            )
        if "solo" not in args.skip:
            print(f"   one member alone, {args.solo} answers:", flush=True)
            alternate(
                results.solo,
                [
                    (
                        c,
                        lambda c=c, w=w, p=p: solo_window(
                            c, w, [p], everyone[0], args.solo, args.drain
                        ),
                    )
                    for c, w, p in both
                ],
                args.rounds,
            )
        check = quiz_check(url, crowd, ids)
        results.checks.append(f"{label}, one process: {check}")
        print(f"   quiz answers: {check}", flush=True)
        if "signup" not in args.skip:
            print(
                f"   registration: {args.signups} people arriving within "
                f"{args.signup_spread:g} s...",
                flush=True,
            )
            signup = signup_run(crowd, [full], args)
            results.signup[label] = signup
            print(
                f"   {signup.in_time} of {signup.people} registered within the "
                f"{signup.spread:g} s; {signup.finished} after "
                f"{signup.spread + args.signup_grace:g} s",
                flush=True,
            )
        full.stop()
        results.memory[column] = (full.started_rss, full.maxrss_mb)
        if "webhooks" not in args.skip and tag == "postgres":
            drop_pending(api, crowd)
            run_webhooks(api, crowd, url, ids, args, workdir, results)
    finally:
        for process in processes:
            process.stop()
        api.stop()
        if drop is not None:
            drop()


def drop_pending(api: Any, crowd: Crowd) -> None:
    """What registration left queued is dropped (as `deleteWebhook` with drop_pending_updates)."""
    request = urllib.request.Request(
        f"{api.root}/bot{api.token}/deleteWebhook",
        json.dumps({"drop_pending_updates": True}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5):
        pass
    with crowd.lock:
        for person in crowd.people.values():
            if person.mode == "signup":
                person.pending = None


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_webhooks(
    api: Any,
    crowd: Crowd,
    url: str,
    ids: dict[int, int],
    args: argparse.Namespace,
    workdir: Path,
    results: Results,
) -> None:
    """Two `congdoan run --webhook` processes behind one address: the double posts updates to
    one of them, then round robin to both; then it posts some updates to both at once."""
    members = list(range(FIRST_MEMBER, FIRST_MEMBER + args.members))
    ports = [free_port(), free_port()]
    processes = [
        start_full(f"webhook-{i + 1}", api, url, args, workdir, port=port)
        for i, port in enumerate(ports)
    ]
    try:
        for process, port in zip(processes, ports, strict=True):
            wait_ready(process, lambda port=port: healthy(port))
        targets = [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports]
        print(
            "   two webhook processes started: RSS "
            + ", ".join(f"{p.started_rss:.0f} MB" for p in processes),
            flush=True,
        )
        print(f"   webhooks, closed loop, {len(members)} members:", flush=True)

        def one() -> Window:
            api.deliver_webhooks(targets[:1])
            return closed_window("one process", crowd, processes[:1], members, args)

        def two() -> Window:
            api.deliver_webhooks(targets)
            return closed_window("two processes", crowd, processes, members, args)

        alternate(results.webhooks, [("one process", one), ("two processes", two)], args.rounds)
        twice_before = sum(1 for n in crowd.query_answers.values() if n > 1)
        stale_before = crowd.stale
        unexpected_before = crowd.unexpected["buttons nobody waited for"]
        api.deliver_webhooks(targets, redeliver_every=args.redeliver)
        race = closed_window("race", crowd, processes, members, args)
        api.stop_webhooks()
        redelivered = api.redelivered
        twice = sum(1 for n in crowd.query_answers.values() if n > 1) - twice_before
        handled_twice = (crowd.stale - stale_before) + (
            crowd.unexpected["buttons nobody waited for"] - unexpected_before
        )
        check = quiz_check(url, crowd, ids)
        results.checks.append(
            f"PostgreSQL, two webhook processes, every {args.redeliver}th update posted to both "
            f"at once ({race.updates} updates in {race.seconds:.0f} s): {redelivered} posted "
            f"twice, {twice} answered by both (the second as a duplicate), handled twice: "
            f"{handled_twice}; {check}"
        )
        print(f"   {results.checks[-1]}", flush=True)
    finally:
        for i, process in enumerate(processes):
            process.stop()
            results.memory[f"webhook process {i + 1}"] = (process.started_rss, process.maxrss_mb)


def run_all(args: argparse.Namespace) -> Results:
    from tests.doubles.telegram_api import FakeTelegramAPI

    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="interactive-bench-"))
    everyone = list(range(FIRST_MEMBER, FIRST_MEMBER + max(args.members, args.open_members)))
    api = FakeTelegramAPI().start()
    echo = start_echo(api, args, workdir)
    try:
        wait_ready(echo, polling_probe(api, 0))
        crowd = Crowd(api, Templates(ROOT / "content" / "texts.yaml"))
        crowd.add(everyone, "echo")
        warm_up(crowd, everyone, 120)
        print(f"echo bot started: RSS {echo.started_rss:.0f} MB once idle", flush=True)
        databases: list[tuple[str, str | None]] = []
        if "sqlite" not in args.skip:
            databases.append(("SQLite", None))
        if args.database_url and "postgres" not in args.skip:
            databases.append(("PostgreSQL", args.database_url))
        for label, url in databases:
            run_database(label, url, args, workdir, (crowd, echo), results)
    finally:
        echo.stop()
        results.memory["echo"] = (echo.started_rss, echo.maxrss_mb)
        api.stop()
    return results


# -- the report -----------------------------------------------------------------------------


def ms(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "–"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def spread(values: list[float], fmt: str = "{:.0f}") -> str:
    """One figure, or the range over the rounds."""
    values = [v for v in values if v == v]
    if not values:
        return "–"
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}–{high}"


def ms_spread(values: list[float]) -> str:
    values = [v for v in values if v == v]
    if not values:
        return "–"
    low, high = ms(min(values)), ms(max(values))
    return low if low == high else f"{low}–{high}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def sql_line(windows: list[Window]) -> str:
    def each(index: int) -> list[float]:
        return [w.per_update(w.sql[index]) for w in windows]

    total = spread(each(0), "{:.1f}")
    if total == "0.0":
        return "–"
    parts = [
        f"{spread(each(SQL_FIELDS.index(name)), '{:.1f}')} {name}"
        for name in ("select", "insert", "update", "delete", "other")
        if any(w.sql[SQL_FIELDS.index(name)] for w in windows)
    ]
    return f"{total} ({', '.join(parts)})"


def figures(windows: list[Window], memory: tuple[float, float] | None) -> list[str]:
    get_updates = [w.per_update(w.calls["getUpdates"]) for w in windows]
    return [
        spread([w.rate for w in windows]),
        f"{ms_spread([w.pct(0.5) for w in windows])} / {ms_spread([w.pct(0.95) for w in windows])}",
        f"{spread([w.api_calls() for w in windows], '{:.2f}')} "
        f"(+{spread(get_updates, '{:.2f}')} getUpdates)",
        sql_line(windows),
        spread([w.per_update(w.sql[SQL_FIELDS.index("commit")]) for w in windows], "{:.2f}"),
        spread([w.per_update(w.sql[SQL_FIELDS.index("checkout")]) for w in windows], "{:.2f}"),
        spread([1000 * w.per_update(w.cpu) for w in windows], "{:.1f}"),
        spread([100 * w.own_cpu / w.seconds for w in windows]) + "%",
        "–" if memory is None else f"{memory[0]:.0f} MB / {memory[1]:.0f} MB",
    ]


ROWS = [
    "updates/s",
    "p50 / p95 latency",
    "Bot API calls per update",
    "SQL statements per update",
    "commits per update",
    "sessions (pool checkouts) per update",
    "bot CPU per update, ms",
    "double + members CPU (this process; 100% = one core)",
    "RSS after start / peak",
]


def ratios(results: dict[str, list[Window]], label: str) -> str:
    echo = results.get(f"echo ({label} runs)", [])
    full = results.get(f"full, {label}", [])
    values = [f.rate / e.rate for e, f in zip(echo, full, strict=False) if e.rate]
    return spread(values, "{:.2f}")


def report(results: Results, args: argparse.Namespace) -> None:
    labels = [c.removeprefix("full, ") for c in results.closed if c.startswith("full, ")]
    labels = labels or [c.removeprefix("full, ") for c in results.open if c.startswith("full, ")]
    if results.closed:
        columns = list(results.closed)
        body = [
            [name, *cells]
            for name, *cells in zip(
                ROWS,
                *(
                    figures(results.closed[c], results.memory.get(c.split(" (")[0]))
                    for c in columns
                ),
                strict=True,
            )
        ]
        body.append(
            ["full ÷ echo, updates/s (per round)"]
            + [
                ratios(results.closed, c.removeprefix("full, ")) if c.startswith("full") else ""
                for c in columns
            ]
        )
        print(
            f"\nClosed loop: {args.members} members, each answering as soon as the bot replies "
            f"({args.seconds:g} s measured per run, {args.rounds} rounds A B A B; a range = "
            "lowest–highest round)\n"
        )
        print(table(["", *columns], body))
    if results.open:
        print(
            f"\nOpen loop: {args.open_members} members each answering every {args.interval:g} s "
            f"({args.open_members / args.interval:g} answers/s offered); latency from when "
            "the member meant to answer\n"
        )
        columns = list(results.open)
        rows = [
            [
                "answers/s handled",
                *(spread([w.rate for w in results.open[c]], "{:.1f}") for c in columns),
            ],
            ["p50 latency", *(ms_spread([w.pct(0.5) for w in results.open[c]]) for c in columns)],
            ["p95 latency", *(ms_spread([w.pct(0.95) for w in results.open[c]]) for c in columns)],
            [
                "bot CPU per update, ms",
                *(
                    spread([1000 * w.per_update(w.cpu) for w in results.open[c]], "{:.1f}")
                    for c in columns
                ),
            ],
        ]
        print(table(["", *columns], rows))
    if results.solo:
        print(f"\nOne member alone: {args.solo} answers in a row\n")
        columns = list(results.solo)
        rows = [
            ["p50 latency", *(ms_spread([w.pct(0.5) for w in results.solo[c]]) for c in columns)],
            ["p95 latency", *(ms_spread([w.pct(0.95) for w in results.solo[c]]) for c in columns)],
            [
                "bot CPU per update, ms",
                *(
                    spread([1000 * w.per_update(w.cpu) for w in results.solo[c]], "{:.1f}")
                    for c in columns
                ),
            ],
        ]
        print(table(["", *columns], rows))
    if results.signup:
        print(
            f"\nRegistration: {args.signups} new people arriving at random within "
            f"{args.signup_spread:g} s, each doing /start {UNIT_CODE}, name, group, party, "
            "consent as fast as the bot answers\n"
        )
        columns = list(results.signup)
        rows = [
            [
                "registered within the minute",
                *(f"{s.in_time} of {s.people}" for s in results.signup.values()),
            ],
            [
                "all registered after",
                *(
                    ms(s.last)
                    if s.last is not None
                    else f"not all: {s.finished} after {s.spread + args.signup_grace:g} s"
                    for s in results.signup.values()
                ),
            ],
        ]
        steps = ["start", "name", "group", "party", "consent"]
        for step in steps:
            rows.append(
                [f"step {step}: p50 / p95"]
                + [
                    f"{ms(pct(s.steps.get(step, []), 0.5))} / {ms(pct(s.steps.get(step, []), 0.95))}"
                    for s in results.signup.values()
                ]
            )
        rows.append(
            [
                "updates/s",
                *(f"{s.window.rate:.1f}" if s.window else "–" for s in results.signup.values()),
            ]
        )
        rows.append(
            [
                "Bot API calls per update",
                *(
                    f"{s.window.api_calls():.2f}" if s.window else "–"
                    for s in results.signup.values()
                ),
            ]
        )
        rows.append(
            [
                "SQL statements per update",
                *(sql_line([s.window]) if s.window else "–" for s in results.signup.values()),
            ]
        )
        print(table(["", *(f"full, {c}" for c in columns)], rows))
    if results.webhooks:
        print(
            f"\nPostgreSQL, `congdoan run --webhook`: the double posts each update to one "
            f"process, or round robin to two (closed loop, {args.members} members)\n"
        )
        columns = list(results.webhooks)
        body = [
            [name, *cells]
            for name, *cells in zip(
                ROWS[:-1], *(figures(results.webhooks[c], None)[:-1] for c in columns), strict=True
            )
        ]
        one, two = (
            results.webhooks.get("one process", []),
            results.webhooks.get("two processes", []),
        )
        body.append(
            [
                "two ÷ one, updates/s (per round)",
                "",
                spread(
                    [b.rate / a.rate for a, b in zip(one, two, strict=False) if a.rate], "{:.2f}"
                ),
            ]
        )
        print(table(["", *columns], body))
    memory = [
        f"{name}: {a:.0f} MB after start, {b:.0f} MB peak"
        for name, (a, b) in results.memory.items()
    ]
    print("\nMemory (RSS once started and idle; peak = ru_maxrss): " + "; ".join(memory))
    for check in results.checks:
        print(f"Check: {check}")
    summary = []
    for label in labels:
        summary.append(f"{label}: full/echo {ratios(results.closed, label)}")
    if summary:
        print("summary: " + "; ".join(summary))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the profile ----------------------------------------------------------------------------

AREAS = [
    ("HTTP client (httpx, httpcore, h11, anyio)", ("/httpx/", "/httpcore/", "/h11/", "/anyio/")),
    ("python-telegram-bot", ("/telegram/",)),
    ("SQLAlchemy and sqlmodel", ("/sqlalchemy/", "/sqlmodel/")),
    ("database driver (sqlite3, psycopg)", ("/sqlite3/", "/psycopg/", "execute (sqlite")),
    ("bot/ and handlers/ (own frames)", ("/bot/", "/handlers/")),
    ("asyncio", ("/asyncio/",)),
    ("json", ("/json/",)),
    ("logging", ("/logging/",)),
]


def summarize_profile(path: Path, top: int = 25) -> None:
    """py-spy's raw output (collapsed stacks): the share of samples spent in each area (a
    sample counts for an area when any frame of its stack is there) and the busiest functions
    by own time."""
    stacks: list[tuple[list[str], int]] = []
    for line in path.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if head and count.isdigit():
            stacks.append((head.split(";"), int(count)))
    total = sum(n for _, n in stacks) or 1
    print(f"\nprofile {path.name}: {total} samples")
    for name, needles in AREAS:
        hits = sum(n for frames, n in stacks if any(x in f for f in frames for x in needles))
        print(f"  {100 * hits / total:5.1f}%  {name}")
    own: Counter[str] = Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
    print("  busiest functions (own time):")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200, help="closed loop (default 200)")
    parser.add_argument("--seconds", type=float, default=10, help="measured per run (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="A B repetitions (default 2)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["closed", "open", "solo", "signup", "webhooks", "sqlite", "postgres"],
        help="phases to leave out",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TEST_DATABASE_URL") or None,
        help="a PostgreSQL server for the PostgreSQL runs (default: $TEST_DATABASE_URL); a "
        "fresh congdoan_bench_* database is made there and dropped",
    )
    parser.add_argument("--open-members", type=int, default=300, help="open loop (default 300)")
    parser.add_argument(
        "--interval", type=float, default=5, help="open loop: seconds between answers"
    )
    parser.add_argument("--solo", type=int, default=100, help="answers of the member alone")
    parser.add_argument("--signups", type=int, default=1000, help="people registering (1000)")
    parser.add_argument("--signup-spread", type=float, default=60, help="arriving within (60 s)")
    parser.add_argument("--signup-grace", type=float, default=30, help="then waited for (30 s)")
    parser.add_argument(
        "--redeliver", type=int, default=10, help="webhooks: every Nth update posted twice"
    )
    parser.add_argument("--settle", type=float, default=3, help="seconds before measuring")
    parser.add_argument("--drain", type=float, default=120, help="longest wait for a run's end")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="run the full bots under py-spy (pip install py-spy), write DIR/<bot>.txt and "
        "summarize them (the figures are then lower)",
    )
    parser.add_argument("--summarize", metavar="FILE", nargs="+", help=argparse.SUPPRESS)
    # the echo bot subprocess
    parser.add_argument("--echo", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-root", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    return parser.parse_args()


def main() -> None:
    args = parse()
    if args.echo:
        asyncio.run(echo_main(args))
        return
    if args.summarize:
        for name in args.summarize:
            summarize_profile(Path(name))
        return
    started = time.perf_counter()
    results = run_all(args)
    report(results, args)
    print(f"(the whole run took {time.perf_counter() - started:.0f} s)")
    if args.profile:
        for path in sorted(Path(args.profile).glob("*.txt")):
            summarize_profile(path)


if __name__ == "__main__":
    main()
