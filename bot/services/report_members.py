"""The report's *Đoàn viên* sheet: one row per member of the scope, unit by unit in tree order,
streamed (rows fetched CHUNK at a time, a server-side cursor on PostgreSQL, openpyxl write-only
mode), so a district of 20,000 members never holds 20,000 objects in memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session, col

from bot.catalog import Campaign
from bot.models import Member, MemberGroup, Pledge, PledgeStatus, QuizAttempt, StudyProgress
from bot.models_year import StudyCheckIn, StudySession
from bot.services.docxform import line
from bot.services.report_context import ReportContext
from bot.services.xlsxform import SCORE, WHEN, cell, header, print_setup, widths

CHUNK = 1000  # member rows fetched per round trip
MEMBER_WIDTHS = (7, 28, 34, 16, 18, 9, 18, 16, 12, 12, 12)
QUIZ_WIDTH = 14


def _counted() -> Any:
    """Who counts, as in `stats`: members not deleted, and deleted (anonymized) members who
    submitted a pledge in the campaign. Needs the campaign's pledge outer-joined."""
    return or_(col(Member.deleted_at).is_(None), col(Pledge.first_submitted_at).is_not(None))


def _studied(campaign: Campaign) -> Any:
    """The member has finished the campaign's yearly topic in /hoc."""
    return exists().where(
        col(StudyProgress.member_id) == Member.id,
        col(StudyProgress.topic_id) == campaign.topic,
        col(StudyProgress.completed_at).is_not(None),
    )


def _checkins(campaign: Campaign) -> Any:
    """The plan's conferences the member checked in at."""
    return (
        select(func.count())
        .select_from(StudyCheckIn)
        .join(StudySession, col(StudySession.id) == StudyCheckIn.session_id)
        .where(
            col(StudyCheckIn.member_id) == Member.id,
            col(StudySession.campaign_id) == campaign.id,
        )
        .scalar_subquery()
    )


def _best_score(campaign: Campaign, topic_id: str) -> Any:
    """The member's best finished attempt at one quiz, as a fraction of its questions."""
    return (
        select(func.max(col(QuizAttempt.score) * 1.0 / col(QuizAttempt.total)))
        .where(
            col(QuizAttempt.member_id) == Member.id,
            col(QuizAttempt.campaign_id) == campaign.id,
            col(QuizAttempt.topic_id) == topic_id,
            col(QuizAttempt.finished_at).is_not(None),
            col(QuizAttempt.total) > 0,
        )
        .scalar_subquery()
    )


def _member_rows(
    session: Session, *, campaign: Campaign, unit_id: int, quiz_topics: Sequence[str]
) -> Iterator[Any]:
    """The members registered in one unit, by name (anonymized ones last), fetched CHUNK rows at
    a time (a server-side cursor on PostgreSQL): name, deleted at, group, party member, pledge
    status, first submitted at, late, studied, check-ins, then the best score of each quiz."""
    query = (
        select(
            col(Member.full_name),
            col(Member.deleted_at),
            col(Member.group),
            col(Member.party_member),
            col(Pledge.status),
            col(Pledge.first_submitted_at),
            col(Pledge.late),
            _studied(campaign),
            _checkins(campaign),
            *(_best_score(campaign, t) for t in quiz_topics),
        )
        .outerjoin(
            Pledge,
            and_(col(Pledge.member_id) == Member.id, col(Pledge.campaign_id) == campaign.id),
        )
        .where(col(Member.unit_id) == unit_id, _counted())
        .order_by(col(Member.deleted_at).is_not(None), col(Member.full_name), col(Member.id))
    )
    yield from session.execute(query, execution_options={"yield_per": CHUNK})


def write(ws: WriteOnlyWorksheet, session: Session, ctx: ReportContext) -> int:
    """One row per member of the scope, unit by unit in tree order, streamed; the rows written."""
    quizzes = ctx.quizzes
    widths(ws, (*MEMBER_WIDTHS, *(QUIZ_WIDTH for _ in quizzes)))
    ws.freeze_panes = "C2"
    print_setup(ws, "1:1")
    titles = ctx.columns("members_columns")
    titles += [ctx.say("members_quiz_column", quiz=title) for _, title in quizzes]
    ws.auto_filter.ref = f"A1:{get_column_letter(len(titles))}1"
    ws.append(header(ws, titles))
    yes, no = ctx.t("common.yes"), ctx.t("common.no")
    groups = {g.value: ctx.t(f"groups.{g.value}") for g in MemberGroup}
    statuses = {s.value: ctx.say(f"status_{s.value}") for s in PledgeStatus}
    deleted = ctx.say("deleted_member")
    timing = {True: ctx.say("late"), False: ctx.say("on_time")}
    top = [ctx.tree.total] if ctx.top is not None else []  # the top's own members come first
    count = 0
    for unit in [*top, *ctx.tree.rows()]:
        assert unit.unit_id is not None
        rows = _member_rows(
            session,
            campaign=ctx.campaign,
            unit_id=unit.unit_id,
            quiz_topics=[t for t, _ in quizzes],
        )
        unit_name = line(unit.name)  # imported from a file: control characters XML refuses go
        for name, gone, group, party, status, first, late, studied, checkins, *best in rows:
            count += 1
            submitted = first.astimezone(ctx.tz).replace(tzinfo=None) if first else None
            ws.append(
                [
                    count,
                    deleted if gone is not None else line(name),
                    unit_name,
                    unit.code,
                    groups.get(group, ctx.t("groups.unknown")),
                    yes if party else no,
                    statuses[status] if status else ctx.say("status_none"),
                    cell(ws, submitted, fmt=WHEN, border=False) if submitted else None,
                    timing[bool(late)] if first else None,
                    yes if studied else no,
                    int(checkins or 0),
                    *(
                        cell(ws, float(b), fmt=SCORE, border=False) if b is not None else None
                        for b in best
                    ),
                ]
            )
    return count
