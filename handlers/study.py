"""/hoc: read a topic section by section; progress is saved and finishing is recorded."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import StudyProgress
from bot.services import plans, study
from bot.topics import Topic

router = Router("study")

CHOOSE = "choose"
READ = "read"


def _plan_year(ctx: Context) -> tuple[str | None, int | None]:
    """The topic and year of the member's current plan (None without one)."""
    member = ctx.actor.member
    campaign = (
        plans.for_member(ctx.session, member, now=ctx.now, tz=ctx.settings.tz) if member else None
    )
    return (campaign.topic, campaign.year) if campaign else (None, None)


def ordered_topics(ctx: Context) -> list[Topic]:
    """The topic of the member's plan first, then the "7 dám", then the rest."""
    topics = list(ctx.catalog.topics.values())
    first, _year = _plan_year(ctx)
    return sorted(topics, key=lambda t: (t.id != first, t.short_title != "7 dám"))


@router.command("hoc")
def begin(ctx: Context) -> None:
    """Offer the topics, marking those studied and in progress."""
    topics = ordered_topics(ctx)
    if not topics:
        ctx.say("study.no_topics")
        return
    member = ctx.actor.member
    assert member is not None and member.id is not None
    done = study.all_progress(ctx.session, member_id=member.id)
    options = []
    for topic in topics:
        row = done.get(topic.id)
        mark = ""
        if row is not None:
            mark = ctx.t("study.mark_done" if row.completed_at else "study.mark_progress")
        options.append(
            Option(ctx.t("study.topic_label", mark=mark, title=topic.short_title), topic.id)
        )
    ctx.begin(router.name, CHOOSE)
    _topic, year = _plan_year(ctx)
    intro = ctx.t("study.choose_topic_plan", year=year) if year else ctx.t("study.choose_topic")
    ctx.ask(intro, options)


@router.step(CHOOSE)
def on_choose(ctx: Context) -> None:
    """Open the topic where the member left off."""
    topic = ctx.catalog.topics.get(ctx.choice or "")
    if topic is None:
        ctx.say("study.need_button")
        return
    member = ctx.actor.member
    assert member is not None and member.id is not None
    row = study.progress(ctx.session, member_id=member.id, topic_id=topic.id)
    index = row.section_index if row is not None and row.completed_at is None else 0
    index = min(index, len(topic.sections) - 1)  # the topic may have fewer sections since
    if index:
        ctx.say("study.resume", n=index + 1, total=len(topic.sections))
    _show(ctx, topic, index, known=(row,))


def _record(
    ctx: Context, topic: Topic, index: int, known: tuple[StudyProgress | None] | None = None
) -> None:
    """Save the member's place; an index past the last section marks the topic studied."""
    member = ctx.actor.member
    assert member is not None and member.id is not None
    study.move_to(
        ctx.session,
        member_id=member.id,
        topic_id=topic.id,
        index=index,
        sections=len(topic.sections),
        now=ctx.now,
        known=known,
    )


def _show(
    ctx: Context, topic: Topic, index: int, known: tuple[StudyProgress | None] | None = None
) -> None:
    _record(ctx, topic, index, known)
    section = topic.sections[index]
    ctx.begin(router.name, READ, {"topic": topic.id, "index": index})
    options = []
    if index > 0:
        options.append(Option(ctx.t("study.prev"), "prev"))
    last = index == len(topic.sections) - 1
    options.append(Option(ctx.t("study.finish" if last else "study.next"), "next"))
    options.append(Option(ctx.t("study.topics"), "topics"))
    text = ctx.t(
        "study.section",
        topic=topic.short_title,
        n=index + 1,
        total=len(topic.sections),
        title=section.title,
        body=section.body.strip(),
        document=topic.document,
        ref=section.source.section,
    )
    ctx.ask(text, options, columns=2)


@router.step(READ)
def on_read(ctx: Context) -> None:
    """Next, previous, or back to the list of topics."""
    topic = ctx.catalog.topics.get(ctx.data.get("topic", ""))
    if topic is None:
        begin(ctx)
        return
    index = min(int(ctx.data.get("index", 0)), len(topic.sections) - 1)
    if ctx.choice == "topics":
        begin(ctx)
    elif ctx.choice == "prev":
        _show(ctx, topic, max(0, index - 1))
    elif ctx.choice == "next" and index + 1 < len(topic.sections):
        _show(ctx, topic, index + 1)
    elif ctx.choice == "next":
        _record(ctx, topic, len(topic.sections))
        ctx.finish()
        ctx.say("study.done", topic=topic.short_title)
    else:
        ctx.say("study.need_button")
