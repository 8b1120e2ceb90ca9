"""What the report's two documents share (bot.services.report_xlsx, bot.services.report_docx):
the wording of the `report:` block, the scope, the campaign, the figures by unit and the
appendix figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.catalog import Campaign, Catalog
from bot.models import Unit
from bot.services import annexes, stats
from bot.services.docxform import line
from bot.texts import Raw, Texts
from bot.timefmt import fmt_datetime


@dataclass(frozen=True)
class ReportContext:
    """What both documents need: the wording, the scope, the campaign and the figures."""

    t: Texts
    catalog: Catalog
    campaign: Campaign
    top: Unit | None
    parent: Unit | None  # the unit above the top: the header names both
    tree: stats.StatsTree
    annexes: annexes.Annexes
    tz: ZoneInfo
    now: datetime

    def say(self, key: str, **values: Any) -> str:
        """A text of the `report:` block, values put in as they are (documents are not HTML)."""
        return self.t(f"report.{key}", **{k: Raw(str(v)) for k, v in values.items()})

    def columns(self, key: str) -> list[str]:
        return [c.strip() for c in self.say(key).split("|")]

    @property
    def year(self) -> int:
        return self.campaign.year

    @property
    def scope(self) -> str:
        return line(self.top.name) if self.top is not None else self.say("all_units")

    @property
    def topic(self) -> str:
        topic = self.catalog.topics.get(self.campaign.topic)
        return topic.title if topic is not None else self.campaign.topic

    @property
    def quizzes(self) -> list[tuple[str, str]]:
        """(topic id, short title) of each quiz of the campaign."""
        out = []
        for rule in self.campaign.quizzes:
            topic = self.catalog.topics.get(rule.topic)
            out.append((rule.topic, topic.short_title if topic else rule.topic))
        return out

    @property
    def at(self) -> str:
        return fmt_datetime(self.now, self.tz)

    @property
    def made_at(self) -> str:
        return self.say("made_at", scope=self.scope, year=self.year, at=self.at)

    @property
    def party_rate_title(self) -> str:
        """Phụ lục 1's rate column, named by what it divides by: the real party members, or
        (unknown) those registered with the bot."""
        real = self.annexes.party_real is not None
        return self.say("annex1_col_rate_real" if real else "annex1_col_rate_bot")

    def of_unit(self, text: str, unit: str, unit_id: int) -> str:
        """An appendix row's text, with its unit named when it is not the scope's own."""
        if self.top is not None and unit_id == self.top.id:
            return line(text)
        return self.say("annex_of_unit", text=line(text), unit=line(unit))
