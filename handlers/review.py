"""/duyet and /chuanop: officers review the pledges and self-assessments of their units, and see
who has not submitted. Everything is limited to the officer's subtree (admins: every tree)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.campaign import Campaign, PledgeRule
from bot.flow import Context, Router
from bot.messages import Option
from bot.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Member,
    Pledge,
    RoleName,
    Unit,
)
from bot.services import audit, plans, pledges, units
from bot.services.members import group_key
from bot.textutil import one_line
from bot.timefmt import fmt_datetime
from handlers.pledge import assessment_lines, deadline_text, rating_label, render

router = Router("review")

CARD = "card"
COMMENT = "comment"
NAMES = "names"
NUDGE = "nudge"

NAMES_INLINE = 40  # up to this many missing members are named at once; more: pick a unit
NAMES_PER_UNIT = 200


@dataclass(frozen=True)
class Scope:
    unit: Unit
    campaign: Campaign
    rule: PledgeRule
    current: bool = True  # False: last year's plan, shown for its figures (no plan this year yet)


def scopes(ctx: Context, *, figures: bool = False) -> list[Scope]:
    """The caller's subtrees with their current plans: an officer's units, or every root for an
    admin. A unit inside another of the caller's units is dropped, so nobody is counted twice.
    `figures`: a tree without a current plan shows its latest one (last year's figures)."""
    roots = units.children(ctx.session, None) if ctx.actor.is_admin else ctx.actor.officer_units
    roots = [u for u in roots if not any(o is not u and u.path.startswith(o.path) for o in roots)]
    tz = ctx.settings.tz
    out = []
    for unit in sorted(roots, key=lambda u: u.path):
        assert unit.id is not None
        code = plans.root_code(ctx.session, unit.id)
        if figures:
            found = plans.for_figures(ctx.session, code, now=ctx.now, tz=tz)
        else:
            campaign = plans.current(ctx.session, code, now=ctx.now, tz=tz)
            found = (campaign, True) if campaign is not None else None
        if found is not None and found[0].pledge is not None:
            out.append(Scope(unit, found[0], found[0].pledge, found[1]))
    return out


def _review_campaigns(ctx: Context, found: list[Scope]) -> list[str]:
    """The plans whose pledges and self-assessments wait in /duyet: the current ones and last
    year's (self-assessments sent in December are confirmed in January)."""
    ids = {s.campaign.id for s in found}
    for scope in found:
        code = plans.root_code(ctx.session, scope.unit.id or 0)
        ids |= {c.id for c in plans.recent(ctx.session, code, now=ctx.now, tz=ctx.settings.tz)}
    return sorted(ids)


def _may_review(ctx: Context, pledge: Pledge) -> Member | None:
    """The pledge's member, if the caller may review it (in scope, not their own)."""
    member = ctx.session.get(Member, pledge.member_id)
    if member is None or member.deleted_at is not None:
        return None
    if ctx.actor.member is not None and member.id == ctx.actor.member.id:
        return None
    unit = ctx.session.get(Unit, member.unit_id)
    return member if unit is not None and ctx.actor.can_manage(unit) else None


# --- /duyet -------------------------------------------------------------------------------------


@router.command("duyet", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    """How many wait, then the first one."""
    found = scopes(ctx, figures=True)
    if not found:
        ctx.say("review.no_campaign")
        return
    queue = _queue(ctx, found, skipped=[])
    if not queue.pledges and not queue.assessments:
        ctx.say("review.nothing")
        return
    ctx.say("review.waiting", pledges=queue.pledges, assessments=queue.assessments)
    _show_next(ctx, skipped=[])


def _queue(ctx: Context, found: list[Scope], skipped: list[str]) -> pledges.ReviewQueue:
    me = ctx.actor.member.id if ctx.actor.member is not None else None
    return pledges.to_review(
        ctx.session,
        campaign_ids=_review_campaigns(ctx, found),
        paths=None if ctx.actor.is_admin else [s.unit.path for s in found],
        exclude_member=me,
        skipped=skipped,
    )


def _show_next(ctx: Context, skipped: list[str]) -> None:
    for pledge, kind in _queue(ctx, scopes(ctx, figures=True), skipped).next:
        member = _may_review(ctx, pledge)
        if member is None:
            continue
        _card(ctx, pledge, member, kind, skipped)
        return
    ctx.finish()
    ctx.say("review.done" if not skipped else "review.done_skipped", skipped=len(skipped))


def _card(ctx: Context, pledge: Pledge, member: Member, kind: str, skipped: list[str]) -> None:
    tz = ctx.settings.tz
    unit = ctx.session.get(Unit, member.unit_id)
    head = ctx.t(
        "review.card_head",
        name=member.full_name or "",
        unit=units.full_name(ctx.session, unit) if unit else "—",
        group=ctx.t(group_key(member.group)),
    )
    if kind == "pledge":
        timing = ctx.t("pledge.late" if pledge.late else "pledge.on_time")
        when = ctx.t(
            "review.card_submitted",
            at=fmt_datetime(pledge.submitted_at, tz),
            timing=timing,
            revision=pledge.revision,
        )
        body = render(ctx, pledge.year, pledge.content or {}, member.group)
        ctx.say_html("\n".join([head, when, "", body]))
        options = [
            Option(ctx.t("review.approve"), "approve"),
            Option(ctx.t("review.return"), "return"),
        ]
        marker: int | str = pledge.revision
    else:
        rows = pledge.assessment or []
        lines = [
            head,
            ctx.t("review.card_assessment", at=fmt_datetime(pledge.assessment_submitted_at, tz)),
        ]
        lines += assessment_lines(ctx, rows)
        rating = rating_label(ctx, pledge.rating)
        lines.append(ctx.t("review.assess_rating", rating=rating))
        ctx.say_html("\n".join(lines))
        options = [
            Option(ctx.t("review.confirm"), "approve"),
            Option(ctx.t("review.return"), "return"),
        ]
        sent = pledge.assessment_submitted_at
        marker = sent.isoformat() if sent else ""  # what the decision applies to
    options += [Option(ctx.t("review.skip"), "skip"), Option(ctx.t("review.stop"), "stop")]
    ctx.begin(
        router.name,
        CARD,
        {"pledge": pledge.id, "kind": kind, "marker": marker, "skipped": skipped},
    )
    ctx.ask(ctx.t("review.card_ask"), options, columns=2)


def _current(ctx: Context) -> tuple[Pledge, Member] | None:
    """The pledge on screen, if the caller may still act on it."""
    pledge = ctx.session.get(Pledge, int(ctx.data.get("pledge") or 0))
    member = _may_review(ctx, pledge) if pledge is not None else None
    if pledge is None or member is None:
        return None
    return pledge, member


@router.step(CARD)
def on_card(ctx: Context) -> None:
    skipped: list[str] = list(ctx.data.get("skipped") or [])
    kind = str(ctx.data.get("kind"))
    choice = ctx.choice
    if choice == "stop":
        ctx.finish()
        ctx.say("review.stopped")
        return
    current = _current(ctx)
    if current is None:
        ctx.say("review.gone")
        _show_next(ctx, skipped)
        return
    pledge, member = current
    if choice == "skip":
        skipped.append(f"{kind}:{pledge.id}")
        _show_next(ctx, skipped)
        return
    if choice == "approve":
        _decide(ctx, pledge, member, approve=True, comment=None)
        _show_next(ctx, skipped)
        return
    if choice == "return":
        ctx.goto(COMMENT)
        ctx.ask(ctx.t("review.ask_comment"), [Option(ctx.t("review.comment_back"), "back")])
        return
    ctx.say("admin.need_choice")
    _card(ctx, pledge, member, kind, skipped)


@router.step(COMMENT)
def on_comment(ctx: Context) -> None:
    skipped: list[str] = list(ctx.data.get("skipped") or [])
    current = _current(ctx)
    if current is None:
        ctx.say("review.gone")
        _show_next(ctx, skipped)
        return
    pledge, member = current
    if ctx.choice == "back":
        _card(ctx, pledge, member, str(ctx.data.get("kind")), skipped)
        return
    comment = one_line(ctx.text)
    if ctx.choice is not None or len(comment) < 5 or len(comment) > pledges.MAX_COMMENT_CHARS:
        key = (
            "review.comment_too_long"
            if len(comment) > pledges.MAX_COMMENT_CHARS
            else "review.comment_need"
        )
        ctx.say(key, length=len(comment), limit=pledges.MAX_COMMENT_CHARS)
        ctx.ask(ctx.t("review.ask_comment"), [Option(ctx.t("review.comment_back"), "back")])
        return
    _decide(ctx, pledge, member, approve=False, comment=comment)
    _show_next(ctx, skipped)


def _decide(
    ctx: Context, pledge: Pledge, member: Member, *, approve: bool, comment: str | None
) -> None:
    """Apply the decision to exactly what the officer read, tell the member, record it."""
    kind = str(ctx.data.get("kind"))
    marker = ctx.data.get("marker")
    assert pledge.id is not None and member.id is not None
    if kind == "pledge":
        ok = pledges.review(
            ctx.session,
            pledge_id=pledge.id,
            revision=int(marker or 0),
            approve=approve,
            comment=comment,
            reviewer=ctx.actor.ref,
            now=ctx.now,
        )
    else:
        ok = bool(marker) and pledges.review_assessment(
            ctx.session,
            pledge_id=pledge.id,
            submitted_at=datetime.fromisoformat(str(marker)),
            confirm=approve,
            comment=comment,
            now=ctx.now,
        )
    if not ok:
        ctx.say("review.changed")
        return
    action = f"{kind}_{'approve' if approve else 'return'}"
    audit.record(
        ctx.session, actor=ctx.actor.ref, action=action, pledge=pledge.id, member=member.id
    )
    key = f"review.{action}d" if approve else f"review.{action}ed"
    ctx.say(key, name=member.full_name or "")
    note = f"review.notify_{action}"
    ctx.notify(member.id, ctx.t(note, year=pledge.year, comment=comment or ""))


# --- /chuanop -------------------------------------------------------------------------------------


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
