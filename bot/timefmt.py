"""Times are stored in UTC and shown in the configured zone as dd/mm/yyyy."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.astimezone(tz)


def fmt_datetime(dt: datetime | None, tz: ZoneInfo) -> str:
    if dt is None:
        return "—"
    return dt.astimezone(tz).strftime("%d/%m/%Y %H:%M")


def fmt_date(d: date | datetime | None, tz: ZoneInfo | None = None) -> str:
    if d is None:
        return "—"
    if isinstance(d, datetime) and tz is not None:
        d = d.astimezone(tz)
    return d.strftime("%d/%m/%Y")


def fmt_duration(seconds: int) -> str:
    """'12 phút 05 giây', or '45 giây' under a minute."""
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes} phút {secs:02d} giây" if minutes else f"{secs} giây"
