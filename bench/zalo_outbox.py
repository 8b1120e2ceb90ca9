"""Zalo outbox benchmark: the configured rate, the month's message count, worker memory, a kill -9
half way through a broadcast, and a month's limit. Not part of the test suite; see
bench/README.md.

    python bench/zalo_outbox.py [--recipients 20000] [--rate 100] [--seconds 30]
        [--database-url URL] [--crash-rate 1000] [--limit-recipients 2000]

The Zalo Bot API double (tests/doubles/zalo_api.py) runs in this process; every worker runs in a
subprocess of its own (this file with --worker), with the real ZaloClient, ZaloSender and
DeliveryWorker, so its memory is its own and it can be killed."""

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

from sqlalchemy import delete, func, insert, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bench.benchdb import database  # noqa: E402
from bench.procmem import status_mb  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db import make_engine, upgrade  # noqa: E402
from bot.messages import to_plain  # noqa: E402
from bot.models import (  # noqa: E402
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Identity,
    Member,
    OutboxMessage,
    OutboxStatus,
    PlatformUsage,
    Unit,
    utcnow,
)
from bot.services import audience, outbox, quota  # noqa: E402

PLATFORM = "zalo"
REPORT_CHAT = "0ff1ce0ff1ce0ff1"  # the officer who sent the broadcasts (their final reports)
CHAT_BASE = 0x5A10_0000_0000_0000  # Zalo ids are opaque strings: 16 hex digits here
TEXT_RATE = "<b>Bench</b> thông báo số 1: họp công đoàn quý II"
TEXT_CRASH = "<b>Bench</b> thông báo số 2: kiểm tra dừng đột ngột"
TEXT_LIMIT = "<b>Bench</b> ngày kỷ niệm: kiểm tra giới hạn tháng"
LIMIT_SHARE = 0.6  # the month's limit in the limit run, as a share of its broadcast


def chat_of(member_id: int) -> str:
    return format(CHAT_BASE + member_id, "x")


# -- the worker subprocess ----------------------------------------------------------------------


def rss_mb() -> float:
    return status_mb("VmRSS")


async def worker_main(args: argparse.Namespace) -> dict[str, Any]:
    from bot.app import quiet_noisy_loggers
    from bot.channels.zalo import ZaloClient, ZaloSender
    from bot.content import load_content
    from bot.services.files import Publisher
    from scheduler.delivery import DeliveryWorker

    quiet_noisy_loggers()
    if args.tracemalloc:
        tracemalloc.start()
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=args.database_url,
        zalo_bot_token=args.token,
        zalo_api_base_url=args.api_root,
        zalo_broadcast_rate_per_second=args.rate,
        zalo_monthly_message_limit=args.limit,
    )
    db = make_engine(args.database_url)
    texts = load_content(ROOT / "content").texts
    # as bot/channels/zalo.py sender() builds it from the channel
    client = ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url)
    counter = quota.Counter(
        db, platform=PLATFORM, limit=settings.monthly_limit(PLATFORM), tz=settings.tz, clock=utcnow
    )
    sender = ZaloSender(
        client, files=Publisher(db, settings.public_base_url, utcnow), counter=counter
    )
    worker = DeliveryWorker(
        db,
        sender,
        texts=texts,
        rate_per_second=settings.rate_for(PLATFORM),  # ZALO_BROADCAST_RATE_PER_SECOND
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
            if args.until_done:
                with Session(db) as s:
                    found = s.get(Broadcast, args.until_done)
                    if found is not None and found.status == BroadcastStatus.DONE:
                        stop.set()
            await asyncio.sleep(0.5)

    cpu_before = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    started = time.monotonic()
    watcher = asyncio.create_task(watch())
    await worker.run(stop)
    elapsed = time.monotonic() - started
    cpu_run = sum(resource.getrusage(resource.RUSAGE_SELF)[:2]) - cpu_before
    await watcher
    await client.aclose()
    db.dispose()
    result: dict[str, Any] = {
        "sent": worker.sent,
        "rate": worker.rate,
        "concurrency": worker.concurrency,
        "elapsed": round(elapsed, 2),
        "maxrss_mb": round(status_mb("VmHWM"), 1),
        "cpu_s": round(cpu_run, 1),  # while delivering (not loading content and libraries)
        "rss_first_mb": samples[1] if len(samples) > 1 else None,
        "rss_last_mb": samples[-1] if samples else None,
    }
    if args.tracemalloc:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    return result


def start_worker(
    url: str, api: Any, *, rate: float, extra: list[str], limit: int = 0
) -> subprocess.Popen[str]:
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
        "--limit",
        str(limit),
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


def kill_worker(process: subprocess.Popen[str]) -> float:
    """Its peak RSS in MB, read just before a SIGKILL; then reap the process."""
    peak = status_mb("VmHWM", process.pid)
    os.kill(process.pid, signal.SIGKILL)
    _, status = os.waitpid(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.stdout is not None:
        process.stdout.close()
    return round(peak, 1)


# -- the parent ---------------------------------------------------------------------------------


def add_members(db: Any, n: int, code: str) -> tuple[int, float]:
    """A unit with n members, each with a Zalo account: (the unit's id, seconds)."""
    started = time.perf_counter()
    now = utcnow()
    with Session(db) as s:
        unit = Unit(code=code, name=f"Đơn vị {code}", search_name=code.lower(), path="/")
        s.add(unit)
        s.flush()
        assert unit.id is not None
        unit.path = f"/{unit.id}/"
        s.commit()
        unit_id = unit.id
        first = (s.execute(select(func.max(Member.id))).scalar() or 0) + 1
        common = {
            "unit_id": unit_id,
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
                        "platform": PLATFORM,
                        "platform_user_id": chat_of(i),
                        "chat_id": chat_of(i),
                        "member_id": i,
                        "blocked": False,
                        "created_at": now,
                    }
                    for i in ids
                ],
            )
        s.commit()
    return unit_id, time.perf_counter() - started


