"""Good examples ("gương người tốt, việc tốt") members tell the union about, reviewed by the
officers of the unit concerned; and the good models ("mô hình hay, cách làm hiệu quả") officers
record for a plan's year (Phụ lục 5, 6). Approved examples whose person agreed are featured in
the anniversary posts of their tree and may be sent as announcements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from bot.models import Member, Unit
from bot.models_year import ExampleStatus, GoodExample, GoodModel
from bot.services.plans import PlanRef
from bot.textutil import one_line

PERSON_MIN, PERSON_MAX = 2, 150
TEXT_MIN, TEXT_MAX = 20, 1500
NOTE_MIN, NOTE_MAX = 5, 500
MAX_PHOTO_BYTES = 1_500_000
FEATURED = 3  # examples in an anniversary post
FEATURED_WITHIN = timedelta(days=365)  # approved this recently
NAME_MIN, NAME_MAX = 5, 200
DETAIL_MIN, DETAIL_MAX = 10, 1000
RECOGNITION_MAX = 200


class Invalid(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def clean(typed: str, low: int, high: int, *, lines: bool = False) -> str:
    """User text in bounds: one line, or (lines=True) line breaks kept, blanks squeezed."""
    if lines:
        kept = [" ".join(part.split()) for part in (typed or "").split("\n")]
        value = "\n".join(p for p in kept if p).strip()
    else:
        value = one_line(typed)
    if len(value) < low:
        raise Invalid("short")
    if len(value) > high:
        raise Invalid("long")
    return value


def shown_text(example: GoodExample) -> str:
    """What readers get: the officer's edit, else the text as told."""
    return example.edited_text or example.text


# --- members tell ---------------------------------------------------------------------------


def submit(
    session: Session,
    *,
    member: Member,
    unit_id: int,
    person: str,
    text: str,
    photo: bytes | None,
    consent: bool,
    now: datetime,
) -> GoodExample:
    if photo is not None and len(photo) > MAX_PHOTO_BYTES:
        raise Invalid("photo_big")
    row = GoodExample(
        unit_id=unit_id,
        person=clean(person, PERSON_MIN, PERSON_MAX),
        text=clean(text, TEXT_MIN, TEXT_MAX, lines=True),
        photo=photo,
        consent=consent,
        submitted_by=member.id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


# --- officers review ------------------------------------------------------------------------


def _in_paths(paths: Iterable[str] | None) -> Any:
    if paths is None:
        return True
    clauses = [col(Unit.path).startswith(p) for p in paths]
    return or_(*clauses) if clauses else False


@dataclass(frozen=True)
class Waiting:
    count: int
    next: list[GoodExample]


def waiting(
    session: Session,
    *,
    paths: list[str] | None,
    exclude_member: int | None,
    skipped: Iterable[int] = (),
    limit: int = 5,
) -> Waiting:
    """Examples about units under these paths waiting for a decision, the oldest first; an
    officer never reviews what they told themselves."""
    base = (
        select(GoodExample)
        .join(Unit, col(Unit.id) == GoodExample.unit_id)
        .where(GoodExample.status == ExampleStatus.SUBMITTED, _in_paths(paths))
    )
    if exclude_member is not None:
        base = base.where(
            or_(
                col(GoodExample.submitted_by).is_(None),
                col(GoodExample.submitted_by) != exclude_member,
            )
        )
    count = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(
        base.where(col(GoodExample.id).not_in(list(skipped)))
        .order_by(col(GoodExample.created_at), col(GoodExample.id))
        .limit(limit)
    ).all()
    return Waiting(count, list(rows))


def decide(
    session: Session,
    *,
    example_id: int,
    approve: bool,
    edited_text: str | None,
    note: str | None,
    reviewer: str,
    now: datetime,
) -> bool:
    """Approve (maybe with an edited text) or decline with a note, if it still waits: a double
    tap or a second officer finds it decided and changes nothing."""
    result = session.execute(
        update(GoodExample)
        .where(
            col(GoodExample.id) == example_id, col(GoodExample.status) == ExampleStatus.SUBMITTED
        )
        .values(
            status=ExampleStatus.APPROVED if approve else ExampleStatus.DECLINED,
            edited_text=edited_text,
            officer_note=note,
            reviewer=reviewer,
            reviewed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def featured(session: Session, *, root: Unit, now: datetime) -> list[GoodExample]:
    """Up to FEATURED approved examples of this tree whose person agreed, approved within the
    last year, the latest first: what the anniversary posts carry."""
    return list(
        session.exec(
            select(GoodExample)
            .join(Unit, col(Unit.id) == GoodExample.unit_id)
            .where(
                GoodExample.status == ExampleStatus.APPROVED,
                col(GoodExample.consent).is_(True),
                col(GoodExample.reviewed_at) >= now - FEATURED_WITHIN,
                col(Unit.path).startswith(root.path),
            )
            .order_by(col(GoodExample.reviewed_at).desc(), col(GoodExample.id).desc())
            .limit(FEATURED)
        ).all()
    )


def approved(
    session: Session, *, paths: list[str] | None, limit: int = 10
) -> list[tuple[GoodExample, Unit]]:
    """The latest approved examples about units under these paths, with consent first."""
    rows = session.exec(
        select(GoodExample, Unit)
        .join(Unit, col(Unit.id) == GoodExample.unit_id)
        .where(GoodExample.status == ExampleStatus.APPROVED, _in_paths(paths))
        .order_by(col(GoodExample.reviewed_at).desc(), col(GoodExample.id).desc())
        .limit(limit)
    ).all()
    return [(e, u) for e, u in rows]


# --- good models ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelDraft:
    unit_id: int
    name: str
    how: str
    results: str
    replicated: bool
    recognition: str | None = None


def record_model(
    session: Session, *, draft: ModelDraft, plan: PlanRef, by: str, now: datetime
) -> GoodModel:
    row = GoodModel(
        unit_id=draft.unit_id,
        campaign_id=plan.id,
        year=plan.year,
        name=clean(draft.name, NAME_MIN, NAME_MAX),
        how=clean(draft.how, DETAIL_MIN, DETAIL_MAX, lines=True),
        results=clean(draft.results, DETAIL_MIN, DETAIL_MAX, lines=True),
        recognition=clean(draft.recognition, 2, RECOGNITION_MAX) if draft.recognition else None,
        replicated=draft.replicated,
        created_by=by,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def models_in_scope(
    session: Session, *, campaign_id: str, paths: list[str] | None
) -> list[tuple[GoodModel, Unit]]:
    rows = session.exec(
        select(GoodModel, Unit)
        .join(Unit, col(Unit.id) == GoodModel.unit_id)
        .where(GoodModel.campaign_id == campaign_id, _in_paths(paths))
        .order_by(col(Unit.path), col(GoodModel.id))
    ).all()
    return [(m, u) for m, u in rows]
