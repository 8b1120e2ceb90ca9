"""The tables bench/interactive.py prints, and a summary of py-spy profiles."""

from __future__ import annotations

import argparse
import os
from collections import Counter
from pathlib import Path

from bench.bots import UNIT_CODE
from bench.measure import Results, Window
from bench.sqlcount.sitecustomize import FIELDS as SQL_FIELDS


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
        spread([w.calls_per_answer() for w in windows], "{:.2f}"),
        sql_line(windows),
        spread([w.per_update(w.sql[SQL_FIELDS.index("commit")]) for w in windows], "{:.2f}"),
        spread([w.per_update(w.sql[SQL_FIELDS.index("checkout")]) for w in windows], "{:.2f}"),
        spread([1000 * w.per_update(w.cpu) for w in windows], "{:.1f}"),
        spread([100 * w.own_cpu / w.seconds for w in windows]) + "%",
        spread([100 * w.machine for w in windows]) + "%",
        "–" if memory is None else f"{memory[0]:.0f} MB / {memory[1]:.0f} MB",
    ]


ROWS = [
    "updates/s",
    "p50 / p95 latency",
    "Bot API calls per update",
    "Bot API calls per quiz answer (the quiz goes on)",
    "SQL statements per update",
    "commits per update",
    "sessions (pool checkouts) per update",
    "bot CPU per update, ms",
    "double + members CPU (this process; 100% = one core)",
    f"the machine's CPU busy (all {os.cpu_count()} cores: bots, database, double; 100% = all)",
    "RSS after start / peak",
]


def ratios(results: dict[str, list[Window]], label: str) -> str:
    echo = results.get(f"echo ({label} runs)", [])
    full = results.get(f"full, {label}", [])
    values = [f.rate / e.rate for e, f in zip(echo, full, strict=False) if e.rate]
    return spread(values, "{:.2f}")


