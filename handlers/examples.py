"""/guongtot: a member tells the union about a good person or deed ("gương người tốt, việc
tốt"): who, which unit, what they did, an optional photo, and whether the person named agreed
to be featured; the unit's officers review it in /duyet. Officers also find here the approved
examples, to send one as an announcement (through /thongbao), and the good models they record
(handlers/goodmodels.py)."""

from __future__ import annotations

import base64

from bot.flow import Context, Router
from bot.messages import Option, to_plain
from bot.models import Unit
from bot.models_year import GoodExample
from bot.services import examples, units
from bot.services.examples import Invalid
from bot.timefmt import fmt_date
from handlers import broadcast, goodmodels, unitpick
from handlers.scopes import paths, roots

router = Router("example")

MENU = "menu"
WHO = "who"
UNIT = "unit"
TEXT = "text"
PHOTO = "photo"
CONSENT = "consent"
CONFIRM = "confirm"
APPROVED = "approved"

LISTED = 10


@router.command("guongtot")
def begin(ctx: Context) -> None:
    """Tell about a good example; officers first choose what they came for."""
    if not roots(ctx):
        _ask_who(ctx)
        return
    ctx.begin(router.name, MENU)
    ctx.ask(
        ctx.t("examples.menu"),
        [
            Option(ctx.t("examples.tell"), "tell"),
            Option(ctx.t("examples.approved"), "approved"),
            Option(ctx.t("examples.models"), "models"),
        ],
    )


@router.step(MENU)
def on_menu(ctx: Context) -> None:
    if ctx.choice == "tell":
        _ask_who(ctx)
    elif ctx.choice == "approved" and roots(ctx):
        _approved(ctx)
    elif ctx.choice == "models" and roots(ctx):
        goodmodels.begin(ctx)
    else:
        ctx.say("admin.need_choice")


# --- a member tells -----------------------------------------------------------------------


def _ask_who(ctx: Context) -> None:
    ctx.begin(router.name, WHO)
    ctx.say("examples.ask_who")


@router.step(WHO)
def on_who(ctx: Context) -> None:
    try:
        typed = ctx.text if ctx.choice is None else ""
        person = examples.clean(typed, examples.PERSON_MIN, examples.PERSON_MAX)
    except Invalid as exc:
        ctx.say(f"examples.who_{exc.key}", high=examples.PERSON_MAX)
        return
    ctx.data["person"] = person
    _ask_unit(ctx)


def _ask_unit(ctx: Context) -> None:
    member = ctx.actor.member
    assert member is not None
    mine = ctx.session.get(Unit, member.unit_id)
    ctx.goto(UNIT)
    ctx.data["pick_intro"] = ctx.t("examples.pick_unit")  # when walking the tree
    options = []
    if mine is not None:
        options.append(Option(ctx.t("examples.my_unit", unit=mine.name[:50]), f"pick:{mine.id}"))
    options.append(Option(ctx.t("examples.other_unit"), "open:0"))
    ctx.ask(ctx.t("examples.ask_unit", person=ctx.data.get("person", "")), options)


@router.step(UNIT)
def on_unit(ctx: Context) -> None:
    unit = unitpick.handle(ctx)
    if unit is None:
        return
    ctx.data["unit"] = unit.id
    ctx.goto(TEXT)
    ctx.say("examples.ask_text", low=examples.TEXT_MIN, high=examples.TEXT_MAX)


def _take_photo(ctx: Context) -> bool:
    """Keep a photo sent with this message; False (and say why) if it is too large."""
    photo = ctx.incoming.photo
    if photo is None:
        return True
    if len(photo) > examples.MAX_PHOTO_BYTES:
        mb = f"{len(photo) / 1e6:.1f}".replace(".", ",")
        limit = f"{examples.MAX_PHOTO_BYTES / 1e6:g}".replace(".", ",")
        ctx.say("examples.photo_big", size=mb, limit=limit)
        return False
    ctx.data["photo"] = base64.b64encode(photo).decode("ascii")
    return True


@router.step(TEXT)
def on_text(ctx: Context) -> None:
    if not _take_photo(ctx):
        return
    if ctx.incoming.photo is not None and not ctx.text:
        ctx.say("examples.photo_ok_text")
        return
    try:
        text = examples.clean(
            ctx.incoming.text or "" if ctx.choice is None else "",
            examples.TEXT_MIN,
            examples.TEXT_MAX,
            lines=True,
        )
    except Invalid as exc:
        bounds = {"low": examples.TEXT_MIN, "high": examples.TEXT_MAX}
        ctx.say(f"examples.text_{exc.key}", length=len(ctx.text), **bounds)
        return
    ctx.data["text"] = text
    if "photo" in ctx.data:
        _ask_consent(ctx)
        return
    ctx.goto(PHOTO)
    ctx.ask(ctx.t("examples.ask_photo"), [Option(ctx.t("examples.no_photo"), "none")])


