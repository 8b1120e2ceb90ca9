"""Campaign figures by unit: members, pledges, quizzes and study (in /hoc, or at a conference
with a check-in), rolled up the unit tree.

A handful of GROUP BY `member.unit_id` queries restricted to the subtree (by `Unit.path` prefix)
give each unit's own figures; they are then added up along the unit paths in Python. No query per
unit and no member rows are loaded, so the cost depends on the rows aggregated, not on the units.

Who counts: a member whose data is not deleted, or a deleted (anonymized) member who submitted a
pledge in the campaign: their pledge still counts. Every figure counts the same members.

Over a large tree (a province of a million members) those queries take seconds, so the scheduler
keeps each unit's own figures in `unittally` (`refresh`, every few minutes) and `tree(..., now=)`
rolls those up instead when they are recent and the scope is large: a few thousand rows. Smaller
scopes are always read live, so what an officer just did shows at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    or_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.campaign import Campaign
from bot.models import Member, Pledge, PledgeStatus, QuizAttempt, StudyProgress, Unit, UnitTally
from bot.models_year import StudyCheckIn, StudySession

TALLY_MIN_MEMBERS = 20_000  # below this a scope is read live: exact and well under 300 ms
TALLY_MAX_AGE = timedelta(minutes=15)  # older tallies are not used (the scheduler is not running)


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One unit's figures over its whole subtree (or, from `StatsTree.own`, its own members)."""

    unit_id: int | None  # None for the "all units" total of an admin
    code: str  # "" for the "all units" total
    name: str  # "" for the "all units" total: the caller names it
    depth: int  # -1 for the "all units" total
    members: int
    party_members: int
    submitted: int  # pledges submitted at least once (returned ones included)
    on_time: int
    late: int
    approved: int
    returned: int  # returned for changes and not resubmitted yet
    not_submitted: int
    quiz_takers: int  # members with a finished attempt at one of the campaign's quizzes
    quiz_passed: int  # takers who passed at least once
    avg_score_pct: float | None  # average of each taker's best score, in %
    studied: int  # members who completed the campaign's yearly topic in /hoc
    checked_in: int = 0  # members who checked in at one of the plan's study conferences
    studied_any: int = 0  # members who studied the topic either way (/hoc or a conference)
    real_members: int | None = None  # the unit's real membership (Unit.members), if known
    real_party_members: int | None = None

    @property
    def completion_pct(self) -> float | None:
        """Submitted pledges per member registered with the bot, in %; None without members."""
        return 100 * self.submitted / self.members if self.members else None

    @property
    def real_pct(self) -> float | None:
        """Submitted pledges per member of the real membership, in %; None when unknown."""
        return 100 * self.submitted / self.real_members if self.real_members else None

    @property
    def rate_pct(self) -> float | None:
        """The rate to show: against the real membership where known, else the bot's."""
        return self.real_pct if self.real_members else self.completion_pct

    @property
    def pass_rate_pct(self) -> float | None:
        """Quiz takers who passed, in %; None without takers."""
        return 100 * self.quiz_passed / self.quiz_takers if self.quiz_takers else None

    @property
    def waiting(self) -> int:
        """Submitted pledges neither approved nor returned: waiting for an officer."""
        return self.submitted - self.approved - self.returned


@dataclass
class _Tally:
    """Mutable counters of one unit while rolling up."""

    members: int = 0
    party_members: int = 0
    submitted: int = 0
    late: int = 0
    approved: int = 0
    returned: int = 0
    quiz_takers: int = 0
    quiz_passed: int = 0
    score_sum: float = 0.0  # sum of the takers' best scores in %
    studied: int = 0
    checked_in: int = 0
    studied_any: int = 0

    def add(self, other: _Tally) -> None:  # field by field: called for every unit of a province
        self.members += other.members
        self.party_members += other.party_members
        self.submitted += other.submitted
        self.late += other.late
        self.approved += other.approved
        self.returned += other.returned
        self.quiz_takers += other.quiz_takers
        self.quiz_passed += other.quiz_passed
        self.score_sum += other.score_sum
        self.studied += other.studied
        self.checked_in += other.checked_in
        self.studied_any += other.studied_any


_TALLY_FIELDS = tuple(f.name for f in fields(_Tally))


@dataclass(frozen=True)
class _UnitRow:
    id: int
    code: str
    name: str
    parent_id: int | None
    path: str
    depth: int
    real_members: int | None = None  # as stored on the unit; rolled up in StatsTree
    real_party_members: int | None = None


