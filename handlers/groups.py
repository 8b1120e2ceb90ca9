"""/ganhom: inside a group chat, an officer links the group to one of their units, so the group
receives that unit's anniversary posts and announcements."""

from __future__ import annotations

from sqlmodel import select

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import GroupLink, RoleName, Unit
from bot.services import audit, units

router = Router("groups", keep_place=False)

PICK = "pick"


def _link(ctx: Context) -> GroupLink | None:
    return ctx.session.exec(
        select(GroupLink).where(
            GroupLink.platform == ctx.incoming.platform, GroupLink.chat_id == ctx.incoming.chat_id
        )
    ).first()


@router.command("ganhom", role=RoleName.OFFICER, group_ok=True)
def begin(ctx: Context) -> None:
    if ctx.incoming.chat_type != "group":
        ctx.say("group_chat.only_in_group")
        return
    roots = units.children(ctx.session, None) if ctx.actor.is_admin else ctx.actor.officer_units
    options: list[Option] = []
    for unit in roots:
        options.append(Option(unit.name[:60], f"u:{unit.id}"))
        options += [Option(c.name[:60], f"u:{c.id}") for c in units.children(ctx.session, unit.id)]
    link = _link(ctx)
    current = ctx.session.get(Unit, link.unit_id) if link and link.active else None
    if current is not None:
        ctx.say("group_chat.current", unit=current.name)
        options.append(Option(ctx.t("group_chat.unlink"), "unlink"))
    ctx.begin(router.name, PICK)
    ctx.ask(ctx.t("group_chat.ask_unit"), options[:30])


@router.step(PICK)
def on_pick(ctx: Context) -> None:
    link = _link(ctx)
    if ctx.choice == "unlink" and link is not None:
        link.active = False
        ctx.session.add(link)
        audit.record(ctx.session, actor=ctx.actor.ref, action="group_unlink", unit=link.unit_id)
        ctx.finish()
        ctx.say("group_chat.unlinked")
        return
    unit_id = (ctx.choice or "").removeprefix("u:")
    unit = ctx.session.get(Unit, int(unit_id)) if unit_id.isdigit() else None
    if unit is None or not ctx.actor.can_manage(unit):
        ctx.say("admin.need_choice")
        return
    if link is None:
        link = GroupLink(
            platform=ctx.incoming.platform,
            chat_id=ctx.incoming.chat_id,
            unit_id=unit.id,  # type: ignore[arg-type]
            linked_by=ctx.actor.ref,
        )
    link.unit_id, link.active, link.linked_by, link.linked_at = (
        unit.id,  # type: ignore[assignment]
        True,
        ctx.actor.ref,
        ctx.now,
    )
    ctx.session.add(link)
    audit.record(ctx.session, actor=ctx.actor.ref, action="group_link", unit=unit.id)
    ctx.finish()
    ctx.say("group_chat.linked", unit=unit.name)
