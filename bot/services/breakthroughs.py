"""A unit's breakthrough contents ("nội dung, nhiệm vụ trọng tâm, đột phá", Phụ lục 3) and the
pressing issues it tackles ("vấn đề bức xúc, nổi cộm", Phụ lục 4) in a plan's year: the plans
ask every unit for at least one breakthrough task, and the report for the share of each issue
solved."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.models import Unit
from bot.models_year import Breakthrough, BreakthroughKind, BreakthroughStatus
from bot.services.plans import PlanRef
from bot.textutil import one_line

TEXT_MIN, TEXT_MAX = 10, 500
MAX_PER_UNIT = 20  # items of one kind per unit and year


class Invalid(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def clean_text(typed: str) -> str:
    text = one_line(typed)
    if len(text) < TEXT_MIN:
        raise Invalid("text_short")
    if len(text) > TEXT_MAX:
        raise Invalid("text_long")
    return text


def parse_percent(typed: str) -> int:
    """'60', '60%', '60 %' -> 60; 0 to 100."""
    text = one_line(typed).replace("%", "").strip()
    if not text.isdigit():
        raise Invalid("percent_format")
    value = int(text)
    if value > 100:
        raise Invalid("percent_range")
    return value


def of_unit(session: Session, *, unit_id: int, campaign_id: str) -> list[Breakthrough]:
    """The unit's items for the plan: contents first, then issues, in the order added."""
    rows = session.exec(
        select(Breakthrough)
        .where(Breakthrough.unit_id == unit_id, Breakthrough.campaign_id == campaign_id)
        .order_by(col(Breakthrough.id))
    ).all()
    return sorted(rows, key=lambda b: b.kind != BreakthroughKind.CONTENT)


def add(
    session: Session, *, unit_id: int, plan: PlanRef, kind: str, text: str, by: str, now: datetime
) -> Breakthrough:
    if kind not in {k.value for k in BreakthroughKind}:
        raise Invalid("kind")
    count = sum(b.kind == kind for b in of_unit(session, unit_id=unit_id, campaign_id=plan.id))
    if count >= MAX_PER_UNIT:
        raise Invalid("too_many")
    row = Breakthrough(
        unit_id=unit_id,
        campaign_id=plan.id,
        year=plan.year,
        kind=kind,
        text=clean_text(text),
        created_by=by,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def set_progress(
    session: Session, row: Breakthrough, *, done: bool, percent: int | None, now: datetime
) -> None:
    """A content carried out or not; an issue solved for good, or the share solved so far
    (100% is solved for good)."""
    if row.kind == BreakthroughKind.ISSUE:
        if percent is not None:
            if not 0 <= percent <= 100:
                raise Invalid("percent_range")
            row.solved_percent = percent
            done = done or percent == 100
        if done:
            row.solved_percent = 100
    row.status = BreakthroughStatus.DONE if done else BreakthroughStatus.ONGOING
    row.updated_at = now
    session.add(row)
    session.flush()


def remove(session: Session, row: Breakthrough) -> None:
    session.delete(row)
    session.flush()


def nearest_contents(
    session: Session, *, unit: Unit, campaign_id: str
) -> tuple[Unit, list[Breakthrough]] | None:
    """The breakthrough contents of the member's unit, or else of the nearest unit above it
    that has some: what members see in /dangky and /toi."""
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    rows = session.exec(
        select(Breakthrough)
        .where(
            col(Breakthrough.unit_id).in_(ids),
            Breakthrough.campaign_id == campaign_id,
            Breakthrough.kind == BreakthroughKind.CONTENT,
        )
        .order_by(col(Breakthrough.id))
    ).all()
    for unit_id in reversed(ids):  # the member's own unit first, then up the tree
        found = [b for b in rows if b.unit_id == unit_id]
        if found:
            owner = session.get(Unit, unit_id)
            return (owner, found) if owner is not None else None
    return None


def in_scope(
    session: Session, *, campaign_id: str, paths: list[str] | None
) -> list[tuple[Breakthrough, Unit]]:
    """The plan's items of every unit under these paths (None: everywhere), by unit path."""
    query = (
        select(Breakthrough, Unit)
        .join(Unit, col(Unit.id) == Breakthrough.unit_id)
        .where(Breakthrough.campaign_id == campaign_id)
        .order_by(col(Unit.path), col(Breakthrough.id))
    )
    if paths is not None:
        query = query.where(or_(*(col(Unit.path).startswith(p) for p in paths)))
    return [(b, u) for b, u in session.exec(query).all()]
