"""/nhatky: admins read the audit trail of officer and admin actions, newest first, a page at a
time. Rows hold ids only; names are looked up when shown, and only while the person exists."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import col, select

from bot.flow import Context, Router
from bot.messages import Option, to_plain
from bot.models import AuditLog, Broadcast, Identity, Member, Pledge, RoleName, Unit
from bot.services.privacy import ERASED_PREFIX
from bot.texts import Raw
from bot.timefmt import fmt_datetime

router = Router("audit", keep_place=False)

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
    """(action label, short detail) for each row, as safe HTML: ids become what people know
    (a unit's name, whose pledge, the plan's year, the announcement's first words)."""
    known = _Known(ctx, rows)
    return [(action_label(ctx, r.action), _detail(ctx, r.detail, known)) for r in rows]


class _Known:
    """The names behind the ids of a page of rows, looked up in one query per kind."""

    def __init__(self, ctx: Context, rows: list[AuditLog]):
        def ids(*keys: str) -> list[int]:
            found = {v for r in rows for k in keys if isinstance(v := r.detail.get(k), int)}
            return sorted(found)

        session = ctx.session
        units = session.exec(select(Unit).where(col(Unit.id).in_(ids("unit", "unit_id")))).all()
        self.units = {u.id: u.name for u in units}
        members = session.exec(
            select(Member).where(col(Member.id).in_(ids("member", "member_id")))
        ).all()
        self.members = {m.id: m.full_name for m in members if m.deleted_at is None}
        owners = session.exec(
            select(Pledge.id, Pledge.year, Member.full_name, Member.deleted_at)
            .join(Member, col(Member.id) == Pledge.member_id)
            .where(col(Pledge.id).in_(ids("pledge")))
        ).all()
        self.pledges = {pid: (year, None if gone else name) for pid, year, name, gone in owners}
        sent = session.exec(
            select(Broadcast.id, Broadcast.text).where(col(Broadcast.id).in_(ids("broadcast")))
        ).all()
        self.broadcasts = {bid: _first_words(text) for bid, text in sent}
        self.years = {c.id: c.year for c in ctx.catalog.campaigns}


def _first_words(html: str) -> str:
    plain = " ".join(to_plain(html).split())
    return plain[:40] + ("…" if len(plain) > 40 else "")


def _detail(ctx: Context, detail: dict[str, Any], known: _Known) -> Raw:
    parts: list[str] = []
    for name, value in detail.items():
        if value is None or isinstance(value, dict | list):
            continue
        key = _ALIASES.get(name, name)
        if key == "unit":
            value = known.units.get(value, f"#{value}") if isinstance(value, int) else value
        elif key == "member":
            value = known.members.get(value) or f"#{value}"
        elif key == "pledge" and value in known.pledges:
            year, owner = known.pledges[value]
            key, value = ("pledge_of", f"{owner} ({year})") if owner else ("pledge_year", year)
        elif key == "broadcast" and value in known.broadcasts:
            key, value = "broadcast_text", known.broadcasts[value]
        elif key == "campaign" and value in known.years:
            value = known.years[value]
        elif key == "role" and f"roles.{value}" in ctx.t:
            value = to_plain(ctx.t(f"roles.{value}"))
        if f"audit.detail.{key}" in ctx.t:
            parts.append(ctx.t(f"audit.detail.{key}", value=value))
        elif isinstance(value, bool | int | float) or len(str(value)) <= _SHORT:
            parts.append(ctx.t("audit.detail.other", name=name[:_SHORT], value=value))
    return Raw(", ".join(parts))
