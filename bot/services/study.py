"""Study progress: where each member is in each topic, and who has finished it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from bot.models import StudyProgress


def progress(session: Session, *, member_id: int, topic_id: str) -> StudyProgress | None:
    return session.exec(
        select(StudyProgress).where(
            StudyProgress.member_id == member_id, StudyProgress.topic_id == topic_id
        )
    ).first()


def all_progress(session: Session, *, member_id: int) -> dict[str, StudyProgress]:
    rows = session.exec(select(StudyProgress).where(StudyProgress.member_id == member_id)).all()
    return {row.topic_id: row for row in rows}


def move_to(
    session: Session,
    *,
    member_id: int,
    topic_id: str,
    index: int,
    sections: int,
    now: datetime,
    known: tuple[StudyProgress | None] | None = None,
) -> StudyProgress:
    """Remember the section on screen; reaching past the last one marks the topic studied.
    `known`: (the member's progress on this topic,) when the caller has just read it."""
    row = (
        known[0] if known is not None else progress(session, member_id=member_id, topic_id=topic_id)
    )
    if row is None:
        row = StudyProgress(member_id=member_id, topic_id=topic_id)
    row.section_index = max(0, min(index, sections - 1))
    if index >= sections and row.completed_at is None:
        row.completed_at = now
    row.updated_at = now
    session.add(row)
    session.flush()
    return row
