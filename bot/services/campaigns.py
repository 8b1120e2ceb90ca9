"""Which campaign a member takes part in: the current plan of their tree. Kept for callers of
the earlier API; the plans themselves are in bot/services/plans.py."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.campaign import Campaign
from bot.models import Member
from bot.services import plans
from bot.services.plans import root_code

__all__ = ["for_member", "root_code"]


def for_member(
    session: Session, catalog: object, member: Member, *, now: datetime, tz: ZoneInfo
) -> Campaign | None:
    """The member's current plan (`catalog` is no longer used: plans are in the database)."""
    return plans.for_member(session, member, now=now, tz=tz)
