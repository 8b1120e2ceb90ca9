"""A topic of the library written back as the files of content/ (topics/<id>.yaml, its bank in
quizzes/<id>.yaml, the document's text in seeds/<id>.txt), so it can ship with the bot or move to
another deployment; `congdoan content check` reads them like any other content."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from bot.catalog import Catalog
from bot.models_library import LibraryTopic
from bot.services import library


def to_yaml(
    session: Session, base: Catalog, topic_id: str, folder: Path, *, now: datetime
) -> list[Path]:
    """The files written; none when the library has no such topic."""
    row = session.get(LibraryTopic, topic_id)
    if row is None:
        return []
    seed = f"{row.id}.txt"
    topic: dict[str, Any] = {
        "id": row.id,
        "short_title": row.short_title,
        "title": row.title,
        "years": list(row.years),
        "issuer": row.issuer,
        "document": row.document,
        "seed": seed,
        "sections": [
            {
                "id": s["id"],
                "title": s["title"],
                "body": s["body"],
                "source": {"file": seed, "section": s.get("ref") or s["title"]},
            }
            for s in row.sections
        ],
    }
    questions = [
        {**q.model_dump(mode="json"), "source": {**q.source.model_dump(), "file": seed}}
        for q in library.bank(session, base, topic_id, now=now)
    ]
    out = {
        folder / "seeds" / seed: row.source_text + "\n",
        folder / "topics" / f"{row.id}.yaml": _dump(topic),
    }
    if questions:
        bank = {"topic": row.id, "questions": questions}
        out[folder / "quizzes" / f"{row.id}.yaml"] = _dump(bank)
    for path, text in out.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(out)


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
