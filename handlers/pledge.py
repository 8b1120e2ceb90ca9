"""/dangky: write the yearly pledge section by section, review, submit, download it as DOCX;
the unit's breakthrough task is shown so the pledge can refer to it; at year end the
self-assessment (handlers/assessment.py). The draft is saved at every step."""

from __future__ import annotations

import re
from typing import Any

from bot.campaign import Campaign, PledgeRule
from bot.flow import Context, Router
from bot.messages import Option
from bot.models import AssessmentStatus, Member, Pledge, PledgeStatus
from bot.pledgebook import sections_for
from bot.services import pledges
from bot.services.pledges import Edit
from bot.textutil import fold, has_emoji, one_line
from bot.timefmt import fmt_date, fmt_datetime
from handlers import member_docs
from handlers.assessment import assessment_lines, status_line
from handlers.assessment import start as start_assessment
from handlers.breakthroughs import member_lines
from handlers.member_docs import rating_label
from handlers.planhints import no_plan
from handlers.pledgeplans import Reach, find, member, pledge_of, reachable

router = Router("pledge")

HOME = "home"
SECTION = "section"
TIMELINE = "timeline"
REVIEW = "review"
CONFIRM_REMOVE = "confirm_remove"

__all__ = ["assessment_lines", "deadline_text", "rating_label", "render", "router"]


# --- who, which campaign, which pledge ---------------------------------------------------------


def _member(ctx: Context) -> Member:
    return member(ctx)


def _load(ctx: Context, *, writing: bool = True) -> tuple[Campaign, PledgeRule, Pledge] | None:
    """The plan and pledge of a running flow; None (and the flow ends) if they are gone, or if
    the flow would write a pledge of a past year."""
    found = find(ctx, ctx.data.get("campaign"))
    if found is None or (writing and not found.current):
        ctx.finish()
        ctx.say("pledge.no_campaign_now")
        return None
    return found.campaign, found.rule, pledge_of(ctx, found.campaign)


def deadline_text(ctx: Context, rule: PledgeRule) -> str:
    """The last day and how many days are left (or overdue)."""
    left = pledges.days_left(rule, ctx.now, ctx.settings.tz)
    last = fmt_date(pledges.last_day(rule))
    if left > 0:
        return ctx.t("pledge.deadline_left", last=last, days=left)
    if left == 0:
        return ctx.t("pledge.deadline_today", last=last)
    return ctx.t("pledge.deadline_over", last=last, days=-left)


# --- home --------------------------------------------------------------------------------------


@router.command("dangky")
def begin(ctx: Context) -> None:
    """The pledge's status and what can be done with it now."""
    found = reachable(ctx)
    if not found:
        no_plan(ctx, "pledge.no_campaign")
        return
    first = found[0]
    _home(ctx, first, pledge_of(ctx, first.campaign), others=found[1:])


def status_text(ctx: Context, pledge: Pledge) -> str:
    """One line on where the pledge stands."""
    tz = ctx.settings.tz
    when = fmt_datetime(pledge.submitted_at, tz)
    timing = ctx.t("pledge.late" if pledge.late else "pledge.on_time")
    if pledge.status == PledgeStatus.SUBMITTED:
        return ctx.t("pledge.status_submitted", at=when, timing=timing)
    if pledge.status == PledgeStatus.APPROVED:
        reviewed = fmt_datetime(pledge.reviewed_at, tz)
        return ctx.t("pledge.status_approved", at=when, timing=timing, reviewed=reviewed)
    if pledge.status == PledgeStatus.RETURNED:
        return ctx.t("pledge.status_returned", comment=pledge.review_comment or "")
    if any(pledges.items(pledge.draft, s) for s in pledges.empty_draft() if s != "timeline"):
        return ctx.t("pledge.status_draft")
    return ctx.t("pledge.status_none")


