"""/start [UNIT_CODE]: registration in five steps, or the profile with its corrections."""

from __future__ import annotations

from bot.flow import Context, Router
from bot.messages import Option
from bot.models import MemberGroup, Unit
from bot.services import conferences as conferences_service
from bot.services import linking, members, units
from bot.services.members import (
    InvalidName,
    Registration,
    clean_name,
    group_key,
    lacks_diacritics,
)
from bot.typedchoice import words
from handlers import conferences, link, unitpick
from handlers.planhints import missing as missing_plans
from handlers.profile import card

router = Router("register")

ASK_NAME = "name"
ASK_UNIT = "unit"
ASK_GROUP = "group"
ASK_PARTY = "party"
ASK_CONSENT = "consent"
MENU = "menu"


@router.command("start", role=None)
def start(ctx: Context) -> None:
    """Begin registration, or show the profile of a registered member; a conference's code
    checks the member in (after registering, for someone new)."""
    code = ctx.args.split()[0][:50] if ctx.args.split() else ""
    if ctx.actor.member is None and linking.normalize(ctx.args):
        link.redeem(ctx, ctx.args)  # a code from /lienket, typed on the second app
        return
    checkin = conferences_service.normalize_code(ctx.args)
    if ctx.actor.member is not None and checkin is not None:
        conferences.check_in(ctx, checkin)
        return
    if ctx.actor.member is not None and ctx.incoming.command is None:
        ctx.say("engine.unknown_input")  # typed alone, not a conference's code
        return
    linked = units.by_code(ctx.session, code) if code else None
    if ctx.actor.member is not None:
        _guide_plan_makers(ctx)
        _menu(ctx, intro="register.already", move_to=linked)
        return
    left = ctx.take_resume(router.name)
    if left is not None and left[1].get("name") and linked is None:
        _resume(ctx, *left)
        return
    data: dict[str, object] = {}
    ctx.say("register.welcome")
    if checkin is not None:
        data["checkin"] = checkin
        held = conferences_service.by_code(ctx.session, checkin)
        if held is not None and not units.children(ctx.session, held.unit_id):
            linked = ctx.session.get(Unit, held.unit_id)  # a grassroots union: register there
        ctx.say("register.checkin_first")
    if linked is not None:
        data["unit_id"] = linked.id
        ctx.say("register.code_found", unit=units.full_name(ctx.session, linked))
    elif code and checkin is None and ctx.incoming.command is not None:  # a wrong code
        ctx.say("register.code_unknown", code=code)
    ctx.begin(router.name, ASK_NAME, data)
    ctx.say("register.ask_name")


def _resume(ctx: Context, step: str, data: dict[str, object]) -> None:
    """Registration left for another command: go on where it was, with what was typed."""
    ctx.begin(router.name, step, data)
    ctx.say("register.resumed", name=str(data.get("name", "")))
    if step == ASK_UNIT:
        unitpick.offer(ctx, None)
    elif step == ASK_GROUP:
        _ask_group(ctx)
    elif step == ASK_PARTY:
        _ask_party(ctx)
    elif step == ASK_CONSENT:
        _ask_consent(ctx)
    else:
        ctx.goto(ASK_NAME)
        ctx.say("register.ask_name")


@router.step(ASK_NAME)
def on_name(ctx: Context) -> None:
    """Take the full name, or explain what is wrong with it and ask again."""
    kept = ctx.data.pop("unmarked", None)
    if ctx.choice == "keep" and kept:  # no diacritics, and the person says so: fine
        name = str(kept)
    elif ctx.choice is not None:
        ctx.say("register.name_need_text")
        return
    else:
        try:
            name = clean_name(ctx.text)
        except InvalidName as exc:
            ctx.say(f"register.name_{exc.reason}")
            return
        if lacks_diacritics(name):  # a gentle hint, not a wall: the name goes on documents
            ctx.data["unmarked"] = name
            ctx.ask(
                ctx.t("register.name_no_marks", name=name),
                [Option(ctx.t("register.name_keep"), "keep")],
                typed_numbers=False,
            )
            return
    if _editing(ctx):
        _save(ctx, full_name=name)
        return
    ctx.data["name"] = name
    if "unit_id" in ctx.data:
        _ask_group(ctx)
    else:
        ctx.goto(ASK_UNIT)
        unitpick.offer(ctx, None)


@router.step(ASK_UNIT)
def on_unit(ctx: Context) -> None:
    """Walk the tree, page, search, or pick."""
    unit = unitpick.handle(ctx)
    if unit is None:
        return
    if _editing(ctx):
        _save(ctx, unit_id=unit.id)
        return
    ctx.data["unit_id"] = unit.id
    _ask_group(ctx)


def _ask_group(ctx: Context) -> None:
    ctx.goto(ASK_GROUP)
    options = [Option(ctx.t(group_key(g)), g.value) for g in MemberGroup]
    ctx.ask(ctx.t("register.ask_group"), options)


@router.step(ASK_GROUP)
def on_group(ctx: Context) -> None:
    """One of the four member groups."""
    if ctx.choice not in {g.value for g in MemberGroup}:
        ctx.say("register.group_need_choice")
        _ask_group(ctx)
        return
    if _editing(ctx):
        _save(ctx, group=ctx.choice)
        return
    ctx.data["group"] = ctx.choice
    _ask_party(ctx)


def _ask_party(ctx: Context) -> None:
    ctx.goto(ASK_PARTY)
    ctx.ask(
        ctx.t("register.ask_party"),
        [Option(ctx.t("common.yes"), "yes"), Option(ctx.t("common.no"), "no")],
        columns=2,
    )


