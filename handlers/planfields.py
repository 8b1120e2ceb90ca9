"""/kehoach, the fields of the form one by one: each is asked showing what it holds, checked when
answered (a day typed dd/mm/yyyy, in order with the others), and asked again with a clear message
when wrong. Registered on the router of handlers/planform.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.campaign import QuizRule
from bot.flow import Context
from bot.messages import Option, to_plain
from bot.services import plandrafts
from bot.services.plans import PlanError
from bot.timefmt import fmt_date
from handlers.planform import (
    ASKERS,
    CLOSES,
    DEADLINE,
    LATE,
    OPENS,
    QUIZZES,
    REPORT_DUE,
    REPORTS,
    STARTS,
    TOPIC,
    ask,
    day_of,
    field_title,
    form_of,
    keep_option,
    next_field,
    offer_days,
    old_topic,
    say_day_error,
    sorted_topics,
    today,
    topic_years,
    typed_day,
)
from handlers.planform import router as router


def _ask_topic(ctx: Context) -> None:
    form = form_of(ctx)
    options = []
    for topic in sorted_topics(ctx):
        mark = "✅ " if topic.id == form["topic"] else ""
        years = topic_years(ctx, topic.id)
        if years in topic.short_title:  # "Kết luận 01-KL/TW (2021–2026)": said once
            label = ctx.t("plans.topic_label_titled", mark=mark, title=topic.short_title)
        else:
            label = ctx.t("plans.topic_label", mark=mark, title=topic.short_title, years=years)
        options.append(Option(to_plain(label), f"t:{topic.id}"))
    current = ctx.catalog.topics.get(form["topic"])
    lines = [
        field_title(ctx, TOPIC),
        ctx.t("plans.topic_now", title=current.title if current else form["topic"]),
        ctx.t("plans.topic_ask", year=form["year"]),
    ]
    ctx.ask("\n".join(lines), options)


@router.step(TOPIC)
def on_topic(ctx: Context) -> None:
    topic_id = (ctx.choice or "").removeprefix("t:")
    if topic_id not in ctx.catalog.topics:
        ctx.say("plans.need_choice")
        _ask_topic(ctx)
        return
    form = form_of(ctx)
    form["topic"] = topic_id
    if old_topic(ctx, form):
        ctx.say("plans.topic_old", years=topic_years(ctx, topic_id), year=form["year"])
    next_field(ctx, TOPIC)


# --- 2. quizzes -----------------------------------------------------------------------------------


def _quiz_topics(ctx: Context) -> list[Any]:
    banks = ctx.catalog.banks
    return [t for t in sorted_topics(ctx) if banks.get(t.id)]


def _ask_quizzes(ctx: Context) -> None:
    chosen = {q["topic"] for q in form_of(ctx)["quizzes"]}
    options = []
    for topic in _quiz_topics(ctx):
        mark = "✅" if topic.id in chosen else "⬜"
        options.append(Option(f"{mark} {topic.short_title}", f"q:{topic.id}"))
    options.append(Option(ctx.t("plans.quizzes_done"), "done"))
    lines = [field_title(ctx, QUIZZES), ctx.t("plans.quizzes_ask")]
    ctx.ask("\n".join(lines), options)


def _toggle(ctx: Context, topic_id: str) -> None:
    form = form_of(ctx)
    bank = ctx.catalog.banks.get(topic_id) or []
    if not bank:
        return
    rules = [q for q in form["quizzes"] if q["topic"] != topic_id]
    if len(rules) == len(form["quizzes"]):  # not chosen yet: the plan's own rule, or 10 questions
        kept = dict(ctx.data.get("pool") or {}).get(topic_id)
        rule = kept or QuizRule(topic=topic_id, questions=min(10, len(bank))).model_dump()
        rules.append(rule)
    form["quizzes"] = rules


@router.step(QUIZZES)
def on_quizzes(ctx: Context) -> None:
    picks = ctx.choices if ctx.choices is not None else [ctx.choice or ""]
    if picks == ["done"]:
        next_field(ctx, QUIZZES)
        return
    known = {t.id for t in _quiz_topics(ctx)}
    toggled = [p[2:] for p in picks if p.startswith("q:") and p[2:] in known]
    if not toggled:
        ctx.say("plans.need_choice")
    for topic_id in toggled:
        _toggle(ctx, topic_id)
    _ask_quizzes(ctx)


# --- 3-6. the pledge's dates ----------------------------------------------------------------------


def _ask_deadline(ctx: Context) -> None:
    form = form_of(ctx)
    deadline = day_of(form["submit_before"])
    lines = [
        field_title(ctx, DEADLINE),
        ctx.t(
            "plans.deadline_ask",
            day=fmt_date(deadline),
            last=fmt_date(date.fromordinal(deadline.toordinal() - 1)) if deadline else "—",
        ),
    ]
    offer_days(ctx, "\n".join(lines), keep_option(ctx, form["submit_before"]))


@router.step(DEADLINE)
def on_deadline(ctx: Context) -> None:
    day = typed_day(ctx, DEADLINE)
    if day is not None and day <= today(ctx):
        say_day_error(ctx, "plans.deadline_past", day=fmt_date(day))
        day = None
    if day is None:
        _ask_deadline(ctx)
        return
    form = form_of(ctx)
    form["submit_before"] = day.isoformat()
    opens, starts = day_of(form["opens"]), day_of(form["starts_on"])
    if opens is not None and opens <= day and not ctx.data.get("walking"):
        ctx.say("plans.opens_now_before", opens=fmt_date(opens))
        ask(ctx, OPENS)
        return
    if starts is not None and starts >= day and not ctx.data.get("walking"):
        ctx.say("plans.starts_now_after", starts=fmt_date(starts))
        ask(ctx, STARTS)
        return
    next_field(ctx, DEADLINE)


def _ask_late(ctx: Context) -> None:
    allowed = form_of(ctx)["late_allowed"]
    lines = [field_title(ctx, LATE), ctx.t("plans.late_ask")]
    options = [
        Option(("✅ " if allowed else "") + ctx.t("plans.late_yes"), "yes"),
        Option(("" if allowed else "✅ ") + ctx.t("plans.late_no"), "no"),
    ]
    ctx.ask("\n".join(lines), options)


@router.step(LATE)
def on_late(ctx: Context) -> None:
    if ctx.choice not in ("yes", "no"):
        ctx.say("plans.need_choice")
        _ask_late(ctx)
        return
    form_of(ctx)["late_allowed"] = ctx.choice == "yes"
    next_field(ctx, LATE)


def _ask_opens(ctx: Context) -> None:
    form = form_of(ctx)
    lines = [
        field_title(ctx, OPENS),
        ctx.t("plans.opens_ask", deadline=fmt_date(day_of(form["submit_before"]))),
    ]
    options = [*keep_option(ctx, form["opens"]), Option(ctx.t("plans.no_assessment"), "none")]
    offer_days(ctx, "\n".join(lines), options)


@router.step(OPENS)
def on_opens(ctx: Context) -> None:
    form = form_of(ctx)
    if ctx.choice == "none":
        form["opens"] = form["closes"] = None
        next_field(ctx, OPENS)
        return
    day = typed_day(ctx, OPENS)
    deadline = day_of(form["submit_before"])
    if day is not None and deadline is not None and day <= deadline:
        say_day_error(
            ctx, "plans.opens_before_deadline", day=fmt_date(day), deadline=fmt_date(deadline)
        )
        day = None
    if day is None:
        _ask_opens(ctx)
        return
    form["opens"] = day.isoformat()
    closes = day_of(form["closes"])
    if closes is not None and closes < day and not ctx.data.get("walking"):
        ctx.say("plans.closes_now_before", closes=fmt_date(closes))
        ask(ctx, CLOSES)
        return
    next_field(ctx, OPENS)


def _ask_closes(ctx: Context) -> None:
    form = form_of(ctx)
    lines = [
        field_title(ctx, CLOSES),
        ctx.t("plans.closes_ask", opens=fmt_date(day_of(form["opens"]))),
    ]
    offer_days(ctx, "\n".join(lines), keep_option(ctx, form["closes"]))


@router.step(CLOSES)
def on_closes(ctx: Context) -> None:
    form = form_of(ctx)
    if form["opens"] is None:  # the self-assessment was removed meanwhile
        next_field(ctx, CLOSES)
        return
    day = typed_day(ctx, CLOSES)
    opens = day_of(form["opens"])
    if day is not None and opens is not None and day < opens:
        say_day_error(ctx, "plans.closes_before_opens", day=fmt_date(day), opens=fmt_date(opens))
        day = None
    if day is None:
        _ask_closes(ctx)
        return
    form["closes"] = day.isoformat()
    next_field(ctx, CLOSES)


# --- 7. report deadlines --------------------------------------------------------------------------


def _ask_reports(ctx: Context) -> None:
    reports = form_of(ctx)["reports"]
    lines = [field_title(ctx, REPORTS)]
    options = [Option(ctx.t("plans.reports_keep"), "done")]
    for n, report in enumerate(reports, 1):
        day = fmt_date(date.fromisoformat(report["due"]))
        lines.append(ctx.t("plans.report_line", n=n, name=report["name"], day=day))
        options.append(Option(ctx.t("plans.report_edit", n=n), f"r:{n - 1}"))
    lines.append(ctx.t("plans.reports_ask" if reports else "plans.reports_none"))
    ctx.ask("\n".join(lines), options)


@router.step(REPORTS)
def on_reports(ctx: Context) -> None:
    choice = ctx.choice or ""
    reports = form_of(ctx)["reports"]
    if choice == "done":
        form = form_of(ctx)
        due = [(r["name"], date.fromisoformat(r["due"])) for r in reports]
        starts = day_of(form["starts_on"]) or date(int(form["year"]), 1, 1)
        try:
            plandrafts.check_reports(due, starts=starts, today=today(ctx))
        except PlanError as exc:  # a deadline copied from last year, already passed
            ctx.say(exc.key, **exc.values)
            _ask_reports(ctx)
            return
        next_field(ctx, REPORTS)
        return
    index = int(choice[2:]) if choice.startswith("r:") and choice[2:].isdigit() else -1
    if not 0 <= index < len(reports):
        ctx.say("plans.need_choice")
        _ask_reports(ctx)
        return
    ctx.data["report"] = index
    _ask_report_due(ctx)


def _ask_report_due(ctx: Context) -> None:
    report = form_of(ctx)["reports"][int(ctx.data.get("report", 0))]
    ctx.goto(REPORT_DUE)
    day = fmt_date(date.fromisoformat(report["due"]))
    options = [
        Option(ctx.t("plans.keep_day", day=day), "keep"),
        Option(ctx.t("plans.report_drop"), "drop", exact=True),
    ]
    ctx.ask(
        ctx.t("plans.report_due_ask", name=report["name"], day=day), options, typed_numbers=False
    )


@router.step(REPORT_DUE)
def on_report_due(ctx: Context) -> None:
    form = form_of(ctx)
    index = int(ctx.data.get("report", -1))
    if not 0 <= index < len(form["reports"]):
        _ask_reports(ctx)
        return
    if ctx.choice == "drop":
        form["reports"].pop(index)
    elif ctx.choice != "keep":
        day = typed_day(ctx, REPORT_DUE)
        if day is not None and day <= today(ctx):
            say_day_error(ctx, "plans.report_past", day=fmt_date(day))
            day = None
        if day is None:
            _ask_report_due(ctx)
            return
        form["reports"][index]["due"] = day.isoformat()
    ctx.goto(REPORTS)
    _ask_reports(ctx)


# --- 8. start -------------------------------------------------------------------------------------


def _ask_starts(ctx: Context) -> None:
    form = form_of(ctx)
    lines = [field_title(ctx, STARTS), ctx.t("plans.starts_ask", year=form["year"])]
    offer_days(ctx, "\n".join(lines), keep_option(ctx, form["starts_on"]))


@router.step(STARTS)
def on_starts(ctx: Context) -> None:
    form = form_of(ctx)
    day = typed_day(ctx, STARTS)
    deadline = day_of(form["submit_before"])
    if day is not None and deadline is not None and day >= deadline:
        say_day_error(
            ctx, "plans.starts_after_deadline", day=fmt_date(day), deadline=fmt_date(deadline)
        )
        day = None
    if day is None:
        _ask_starts(ctx)
        return
    form["starts_on"] = day.isoformat()
    next_field(ctx, STARTS)


ASKERS.update(
    {
        TOPIC: _ask_topic,
        QUIZZES: _ask_quizzes,
        DEADLINE: _ask_deadline,
        LATE: _ask_late,
        OPENS: _ask_opens,
        CLOSES: _ask_closes,
        REPORTS: _ask_reports,
        STARTS: _ask_starts,
    }
)