def start_broadcast(
    db: Any, text_: str, kind: BroadcastKind, unit_id: int | None = None
) -> tuple[int, int, float]:
    """A broadcast listed as the scheduler does: audience.recipients() into outbox.enqueue()."""
    with Session(db) as s:
        broadcast = Broadcast(
            kind=kind,
            unit_id=unit_id,
            text=text_,
            created_by=f"{PLATFORM}:{REPORT_CHAT}",
            report_platform=PLATFORM,
            report_chat_id=REPORT_CHAT,
        )
        s.add(broadcast)
        s.commit()
        assert broadcast.id is not None
        started = time.perf_counter()
        added = outbox.enqueue(
            s, broadcast.id, audience.recipients(s, broadcast, platforms={PLATFORM})
        )
        broadcast.status = BroadcastStatus.SENDING
        broadcast.started_at = utcnow()
        s.add(broadcast)
        s.commit()
        assert broadcast.id is not None
        return broadcast.id, added, time.perf_counter() - started


def cancel_rest(db: Any, broadcast_id: int) -> int:
    with Session(db) as s:
        stopped = outbox.cancel(s, broadcast_id)
        found = s.get(Broadcast, broadcast_id)
        assert found is not None
        found.status = BroadcastStatus.CANCELLED
        s.add(found)
        s.commit()
    return stopped


def sends_of(api: Any, text_: str, since: int) -> list[Any]:
    """Successful sendMessage calls with this broadcast's text (sent as plain text)."""
    plain = to_plain(text_).strip()
    return [c for c in api.calls_of("sendMessage", since) if c.ok and c.text == plain]


def steady_rate(calls: list[Any]) -> float:
    if len(calls) < 2:
        return 0.0
    span = calls[-1].at - calls[0].at
    return (len(calls) - 1) / span if span > 0 else 0.0


def most_in_one_second(calls: list[Any]) -> int:
    times = sorted(c.at for c in calls)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def report_of(api: Any, since: int) -> str:
    reports = [c.text or "" for c in api.sent_to(REPORT_CHAT, since)]
    return " | ".join(" ".join(r.split()) for r in reports) or "(none)"


