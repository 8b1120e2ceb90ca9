"""/thongbao: an officer composes an announcement, picks the units, sees it exactly as members
will, then sends it now or at a time; lists and cancels scheduled ones. /lich: what is coming."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.flow import Context, Router
from bot.messages import CAPTION_LIMIT, Option, to_plain
from bot.models import Broadcast, BroadcastKind, BroadcastStatus, RoleName, Unit
from bot.services import audience, audit, outbox, pledges, quota, units
from bot.texts import Raw
from bot.textutil import nfc
from bot.timefmt import fmt_datetime
from handlers.link import platform_name
from handlers.review import scopes

router = Router("broadcast")

MENU = "menu"
COMPOSE = "compose"
TARGET = "target"
PREVIEW = "preview"
WHEN = "when"
LIST = "list"

MAX_CHARS = 3000
MAX_PHOTO_BYTES = 1_500_000  # kept in the conversation state until sent; a phone photo is ~0.3 MB
MAX_AHEAD = timedelta(days=366)


def _roots(ctx: Context) -> list[Unit]:
    return units.children(ctx.session, None) if ctx.actor.is_admin else ctx.actor.officer_units


def _mine(ctx: Context) -> list[Broadcast]:
    """Announcements this person created, newest first."""
    return list(
        ctx.session.exec(
            select(Broadcast)
            .where(
                Broadcast.kind == BroadcastKind.ANNOUNCEMENT,
                Broadcast.created_by == ctx.actor.ref,
            )
            .order_by(col(Broadcast.id).desc())
            .limit(20)
        ).all()
    )


@router.command("thongbao", role=RoleName.OFFICER)
def begin(ctx: Context) -> None:
    mine = _mine(ctx)
    waiting = [b for b in mine if b.status == BroadcastStatus.SCHEDULED]
    options = [Option(ctx.t("broadcast.new"), "new")]
    if waiting:
        options.append(Option(ctx.t("broadcast.scheduled", count=len(waiting)), "scheduled"))
    if any(b.status != BroadcastStatus.SCHEDULED for b in mine):
        options.append(Option(ctx.t("broadcast.recent"), "recent"))
    if len(options) == 1:
        _ask_text(ctx)
        return
    ctx.begin(router.name, MENU)
    ctx.ask(ctx.t("broadcast.menu"), options)


@router.step(MENU)
def on_menu(ctx: Context) -> None:
    if ctx.choice == "new":
        _ask_text(ctx)
    elif ctx.choice == "scheduled":
        _list(ctx, scheduled=True)
    elif ctx.choice == "recent":
        _list(ctx, scheduled=False)
    else:
        ctx.say("admin.need_choice")


def _ask_text(ctx: Context) -> None:
    ctx.begin(router.name, COMPOSE)
    ctx.say("broadcast.ask_text", limit=MAX_CHARS)


def clean_text(raw: str) -> str:
    """Announcement text: NFC, control characters dropped, line breaks kept, no runs of blanks."""
    kept = "".join(c for c in nfc(raw) if c == "\n" or c.isprintable() or c == "\u200d")
    lines = [" ".join(line.split()) for line in kept.split("\n")]
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


@router.step(COMPOSE)
def on_text(ctx: Context) -> None:
    photo = ctx.incoming.photo
    if photo is not None:
        if len(photo) > MAX_PHOTO_BYTES:
            mb = f"{len(photo) / 1e6:.1f}".replace(".", ",")
            ctx.say(
                "broadcast.photo_big", size=mb, limit=f"{MAX_PHOTO_BYTES / 1e6:g}".replace(".", ",")
            )
            return
        ctx.data["photo"] = base64.b64encode(photo).decode("ascii")
    text = clean_text(ctx.incoming.text or "")
    if photo is not None and not text:
        ctx.say("broadcast.photo_ok")
        return
    if ctx.choice is not None or len(text) < 10:
        ctx.say("broadcast.text_short")
        return
    if len(text) > MAX_CHARS:
        ctx.say("broadcast.text_long", length=len(text), limit=MAX_CHARS)
        return
    ctx.data["text"] = text
    _ask_target(ctx)


def compose_from(ctx: Context, text: str, photo: bytes | None) -> None:
    """An announcement prepared elsewhere (an approved good example): choose the units, preview,
    send or schedule it as any other."""
    ctx.begin(router.name, COMPOSE)
    ctx.data["text"] = clean_text(text)[:MAX_CHARS]
    if photo is not None and len(photo) <= MAX_PHOTO_BYTES:
        ctx.data["photo"] = base64.b64encode(photo).decode("ascii")
    _ask_target(ctx)


def _ask_target(ctx: Context) -> None:
    options: list[Option] = []
    for unit in _roots(ctx):
        options.append(Option(ctx.t("broadcast.target_tree", unit=unit.name[:50]), f"t:{unit.id}"))
        for child in units.children(ctx.session, unit.id)[:8]:
            options.append(
                Option(ctx.t("broadcast.target_one", unit=child.name[:50]), f"t:{child.id}")
            )
    ctx.goto(TARGET)
    ctx.ask(ctx.t("broadcast.ask_target"), options[:30])


@router.step(TARGET)
def on_target(ctx: Context) -> None:
    unit_id = (ctx.choice or "").removeprefix("t:")
    unit = ctx.session.get(Unit, int(unit_id)) if unit_id.isdigit() else None
    if unit is None or not ctx.actor.can_manage(unit):
        ctx.say("admin.need_choice")
        return
    ctx.data["unit"] = unit.id
    _preview(ctx)


def framed(ctx: Context, unit: Unit, text: str) -> str:
    """The announcement exactly as members receive it."""
    return ctx.t("broadcast.frame", unit=unit.name, text=text)


def _platforms(ctx: Context) -> set[str]:
    """Every platform: the preview counts members wherever they are."""
    return set(ctx.settings.admins_by_platform()) | {ctx.incoming.platform}


def _photo(ctx: Context) -> bytes | None:
    stored = ctx.data.get("photo")
    return base64.b64decode(stored) if isinstance(stored, str) else None


def _preview(ctx: Context) -> None:
    unit = ctx.session.get(Unit, int(ctx.data["unit"]))
    assert unit is not None
    probe = Broadcast(kind=BroadcastKind.ANNOUNCEMENT, unit_id=unit.id, text="", created_by="")
    count = sum(1 for _ in audience.recipients(ctx.session, probe, platforms=_platforms(ctx)))
    ctx.say("broadcast.preview_head", unit=units.full_name(ctx.session, unit), count=count)
    text, photo = framed(ctx, unit, ctx.data["text"]), _photo(ctx)
    if photo is None:
        ctx.say_html(text)
    elif len(text) <= CAPTION_LIMIT:  # as the delivery sends it: the text is the caption
        ctx.photo(photo, "thongbao.jpg", text)
    else:
        ctx.photo(photo, "thongbao.jpg")
        ctx.say_html(text)
    ctx.goto(PREVIEW)
    ctx.ask(
        ctx.t("broadcast.preview_ask"),
        [
            Option(ctx.t("broadcast.send_now"), "now"),
            Option(ctx.t("broadcast.send_later"), "later"),
            Option(ctx.t("broadcast.edit"), "edit"),
            Option(ctx.t("broadcast.cancel"), "cancel"),
        ],
        columns=2,
    )


@router.step(PREVIEW)
def on_preview(ctx: Context) -> None:
    if ctx.choice == "now":
        _create(ctx, ctx.now)
    elif ctx.choice == "later":
        ctx.goto(WHEN)
        ctx.say("broadcast.ask_when")
    elif ctx.choice == "edit":  # written again from the start, photo included
        ctx.data.pop("photo", None)
        ctx.goto(COMPOSE)
        ctx.say("broadcast.ask_text", limit=MAX_CHARS)
    elif ctx.choice == "cancel":
        ctx.finish()
        ctx.say("broadcast.dropped")
    else:
        ctx.say("admin.need_choice")


_DATE = re.compile(r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{4}|\d{2}))?")
_TIME = re.compile(r"(\d{1,2})\s*(?:[:hg]\s*(\d{1,2})?|\s*giờ\s*(\d{1,2})?)?\s*(?:phút)?")


def parse_when(text: str, now: datetime, tz: ZoneInfo) -> datetime | str:
    """A local time as people type it: '25/12/2026 07:30', '15/12 8h', '8h30 15/12/2026',
    '15-12 8:05' (no year: the next such day) -> an aware datetime, or the text key explaining
    the mistake."""
    raw = " ".join(text.lower().split())
    date = _DATE.search(raw)
    if date is None:
        return "broadcast.when_format"
    rest = (raw[: date.start()] + " " + raw[date.end() :]).strip()
    clock = _TIME.fullmatch(rest)
    if clock is None:
        return "broadcast.when_format"
    day, month = int(date.group(1)), int(date.group(2))
    year_text = date.group(3)
    hour = int(clock.group(1))
    minute = int(clock.group(2) or clock.group(3) or 0)
    local_now = now.astimezone(tz)
    year = (2000 + int(year_text) if len(year_text) == 2 else int(year_text)) if year_text else 0
    try:
        when = datetime(year or local_now.year, month, day, hour, minute, tzinfo=tz)
        if not year and when < now - timedelta(days=60):  # "15/01" typed in December
            when = when.replace(year=local_now.year + 1)
    except ValueError:
        return "broadcast.when_format"
    if when <= now + timedelta(minutes=1):
        return "broadcast.when_past"
    if when > now + MAX_AHEAD:
        return "broadcast.when_far"
    return when


@router.step(WHEN)
def on_when(ctx: Context) -> None:
    parsed = parse_when(ctx.text, ctx.now, ctx.settings.tz)
    if isinstance(parsed, str):
        ctx.say(parsed, now=fmt_datetime(ctx.now, ctx.settings.tz))
        return
    _create(ctx, parsed)


def _create(ctx: Context, when: datetime) -> None:
    unit = ctx.session.get(Unit, int(ctx.data["unit"]))
    if unit is None or not ctx.actor.can_manage(unit):
        ctx.finish()
        ctx.say("engine.forbidden")
        return
    broadcast = Broadcast(
        kind=BroadcastKind.ANNOUNCEMENT,
        status=BroadcastStatus.SCHEDULED,
        unit_id=unit.id,
        text=framed(ctx, unit, ctx.data["text"]),
        photo=_photo(ctx),
        created_by=ctx.actor.ref,
        report_platform=ctx.incoming.platform,
        report_chat_id=ctx.incoming.chat_id,
        scheduled_at=when,
    )
    ctx.session.add(broadcast)
    ctx.session.flush()
    audit.record(
        ctx.session, actor=ctx.actor.ref, action="broadcast", broadcast=broadcast.id, unit=unit.id
    )
    ctx.finish()
    if when <= ctx.now:
        ctx.say("broadcast.queued", unit=unit.name)
    else:
        ctx.say("broadcast.scheduled_ok", at=fmt_datetime(when, ctx.settings.tz), unit=unit.name)


def _list(ctx: Context, *, scheduled: bool) -> None:
    mine = [b for b in _mine(ctx) if (b.status == BroadcastStatus.SCHEDULED) is scheduled][:10]
    lines = [ctx.t("broadcast.list_scheduled" if scheduled else "broadcast.list_recent")]
    options: list[Option] = []
    tz = ctx.settings.tz
    for n, b in enumerate(mine, 1):  # numbered in this list: ids mean nothing to officers
        unit = ctx.session.get(Unit, b.unit_id) if b.unit_id else None
        preview = _plain_start(b.text)
        if scheduled:
            lines.append(
                ctx.t(
                    "broadcast.line_scheduled",
                    n=n,
                    at=fmt_datetime(b.scheduled_at, tz),
                    unit=unit.name if unit else "—",
                    preview=preview,
                )
            )
            options.append(Option(ctx.t("broadcast.cancel_one", n=n), f"c:{b.id}"))
        else:
            c = outbox.counts(ctx.session, b.id)  # type: ignore[arg-type]
            remaining = c["pending"] + c["claimed"] + c["sending"]
            lines.append(
                ctx.t(
                    "broadcast.line_recent",
                    n=n,
                    at=fmt_datetime(b.started_at or b.scheduled_at, tz),
                    unit=unit.name if unit else "—",
                    preview=preview,
                    status=ctx.t(f"broadcast.status.{b.status}"),
                    sent=c["sent"],
                    remaining=remaining,
                    blocked=c["blocked"],
                    failed=c["failed"] + c["unknown"],
                )
            )
            if b.status == BroadcastStatus.SENDING:
                options.append(Option(ctx.t("broadcast.stop_one", n=n), f"c:{b.id}"))
    options.append(Option(ctx.t("common.back"), "back"))
    ctx.begin(router.name, LIST)
    ctx.ask("\n".join(lines), options)


def _plain_start(html: str) -> str:
    plain = " ".join(to_plain(html).split())
    return plain[:60] + ("…" if len(plain) > 60 else "")


@router.step(LIST)
def on_list(ctx: Context) -> None:
    if ctx.choice == "back":
        begin(ctx)
        return
    bid = (ctx.choice or "").removeprefix("c:")
    broadcast = ctx.session.get(Broadcast, int(bid)) if bid.isdigit() else None
    if broadcast is None or broadcast.created_by != ctx.actor.ref:
        ctx.say("admin.need_choice")
        return
    if broadcast.status not in (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING):
        ctx.finish()
        ctx.say("broadcast.too_late_to_cancel", preview=_plain_start(broadcast.text))
        return
    stopped = outbox.cancel(ctx.session, broadcast.id) if broadcast.id else 0
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.finished_at = ctx.now
    ctx.session.add(broadcast)
    audit.record(
        ctx.session, actor=ctx.actor.ref, action="broadcast_cancel", broadcast=broadcast.id
    )
    ctx.finish()
    ctx.say(
        "broadcast.stopped" if stopped else "broadcast.cancelled",
        preview=_plain_start(broadcast.text),
        n=stopped,
    )


# --- /lich ------------------------------------------------------------------------------------


@router.command("lich", role=RoleName.OFFICER)
def calendar(ctx: Context) -> None:
    """The coming anniversary posts, deadline reminders and scheduled announcements."""
    tz = ctx.settings.tz
    lines = [ctx.t("calendar.head")]
    for event, when in ctx.content.calendar.upcoming(ctx.now, tz, limit=4):
        lines.append(
            ctx.t(
                "calendar.post",
                at=fmt_datetime(when, tz),
                name=event.name,
                count=event.count(when.astimezone(tz).year),
            )
        )
    for scope in scopes(ctx):
        rule = scope.rule
        last = pledges.last_day(rule)
        for days in rule.reminders.days_before:
            when = datetime.combine(last - timedelta(days=days), rule.reminders.at, tz)
            if when > ctx.now:
                lines.append(
                    ctx.t(
                        "calendar.reminder",
                        at=fmt_datetime(when, tz),
                        days=days,
                        unit=scope.unit.name,
                    )
                )
    paths = [u.path for u in _roots(ctx)]
    waiting = ctx.session.exec(
        select(Broadcast)
        .join(Unit, col(Unit.id) == Broadcast.unit_id)
        .where(
            Broadcast.kind == BroadcastKind.ANNOUNCEMENT,
            Broadcast.status == BroadcastStatus.SCHEDULED,
            col(Broadcast.scheduled_at) > ctx.now,
        )
        .order_by(col(Broadcast.scheduled_at))
        .limit(50)
    ).all()
    for b in waiting:
        unit = ctx.session.get(Unit, b.unit_id) if b.unit_id else None
        if unit is None or not any(unit.path.startswith(p) for p in paths):
            continue
        lines.append(
            ctx.t(
                "calendar.announcement",
                at=fmt_datetime(b.scheduled_at, tz),
                unit=unit.name,
                preview=_plain_start(b.text),
            )
        )
    if len(lines) == 1:
        lines.append(ctx.t("calendar.nothing"))
    lines += _usage_lines(ctx)
    ctx.say_html("\n".join(lines))


def _usage_lines(ctx: Context) -> list[str]:
    """This month's messages on platforms whose plan caps them (Zalo), for admins."""
    if not ctx.actor.is_admin:
        return []
    lines = []
    month = quota.month_of(ctx.now, ctx.settings.tz)
    for platform, limit in ctx.settings.monthly_limits().items():
        use = quota.usage(ctx.session, platform=platform, month=month, limit=limit)
        held = ctx.t("quota.line_held", held=use.held) if use.held else ""
        lines.append(
            ctx.t(
                "quota.line",
                app=platform_name(ctx, platform),
                sent=use.sent,
                limit=limit,
                month=f"{month[5:]}/{month[:4]}",
                percent=use.percent,
                held=Raw(held),
            )
        )
    return ["", *lines] if lines else []
