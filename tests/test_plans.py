"""Plans in the database: which one is current for a tree, the presets imported once, drafts that
copy the last plan a year on, the checks a new plan passes, the demo's plan kept ahead of today,
and the cache every process keeps (a second process sees a new plan within PLAN_TTL)."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.app import build_app, ensure_demo_plan, load_demo_units
from bot.campaign import Campaign, PledgeRule, QuizRule, ReportDeadline
from bot.db import make_engine
from bot.models import AuditLog, Plan
from bot.services import plandrafts, plans
from bot.services.plans import PLAN_TTL, PlanError
from tests.helpers import Clock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
READS_PLANS = re.compile(r'\bfrom "?plan"?(\s|$)')  # SQLite quotes the name, PostgreSQL not
VN = timedelta(hours=7)


def local(y: int, m: int, d: int, hh: int = 9) -> datetime:
    return datetime(y, m, d, hh, tzinfo=UTC) - VN


def plan(cid: str, year: int, root: str | None, **kw: object) -> Campaign:
    rule = PledgeRule(
        submit_before=date(year, 4, 10),
        assessment_opens=date(year, 11, 1),
        assessment_closes=date(year, 12, 31),
    )
    values: dict[str, object] = {"pledge": rule, **kw}
    return Campaign(
        id=cid,
        year=year,
        root_unit=root,
        topic="bay-dam-2024",
        quizzes=[QuizRule(topic="bay-dam-2024")],
        **values,  # type: ignore[arg-type]
    )


@pytest.fixture
def app(settings, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, content=content)
    yield built
    built.db.dispose()


def store(app, *made: Campaign) -> None:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        for p in s.exec(select(Plan)).all():
            s.delete(p)
        for c in made:
            plans.create(s, c, by="t", now=local(2020, 1, 1))
        s.commit()


# --- which plan is current ------------------------------------------------------------------------

TABLE = [
    plan("all-2023", 2023, None),
    plan("all-2025", 2025, None),
    plan("x-2024", 2024, "LDLD-X"),
    plan("x-2026", 2026, "LDLD-X"),
    plan("x-2027", 2027, "LDLD-X", starts_on=date(2026, 12, 15)),  # opened early
]


@pytest.mark.parametrize(
    ("root", "when", "expected"),
    [
        ("LDLD-X", local(2026, 6, 1), "x-2026"),  # this tree, this year
        ("LDLD-X", local(2026, 12, 14), "x-2026"),
        ("LDLD-X", local(2026, 12, 15), "x-2027"),  # next year's plan opened on 15/12
        ("LDLD-X", local(2024, 12, 31, 23), "x-2024"),
        ("LDLD-X", local(2025, 1, 1, 0), None),  # 2024's is over, no 2025 plan: none
        ("LDLD-X", local(2031, 1, 1), None),
        ("LDLD-X", local(2023, 6, 1), "all-2023"),  # none of its own started yet: the shared
        ("LDLD-Y", local(2025, 3, 1), "all-2025"),  # another tree: the shared one of the year
        ("LDLD-Y", local(2026, 3, 1), None),  # ... never last year's
        (None, local(2023, 2, 1), "all-2023"),
        ("LDLD-Y", local(2022, 6, 1), None),
    ],
)
def test_the_current_plan_covers_today(app, root, when, expected) -> None:  # type: ignore[no-untyped-def]
    store(app, *TABLE)
    with Session(app.db) as s:
        found = plans.current(s, root, now=when, tz=TZ)
    assert (found.id if found else None) == expected


def test_figures_and_assessments_of_last_year_stay_reachable(app) -> None:  # type: ignore[no-untyped-def]
    late = PledgeRule(
        submit_before=date(2026, 4, 10),
        assessment_opens=date(2026, 11, 1),
        assessment_closes=date(2027, 1, 20),
    )
    store(app, plan("x-2026", 2026, "LDLD-X", pledge=late))
    with Session(app.db) as s:
        jan = local(2027, 1, 15)
        assert plans.current(s, "LDLD-X", now=jan, tz=TZ) is None
        assert plans.for_figures(s, "LDLD-X", now=jan, tz=TZ) == (
            TABLE[3].model_copy(update={"pledge": late, "starts_on": date(2026, 1, 1)}),
            False,
        )
        assert [c.id for c in plans.open_assessments(s, "LDLD-X", now=jan, tz=TZ)] == ["x-2026"]
        assert plans.open_assessments(s, "LDLD-X", now=local(2027, 1, 21), tz=TZ) == []
        assert [c.id for c in plans.recent(s, "LDLD-X", now=jan, tz=TZ)] == ["x-2026"]
        assert plans.recent(s, "LDLD-X", now=local(2028, 1, 2), tz=TZ) == []


def test_an_ended_plan_is_never_current_and_cannot_be_edited(app) -> None:  # type: ignore[no-untyped-def]
    store(app, plan("x-2026", 2026, "LDLD-X"))
    when = local(2026, 5, 1)
    with Session(app.db) as s:
        plans.end(s, "x-2026", by="telegram:900", now=when)
        s.commit()
        assert plans.current(s, "LDLD-X", now=when, tz=TZ) is None
        assert plans.for_figures(s, "LDLD-X", now=when, tz=TZ) is not None  # figures are kept
        with pytest.raises(PlanError) as ended:
            plans.end(s, "x-2026", by="telegram:900", now=when)
        assert ended.value.key == "plans.errors.ended"
        actions = [a.action for a in s.exec(select(AuditLog)).all()]
    assert actions.count("plan_end") == 1 and "plan_create" in actions


# --- presets, drafts, checks ----------------------------------------------------------------------


def test_presets_are_imported_once_and_said_so(settings, content, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="bot.app"):
        first = build_app(settings, content=content)
        second = build_app(settings, content=content)
    said = [r.getMessage() for r in caplog.records if "presets" in r.getMessage()]
    assert len(said) == 1 and "imported 1 plans from content/campaigns.yaml" in said[0]
    with Session(first.db) as s:
        [row] = s.exec(select(Plan)).all()
        assert (row.id, row.root_unit, row.year, row.starts_on) == (
            "demo-2026",
            "LDLD-DEMO",
            2026,
            date(2026, 1, 1),
        )
        assert row.pledge is not None and row.pledge["submit_before"] == "2026-04-10"
        assert s.exec(select(AuditLog)).all() == []  # the system's import is logged, not audited
    first.db.dispose()
    second.db.dispose()


def test_next_year_is_drafted_from_the_last_plan_a_year_on(app) -> None:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:  # the presets hold demo-2026
        made, base = plandrafts.draft(s, app.content.catalog, root="LDLD-DEMO", year=2027)
        assert base is not None and base.id == "demo-2026"
        assert made.id == "demo-2027" and made.year == 2027 and made.root_unit == "LDLD-DEMO"
        assert made.pledge is not None and made.pledge.submit_before == date(2027, 4, 10)
        assert made.pledge.assessment_opens == date(2027, 11, 1)
        assert [r.due for r in made.reports] == [date(2027, 5, 6), date(2027, 11, 11)]
        assert made.quizzes == base.quizzes and made.opens_on == date(2027, 1, 1)
        # a tree of its own gets the presets, with an id of its own
        other, _ = plandrafts.draft(s, app.content.catalog, root="TINH-X", year=2028)
        assert other.id == "tinh-x-2028" and other.pledge.submit_before == date(2028, 4, 10)  # type: ignore[union-attr]
        with pytest.raises(PlanError) as unknown:
            plandrafts.draft(s, app.content.catalog, root="LDLD-DEMO", year=2027, base_id="nope")
    assert unknown.value.key == "plans.errors.base_unknown"


def test_29_february_moves_to_28(app) -> None:  # type: ignore[no-untyped-def]
    leap = plan("x-2028", 2028, "LDLD-X").model_copy(update={"starts_on": date(2028, 2, 29)})
    moved = leap.moved(years=1)
    assert moved.starts_on == date(2029, 2, 28) and moved.year == 2029


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"topic": "khong-co"}, "topic_unknown"),
        ({"quizzes": [QuizRule(topic="thi-dua-yeu-nuoc-2024", questions=31)]}, "quiz_too_many"),
        ({"year": 2040}, "year_range"),
        ({"starts_on": date(2027, 4, 10)}, "starts_after_deadline"),
        ({"reports": [ReportDeadline(name="06 tháng", due=date(2027, 1, 5))]}, "report_past"),
        (
            {
                "starts_on": date(2027, 3, 1),
                "reports": [ReportDeadline(name="Quý I", due=date(2027, 2, 28))],
            },
            "report_before_start",
        ),
        (
            {
                "reports": [
                    ReportDeadline(name="01 năm", due=date(2027, 11, 11)),
                    ReportDeadline(name="06 tháng", due=date(2027, 5, 6)),
                ]
            },
            "reports_order",
        ),
    ],
)
def test_a_new_plan_is_checked(app, change, key) -> None:  # type: ignore[no-untyped-def]
    made = plan("x-2027", 2027, "LDLD-X").model_copy(update=change)
    with pytest.raises(PlanError) as refused:
        plandrafts.check(made, app.content.catalog, today=date(2027, 1, 5))
    assert refused.value.key == f"plans.errors.{key}"


def test_a_deadline_in_the_past_is_refused(app) -> None:  # type: ignore[no-untyped-def]
    made = plan("x-2027", 2027, "LDLD-X")
    plandrafts.check(made, app.content.catalog, today=date(2027, 4, 9))
    with pytest.raises(PlanError) as refused:
        plandrafts.check(made, app.content.catalog, today=date(2027, 4, 10))
    assert refused.value.key == "plans.errors.deadline_past"
    assert refused.value.values == {"day": "10/04/2027"}


def test_one_live_plan_per_tree_and_year(app) -> None:  # type: ignore[no-untyped-def]
    store(app, plan("x-2027", 2027, "LDLD-X"))
    with Session(app.db) as s, pytest.raises(PlanError) as taken:
        plans.create(s, plan("x-2027-b", 2027, "LDLD-X"), by="t", now=local(2027, 1, 1))
    assert taken.value.key == "plans.errors.year_taken"


def test_a_plan_that_started_cannot_be_edited_and_versions_guard_edits(app) -> None:  # type: ignore[no-untyped-def]
    store(app, plan("x-2027", 2027, "LDLD-X"))
    edited = plan("x-2027", 2027, "LDLD-X").model_copy(update={"topic": "dan-chu-phap-che-2024"})
    with Session(app.db) as s:
        with pytest.raises(PlanError) as stale:
            plans.update(s, edited, by="t", now=local(2026, 12, 1), tz=TZ, version=7)
        assert stale.value.key == "plans.errors.changed"
        plans.update(s, edited, by="t", now=local(2026, 12, 1), tz=TZ, version=1)
        s.commit()
        with pytest.raises(PlanError) as started:
            plans.update(s, edited, by="t", now=local(2027, 1, 1), tz=TZ, version=2)
        assert started.value.key == "plans.errors.started"
        row = s.get(Plan, "x-2027")
    assert row is not None and row.topic == "dan-chu-phap-che-2024" and row.version == 2


# --- the demo -------------------------------------------------------------------------------------


def test_the_demo_always_has_a_pledge_due_ahead(settings, content) -> None:  # type: ignore[no-untyped-def]
    clock = Clock(local(2026, 12, 1))
    app = build_app(settings, content=content, clock=clock)
    load_demo_units(app)
    moved = ensure_demo_plan(app)  # the presets' 2026 plan, due 10/4/2026: moved ahead
    assert moved is not None and moved.id == "demo-2026" and moved.pledge is not None
    assert moved.pledge.submit_before == date(2026, 12, 31)  # 30 days ahead of 01/12/2026
    assert ensure_demo_plan(app) == moved  # nothing to do the second time
    clock.now = local(2028, 3, 1)  # years later: a plan for that year, due ahead
    made = ensure_demo_plan(app)
    assert made is not None and made.id == "demo-2028" and made.year == 2028
    assert made.pledge is not None and made.pledge.submit_before == date(2028, 4, 10)
    app.db.dispose()


# --- the cache, and two processes -----------------------------------------------------------------


def test_a_second_process_sees_a_new_plan_within_the_ttl(settings, content) -> None:  # type: ignore[no-untyped-def]
    """Two engines on one database: plans changed by one are read by the other once its copy is
    PLAN_TTL old (by the clock it is given), with no read of the table on every update."""
    clock = Clock(local(2027, 1, 5))
    one = build_app(settings, content=content, clock=clock)
    two_db = make_engine(settings.database_url)
    when = clock.now
    with Session(two_db) as s:
        assert plans.current(s, "LDLD-DEMO", now=when, tz=TZ) is None  # only 2026's: over
    with Session(one.db) as s:
        plans.create(s, plan("demo-2027", 2027, "LDLD-DEMO"), by="t", now=when)
        s.commit()
        assert plans.current(s, "LDLD-DEMO", now=when, tz=TZ) is not None  # this process: at once
    with Session(two_db) as s:
        assert plans.current(s, "LDLD-DEMO", now=when + PLAN_TTL / 2, tz=TZ) is None  # cached
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]).lower())

        from sqlalchemy import event

        event.listen(two_db, "before_cursor_execute", count)
        plans.current(s, "LDLD-DEMO", now=when + PLAN_TTL / 2, tz=TZ)
        assert not any(READS_PLANS.search(q) for q in statements)  # no read while fresh
        found = plans.current(s, "LDLD-DEMO", now=when + PLAN_TTL + timedelta(seconds=1), tz=TZ)
        assert found is not None and found.id == "demo-2027"
        assert any(READS_PLANS.search(q) for q in statements)
        event.remove(two_db, "before_cursor_execute", count)
    two_db.dispose()
    one.db.dispose()
