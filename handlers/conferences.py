"""/hoinghi: an officer records a study conference of a unit in their scope (Phụ lục 1): its
form, date, topic and attendance, typed or by check-in with a code members send until a set
time; lists the conferences recorded and closes a check-in. Members check in with `/start CODE`
(a Telegram link carries it) or by typing the code: see `check_in`."""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import RoleName, Unit
from bot.models_year import StudySession
from bot.services import audit, conferences, units
from bot.services.conferences import FORMS, Draft, Invalid
from bot.timefmt import fmt_date, fmt_datetime
from handlers import scopepick
from handlers.scopes import flow_unit_and_plan, paths, roots, unit_plan

logger = logging.getLogger(__name__)

router = Router("conference")

MENU = "menu"
UNIT = "unit"
FORM = "form"
DATE = "date"
TOPIC = "topic"
MODE = "mode"
COUNTS = "counts"
CLOSES = "closes"
CONFIRM = "confirm"
LIST = "list"

LISTED = 10
SOON = timedelta(hours=2)


def _today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.settings.tz).date()


# --- the menu -----------------------------------------------------------------------------


@router.command("hoinghi", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    """Record a conference, or see those recorded."""
    if not roots(ctx):
        ctx.say("conference.no_units")
        return
    if not _recorded(ctx):
        _new(ctx)
        return
    ctx.begin(router.name, MENU)
    ctx.ask(
        ctx.t("conference.menu"),
        [
            Option(ctx.t("conference.new"), "new"),
            Option(ctx.t("conference.list"), "list"),
        ],
    )


def _recorded(ctx: Context) -> list[tuple[StudySession, Unit]]:
    """The latest conferences of the current plans of the caller's units."""
    found: list[tuple[StudySession, Unit]] = []
    for plan_id in sorted({p.id for u in roots(ctx) if (p := unit_plan(ctx, u.id or 0))}):
        found += conferences.in_scope(
            ctx.session, campaign_id=plan_id, paths=paths(ctx), limit=LISTED
        )
    found.sort(key=lambda pair: (pair[0].held_on, pair[0].id or 0), reverse=True)
    return found[:LISTED]


@router.step(MENU)
def on_menu(ctx: Context) -> None:
    if ctx.choice == "new":
        _new(ctx)
    elif ctx.choice == "list":
        _list(ctx)
    else:
        ctx.say("admin.need_choice")


def _new(ctx: Context) -> None:
    ctx.begin(router.name, UNIT)
    only = scopepick.single(ctx)
    if only is not None:
        _chosen(ctx, only)
        return
    scopepick.offer(ctx, ctx.t("conference.ask_unit"))


@router.step(UNIT)
def on_unit(ctx: Context) -> None:
    unit = scopepick.handle(ctx)
    if unit is not None:
        _chosen(ctx, unit)


def _chosen(ctx: Context, unit: Unit) -> None:
    assert unit.id is not None
    plan = unit_plan(ctx, unit.id)
    if plan is None:
        ctx.finish()
        ctx.say("conference.no_plan", unit=unit.name)
        return
    ctx.data.update(unit=unit.id, plan=plan.id, year=plan.year, topic_id=plan.topic)
    _ask_form(ctx)


# --- the conference, step by step ---------------------------------------------------------


def _ask_form(ctx: Context) -> None:
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    ctx.goto(FORM)
    options = [Option(ctx.t(f"conference.forms.{f}"), f"f:{f}") for f in FORMS]
    ctx.ask(ctx.t("conference.ask_form", unit=unit.name if unit else "—"), options)


@router.step(FORM)
def on_form(ctx: Context) -> None:
    form = (ctx.choice or "").removeprefix("f:")
    if form not in FORMS:
        ctx.say("admin.need_choice")
        _ask_form(ctx)
        return
    ctx.data["form"] = form
    _ask_date(ctx)


def _ask_date(ctx: Context) -> None:
    ctx.goto(DATE)
    today = fmt_date(_today(ctx))
    ctx.ask(
        ctx.t("conference.ask_date", year=ctx.data.get("year")),
        [Option(ctx.t("conference.today", date=today), "today")],
        typed_numbers=False,
    )


@router.step(DATE)
def on_date(ctx: Context) -> None:
    year = int(ctx.data.get("year") or 0)
    if ctx.choice == "today":
        held = _today(ctx)
        if held.year != year:
            ctx.say("conference.date_year", year=year)
            _ask_date(ctx)
            return
    else:
        try:
            held = conferences.parse_date(ctx.text, year=year)
        except Invalid as exc:
            ctx.say(f"conference.{exc.key}", year=year, typed=ctx.text[:30])
            _ask_date(ctx)
            return
    ctx.data["held_on"] = held.isoformat()
    _ask_topic(ctx)


def _ask_topic(ctx: Context) -> None:
    ctx.goto(TOPIC)
    topic = ctx.catalog.topics.get(str(ctx.data.get("topic_id")))
    if topic is None:
        ctx.say("conference.ask_topic")
        return
    label = ctx.t("conference.topic_plan", topic=topic.short_title)
    ctx.ask(ctx.t("conference.ask_topic"), [Option(label, "plan")], typed_numbers=False)


@router.step(TOPIC)
def on_topic(ctx: Context) -> None:
    topic = ctx.catalog.topics.get(str(ctx.data.get("topic_id")))
    if ctx.choice == "plan" and topic is not None:
        ctx.data["topic"] = topic.title[: conferences.TOPIC_MAX]
    else:
        try:
            ctx.data["topic"] = conferences.clean_topic(ctx.text)
        except Invalid as exc:
            ctx.say(f"conference.{exc.key}", low=conferences.TOPIC_MIN, high=conferences.TOPIC_MAX)
            _ask_topic(ctx)
            return
    _ask_mode(ctx)


def _ask_mode(ctx: Context) -> None:
    ctx.goto(MODE)
    ctx.ask(
        ctx.t("conference.ask_mode"),
        [
            Option(ctx.t("conference.mode_typed"), "typed"),
            Option(ctx.t("conference.mode_checkin"), "checkin"),
        ],
    )


def _held_on(ctx: Context) -> date:
    return date.fromisoformat(str(ctx.data.get("held_on")))


@router.step(MODE)
def on_mode(ctx: Context) -> None:
    if ctx.choice == "typed":
        if _held_on(ctx) > _today(ctx):
            ctx.say("conference.not_yet", date=fmt_date(_held_on(ctx)))
            _ask_mode(ctx)
            return
        ctx.goto(COUNTS)
        ctx.say("conference.ask_counts")
    elif ctx.choice == "checkin":
        _ask_closes(ctx)
    else:
        ctx.say("admin.need_choice")
        _ask_mode(ctx)


@router.step(COUNTS)
def on_counts(ctx: Context) -> None:
    try:
        attendees, party = conferences.parse_counts(ctx.text)
    except Invalid as exc:
        ctx.say(f"conference.{exc.key}", limit=conferences.MAX_ATTENDEES)
        ctx.say("conference.ask_counts")
        return
    ctx.data.update(attendees=attendees, party=party)
    ctx.data.pop("closes", None)
    _confirm(ctx)


def _closing_choices(ctx: Context) -> list[tuple[str, datetime]]:
    """(label, time): two hours from now when the conference is today, the end of its day."""
    tz = ctx.settings.tz
    held = _held_on(ctx)
    out = []
    if held == _today(ctx):
        soon = ctx.now + SOON
        out.append((ctx.t("conference.closes_soon", at=fmt_datetime(soon, tz)), soon))
    end = datetime.combine(held, time(23, 59), tz)
    if ctx.now < end <= ctx.now + conferences.MAX_OPEN:
        out.append((ctx.t("conference.closes_day_end", at=fmt_datetime(end, tz)), end))
    return out


def _ask_closes(ctx: Context) -> None:
    ctx.goto(CLOSES)
    choices = _closing_choices(ctx)
    ctx.data["closing"] = [at.isoformat() for _, at in choices]
    options = [Option(label, f"c:{i}") for i, (label, _) in enumerate(choices)]
    if options:
        ctx.ask(ctx.t("conference.ask_closes"), options, typed_numbers=False)
    else:
        ctx.say("conference.ask_closes")


@router.step(CLOSES)
def on_closes(ctx: Context) -> None:
    offered: list[str] = list(ctx.data.get("closing") or [])
    index = (ctx.choice or "").removeprefix("c:")
    try:
        if ctx.choice is not None and index.isdigit() and int(index) < len(offered):
            closes = conferences.check_closing(
                datetime.fromisoformat(offered[int(index)]), now=ctx.now
            )
        else:
            closes = conferences.parse_closing(ctx.text, now=ctx.now, tz=ctx.settings.tz)
    except Invalid as exc:
        ctx.say(f"conference.{exc.key}", now=fmt_datetime(ctx.now, ctx.settings.tz))
        _ask_closes(ctx)
        return
    ctx.data["closes"] = closes.isoformat()
    ctx.data.pop("attendees", None)
    ctx.data.pop("party", None)
    _confirm(ctx)


def _summary(ctx: Context) -> str:
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    if ctx.data.get("closes"):
        closes = datetime.fromisoformat(str(ctx.data["closes"]))
        attendance = ctx.t("conference.summary_checkin", at=fmt_datetime(closes, ctx.settings.tz))
    else:
        attendance = ctx.t(
            "conference.summary_counts", attendees=ctx.data["attendees"], party=ctx.data["party"]
        )
    return ctx.t(
        "conference.summary",
        unit=units.full_name(ctx.session, unit) if unit else "—",
        form=ctx.t(f"conference.forms.{ctx.data.get('form')}"),
        date=fmt_date(_held_on(ctx)),
        topic=str(ctx.data.get("topic")),
        attendance=ctx.t.raw("conference.summary_attendance", line=attendance),
    )


def _confirm(ctx: Context) -> None:
    ctx.goto(CONFIRM)
    ctx.ask(
        _summary(ctx),
        [
            Option(ctx.t("conference.save"), "save", exact=True),
            Option(ctx.t("conference.redo"), "redo"),
            Option(ctx.t("conference.drop"), "drop"),
        ],
    )


@router.step(CONFIRM)
def on_confirm(ctx: Context) -> None:
    if ctx.choice == "redo":
        _ask_form(ctx)
        return
    if ctx.choice == "drop":
        ctx.finish()
        ctx.say("conference.dropped")
        return
    if ctx.choice != "save":
        ctx.say("admin.need_choice")
        _confirm(ctx)
        return
    loaded = flow_unit_and_plan(ctx)
    if loaded is None:
        return
    unit, plan = loaded
    assert unit.id is not None
    closes = ctx.data.get("closes")
    draft = Draft(
        unit_id=unit.id,
        form=str(ctx.data.get("form")),
        held_on=_held_on(ctx),
        topic=str(ctx.data.get("topic")),
        attendees=ctx.data.get("attendees"),
        party_attendees=ctx.data.get("party"),
        closes_at=datetime.fromisoformat(str(closes)) if closes else None,
    )
    try:
        if draft.closes_at is not None:
            conferences.check_closing(draft.closes_at, now=ctx.now)
        row = conferences.record(
            ctx.session, draft=draft, plan=plan, created_by=ctx.actor.ref, now=ctx.now
        )
    except Invalid as exc:  # the closing time passed while the officer read the summary
        ctx.say(f"conference.{exc.key}", now=fmt_datetime(ctx.now, ctx.settings.tz))
        _ask_closes(ctx)
        return
    ctx.finish()
    audit.record(
        ctx.session,
        actor=ctx.actor.ref,
        action="conference_record",
        conference=row.id,
        unit=unit.id,
    )
    if row.checkin_code is None:
        ctx.say("conference.saved", unit=unit.name)
        return
    _invitation(ctx, row, unit)


def _invitation(ctx: Context, row: StudySession, unit: Unit) -> None:
    assert row.checkin_code is not None
    lines = [
        ctx.t(
            "conference.code",
            code=row.checkin_code,
            unit=unit.name,
            at=fmt_datetime(row.closes_at, ctx.settings.tz),
        ),
        *ctx.invitation(row.checkin_code),
        ctx.t("conference.code_hint"),
    ]
    ctx.say_html("\n".join(lines))


# --- the list -----------------------------------------------------------------------------


def _list(ctx: Context) -> None:
    found = _recorded(ctx)
    if not found:
        ctx.finish()
        ctx.say("conference.none")
        return
    counts = conferences.attendance(ctx.session, (s for s, _ in found))
    tz = ctx.settings.tz
    lines = [ctx.t("conference.list_head", count=len(found))]
    options: list[Option] = []
    for row, unit in found:
        assert row.id is not None
        seen = counts[row.id]
        if row.checkin_code is None:
            how = ctx.t("conference.how_typed")
        elif conferences.is_open(row, ctx.now):
            how = ctx.t(
                "conference.how_open", code=row.checkin_code, at=fmt_datetime(row.closes_at, tz)
            )
            code = row.checkin_code
            options.append(Option(ctx.t("conference.invite_again", code=code), f"i:{row.id}"))
            options.append(Option(ctx.t("conference.close", code=code), f"x:{row.id}"))
        else:
            how = ctx.t("conference.how_closed", code=row.checkin_code)
        lines.append(
            ctx.t(
                "conference.line",
                date=fmt_date(row.held_on),
                form=ctx.t(f"conference.forms_short.{row.form}"),
                unit=unit.name,
                topic=row.topic,
                attendees=seen.attendees,
                party=seen.party,
                how=ctx.t.raw("conference.how_part", how=how),
            )
        )
    if not options:
        ctx.finish()
        ctx.say_html("\n".join(lines))
        return
    ctx.begin(router.name, LIST)
    ctx.ask("\n".join(lines), options)


@router.step(LIST)
def on_list(ctx: Context) -> None:
    action, _, raw = (ctx.choice or "").partition(":")
    row = ctx.session.get(StudySession, int(raw)) if raw.isdigit() else None
    unit = ctx.session.get(Unit, row.unit_id) if row is not None else None
    if row is None or unit is None or action not in ("i", "x"):
        ctx.say("admin.need_choice")
        return
    if not ctx.actor.can_manage(unit):
        logger.info("conference out of scope refused id=%s actor=%s", row.id, ctx.actor.ref)
        ctx.finish()
        ctx.say("scope.forbidden")
        return
    if action == "i":
        if conferences.is_open(row, ctx.now):
            _invitation(ctx, row, unit)
        else:
            ctx.say("conference.already_closed", code=row.checkin_code or "")
        return
    ctx.finish()
    if not conferences.close(ctx.session, row, now=ctx.now):
        ctx.say("conference.already_closed", code=row.checkin_code or "")
        return
    audit.record(ctx.session, actor=ctx.actor.ref, action="conference_close", conference=row.id)
    seen = conferences.attendance(ctx.session, [row])[row.id or 0]
    ctx.say(
        "conference.closed_now",
        code=row.checkin_code or "",
        attendees=seen.attendees,
        party=seen.party,
    )


# --- members check in ---------------------------------------------------------------------


def check_in(ctx: Context, code: str) -> None:
    """Count the registered member at the conference of this code; say how it went."""
    member = ctx.actor.member
    assert member is not None
    result = conferences.check_in(ctx.session, code=code, member=member, now=ctx.now)
    tz = ctx.settings.tz
    row = result.conference
    unit = ctx.session.get(Unit, row.unit_id) if row is not None else None
    values = {
        "code": code,
        "unit": unit.name if unit is not None else "—",
        "topic": row.topic if row is not None else "",
        "date": fmt_date(row.held_on) if row is not None else "",
        "at": fmt_datetime(result.at, tz),
        "closes": fmt_datetime(row.closes_at, tz) if row is not None else "",
    }
    if result.ok:
        logger.info("check-in conference=%s member=%s", row.id if row else None, member.id)
        ctx.say("conference.checked_in", **values)
    else:
        ctx.say(f"conference.checkin_{result.reason}", **values)
