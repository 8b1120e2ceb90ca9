"""/phanquyen: an admin grants the officer role to a registered member, scoped to a unit; or
lists the officers and takes the role back (it takes effect at their next message)."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, RoleGrant, RoleName, Unit
from bot.services import members, roles, units
from bot.timefmt import fmt_date

router = Router("admin")

ASK_WHO = "who"
PICK_WHO = "pick_who"
ASK_SCOPE = "scope"
CONFIRM = "confirm"
OFFICERS = "officers"
REVOKE = "revoke"

PAGE = 8


@router.command("phanquyen", role=RoleName.ADMIN)
def grant_start(ctx: Context) -> None:
    """Ask whom to grant; or open the list of officers."""
    ctx.begin(router.name, ASK_WHO)
    ctx.ask(
        ctx.t("admin.grant_ask_name"),
        [Option(ctx.t("admin.list_button"), "list", exact=True)],
    )


@router.step(ASK_WHO)
@router.step(PICK_WHO)
def on_who(ctx: Context) -> None:
    """Search members by name, then pick one."""
    if ctx.choice == "list":
        _officers(ctx, page=0, query="")
        return
    if ctx.choice is not None:
        member = ctx.session.get(Member, int(ctx.choice))
        if member is None or member.deleted_at is not None:
            ctx.say("admin.need_choice")
            return
        _ask_scope(ctx, member)
        return
    query = ctx.text[:100]
    found = members.find_by_name(ctx.session, query) if query else []
    if not found:
        ctx.goto(ASK_WHO)
        ctx.say("admin.grant_none", query=query)
        return
    ctx.goto(PICK_WHO)
    options = []
    for m in found:
        unit = ctx.session.get(Unit, m.unit_id)
        options.append(
            Option(
                ctx.t(
                    "admin.grant_member_line",
                    name=m.full_name or "",
                    unit=unit.name if unit else "—",
                )[:60],
                str(m.id),
            )
        )
    ctx.ask(ctx.t("admin.grant_pick_member"), options)


def _ask_scope(ctx: Context, member: Member) -> None:
    unit = ctx.session.get(Unit, member.unit_id)
    chain = units.ancestors(ctx.session, unit) if unit else []
    ctx.data["member_id"] = member.id
    ctx.goto(ASK_SCOPE)
    options = [Option(u.name[:60], str(u.id)) for u in reversed(chain)]
    ctx.ask(ctx.t("admin.grant_ask_unit", name=member.full_name or ""), options)


@router.step(ASK_SCOPE)
def on_scope(ctx: Context) -> None:
    """The unit the new officer will look after."""
    member = ctx.session.get(Member, ctx.data.get("member_id"))
    if member is None:
        ctx.finish()
        ctx.say("admin.grant_cancelled")
        return
    unit = ctx.session.get(Unit, int(ctx.choice)) if ctx.choice else None
    if unit is None:
        ctx.say("admin.need_choice")
        _ask_scope(ctx, member)
        return
    ctx.data["unit_id"] = unit.id
    ctx.goto(CONFIRM)
    ctx.ask(
        ctx.t("admin.grant_confirm", name=member.full_name or "", unit=unit.name),
        [Option(ctx.t("admin.grant_yes"), "yes"), Option(ctx.t("common.cancel"), "no")],
        columns=2,
    )


@router.step(CONFIRM)
def on_confirm(ctx: Context) -> None:
    """Grant, or not."""
    member = ctx.session.get(Member, ctx.data.get("member_id"))
    unit = ctx.session.get(Unit, ctx.data.get("unit_id"))
    if ctx.choice == "yes" and member is not None and unit is not None:
        roles.grant(ctx.session, member=member, role=RoleName.OFFICER, unit=unit, by=ctx.actor.ref)
        ctx.finish()
        ctx.say("admin.granted", name=member.full_name or "", unit=unit.name)
    elif ctx.choice == "no":
        ctx.finish()
        ctx.say("admin.grant_cancelled")
    else:
        ctx.say("admin.need_choice")


# --- the officers, and taking the role back -------------------------------------------------------


def _officers(ctx: Context, *, page: int, query: str) -> None:
    """A page of the officers (filtered by typed name words), each to choose."""
    found = roles.holders(ctx.session, role=RoleName.OFFICER, name=query)
    if not found:
        ctx.finish()
        ctx.say("admin.list_none_named" if query else "admin.list_none", query=query)
        return
    pages = (len(found) + PAGE - 1) // PAGE
    page = max(0, min(page, pages - 1))
    lines = [ctx.t("admin.list_head", count=len(found), page=page + 1, pages=pages)]
    options: list[Option] = []
    for n, holder in enumerate(found[page * PAGE : (page + 1) * PAGE], start=page * PAGE + 1):
        name = holder.member.full_name or ""
        unit = holder.unit.name if holder.unit else "—"
        at = fmt_date(holder.grant.granted_at, ctx.settings.tz)
        lines.append(ctx.t("admin.list_line", n=n, name=name, unit=unit, at=at))
        options.append(Option(f"{n}. {name} – {unit}"[:60], f"g:{holder.grant.id}"))
    if page > 0:
        options.append(Option(ctx.t("admin.list_prev"), f"page:{page - 1}"))
    if page + 1 < pages:
        options.append(Option(ctx.t("admin.list_next"), f"page:{page + 1}"))
    lines.append(ctx.t("admin.list_hint"))
    ctx.begin(router.name, OFFICERS, {"page": page, "q": query})
    ctx.ask("\n".join(lines), options)


@router.step(OFFICERS)
def on_officers(ctx: Context) -> None:
    """One officer to take the role from, another page, or a name typed to filter."""
    choice = ctx.choice or ""
    query = str(ctx.data.get("q") or "")
    if choice.startswith("page:") and choice[5:].isdigit():
        _officers(ctx, page=int(choice[5:]), query=query)
        return
    if choice.startswith("g:") and choice[2:].isdigit():
        _ask_revoke(ctx, int(choice[2:]))
        return
    typed = ctx.text[:100].strip()
    if typed and ctx.choice is None:
        _officers(ctx, page=0, query=typed)
        return
    ctx.say("admin.need_choice")
    _officers(ctx, page=int(ctx.data.get("page") or 0), query=query)


def _grant(ctx: Context, grant_id: object) -> tuple[RoleGrant, Member, Unit | None] | None:
    grant = ctx.session.get(RoleGrant, grant_id) if isinstance(grant_id, int) else None
    member = ctx.session.get(Member, grant.member_id) if grant is not None else None
    if grant is None or member is None or member.deleted_at is not None:
        return None
    return grant, member, ctx.session.get(Unit, grant.unit_id) if grant.unit_id else None


def _ask_revoke(ctx: Context, grant_id: int) -> None:
    found = _grant(ctx, grant_id)
    if found is None:
        ctx.finish()
        ctx.say("admin.revoke_gone")
        return
    _grant_row, member, unit = found
    ctx.begin(router.name, REVOKE, {"grant": grant_id})
    ctx.ask(
        ctx.t("admin.revoke_confirm", name=member.full_name or "", unit=unit.name if unit else "—"),
        [
            Option(ctx.t("admin.revoke_yes"), "yes", exact=True),
            Option(ctx.t("admin.revoke_no"), "no"),
        ],
        columns=2,
    )


@router.step(REVOKE)
def on_revoke(ctx: Context) -> None:
    """Take the role back, tell the person, or not."""
    if ctx.choice == "no":
        ctx.finish()
        ctx.say("admin.revoke_cancelled")
        return
    if ctx.choice != "yes":
        ctx.say("admin.need_choice")
        return
    found = _grant(ctx, ctx.data.get("grant"))
    ctx.finish()
    if found is None:
        ctx.say("admin.revoke_gone")
        return
    grant, member, unit = found
    roles.revoke(ctx.session, member=member, role=RoleName(grant.role), unit=unit, by=ctx.actor.ref)
    unit_name = unit.name if unit else "—"
    ctx.say("admin.revoked", name=member.full_name or "", unit=unit_name)
    assert member.id is not None
    ctx.notify(member.id, ctx.t("admin.revoked_notice", unit=unit_name))
