"""/phanquyen: an admin grants the officer role to a registered member, scoped to a unit."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, RoleName, Unit
from bot.services import members, roles, units

router = Router("admin")

ASK_WHO = "who"
PICK_WHO = "pick_who"
ASK_SCOPE = "scope"
CONFIRM = "confirm"


@router.command("phanquyen", role=RoleName.ADMIN)
def grant_start(ctx: Context) -> None:
    """Ask whom to grant."""
    ctx.begin(router.name, ASK_WHO)
    ctx.say("admin.grant_ask_name")


@router.step(ASK_WHO)
@router.step(PICK_WHO)
def on_who(ctx: Context) -> None:
    """Search members by name, then pick one."""
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
