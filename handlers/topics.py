"""/chuyende: a topic from the official document. The admin sends the DOCX or PDF (on Zalo
through an upload link, in the terminal as a path); the bot proposes sections at the
document's headings and shows the outline; the admin renames the topic, sets its years, merges
or drops sections, looks at any of them, and publishes it, after which /hoc, /thi and /kehoach
have it at once. Questions come from Excel (handlers/topicquestions.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.flow import Context
from bot.messages import Option
from bot.models import RoleName
from bot.services import library, librarywrite
from bot.services.docimport import DocumentError
from bot.services.librarywrite import LibraryError
from bot.services.permissions import plan_roots
from bot.textutil import fold
from handlers import topicquestions
from handlers.topicbase import (
    MENU,
    TOPIC,
    edits_library,
    menu,
    router,
    row_of_state,
    show_outline,
    topic_of_state,
)

DOCUMENT = "document"
VIEW = "view"
TITLE = "title"
SHORT = "short"
YEARS = "years"
MERGE = "merge"
DROP = "drop"
CONFIRM = "confirm"
BACK_WORDS = {"0", "quay lai", "thoi", "huy"}


@router.command(
    "chuyende", role=RoleName.OFFICER, allowed=edits_library, refusal="library.forbidden"
)
def begin(ctx: Context) -> None:
    menu(ctx)


@router.step(MENU)
def on_menu(ctx: Context) -> None:
    choice = ctx.choice or ""
    if choice == "add":
        _ask_document(ctx)
    elif choice == "template":
        topicquestions.send_template(ctx, None)
        menu(ctx)
    elif choice.startswith("t:"):
        show_outline(ctx, choice[2:])
    else:
        ctx.say("library.need_choice")


# --- the document ---------------------------------------------------------------------------


def _ask_document(ctx: Context) -> None:
    ctx.begin(router.name, DOCUMENT)
    ctx.ask_file(ctx.t("library.ask_document"))
    ctx.ask(ctx.t("library.or_back"), [Option(ctx.t("library.back"), "back")])


@router.step(DOCUMENT)
def on_document(ctx: Context) -> None:
    upload = ctx.upload
    if ctx.choice == "back":
        menu(ctx)
        return
    if upload is None:
        ctx.ask_file(ctx.t("library.waiting_document"))
        ctx.ask(ctx.t("library.or_back"), [Option(ctx.t("library.back"), "back")])
        return
    name = upload.filename
    if upload.too_big or upload.data is None:
        size = f"{upload.size / 1024 / 1024:.1f}".replace(".", ",")
        ctx.say("library.too_big", name=name, size=size)
        _ask_document(ctx)
        return
    try:
        row = librarywrite.create(
            ctx.session,
            ctx.content.catalog,
            data=upload.data,
            filename=name,
            by=ctx.actor.ref,
            now=ctx.now,
            tz=ctx.settings.tz,
            issuer=_issuer(ctx),
        )
    except DocumentError as exc:
        ctx.say(f"library.doc_errors.{exc.reason}", name=name, **exc.values)
        _ask_document(ctx)
        return
    except LibraryError as exc:
        ctx.say(exc.key, **exc.values)
        _ask_document(ctx)
        return
    chars = f"{len(row.source_text):,}".replace(",", ".")
    ctx.say("library.made", name=name, chars=chars, count=len(row.sections))
    show_outline(ctx, row.id)


def _issuer(ctx: Context) -> str:
    """The name of the admin's tree, when the document does not say who issued it."""
    roots = plan_roots(ctx.session, ctx.actor)
    return roots[0].name if len(roots) == 1 else ""


# --- the outline ----------------------------------------------------------------------------