def _home(ctx: Context, reach: Reach, pledge: Pledge, others: list[Reach] | None = None) -> None:
    campaign, rule = reach.campaign, reach.rule
    lines = [ctx.t("pledge.home_title", year=campaign.year), status_text(ctx, pledge)]
    options: list[Option] = []
    if reach.current:
        lines.append(deadline_text(ctx, rule))
        if pledges.has_unsent_changes(pledge):
            lines.append(ctx.t("pledge.unsent_changes"))
        editable = pledges.can_edit(pledge, rule, ctx.now, ctx.settings.tz)
        if editable is Edit.OK:
            started = _started(ctx, pledge)
            key = "pledge.edit" if pledge.content else "pledge.write" if started else "pledge.start"
            options.append(Option(ctx.t(key), "write"))
        else:
            lines.append(ctx.t(f"pledge.{editable.value}"))
    else:
        closes = rule.assessment_closes
        lines.append(
            ctx.t("pledge.past_plan", year=campaign.year, last=fmt_date(closes))
            if closes
            else ctx.t("pledge.past_plan_open", year=campaign.year)
        )
    if pledge.content is not None:
        options.append(Option(ctx.t("pledge.view"), "view"))
        options.append(Option(ctx.t("pledge.download"), "docx"))
    assess = status_line(ctx, rule, pledge)
    if assess is not None:
        lines.append(assess)
        if pledge.assessment_status != AssessmentStatus.CONFIRMED:
            options.append(Option(ctx.t("pledge.assess"), "assess"))
    for other in others or []:
        lines.append(ctx.t("pledge.other_plan", year=other.campaign.year))
        label = ctx.t("pledge.open_other", year=other.campaign.year)
        options.append(Option(label, f"plan:{other.campaign.id}"))
    if _assessment_sent(pledge):
        options.append(Option(ctx.t("pledge.assess_download"), "assess_docx"))
    task = member_lines(ctx, member(ctx), campaign.id)
    if task:
        lines += ["", *task]
    writable = bool(options) and options[0].data == "write"
    if writable and pledge.content is None and not _started(ctx, pledge):
        lines += ["", ctx.t("pledge.intro")]
    if not options:
        ctx.finish()
        ctx.say_html("\n".join(lines))
        return
    ctx.begin(router.name, HOME, {"campaign": campaign.id})
    ctx.ask("\n".join(lines), options)


def _assessment_sent(pledge: Pledge) -> bool:
    sent = (AssessmentStatus.SUBMITTED, AssessmentStatus.CONFIRMED)
    return bool(pledge.assessment) and pledge.assessment_status in sent


def _started(ctx: Context, pledge: Pledge) -> bool:
    return any(pledges.items(pledge.draft, s) for s in sections_for(_member(ctx).group))


@router.step(HOME)
def on_home(ctx: Context) -> None:
    choice = ctx.choice or ""
    if choice.startswith("plan:"):
        other = find(ctx, choice[5:])
        if other is None:
            ctx.finish()
            ctx.say("pledge.no_campaign_now")
            return
        _home(ctx, other, pledge_of(ctx, other.campaign))
        return
    reach = find(ctx, ctx.data.get("campaign"))
    if reach is None:
        ctx.finish()
        ctx.say("pledge.no_campaign_now")
        return
    campaign, rule = reach.campaign, reach.rule
    pledge = pledge_of(ctx, campaign)
    editable = pledges.can_edit(pledge, rule, ctx.now, ctx.settings.tz)
    if choice == "write" and reach.current and editable is Edit.OK:
        if pledge.content is not None and not pledges.has_unsent_changes(pledge):
            pledges.save_draft(ctx.session, pledge, dict(pledge.content), ctx.now)
        group = _member(ctx).group
        missing = pledges.missing_sections(pledge.draft, group)
        at = pledge.draft.get("_at")  # the section the member was walking when they left
        if pledge.content is None and (missing or at in sections_for(group)):
            resume = at if at in sections_for(group) else missing[0]
            _ask_section(ctx, campaign, pledge, str(resume), walking=True)
        else:
            _review(ctx, campaign, rule, pledge)
        return
    if choice == "view" and pledge.content is not None:
        ctx.say_html(render(ctx, campaign.year, pledge.content, _member(ctx).group))
        _home(ctx, reach, pledge)
        return
    if choice == "docx" and pledge.content is not None:
        member_docs.send_pledge(ctx, campaign.year, pledge, _member(ctx))
        ctx.finish()
        return
    if choice == "assess_docx" and _assessment_sent(pledge):
        member_docs.send_assessment(ctx, campaign.year, pledge, _member(ctx))
        ctx.finish()
        return
    if choice == "assess" and status_line(ctx, rule, pledge) is not None:
        start_assessment(ctx, campaign, pledge)
        return
    ctx.say("admin.need_choice")
    _home(ctx, reach, pledge)


