"""/chuanop: who in the officer's units has not submitted a pledge, unit by unit, with their
names; a nudge to them through the outbox, once a day per unit. Limited to the officer's subtree
(admins: every tree)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Broadcast, BroadcastKind, BroadcastStatus, RoleName, Unit
from bot.services import audit, pledges
from bot.timefmt import fmt_datetime
from handlers.pledge import deadline_text
from handlers.scopes import Scope, scopes

router = Router("missing")

NAMES = "names"
NUDGE = "nudge"

NAMES_INLINE = 40  # up to this many missing members are named at once; more: pick a unit
NAMES_PER_UNIT = 200


@router.command("chuanop", role=RoleName.OFFICER)
def missing(ctx: Context) -> None:
    """Who in my units has not submitted: counts per unit, days left, and the names."""
    found = scopes(ctx)
    if not found:
        ctx.say("review.no_campaign")
        return
    nudges: list[Option] = []
    picks: list[Option] = []
    for scope in found:
        unit_picks = _missing_for(ctx, scope)
        if unit_picks is not None:  # somebody has not submitted
            picks += unit_picks
            if (
                scope.rule.late_allowed
                or pledges.days_left(scope.rule, ctx.now, ctx.settings.tz) >= 0
            ):
                label = ctx.t("missing.nudge_button", unit=scope.unit.name[:40])
                nudges.append(Option(label, f"n:{scope.unit.id}:{scope.campaign.id}"))
    if nudges or picks:
        ctx.begin(router.name, NAMES, {})
        ask = "missing.pick_unit" if picks else "missing.pick_nudge"
        ctx.ask(ctx.t(ask), (nudges + picks)[:20])


def _missing_for(ctx: Context, scope: Scope) -> list[Option] | None:
    """Say who has not submitted in this scope; the buttons for units whose names are not
    listed (None when everybody has submitted)."""
    counts = pledges.counts_by_unit(
        ctx.session, campaign_id=scope.campaign.id, paths=[scope.unit.path]
    )
    total = sum(c.members for c in counts)
    missing = sum(c.not_submitted for c in counts)
    returned = sum(c.returned for c in counts)
    when = deadline_text(ctx, scope.rule)
    lines = [
        ctx.t("missing.head", unit=scope.unit.name, year=scope.campaign.year),
        when,
        ctx.t("missing.totals", missing=missing, total=total, submitted=total - missing),
    ]
    if returned:
        lines.append(ctx.t("missing.returned", count=returned))
    if missing == 0:
        lines.append(ctx.t("missing.all_done") if total else ctx.t("missing.no_members"))
        ctx.say_html("\n".join(lines))
        return None
    unit_rows = {u.id: u for u in _units(ctx, [c.unit_id for c in counts])}
    by_missing = sorted(
        (c for c in counts if c.not_submitted),
        key=lambda c: (
            -c.not_submitted,
            unit_rows[c.unit_id].name if c.unit_id in unit_rows else "",
        ),
    )
    names: dict[int, list[str]] = {}
    if missing <= NAMES_INLINE:
        ids = pledges.not_submitted(
            ctx.session, campaign_id=scope.campaign.id, paths=[scope.unit.path]
        )
        for member in pledges.members_named(ctx.session, ids).values():
            names.setdefault(member.unit_id, []).append(member.full_name or "—")
    lines.append("")
    picks: list[Option] = []
    for c in by_missing:
        unit = unit_rows.get(c.unit_id)
        label = unit.name if unit else "—"
        lines.append(
            ctx.t("missing.unit_line", unit=label, missing=c.not_submitted, total=c.members)
        )
        for name in sorted(names.get(c.unit_id, [])):
            lines.append(ctx.t("missing.name_line", name=name))
        if not names:
            picks.append(
                Option(
                    ctx.t("missing.unit_button", unit=label[:40], missing=c.not_submitted),
                    f"u:{c.unit_id}:{scope.campaign.id}",
                )
            )
    ctx.say_html("\n".join(lines))
    return picks


def _units(ctx: Context, ids: list[int]) -> list[Unit]:
    return list(ctx.session.exec(select(Unit).where(col(Unit.id).in_(ids))).all()) if ids else []


def _chosen_unit(ctx: Context) -> tuple[str, Unit, str] | None:
    """(action, unit, campaign id) from a button "u:UNIT:CAMPAIGN" or "n:UNIT:CAMPAIGN", if the
    unit is in the caller's scope."""
    parts = (ctx.choice or "").split(":", 2)
    unit_id = parts[1] if len(parts) == 3 else ""
    unit = ctx.session.get(Unit, int(unit_id)) if unit_id.isdigit() else None
    if unit is None or not ctx.actor.can_manage(unit):
        return None
    return parts[0], unit, parts[2]