def month_usage(db: Any, limit: int = 0) -> quota.Usage:
    tz = Settings(_env_file=None).tz  # type: ignore[call-arg]
    with Session(db) as s:
        return quota.usage(s, platform=PLATFORM, month=quota.month_of(utcnow(), tz), limit=limit)


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} CPUs"


def main(args: argparse.Namespace) -> None:
    from tests.doubles.zalo_api import FakeZaloAPI

    workdir = Path(tempfile.mkdtemp(prefix="zalo-outbox-bench-"))
    url, drop = database(args.database_url, workdir)
    summary: list[str] = []
    try:
        db = make_engine(url)
        upgrade(db)
        backend = make_url(url).get_backend_name()
        n = args.recipients
        print(
            f"database: {backend} ({url.rsplit('/', 1)[-1]}), recipients: {n}, "
            f"ZALO_BROADCAST_RATE_PER_SECOND={args.rate:g}; {load()}"
        )

        _, took = add_members(db, n, "BENCH")
        print(f"1. setup: {n} members with Zalo accounts in {took:.1f} s")
        bid, added, took = start_broadcast(db, TEXT_RATE, BroadcastKind.ANNOUNCEMENT)
        print(
            f"   enqueue: {added} rows in {took:.2f} s (listing + insert) = {added / took:,.0f}/s"
        )
        summary.append(f"enqueue {added} rows: {took:.2f} s")

        with FakeZaloAPI(fetch_photos=False) as api:
            # 2. the configured rate (no tracemalloc here: it slows every call ~2-3 times)
            mark = api.mark()
            process = start_worker(url, api, rate=args.rate, extra=["--seconds", str(args.seconds)])
            rate_run = finish_worker(process, args.seconds + 120)
            calls = sends_of(api, TEXT_RATE, mark)
            achieved = steady_rate(calls)
            ratio = achieved / args.rate
            print(
                f"2. rate run: configured {args.rate:g}/s (worker: {rate_run['rate']:g}/s, at most "
                f"{rate_run['concurrency']} calls in flight), {len(calls)} sent in "
                f"{rate_run['elapsed']:.1f} s, worker CPU {rate_run['cpu_s']} s; {load()}"
            )
            print(
                f"   achieved {achieved:.2f}/s = {ratio:.3f} of configured "
                f"({'ok' if ratio >= 0.95 else 'BELOW'} goal >= 0.95); "
                f"max in any 1 s: {most_in_one_second(calls)}"
            )
            summary.append(f"rate: {achieved:.2f}/s of {args.rate:g}/s = {ratio:.3f}")
            stopped = cancel_rest(db, bid)
            print(f"   (the {stopped} rows not sent are cancelled)")
            checks = [check_month(db, api, "after the rate run")]

            # 3. kill -9 half way, then a new worker (traced by tracemalloc)
            crash = crash_test(args, db, url, api)
            summary.append(crash.pop("summary"))
            checks.append(crash.pop("month_ok"))

            # 4. memory
            peak = max(rate_run["maxrss_mb"], crash["killed_mb"], crash["resumed"]["maxrss_mb"])
            resumed = crash["resumed"]
            print(
                f"4. worker memory, maxrss: rate run {rate_run['maxrss_mb']} MB, killed worker "
                f"{crash['killed_mb']} MB, new worker {resumed['maxrss_mb']} MB (tracemalloc "
                f"peak {resumed.get('tracemalloc_peak_mb')} MB; RSS {resumed['rss_first_mb']} MB "
                f"after 0.5 s -> {resumed['rss_last_mb']} MB at the end)"
            )
            summary.append(
                f"worker peak memory: {peak} MB (tracemalloc {resumed.get('tracemalloc_peak_mb')}"
                " MB)"
            )

        # 5. a month with a limit, on a fresh double
        if args.limit_recipients > 0:
            limit_summary, month_ok = limit_run(args, db, url, FakeZaloAPI)
            summary.append(limit_summary)
            checks.append(month_ok)
        summary.insert(
            2,
            f"month counter = received: {'yes' if all(checks) else 'NO'} ({len(checks)} checks)",
        )
        db.dispose()
    finally:
        if drop is not None:
            drop()
        shutil.rmtree(workdir, ignore_errors=True)
    print("summary: " + "; ".join(summary))


