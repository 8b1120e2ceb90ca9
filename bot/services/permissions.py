"""The one place where roles are decided: member < officer (a unit subtree) < admin."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Boolean, String, and_, bindparam, case
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.models import (
    ConversationState,
    Identity,
    Member,
    ProcessedUpdate,
    RoleGrant,
    RoleName,
    Unit,
    utcnow,
)

_RANK = {None: 0, RoleName.MEMBER: 1, RoleName.OFFICER: 2, RoleName.ADMIN: 3}


@dataclass
class Actor:
    platform: str
    user_id: str
    identity: Identity | None = None
    member: Member | None = None
    is_admin: bool = False
    officer_units: list[Unit] = field(default_factory=list)
    home: Unit | None = None  # the member's unit and its root (the tree): loaded with the actor,
    root: Unit | None = None  # so reading them again in the same update costs no query

    @property
    def role(self) -> RoleName | None:
        if self.is_admin:
            return RoleName.ADMIN
        if self.member is None:
            return None
        return RoleName.OFFICER if self.officer_units else RoleName.MEMBER

    @property
    def registered(self) -> bool:
        return self.member is not None

    @property
    def ref(self) -> str:
        """An id for logs and the audit trail: never a name."""
        return f"{self.platform}:{self.user_id}"

    def has(self, role: RoleName | None) -> bool:
        if role is None:
            return True
        if role is RoleName.MEMBER and not self.registered:
            return False
        return _RANK[self.role] >= _RANK[role]

    def can_manage(self, unit: Unit) -> bool:
        """Admins manage every unit; officers their own units and everything below."""
        if self.is_admin:
            return True
        return any(unit.path.startswith(scope.path) for scope in self.officer_units)

    @property
    def makes_plans(self) -> bool:
        """Who makes the yearly plans (/kehoach): admins, and officers of a whole tree."""
        return self.is_admin or any(u.parent_id is None for u in self.officer_units)

    def scope_paths(self) -> list[str] | None:
        """Path prefixes the actor may see; None means everything."""
        if self.is_admin:
            return None
        return [u.path for u in self.officer_units]


def plan_roots(session: Session, actor: Actor) -> list[Unit]:
    """The trees whose plans the actor makes: every root for an admin, an officer's root units."""
    if actor.is_admin:
        roots = select(Unit).where(Unit.parent_id == None).order_by(Unit.name)  # noqa: E711
        return list(session.exec(roots).all())
    return [u for u in actor.officer_units if u.parent_id is None]


def resolve_actor(
    session: Session,
    *,
    platform: str,
    user_id: str,
    admin_ids: Iterable[str] = (),
    other_admins: dict[str, set[str]] | None = None,
) -> Actor:
    """Who is writing. `other_admins`: admin ids of the other platforms, so a member whose
    account there is an admin is an admin here too (accounts linked with /lienket). Read by
    `load`, the one statement every update runs (a private chat's id is the user's)."""
    return load(
        session,
        platform=platform,
        chat_id=user_id,
        user_id=user_id,
        admin_ids=admin_ids,
        other_admins=other_admins,
    ).actor


Preload = tuple[tuple[str, str, type], ...]  # (flow, key in the state's data, model)
_LOADED = 8  # the statement's own entities, before the preloaded rows and the claim's column