@router.step(PHOTO)
def on_photo(ctx: Context) -> None:
    if ctx.choice == "none":
        _ask_consent(ctx)
        return
    if ctx.incoming.photo is None:
        ctx.say("examples.photo_need")
        ctx.ask(ctx.t("examples.ask_photo"), [Option(ctx.t("examples.no_photo"), "none")])
        return
    if _take_photo(ctx):
        _ask_consent(ctx)


def _ask_consent(ctx: Context) -> None:
    ctx.goto(CONSENT)
    ctx.ask(
        ctx.t("examples.ask_consent", person=ctx.data.get("person", "")),
        [
            Option(ctx.t("examples.consent_yes"), "yes"),
            Option(ctx.t("examples.consent_no"), "no"),
        ],
    )


@router.step(CONSENT)
def on_consent(ctx: Context) -> None:
    if ctx.choice not in ("yes", "no"):
        ctx.say("admin.need_choice")
        _ask_consent(ctx)
        return
    ctx.data["consent"] = ctx.choice == "yes"
    _confirm(ctx)


def _photo(ctx: Context) -> bytes | None:
    stored = ctx.data.get("photo")
    return base64.b64decode(stored) if isinstance(stored, str) else None


def _confirm(ctx: Context) -> None:
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    ctx.goto(CONFIRM)
    consent = f"examples.summary_consent_{'yes' if ctx.data.get('consent') else 'no'}"
    ctx.ask(
        ctx.t(
            "examples.summary",
            person=ctx.data.get("person", ""),
            unit=units.full_name(ctx.session, unit) if unit else "—",
            text=ctx.data.get("text", ""),
            photo=ctx.t("examples.summary_photo" if _photo(ctx) else "examples.summary_no_photo"),
            consent=ctx.t(consent),
        ),
        [
            Option(ctx.t("examples.send"), "send", exact=True),
            Option(ctx.t("examples.redo"), "redo"),
            Option(ctx.t("examples.drop"), "drop"),
        ],
    )


@router.step(CONFIRM)
def on_confirm(ctx: Context) -> None:
    if ctx.choice == "redo":
        _ask_who(ctx)
        return
    if ctx.choice == "drop":
        ctx.finish()
        ctx.say("examples.dropped")
        return
    if ctx.choice != "send":
        ctx.say("admin.need_choice")
        _confirm(ctx)
        return
    member = ctx.actor.member
    unit = ctx.session.get(Unit, ctx.data.get("unit"))
    if member is None or unit is None or unit.id is None:
        ctx.finish()
        ctx.say("examples.unit_gone")
        return
    try:
        examples.submit(
            ctx.session,
            member=member,
            unit_id=unit.id,
            person=str(ctx.data.get("person", "")),
            text=str(ctx.data.get("text", "")),
            photo=_photo(ctx),
            consent=bool(ctx.data.get("consent")),
            now=ctx.now,
        )
    except Invalid:  # the stored answers were checked when typed; a restart mid-way changed nothing
        ctx.finish()
        ctx.say("examples.unit_gone")
        return
    ctx.finish()
    ctx.say("examples.sent", unit=unit.name)


# --- officers: approved examples, sent as announcements ------------------------------------


def _approved(ctx: Context) -> None:
    found = examples.approved(ctx.session, paths=paths(ctx), limit=LISTED)
    if not found:
        ctx.finish()
        ctx.say("examples.approved_none")
        return
    lines = [ctx.t("examples.approved_head", count=len(found))]
    options: list[Option] = []
    for n, (example, unit) in enumerate(found, 1):
        lines.append(
            ctx.t(
                "examples.approved_line",
                n=n,
                person=example.person,
                unit=unit.name,
                date=fmt_date(example.reviewed_at, ctx.settings.tz),
                consent=ctx.t("examples.approved_no_consent") if not example.consent else "",
            )
        )
        if example.consent:
            options.append(Option(ctx.t("examples.announce", n=n), f"a:{example.id}"))
    if not options:
        ctx.finish()
        ctx.say_html("\n".join(lines))
        return
    ctx.begin(router.name, APPROVED)
    ctx.ask("\n".join(lines), options)


@router.step(APPROVED)
def on_approved(ctx: Context) -> None:
    raw = (ctx.choice or "").removeprefix("a:")
    example = ctx.session.get(GoodExample, int(raw)) if raw.isdigit() else None
    unit = ctx.session.get(Unit, example.unit_id) if example is not None else None
    if example is None or unit is None or not ctx.actor.can_manage(unit):
        ctx.say("admin.need_choice")
        return
    if example.status != "approved" or not example.consent:
        ctx.finish()
        ctx.say("examples.not_featurable")
        return
    text = to_plain(
        ctx.t(
            "examples.announcement",
            person=example.person,
            unit=unit.name,
            text=examples.shown_text(example),
        )
    )
    broadcast.compose_from(ctx, text, example.photo)
