"""Granting and revoking officer and admin roles."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.models import Member, RoleGrant, RoleName, Unit
from bot.services import audit


class RoleError(ValueError):
    """A grant that cannot be made; the message is Vietnamese, for the person asking."""


def grant(
    session: Session, *, member: Member, role: RoleName, unit: Unit | None, by: str
) -> RoleGrant:
    """Give a role; officers need a unit (their scope), admins have none. Idempotent."""
    if role is RoleName.OFFICER and unit is None:
        raise RoleError("Cán bộ công đoàn cần một đơn vị phụ trách (--unit MÃ)")
    if role is RoleName.MEMBER:
        raise RoleError("Mọi người đã đăng ký đều là đoàn viên; chỉ cấp officer hoặc admin")
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