# --- the form: one section at a time -------------------------------------------------------------


def _suggestions(ctx: Context, campaign: Campaign, section: str) -> list[Any]:
    return ctx.catalog.pledges.for_section(section, group=_member(ctx).group, topic=campaign.topic)


def _section_title(ctx: Context, section: str) -> str:
    order = sections_for(_member(ctx).group)
    return ctx.t(
        "pledge.section_title",
        n=order.index(section) + 1,
        total=len(order),
        title=ctx.t(f"pledge.sections.{section}"),
    )


def _ask_section(
    ctx: Context, campaign: Campaign, pledge: Pledge, section: str, *, walking: bool
) -> None:
    """The section's suggestions and own items, each with a number to tick or untick."""
    if walking and pledge.draft.get("_at") != section:
        pledges.save_draft(ctx.session, pledge, {**pledge.draft, "_at": section}, ctx.now)
    chosen = pledges.items(pledge.draft, section)
    chosen_ids = {i.get("s") for i in chosen if i.get("s")}
    suggestions = _suggestions(ctx, campaign, section)
    lines = [_section_title(ctx, section), ctx.t(f"pledge.hints.{section}")]
    options: list[Option] = []
    if suggestions:
        lines += ["", ctx.t("pledge.suggestions_header")]
    for s in suggestions:
        mark = "✅" if s.id in chosen_ids else "⬜"
        n = len(options) + 1
        lines.append(ctx.t("pledge.item_line", mark=mark, n=n, text=s.text))
        options.append(Option(str(n), f"s:{s.id}"))
    # "Xong" right after the suggestions: its number never moves as own items are added, so
    # typing the number it had a moment ago never removes an item
    done = len(options) + 1
    options.append(
        Option(ctx.t("pledge.section_done" if walking else "pledge.back_to_review"), "done")
    )
    offered = {s.id for s in suggestions}  # an item whose suggestion left content/ shows as own
    own = [(k, i) for k, i in enumerate(chosen) if i.get("s") not in offered]
    if own:
        lines += ["", ctx.t("pledge.own_header")]
    for k, item in own:
        n = len(options) + 1
        lines.append(ctx.t("pledge.item_line", mark="✍️", n=n, text=item["text"]))
        options.append(Option(str(n), f"o:{k}"))
    lines += ["", ctx.t("pledge.section_help", count=len(chosen), done=done)]
    ctx.begin(
        router.name,
        SECTION,
        {"campaign": campaign.id, "section": section, "walking": walking},
    )
    ctx.ask("\n".join(lines), options, columns=6)


