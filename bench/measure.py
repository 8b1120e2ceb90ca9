"""Measured runs for bench/interactive.py: closed loop, open loop, one member, registration."""

from __future__ import annotations

import argparse
import gc
import time
from collections import Counter
from dataclasses import dataclass, field

from bench.bots import FIRST_SIGNUP, UNIT_CODE, BotProcess
from bench.crowd import Crowd, Person
from bench.sqlcount.sitecustomize import FIELDS as SQL_FIELDS


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
    machine: float = float("nan")  # the whole machine's CPU busy over the window, 1 = all cores

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
        calls = (n for m, n in self.calls.items() if m != "getUpdates" and not m.startswith("("))
        return self.per_update(sum(calls))

    def calls_per_answer(self) -> float:
        """Bot API calls for a quiz answer that keeps the quiz going (the last answer of a
        quiz also brings the result; starting a quiz takes its own steps)."""
        answers = self.calls["(quiz answers)"]
        return self.calls["(calls for quiz answers)"] / answers if answers else float("nan")


class Meter:
    """Counters of a crowd and its bot processes at one moment."""

    def __init__(self, crowd: Crowd, processes: list[BotProcess]):
        self.crowd, self.processes = crowd, processes
        self.at = time.perf_counter()
        self.samples, self.calls = crowd.snapshot()
        self.cpu = sum(p.cpu() for p in processes)
        self.own_cpu = time.process_time()  # the double and the members: this process
        self.sql = [sum(col) for col in zip(*(p.sql() for p in processes), strict=True)]
        self.machine = machine_ticks()

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
            machine=busy_share(since.machine, self.machine),
        )


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot, all cores (/proc/stat): the bots,
    the database server and this process together."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return (0, 0)
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle, sum(fields[:8]))


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else float("nan")


def calm() -> None:
    """Collect now and set what exists aside: the bench process keeps every call the bots make
    (the double records them), and a full collection of that heap in the middle of a run
    stalled the double for up to 0.4 s at a time."""
    gc.collect()
    gc.freeze()


def closed_window(
    bot: str, crowd: Crowd, processes: list[BotProcess], uids: list[int], args: argparse.Namespace
) -> Window:
    """Every member answers as soon as the bot replies; measured once each was answered once
    (all start together: the first answers come faster than those of a steady state)."""
    people = [crowd.people[uid] for uid in uids]
    before = [p.answered for p in people]
    calm()
    crowd.start(uids, "closed")
    time.sleep(1.0)
    crowd.wait(
        lambda: all(p.answered > n for p, n in zip(people, before, strict=True)), args.settle
    )
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
    calm()
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
    calm()
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
    in_time: int = 0  # done within the minute, or a late arrival within LATE_GRACE of arriving
    within_minute: int = 0  # done before the minute ended
    finished: int = 0
    last: float | None = None
    longest: float | None = None  # the slowest registration, from arriving to done
    window: Window | None = None
    steps: dict[str, list[float]] = field(default_factory=dict)


LATE_GRACE = 1.0  # seconds: someone arriving in the minute's last moment cannot finish in it


def signup_run(crowd: Crowd, processes: list[BotProcess], args: argparse.Namespace) -> Signup:
    """`--signups` new people arriving at random within `--signup-spread` seconds, each going
    through the whole registration as fast as the bot answers. In time: done within the
    spread, or, for someone who arrived too late for that (five steps take a few hundred ms
    even on an idle bot), within LATE_GRACE of arriving."""
    uids = [FIRST_SIGNUP + i for i in range(args.signups)]
    crowd.add(uids, "signup")
    crowd.unit_code = UNIT_CODE
    calm()
    first = Meter(crowd, processes)
    start = first.at + 0.2
    arrivals = sorted((start + crowd.rng.uniform(0, args.signup_spread), uid) for uid in uids)
    arrived = {uid: at - start for at, uid in arrivals}  # (the schedule is consumed)
    crowd.start(uids, "signup")
    crowd.run_schedule(arrivals, float("inf"))
    people = [crowd.people[uid] for uid in uids]
    crowd.wait(
        lambda: all(p.done_at is not None for p in people),
        start + args.signup_spread + args.signup_grace - time.perf_counter(),
    )
    last = Meter(crowd, processes)
    crowd.stop()
    done = {p.uid: p.done_at - start for p in people if p.done_at is not None}
    took = [d - arrived[uid] for uid, d in done.items()]
    result = Signup(
        people=len(uids),
        spread=args.signup_spread,
        in_time=sum(
            1 for uid, d in done.items() if d <= max(args.signup_spread, arrived[uid] + LATE_GRACE)
        ),
        within_minute=sum(1 for d in done.values() if d <= args.signup_spread),
        finished=len(done),
        last=max(done.values()) if len(done) == len(uids) else None,
        longest=max(took) if took else None,
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