@router.step(ASK_PARTY)
def on_party(ctx: Context) -> None:
    """Party member: yes or no."""
    if ctx.choice not in {"yes", "no"}:
        ctx.say("register.party_need_choice")
        _ask_party(ctx)
        return
    if _editing(ctx):
        _save(ctx, party_member=ctx.choice == "yes")
        return
    ctx.data["party"] = ctx.choice == "yes"
    _ask_consent(ctx)


def _ask_consent(ctx: Context) -> None:
    ctx.goto(ASK_CONSENT)
    consent = ctx.content.consent
    ctx.data["consent_version"] = consent.version
    ctx.ask(ctx.t("register.ask_consent_intro") + "\n" + consent.text, _consent_options(ctx))


def _consent_options(ctx: Context) -> list[Option]:
    return [
        Option(ctx.t("register.consent_yes"), "agree"),
        Option(ctx.t("register.consent_no"), "refuse"),
    ]


_AGREE = {"dong y", "toi dong y", "co", "co dong y", "ok", "oke", "okay", "yes", "vang", "da"}
_REFUSE = {"khong", "khong dong y", "toi khong dong y", "no", "tu choi", "chua"}


def _consent_words(text: str) -> str | None:
    """A plain answer to the consent question: only these exact phrases (folded) count; a word
    that merely contains them ("không rõ") is no answer, so consent is never read from a guess."""
    said = words(text)
    if said in _AGREE:
        return "agree"
    if said in _REFUSE:
        return "refuse"
    return None


@router.step(ASK_CONSENT)
def on_consent(ctx: Context) -> None:
    """No consent, no registration; with consent, the member is created."""
    answer = ctx.choice or _consent_words(ctx.text)
    if answer == "refuse":
        ctx.finish()
        ctx.say("register.consent_refused")
        return
    if answer != "agree":  # asked again in one line: the text is just above
        ctx.ask(ctx.t("register.consent_need_choice"), _consent_options(ctx))
        return
    data = ctx.data
    if ctx.session.get(Unit, data.get("unit_id")) is None:  # the unit vanished meanwhile
        ctx.goto(ASK_UNIT)
        unitpick.offer(ctx, None)
        return
    member = members.register(
        ctx.session,
        platform=ctx.incoming.platform,
        user_id=ctx.incoming.user_id,
        chat_id=ctx.incoming.chat_id,
        form=Registration(
            full_name=data["name"],
            unit_id=data["unit_id"],
            group=MemberGroup(data["group"]),
            party_member=bool(data["party"]),
            consent_version=data["consent_version"],
        ),
    )
    ctx.actor.member = member
    checkin = data.get("checkin")
    ctx.finish()
    ctx.say("register.done")
    ctx.say_html(card(ctx, member))
    if isinstance(checkin, str):
        conferences.check_in(ctx, checkin)
    _guide_plan_makers(ctx)


def _guide_plan_makers(ctx: Context) -> None:
    """An admin (or an officer of a whole tree) whose tree lacks this year's plan is told how to
    make it: on a fresh deployment, the first thing to do."""
    lines = missing_plans(ctx)
    if lines:
        ctx.say_html("\n".join([*lines, ctx.t("plans.start_prompt_how")]))


# -- corrections ----------------------------------------------------------------------------


def _menu(ctx: Context, *, intro: str | None = None, move_to: Unit | None = None) -> None:
    member = ctx.actor.member
    assert member is not None
    ctx.begin(router.name, MENU, {"edit": True})
    if intro:
        ctx.say(intro)
    options = []
    if move_to is not None and move_to.id != member.unit_id:
        options.append(
            Option(ctx.t("register.move_to_code", unit=move_to.name), f"move:{move_to.id}")
        )
    options += [
        Option(ctx.t("register.edit_name"), "name"),
        Option(ctx.t("register.edit_unit"), "unit"),
        Option(ctx.t("register.edit_group"), "group"),
        Option(ctx.t("register.edit_party"), "party"),
        Option(
            ctx.t(
                "register.edit_initials_off"
                if member.initials_only
                else "register.edit_initials_on"
            ),
            "initials",
        ),
        Option(ctx.t("common.done"), "done"),
    ]
    ctx.ask(card(ctx, member), options)


@router.step(MENU)
def on_menu(ctx: Context) -> None:
    """Which field to correct."""
    choice = ctx.choice or ""
    if choice == "done":
        ctx.finish()
        ctx.say("register.closed")
    elif choice == "name":
        ctx.goto(ASK_NAME)
        ctx.say("register.edit_ask_name")
    elif choice == "unit":
        ctx.goto(ASK_UNIT)
        unitpick.offer(ctx, None)
    elif choice == "group":
        _ask_group(ctx)
    elif choice == "party":
        _ask_party(ctx)
    elif choice == "initials" and ctx.actor.member is not None:
        _save(ctx, initials_only=not ctx.actor.member.initials_only)
    elif choice.startswith("move:") and ctx.session.get(Unit, int(choice[5:])) is not None:
        _save(ctx, unit_id=int(choice[5:]))
    else:
        ctx.say("admin.need_choice")
        _menu(ctx)


def _editing(ctx: Context) -> bool:
    return bool(ctx.data.get("edit")) and ctx.actor.member is not None


def _save(ctx: Context, **changes: object) -> None:
    member = ctx.actor.member
    assert member is not None
    members.update_profile(ctx.session, member, **changes)
    ctx.say("register.saved")
    _menu(ctx)
