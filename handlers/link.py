"""/lienket: one person on two apps (Telegram and Zalo). On the app where they are registered it
gives a one-time code; typed on the other app (`/lienket CODE`, or the code alone when asked), it
attaches that account to the same member."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Notification, Text
from bot.services import linking
from bot.timefmt import fmt_datetime

router = Router("link", keep_place=False)

ASK_CODE = "code"


def platform_name(ctx: Context, platform: str) -> str:
    key = f"privacy.platforms.{platform}"
    return ctx.t(key) if key in ctx.t else platform


@router.command("lienket", role=None)
def begin(ctx: Context) -> None:
    """A code for the other app, or the code from the other app."""
    member = ctx.actor.member
    if member is None:
        if ctx.args:
            redeem(ctx, ctx.args)
            return
        ctx.begin(router.name, ASK_CODE)
        ctx.say("link.ask_code")
        return
    if ctx.args and linking.normalize(ctx.args):
        ctx.say("link.already_registered")
        return
    assert member.id is not None
    row = linking.new_code(ctx.session, member_id=member.id, now=ctx.now)
    ctx.say(
        "link.code",
        code=linking.shown(row.code),
        minutes=int(linking.CODE_LIFE.total_seconds() // 60),
        until=fmt_datetime(row.expires_at, ctx.settings.tz),
    )


@router.step(ASK_CODE)
def on_code(ctx: Context) -> None:
    if linking.normalize(ctx.text) is None:
        ctx.say("link.code_format")
        return
    redeem(ctx, ctx.text)


def redeem(ctx: Context, typed: str) -> bool:
    """Attach this account to the member whose code was typed; say how it went."""
    incoming = ctx.incoming
    result = linking.redeem(
        ctx.session,
        typed=typed,
        platform=incoming.platform,
        user_id=incoming.user_id,
        chat_id=incoming.chat_id,
        actor_ref=ctx.actor.ref,
        now=ctx.now,
    )
    if not result.ok:
        if result.reason in ("format", "unknown"):
            ctx.begin(router.name, ASK_CODE)  # a second chance, in the same place
        else:
            ctx.finish()
        ctx.say(f"link.refused_{result.reason}", minutes=10)
        return False
    member = result.member
    assert member is not None and member.id is not None
    ctx.finish()
    ctx.actor.member = member
    ctx.say("link.done", name=member.full_name or "", app=platform_name(ctx, incoming.platform))
    others = [
        i
        for i in linking.accounts(ctx.session, member.id)
        if (i.platform, i.platform_user_id) != (incoming.platform, incoming.user_id)
    ]
    notice = Text(ctx.t("link.notice", app=platform_name(ctx, incoming.platform)))
    for other in others:  # the person hears of it on the app they had: nobody links unseen
        ctx.notifications.append(Notification(other.platform, other.chat_id, notice))
    return True
