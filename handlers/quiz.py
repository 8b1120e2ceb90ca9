"""/thi: a quiz drawn at random, one question at a time, scored, with a certificate on passing."""

from __future__ import annotations

from bot.campaign import Campaign, QuizRule
from bot.flow import Context, Router
from bot.messages import Option
from bot.models import Member, QuizAttempt, Unit
from bot.services import plans, quizzes
from bot.services.members import initials
from bot.texts import Raw
from bot.timefmt import fmt_date, fmt_duration
from bot.topics import Question
from handlers.planhints import no_plan

router = Router("quiz", preload=("attempt", QuizAttempt))  # the attempt answered

MENU = "menu"
RULES = "rules"
ANSWER = "answer"
BOARD = "board"

LETTERS = "ABCDEF"


def _member(ctx: Context) -> Member:
    member = ctx.actor.member
    assert member is not None and member.id is not None
    return member


def _campaign(ctx: Context) -> Campaign | None:
    return plans.for_member(ctx.session, _member(ctx), now=ctx.now, tz=ctx.settings.tz)


def _rule(campaign: Campaign, topic_id: str) -> QuizRule | None:
    return next((r for r in campaign.quizzes if r.topic == topic_id), None)


def _title(ctx: Context, topic_id: str) -> str:
    topic = ctx.catalog.topics.get(topic_id)
    return topic.short_title if topic else topic_id


@router.command("thi")
def begin(ctx: Context) -> None:
    """Resume a running quiz, or offer the campaign's quizzes and the leaderboard."""
    campaign = _campaign(ctx)
    if campaign is None:
        no_plan(ctx, "quiz.no_campaign")
        return
    if not campaign.quizzes:
        ctx.say("quiz.no_quizzes", year=campaign.year)
        return
    member = _member(ctx)
    assert member.id is not None
    attempt = quizzes.running(ctx.session, member_id=member.id, campaign_id=campaign.id)
    if attempt is not None:
        if quizzes.close_if_expired(ctx.session, attempt, ctx.now):
            _result(ctx, campaign, attempt)
            return
        ctx.say(
            "quiz.resume",
            title=_title(ctx, attempt.topic_id),
            n=attempt.current + 1,
            total=attempt.total,
        )
        _ask_question(ctx, attempt)
        return
    _menu(ctx, campaign)


def _menu(ctx: Context, campaign: Campaign) -> None:
    options = []
    for rule in campaign.quizzes:
        limit = (
            ctx.t("quiz.limit", minutes=rule.time_limit_minutes) if rule.time_limit_minutes else ""
        )
        label = ctx.t(
            "quiz.quiz_label",
            title=_title(ctx, rule.topic),
            questions=rule.questions,
            limit=Raw(limit),
        )
        options.append(Option(label, f"q:{rule.topic}"))
    options.append(Option(ctx.t("quiz.board_label"), "board"))
    ctx.begin(router.name, MENU, {"campaign": campaign.id})
    ctx.ask(ctx.t("quiz.choose"), options)


@router.step(MENU)
def on_menu(ctx: Context) -> None:
    """A quiz's rules, or the leaderboard."""
    campaign = _campaign(ctx)
    if campaign is None or campaign.id != ctx.data.get("campaign"):
        ctx.finish()
        no_plan(ctx, "quiz.no_campaign")
        return
    choice = ctx.choice or ""
    if choice == "board":
        _board(ctx, campaign, campaign.quizzes[0].topic, whole=False)
        return
    rule = _rule(campaign, choice.removeprefix("q:"))
    if rule is None:
        ctx.say("admin.need_choice")
        _menu(ctx, campaign)
        return
    _rules(ctx, campaign, rule)


def _used(ctx: Context, campaign: Campaign, rule: QuizRule) -> int:
    member = _member(ctx)
    assert member.id is not None
    return quizzes.attempts_used(
        ctx.session,
        member_id=member.id,
        campaign_id=campaign.id,
        rule=rule,
        now=ctx.now,
        tz=ctx.settings.tz,
    )


