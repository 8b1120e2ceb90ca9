"""Simulated members for bench/interactive.py: each one reads the bot's last message with buttons
on the Bot API double and presses one of them (or types), as soon as the bot answers (closed
loop) or on a schedule (open loop).

The crowd listens to the double (`on_call`): it runs in the double's thread, sees each call the
bot makes the moment it is recorded and queues the member's next update at once, so nothing
polls and the double's own work stays small. One update per member is in flight at a time; it
is answered by the first message with buttons the bot sends or edits in that chat, or by a text
holding one of the `markers` (a quiz's result, the end of a registration step)."""

from __future__ import annotations

import heapq
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.messages import to_plain
from bot.yamlfile import load_yaml

QUESTION = re.compile(r"Câu (\d+)/(\d+)")
LETTER = re.compile(r"^(?:\S+ )?([A-F])$")  # "A", or "☑️ A" once chosen (several answers)
SEND_OR_EDIT = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption",
     "editMessageReplyMarkup"}
)  # fmt: skip

FAMILY = (
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
    "Ngô", "Dương", "Lý",
)  # fmt: skip
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Thu", "Đức", "Kim")
GIVEN = (
    "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hiếu", "Hoa", "Hùng", "Hương",
    "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Quân", "Sơn", "Tâm", "Thảo",
    "Trang", "Tuấn", "Vy", "Yến",
)  # fmt: skip

SIGNUP_STEPS = ("start", "name", "group", "party", "consent")


class Templates:
    """content/texts.yaml as written (placeholders unfilled)."""

    def __init__(self, path: Path) -> None:
        self.data = load_yaml(path).data or {}

    def __call__(self, key: str) -> str:
        node: Any = self.data
        for part in key.split("."):
            node = node[part]
        return str(node)


def marker(texts: Templates, key: str) -> str:
    """The plain beginning of a text, up to its first placeholder: what a member recognises."""
    return to_plain(texts(key).split("{", 1)[0]).strip()


@dataclass
class Pending:
    kind: str
    intended: float  # when the member meant to act (= when queued, in a closed loop)
    update_id: int
    query_id: str | None = None  # a pressed button's callback query
    calls: int = 0  # sendMessage / editMessageText calls that came for it so far


ANSWERS = ("answer", "toggle", "submit")  # presses within a question


@dataclass
class Person:
    uid: int
    mode: str  # "echo" (press any button), "quiz" (take quizzes again and again), "signup"
    prompt: dict[str, Any] | None = None  # the bot's last message with buttons
    pending: Pending | None = None
    due: list[float] = field(default_factory=list)  # open loop: actions due while waiting
    last_text: str = ""
    finished: bool = False  # a quiz's result came: next is /thi
    answers: int = 0  # quiz answers sent (letters, and "submit" with letters chosen)
    in_quiz: int = 0
    quiz_total: int = 0
    quizzes: int = 0
    bad_ends: int = 0  # results after a number of answers other than the quiz's questions
    step: int = 0  # registration: index in SIGNUP_STEPS (len = done)
    name: str = ""
    done_at: float | None = None
    answered: int = 0  # updates answered so far


@dataclass
class Sample:
    at: float
    latency: float
    kind: str