@router.step(TOPIC)
def on_topic(ctx: Context) -> None:
    choice = ctx.choice or ""
    topic_id = str(ctx.data.get("topic") or "")
    row = row_of_state(ctx)
    asks = {
        "view": (VIEW, "library.ask_view"),
        "rename": (TITLE, "library.ask_title"),
        "reshort": (SHORT, "library.ask_short"),
        "reyears": (YEARS, "library.ask_years"),
        "merge": (MERGE, "library.ask_merge"),
        "drop": (DROP, "library.ask_drop"),
    }
    if choice != "list" and row is None and topic_id not in ctx.content.catalog.topics:
        ctx.say("library.gone")  # a draft another admin deleted meanwhile
        menu(ctx)
    elif choice == "list":
        menu(ctx)
    elif choice in asks and (row is not None or choice == "view"):
        step, key = asks[choice]
        topic = topic_of_state(ctx)
        ctx.goto(step)
        ctx.say(key, last=len(topic.sections) if topic else 1)
    elif choice == "publish" and row is not None:
        ctx.goto(CONFIRM)
        ctx.data["action"] = "publish"
        ctx.ask(
            ctx.t("library.confirm_publish", title=row.title),
            [
                Option(ctx.t("library.confirm_publish_yes"), "yes", exact=True),
                Option(ctx.t("library.keep"), "no"),
            ],
        )
    elif choice == "discard" and row is not None:
        ctx.goto(CONFIRM)
        ctx.data["action"] = "discard"
        count = len(library.bank(ctx.session, ctx.content.catalog, topic_id, now=ctx.now))
        ctx.ask(
            ctx.t("library.confirm_discard", title=row.title, questions=count),
            [
                Option(ctx.t("library.confirm_discard_yes"), "yes", exact=True),
                Option(ctx.t("library.keep"), "no"),
            ],
        )
    elif choice == "questions":
        topicquestions.ask_sheet(ctx)
    elif choice == "export":
        topicquestions.send_export(ctx)
        show_outline(ctx, topic_id)
    elif choice == "template":
        topicquestions.send_template(ctx, topic_id)
        show_outline(ctx, topic_id)
    else:
        ctx.say("library.need_choice")


def _back(ctx: Context) -> bool:
    """0, "quay lại", "thôi": back to the outline without changing anything."""
    if fold(ctx.text).strip(" .!") in BACK_WORDS:
        show_outline(ctx, str(ctx.data.get("topic") or ""))
        return True
    return False


def _numbers(ctx: Context, last: int) -> list[int] | None:
    """ "3 4", "3, 5", "3-5" as section numbers; None when it reads as nothing else."""
    text = ctx.text.replace("–", "-")
    if not re.fullmatch(r"[\d\s,;\-]+", text or "x"):
        return None
    out: list[int] = []
    for part in re.split(r"[\s,;]+", text.strip()):
        if not part:
            continue
        low, sep, high = part.partition("-")
        if not low.isdigit() or (sep and not high.isdigit()):
            return None
        first, end = int(low), int(high) if sep else int(low)
        if end < first or end - first > 200:
            return None
        out += range(first, end + 1)
    if not out or min(out) < 1 or max(out) > last:
        return None
    return out


def _change(ctx: Context, make: Callable[[str, int], object], *, stay: bool = True) -> None:
    """Make one change to the outline (given the topic and the version on screen); a refusal
    is said and the step asks again (`stay`), or the outline is shown again: after a
    confirmation, or when someone changed the topic meanwhile."""
    topic_id = str(ctx.data.get("topic") or "")
    try:
        make(topic_id, int(ctx.data.get("version") or 0))
    except LibraryError as exc:
        ctx.say(exc.key, **exc.values)
        if not stay or exc.key.endswith(("changed", "unknown")):
            show_outline(ctx, topic_id)
        return
    ctx.say("library.saved")
    show_outline(ctx, topic_id)


def _retitle(ctx: Context, **change: object) -> None:
    _change(
        ctx,
        lambda topic_id, version: librarywrite.retitle(
            ctx.session,
            topic_id,
            by=ctx.actor.ref,
            now=ctx.now,
            version=version,
            **change,  # type: ignore[arg-type]
        ),
    )


@router.step(VIEW)
def on_view(ctx: Context) -> None:
    if _back(ctx):
        return
    topic = topic_of_state(ctx)
    if topic is None:
        menu(ctx)
        return
    last = len(topic.sections)
    picked = _numbers(ctx, last)
    if not picked or len(picked) != 1:
        ctx.say("library.bad_numbers", text=ctx.text[:40], last=last)
        return
    n = picked[0]
    section = topic.sections[n - 1]
    ctx.say("library.section", n=n, total=last, title=section.title, body=section.body)
    ctx.say("library.ask_view", last=last)


