"""Outbox benchmark: enqueue speed, the configured rate, the ceiling, worker memory, and a kill -9
in the middle of a broadcast. Not part of the test suite; see bench/README.md.

    python bench/outbox.py [--recipients 100000] [--rate 30] [--seconds 20] [--database-url URL]

The Bot API double (tests/doubles/telegram_api.py) runs in this process; every worker runs in a
subprocess of its own (this file with --worker), as in production, so its memory is its own and
it can be killed."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.benchdb import database  # noqa: E402
from bench.procmem import status_mb  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db import make_engine, upgrade  # noqa: E402
from bot.messages import to_plain  # noqa: E402
from bot.models import (  # noqa: E402
    Broadcast,
    BroadcastStatus,
    Identity,
    Member,
    OutboxMessage,
    OutboxStatus,
    Unit,
    utcnow,
)
from bot.services import audience, outbox  # noqa: E402

REPORT_CHAT = "900"
FAST: list[str] = []  # worker options of the runs with the limit lifted
FIRST_CHAT = 1_000_000
TEXT_RATE = "<b>Bench</b> thông báo số 1: họp công đoàn quý II"
TEXT_CRASH = "<b>Bench</b> thông báo số 2: kiểm tra dừng đột ngột"


# -- the worker subprocess ----------------------------------------------------------------------


def rss_mb() -> float:
    return status_mb("VmRSS")


async def worker_main(args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import quiet_noisy_loggers
    from bot.channels.telegram import TelegramSender, build_application
    from bot.content import load_content
    from scheduler.delivery import DeliveryWorker

    quiet_noisy_loggers()
    if args.tracemalloc:
        tracemalloc.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=args.database_url,
        telegram_bot_token=args.token,
        telegram_api_base_url=args.api_root,
    )
    db = make_engine(args.database_url)
    texts = load_content(ROOT / "content").texts
    bot = build_application(settings).bot
    sender = TelegramSender(bot)
    if args.uncapped:
        sender.max_rate_per_second = None  # the ceiling run: Telegram's 30/s lifted
    worker = DeliveryWorker(
        db,
        sender,
        texts=texts,
        rate_per_second=args.rate,
        batch_size=args.batch_size,
        stale_after=timedelta(seconds=args.stale_after),
        concurrency=args.concurrency or None,
    )
    stop = asyncio.Event()
    samples: list[float] = []

    async def watch() -> None:
        started = time.monotonic()
        while not stop.is_set():
            samples.append(round(rss_mb(), 1))
            if args.seconds and time.monotonic() - started >= args.seconds:
                stop.set()
            if args.max_messages and worker.sent >= args.max_messages:
                stop.set()
            if args.until_done:
                with Session(db) as s:
                    found = s.get(Broadcast, args.until_done)
                    if found is not None and found.status == BroadcastStatus.DONE:
                        stop.set()
            await asyncio.sleep(0.5)

    started = time.monotonic()
    watcher = asyncio.create_task(watch())
    await worker.run(stop)
    elapsed = time.monotonic() - started
    await watcher
    await bot.shutdown()
    db.dispose()
    result: dict[str, Any] = {
        "sent": worker.sent,
        "elapsed": round(elapsed, 2),
        "maxrss_mb": round(status_mb("VmHWM"), 1),
        "cpu_s": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
        "rss_first_mb": samples[1] if len(samples) > 1 else None,
        "rss_last_mb": samples[-1] if samples else None,
    }
    if args.tracemalloc:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    return result


def start_worker(url: str, api: Any, *, rate: float, extra: list[str]) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--database-url",
        url,
        "--api-root",
        api.root,
        "--token",
        api.token,
        "--rate",
        str(rate),
        "--seconds",
        "0",
        *extra,
    ]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def finish_worker(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    out, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise SystemExit(f"worker failed with exit code {process.returncode}")
    return dict(json.loads(out.strip().splitlines()[-1]))


# -- the parent ---------------------------------------------------------------------------------


def add_members(db: Any, n: int) -> float:
    started = time.perf_counter()
    now = utcnow()
    with Session(db) as s:
        unit = Unit(code="BENCH", name="Đơn vị bench", search_name="don vi bench", path="/")
        s.add(unit)
        s.flush()
        unit.path = f"/{unit.id}/"
        s.commit()
        first = (s.execute(select(func.max(Member.id))).scalar() or 0) + 1
        common = {
            "unit_id": unit.id,
            "group": "vien_chuc",
            "party_member": False,
            "initials_only": False,
            "mute_anniversaries": False,
            "mute_announcements": False,
            "created_at": now,
            "updated_at": now,
        }
        for lo in range(0, n, 10_000):
            ids = range(first + lo, first + min(n, lo + 10_000))
            s.execute(insert(Member.__table__), [{"id": i, **common} for i in ids])  # type: ignore[attr-defined]
            s.execute(
                insert(Identity.__table__),  # type: ignore[attr-defined]
                [
                    {
                        "platform": "telegram",
                        "platform_user_id": str(FIRST_CHAT + i),
                        "chat_id": str(FIRST_CHAT + i),
                        "member_id": i,
                        "blocked": False,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
        s.commit()
    return time.perf_counter() - started


def start_broadcast(db: Any, text_: str) -> tuple[int, int, float]:
    """A broadcast listed as the scheduler does: audience.recipients() into outbox.enqueue()."""
    with Session(db) as s:
        broadcast = Broadcast(
            kind="announcement",
            text=text_,
            created_by="bench",
            report_platform="telegram",
            report_chat_id=REPORT_CHAT,
        )
        s.add(broadcast)
        s.commit()
        assert broadcast.id is not None
        started = time.perf_counter()
        added = outbox.enqueue(
            s, broadcast.id, audience.recipients(s, broadcast, platforms={"telegram"})
        )
        broadcast.status = BroadcastStatus.SENDING
        broadcast.started_at = utcnow()
        s.add(broadcast)
        s.commit()
        assert broadcast.id is not None
        return broadcast.id, added, time.perf_counter() - started


def sends_of(api: Any, text_: str, since: int) -> list[Any]:
    return [
        c
        for c in api.calls[since:]
        if c.method == "sendMessage" and c.ok and c.params.get("text") == text_
    ]


def steady_rate(calls: list[Any]) -> float:
    if len(calls) < 2:
        return 0.0
    span = calls[-1].at - calls[0].at
    return (len(calls) - 1) / span if span > 0 else 0.0


def report_of(api: Any, since: int) -> str:
    reports = [
        c.params["text"]
        for c in api.calls[since:]
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == REPORT_CHAT
    ]
    return " | ".join(" ".join(to_plain(r).split()) for r in reports) or "(none)"


def main(args: argparse.Namespace) -> None:
    from tests.doubles.telegram_api import FakeTelegramAPI

    workdir = Path(tempfile.mkdtemp(prefix="outbox-bench-"))
    url, drop = database(args.database_url, workdir)
    summary: list[str] = []
    try:
        db = make_engine(url)
        upgrade(db)
        backend = make_url(url).get_backend_name()
        n = args.recipients
        FAST[:] = ["--concurrency", str(args.concurrency), "--batch-size", "200"]
        print(f"database: {backend} ({url.rsplit('/', 1)[-1]}), recipients: {n}")

        took = add_members(db, n)
        print(f"1. setup: {n} members with identities in {took:.1f} s")
        bid, added, took = start_broadcast(db, TEXT_RATE)
        print(
            f"   enqueue: {added} rows in {took:.2f} s (listing + insert) = {added / took:,.0f}/s"
        )
        summary.append(f"enqueue {added} rows: {took:.2f} s")

        with FakeTelegramAPI() as api:
            # 2. the configured rate
            mark = api.mark()
            process = start_worker(
                url, api, rate=args.rate, extra=["--seconds", str(args.seconds), "--tracemalloc"]
            )
            rate_run = finish_worker(process, args.seconds + 120)
            calls = sends_of(api, TEXT_RATE, mark)
            achieved = steady_rate(calls)
            goal = min(args.rate, 30.0)
            ratio = achieved / goal
            print(
                f"2. rate run: configured {args.rate:g}/s (Telegram cap 30/s -> {goal:g}/s), "
                f"{len(calls)} sent in {rate_run['elapsed']:.1f} s"
            )
            print(
                f"   achieved {achieved:.2f}/s = {ratio:.3f} of configured "
                f"({'ok' if ratio >= 0.95 else 'BELOW'} goal >= 0.95); "
                f"max in any 1 s: {most_in_one_second(calls)}"
            )
            summary.append(f"rate: {achieved:.2f}/s of {goal:g}/s = {ratio:.3f}")

            # 2b. several processes share the one rate (PostgreSQL: the deliverypace row)
            if backend == "postgresql" and args.workers > 1:
                mark = api.mark()
                extra = ["--seconds", str(args.seconds)]
                processes = [
                    start_worker(url, api, rate=args.rate, extra=extra) for _ in range(args.workers)
                ]
                for process in processes:
                    finish_worker(process, args.seconds + 120)
                calls = sends_of(api, TEXT_RATE, mark)
                together = steady_rate(calls)
                print(
                    f"   {args.workers} worker processes together: {len(calls)} sent, "
                    f"{together:.2f}/s = {together / goal:.3f} of the one configured rate; "
                    f"max in any 1 s: {most_in_one_second(calls)}"
                )
                summary.append(
                    f"{args.workers} workers together: {together:.2f}/s = {together / goal:.3f}"
                )

            # 3. the ceiling
            left = n - len(calls)
            ceiling_n = left if args.ceiling_messages <= 0 else min(left, args.ceiling_messages)
            which = "the rest of the broadcast" if ceiling_n == left else f"{ceiling_n} messages"
            mark = api.mark()
            process = start_worker(
                url,
                api,
                rate=100_000,
                extra=[
                    "--uncapped",
                    "--max-messages",
                    str(ceiling_n),
                    "--until-done",
                    str(bid),
                    *FAST,
                ],
            )
            ceiling = finish_worker(process, 3600)
            calls = sends_of(api, TEXT_RATE, mark)
            top = steady_rate(calls)
            print(
                f"3. ceiling run (limit lifted, {which}, {args.concurrency} calls in flight): "
                f"{len(calls)} sent in {ceiling['elapsed']:.1f} s -> {top:,.0f} messages/s "
                f"(worker CPU {ceiling['cpu_s']} s)"
            )
            summary.append(f"ceiling: {top:,.0f} msg/s ({which})")
            with Session(db) as s:
                figures = outbox.counts(s, bid)
                if figures["pending"]:
                    stopped = outbox.cancel(s, bid)
                    found = s.get(Broadcast, bid)
                    assert found is not None
                    found.status = BroadcastStatus.CANCELLED
                    s.add(found)
                    s.commit()
                    print(f"   (the {stopped} rows not sent are cancelled before step 5)")
                else:
                    print(f"   report: {report_of(api, 0)}")

            # 4. memory
            print(
                f"4. worker memory: rate run maxrss {rate_run['maxrss_mb']} MB "
                f"(tracemalloc peak {rate_run.get('tracemalloc_peak_mb')} MB); "
                f"ceiling run maxrss {ceiling['maxrss_mb']} MB, "
                f"RSS {ceiling['rss_first_mb']} MB after 0.5 s -> {ceiling['rss_last_mb']} MB at "
                "the end"
            )
            summary.append(
                f"worker peak memory: {max(rate_run['maxrss_mb'], ceiling['maxrss_mb'])} MB"
            )

            # 5. kill -9 half way, then a new worker
            bid2, added2, _ = start_broadcast(db, TEXT_CRASH)
            mark = api.mark()
            process = start_worker(url, api, rate=100_000, extra=["--uncapped", *FAST])
            half = added2 // 2
            while sum(1 for c in api.calls[mark:] if c.method == "sendMessage") < half:
                if process.poll() is not None:
                    raise SystemExit("the worker ended before it was killed")
                time.sleep(0.02)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            at_kill = len(sends_of(api, TEXT_CRASH, mark))
            with Session(db) as s:
                before = outbox.counts(s, bid2)
            print(
                f"5. crash test: killed -9 after {at_kill} of {added2} received; rows then: "
                f"sent {before['sent']}, sending {before['sending']}, claimed "
                f"{before['claimed']}, pending {before['pending']}"
            )
            process = start_worker(
                url,
                api,
                rate=100_000,
                extra=["--uncapped", "--stale-after", "0", "--until-done", str(bid2), *FAST],
            )
            resumed = finish_worker(process, 3600)
            received = Counter(str(c.chat_id) for c in sends_of(api, TEXT_CRASH, mark))
            with Session(db) as s:
                status: dict[str, str] = {
                    str(chat): str(st)
                    for chat, st in s.execute(
                        select(OutboxMessage.chat_id, OutboxMessage.status).where(  # type: ignore[call-overload]
                            OutboxMessage.broadcast_id == bid2
                        )
                    )
                }
                after = outbox.counts(s, bid2)
            duplicates = len([k for k in received.values() if k > 1])
            drops = len(
                [c for c, st in status.items() if not received[c] and st != OutboxStatus.UNKNOWN]
            )
            unknown = [chat for chat, st in status.items() if st == OutboxStatus.UNKNOWN]
            unknown_received = len([c for c in unknown if received[c]])
            lies = len(
                [c for c, st in status.items() if st == OutboxStatus.SENT and not received[c]]
            )
            print(
                f"   new worker: {resumed['sent']} sent in {resumed['elapsed']:.1f} s; "
                f"final rows: sent {after['sent']}, unknown {after['unknown']}, "
                f"failed {after['failed']}, pending {after['pending']}"
            )
            print(
                f"   duplicates: {duplicates}, drops: {drops}, unknown: {len(unknown)} "
                f"({unknown_received} of them had in fact arrived), SENT but not received: {lies}"
            )
            print(f"   report: {report_of(api, mark)}")
            summary.append(f"crash: duplicates {duplicates}, drops {drops}, unknown {len(unknown)}")
        db.dispose()
    finally:
        if drop is not None:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("summary: " + "; ".join(summary))


def most_in_one_second(calls: list[Any]) -> int:
    times = sorted(c.at for c in calls)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--workers", type=int, default=2, help="PostgreSQL: worker processes sharing the rate"
    )
    parser.add_argument(
        "--ceiling-messages",
        type=int,
        default=20_000,
        help="messages in the ceiling run (default 20000; 0: the rest of the broadcast)",
    )
    # the worker subprocess
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-root", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--uncapped", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--max-messages", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--until-done", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--stale-after", type=float, default=120, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="calls in flight in the runs with the limit lifted (default 8)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse()
    if arguments.worker:
        print(json.dumps(asyncio.run(worker_main(arguments))))
    else:
        main(arguments)