class Crowd:
    """The members of one bot, behind its double."""

    def __init__(self, api: Any, texts: Templates, *, seed: int = 15) -> None:
        self.api = api
        self.rng = random.Random(seed)
        self.people: dict[int, Person] = {}
        self.lock = threading.Lock()
        self.policy = "idle"  # idle | warmup | closed | open | signup
        self.acting: set[int] = set()  # members taking part in the current run
        self.samples: list[Sample] = []
        self.calls: Counter[str] = Counter()
        self.failed: Counter[str] = Counter()
        self.query_answers: Counter[str] = Counter()  # answerCallbackQuery per query id
        # calls for quiz answers that keep the quiz going, counted into self.calls as
        # "(quiz answers)" and "(calls for quiz answers)"; a query answered after its update
        # ended is added when its answer comes
        self._answer_queries: set[str] = set()
        self.stale = 0  # "this button is old" texts: an update handled twice, or a wrong press
        self.unexpected: Counter[str] = Counter()
        self.limit: int | None = None  # closed loop: stop after this many answers
        self.unit_code = ""
        self.stale_marker = marker(texts, "engine.stale_button")
        self.result_marker = marker(texts, "quiz.result")
        self.start_label = to_plain(texts("quiz.start"))
        self.submit_label = to_plain(texts("quiz.submit"))
        self.consent_label = to_plain(texts("register.consent_yes"))
        self.ask_name_marker = marker(texts, "register.ask_name")
        self.done_marker = marker(texts, "register.done")
        self.quiz_title = "7 dám"
        api.on_call = self.on_call

    # -- members --------------------------------------------------------------------------

    def add(self, uids: Iterable[int], mode: str) -> None:
        with self.lock:
            for uid in uids:
                person = Person(uid, mode)
                if mode == "signup":
                    person.name = " ".join(
                        (self.rng.choice(FAMILY), self.rng.choice(MIDDLE), self.rng.choice(GIVEN))
                    )
                self.people[uid] = person

    def pending_count(self) -> int:
        with self.lock:
            return sum(1 for p in self.people.values() if p.pending is not None)

    # -- what the bot does --------------------------------------------------------------------

    def on_call(self, call: Any) -> None:
        """A call the bot made (the double's thread): is it the answer a member waits for?"""
        method = call.method
        with self.lock:
            self.calls[method] += 1
            if not call.ok:
                self.failed[method] += 1
                return
            if method == "getUpdates" and isinstance(call.result, list):
                self.calls["(updates fetched)"] += len(call.result)
                return
            if method == "answerCallbackQuery":
                query = str(call.params.get("callback_query_id"))
                self.query_answers[query] += 1
                if query in self._answer_queries:
                    self._answer_queries.discard(query)
                    self.calls["(calls for quiz answers)"] += 1
                else:
                    for person in self.people.values():
                        if person.pending is not None and person.pending.query_id == query:
                            person.pending.calls += 1
                            break
                return
            if method not in SEND_OR_EDIT or not isinstance(call.result, dict):
                return
            person = self.people.get(call.chat_id)  # type: ignore[arg-type]
            if person is None:
                return
            message = call.result
            text = message.get("text") or message.get("caption") or ""
            if self.stale_marker in text:
                self.stale += 1
            buttons = (message.get("reply_markup") or {}).get("inline_keyboard")
            if buttons:
                person.prompt = message
            pending = person.pending
            if pending is None:
                if buttons:
                    self.unexpected["buttons nobody waited for"] += 1
                return
            pending.calls += 1
            ended = bool(buttons)
            if person.mode == "quiz" and self.result_marker in text:  # with buttons or not
                ended = person.finished = True
                self._quiz_ended(person)
            if not ended and person.mode == "signup":
                wanted = {"start": self.ask_name_marker, "consent": self.done_marker}
                ended = wanted.get(pending.kind, "\0") in text
            if not ended:
                return
            now = time.perf_counter()
            person.pending = None
            if pending.kind in ANSWERS and not person.finished:
                self.calls["(quiz answers)"] += 1
                self.calls["(calls for quiz answers)"] += pending.calls
                if pending.query_id is not None and not self.query_answers[pending.query_id]:
                    self._answer_queries.add(pending.query_id)
            person.answered += 1
            person.last_text = text[:120]
            self.samples.append(Sample(now, now - pending.intended, pending.kind))
            if person.mode == "signup":
                person.step += 1
                if person.step >= len(SIGNUP_STEPS):
                    person.done_at = now
                    return
            self._after(person, now)

    def _quiz_ended(self, person: Person) -> None:
        person.quizzes += 1
        if person.quiz_total and person.in_quiz != person.quiz_total:
            person.bad_ends += 1
        person.in_quiz = 0

    def _after(self, person: Person, now: float) -> None:
        """What a member does once answered (the lock is held)."""
        if person.uid not in self.acting:
            return
        if self.policy == "closed":
            if self.limit is not None:
                if self.limit <= 0:
                    return
                self.limit -= 1
            self._act(person, now)
        elif self.policy == "open" and person.due:
            self._act(person, person.due.pop(0))
        elif (self.policy == "warmup" and not self.ready(person)) or self.policy == "signup":
            self._act(person, now)

    def ready(self, person: Person) -> bool:
        """Warmed up: a quiz question (or, for the echo, any buttons) on screen."""
        if person.pending is not None or person.prompt is None:
            return False
        if person.mode != "quiz":
            return True
        return not person.finished and any(LETTER.match(t) for t, _ in self._buttons(person))

    # -- what a member does ---------------------------------------------------------------

    @staticmethod
    def _buttons(person: Person) -> list[tuple[str, str]]:
        rows = (person.prompt or {}).get("reply_markup", {}).get("inline_keyboard") or []
        return [(b.get("text", ""), b.get("callback_data", "")) for row in rows for b in row]

    def _act(self, person: Person, intended: float) -> None:
        """Queue the member's next update (the lock is held)."""
        kind, text, data = self._choose(person)
        if data is not None and person.prompt is not None:
            update = self.api.build_callback_update(person.uid, person.prompt, data)
        else:
            update = self.api.build_text_update(person.uid, text or "/start", first_name="Bench")
        query = update.get("callback_query", {}).get("id")
        person.pending = Pending(kind, intended, update["update_id"], query)
        self.api.queue_update(update)

    def _choose(self, person: Person) -> tuple[str, str | None, str | None]:
        """(kind, text to type, or callback data of the button to press)."""
        buttons = self._buttons(person)
        if person.mode == "echo":
            if not buttons:
                return "text", "/start", None
            return "press", None, self.rng.choice(buttons)[1]
        if person.mode == "signup":
            return self._signup_step(person, buttons)
        if person.finished or not buttons:
            person.finished = False
            return "thi", "/thi", None
        letters = [(t, d) for t, d in buttons if LETTER.match(t)]
        if letters:
            found = QUESTION.search((person.prompt or {}).get("text", ""))
            if found:
                person.quiz_total = int(found.group(2))
            submit = next((d for t, d in buttons if t == self.submit_label), None)
            if submit is not None and any(not t.isalpha() for t, _ in letters):
                self._answered(person)
                return "submit", None, submit
            if submit is not None:
                return "toggle", None, self.rng.choice(letters)[1]
            self._answered(person)
            return "answer", None, self.rng.choice(letters)[1]
        start = next((d for t, d in buttons if t == self.start_label), None)
        if start is not None:
            person.in_quiz = 0
            return "start", None, start
        quiz = next((d for t, d in buttons if self.quiz_title in t), None)
        if quiz is not None:
            return "menu", None, quiz
        self.unexpected["a keyboard the bench does not know"] += 1
        return "thi", "/thi", None

    @staticmethod
    def _answered(person: Person) -> None:
        person.answers += 1
        person.in_quiz += 1

    def _signup_step(
        self, person: Person, buttons: list[tuple[str, str]]
    ) -> tuple[str, str | None, str | None]:
        step = SIGNUP_STEPS[min(person.step, len(SIGNUP_STEPS) - 1)]
        if step == "start":
            return step, f"/start {self.unit_code}", None
        if step == "name":
            return step, person.name, None
        if step == "consent":
            data = next((d for t, d in buttons if t == self.consent_label), None)
        else:
            data = self.rng.choice(buttons)[1] if buttons else None
        if data is None:
            self.unexpected[f"no button at step {step}"] += 1
        return step, None, data

    # -- runs ---------------------------------------------------------------------------------

    def start(self, uids: Iterable[int], policy: str, *, limit: int | None = None) -> None:
        """Set who acts and how; members with nothing in flight act now (open loop: later)."""
        now = time.perf_counter()
        with self.lock:
            self.acting = set(uids)
            self.policy = policy
            self.limit = limit
            if policy in ("open", "signup"):  # they act on their schedule (`act_at`)
                return
            for uid in self.acting:
                person = self.people[uid]
                if person.pending is not None:
                    continue
                if policy == "warmup" and self.ready(person):
                    continue
                if policy == "closed" and self.limit is not None:
                    if self.limit <= 0:
                        break
                    self.limit -= 1
                self._act(person, now)

    def stop(self) -> None:
        """Nobody starts anything new; what is in flight still finishes."""
        with self.lock:
            self.policy = "idle"
            self.acting = set()

    def act_at(self, uid: int, intended: float) -> None:
        """Open loop: the member's next action is due now (late if still waiting)."""
        with self.lock:
            person = self.people[uid]
            if person.done_at is not None:
                return
            if person.pending is None:
                self._act(person, intended)
            else:
                person.due.append(intended)

    def run_schedule(self, schedule: list[tuple[float, int]], until: float) -> None:
        """Open loop: act at each (time, uid) until `until` (perf_counter)."""
        heapq.heapify(schedule)
        while schedule and schedule[0][0] < until:
            at, uid = heapq.heappop(schedule)
            delay = at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            self.act_at(uid, at)

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def drain(self, timeout: float) -> list[Person]:
        """Wait for the updates in flight; the members still waiting after `timeout`."""
        for person in self.people.values():
            person.due.clear()
        self.wait(lambda: self.pending_count() == 0, timeout)
        with self.lock:
            for person in self.people.values():
                person.due.clear()
            return [p for p in self.people.values() if p.pending is not None]

    def snapshot(self) -> tuple[int, Counter[str]]:
        with self.lock:
            return len(self.samples), Counter(self.calls)
