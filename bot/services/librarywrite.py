"""Changes to the library (bot/services/library.py): a topic made from an official document,
its outline edited (titles, years, sections merged or dropped), published; quiz questions
imported from Excel. Every change bumps a version (an editor that read an older one is refused,
not overwritten), is kept as a revision with a snapshot, and is audited."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.catalog import Catalog
from bot.contentmodel import explain_error
from bot.models_library import LibraryBank, LibraryQuestion, LibraryRevision, LibraryTopic
from bot.services import audit, docimport, library
from bot.services.docimport import Part
from bot.texts import Refusal
from bot.textutil import fold
from bot.topics import Question

logger = logging.getLogger(__name__)

SHORT_MAX = 40
TITLE_MAX = 300
_YEAR = re.compile(r"\b(20\d\d)\b")
_BOILERPLATE = (
    "cộng hòa xã hội chủ nghĩa",
    "cộng hoà xã hội chủ nghĩa",
    "độc lập - tự do",
    "độc lập – tự do",
    "số:",
)
_ISSUERS = ("liên đoàn lao động", "tổng liên đoàn", "ban tuyên giáo", "ban chấp hành", "tỉnh ủy")


class LibraryError(Refusal):
    """A change to the library that cannot be made (`library.errors.*`)."""

    PREFIX = "library.errors."


# --- a topic from a document ------------------------------------------------------------------


@dataclass(frozen=True)
class Guess:
    title: str
    issuer: str
    year: int


def guess(paragraphs: list[str], filename: str, *, now: datetime, tz: ZoneInfo) -> Guess:
    """The document's title (its "CHUYÊN ĐỀ …" heading, else its first capitalised line that
    is not the national motto), its issuer, and the year it is for."""
    head = paragraphs[:20]
    title = ""
    for n, text in enumerate(head):
        low = fold(text)
        if any(fold(b) in low for b in _BOILERPLATE) or low.startswith("ngay"):
            continue
        if "chuyen de" in low or "tai lieu" in low:
            follow = head[n + 1] if n + 1 < len(head) else ""
            title = text if not _caps(follow) or len(text) > 60 else f"{text}: {follow}"
            break
        if not title and _caps(text) and len(text) >= 15 and not _issuer(text):
            title = text
    if not title:
        title = re.sub(r"[_-]+", " ", filename.rsplit(".", 1)[0]).strip() or "Chuyên đề"
    issuer = next((t for t in head[:6] if _issuer(t)), "")
    local = now.astimezone(tz)
    default = local.year + (1 if local.month >= 10 else 0)
    years = [int(y) for y in _YEAR.findall(title) if local.year - 1 <= int(y) <= local.year + 2]
    return Guess(_sentence_case(title)[:TITLE_MAX], issuer[:200], max(years, default=default))


def _caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def _issuer(text: str) -> bool:
    return _caps(text) and any(fold(i) in fold(text) for i in _ISSUERS)


def _sentence_case(text: str) -> str:
    """ "CHUYÊN ĐỀ NĂM 2027: HỌC TẬP …" -> "Chuyên đề năm 2027: Học tập …" (titles in capitals
    are hard to read on a phone); a title already in mixed case is kept."""
    if not _caps(text):
        return text
    out = text.lower()
    out = out[:1].upper() + out[1:]
    out = re.sub(r"([:.]\s+)(\w)", lambda m: m.group(1) + m.group(2).upper(), out)
    return re.sub(r"\bhồ chí minh\b", "Hồ Chí Minh", out)


def _free_id(session: Session, base: Catalog, year: int) -> str:
    stem = f"chuyen-de-{year}"
    n = 1
    while True:
        candidate = stem if n == 1 else f"{stem}-{n}"
        if candidate not in base.topics and session.get(LibraryTopic, candidate) is None:
            return candidate
        n += 1


def _sections(parts: Iterable[Part]) -> list[dict[str, Any]]:
    return [{"id": f"muc-{n}", "title": p.title, "body": p.body} for n, p in enumerate(parts, 1)]


def create(
    session: Session,
    base: Catalog,
    *,
    data: bytes,
    filename: str,
    by: str,
    now: datetime,
    tz: ZoneInfo,
    topic_id: str | None = None,
    title: str | None = None,
    years: list[int] | None = None,
    issuer: str = "",
) -> LibraryTopic:
    """A draft topic from a DOCX or a PDF (docimport.DocumentError when the file cannot be
    one). With the id of a topic of the library, its text and sections are replaced instead
    (the document was corrected): a new version, still a draft or still published."""
    paragraphs = docimport.paragraphs(data, filename)
    parts = docimport.propose(paragraphs)
    if not parts:
        raise LibraryError("no_sections")
    found = guess(paragraphs, filename, now=now, tz=tz)
    name = _clean_title(title) if title else found.title
    year_list = sorted(set(years)) if years else [found.year]
    if topic_id is not None:
        _check_id(topic_id, base)
    row = session.get(LibraryTopic, topic_id) if topic_id else None
    source = "\n\n".join(paragraphs)
    if row is not None:
        row.source_text, row.sections, row.file_name = source, _sections(parts), filename[-200:]
        if title:
            row.title = row.document = name
        if years:
            row.years = year_list
        return _saved(session, row, by=by, now=now, kind="topic.replaced", file_name=filename)
    row = LibraryTopic(
        id=topic_id or _free_id(session, base, year_list[-1]),
        status=library.DRAFT,
        short_title=f"Chuyên đề {year_list[-1]}",
        title=name,
        years=year_list,
        issuer=(issuer or found.issuer or "—")[:200],
        document=name[:200],
        file_name=filename[-200:],
        source_text=source,
        sections=_sections(parts),
        version=0,
        created_by=by,
        updated_by=by,
        created_at=now,
        updated_at=now,
    )
    return _saved(session, row, by=by, now=now, kind="topic.created", file_name=filename)


def _check_id(topic_id: str, base: Catalog) -> None:
    if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", topic_id) or len(topic_id) > 60:
        raise LibraryError("bad_id", id=topic_id[:60])
    if topic_id in base.topics:
        raise LibraryError("id_shipped", id=topic_id)


def _clean_title(text: str) -> str:
    return " ".join(text.split())


def _saved(
    session: Session,
    row: LibraryTopic,
    *,
    by: str,
    now: datetime,
    kind: str,
    file_name: str | None = None,
) -> LibraryTopic:
    """Validate as a catalog topic, bump the version, keep a revision, audit."""
    try:
        library.topic_of(row)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise LibraryError("invalid", reason=explain_error(err)) from exc
    row.version += 1
    row.updated_by, row.updated_at = by, now
    session.add(row)
    session.flush()
    session.add(
        LibraryRevision(
            topic_id=row.id,
            kind=kind,
            version=row.version,
            by=by,
            at=now,
            file_name=file_name[-200:] if file_name else None,
            summary={"sections": len(row.sections), "status": row.status},
            snapshot=_snapshot(row),
        )
    )
    action = {"topic.created": "topic_create", "topic.published": "topic_publish"}
    audit.record(
        session, actor=by, action=action.get(kind, "topic_change"), topic=row.id, v=row.version
    )
    if row.status == library.PUBLISHED:
        library.changed(session)
    logger.info("library %s topic=%s version=%s by=%s", kind, row.id, row.version, by)
    return row


def _snapshot(row: LibraryTopic) -> dict[str, Any]:
    return {
        "status": row.status,
        "short_title": row.short_title,
        "title": row.title,
        "years": list(row.years),
        "issuer": row.issuer,
        "document": row.document,
        "sections": list(row.sections),
    }


# --- editing the outline ------------------------------------------------------------------------


def _editable(session: Session, topic_id: str, version: int | None) -> LibraryTopic:
    row = session.get(LibraryTopic, topic_id)
    if row is None:
        raise LibraryError("unknown", id=topic_id)
    if version is not None and row.version != version:
        raise LibraryError("changed", title=row.short_title)
    return row


def retitle(
    session: Session,
    topic_id: str,
    *,
    by: str,
    now: datetime,
    version: int | None = None,
    title: str | None = None,
    short_title: str | None = None,
    years: list[int] | None = None,
) -> LibraryTopic:
    row = _editable(session, topic_id, version)
    if title is not None:
        clean = _clean_title(title)
        if not 5 <= len(clean) <= TITLE_MAX:
            raise LibraryError("title_length", length=len(clean), limit=TITLE_MAX)
        row.title = clean
        row.document = clean[:200]
    if short_title is not None:
        clean = _clean_title(short_title)
        if not 3 <= len(clean) <= SHORT_MAX:
            raise LibraryError("short_length", length=len(clean), limit=SHORT_MAX)
        row.short_title = clean
    if years is not None:
        row.years = sorted(set(years))
    return _saved(session, row, by=by, now=now, kind="topic.changed")


def merge_sections(
    session: Session, topic_id: str, numbers: list[int], *, by: str, now: datetime, version: int
) -> LibraryTopic:
    """Sections n … m (numbered from 1, consecutive) become one run under n's title, split
    again at 1,200 characters; the later titles stay as the first line of their text."""
    row = _editable(session, topic_id, version)
    picked = sorted(set(numbers))
    if len(picked) < 2:
        raise LibraryError("merge_two")
    if picked != list(range(picked[0], picked[-1] + 1)):
        raise LibraryError("merge_adjacent")
    if picked[0] < 1 or picked[-1] > len(row.sections):
        raise LibraryError("no_section", last=len(row.sections))
    chosen = row.sections[picked[0] - 1 : picked[-1]]
    body: list[str] = []
    for n, section in enumerate(chosen):
        if n and "(tiếp" not in section["title"]:
            body.append(section["title"])
        body += [p for p in section["body"].split("\n\n") if p.strip()]
    merged = docimport.sections_of(chosen[0]["title"], body)
    kept = [Part(s["title"], s["body"]) for s in row.sections]
    kept[picked[0] - 1 : picked[-1]] = merged
    row.sections = _sections(kept)
    return _saved(session, row, by=by, now=now, kind="topic.changed")


def drop_sections(
    session: Session, topic_id: str, numbers: list[int], *, by: str, now: datetime, version: int
) -> LibraryTopic:
    row = _editable(session, topic_id, version)
    picked = set(numbers)
    if not picked or min(picked) < 1 or max(picked) > len(row.sections):
        raise LibraryError("no_section", last=len(row.sections))
    if len(picked) >= len(row.sections):
        raise LibraryError("keep_one")
    kept = [Part(s["title"], s["body"]) for n, s in enumerate(row.sections, 1) if n not in picked]
    row.sections = _sections(kept)
    return _saved(session, row, by=by, now=now, kind="topic.changed")


def publish(
    session: Session, topic_id: str, *, by: str, now: datetime, version: int | None = None
) -> LibraryTopic:
    row = _editable(session, topic_id, version)
    if row.status == library.PUBLISHED:
        raise LibraryError("published_already", title=row.short_title)
    row.status, row.published_at = library.PUBLISHED, now
    return _saved(session, row, by=by, now=now, kind="topic.published")


def discard(session: Session, topic_id: str, *, by: str, now: datetime) -> None:
    """Delete a draft and the questions imported into it (a published topic stays: plans and
    members' progress may name it)."""
    row = _editable(session, topic_id, None)
    if row.status != library.DRAFT:
        raise LibraryError("not_draft", title=row.short_title)
    session.execute(delete(LibraryQuestion).where(col(LibraryQuestion.topic_id) == topic_id))
    session.execute(delete(LibraryBank).where(col(LibraryBank.topic_id) == topic_id))
    session.delete(row)
    session.add(
        LibraryRevision(
            topic_id=topic_id, kind="topic.discarded", version=row.version, by=by, at=now
        )
    )
    audit.record(session, actor=by, action="topic_discard", topic=topic_id)
    session.flush()


# --- questions ------------------------------------------------------------------------------------


def taken_ids(session: Session, base: Catalog, topic_id: str, ids: Iterable[str]) -> dict[str, str]:
    """Question ids already used by another topic (shipped or of the library): id -> topic."""
    wanted = set(ids)
    out: dict[str, str] = {}
    for topic, questions in base.banks.items():
        if topic != topic_id:
            out.update({q.id: topic for q in questions if q.id in wanted})
    if wanted:
        rows = session.exec(
            select(LibraryQuestion.id, LibraryQuestion.topic_id).where(
                col(LibraryQuestion.id).in_(wanted), LibraryQuestion.topic_id != topic_id
            )
        ).all()
        out.update({qid: topic for qid, topic in rows})
    return out


@dataclass(frozen=True)
class Imported:
    added: int
    updated: int
    unchanged: int
    total: int  # the topic's bank afterwards


def import_questions(
    session: Session,
    base: Catalog,
    topic_id: str,
    questions: list[Question],
    *,
    by: str,
    now: datetime,
    file_name: str,
) -> Imported:
    """Add the questions to the topic's bank, or update those with the same id (the same file
    sent again updates, never duplicates). The caller has checked them."""
    taken = taken_ids(session, base, topic_id, (q.id for q in questions))
    if taken:
        first = next(iter(taken))
        raise LibraryError("id_taken", id=first, topic=taken[first])
    existing = {
        r.id: r
        for r in session.exec(
            select(LibraryQuestion).where(LibraryQuestion.topic_id == topic_id)
        ).all()
    }
    shipped = {q.id: q for q in base.banks.get(topic_id, [])}
    position = max((r.position for r in existing.values()), default=-1) + 1
    added = updated = unchanged = 0
    for question in questions:
        data = library.question_data(question)
        row = existing.get(question.id)
        if row is None:
            before = shipped.get(question.id)
            if before is not None and library.question_data(before) == data:
                unchanged += 1
                continue
            row = LibraryQuestion(
                id=question.id, topic_id=topic_id, position=position, data=data, updated_by=by,
                updated_at=now,
            )  # fmt: skip
            position += 1
            added += before is None
            updated += before is not None
        elif row.data == data:
            unchanged += 1
            continue
        else:
            row.data, row.version, row.updated_by, row.updated_at = data, row.version + 1, by, now
            updated += 1
        session.add(row)
    bank_row = session.get(LibraryBank, topic_id) or LibraryBank(
        topic_id=topic_id, version=0, updated_by=by, updated_at=now
    )
    bank_row.version += 1
    bank_row.updated_by, bank_row.updated_at = by, now
    session.add(bank_row)
    session.flush()
    total = _count(session, base, topic_id)
    snapshot = [
        {"id": r.id, **r.data}
        for r in session.exec(
            select(LibraryQuestion)
            .where(LibraryQuestion.topic_id == topic_id)
            .order_by(col(LibraryQuestion.position))
        ).all()
    ]
    session.add(
        LibraryRevision(
            topic_id=topic_id,
            kind="questions.imported",
            version=bank_row.version,
            by=by,
            at=now,
            file_name=file_name[-200:],
            summary={"added": added, "updated": updated, "unchanged": unchanged},
            snapshot={"questions": snapshot},
        )
    )
    audit.record(
        session, actor=by, action="questions_import", topic=topic_id, added=added, updated=updated
    )
    library.changed(session)
    logger.info(
        "library questions topic=%s added=%s updated=%s by=%s", topic_id, added, updated, by
    )
    return Imported(added, updated, unchanged, total)


def _count(session: Session, base: Catalog, topic_id: str) -> int:
    ids = {q.id for q in base.banks.get(topic_id, [])}
    ids |= set(
        session.exec(select(LibraryQuestion.id).where(LibraryQuestion.topic_id == topic_id)).all()
    )
    return len(ids)