def _figures(
    unit: _UnitRow | None, t: _Tally, real: tuple[int | None, int | None] = (None, None)
) -> UnitFigures:
    return UnitFigures(
        real_members=real[0],
        real_party_members=real[1],
        unit_id=unit.id if unit else None,
        code=unit.code if unit else "",
        name=unit.name if unit else "",
        depth=unit.depth if unit else -1,
        members=t.members,
        party_members=t.party_members,
        submitted=t.submitted,
        on_time=t.submitted - t.late,
        late=t.late,
        approved=t.approved,
        returned=t.returned,
        not_submitted=t.members - t.submitted,
        quiz_takers=t.quiz_takers,
        quiz_passed=t.quiz_passed,
        avg_score_pct=t.score_sum / t.quiz_takers if t.quiz_takers else None,
        studied=t.studied,
        checked_in=t.checked_in,
        studied_any=t.studied_any,
    )


class StatsTree:
    """The figures of every unit under `top` (or of every unit), rolled up over subtrees."""

    def __init__(
        self,
        top: _UnitRow | None,
        units: dict[int, _UnitRow],
        own: dict[int, _Tally],
        as_of: datetime | None = None,
    ):
        self.as_of = as_of  # when the figures were counted, if not just now (a tally)
        self._top = top
        self._units = units
        self._kids: dict[int | None, list[int]] = {}
        for row in sorted(units.values(), key=lambda u: (u.name.casefold(), u.code)):
            if top is None or row.id != top.id:
                self._kids.setdefault(row.parent_id, []).append(row.id)
        self._own = {uid: _figures(units[uid], t) for uid, t in own.items() if uid in units}
        rolled: dict[int, _Tally] = {uid: _Tally() for uid in units}
        everything = _Tally()
        for uid, tally in own.items():
            if uid in units:
                rolled[uid].add(tally)
                everything.add(tally)
        for uid in sorted(units, key=lambda u: -units[u].depth):  # the deepest first, into parents
            parent = rolled.get(units[uid].parent_id)  # type: ignore[arg-type]
            if parent is not None:
                parent.add(rolled[uid])
        real = _real_counts(units, self._kids)
        self._rolled = {uid: _figures(units[uid], t, real[uid]) for uid, t in rolled.items()}
        if top is not None:
            self.total = self._rolled[top.id]
        else:
            roots = [real[uid] for uid in self._kids.get(None, [])]
            self.total = _figures(None, everything, _sum_known(roots))

    def _key(self, unit_id: int | None) -> int | None:
        return self._top.id if unit_id is None and self._top is not None else unit_id

    def children(self, unit_id: int | None) -> list[UnitFigures]:
        """The unit's children (None: those of the top; for an admin, the roots), by name,
        each rolled up over its subtree."""
        return [self._rolled[k] for k in self._kids.get(self._key(unit_id), [])]

    def rows(self) -> list[UnitFigures]:
        """Every unit under the top (the top itself excluded: it is `total`), in tree pre-order,
        each rolled up over its subtree."""
        return [self._rolled[uid] for uid in self._walk(self._key(None))]

    def _walk(self, parent: int | None) -> Iterator[int]:
        for uid in self._kids.get(parent, []):
            yield uid
            yield from self._walk(uid)

    def unit(self, unit_id: int) -> UnitFigures | None:
        """One unit of the tree, rolled up over its subtree."""
        return self._rolled.get(unit_id)

    def own(self, unit_id: int | None) -> UnitFigures | None:
        """The figures of the members registered directly in this unit, not in its children."""
        key = self._key(unit_id)
        return self._own.get(key) if key is not None else None

    @property
    def unit_count(self) -> int:
        """Units under the top, the top excluded."""
        return len(self._units) - (1 if self._top is not None else 0)


def _sum_known(
    counts: list[tuple[int | None, int | None]],
) -> tuple[int | None, int | None]:
    """The sum of the children's real counts, only when every child has one."""
    if not counts:
        return None, None
    members = [m for m, _ in counts]
    party = [p for _, p in counts]
    return (
        sum(m for m in members if m is not None) if None not in members else None,
        sum(p for p in party if p is not None) if None not in party else None,
    )


def _real_counts(
    units: dict[int, _UnitRow], kids: dict[int | None, list[int]]
) -> dict[int, tuple[int | None, int | None]]:
    """Each unit's real membership: its own count where typed or imported, else the sum of its
    children's when all of them have one (unknown otherwise)."""
    out: dict[int, tuple[int | None, int | None]] = {}
    for uid in sorted(units, key=lambda u: -units[u].depth):  # the deepest first
        row = units[uid]
        children = _sum_known([out[k] for k in kids.get(uid, []) if k in out])
        out[uid] = (
            row.real_members if row.real_members is not None else children[0],
            row.real_party_members if row.real_party_members is not None else children[1],
        )
    return out


# --- queries ------------------------------------------------------------------------------------


