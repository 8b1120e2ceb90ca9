"""Pledges: the draft saved at every step, submission on time or late, review, self-assessment,
and who has not submitted (the query the reminders use)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, update
from sqlmodel import Session, col, select

from bot.catalog import PledgeRule
from bot.models import AssessmentStatus, Member, Pledge, PledgeStatus, Unit
from bot.pledgebook import sections_for

MAX_ITEMS = 12  # per section: a pledge is a page, not a book
MAX_ITEM_CHARS = 500
MAX_TIMELINE_CHARS = 200
MAX_COMMENT_CHARS = 500


class Edit(StrEnum):
    """Whether the member may change their pledge now, and if not, why."""

    OK = "ok"
    LOCKED_AFTER_DEADLINE = "locked_after_deadline"  # submitted or approved, deadline passed
    CLOSED = "closed"  # never submitted, deadline passed, the campaign takes no late pledges


# --- time ------------------------------------------------------------------------------------


def deadline_at(rule: PledgeRule, tz: ZoneInfo) -> datetime:
    """'Trước ngày 10/4': the first instant that is late is 10/4 00:00 local time."""
    return datetime.combine(rule.submit_before, time(0), tz)


def last_day(rule: PledgeRule) -> date:
    return rule.submit_before - timedelta(days=1)


def days_left(rule: PledgeRule, now: datetime, tz: ZoneInfo) -> int:
    """Whole days until the last day (0: today is the last day; negative: days overdue)."""
    return (last_day(rule) - now.astimezone(tz).date()).days


def is_late(rule: PledgeRule, when: datetime, tz: ZoneInfo) -> bool:
    return when >= deadline_at(rule, tz)


def assessment_open(rule: PledgeRule, now: datetime, tz: ZoneInfo) -> bool:
    if rule.assessment_opens is None:
        return False
    today = now.astimezone(tz).date()
    if today < rule.assessment_opens:
        return False
    return rule.assessment_closes is None or today <= rule.assessment_closes


# --- the pledge's text -----------------------------------------------------------------------


def empty_draft() -> dict[str, Any]:
    return {"study": [], "follow": [], "example": [], "measures": [], "timeline": ""}


def items(doc: dict[str, Any] | None, section: str) -> list[dict[str, Any]]:
    """The items of one section: {"text": ..., "s": suggestion id or None}."""
    if not doc:
        return []
    value = doc.get(section)
    return [i for i in value if isinstance(i, dict) and i.get("text")] if value else []


def missing_sections(doc: dict[str, Any], group: str) -> list[str]:
    """Sections that must have at least one item before the pledge can be submitted."""
    return [s for s in sections_for(group) if not items(doc, s)]


def commitments(doc: dict[str, Any] | None) -> list[str]:
    """What the member committed to: the "làm theo" and "nêu gương" items, assessed at year end."""
    return [i["text"] for s in ("follow", "example") for i in items(doc, s)]


# --- reading ---------------------------------------------------------------------------------


def get(session: Session, *, member_id: int, campaign_id: str) -> Pledge | None:
    return session.exec(
        select(Pledge).where(Pledge.member_id == member_id, Pledge.campaign_id == campaign_id)
    ).first()


def get_or_create(session: Session, *, member_id: int, campaign_id: str, year: int) -> Pledge:
    pledge = get(session, member_id=member_id, campaign_id=campaign_id)
    if pledge is None:
        pledge = Pledge(
            member_id=member_id, campaign_id=campaign_id, year=year, draft=empty_draft()
        )
        session.add(pledge)
        session.flush()
    return pledge


def can_edit(pledge: Pledge | None, rule: PledgeRule, now: datetime, tz: ZoneInfo) -> Edit:
    late = is_late(rule, now, tz)
    if not late:
        return Edit.OK
    status = pledge.status if pledge is not None else PledgeStatus.DRAFT
    if status == PledgeStatus.RETURNED:
        return Edit.OK  # the officer asked for changes: always allowed
    if status in (PledgeStatus.SUBMITTED, PledgeStatus.APPROVED):
        return Edit.LOCKED_AFTER_DEADLINE
    return Edit.OK if rule.late_allowed else Edit.CLOSED


def has_unsent_changes(pledge: Pledge) -> bool:
    return pledge.content is not None and _normal(pledge.draft) != _normal(pledge.content)


def _normal(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) or ([] if k != "timeline" else "") for k in empty_draft()}


# --- writing ---------------------------------------------------------------------------------


def save_draft(session: Session, pledge: Pledge, draft: dict[str, Any], now: datetime) -> None:
    pledge.draft = dict(draft)  # a new object, so SQLAlchemy sees the JSON change
    pledge.updated_at = now
    session.add(pledge)
    session.flush()


@dataclass(frozen=True)
class Submitted:
    at: datetime
    late: bool
    first: bool  # the first submission (not a resubmission)


def submit(
    session: Session, pledge: Pledge, rule: PledgeRule, *, now: datetime, tz: ZoneInfo
) -> Submitted:
    """Copy the draft to the submitted copy; late is decided by the first submission."""
    first = pledge.first_submitted_at is None
    if first:
        pledge.first_submitted_at = now
        pledge.late = is_late(rule, now, tz)
    pledge.content = dict(pledge.draft)
    pledge.submitted_at = now
    pledge.status = PledgeStatus.SUBMITTED
    pledge.revision += 1
    pledge.reviewed_at = None
    pledge.reviewer = None
    pledge.review_comment = None
    pledge.updated_at = now
    session.add(pledge)
    session.flush()
    return Submitted(at=now, late=pledge.late, first=first)


def _decide(session: Session, pledge_id: int, where: list[Any], values: dict[str, Any]) -> bool:
    """One conditional UPDATE: applied only if the pledge is still what the officer read."""
    result = session.execute(
        update(Pledge)
        .where(col(Pledge.id) == pledge_id, *where)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def review(
    session: Session,
    *,
    pledge_id: int,
    revision: int,
    approve: bool,
    comment: str | None,
    reviewer: str,
    now: datetime,
) -> bool:
    """Approve or return the submission the officer read; False if it changed or was reviewed
    meanwhile (another officer, or the member resubmitted)."""
    return _decide(
        session,
        pledge_id,
        [col(Pledge.revision) == revision, col(Pledge.status) == PledgeStatus.SUBMITTED],
        {
            "status": PledgeStatus.APPROVED if approve else PledgeStatus.RETURNED,
            "reviewed_at": now,
            "reviewer": reviewer,
            "review_comment": comment,
            "updated_at": now,
        },
    )


def save_assessment(
    session: Session, pledge: Pledge, rows: list[dict[str, Any]], now: datetime
) -> None:
    pledge.assessment = [dict(r) for r in rows]
    if pledge.assessment_status not in (AssessmentStatus.SUBMITTED, AssessmentStatus.CONFIRMED):
        pledge.assessment_status = AssessmentStatus.DRAFT
    pledge.updated_at = now
    session.add(pledge)
    session.flush()


def submit_assessment(session: Session, pledge: Pledge, rating: str, now: datetime) -> None:
    pledge.assessment_status = AssessmentStatus.SUBMITTED
    pledge.assessment_submitted_at = now
    pledge.rating = rating
    pledge.rating_confirmed = None
    pledge.rating_reason = None
    pledge.assessment_reviewed_at = None
    pledge.assessment_comment = None
    pledge.updated_at = now
    session.add(pledge)
    session.flush()


def review_assessment(
    session: Session,
    *,
    pledge_id: int,
    submitted_at: datetime,
    confirm: bool,
    comment: str | None,
    now: datetime,
    rating: str | None = None,
    reason: str | None = None,
) -> bool:
    """Confirm or return the self-assessment sent at `submitted_at`; False if it was sent again
    or decided meanwhile. Confirmed with the proposed rating, or with `rating` and `reason` when
    the officer changes it."""
    confirmed: Any = rating if rating is not None else col(Pledge.rating)
    return _decide(
        session,
        pledge_id,
        [
            col(Pledge.assessment_status) == AssessmentStatus.SUBMITTED,
            col(Pledge.assessment_submitted_at) == submitted_at,
        ],
        {
            "assessment_status": AssessmentStatus.CONFIRMED
            if confirm
            else AssessmentStatus.RETURNED,
            "assessment_reviewed_at": now,
            "assessment_comment": comment,
            "rating_confirmed": confirmed if confirm else None,
            "rating_reason": reason if confirm and rating is not None else None,
            "updated_at": now,
        },
    )


# --- for officers ----------------------------------------------------------------------------


def _in_paths(paths: Iterable[str] | None) -> Any:
    if paths is None:
        return True
    clauses = [col(Unit.path).startswith(p) for p in paths]
    return or_(*clauses) if clauses else False


@dataclass(frozen=True)
class ReviewQueue:
    """What waits for an officer: counts, and the oldest few not skipped."""

    pledges: int
    assessments: int
    next: list[tuple[Pledge, str]]  # (pledge, "pledge" | "assessment")


def to_review(
    session: Session,
    *,
    campaign_ids: list[str],
    paths: list[str] | None,
    exclude_member: int | None,
    skipped: Iterable[str] = (),
    limit: int = 5,
) -> ReviewQueue:
    """Submitted pledges, then submitted self-assessments, in these subtrees, oldest first;
    `skipped` holds "pledge:ID" / "assessment:ID" the officer put off for now."""
    base = (
        select(Pledge)
        .join(Member, col(Member.id) == Pledge.member_id)
        .join(Unit, col(Unit.id) == Member.unit_id)
        .where(
            col(Pledge.campaign_id).in_(campaign_ids),
            col(Member.deleted_at).is_(None),
            _in_paths(paths),
        )
    )
    if exclude_member is not None:
        base = base.where(Pledge.member_id != exclude_member)
    skip = {
        kind: [int(k.split(":")[1]) for k in skipped if k.startswith(kind + ":")]
        for kind in ("pledge", "assessment")
    }
    waiting = {
        "pledge": (Pledge.status == PledgeStatus.SUBMITTED, col(Pledge.submitted_at)),
        "assessment": (
            Pledge.assessment_status == AssessmentStatus.SUBMITTED,
            col(Pledge.assessment_submitted_at),
        ),
    }
    counts: dict[str, int] = {}
    found: list[tuple[Pledge, str]] = []
    for kind, (where, when) in waiting.items():
        query = base.where(where)
        counts[kind] = session.exec(select(func.count()).select_from(query.subquery())).one()
        if len(found) < limit:
            rows = session.exec(
                query.where(col(Pledge.id).not_in(skip[kind]))
                .order_by(when, col(Pledge.id))
                .limit(limit - len(found))
            ).all()
            found += [(p, kind) for p in rows]
    return ReviewQueue(counts["pledge"], counts["assessment"], found)


@dataclass(frozen=True)
class UnitCount:
    unit_id: int
    members: int
    not_submitted: int
    returned: int


def not_submitted_query(campaign_id: str, paths: list[str] | None) -> Any:
    """Members (not deleted) in these subtrees who never submitted a pledge for the campaign:
    rows of (member id, unit id). The deadline reminders use this too."""
    return (
        select(col(Member.id), col(Member.unit_id))
        .join(Unit, col(Unit.id) == Member.unit_id)
        .outerjoin(
            Pledge,
            and_(col(Pledge.member_id) == Member.id, col(Pledge.campaign_id) == campaign_id),
        )
        .where(
            col(Member.deleted_at).is_(None),
            col(Pledge.first_submitted_at).is_(None),
            _in_paths(paths),
        )
    )


def not_submitted(session: Session, *, campaign_id: str, paths: list[str] | None) -> list[int]:
    """Ids of the members who have not submitted, in member id order."""
    rows = session.execute(not_submitted_query(campaign_id, paths).order_by(col(Member.id)))
    return [row[0] for row in rows]


def counts_by_unit(
    session: Session, *, campaign_id: str, paths: list[str] | None
) -> list[UnitCount]:
    """Per unit with members: members, not yet submitted, returned and not resubmitted. A member
    who erased their data still counts, anonymously, if they had submitted: the unit did get
    that pledge; one who had not is no longer counted at all."""
    living = col(Member.deleted_at).is_(None)
    rows = session.execute(
        select(
            col(Member.unit_id),
            func.count(col(Member.id)),
            func.count(col(Member.id)) - func.count(col(Pledge.first_submitted_at)),
            func.sum(case((and_(living, col(Pledge.status) == PledgeStatus.RETURNED), 1), else_=0)),
        )
        .join(Unit, col(Unit.id) == Member.unit_id)
        .outerjoin(
            Pledge,
            and_(col(Pledge.member_id) == Member.id, col(Pledge.campaign_id) == campaign_id),
        )
        .where(or_(living, col(Pledge.first_submitted_at).is_not(None)), _in_paths(paths))
        .group_by(col(Member.unit_id))
    ).all()
    return [UnitCount(r[0], r[1], r[2], r[3] or 0) for r in rows]


def members_named(session: Session, ids: list[int]) -> dict[int, Member]:
    if not ids:
        return {}
    found = session.exec(select(Member).where(col(Member.id).in_(ids))).all()
    return {m.id: m for m in found if m.id is not None}