def webhook_pairs(
    webhooks: dict[str, list[Window]],
) -> list[tuple[str, list[Window], list[Window], list[float]]]:
    """Each "one process…" column with its "two processes…" twin: (the twin's column, one's
    rounds, two's rounds, two ÷ one per round)."""
    pairs = []
    for column, one in webhooks.items():
        if not column.startswith("one process"):
            continue
        twin = column.replace("one process", "two processes")
        two = webhooks.get(twin, [])
        if one and two:
            rates = [b.rate / a.rate for a, b in zip(one, two, strict=False) if a.rate]
            pairs.append((twin, one, two, rates))
    return pairs


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
                "registered within the minute (a late arrival: within 1 s)",
                *(f"{s.in_time} of {s.people}" for s in results.signup.values()),
            ],
            [
                "done before the minute ended",
                *(f"{s.within_minute} of {s.people}" for s in results.signup.values()),
            ],
            [
                "the slowest registration, arriving to done",
                *(ms(s.longest) if s.longest is not None else "–" for s in results.signup.values()),
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
                    f"{ms(pct(values, 0.5))} / {ms(pct(values, 0.95))}"
                    for values in (s.steps.get(step, []) for s in results.signup.values())
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
        per_twin = {twin: rates for twin, _, _, rates in webhook_pairs(results.webhooks)}
        body.append(  # under each "two processes" column, against its "one process"
            [
                "two ÷ one, updates/s (per round)",
                *(spread(per_twin[c], "{:.2f}") if c in per_twin else "" for c in columns),
            ]
        )
        print(table(["", *columns], body))
    memory = [
        f"{name}: {a:.0f} MB after start, {b:.0f} MB peak"
        for name, (a, b) in results.memory.items()
    ]
    print("\nMemory (RSS once started and idle; peak = VmHWM at the end): " + "; ".join(memory))
    for check in results.checks:
        print(f"Check: {check}")
    for note in results.notes:
        print(f"Note: {note}")
    goals(results, labels)


def goals(results: Results, labels: list[str]) -> None:
    """The goals of issue 15, each with the worst round of this run."""
    lines: list[str] = []

    def check(name: str, ok: bool, figure: str) -> None:
        lines.append(f"  {'met    ' if ok else 'NOT met'}  {name}: {figure}")

    for label in labels:
        full = results.closed.get(f"full, {label}", [])
        echo = results.closed.get(f"echo ({label} runs)", [])
        if full:
            rate = min(w.rate for w in full)
            check(f"{label}: ≥ 100 updates/s, closed loop", rate >= 100, f"{rate:.0f}/s")
            ratio = min(
                (f.rate / e.rate for e, f in zip(echo, full, strict=False) if e.rate), default=0
            )
            check(f"{label}: full ÷ echo ≥ 0.4", ratio >= 0.4, f"{ratio:.2f}")
            calls = max(w.calls_per_answer() for w in full)
            # as printed: updates in flight at the window's edges move the ratio by ~0.005
            within = round(calls, 2) <= 2
            check(f"{label}: ≤ 2 Bot API calls per quiz answer", within, f"{calls:.2f}")
            statements = max(w.per_update(w.sql[0]) for w in full)
            check(f"{label}: ≤ 5 SQL statements per update", statements <= 5, f"{statements:.1f}")
            commits = max(w.per_update(w.sql[SQL_FIELDS.index("commit")]) for w in full)
            check(f"{label}: ≤ 1 commit per update", commits <= 1.05, f"{commits:.2f}")
        opened = results.open.get(f"full, {label}", [])
        if opened:
            p95 = max(w.pct(0.95) for w in opened)
            check(f"{label}: open loop p95 < 1 s", p95 < 1, ms(p95))
        solo = results.solo.get(f"full, {label}", [])
        if solo:
            p50 = max(w.pct(0.5) for w in solo)
            check(f"{label}: one member alone p50 < 8 ms", p50 < 0.008, ms(p50))
        signup = results.signup.get(label)
        if signup is not None:
            check(
                f"{label}: every registration within {signup.spread:g} s (a late arrival: 1 s)",
                signup.in_time == signup.people,
                f"{signup.in_time} of {signup.people}",
            )
        memory = results.memory.get(f"full, {label}")
        if memory is not None:
            check(f"{label}: RSS after start < 120 MB", memory[0] < 120, f"{memory[0]:.0f} MB")
    for twin, one, two, rates in webhook_pairs(results.webhooks):
        ratio = min(rates)
        busy = f"the machine's CPU {spread([100 * w.machine for w in one])}% busy with one, "
        busy += f"{spread([100 * w.machine for w in two])}% with two"
        capped = twin.removeprefix("two processes").removeprefix(", ")
        name = "two webhook processes ≥ 1.7 × one" + (f", {capped}" if capped else "")
        check(name, ratio >= 1.7, f"{ratio:.2f} ({busy})")
    if lines:
        print("\nGoals of issue 15 (the worst round):\n" + "\n".join(lines))


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the profile ----------------------------------------------------------------------------

AREAS = [
    ("HTTP client (httpx, httpcore, h11, anyio)", ("(httpx/", "(httpcore/", "(h11/", "(anyio/")),
    ("  httpcore's pool bookkeeping", ("_assign_requests_to_connections",)),
    ("python-telegram-bot", ("(telegram/",)),
    (
        "SQLAlchemy and sqlmodel, SQL executed in the driver included",
        ("(sqlalchemy/", "(sqlmodel/"),
    ),
    ("  the driver executing SQL and committing", ("DefaultDialect.do_",)),
    ("Engine.handle_sync (the worker threads: state, handlers, SQL)", ("Engine.handle_sync (",)),
    ("scheduler/ (the scheduler and delivery worker)", ("(scheduler/",)),
]
IDLE = ("_worker (concurrent/futures/thread.py", "select (selectors.py", "wait (threading.py")


def summarize_profile(path: Path, top: int = 25) -> None:
    """py-spy's raw output (collapsed stacks) for the whole life of a bot process, imports at
    start and idle threads left out: the share of the busy samples in each area (a sample
    counts for an area when a frame of its stack is there) and the busiest functions by own
    time."""
    stacks: list[tuple[list[str], int]] = []
    idle = imports = 0
    for line in path.read_text(errors="replace").splitlines():
        head, _, count = line.rpartition(" ")
        if not head or not count.isdigit():
            continue
        frames = head.split(";")
        if any("<frozen importlib" in f for f in frames):
            imports += int(count)
        elif frames[-1].startswith(IDLE) or "EpollSelector.select" in frames[-1]:
            idle += int(count)
        else:
            stacks.append((frames, int(count)))
    total = sum(n for _, n in stacks) or 1
    print(
        f"\nprofile {path.name}: {total} busy samples ({idle} idle and {imports} in imports "
        "left out); a sample counts for each area with a frame on its stack:"
    )
    threads = sum(n for frames, n in stacks if frames[0].startswith("Thread._bootstrap"))
    print(
        f"  {100 * (total - threads) / total:5.1f}%  the main thread (the event loop), "
        f"{100 * threads / total:.1f}% other threads (a thread waiting for the database's "
        "answer counts as busy)"
    )
    for name, needles in AREAS:
        hits = sum(n for frames, n in stacks if any(x in f for f in frames for x in needles))
        print(f"  {100 * hits / total:5.1f}%  {name}")
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for frames, n in stacks:
        own[frames[-1]] += n
        where = frames[-1].rpartition("(")[2]
        packages[where.split("/", 1)[0] if "/" in where else where.split(".py", 1)[0]] += n
    print("  own time by package or module:")
    for package, n in packages.most_common(12):
        print(f"  {100 * n / total:5.1f}%  {package}")
    print("  busiest functions (own time):")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {frame}")
