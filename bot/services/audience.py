"""Who receives a broadcast: members' chats (minus muted, blocked and deleted) and linked group
chats within the broadcast's unit subtree; for an officer reminder, the officers of that unit.
Rows are streamed, so 100,000 recipients use little memory."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import and_, exists
from sqlmodel import Session, col, select

from bot.models import (
    Broadcast,
    BroadcastKind,
    GroupLink,
    Identity,
    Member,
    Pledge,
    RoleGrant,
    RoleName,
    Unit,
)
from bot.services.outbox import Recipient

_BATCH = 2000


def recipients(
    session: Session, broadcast: Broadcast, *, platforms: set[str]
) -> Iterator[Recipient]:
    """Every chat this broadcast goes to, once per (platform, chat)."""
    path = None
    if broadcast.unit_id is not None:
        unit = session.get(Unit, broadcast.unit_id)
        if unit is None:
            return
        path = unit.path
    query = (
        select(col(Identity.platform), col(Identity.chat_id), col(Member.id))
        .join(Member, col(Member.id) == Identity.member_id)
        .join(Unit, col(Unit.id) == Member.unit_id)
        .where(
            col(Member.deleted_at).is_(None),
            col(Identity.blocked).is_(False),
            col(Identity.platform).in_(sorted(platforms)),
        )
        .order_by(col(Identity.id))
    )
    kind = broadcast.kind
    if path is not None and kind != BroadcastKind.OFFICER_REMINDER:
        query = query.where(col(Unit.path).startswith(path))
    if kind == BroadcastKind.ANNIVERSARY:
        query = query.where(col(Member.mute_anniversaries).is_(False))
    elif kind == BroadcastKind.ANNOUNCEMENT:
        query = query.where(col(Member.mute_announcements).is_(False))
    elif kind == BroadcastKind.REMINDER:
        submitted = exists().where(
            and_(
                col(Pledge.member_id) == Member.id,
                col(Pledge.campaign_id) == broadcast.campaign_id,
                col(Pledge.first_submitted_at).is_not(None),
            )
        )
        query = query.where(~submitted)
    elif kind == BroadcastKind.OFFICER_REMINDER:
        officer = exists().where(  # the officers in charge of exactly this unit
            and_(
                col(RoleGrant.member_id) == Member.id,
                col(RoleGrant.role) == RoleName.OFFICER,
                col(RoleGrant.unit_id) == broadcast.unit_id,
            )
        )
        query = query.where(officer)
    seen: set[tuple[str, str]] = set()
    for platform, chat_id, member_id in session.exec(query.execution_options(yield_per=_BATCH)):
        if (platform, chat_id) not in seen:
            seen.add((platform, chat_id))
            yield Recipient(platform, chat_id, member_id, False)
    if kind in (BroadcastKind.ANNIVERSARY, BroadcastKind.ANNOUNCEMENT):
        groups = (
            select(col(GroupLink.platform), col(GroupLink.chat_id))
            .join(Unit, col(Unit.id) == GroupLink.unit_id)
            .where(col(GroupLink.active).is_(True), col(GroupLink.platform).in_(sorted(platforms)))
            .order_by(col(GroupLink.id))
        )
        if path is not None:
            groups = groups.where(col(Unit.path).startswith(path))
        for platform, chat_id in session.exec(groups):
            if (platform, chat_id) not in seen:
                seen.add((platform, chat_id))
                yield Recipient(platform, chat_id, None, True)