@router.step(TITLE)
def on_title(ctx: Context) -> None:
    if not _back(ctx):
        _retitle(ctx, title=ctx.text)


@router.step(SHORT)
def on_short(ctx: Context) -> None:
    if not _back(ctx):
        _retitle(ctx, short_title=ctx.text)


@router.step(YEARS)
def on_years(ctx: Context) -> None:
    if _back(ctx):
        return
    local = ctx.now.astimezone(ctx.settings.tz).year
    years = _years(ctx.text, local)
    if years is None:
        ctx.say("library.bad_years", text=ctx.text[:40], low=local - 1, high=local + 5,
                example=local + 1)  # fmt: skip
        return
    _retitle(ctx, years=years)


def _years(text: str, this_year: int) -> list[int] | None:
    found = [int(y) for y in re.findall(r"\d+", text)]
    if not found or re.search(r"[^\d\s,;/.\-và]", text.replace("năm", "")):
        return None
    if any(not this_year - 1 <= y <= this_year + 5 for y in found):
        return None
    return sorted(set(found))


@router.step(MERGE)
def on_merge(ctx: Context) -> None:
    if _back(ctx):
        return
    row = row_of_state(ctx)
    last = len(row.sections) if row is not None else 0
    picked = _numbers(ctx, last)
    if picked is None:
        ctx.say("library.bad_numbers", text=ctx.text[:40], last=last)
        return
    _change(
        ctx,
        lambda topic_id, version: librarywrite.merge_sections(
            ctx.session, topic_id, picked, by=ctx.actor.ref, now=ctx.now, version=version
        ),
    )


@router.step(DROP)
def on_drop(ctx: Context) -> None:
    if _back(ctx):
        return
    row = row_of_state(ctx)
    last = len(row.sections) if row is not None else 0
    picked = _numbers(ctx, last)
    if picked is None or row is None:
        ctx.say("library.bad_numbers", text=ctx.text[:40], last=last)
        return
    if len(set(picked)) >= last:
        ctx.say("library.errors.keep_one")
        return
    titles = "; ".join(f"{n}. {row.sections[n - 1]['title']}" for n in sorted(set(picked)))
    ctx.data.update(action="drop", numbers=sorted(set(picked)))
    ctx.goto(CONFIRM)
    ctx.ask(
        ctx.t("library.confirm_drop", count=len(set(picked)), titles=titles[:1500]),
        [
            Option(ctx.t("library.confirm_drop_yes"), "yes", exact=True),
            Option(ctx.t("library.keep"), "no"),
        ],
    )


@router.step(CONFIRM)
def on_confirm(ctx: Context) -> None:
    topic_id = str(ctx.data.get("topic") or "")
    action = ctx.data.get("action")
    if ctx.choice == "no":
        show_outline(ctx, topic_id)
        return
    if ctx.choice != "yes":
        ctx.say("library.need_choice")
        return
    if action == "drop":
        numbers = [int(n) for n in ctx.data.get("numbers") or []]
        _change(
            ctx,
            lambda topic_id, version: librarywrite.drop_sections(
                ctx.session, topic_id, numbers, by=ctx.actor.ref, now=ctx.now, version=version
            ),
            stay=False,
        )
    elif action == "publish":
        _publish(ctx, topic_id)
    elif action == "discard":
        try:
            librarywrite.discard(ctx.session, topic_id, by=ctx.actor.ref, now=ctx.now)
        except LibraryError as exc:
            ctx.say(exc.key, **exc.values)
            show_outline(ctx, topic_id)
            return
        ctx.say("library.discarded")
        menu(ctx)
    else:
        show_outline(ctx, topic_id)


def _publish(ctx: Context, topic_id: str) -> None:
    version = int(ctx.data.get("version") or 0)
    try:
        row = librarywrite.publish(
            ctx.session, topic_id, by=ctx.actor.ref, now=ctx.now, version=version
        )
    except LibraryError as exc:
        ctx.say(exc.key, **exc.values)
        show_outline(ctx, topic_id)
        return
    ctx.say("library.published", title=row.title)
    if not library.bank(ctx.session, ctx.content.catalog, topic_id, now=ctx.now):
        ctx.say("library.published_hint")
    show_outline(ctx, topic_id)