@router.step(SECTION)
def on_section(ctx: Context) -> None:
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, rule, pledge = loaded
    section = str(ctx.data.get("section"))
    walking = bool(ctx.data.get("walking"))
    if section not in sections_for(_member(ctx).group):
        _review(ctx, campaign, rule, pledge)
        return
    draft = dict(pledge.draft)
    chosen = list(pledges.items(draft, section))
    choice = ctx.choice
    if choice == "done":
        if not chosen:
            ctx.say("pledge.section_empty")
            _ask_section(ctx, campaign, pledge, section, walking=walking)
            return
        _after_section(ctx, campaign, rule, pledge, section, walking)
        return
    picks = ctx.choices if ctx.choices else [choice] if choice and choice.startswith("s:") else []
    if picks:  # one number, or several typed at once ("1 3 5"): each ticks or unticks its item
        for pick in picks:
            if pick.startswith("s:"):
                chosen = _tick(ctx, campaign, section, chosen, pick[2:])
        if any(not p.startswith("s:") for p in picks):
            ctx.say("pledge.several_own")  # removing one's own words is asked one at a time
    elif choice is not None and choice.startswith("o:"):
        index = int(choice[2:]) if choice[2:].isdigit() else -1
        offered = {s.id for s in _suggestions(ctx, campaign, section)}
        if 0 <= index < len(chosen) and chosen[index].get("s") not in offered:
            ctx.begin(
                router.name,
                CONFIRM_REMOVE,
                {**ctx.data, "remove": index, "text": chosen[index]["text"]},
            )
            ctx.ask(
                ctx.t("pledge.confirm_remove", text=chosen[index]["text"][:200]),
                [
                    Option(ctx.t("pledge.remove_yes"), "remove"),
                    Option(ctx.t("pledge.remove_no"), "keep"),
                ],
                columns=2,
            )
            return
    elif choice is None:
        added = _own_item(ctx, chosen)
        if added is not None:
            chosen.append({"text": added, "s": None})
            ctx.say("pledge.own_added_no_marks" if added.isascii() else "pledge.own_added")
    draft[section] = chosen
    pledges.save_draft(ctx.session, pledge, draft, ctx.now)
    _ask_section(ctx, campaign, pledge, section, walking=walking)


def _tick(
    ctx: Context, campaign: Campaign, section: str, chosen: list[dict[str, Any]], sid: str
) -> list[dict[str, Any]]:
    """Tick a suggestion, or untick it when it is ticked already."""
    suggestion = next((s for s in _suggestions(ctx, campaign, section) if s.id == sid), None)
    if suggestion is None:
        return chosen
    if any(i.get("s") == sid for i in chosen):
        return [i for i in chosen if i.get("s") != sid]
    if len(chosen) >= pledges.MAX_ITEMS:
        ctx.say("pledge.too_many", limit=pledges.MAX_ITEMS)
        return chosen
    return [*chosen, {"text": suggestion.text, "s": sid}]


@router.step(CONFIRM_REMOVE)
def on_confirm_remove(ctx: Context) -> None:
    """Removing one's own commitment is asked first: a number typed by habit removes nothing."""
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, _rule, pledge = loaded
    section = str(ctx.data.get("section"))
    walking = bool(ctx.data.get("walking"))
    if ctx.choice == "remove":
        draft = dict(pledge.draft)
        chosen = list(pledges.items(draft, section))
        index = int(ctx.data.get("remove", -1))
        if 0 <= index < len(chosen) and chosen[index]["text"] == ctx.data.get("text"):
            chosen.pop(index)
            draft[section] = chosen
            pledges.save_draft(ctx.session, pledge, draft, ctx.now)
            ctx.say("pledge.own_removed", text=str(ctx.data.get("text"))[:80])
    elif ctx.choice == "keep":
        ctx.say("pledge.own_kept")
    else:
        ctx.ask(
            ctx.t("pledge.confirm_remove", text=str(ctx.data.get("text"))[:200]),
            [
                Option(ctx.t("pledge.remove_yes"), "remove"),
                Option(ctx.t("pledge.remove_no"), "keep"),
            ],
            columns=2,
        )
        return
    _ask_section(ctx, campaign, pledge, section, walking=walking)


