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
import shutil
import signal
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.benchdb import database  # noqa: E402
from bench.bots import (  # noqa: E402
    FIRST_MEMBER,
    BotProcess,
    CpuCap,
    free_port,
    healthy,
    polling_probe,
    prepare,
    quiz_check,
    start_echo,
    start_full,
    wait_ready,
)
from bench.crowd import Crowd, Templates  # noqa: E402
from bench.measure import (  # noqa: E402
    Results,
    Window,
    closed_window,
    open_window,
    signup_run,
    solo_window,
    warm_up,
)
from bench.report import ms, report, summarize_profile  # noqa: E402

ECHO_TEXT = (
    "<b>Câu 3/10</b>\nHoàn chỉnh một “dám” trong chuyên đề năm 2024: “Dám đương đầu với …”\n\n"
    "<b>A.</b> Rủi ro, thất bại\n<b>B.</b> Áp lực, dư luận\n<b>C.</b> Khó khăn, thử thách\n"
    "<b>D.</b> Cạnh tranh, hội nhập"
)  # a question as the bot shows it, so the double parses the same amount of HTML


# -- the echo bot (a subprocess) ----------------------------------------------------------------


async def echo_main(args: argparse.Namespace) -> None:
    """A bare PTB application (its own HTTP transport, httpx, with the bot's pool size and
    concurrency): one sendMessage per update (and the answer to a button's query), with four
    buttons so the members can go on pressing."""
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.constants import ParseMode
    from telegram.ext import ApplicationBuilder, ContextTypes, TypeHandler

    from bot.channels.telegram import CONNECTIONS, UPDATES_AT_ONCE

    application = (
        ApplicationBuilder()
        .token(args.token)
        .base_url(f"{args.api_root}/bot{{token}}")
        .concurrent_updates(UPDATES_AT_ONCE)
        .connection_pool_size(CONNECTIONS)
        .pool_timeout(10.0)
        .build()
    )

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


# -- the runs -------------------------------------------------------------------------------


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
                f"{signup.spread:g} s (a late arrival: within 1 s of arriving), "
                f"{signup.within_minute} before it ended; {signup.finished} after "
                f"{signup.spread + args.signup_grace:g} s; the slowest took "
                f"{ms(signup.longest) if signup.longest is not None else '–'}",
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
    urllib.request.urlopen(request, timeout=5).close()
    with crowd.lock:
        for person in crowd.people.values():
            if person.mode == "signup":
                person.pending = None


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
        if args.cap:
            capped(processes, one, two, args, results)
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


def capped(
    processes: list[BotProcess],
    one: Callable[[], Window],
    two: Callable[[], Window],
    args: argparse.Namespace,
    results: Results,
) -> None:
    """The same comparison with each process held to `--cap` of a core (a cgroup each): on
    a machine of two cores, one uncapped process already takes most of what the double and the
    database leave, so two cannot show what they would do on machines of their own."""
    made = ((CpuCap.make(f"congdoan-bench-{p.name}", args.cap), p) for p in processes)
    caps = [(cap, process) for cap, process in made if cap is not None]
    if len(caps) < len(processes):
        for cap, process in caps:
            cap.release(process.pid)
        results.notes.append(
            "the capped comparison needs a cgroup the bench may create (root, or a delegated "
            "cgroup): skipped"
        )
        return
    for cap, process in caps:
        cap.hold(process.pid)
    label = f"{args.cap:g} core each"
    try:
        print(f"   webhooks, each process capped at {label}:", flush=True)
        alternate(
            results.webhooks,
            [(f"one process, {label}", one), (f"two processes, {label}", two)],
            args.rounds,
        )
    finally:
        for cap, process in caps:
            cap.release(process.pid)


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
    except BaseException:
        print(f"(the bots' logs are kept in {workdir})", file=sys.stderr)
        raise
    finally:
        echo.stop()
        results.memory["echo"] = (echo.started_rss, echo.maxrss_mb)
        api.stop()
    if args.keep_logs:
        print(f"(the bots' logs are kept in {workdir})", file=sys.stderr)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200, help="closed loop (default 200)")
    parser.add_argument("--seconds", type=float, default=10, help="measured per run (default 10)")
    parser.add_argument("--rounds", type=int, default=2, help="A B repetitions (default 2)")
    parser.add_argument(
        "--cap",
        type=float,
        default=0.5,
        help="webhooks: compare again with each process capped at this much of a core "
        "(a cgroup each; needs root or a delegated cgroup; 0 = no capped comparison)",
    )
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
    parser.add_argument(
        "--settle",
        type=float,
        default=60,
        help="closed loop: measure once every member was answered once (steady state), or "
        "after this many seconds at most (default 60)",
    )
    parser.add_argument("--drain", type=float, default=120, help="longest wait for a run's end")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="run the bots under py-spy (pip install py-spy), write DIR/<bot>.txt and "
        "summarize them (the figures are then lower)",
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the bots' logs (their folder is printed)"
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