def check_month(
    db: Any, api: Any, when: str, counted_unsure: int = 0, *, killed: bool = False
) -> bool:
    """The month's count (platformusage) against the messages the double received."""
    month = month_usage(db)
    received = api.sent_count
    extra = month.sent - received
    # with a limit a message is counted before its call: one whose call the kill cut short
    # stays counted. Without one, counts are written every FLUSH_EVERY messages or second: a
    # worker killed -9 loses at most that many (the count is then under, never over)
    unwritten = quota.Counter.FLUSH_EVERY if killed else 0
    explained = 0 < extra <= counted_unsure or 0 < -extra <= unwritten
    note = "equal" if extra == 0 else f"DIFFERENT by {extra:+d}"
    if explained and extra > 0:
        note += " (counted by the killed worker, call cut short: on the safe side)"
    elif explained:
        note += (
            f" (no monthly limit: the killed worker's last unwritten counts, at most "
            f"{unwritten}; with a limit every message is counted before its call)"
        )
    print(
        f"   month {month.month} counter {when}: {month.sent} sent, {month.held} held; "
        f"the double received {received}: {note}"
    )
    return extra == 0 or explained


def crash_test(args: argparse.Namespace, db: Any, url: str, api: Any) -> dict[str, Any]:
    n = args.recipients
    bid, added, _ = start_broadcast(db, TEXT_CRASH, BroadcastKind.ANNOUNCEMENT)
    mark = api.mark()
    base = api.sent_count
    extra = ["--batch-size", str(args.crash_batch)]
    process = start_worker(url, api, rate=args.crash_rate, extra=extra)
    half = added // 2
    started = time.monotonic()
    while api.sent_count - base < half:
        if process.poll() is not None:
            raise SystemExit("the worker ended before it was killed")
        time.sleep(0.01)
    killed_mb = kill_worker(process)
    first_half = time.monotonic() - started
    at_kill = len(sends_of(api, TEXT_CRASH, mark))
    with Session(db) as s:
        before = outbox.counts(s, bid)
    print(
        f"3. crash test at {args.crash_rate:g}/s: {added} rows; killed -9 after {at_kill} "
        f"received ({first_half:.1f} s after its start); rows then: sent "
        f"{before['sent']}, sending {before['sending']}, claimed {before['claimed']}, "
        f"pending {before['pending']}"
    )
    process = start_worker(
        url,
        api,
        rate=args.crash_rate,
        extra=[*extra, "--stale-after", "0", "--until-done", str(bid), "--tracemalloc"],
    )
    resumed = finish_worker(process, 3600)
    received = Counter(c.chat_id for c in sends_of(api, TEXT_CRASH, mark))
    with Session(db) as s:
        status: dict[str, str] = {
            str(chat): str(st)
            for chat, st in s.execute(
                select(OutboxMessage.chat_id, OutboxMessage.status).where(  # type: ignore[call-overload]
                    OutboxMessage.broadcast_id == bid
                )
            )
        }
        after = outbox.counts(s, bid)
    duplicates = len([k for k in received.values() if k > 1])
    drops = len([c for c, st in status.items() if not received[c] and st != OutboxStatus.UNKNOWN])
    unknown = [chat for chat, st in status.items() if st == OutboxStatus.UNKNOWN]
    unknown_received = len([c for c in unknown if received[c]])
    lies = len([c for c, st in status.items() if st == OutboxStatus.SENT and not received[c]])
    strangers = len([c for c in received if c not in status])
    print(
        f"   new worker (tracemalloc on): {resumed['sent']} sent in {resumed['elapsed']:.1f} s; "
        f"final rows: sent {after['sent']}, unknown "
        f"{after['unknown']}, failed {after['failed']}, pending {after['pending']}"
    )
    print(
        f"   chats {n}: duplicates {duplicates}, drops {drops} (goal 0 and 0); unknown "
        f"{len(unknown)} ({unknown_received} of them had in fact arrived); SENT but not "
        f"received: {lies}; received but not listed: {strangers}"
    )
    print(f"   report: {report_of(api, mark)}")
    month_ok = check_month(
        db,
        api,
        "after the crash test",
        counted_unsure=len(unknown) - unknown_received,
        killed=True,
    )
    verdict = "ok" if duplicates == 0 and drops == 0 else "FAILED"
    return {
        "summary": f"crash ({verdict}): duplicates {duplicates}, drops {drops}, "
        f"unknown {len(unknown)}",
        "month_ok": month_ok,
        "killed_mb": killed_mb,
        "resumed": resumed,
    }