def _rules(ctx: Context, campaign: Campaign, rule: QuizRule) -> None:
    used = _used(ctx, campaign, rule)
    period = ctx.t(f"quiz.periods.{rule.period}")
    if rule.attempts is not None and used >= rule.attempts:
        ctx.finish()
        ctx.say(
            "quiz.out_of_attempts",
            attempts=rule.attempts,
            period=period,
            title=_title(ctx, rule.topic),
        )
        return
    time_rule = (
        ctx.t("quiz.time_rule", minutes=rule.time_limit_minutes)
        if rule.time_limit_minutes
        else ctx.t("quiz.no_time_rule")
    )
    attempts_rule = ""
    if rule.attempts is not None:
        key = "quiz.attempts_rule" if used else "quiz.attempts_rule_none"
        attempts_rule = ctx.t(key, attempts=rule.attempts, period=period, used=used)
    ctx.begin(router.name, RULES, {"campaign": campaign.id, "topic": rule.topic})
    ctx.ask(
        ctx.t(
            "quiz.rules",
            title=_title(ctx, rule.topic),
            questions=rule.questions,
            time_rule=Raw(time_rule),
            pass_percent=rule.pass_percent,
            attempts_rule=Raw(attempts_rule),
        ),
        [Option(ctx.t("quiz.start"), "start"), Option(ctx.t("quiz.back"), "back")],
        columns=2,
    )


@router.step(RULES)
def on_rules(ctx: Context) -> None:
    """Start: draw the questions and show the first."""
    campaign = _campaign(ctx)
    rule = _rule(campaign, ctx.data.get("topic", "")) if campaign else None
    if campaign is None or rule is None or ctx.choice == "back":
        begin(ctx)
        return
    if ctx.choice != "start":
        ctx.say("admin.need_choice")
        _rules(ctx, campaign, rule)
        return
    if rule.attempts is not None and _used(ctx, campaign, rule) >= rule.attempts:
        _rules(ctx, campaign, rule)  # says the attempts are used up
        return
    if not ctx.catalog.banks.get(rule.topic):  # the bank left content/ since
        ctx.finish()
        ctx.say("quiz.no_quizzes", year=campaign.year)
        return
    attempt = quizzes.start(
        ctx.session,
        member_id=_member(ctx).id,  # type: ignore[arg-type]
        campaign=campaign,
        rule=rule,
        bank=ctx.catalog.banks[rule.topic],
        rng=ctx.rng,
        now=ctx.now,
    )
    _ask_question(ctx, attempt)


