"""Granting and revoking officer and admin roles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.models import Member, RoleGrant, RoleName, Unit
from bot.services import audit
from bot.textutil import fold


class RoleError(ValueError):
    """A grant that cannot be made; the message is Vietnamese, for the person asking."""


def grant(
    session: Session, *, member: Member, role: RoleName, unit: Unit | None, by: str
) -> RoleGrant:
    """Give a role; officers need a unit (their scope), admins have none. Idempotent."""
    if role is RoleName.OFFICER and unit is None:
        raise RoleError("Cán bộ công đoàn cần một đơn vị phụ trách (--unit MÃ)")
    if role is RoleName.MEMBER:
        raise RoleError(
            "Mọi người đã khai báo thông tin đều là đoàn viên; chỉ cấp officer hoặc admin"
        )
    unit_id = unit.id if role is RoleName.OFFICER and unit is not None else None
    existing = session.exec(
        select(RoleGrant).where(
            RoleGrant.member_id == member.id,
            RoleGrant.role == role.value,
            RoleGrant.unit_id == unit_id,
        )
    ).first()
    if existing is not None:
        return existing
    assert member.id is not None
    row = RoleGrant(member_id=member.id, role=role.value, unit_id=unit_id, granted_by=by)
    session.add(row)
    audit.record(
        session, actor=by, action="grant", member_id=member.id, role=role.value, unit_id=unit_id
    )
    session.flush()
    return row


def grants_of(session: Session, member: Member) -> list[RoleGrant]:
    return list(session.exec(select(RoleGrant).where(RoleGrant.member_id == member.id)).all())


def revoke(
    session: Session,
    *,
    member: Member,
    role: RoleName | None = None,
    unit: Unit | None = None,
    by: str,
) -> list[RoleGrant]:
    """Take back the member's grants (of one role, of one unit, or all); each one audited. Takes
    effect at the member's next update: roles are resolved per update."""
    query = select(RoleGrant).where(RoleGrant.member_id == member.id)
    if role is not None:
        query = query.where(RoleGrant.role == role.value)
    if unit is not None:
        query = query.where(RoleGrant.unit_id == unit.id)
    found = list(session.exec(query).all())
    for row in found:
        session.delete(row)
        audit.record(
            session,
            actor=by,
            action="revoke",
            member_id=member.id,
            role=row.role,
            unit_id=row.unit_id,
        )
    session.flush()
    return found


@dataclass(frozen=True)
class Holder:
    """One grant, with whom it is for and where, to list."""

    grant: RoleGrant
    member: Member
    unit: Unit | None


def holders(
    session: Session,
    *,
    role: RoleName | None = None,
    within: Unit | None = None,
    name: str = "",
) -> list[Holder]:
    """Who holds a role (of members not erased): within a unit's subtree, whose name contains the
    typed words; by unit, then name."""
    query = (
        select(RoleGrant, Member, Unit)
        .join(Member, col(Member.id) == RoleGrant.member_id)
        .join(Unit, col(Unit.id) == RoleGrant.unit_id, isouter=True)
        .where(col(Member.deleted_at).is_(None))
    )
    if role is not None:
        query = query.where(RoleGrant.role == role.value)
    if within is not None:
        query = query.where(col(Unit.path).startswith(within.path))
    for word in fold(name).split()[:6]:
        query = query.where(col(Member.search_name).contains(word, autoescape=True))
    rows = session.exec(query).all()
    found = [Holder(grant, member, unit) for grant, member, unit in rows]
    return sorted(
        found,
        key=lambda h: (h.unit.path if h.unit else "", (h.member.full_name or "").casefold()),
    )
