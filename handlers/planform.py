"""/kehoach, the form: a plan's fields asked one by one (topic, quizzes, the pledge dates, the
report deadlines, the start; the fields themselves are in handlers/planfields.py), each checked
with a clear message and asked again when wrong, then a summary to save or to change any field.
The form lives in the chat's state (`form`, plain JSON), so a restart loses nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from bot.flow import Context, Router
from bot.messages import Option
from bot.services import plandrafts, plans
from bot.services.permissions import plan_roots
from bot.services.plans import PlanError
from bot.texts import Raw
from bot.timefmt import fmt_date

router = Router("plans")

TOPIC = "topic"
QUIZZES = "quizzes"
DEADLINE = "deadline"
LATE = "late"
OPENS = "opens"
CLOSES = "closes"
REPORTS = "reports"
REPORT_DUE = "report_due"
STARTS = "starts"
SUMMARY = "summary"

FIELDS = (TOPIC, QUIZZES, DEADLINE, LATE, OPENS, CLOSES, REPORTS, STARTS)  # numbered 1-8
_DAY = re.compile(r"^\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*$")


def today(ctx: Context) -> date:
    return ctx.now.astimezone(ctx.settings.tz).date()


def parse_day(text: str) -> date | str:
    """'10/04/2027' (or 10-4-2027, 10.4.2027) -> a date; else the text key of the mistake."""
    match = _DAY.match(text)
    if match is None:
        return "plans.day_format"
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return "plans.day_invalid"


def day_of(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def form_of(ctx: Context) -> dict[str, Any]:
    form = ctx.data.get("form")
    assert isinstance(form, dict)
    return form


def say_day_error(ctx: Context, key: str, **values: Any) -> None:
    ctx.say(key, today=fmt_date(today(ctx)), **values)


# --- starting, moving on --------------------------------------------------------------------------


def begin_form(
    ctx: Context,
    form: dict[str, Any],
    *,
    mode: str,
    intro: str,
    unit_name: str,
    version: int | None = None,
) -> None:
    """Walk every field of a new plan, or (editing) show the summary with a field to change."""
    ctx.begin(
        router.name,
        SUMMARY,
        {
            "form": form,
            "mode": mode,
            "walking": mode == "new",
            "version": version,
            "unit_name": unit_name,
            "pool": {q["topic"]: q for q in form["quizzes"]},
        },
    )
    ctx.say_html(intro)
    if mode == "new":
        ask(ctx, FIELDS[0])
    else:
        summary(ctx)


def next_field(ctx: Context, field: str) -> None:
    """After a field: the next one while walking a new plan, else back to the summary."""
    if ctx.data.get("walking"):
        later = FIELDS[FIELDS.index(field) + 1 :]
        if field == OPENS and form_of(ctx)["opens"] is None:
            later = later[1:]  # no self-assessment: no closing day to ask
        if later:
            ask(ctx, later[0])
            return
        ctx.data["walking"] = False
    summary(ctx)


def field_title(ctx: Context, field: str) -> str:
    return ctx.t(
        "plans.field_title",
        n=FIELDS.index(field) + 1,
        total=len(FIELDS),
        title=ctx.t(f"plans.fields.{field}"),
    )


ASKERS: dict[str, Callable[[Context], None]] = {}  # filled by handlers/planfields.py


def ask(ctx: Context, field: str) -> None:
    """Ask one field, showing what it holds now."""
    ctx.goto(field)
    ASKERS[field](ctx)


# --- shared by the fields and the summary ---------------------------------------------------------


def sorted_topics(ctx: Context) -> list[Any]:
    topics = ctx.catalog.topics.values()
    return sorted(topics, key=lambda t: (-max(t.years, default=0), t.short_title))


def topic_years(ctx: Context, topic_id: str) -> str:
    """The years of a topic: '2024', '2021–2026', '2022, 2024'."""
    topic = ctx.catalog.topics.get(topic_id)
    years = sorted(set(topic.years)) if topic is not None else []
    if not years:
        return "—"
    if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return ", ".join(str(y) for y in years)


def old_topic(ctx: Context, form: dict[str, Any]) -> bool:
    """A topic of earlier years: allowed (a province may keep one), and said so."""
    topic = ctx.catalog.topics.get(form["topic"])
    return topic is not None and form["year"] not in topic.years


def quiz_text(ctx: Context, rule: dict[str, Any]) -> str:
    topic = ctx.catalog.topics.get(rule["topic"])
    limit = rule.get("time_limit_minutes")
    return ctx.t(
        "plans.quiz_rule",
        title=topic.short_title if topic else rule["topic"],
        questions=rule["questions"],
        limit=ctx.t.raw("plans.quiz_limit", minutes=limit) if limit else "",
    )


def offer_days(ctx: Context, text: str, options: list[Option]) -> None:
    """Ask for a day typed, with its buttons (keep the day shown...) when there are any."""
    if options:
        ctx.ask(text, options, typed_numbers=False)
    else:
        ctx.say_html(text)


def keep_option(ctx: Context, value: str | None) -> list[Option]:
    day = day_of(value)
    return [Option(ctx.t("plans.keep_day", day=fmt_date(day)), "keep")] if day else []


def year_ok(ctx: Context, day: date) -> bool:
    year = int(form_of(ctx)["year"])
    if year - 1 <= day.year <= year + 1:
        return True
    ctx.say("plans.day_year", low=year - 1, high=year + 1)
    return False


def typed_day(ctx: Context, field: str) -> date | None:
    """The day typed (or kept) for a date field, or None after saying what is wrong."""
    form = form_of(ctx)
    key = {DEADLINE: "submit_before", OPENS: "opens", CLOSES: "closes", STARTS: "starts_on"}
    if ctx.choice == "keep" and field in key and form.get(key[field]):
        return date.fromisoformat(form[key[field]])
    if ctx.choice is not None:
        ctx.say("plans.need_day")
        return None
    parsed = parse_day(ctx.text[:40])
    if isinstance(parsed, str):
        say_day_error(ctx, parsed)
        return None
    return parsed if year_ok(ctx, parsed) else None


# --- the summary, saving --------------------------------------------------------------------------


def summary_lines(ctx: Context, form: dict[str, Any]) -> list[str]:
    """The plan, field by field, as the admin checks it (also /kehoach → Xem)."""
    topic = ctx.catalog.topics.get(form["topic"])
    old = ctx.t("plans.topic_old_mark", years=topic_years(ctx, form["topic"]))
    quizzes = "; ".join(quiz_text(ctx, q) for q in form["quizzes"]) or ctx.t("plans.no_quizzes")
    deadline = day_of(form["submit_before"])
    reports = "; ".join(
        ctx.t("plans.report_short", name=r["name"], day=fmt_date(date.fromisoformat(r["due"])))
        for r in form["reports"]
    )
    values = {
        TOPIC: ctx.t(
            "plans.sum_topic",
            title=topic.short_title if topic else form["topic"],
            old=old if old_topic(ctx, form) else "",
        ),
        QUIZZES: quizzes,
        DEADLINE: ctx.t(
            "plans.sum_deadline",
            day=fmt_date(deadline),
            last=fmt_date(date.fromordinal(deadline.toordinal() - 1)) if deadline else "—",
        ),
        LATE: ctx.t("plans.late_yes" if form["late_allowed"] else "plans.late_no"),
        OPENS: fmt_date(day_of(form["opens"])) if form["opens"] else ctx.t("plans.no_assessment"),
        CLOSES: fmt_date(day_of(form["closes"])) if form["closes"] else "—",
        REPORTS: reports or ctx.t("plans.reports_empty"),
        STARTS: fmt_date(day_of(form["starts_on"])),
    }
    return [
        ctx.t(
            "plans.sum_line",
            n=n,
            title=ctx.t(f"plans.fields.{field}"),
            value=Raw(values[field]),
        )
        for n, field in enumerate(FIELDS, 1)
    ]


def summary(ctx: Context) -> None:
    form = form_of(ctx)
    ctx.goto(SUMMARY)
    head = ctx.t(
        "plans.sum_head", year=form["year"], unit=ctx.data.get("unit_name", ""), id=form["id"]
    )
    lines = [head, *summary_lines(ctx, form), "", ctx.t("plans.sum_ask")]
    save = "plans.save_new" if ctx.data.get("mode") == "new" else "plans.save_edit"
    options = [Option(ctx.t(save), "save")]
    options += [Option(ctx.t("plans.edit_field", n=n), f"f:{f}") for n, f in enumerate(FIELDS, 1)]
    options.append(Option(ctx.t("plans.drop_form"), "drop", exact=True))
    ctx.ask("\n".join(lines), options)


@router.step(SUMMARY)
def on_summary(ctx: Context) -> None:
    choice = ctx.choice or ""
    if choice == "save":
        _save(ctx)
    elif choice.startswith("f:") and choice[2:] in FIELDS:
        field = choice[2:]
        if field == CLOSES and form_of(ctx)["opens"] is None:
            field = OPENS  # no self-assessment: set its opening first
        ask(ctx, field)
    elif choice == "drop":
        ctx.finish()
        ctx.say("plans.dropped")
    else:
        ctx.say("plans.need_choice")
        summary(ctx)


def _save(ctx: Context) -> None:
    form = form_of(ctx)
    if form["root"] not in {r.code for r in plan_roots(ctx.session, ctx.actor)}:
        ctx.finish()
        ctx.say("plans.not_yours")
        return
    try:
        campaign = plandrafts.from_form(form)
        plandrafts.check(campaign, ctx.catalog, today=today(ctx))
        if ctx.data.get("mode") == "new":
            plans.create(ctx.session, campaign, by=ctx.actor.ref, now=ctx.now)
        else:
            plans.update(
                ctx.session,
                campaign,
                by=ctx.actor.ref,
                now=ctx.now,
                tz=ctx.settings.tz,
                version=int(ctx.data.get("version") or 0),
            )
    except PlanError as exc:
        ctx.say(exc.key, **exc.values)
        if exc.key in ("plans.errors.year_taken", "plans.errors.started", "plans.errors.ended"):
            ctx.finish()
            return
        summary(ctx)
        return
    unit_name = str(ctx.data.get("unit_name", ""))
    ctx.finish()
    starts = campaign.opens_on
    key = "plans.saved_now" if starts <= today(ctx) else "plans.saved_later"
    ctx.say(key, year=campaign.year, id=campaign.id, unit=unit_name, day=fmt_date(starts))