def limit_run(args: argparse.Namespace, db: Any, url: str, fake: Any) -> tuple[str, bool]:
    """An anniversary post to --limit-recipients members in a month whose limit is LIMIT_SHARE
    of them: anniversary posts may use 75% of a month (bot/services/quota.py)."""
    limit = int(args.limit_recipients * LIMIT_SHARE)
    unit_id, _ = add_members(db, args.limit_recipients, "BENCH-LIMIT")
    with Session(db) as s:  # a new month: nothing counted yet
        s.execute(delete(PlatformUsage).where(PlatformUsage.platform == PLATFORM))  # type: ignore[arg-type]
        s.commit()
    bid, added, _ = start_broadcast(db, TEXT_LIMIT, BroadcastKind.ANNIVERSARY, unit_id)
    with fake(fetch_photos=False) as api:
        api.monthly_limit = limit
        process = start_worker(
            url, api, rate=args.rate, limit=limit, extra=["--until-done", str(bid)]
        )
        run = finish_worker(process, 3600)
        sent = len(sends_of(api, TEXT_LIMIT, 0))
        with Session(db) as s:
            figures = outbox.counts(s, bid)
        month = month_usage(db, limit)
        ceiling = quota.ceiling(limit, BroadcastKind.ANNIVERSARY)
        print(
            f"5. limit run: an anniversary post to {added} members in a month counted afresh, "
            f"limit {limit} (anniversary posts up to {ceiling}); the double's monthly_limit "
            f"{limit}"
        )
        print(
            f"   {run['elapsed']:.1f} s: sent {figures['sent']} (received {sent}), held "
            f"{figures['held']}, failed {figures['failed']}; the double's over_quota: "
            f"{api.over_quota} (goal 0)"
        )
        print(f"   report: {report_of(api, 0)}")
        same = check_month(db, api, "after the limit run")
        print(f"   month's use: {month.percent}% of {limit}")
    verdict = "ok" if api.over_quota == 0 and figures["sent"] <= ceiling else "FAILED"
    summary = (
        f"limit ({verdict}): sent {figures['sent']}, held {figures['held']}, "
        f"over_quota {api.over_quota}"
    )
    return summary, same


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument(
        "--rate", type=float, default=100, help="ZALO_BROADCAST_RATE_PER_SECOND (default 100)"
    )
    parser.add_argument("--seconds", type=float, default=30, help="the rate run's length")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument(
        "--crash-rate",
        type=float,
        default=1000,
        help="the rate of the crash test (default 1000, the highest the setting allows)",
    )
    parser.add_argument(
        "--limit-recipients",
        type=int,
        default=2000,
        help="members of the limit run's anniversary post (default 2000; 0: no limit run)",
    )
    parser.add_argument("--crash-batch", type=int, default=200, help=argparse.SUPPRESS)
    # the worker subprocess
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-root", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--until-done", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=50, help=argparse.SUPPRESS)
    parser.add_argument("--stale-after", type=float, default=120, help=argparse.SUPPRESS)
    parser.add_argument("--tracemalloc", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    for name in ("rate", "crash_rate"):  # the range ZALO_BROADCAST_RATE_PER_SECOND accepts
        if not 0 < getattr(args, name) <= 1000:
            parser.error(f"--{name.replace('_', '-')} must be more than 0 and at most 1000")
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.worker:
        print(json.dumps(asyncio.run(worker_main(arguments))))
    else:
        main(arguments)
