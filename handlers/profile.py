"""/toi: my profile."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.models import Member, Unit
from bot.services import units
from bot.services.members import group_key
from bot.texts import Raw
from bot.timefmt import fmt_datetime

router = Router("profile")


def card(ctx: Context, member: Member) -> str:
    """The profile as the member sees it."""
    unit = ctx.session.get(Unit, member.unit_id)
    role = ctx.actor.role.value if ctx.actor.member is member and ctx.actor.role else "member"
    text = ctx.t(
        "profile.card",
        name=member.full_name or "",
        unit=units.full_name(ctx.session, unit) if unit else "—",
        group=ctx.t(group_key(member.group)),
        party=ctx.t("common.yes" if member.party_member else "common.no"),
        role=ctx.t(f"roles.{role}"),
        consent_at=fmt_datetime(member.consent_at, ctx.settings.tz),
        consent_version=member.consent_version or "—",
    )
    if ctx.actor.member is member and ctx.actor.officer_units:
        scope = ", ".join(u.name for u in ctx.actor.officer_units)
        text += "\n" + ctx.t("profile.officer_scope", units=scope)
    return Raw(text)


@router.command("toi")
def show(ctx: Context) -> None:
    """Show the caller's profile."""
    member = ctx.actor.member
    assert member is not None
    ctx.say_html(card(ctx, member))
    ctx.say("profile.edit_hint")
