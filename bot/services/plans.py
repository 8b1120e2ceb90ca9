"""The plan (kế hoạch) a unit works under in a year, as the records of this year need it: its id
and its year. Conferences, breakthrough tasks and good models are filed under it.

Today the plan is the campaign of the unit's tree in content/campaigns.yaml; this is the one
place that asks for it, so plans kept in the database can take its place here alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.catalog import Catalog
from bot.services import campaigns


@dataclass(frozen=True)
class PlanRef:
    id: str
    year: int
    topic: str  # the yearly topic's id


def for_unit(
    session: Session, catalog: Catalog, unit_id: int, *, now: datetime, tz: ZoneInfo
) -> PlanRef | None:
    """The plan of the unit's tree for the current year (local time), if any."""
    code = campaigns.root_code(session, unit_id)
    campaign = catalog.campaign_for(code, now.astimezone(tz).year)
    if campaign is None:
        return None
    return PlanRef(id=campaign.id, year=campaign.year, topic=campaign.topic)
