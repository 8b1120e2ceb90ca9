"""/nhatky: admins read the audit trail of officer and admin actions, newest first, a page at a
time. Rows hold ids only; names are looked up when shown, and only while the person exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from bot.flow import Context, Router
from bot.messages import Option, to_plain
from bot.models import AuditLog, Identity, Member, RoleName, Unit
from bot.services.privacy import ERASED_PREFIX
from bot.texts import Raw
from bot.timefmt import fmt_datetime

router = Router("audit")

PAGE = "page"
PAGE_SIZE = 20
_SHORT = 24  # longest free string shown from a row's detail (details hold ids, never texts)

# Detail keys written under two names; every key with a text `audit.detail.<key>` is shown with
# it, any other only if its value is a number or a short word.
_ALIASES = {"member_id": "member", "unit_id": "unit"}
_SYSTEM_ACTORS = ("cli", "scheduler", "presets", "demo")


@router.command("nhatky", role=RoleName.ADMIN)
def begin(ctx: Context) -> None:
    """The most recent actions."""
    _page(ctx, before=None)


@router.step(PAGE)
def on_page(ctx: Context) -> None:
    """The "Cũ hơn" button: the page before the oldest row shown."""
    before = (ctx.choice or "").removeprefix("before:")
    if not ctx.actor.is_admin:
        ctx.finish()
        ctx.say("engine.forbidden")
        return
    if not before.isdigit():
        ctx.finish()
        ctx.say("engine.unknown_input")
        return
    _page(ctx, before=int(before))


def _page(ctx: Context, *, before: int | None) -> None:
    query = select(AuditLog).order_by(col(AuditLog.id).desc()).limit(PAGE_SIZE + 1)
    if before is not None:
        query = query.where(col(AuditLog.id) < before)
    rows = list(ctx.session.exec(query).all())
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if not rows:
        ctx.finish()
        ctx.say("audit.empty" if before is None else "audit.no_older")
        return
    names = _actor_names(ctx, [r.actor for r in rows])
    lines = [ctx.t("audit.head" if before is None else "audit.head_older", count=len(rows))]
    for row, (label, detail) in zip(rows, describe(ctx, rows), strict=True):
        lines.append(
            ctx.t(
                "audit.line",
                at=fmt_datetime(row.at, ctx.settings.tz),
                who=names.get(row.actor, row.actor),
                action=label,
                detail=ctx.t.raw("audit.detail_part", detail=detail) if detail else "",
            )
        )
    text = "\n".join(lines)
    if not more:
        ctx.finish()
        ctx.say_html(text)
        return
    ctx.begin(router.name, PAGE)
    ctx.ask(text, [Option(ctx.t("audit.older"), f"before:{rows[-1].id}")])


def _actor_names(ctx: Context, refs: Iterable[str]) -> dict[str, str]:
    """Actor refs made readable (plain text): the member's name while they exist, "the system",
    or an erased member's number; refs of nobody known are left out (shown as they are)."""
    out: dict[str, str] = {}
    by_platform: dict[str, set[str]] = {}
    for ref in set(refs):
        platform, _, user_id = ref.partition(":")
        if ref in _SYSTEM_ACTORS:
            out[ref] = to_plain(ctx.t(f"audit.actor_{ref}"))
        elif ref.startswith(ERASED_PREFIX):
            out[ref] = to_plain(ctx.t("audit.actor_erased", id=ref.removeprefix(ERASED_PREFIX)))
        elif user_id:
            by_platform.setdefault(platform, set()).add(user_id)
    for platform, user_ids in by_platform.items():
        found = ctx.session.exec(
            select(Identity.platform_user_id, Member.full_name)
            .join(Member, col(Member.id) == Identity.member_id)
            .where(
                Identity.platform == platform,
                col(Identity.platform_user_id).in_(sorted(user_ids)),
                col(Member.deleted_at).is_(None),
            )
        ).all()
        for user_id, name in found:
            if name:
                out[f"{platform}:{user_id}"] = name
    return out


def action_label(ctx: Context, action: str) -> Raw:
    key = f"audit.actions.{action}"
    return ctx.t.raw(key) if key in ctx.t else ctx.t.raw("audit.action_other", action=action[:40])


def describe(ctx: Context, rows: list[AuditLog]) -> list[tuple[Raw, Raw]]:
    """(action label, short detail) for each row, as safe HTML; unit ids become unit names."""
    unit_ids = {
        v for r in rows for k in ("unit", "unit_id") if isinstance(v := r.detail.get(k), int)
    }
    names: dict[int, str] = {}
    if unit_ids:
        found = ctx.session.exec(select(Unit).where(col(Unit.id).in_(sorted(unit_ids)))).all()
        names = {u.id: u.name for u in found if u.id is not None}
    return [(action_label(ctx, r.action), _detail(ctx, r.detail, names)) for r in rows]


def _detail(ctx: Context, detail: dict[str, Any], units: dict[int, str]) -> Raw:
    parts: list[str] = []
    for name, value in detail.items():
        if value is None or isinstance(value, dict | list):
            continue
        key = _ALIASES.get(name, name)
        if key == "unit":
            value = units.get(value, f"#{value}") if isinstance(value, int) else value
        elif key == "role" and f"roles.{value}" in ctx.t:
            value = to_plain(ctx.t(f"roles.{value}"))
        if f"audit.detail.{key}" in ctx.t:
            parts.append(ctx.t(f"audit.detail.{key}", value=value))
        elif isinstance(value, bool | int | float) or len(str(value)) <= _SHORT:
            parts.append(ctx.t("audit.detail.other", name=name[:_SHORT], value=value))
    return Raw(", ".join(parts))
