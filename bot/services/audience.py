"""Who receives a broadcast: members' chats (minus muted, blocked and deleted) and linked group
chats within the broadcast's unit subtree; for an officer reminder, the officers of that unit;
for an admin notice, the admins. A member with accounts on two apps (/lienket) gets it once, on
the app they wrote from last. Rows are streamed, so 100,000 recipients use little memory."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from sqlalchemy import Subquery, and_, exists, func, or_
from sqlalchemy import select as sa_select
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


def _latest_accounts(platforms: set[str]) -> Subquery:
    """Each member's account that may receive, the one written from last first (rank 1)."""
    rank = (
        func.row_number()
        .over(
            partition_by=col(Identity.member_id),
            order_by=(
                func.coalesce(col(Identity.last_seen_at), col(Identity.created_at)).desc(),
                col(Identity.id).desc(),
            ),
        )
        .label("rank")
    )
    return (
        sa_select(
            col(Identity.id).label("id"),
            col(Identity.platform).label("platform"),
            col(Identity.chat_id).label("chat_id"),
            col(Identity.member_id).label("member_id"),
            rank,
        )
        .where(
            col(Identity.member_id).is_not(None),
            col(Identity.blocked).is_(False),
            col(Identity.platform).in_(sorted(platforms)),
        )
        .subquery("account")
    )


def recipients(
    session: Session,
    broadcast: Broadcast,
    *,
    platforms: set[str],
    admin_ids: Mapping[str, frozenset[str]] | None = None,
) -> Iterator[Recipient]:
    """Every chat this broadcast goes to, once per (platform, chat) and once per member.
    `admin_ids`: the admins named in the settings (ADMIN_*_IDS), for admin notices."""
    path = None
    if broadcast.unit_id is not None:
        unit = session.get(Unit, broadcast.unit_id)
        if unit is None:
            return
        path = unit.path
    account = _latest_accounts(platforms)
    query = (
        sa_select(account.c.platform, account.c.chat_id, col(Member.id))
        .join(Member, col(Member.id) == account.c.member_id)
        .join(Unit, col(Unit.id) == Member.unit_id)
        .where(col(Member.deleted_at).is_(None), account.c.rank == 1)
        .order_by(account.c.id)
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
    elif kind == BroadcastKind.ADMIN_NOTICE:
        named = [
            and_(account.c.platform == p, col(Identity.platform_user_id).in_(sorted(ids)))
            for p, ids in (admin_ids or {}).items()
            if ids and p in platforms
        ]
        admin = exists().where(
            and_(
                col(RoleGrant.member_id) == Member.id,
                col(RoleGrant.role) == RoleName.ADMIN,
            )
        )
        query = query.join(Identity, col(Identity.id) == account.c.id).where(
            or_(admin, *named) if named else admin
        )
    seen: set[tuple[str, str]] = set()
    for platform, chat_id, member_id in session.execute(query.execution_options(yield_per=_BATCH)):
        if (platform, chat_id) not in seen:
            seen.add((platform, chat_id))
            yield Recipient(platform, chat_id, member_id, False)
    if kind == BroadcastKind.ADMIN_NOTICE:  # admins by id who never registered: chat id = user id
        for platform, ids in (admin_ids or {}).items():
            for user_id in sorted(ids) if platform in platforms else ():
                if (platform, user_id) not in seen:
                    seen.add((platform, user_id))
                    yield Recipient(platform, user_id, None, False)
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