@router.step(NAMES)
def on_names(ctx: Context) -> None:
    """The names of one unit's own members who have not submitted, or a nudge to confirm."""
    chosen = _chosen_unit(ctx)
    if chosen is None:
        ctx.say("admin.need_choice")
        return
    action, unit, campaign_id = chosen
    if action == "n":
        _ask_nudge(ctx, unit, campaign_id)
        return
    ids = pledges.not_submitted(ctx.session, campaign_id=campaign_id, paths=[unit.path])
    people = [m for m in pledges.members_named(ctx.session, ids).values() if m.unit_id == unit.id]
    lines = [ctx.t("missing.names_head", unit=unit.name, count=len(people))]
    names = sorted(m.full_name or "—" for m in people)
    lines += [ctx.t("missing.name_line", name=n) for n in names[:NAMES_PER_UNIT]]
    if len(names) > NAMES_PER_UNIT:
        lines.append(ctx.t("missing.more", count=len(names) - NAMES_PER_UNIT))
    ctx.say_html("\n".join(lines))


# --- nudge: a reminder to the members of a unit who have not submitted --------------------------


def _nudge_key(ctx: Context, unit: Unit, campaign_id: str) -> str:
    """One nudge per unit and day: a double tap or a second officer does not send it twice."""
    day = ctx.now.astimezone(ctx.settings.tz).date().isoformat()
    return f"nudge:{campaign_id}:{unit.id}:{day}"


def _nudge(ctx: Context, unit: Unit, campaign_id: str) -> tuple[Scope, str, int] | None:
    """The scope, the text and how many would get it."""
    scope = next((s for s in scopes(ctx) if s.campaign.id == campaign_id), None)
    if scope is None:
        return None
    count = len(pledges.not_submitted(ctx.session, campaign_id=campaign_id, paths=[unit.path]))
    text = ctx.t(
        "reminders.nudge",
        unit=unit.name,
        year=scope.campaign.year,
        deadline=deadline_text(ctx, scope.rule),
    )
    return scope, text, count


def _already(ctx: Context, unit: Unit, campaign_id: str) -> bool:
    """Whether this unit, a unit above it or one below it was nudged today: then its members
    (or some of them) already got a nudge today, and are not sent another."""
    day = ctx.now.astimezone(ctx.settings.tz).date().isoformat()
    today = ctx.session.exec(
        select(Broadcast, Unit)
        .join(Unit, col(Unit.id) == Broadcast.unit_id)
        .where(
            col(Broadcast.key).startswith(f"nudge:{campaign_id}:"),
            col(Broadcast.key).endswith(f":{day}"),
        )
    ).all()
    overlap = [
        (b, u) for b, u in today if unit.path.startswith(u.path) or u.path.startswith(unit.path)
    ]
    if not overlap:
        return False
    done, where = overlap[0]
    ctx.finish()
    ctx.say(
        "missing.nudged_already", unit=where.name, at=fmt_datetime(done.created_at, ctx.settings.tz)
    )
    return True


def _ask_nudge(ctx: Context, unit: Unit, campaign_id: str) -> None:
    found = _nudge(ctx, unit, campaign_id)
    if found is None:
        ctx.finish()
        ctx.say("review.no_campaign")
        return
    if _already(ctx, unit, campaign_id):
        return
    _, text, count = found
    ctx.goto(NUDGE)
    ctx.data.update(unit=unit.id, campaign=campaign_id)
    options = [
        Option(ctx.t("missing.nudge_send", count=count), "send", exact=True),
        Option(ctx.t("missing.nudge_cancel"), "no"),
    ]
    ctx.ask(ctx.t("missing.nudge_preview", count=count, unit=unit.name) + "\n\n" + text, options)


@router.step(NUDGE)
def on_nudge(ctx: Context) -> None:
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    campaign_id = str(ctx.data.get("campaign", ""))
    if ctx.choice not in ("send", "no") or unit is None:
        ctx.say("admin.need_choice")
        return
    ctx.finish()
    if ctx.choice == "no":
        ctx.say("missing.nudge_cancelled")
        return
    if not ctx.actor.can_manage(unit):
        ctx.say("engine.forbidden")
        return
    found = _nudge(ctx, unit, campaign_id)
    if found is None or _already(ctx, unit, campaign_id):
        return
    scope, text, count = found
    broadcast = Broadcast(
        key=_nudge_key(ctx, unit, campaign_id),
        kind=BroadcastKind.REMINDER,
        status=BroadcastStatus.SCHEDULED,
        unit_id=unit.id,
        campaign_id=scope.campaign.id,
        text=text,
        created_by=ctx.actor.ref,
        report_platform=ctx.incoming.platform,
        report_chat_id=ctx.incoming.chat_id,
        scheduled_at=ctx.now,
        created_at=ctx.now,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(broadcast)
    except IntegrityError:  # another officer of the unit nudged it a moment ago
        _already(ctx, unit, campaign_id)
        return
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="nudge",
        broadcast=broadcast.id,
        unit=unit.id,
        members=count,
    )
    ctx.say("missing.nudged", count=count, unit=unit.name)
