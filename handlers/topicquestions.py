"""/chuyende, a topic's quiz questions in Excel: the template to fill, the bank as it stands to
edit, and a filled sheet sent back. Every row is checked; the problems come in one message,
"Dòng 14, cột Đáp án đúng: …", and nothing is imported unless every row passes, or the
officer chooses to import the valid rows (the file is kept an hour for that). The same file
sent again updates the questions by id, never duplicates them."""

from __future__ import annotations

from datetime import timedelta

from bot.flow import Context
from bot.messages import Option
from bot.services import files, library, librarywrite, xlsxquestions
from bot.services.librarywrite import LibraryError
from bot.services.permissions import plan_roots
from bot.services.xlsxquestions import SheetError
from bot.topics import Question
from handlers.topicbase import router, show_outline, topic_of_state

SHEET = "sheet"
PROBLEMS = "sheet_problems"
SHOWN_PROBLEMS = 40
KEPT = timedelta(hours=1)


def ask_sheet(ctx: Context) -> None:
    topic = topic_of_state(ctx)
    if topic is None:
        show_outline(ctx, str(ctx.data.get("topic") or ""))
        return
    ctx.goto(SHEET)
    ctx.ask_file(ctx.t("library.ask_sheet", title=topic.short_title))
    ctx.ask(ctx.t("library.or_back"), [Option(ctx.t("library.back"), "back")])


@router.step(SHEET)
def on_sheet(ctx: Context) -> None:
    upload = ctx.upload
    topic_id = str(ctx.data.get("topic") or "")
    if ctx.choice == "back":
        show_outline(ctx, topic_id)
        return
    if upload is None:
        ctx.ask_file(ctx.t("library.waiting_sheet"))
        ctx.ask(ctx.t("library.or_back"), [Option(ctx.t("library.back"), "back")])
        return
    if upload.too_big or upload.data is None:
        size = f"{upload.size / 1024 / 1024:.1f}".replace(".", ",")
        ctx.say("library.too_big", name=upload.filename, size=size)
        ask_sheet(ctx)
        return
    _check(ctx, upload.data, upload.filename)


def _province(ctx: Context) -> str | None:
    roots = plan_roots(ctx.session, ctx.actor)
    return library.province_of(roots[0].name) if len(roots) == 1 else None


def _check(ctx: Context, data: bytes, name: str) -> None:
    topic_id = str(ctx.data.get("topic") or "")
    try:
        result = library.check_sheet(
            ctx.session,
            ctx.content.catalog,
            ctx.content.root,
            topic_id,
            data,
            now=ctx.now,
            province=_province(ctx),
        )
    except SheetError as exc:
        ctx.say(f"library.sheet_errors.{exc.reason}", name=name)
        ask_sheet(ctx)
        return
    if not result.questions and not result.problems:
        ctx.say("library.no_rows", name=name)
        ask_sheet(ctx)
        return
    if not result.problems:
        _import(ctx, result.good(), name, result.warnings)
        return
    kept = files.store(ctx.session, data=data, filename=name, now=ctx.now, ttl=KEPT)
    ctx.data.update(sheet=kept.id, sheet_name=name)
    lines = [
        ctx.t(
            "library.problems_head",
            name=name,
            count=len(result.problems),
            rows=len(result.bad_rows),
        )
    ]
    lines += [
        ctx.t("library.problem_line", problem=str(p)) for p in result.problems[:SHOWN_PROBLEMS]
    ]
    if len(result.problems) > SHOWN_PROBLEMS:
        lines.append(ctx.t("library.problems_more", count=len(result.problems) - SHOWN_PROBLEMS))
    lines += _warnings(ctx, result.warnings)
    ctx.say_html("\n".join(lines))
    ctx.goto(PROBLEMS)
    ctx.ask_file(ctx.t("library.send_fixed"))
    options = []
    good = len(result.good())
    if good:
        options.append(Option(ctx.t("library.import_valid", count=good), "valid"))
    options.append(Option(ctx.t("library.back"), "back"))
    ctx.ask(ctx.t("library.or_valid") if good else ctx.t("library.or_back"), options)


def _warnings(ctx: Context, warnings: list[str]) -> list[str]:
    if not warnings:
        return []
    return [ctx.t("library.warnings_head")] + [
        ctx.t("library.warning_line", warning=w) for w in warnings[:10]
    ]


@router.step(PROBLEMS)
def on_problems(ctx: Context) -> None:
    topic_id = str(ctx.data.get("topic") or "")
    upload = ctx.upload
    if upload is not None:  # the corrected file, sent straight away
        on_sheet(ctx)
        return
    if ctx.choice == "back":
        show_outline(ctx, topic_id)
    elif ctx.choice == "valid":
        kept = files.find(ctx.session, str(ctx.data.get("sheet") or ""), now=ctx.now)
        if kept is None:
            ctx.say("library.sheet_gone")
            ask_sheet(ctx)
            return
        try:
            result = library.check_sheet(
                ctx.session,
                ctx.content.catalog,
                ctx.content.root,
                topic_id,
                kept.data,
                now=ctx.now,
                province=_province(ctx),
            )
        except SheetError:
            ctx.say("library.sheet_gone")
            ask_sheet(ctx)
            return
        _import(ctx, result.good(), kept.filename, result.warnings)
    else:
        ctx.say("library.need_choice")


def _import(ctx: Context, questions: list[Question], name: str, warnings: list[str]) -> None:
    topic_id = str(ctx.data.get("topic") or "")
    topic = topic_of_state(ctx)
    try:
        done = librarywrite.import_questions(
            ctx.session,
            ctx.content.catalog,
            topic_id,
            questions,
            by=ctx.actor.ref,
            now=ctx.now,
            file_name=name,
        )
    except LibraryError as exc:
        ctx.say(exc.key, **exc.values)
        show_outline(ctx, topic_id)
        return
    title = topic.short_title if topic is not None else topic_id
    lines = [
        ctx.t(
            "library.imported",
            name=name,
            added=done.added,
            updated=done.updated,
            unchanged=done.unchanged,
            title=title,
            total=done.total,
        )
    ]
    published = topic_id in ctx.catalog.topics
    lines.append(
        ctx.t("library.imported_hint", short=title)
        if published
        else ctx.t("library.imported_draft_hint")
    )
    lines += _warnings(ctx, warnings)
    ctx.say_html("\n".join(lines))
    show_outline(ctx, topic_id)


def send_template(ctx: Context, topic_id: str | None) -> None:
    """The empty template, with one example row from the topic's bank (or a shipped one)."""
    bank = library.bank(ctx.session, ctx.content.catalog, topic_id, now=ctx.now) if topic_id else []
    example = bank[0] if bank else next(iter(ctx.content.catalog.questions.values()), None)
    data = xlsxquestions.template(example)
    ctx.document(data, "mau-cau-hoi-thi.xlsx", ctx.t("library.template_caption"))


def send_export(ctx: Context) -> None:
    topic_id = str(ctx.data.get("topic") or "")
    topic = topic_of_state(ctx)
    title = topic.short_title if topic is not None else topic_id
    bank = library.bank(ctx.session, ctx.content.catalog, topic_id, now=ctx.now)
    if not bank:
        ctx.say("library.no_questions", title=title)
        return
    caption = ctx.t("library.export_caption", count=len(bank), title=title)
    ctx.document(xlsxquestions.export(bank), f"cau-hoi-{topic_id}.xlsx", caption)
