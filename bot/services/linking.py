"""One person, two apps: /lienket gives a short one-time code on the app where the member is
registered; typed on the other app within 10 minutes, it attaches that account to the same member
(one member, one pledge, counted once, roles shared). Wrong codes are limited per account."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from bot.models import AuditLog, Identity, LinkCode, Member
from bot.services import audit
from bot.services.members import ensure_identity

CODE_LIFE = timedelta(minutes=10)
CODE_DIGITS = 8
MAX_FAILURES = 5  # wrong codes per account within CODE_LIFE
_CODE = re.compile(r"^\d{8}$")


def normalize(typed: str) -> str | None:
    """'1234 5678' or '1234-5678' -> '12345678'; None if it is not a code's shape."""
    digits = re.sub(r"[\s.-]", "", typed or "")
    return digits if _CODE.match(digits) else None


def shown(code: str) -> str:
    """A code as people read it aloud: two groups of four."""
    return f"{code[:4]} {code[4:]}"


def new_code(session: Session, *, member_id: int, now: datetime) -> LinkCode:
    """A fresh code for the member; earlier unused ones stop working."""
    session.execute(
        delete(LinkCode).where(
            col(LinkCode.member_id) == member_id, col(LinkCode.used_at).is_(None)
        )
    )
    while True:
        code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
        if session.get(LinkCode, code) is None:
            break
    row = LinkCode(code=code, member_id=member_id, created_at=now, expires_at=now + CODE_LIFE)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Linked:
    ok: bool
    reason: str = ""  # when not ok: format, too_many, unknown, registered, same_platform
    member: Member | None = None


def redeem(
    session: Session,
    *,
    typed: str,
    platform: str,
    user_id: str,
    chat_id: str,
    actor_ref: str,
    now: datetime,
) -> Linked:
    """Attach this account to the member whose code was typed. Does not commit."""
    code = normalize(typed)
    if code is None:
        return Linked(False, "format")
    if _failures(session, actor_ref, now) >= MAX_FAILURES:
        return Linked(False, "too_many")
    row = session.get(LinkCode, code)
    member = session.get(Member, row.member_id) if row is not None else None
    if (
        row is None
        or member is None
        or member.deleted_at is not None
        or row.used_at is not None
        or row.expires_at <= now
    ):
        audit.record(session, actor=actor_ref, action="link_failed")
        return Linked(False, "unknown")
    mine = session.exec(
        select(Identity).where(Identity.platform == platform, Identity.platform_user_id == user_id)
    ).first()
    if mine is not None and mine.member_id == member.id:
        return Linked(True, member=member)
    if mine is not None and mine.member_id is not None:
        other = session.get(Member, mine.member_id)
        if other is not None and other.deleted_at is None:
            return Linked(False, "registered")
    taken = session.exec(
        select(Identity).where(Identity.member_id == member.id, Identity.platform == platform)
    ).first()
    if taken is not None:
        return Linked(False, "same_platform")
    claimed = session.execute(  # once: a code typed twice at the same moment links once
        update(LinkCode)
        .where(col(LinkCode.code) == code, col(LinkCode.used_at).is_(None))
        .values(used_at=now)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return Linked(False, "unknown")
    identity = ensure_identity(session, platform=platform, user_id=user_id, chat_id=chat_id)
    identity.member_id = member.id
    identity.last_seen_at = now
    session.add(identity)
    session.flush()
    audit.record(session, actor=actor_ref, action="account_link", member=member.id)
    return Linked(True, member=member)


def _failures(session: Session, actor_ref: str, now: datetime) -> int:
    return int(
        session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(
                AuditLog.actor == actor_ref,
                AuditLog.action == "link_failed",
                col(AuditLog.at) > now - CODE_LIFE,
            )
        ).one()
    )


def accounts(session: Session, member_id: int) -> list[Identity]:
    """The member's chat accounts, oldest first."""
    return list(
        session.exec(
            select(Identity).where(Identity.member_id == member_id).order_by(col(Identity.id))
        ).all()
    )


def unlink(session: Session, *, member_id: int, identity_id: int, actor_ref: str) -> bool:
    """Detach one of the member's accounts (never the last one). Does not commit."""
    mine = accounts(session, member_id)
    target = next((i for i in mine if i.id == identity_id), None)
    if target is None or len(mine) < 2:
        return False
    session.delete(target)
    audit.record(session, actor=actor_ref, action="account_unlink", member=member_id)
    return True
