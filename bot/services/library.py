"""The library: topics made from an official document and quiz questions imported from Excel,
kept in the database (bot/models_library.py), read together with what content/ ships.

`catalog()` is what handlers and the scheduler use: the shipped catalog with the published
library merged in. Every process keeps the merged catalog in memory and asks the database at
most every `LIBRARY_TTL` (by the clock it is given) whether anything changed, with one small
query; a process that changes the library sees it at once, the other replicas within
`LIBRARY_TTL`. Changes are made by bot/services/librarywrite.py."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import event, literal
from sqlmodel import Session, col, select

from bot import typos
from bot.catalog import Catalog
from bot.enginecache import per_engine
from bot.models_library import LibraryBank, LibraryQuestion, LibraryTopic
from bot.services import xlsxquestions
from bot.services.docimport import normalized
from bot.topics import Question, Topic

logger = logging.getLogger(__name__)

LIBRARY_TTL = timedelta(seconds=15)
DRAFT = "draft"
PUBLISHED = "published"
SEED_PREFIX = "library:"  # a library topic's `seed`: its text is in the database


# --- rows as the catalog's models ---------------------------------------------------------------


def topic_of(row: LibraryTopic) -> Topic:
    """The topic as /hoc and /kehoach know it; each section cites the document by name."""
    return Topic.model_validate(
        {
            "id": row.id,
            "short_title": row.short_title,
            "title": row.title,
            "years": list(row.years),
            "issuer": row.issuer,
            "document": row.document,
            "seed": SEED_PREFIX + row.id,
            "sections": [
                {
                    "id": s["id"],
                    "title": s["title"],
                    "body": s["body"],
                    "source": {"file": row.document, "section": s.get("ref") or s["title"]},
                }
                for s in row.sections
            ],
        }
    )


def question_of(row: LibraryQuestion) -> Question:
    return Question.model_validate({"id": row.id, **row.data})


def question_data(question: Question) -> dict[str, Any]:
    """What a question row keeps (its id is the row's key)."""
    return question.model_dump(mode="json", exclude={"id"})


# --- the merged catalog ---------------------------------------------------------------------------


@dataclass
class _Cache:
    signature: tuple[Any, ...] | None = None
    checked_at: datetime | None = None
    merged: dict[int, Catalog] = field(default_factory=dict)  # by id() of the shipped catalog
    shelf: tuple[dict[str, Topic], dict[str, list[Question]]] = ({}, {})
    generation: int = 0
    checked_generation: int = -1
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fresh(self, now: datetime) -> bool:
        return (
            self.checked_at is not None
            and self.checked_generation == self.generation
            and self.checked_at <= now < self.checked_at + LIBRARY_TTL
        )


def _cache(session: Session) -> _Cache:
    return per_engine("library", session, _Cache)


def changed(session: Session) -> None:
    """This process changed the library: look again now, and once the change is committed."""
    cache = _cache(session)
    with cache.lock:
        cache.generation += 1

    def bump(_s: Any) -> None:
        with cache.lock:
            cache.generation += 1

    event.listen(session, "after_commit", bump, once=True)
    event.listen(session, "after_rollback", bump, once=True)


def _signature(session: Session) -> tuple[Any, ...]:
    """What changes whenever a published topic or an imported bank does (one query)."""
    rows = session.execute(
        select(LibraryTopic.id, LibraryTopic.version, literal("topic"))
        .where(LibraryTopic.status == PUBLISHED)
        .union_all(select(LibraryBank.topic_id, LibraryBank.version, literal("bank")))
    ).all()
    return tuple(sorted((str(a), int(b), str(c)) for a, b, c in rows))


def _load_shelf(session: Session) -> tuple[dict[str, Topic], dict[str, list[Question]]]:
    topics: dict[str, Topic] = {}
    for row in session.exec(
        select(LibraryTopic).where(LibraryTopic.status == PUBLISHED).order_by(col(LibraryTopic.id))
    ):
        try:
            topics[row.id] = topic_of(row)
        except ValidationError as exc:
            logger.error("library topic=%s cannot be read, left out: %s", row.id, exc.error_count())
    banks: dict[str, list[Question]] = {}
    for qrow in session.exec(
        select(LibraryQuestion).order_by(
            col(LibraryQuestion.topic_id), col(LibraryQuestion.position), col(LibraryQuestion.id)
        )
    ):
        try:
            banks.setdefault(qrow.topic_id, []).append(question_of(qrow))
        except ValidationError as exc:
            logger.error("library question=%s cannot be read: %s", qrow.id, exc.error_count())
    return topics, banks


def merge(base: Catalog, topics: dict[str, Topic], banks: dict[str, list[Question]]) -> Catalog:
    """The shipped catalog with the library: its topics added (a shipped id is never replaced),
    its questions added to their topic's bank, one with a shipped id in its place."""
    merged = Catalog(
        topics={**base.topics, **{k: v for k, v in topics.items() if k not in base.topics}},
        banks={k: list(v) for k, v in base.banks.items()},
        questions=dict(base.questions),
        campaigns=base.campaigns,
        pledges=base.pledges,
    )
    for topic_id, questions in banks.items():
        if topic_id not in merged.topics:
            continue  # a draft's questions wait for it to be published
        bank = merged.banks.setdefault(topic_id, [])
        where = {q.id: n for n, q in enumerate(bank)}
        for question in questions:
            if question.id in where:
                bank[where[question.id]] = question
            elif base.questions.get(question.id) is None:
                where[question.id] = len(bank)
                bank.append(question)
            else:
                continue  # the id of another topic's shipped question: never taken over
            merged.questions[question.id] = question
    return merged


def catalog(session: Session, base: Catalog, *, now: datetime) -> Catalog:
    """The catalog handlers use: content/ with the published library."""
    cache = _cache(session)
    with cache.lock:
        if cache.fresh(now) and id(base) in cache.merged:
            return cache.merged[id(base)]
        generation = cache.generation
    signature = _signature(session)
    with cache.lock:
        same = signature == cache.signature
    if not same:
        shelf = _load_shelf(session)
        with cache.lock:
            cache.shelf, cache.signature, cache.merged = shelf, signature, {}
    with cache.lock:
        found = cache.merged.get(id(base))
        if found is None:
            found = cache.merged[id(base)] = merge(base, *cache.shelf)
        cache.checked_at, cache.checked_generation = now, generation
        return found


# --- reading for the editors ------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """A topic as /chuyende lists it: shipped or made here, published or a draft."""

    id: str
    short_title: str
    sections: int
    questions: int
    status: str  # "shipped", DRAFT or PUBLISHED


def entries(session: Session, base: Catalog, *, now: datetime) -> list[Entry]:
    """Drafts first (the work in hand), then the library, then what content/ ships."""
    merged = catalog(session, base, now=now)
    out: list[Entry] = []
    rows = session.exec(select(LibraryTopic).order_by(col(LibraryTopic.updated_at).desc())).all()
    for row in rows:
        count = (
            len(merged.banks.get(row.id, []))
            if row.status == PUBLISHED
            else _draft_count(session, row.id)
        )
        out.append(Entry(row.id, row.short_title, len(row.sections), count, row.status))
    mine = {row.id for row in rows}
    for topic in base.topics.values():
        if topic.id not in mine:
            count = len(merged.banks.get(topic.id, []))
            out.append(Entry(topic.id, topic.short_title, len(topic.sections), count, "shipped"))
    order = {DRAFT: 0, PUBLISHED: 1, "shipped": 2}
    return sorted(out, key=lambda e: order[e.status])


def _draft_count(session: Session, topic_id: str) -> int:
    return len(
        session.exec(select(LibraryQuestion.id).where(LibraryQuestion.topic_id == topic_id)).all()
    )


def bank(session: Session, base: Catalog, topic_id: str, *, now: datetime) -> list[Question]:
    """A topic's questions as they stand (a draft's too), for export and import checks."""
    merged = catalog(session, base, now=now)
    if topic_id in merged.topics:
        return list(merged.banks.get(topic_id, []))
    rows = session.exec(
        select(LibraryQuestion)
        .where(LibraryQuestion.topic_id == topic_id)
        .order_by(col(LibraryQuestion.position), col(LibraryQuestion.id))
    ).all()
    return [question_of(r) for r in rows]


def source_text(session: Session, content_root: Any, topic: Topic | None, topic_id: str) -> str:
    """The text quotes are checked against: a library topic's document, or a shipped topic's
    seed file in content/seeds/. Normalized as quotes are compared (NFC, whitespace)."""
    row = session.get(LibraryTopic, topic_id)
    if row is not None:
        return normalized(row.source_text)
    if topic is None:
        return ""
    path = content_root / "seeds" / topic.seed
    try:
        return normalized(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return ""


# --- questions from Excel -----------------------------------------------------------------------

_PROVINCE_PREFIXES = ("lđlđ tỉnh ", "lđlđ thành phố ", "liên đoàn lao động tỉnh ",
                      "liên đoàn lao động thành phố ", "lđlđ tp ", "lđlđ tp. ")  # fmt: skip


def province_of(root_name: str) -> str | None:
    """ "LĐLĐ tỉnh An Giang" -> "An Giang": the province a tree's questions may name."""
    low = root_name.casefold()
    for prefix in _PROVINCE_PREFIXES:
        if low.startswith(prefix):
            return root_name[len(prefix) :].strip() or None
    return None


def topic_any(session: Session, base: Catalog, topic_id: str, *, now: datetime) -> Topic | None:
    """A topic by id, a draft of the library included."""
    found = catalog(session, base, now=now).topics.get(topic_id)
    if found is not None:
        return found
    row = session.get(LibraryTopic, topic_id)
    if row is None:
        return None
    try:
        return topic_of(row)
    except ValidationError:
        return None


def check_sheet(
    session: Session,
    base: Catalog,
    content_root: Any,
    topic_id: str,
    data: bytes,
    *,
    now: datetime,
    province: str | None = None,
) -> xlsxquestions.Imported:
    """Every row of a filled template checked for the topic: the rules of the YAML banks, the
    quote in the topic's document, ids another topic uses; fairness as warnings.
    xlsxquestions.SheetError when the file is not such a sheet at all."""
    from bot.services import librarywrite

    topic = topic_any(session, base, topic_id, now=now)
    document = source_text(session, content_root, topic, topic_id)
    result = xlsxquestions.read(
        data,
        topic_id=topic_id,
        document=document,
        source_name=topic.document if topic is not None else topic_id,
        bank=bank(session, base, topic_id, now=now),
        province=province,
        typos=typos.known(content_root),
    )
    rows = {q.id: row for row, q in result.questions}
    for qid, other in librarywrite.taken_ids(session, base, topic_id, rows).items():
        result.problems.append(
            xlsxquestions.Problem(rows[qid], "Mã", f"đã dùng cho một câu của chủ đề “{other}”")
        )
    result.problems.sort(key=lambda p: p.row)
    return result
