"""What the report's appendix tables (Phụ lục 1–6 of the An Giang guide) hold for one scope and
plan, read from what was recorded: conferences and check-ins (1), breakthrough contents (3),
pressing issues and the share solved (4), good models new this year (5) and replicated from
earlier years (6); plus the good examples approved in the year. Phụ lục 2 (documents issued)
is not known to the bot and is left to the officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from bot.catalog import Campaign
from bot.models import Member, Pledge, StudyProgress, Unit
from bot.models_year import (
    Breakthrough,
    BreakthroughKind,
    BreakthroughStatus,
    ExampleStatus,
    GoodExample,
    GoodModel,
)
from bot.services import breakthroughs, conferences, examples
from bot.services.conferences import FORMS


@dataclass(frozen=True)
class ConferenceRow:
    form: str  # a ConferenceForm value
    meetings: int
    attendees: int
    party: int  # party members among the attendees


@dataclass(frozen=True)
class Item:
    """A breakthrough content or a pressing issue, with the unit that chose it."""

    text: str
    unit: str
    unit_id: int
    done: bool
    percent: int  # an issue's share solved


@dataclass(frozen=True)
class ModelRow:
    name: str
    how: str
    results: str
    recognition: str
    unit: str
    unit_id: int


@dataclass(frozen=True)
class Annexes:
    conferences: list[ConferenceRow]  # the three forms of Phụ lục 1, in the guide's order
    studied: int  # members who finished the topic in /hoc: the bot's row of Phụ lục 1
    party_studied: int  # party members among them
    party_on_bot: int  # party members of the scope registered with the bot
    party_real: int | None  # the scope's real party members (units file or /thongke), if known
    contents: list[Item]  # Phụ lục 3
    issues: list[Item]  # Phụ lục 4
    new_models: list[ModelRow]  # Phụ lục 5
    replicated: list[ModelRow]  # Phụ lục 6
    examples: int  # good examples approved in the plan's year

    @property
    def party_total(self) -> int:
        """The rates' denominator: the real party members where known, else the bot's."""
        return self.party_real if self.party_real is not None else self.party_on_bot

    @property
    def meetings(self) -> int:
        return sum(r.meetings for r in self.conferences)

    @property
    def conference_attendees(self) -> int:
        return sum(r.attendees for r in self.conferences)

    @property
    def conference_party(self) -> int:
        return sum(r.party for r in self.conferences)

    @property
    def attendees(self) -> int:
        """Every row of Phụ lục 1 added up, the bot's included: its total row."""
        return self.conference_attendees + self.studied

    @property
    def party(self) -> int:
        return self.conference_party + self.party_studied

    @property
    def solved(self) -> int:
        return sum(i.done for i in self.issues)


def _paths(top: Unit | None) -> list[str] | None:
    return [top.path] if top is not None else None


def _party_studied(session: Session, campaign: Campaign, top: Unit | None) -> int:
    """Party members of the scope who finished the yearly topic (counted as in the stats)."""
    submitted = exists().where(
        col(Pledge.member_id) == Member.id,
        col(Pledge.campaign_id) == campaign.id,
        col(Pledge.first_submitted_at).is_not(None),
    )
    query = (
        select(func.count())
        .select_from(StudyProgress)
        .join(Member, col(Member.id) == StudyProgress.member_id)
        .join(Unit, col(Unit.id) == Member.unit_id)
        .where(
            col(StudyProgress.topic_id) == campaign.topic,
            col(StudyProgress.completed_at).is_not(None),
            col(Member.party_member).is_(True),
            or_(col(Member.deleted_at).is_(None), submitted),
        )
    )
    if top is not None:
        query = query.where(col(Unit.path).startswith(top.path))
    return int(session.exec(query).one())


def _examples(session: Session, top: Unit | None, year: int, tz: ZoneInfo) -> int:
    """Good examples of the scope approved in the year (local time)."""
    start = datetime(year, 1, 1, tzinfo=tz)
    end = datetime(year + 1, 1, 1, tzinfo=tz)
    query = (
        select(func.count())
        .select_from(GoodExample)
        .join(Unit, col(Unit.id) == GoodExample.unit_id)
        .where(
            GoodExample.status == ExampleStatus.APPROVED,
            col(GoodExample.reviewed_at) >= start,
            col(GoodExample.reviewed_at) < end,
        )
    )
    if top is not None:
        query = query.where(col(Unit.path).startswith(top.path))
    return int(session.exec(query).one())


def collect(
    session: Session,
    *,
    campaign: Campaign,
    top: Unit | None,
    studied: int,
    party_on_bot: int,
    party_real: int | None,
    tz: ZoneInfo,
) -> Annexes:
    """The appendix figures of `top`'s subtree (None: every unit) for the campaign's plan;
    `studied` and the party counts come from the stats of the same scope."""
    paths = _paths(top)
    held = conferences.in_scope(session, campaign_id=campaign.id, paths=paths)
    counts = conferences.attendance(session, (s for s, _ in held))
    rows = []
    for form in FORMS:
        mine = [s for s, _ in held if s.form == form]
        rows.append(
            ConferenceRow(
                form=form,
                meetings=len(mine),
                attendees=sum(counts[s.id].attendees for s in mine if s.id is not None),
                party=sum(counts[s.id].party for s in mine if s.id is not None),
            )
        )
    items = breakthroughs.in_scope(session, campaign_id=campaign.id, paths=paths)

    def item(b: Breakthrough, u: Unit) -> Item:
        assert u.id is not None
        done = b.status == BreakthroughStatus.DONE
        return Item(text=b.text, unit=u.name, unit_id=u.id, done=done, percent=b.solved_percent)

    models = examples.models_in_scope(session, campaign_id=campaign.id, paths=paths)

    def model(m: GoodModel, u: Unit) -> ModelRow:
        assert u.id is not None
        return ModelRow(
            name=m.name,
            how=m.how,
            results=m.results,
            recognition=m.recognition or "",
            unit=u.name,
            unit_id=u.id,
        )

    return Annexes(
        conferences=rows,
        studied=studied,
        party_studied=_party_studied(session, campaign, top),
        party_on_bot=party_on_bot,
        party_real=party_real,
        contents=[item(b, u) for b, u in items if b.kind == BreakthroughKind.CONTENT],
        issues=[item(b, u) for b, u in items if b.kind == BreakthroughKind.ISSUE],
        new_models=[model(m, u) for m, u in models if not m.replicated],
        replicated=[model(m, u) for m, u in models if m.replicated],
        examples=_examples(session, top, campaign.year, tz),
    )