@cache
def _load_statement(claiming: bool = False, preloads: Preload = ()) -> Any:
    """The statement of `load`, built once: building it (aliases, joins, column proxies) cost
    more CPU than running it; the values are bound at each execution. `claiming` (PostgreSQL):
    the update's dedupe claim rides along as a data-modifying WITH, one round trip, not two.
    `preloads`: rows a flow reads at every step (a quiz's attempt), joined on the id its state
    holds, only while that flow is open."""
    keys = sa_select(
        bindparam("p", type_=String).label("p"),
        bindparam("c", type_=String).label("c"),
        bindparam("u", type_=String).label("u"),
    ).subquery("k")
    scope, home, root, other = (aliased(Unit), aliased(Unit), aliased(Unit), aliased(Identity))
    entities: list[Any] = [ConversationState, Identity, Member, RoleGrant, scope, home, root]
    statement = (
        sa_select(*entities, other)
        .select_from(keys)
        .outerjoin(
            ConversationState,
            and_(
                col(ConversationState.platform) == keys.c.p,
                col(ConversationState.chat_id) == keys.c.c,
                col(ConversationState.user_id) == keys.c.u,
            ),
        )
        .outerjoin(
            Identity,
            and_(col(Identity.platform) == keys.c.p, col(Identity.platform_user_id) == keys.c.u),
        )
        .outerjoin(Member, col(Member.id) == col(Identity.member_id))
        .outerjoin(RoleGrant, col(RoleGrant.member_id) == col(Member.id))
        .outerjoin(scope, col(scope.id) == col(RoleGrant.unit_id))
        .outerjoin(home, col(home.id) == col(Member.unit_id))
        .outerjoin(
            root,
            and_(col(root.parent_id).is_(None), col(home.path).startswith(col(root.path))),
        )
        .outerjoin(
            other,
            and_(
                col(other.member_id) == col(Member.id),
                col(other.platform) != keys.c.p,
                bindparam("others", type_=Boolean),
            ),
        )
    )
    for flow, key, model in preloads:
        target: Any = aliased(model)
        held = case(  # the id, read only in that flow's state (another flow's key may differ)
            (col(ConversationState.flow) == flow, col(ConversationState.data)[key].as_integer())
        )
        statement = statement.add_columns(target).outerjoin(target, target.id == held)
    if not claiming:
        return statement
    processed = ProcessedUpdate.__table__  # type: ignore[attr-defined]
    claim = (
        postgresql.insert(processed)
        .values(
            platform=bindparam("p", type_=String),
            update_id=bindparam("update_id", type_=String),
            processed_at=bindparam("at", type_=processed.c.processed_at.type),
        )
        .on_conflict_do_nothing()
        .returning(processed.c.update_id)
        .cte("claim")
    )
    return statement.add_columns(sa_select(claim.c.update_id).scalar_subquery().label("claimed"))


@dataclass
class Loaded:
    """What one update needs to know before its handler runs, read in one statement."""

    state: ConversationState | None
    actor: Actor
    claimed: bool = True  # False: the update was processed before (asked with `claim`)
    # the preloaded rows: held here for the update, since the session only weakly holds what it
    # loaded (unreferenced, they would be gone before `session.get` looks for them)
    preloaded: list[Any] = field(default_factory=list)


def load(
    session: Session,
    *,
    platform: str,
    chat_id: str,
    user_id: str,
    admin_ids: Iterable[str] = (),
    other_admins: dict[str, set[str]] | None = None,
    claim: str | None = None,
    preloads: Preload = (),
) -> Loaded:
    """The chat's conversation state and who is writing (identity, member, roles with their
    units, the member's unit and its root) in ONE statement of outer joins: the units land in
    the session's identity map, so `session.get(Unit, ...)` for them costs no query later in the
    update. `claim` (an update id, PostgreSQL only): the same statement records the update as
    processed; `claimed` says whether it was new. `preloads`: see `_load_statement`."""
    others = bool(other_admins)
    params: dict[str, Any] = {"p": platform, "c": chat_id, "u": user_id, "others": others}
    if claim is not None:
        params.update(update_id=claim, at=utcnow())
    rows = session.execute(_load_statement(claim is not None, preloads), params).all()
    first = rows[0]
    state, identity, member = first[0], first[1], first[2]
    claimed = claim is None or first[-1] is not None  # the claim's column comes last
    preloaded = [row for row in first[_LOADED : _LOADED + len(preloads)] if row is not None]
    actor = Actor(platform=platform, user_id=user_id, identity=identity)
    actor.is_admin = user_id in set(admin_ids)
    if member is None or member.deleted_at is not None:
        return Loaded(state, actor, claimed, preloaded)
    actor.member = member
    actor.home, actor.root = first[5], first[6]
    seen: set[int] = set()
    for row in rows:
        grant, unit, account = row[3], row[4], row[7]
        if account is not None and other_admins:
            actor.is_admin |= account.platform_user_id in other_admins.get(account.platform, ())
        if grant is None or grant.id in seen:
            continue
        seen.add(grant.id)
        if grant.role == RoleName.ADMIN:
            actor.is_admin = True
        elif grant.role == RoleName.OFFICER and unit is not None:
            actor.officer_units.append(unit)
    return Loaded(state, actor, claimed, preloaded)