def _in_subtree(top: Unit | None) -> Any:
    """Members of the top's subtree; everyone without a top."""
    if top is None:
        return True
    units = sa_select(col(Unit.id)).where(col(Unit.path).startswith(top.path))
    return col(Member.unit_id).in_(units)


def _submitted(campaign_id: str) -> Any:
    return and_(col(Pledge.campaign_id) == campaign_id, col(Pledge.first_submitted_at).is_not(None))


def _counted(campaign_id: str) -> Any:
    """A member counts unless deleted; a deleted one still counts with a submitted pledge."""
    kept = exists().where(col(Pledge.member_id) == Member.id, _submitted(campaign_id))
    return or_(col(Member.deleted_at).is_(None), kept)


def _flag(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _units(session: Session, top: Unit | None) -> dict[int, _UnitRow]:
    query = sa_select(
        col(Unit.id),
        col(Unit.code),
        col(Unit.name),
        col(Unit.parent_id),
        col(Unit.path),
        col(Unit.depth),
        col(Unit.members),
        col(Unit.party_members),
    )
    if top is not None:
        query = query.where(col(Unit.path).startswith(top.path))
    return {r[0]: _UnitRow(*r) for r in session.execute(query)}


def _own_tallies(session: Session, campaign: Campaign, top: Unit | None) -> dict[int, _Tally]:
    """Each unit's own figures (members registered directly in it), from four GROUP BY queries."""
    own: dict[int, _Tally] = {}

    def tally(unit_id: int) -> _Tally:
        return own.setdefault(unit_id, _Tally())

    scope = _in_subtree(top)
    members = (
        sa_select(col(Member.unit_id), func.count(), _flag(col(Member.party_member)))
        .where(col(Member.deleted_at).is_(None), scope)
        .group_by(col(Member.unit_id))
    )
    for unit_id, count, party in session.execute(members):
        t = tally(unit_id)
        t.members += count
        t.party_members += party or 0

    deleted = col(Member.deleted_at).is_not(None)
    pledged = (
        sa_select(
            col(Member.unit_id),
            func.count(),
            _flag(col(Pledge.late)),
            _flag(col(Pledge.status) == PledgeStatus.APPROVED),
            # returned and not resubmitted; an erased member's never will be: not counted
            _flag(and_(col(Pledge.status) == PledgeStatus.RETURNED, ~deleted)),
            _flag(deleted),
            _flag(and_(deleted, col(Member.party_member))),
        )
        .select_from(Pledge)
        .join(Member, col(Member.id) == Pledge.member_id)
        .where(_submitted(campaign.id), scope)
        .group_by(col(Member.unit_id))
    )
    for unit_id, count, late, approved, returned, gone, gone_party in session.execute(pledged):
        t = tally(unit_id)
        t.submitted += count
        t.late += late or 0
        t.approved += approved or 0
        t.returned += returned or 0
        t.members += gone or 0  # deleted members counted for their pledge
        t.party_members += gone_party or 0

    counted = _counted(campaign.id)
    # each taker's best first (from the attempts alone), then by unit: cheaper than grouping the
    # join of every attempt with its member
    attempts = [
        col(QuizAttempt.campaign_id) == campaign.id,
        col(QuizAttempt.finished_at).is_not(None),
        col(QuizAttempt.total) > 0,
    ]
    if top is not None:
        attempts.append(col(QuizAttempt.member_id).in_(sa_select(col(Member.id)).where(scope)))
    pct = cast(col(QuizAttempt.score), Float) * 100.0 / col(QuizAttempt.total)
    best = (
        sa_select(
            col(QuizAttempt.member_id).label("member_id"),
            func.max(case((col(QuizAttempt.passed), 1), else_=0)).label("passed"),
            func.max(pct).label("pct"),
        )
        .where(*attempts)
        .group_by(col(QuizAttempt.member_id))
        .subquery()
    )
    quiz = (
        sa_select(col(Member.unit_id), func.count(), func.sum(best.c.passed), func.sum(best.c.pct))
        .select_from(best)
        .join(Member, col(Member.id) == best.c.member_id)
        .where(counted)
        .group_by(col(Member.unit_id))
    )
    for unit_id, takers, passed, score_sum in session.execute(quiz):
        t = tally(unit_id)
        t.quiz_takers += takers
        t.quiz_passed += passed or 0
        t.score_sum += float(score_sum or 0)

    studied = (
        sa_select(col(Member.unit_id), func.count())
        .select_from(StudyProgress)
        .join(Member, col(Member.id) == StudyProgress.member_id)
        .where(
            col(StudyProgress.topic_id) == campaign.topic,
            col(StudyProgress.completed_at).is_not(None),
            counted,
            scope,
        )
        .group_by(col(Member.unit_id))
    )
    for unit_id, count in session.execute(studied):
        tally(unit_id).studied += count

    # a check-in at one of the plan's conferences counts as having studied the topic too
    attended: Any = (
        sa_select(col(StudyCheckIn.member_id).label("member_id"), literal(1).label("att"))
        .join(StudySession, col(StudySession.id) == StudyCheckIn.session_id)
        .where(col(StudySession.campaign_id) == campaign.id)
    )
    finished: Any = sa_select(
        col(StudyProgress.member_id).label("member_id"), literal(0).label("att")
    ).where(
        col(StudyProgress.topic_id) == campaign.topic, col(StudyProgress.completed_at).is_not(None)
    )
    either = union_all(attended, finished).subquery()
    per_member = (
        sa_select(either.c.member_id, func.max(either.c.att).label("att"))
        .group_by(either.c.member_id)
        .subquery()
    )
    learned = (
        sa_select(col(Member.unit_id), func.sum(per_member.c.att), func.count())
        .select_from(per_member)
        .join(Member, col(Member.id) == per_member.c.member_id)
        .where(counted, scope)
        .group_by(col(Member.unit_id))
    )
    for unit_id, checked_in, count in session.execute(learned):
        t = tally(unit_id)
        t.checked_in += checked_in or 0
        t.studied_any += count
    return own


def _read_whole(session: Session, units: dict[int, _UnitRow], top: Unit | None) -> bool:
    """A large part of the tree is read whole (units outside it are ignored when rolling up): a
    full scan beats looking up most members unit by unit. A small subtree is filtered in SQL."""
    every_unit = session.execute(sa_select(func.count(col(Unit.id)))).scalar() or 0
    return top is None or 2 * len(units) >= every_unit


def tree(
    session: Session, campaign: Campaign, top: Unit | None, *, now: datetime | None = None
) -> StatsTree:
    """The campaign's figures for the top unit's subtree (None: every unit, for an admin). With
    `now`, a large scope uses the scheduler's recent tally (see `StatsTree.as_of`)."""
    units = _units(session, top)
    top_row = units.get(top.id) if top is not None and top.id is not None else None
    if top is not None and top_row is None:
        raise ValueError(f"unit {top.id} is not in the database")
    if now is not None:
        tallied = _tallied(session, campaign, top, now)
        if tallied is not None:
            return StatsTree(top_row, units, *tallied)
    own = _own_tallies(session, campaign, None if _read_whole(session, units, top) else top)
    return StatsTree(top_row, units, own)


def _tallied(
    session: Session, campaign: Campaign, top: Unit | None, now: datetime
) -> tuple[dict[int, _Tally], datetime] | None:
    """The units' tallied figures and their time, if recent and the scope is large."""
    tally = UnitTally.__table__.c  # type: ignore[attr-defined]
    query = (
        sa_select(tally.unit_id, tally.refreshed_at, *(tally[f] for f in _TALLY_FIELDS))
        .join(Unit, col(Unit.id) == tally.unit_id)
        .where(tally.campaign_id == campaign.id)
    )
    if top is not None:
        query = query.where(col(Unit.path).startswith(top.path))
    rows = session.execute(query).all()  # plain rows: thousands of ORM objects cost 0.1 s
    if not rows:
        return None
    as_of = min(r[1] for r in rows)
    own = {r[0]: _Tally(*r[2:]) for r in rows}
    if now - as_of > TALLY_MAX_AGE or sum(t.members for t in own.values()) < TALLY_MIN_MEMBERS:
        return None
    return own, as_of


def refresh(session: Session, campaign: Campaign, root: Unit, now: datetime) -> int:
    """Count the own figures of every unit in the campaign's tree again and replace its tally;
    returns the units written. The caller commits. A tree too small for any of its scopes to
    read the tally (always read live) is left alone: 0."""
    everyone = sa_select(func.count()).where(_in_subtree(root))  # the erased too: an upper bound
    if (session.execute(everyone).scalar() or 0) < TALLY_MIN_MEMBERS:
        return 0
    units = _units(session, root)
    own = _own_tallies(session, campaign, None if _read_whole(session, units, root) else root)
    in_tree = sa_select(col(Unit.id)).where(col(Unit.path).startswith(root.path))
    session.execute(
        delete(UnitTally).where(
            col(UnitTally.campaign_id) == campaign.id, col(UnitTally.unit_id).in_(in_tree)
        )
    )
    rows = [
        {"campaign_id": campaign.id, "unit_id": uid, "refreshed_at": now, **asdict(tally)}
        for uid, tally in own.items()
        if uid in units
    ]
    if rows:
        session.execute(insert(UnitTally), rows)
    return len(rows)
