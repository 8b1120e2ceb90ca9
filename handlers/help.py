"""/trogiup: what this person can do here, by role."""

from __future__ import annotations

from bot.flow import Context, Router

router = Router("help", keep_place=False)


@router.command("trogiup", role=None, group_ok=True)
def show(ctx: Context) -> None:
    """List the commands the caller may use, with their descriptions."""
    actor = ctx.actor
    role = actor.role.value if actor.role else "none"
    lines = [ctx.t("help.header", role=ctx.t(f"roles.{role}"))]
    if not actor.registered:
        lines.append(ctx.t("help.not_registered"))
    for name, cmd in ctx.commands.items():
        key = f"commands.{name}"
        if cmd.permits(actor) and key in ctx.t:
            lines.append(ctx.t("help.line", command=name, description=ctx.t(key)))
    lines.append(ctx.t("help.line", command="huy", description=ctx.t("commands.huy")))
    lines.append("")
    lines.append(ctx.t("help.footer"))
    ctx.say_html("\n".join(lines))
