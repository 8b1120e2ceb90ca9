"""`congdoan content check` beyond content/: the library in the database (topics made from a
document, questions imported from Excel) checked with the same rules, known typos of the sources
(content/typos.yaml) included, and fairness warnings for every bank (answers that give themselves
away by length, other provinces' trivia, near-duplicate questions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlmodel import Session, col, select

from bot import typos
from bot.catalog import Catalog
from bot.contentmodel import explain_error
from bot.models import Plan, Unit
from bot.models_library import LibraryQuestion, LibraryTopic
from bot.services import library, xlsxquestions
from bot.services.docimport import normalized
from bot.textutil import QUOTE_MATCHING


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def check(session: Session, base: Catalog, content_root: Path, *, now: datetime) -> Findings:
    out = Findings()
    known = typos.known(content_root)
    topics: dict[str, LibraryTopic] = {
        row.id: row for row in session.exec(select(LibraryTopic).order_by(col(LibraryTopic.id)))
    }
    for row in topics.values():
        where = f"thư viện, chuyên đề {row.id}"
        try:
            made = library.topic_of(row)
        except ValidationError as exc:
            out.problems += [f"{where}: {explain_error(e)}" for e in exc.errors()]
            continue
        for n, section in enumerate(made.sections, 1):  # the document's own words: a warning
            for found in typos.find(f"{section.title}\n{section.body}", known):
                out.warnings.append(f"{where}, mục {n}: {found.message()}")
    questions = session.exec(
        select(LibraryQuestion).order_by(col(LibraryQuestion.topic_id), col(LibraryQuestion.id))
    ).all()
    texts: dict[str, str] = {}
    for qrow in questions:
        where = f"thư viện, chuyên đề {qrow.topic_id}, câu {qrow.id}"
        if qrow.topic_id not in topics and qrow.topic_id not in base.topics:
            out.problems.append(f"{where}: không có chuyên đề này")
            continue
        try:
            question = library.question_of(qrow)
        except ValidationError as exc:
            out.problems += [f"{where}: {explain_error(e)}" for e in exc.errors()]
            continue
        cells = [
            ("câu hỏi", question.text),
            *((f"phương án {xlsxquestions.LETTERS[i]}", o) for i, o in enumerate(question.options)),
            ("giải thích", question.explanation),
        ]
        for name, text in cells:
            out.problems += [f"{where}, {name}: {f.message()}" for f in typos.find(text, known)]
        if qrow.topic_id not in texts:
            topic = base.topics.get(qrow.topic_id)
            texts[qrow.topic_id] = library.source_text(session, content_root, topic, qrow.topic_id)
        quote = normalized(question.source.quote or "")
        if quote and quote not in texts[qrow.topic_id]:
            out.problems.append(
                f"{where}: trích dẫn không có nguyên văn trong tài liệu của chuyên đề "
                f"({QUOTE_MATCHING})"
            )
    merged = library.catalog(session, base, now=now)
    provinces = _provinces(session)
    for topic_id, bank in sorted(merged.banks.items()):
        province = provinces.get(topic_id)
        for warning in xlsxquestions.fairness(bank, province=province or _ANY):
            out.warnings.append(f"bộ câu hỏi {topic_id}: {warning}")
    return out


_ANY = "—"  # no plan names the bank's province: every province named is worth a look


def _provinces(session: Session) -> dict[str, str]:
    """The province of the plans that use each topic (when all of them are one province's)."""
    found: dict[str, set[str]] = {}
    for plan in session.exec(select(Plan)):
        unit = session.exec(select(Unit).where(Unit.code == plan.root_unit)).first()
        province = library.province_of(unit.name) if unit is not None else None
        for topic in {plan.topic, *(q.get("topic") for q in plan.quizzes)}:
            if isinstance(topic, str):
                found.setdefault(topic, set()).add(province or _ANY)
    return {t: next(iter(p)) for t, p in found.items() if len(p) == 1}
