"""Which campaign a member takes part in: the one of their root unit for the current year."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.catalog import Campaign, Catalog
from bot.models import Member, Unit


def root_code(session: Session, unit_id: int) -> str | None:
    unit = session.get(Unit, unit_id)
    if unit is None:
        return None
    root_id = int(unit.path.strip("/").split("/")[0]) if unit.path.strip("/") else unit.id
    root = session.get(Unit, root_id)
    return root.code if root is not None else None


def for_member(
    session: Session, catalog: Catalog, member: Member, *, now: datetime, tz: ZoneInfo
) -> Campaign | None:
    return catalog.campaign_for(root_code(session, member.unit_id), now.astimezone(tz).year)