def _own_item(ctx: Context, chosen: list[dict[str, Any]]) -> str | None:
    """A typed commitment, or None after saying what is wrong with it."""
    text = one_line(ctx.text)
    if not text:
        ctx.say("pledge.own_empty")
        return None
    if text.isdigit():
        ctx.say("pledge.no_such_number", n=text[:6])
        return None
    if len(text) > pledges.MAX_ITEM_CHARS:
        ctx.say("pledge.own_too_long", length=len(text), limit=pledges.MAX_ITEM_CHARS)
        return None
    if len(text) < 5:
        ctx.say("pledge.own_too_short")
        return None
    if any(fold(i["text"]) == fold(text) for i in chosen):
        ctx.say("pledge.own_duplicate")
        return None
    if has_emoji(text):  # it is printed on the pledge that is signed
        ctx.say("pledge.own_emoji")
        return None
    if len(chosen) >= pledges.MAX_ITEMS:
        ctx.say("pledge.too_many", limit=pledges.MAX_ITEMS)
        return None
    return text


def _after_section(
    ctx: Context,
    campaign: Campaign,
    rule: PledgeRule,
    pledge: Pledge,
    section: str,
    walking: bool,
) -> None:
    order = sections_for(_member(ctx).group)
    if not walking:
        _review(ctx, campaign, rule, pledge)
        return
    later = order[order.index(section) + 1 :]
    if later:
        _ask_section(ctx, campaign, pledge, later[0], walking=True)
    elif not pledge.draft.get("timeline"):
        _ask_timeline(ctx, campaign, pledge)
    else:
        _review(ctx, campaign, rule, pledge)


def _ask_timeline(ctx: Context, campaign: Campaign, pledge: Pledge) -> None:
    month = ctx.now.astimezone(ctx.settings.tz).month
    choices = [ctx.t("pledge.timeline_year", year=campaign.year)]
    if 1 < month <= 12:
        choices.append(ctx.t("pledge.timeline_from", month=month, year=campaign.year))
    ctx.begin(router.name, TIMELINE, {"campaign": campaign.id, "choices": choices})
    current = pledge.draft.get("timeline") or ""
    text = ctx.t("pledge.ask_timeline", current=current or "—")
    ctx.ask(text, [Option(c, f"t:{i}") for i, c in enumerate(choices)])


@router.step(TIMELINE)
def on_timeline(ctx: Context) -> None:
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, rule, pledge = loaded
    choices: list[str] = list(ctx.data.get("choices") or [])
    value: str | None = None
    if ctx.choice is not None and ctx.choice.startswith("t:") and ctx.choice[2:].isdigit():
        index = int(ctx.choice[2:])
        value = choices[index] if index < len(choices) else None
    elif ctx.choice is None:
        text = one_line(ctx.text)
        if not text:
            ctx.say("pledge.timeline_empty")
        elif text.isdigit():
            ctx.say("pledge.no_such_number", n=text[:6])
        elif len(text) > pledges.MAX_TIMELINE_CHARS:
            ctx.say("pledge.own_too_long", length=len(text), limit=pledges.MAX_TIMELINE_CHARS)
        elif wrong := _other_year(text, campaign.year):
            ctx.say("pledge.timeline_year_wrong", typed=wrong, year=campaign.year)
        else:
            value = text
    if value is None:
        _ask_timeline(ctx, campaign, pledge)
        return
    draft = dict(pledge.draft)
    draft["timeline"] = value
    pledges.save_draft(ctx.session, pledge, draft, ctx.now)
    _review(ctx, campaign, rule, pledge)


def _other_year(text: str, year: int) -> str | None:
    """A year in the typed time frame that is not the pledge's (a slip from last year's)."""
    for found in re.findall(r"(?<!\d)(20\d\d)(?!\d)", text):
        if int(found) not in (year, year + 1):
            return str(found)
    return None


# --- review and submit ----------------------------------------------------------------------------


def render(ctx: Context, year: int, doc: dict[str, Any], group: str) -> str:
    """The whole pledge as the member and the officer read it."""
    group = str(doc.get("_group") or group)
    lines = [ctx.t("pledge.render_title", year=year)]
    for n, section in enumerate(sections_for(group), 1):
        lines += [
            "",
            ctx.t("pledge.render_section", n=n, title=ctx.t(f"pledge.sections.{section}")),
        ]
        found = pledges.items(doc, section)
        lines += [ctx.t("pledge.render_item", text=i["text"]) for i in found]
        if not found:
            lines.append(ctx.t("pledge.render_empty"))
    lines += ["", ctx.t("pledge.render_timeline", timeline=doc.get("timeline") or "—")]
    return "\n".join(lines)


