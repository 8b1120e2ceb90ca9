"""/chuyende, what its steps share: the router, the list of topics, and a topic's outline with
what can be done to it. The steps are in handlers/topics.py (the document, the outline) and
handlers/topicquestions.py (questions from and to Excel)."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models_library import LibraryTopic
from bot.services import library
from bot.services.permissions import Actor
from bot.texts import Raw
from bot.topics import Topic

router = Router("topics")

MENU = "menu"
TOPIC = "topic"
SHOWN = 12  # topics listed with a choice; older ones are counted
OUTLINE_LINES = 30


def edits_library(actor: Actor) -> bool:
    """Who makes topics and question banks: admins and officers of a whole tree, the people
    who make the yearly plans."""
    return actor.makes_plans


def menu(ctx: Context) -> None:
    entries = library.entries(ctx.session, ctx.content.catalog, now=ctx.now)
    options = [Option(ctx.t("library.add"), "add"), Option(ctx.t("library.template"), "template")]
    for entry in entries[:SHOWN]:
        mark = ctx.t(f"library.mark_{entry.status}")
        label = ctx.t(
            "library.entry",
            mark=mark,
            title=entry.short_title,
            sections=entry.sections,
            questions=entry.questions,
        )
        options.append(Option(label, f"t:{entry.id}"))
    text = ctx.t("library.menu")
    if len(entries) > SHOWN:
        text += "\n" + ctx.t("library.menu_more", count=len(entries) - SHOWN)
    ctx.begin(router.name, MENU)
    ctx.ask(text, options)


def show_outline(ctx: Context, topic_id: str) -> None:
    """A topic's outline and what can be done to it: all of it for a draft, everything but
    publishing for a published topic of the library, questions only for a shipped one."""
    row = ctx.session.get(LibraryTopic, topic_id)
    shipped = ctx.content.catalog.topics.get(topic_id)
    if row is None and shipped is None:
        ctx.say("library.gone")
        menu(ctx)
        return
    questions = len(library.bank(ctx.session, ctx.content.catalog, topic_id, now=ctx.now))
    if row is not None:
        sections = [(s["title"], len(s["body"])) for s in row.sections]
        text = ctx.t(
            "library.outline",
            mark=ctx.t(f"library.status_{row.status}"),
            title=row.title,
            short=row.short_title,
            years=", ".join(str(y) for y in row.years),
            file=row.file_name,
            questions=questions,
            count=len(sections),
            lines=Raw(_lines(ctx, sections)),
        )
    else:
        assert shipped is not None
        sections = [(s.title, len(s.body)) for s in shipped.sections]
        text = ctx.t(
            "library.outline_shipped",
            title=shipped.title,
            questions=questions,
            count=len(sections),
            lines=Raw(_lines(ctx, sections)),
        )
    options = [Option(ctx.t("library.view"), "view")]
    if row is not None:
        options += [
            Option(ctx.t("library.rename"), "rename"),
            Option(ctx.t("library.reshort"), "reshort"),
            Option(ctx.t("library.reyears"), "reyears"),
            Option(ctx.t("library.merge"), "merge"),
            Option(ctx.t("library.drop"), "drop"),
        ]
        if row.status == library.DRAFT:
            options.append(Option(ctx.t("library.publish"), "publish"))
    options.append(Option(ctx.t("library.questions"), "questions"))
    if questions:
        options.append(Option(ctx.t("library.export"), "export"))
    options.append(Option(ctx.t("library.template"), "template"))
    if row is not None and row.status == library.DRAFT:
        options.append(Option(ctx.t("library.discard"), "discard"))
    options.append(Option(ctx.t("library.to_list"), "list"))
    ctx.begin(
        router.name,
        TOPIC,
        {"topic": topic_id, "version": row.version if row is not None else 0},
    )
    ctx.ask(text, options)


def _lines(ctx: Context, sections: list[tuple[str, int]]) -> str:
    lines = [
        ctx.t("library.outline_line", n=n, title=title, length=length)
        for n, (title, length) in enumerate(sections[:OUTLINE_LINES], 1)
    ]
    if len(sections) > OUTLINE_LINES:
        lines.append(ctx.t("library.outline_more", count=len(sections) - OUTLINE_LINES))
    return "\n".join(lines)


def topic_of_state(ctx: Context) -> Topic | None:
    """The topic the flow is on (a draft included)."""
    topic_id = str(ctx.data.get("topic") or "")
    return library.topic_any(ctx.session, ctx.content.catalog, topic_id, now=ctx.now)


def row_of_state(ctx: Context) -> LibraryTopic | None:
    return ctx.session.get(LibraryTopic, str(ctx.data.get("topic") or ""))