def _ask_question(
    ctx: Context,
    attempt: QuizAttempt,
    selected: list[int] | None = None,
    *,
    before: str = "",
    edit: bool = False,
) -> None:
    """The current question with its letters. `before`: the feedback on the answer just given,
    above it; `edit`: in place of the question answered (the quiz goes on in one message)."""
    shown = quizzes.shown(attempt, ctx.catalog)
    lines = "\n".join(
        ctx.t("quiz.option_line", letter=LETTERS[i], text=text)
        for i, text in enumerate(shown.options)
    )
    clock = ""
    if attempt.deadline_at is not None:
        seconds = int((attempt.deadline_at - ctx.now).total_seconds())
        left = max(0, -(-seconds // 60))  # whole minutes, rounded up
        clock = ctx.t("quiz.clock", minutes=left)
    text = ctx.t(
        "quiz.question",
        n=shown.index + 1,
        total=shown.total,
        clock=Raw(clock),
        text=shown.question.text,
        options=Raw(lines),
    )
    multiple = shown.question.multiple
    chosen = selected or []
    if multiple:
        text += "\n" + ctx.t("quiz.multi_hint")
        options = [
            Option(
                ctx.t("quiz.selected", letter=LETTERS[i]) if i in chosen else LETTERS[i], f"t:{i}"
            )
            for i in range(len(shown.options))
        ]
        options.append(Option(ctx.t("quiz.submit"), "submit"))
    else:
        options = [Option(LETTERS[i], f"a:{i}") for i in range(len(shown.options))]
    ctx.begin(router.name, ANSWER, {"attempt": attempt.id, "index": shown.index, "sel": chosen})
    columns = min(len(shown.options), 3) if multiple else len(options)
    ctx.ask(before + text, options, columns=columns, edit=edit)


@router.step(ANSWER)
def on_answer(ctx: Context) -> None:
    """Score the answer, explain it, then the next question or the result."""
    attempt = ctx.session.get(QuizAttempt, ctx.data.get("attempt"))
    campaign = _campaign(ctx)
    if (
        attempt is None
        or campaign is None
        or attempt.finished_at is not None
        or attempt.campaign_id != campaign.id  # the year turned: the new plan's quizzes
    ):
        begin(ctx)
        return
    if quizzes.close_if_expired(ctx.session, attempt, ctx.now):
        ctx.say("quiz.timed_out")
        _result(ctx, campaign, attempt)
        return
    choice = ctx.choice or ""
    selected: list[int] = list(ctx.data.get("sel", []))
    typed = _typed_letters(ctx, attempt)
    if choice.startswith("t:"):
        pos = int(choice[2:])
        selected = [p for p in selected if p != pos] if pos in selected else [*selected, pos]
        _ask_question(ctx, attempt, sorted(selected), edit=True)
        return
    if choice == "submit" and not selected:
        ctx.say("quiz.pick_one_first")
        _ask_question(ctx, attempt, selected)
        return
    if choice.startswith("a:"):
        positions = [int(choice[2:])]
    elif choice == "submit":
        positions = selected
    elif typed:
        positions = typed
    else:
        ctx.say("quiz.typed")
        _ask_question(ctx, attempt, selected)
        return
    outcome = quizzes.answer(
        ctx.session,
        attempt,
        index=int(ctx.data["index"]),
        positions=positions,
        catalog=ctx.catalog,
        now=ctx.now,
    )
    feedback = (
        ctx.t("quiz.right")
        if outcome.correct
        else ctx.t(
            "quiz.wrong",
            answer=", ".join(
                f"{LETTERS[p]}. {t}"
                for p, t in zip(outcome.right_positions, outcome.right, strict=True)
            ),
        )
    )
    chose = ctx.t("quiz.you_chose", letters=", ".join(LETTERS[p] for p in sorted(positions)))
    said = (
        chose
        + "\n"
        + feedback
        + "\n"
        + ctx.t("quiz.explanation", text=outcome.question.explanation)
        + citation(ctx, attempt.topic_id, outcome.question)
    )
    if outcome.finished:
        ctx.say_html(said)
        _result(ctx, campaign, attempt)
    else:  # the feedback and the next question in place of the question just answered
        _ask_question(ctx, attempt, before=said + "\n\n", edit=True)


def citation(ctx: Context, topic_id: str, question: Question) -> str:
    """Where the answer is written: the topic's document and the question's section."""
    topic = ctx.catalog.topics.get(topic_id)
    if topic is None:
        return ""
    section = question.source.section.strip(" —-")
    if section:
        return "\n" + ctx.t("quiz.source", document=topic.document, section=section)
    return "\n" + ctx.t("quiz.source_document", document=topic.document)


def _typed_letters(ctx: Context, attempt: QuizAttempt) -> list[int]:
    """Letters typed for several answers at once ("a c", "A, C") or numbers ("1 3"): their
    positions; [] when the text is not that."""
    shown = quizzes.shown(attempt, ctx.catalog)
    count = len(shown.options)
    if ctx.choices:  # numbers typed: the engine read them as options (t:0, t:2 or a:1)
        picked = [int(c.partition(":")[2]) for c in ctx.choices if c[:2] in ("t:", "a:")]
        return sorted(set(picked)) if shown.question.multiple else []
    tokens = [t for t in ctx.text.upper().replace(",", " ").split() if t]
    if tokens and all(len(t) == 1 and t in LETTERS[:count] for t in tokens):
        picked = sorted({LETTERS.index(t) for t in tokens})
        return picked if shown.question.multiple or len(picked) == 1 else []
    return []


def _result(ctx: Context, campaign: Campaign, attempt: QuizAttempt) -> None:
    ctx.finish()
    rule = _rule(campaign, attempt.topic_id)
    pass_percent = rule.pass_percent if rule else 80
    attempt.passed = bool(rule) and quizzes.grade(attempt, rule)  # type: ignore[arg-type]
    ctx.session.add(attempt)
    ctx.session.flush()
    member = _member(ctx)
    assert member.id is not None
    best = (
        quizzes.best(
            ctx.session, member_id=member.id, campaign_id=campaign.id, topic_id=attempt.topic_id
        )
        or attempt
    )
    percent = round(100 * attempt.score / attempt.total) if attempt.total else 0
    verdict = (
        ctx.t("quiz.passed") if attempt.passed else ctx.t("quiz.failed", pass_percent=pass_percent)
    )
    lines = [
        ctx.t(
            "quiz.result",
            score=attempt.score,
            total=attempt.total,
            percent=percent,
            elapsed=fmt_duration(attempt.elapsed_seconds or 0),
            verdict=Raw(verdict),
            best_score=best.score,
            best_total=best.total,
            best_elapsed=fmt_duration(best.elapsed_seconds or 0),
        )
    ]
    missed = []
    for i, qid in enumerate(attempt.question_ids):
        question = ctx.catalog.questions.get(qid)
        if question is None or attempt.answers[i] == sorted(question.correct):
            continue
        answer = "; ".join(question.options[c] for c in question.correct)
        missed.append(ctx.t("quiz.missed_line", n=i + 1, text=question.text, answer=answer))
    if missed:
        lines += ["", ctx.t("quiz.missed_header"), *missed]
    ctx.say_html("\n".join(lines))
    if attempt.passed:
        unit = ctx.session.get(Unit, member.unit_id)
        topic = ctx.catalog.topics.get(attempt.topic_id)
        from bot.services.certificates import render_certificate  # matplotlib's fonts, Pillow

        png = render_certificate(
            full_name=member.full_name or "",
            unit=unit.name if unit else "",
            topic=topic.title if topic else attempt.topic_id,
            score=attempt.score,
            total=attempt.total,
            elapsed=fmt_duration(attempt.elapsed_seconds or 0),
            issued_on=fmt_date(attempt.finished_at, ctx.settings.tz),
            reference=f"{campaign.id.upper()}-{attempt.id:06d}",
        )
        ctx.photo(
            png,
            f"chung-nhan-{attempt.id}.png",
            ctx.t(
                "quiz.certificate_caption",
                title=_title(ctx, attempt.topic_id),
                name=member.full_name or "",
            ),
        )


def _board(ctx: Context, campaign: Campaign, topic_id: str, *, whole: bool) -> None:
    member = _member(ctx)
    assert member.id is not None
    unit = ctx.session.get(Unit, member.unit_id)
    path = None if whole or unit is None else unit.path
    rows = quizzes.leaderboard(
        ctx.session, campaign_id=campaign.id, topic_id=topic_id, unit_path=path
    )
    scope = (
        ctx.t("quiz.board_scope_all")
        if whole
        else ctx.t("quiz.board_scope_unit", unit=unit.name if unit else "")
    )
    lines = [ctx.t("quiz.board_header", title=_title(ctx, topic_id), scope=Raw(scope))]
    for row in rows:
        name = initials(row.name) if row.initials_only else row.name
        lines.append(
            ctx.t(
                "quiz.board_line",
                rank=row.rank,
                name=name,
                unit=row.unit,
                score=row.score,
                total=row.total,
                elapsed=fmt_duration(row.elapsed_seconds),
            )
        )
    if not rows:
        lines.append(ctx.t("quiz.board_empty"))
    rank = quizzes.rank_of(
        ctx.session, member_id=member.id, campaign_id=campaign.id, topic_id=topic_id, unit_path=path
    )
    lines += ["", ctx.t("quiz.board_me", rank=rank) if rank else ctx.t("quiz.board_me_none")]
    options = [
        Option(
            ctx.t("quiz.board_unit") if whole else ctx.t("quiz.board_all"),
            f"{'unit' if whole else 'all'}:{topic_id}",
        )
    ]
    options += [
        Option(f"🏆 {_title(ctx, r.topic)}", f"{'all' if whole else 'unit'}:{r.topic}")
        for r in campaign.quizzes
        if r.topic != topic_id
    ]
    options.append(Option(ctx.t("quiz.back"), "back"))
    ctx.begin(router.name, BOARD, {"campaign": campaign.id})
    ctx.ask("\n".join(lines), options)


@router.step(BOARD)
def on_board(ctx: Context) -> None:
    """Switch between my unit and the whole campaign, or another quiz."""
    campaign = _campaign(ctx)
    if ctx.choice == "back" and campaign is not None:
        _menu(ctx, campaign)
        return
    scope, _, topic_id = (ctx.choice or "").partition(":")
    if campaign is None or _rule(campaign, topic_id) is None:
        ctx.say("admin.need_choice")
        return
    _board(ctx, campaign, topic_id, whole=scope == "all")