def _review(ctx: Context, campaign: Campaign, rule: PledgeRule, pledge: Pledge) -> None:
    group = _member(ctx).group
    if "_at" in pledge.draft:  # the walk is over: from now on, "write" opens this review
        pledges.save_draft(
            ctx.session, pledge, {k: v for k, v in pledge.draft.items() if k != "_at"}, ctx.now
        )
    ctx.say_html(render(ctx, campaign.year, pledge.draft, group))
    options = [
        Option(ctx.t("pledge.submit_again" if pledge.content else "pledge.submit"), "submit")
    ]
    for n, section in enumerate(sections_for(group), 1):
        title = ctx.t(f"pledge.sections_short.{section}")
        options.append(Option(ctx.t("pledge.edit_section", n=n, title=title), f"e:{section}"))
    options.append(Option(ctx.t("pledge.edit_timeline"), "timeline"))
    options.append(Option(ctx.t("pledge.save_later"), "later"))
    notes = [ctx.t("pledge.review_ask")]
    if pledge.first_submitted_at is None and pledges.is_late(rule, ctx.now, ctx.settings.tz):
        notes.append(ctx.t("pledge.will_be_late"))
    if pledge.status == PledgeStatus.APPROVED:
        notes.append(ctx.t("pledge.approved_resubmit_warning"))
    ctx.begin(router.name, REVIEW, {"campaign": campaign.id})
    ctx.ask("\n".join(notes), options, columns=1)


@router.step(REVIEW)
def on_review(ctx: Context) -> None:
    loaded = _load(ctx)
    if loaded is None:
        return
    campaign, rule, pledge = loaded
    choice = ctx.choice or ""
    group = _member(ctx).group
    if choice.startswith("e:") and choice[2:] in sections_for(group):
        _ask_section(ctx, campaign, pledge, choice[2:], walking=False)
        return
    if choice == "timeline":
        _ask_timeline(ctx, campaign, pledge)
        return
    if choice == "later":
        ctx.finish()
        ctx.say("pledge.saved_for_later", last=fmt_date(pledges.last_day(rule)))
        return
    if choice == "submit":
        _submit(ctx, campaign, rule, pledge)
        return
    ctx.say("admin.need_choice")
    _review(ctx, campaign, rule, pledge)


def _submit(ctx: Context, campaign: Campaign, rule: PledgeRule, pledge: Pledge) -> None:
    group = _member(ctx).group
    missing = pledges.missing_sections(pledge.draft, group)
    if missing:
        names = ", ".join(ctx.t(f"pledge.sections_short.{s}") for s in missing)
        ctx.say("pledge.missing", sections=names)
        _ask_section(ctx, campaign, pledge, missing[0], walking=False)
        return
    if not pledge.draft.get("timeline"):
        ctx.say("pledge.missing_timeline")
        _ask_timeline(ctx, campaign, pledge)
        return
    editable = pledges.can_edit(pledge, rule, ctx.now, ctx.settings.tz)
    if editable is not Edit.OK:
        ctx.finish()
        ctx.say(f"pledge.{editable.value}")
        return
    pledges.save_draft(ctx.session, pledge, {**pledge.draft, "_group": group}, ctx.now)
    done = pledges.submit(ctx.session, pledge, rule, now=ctx.now, tz=ctx.settings.tz)
    ctx.finish()
    timing = ctx.t("pledge.late" if done.late else "pledge.on_time")
    ctx.say(
        "pledge.submitted" if done.first else "pledge.resubmitted",
        at=fmt_datetime(done.at, ctx.settings.tz),
        timing=timing,
    )
    member_docs.send_pledge(ctx, campaign.year, pledge, member(ctx))
