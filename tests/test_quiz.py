"""Quizzes: drawing, shuffling, scoring, resuming, limits, time, leaderboard, certificate."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlmodel import Session, select

from bot.app import build_app, load_demo_units
from bot.channels.memory import MemoryChat
from bot.messages import Photo
from bot.models import Member, QuizAttempt, Unit
from bot.services import quizzes
from handlers.quiz import LETTERS
from tests.helpers import Clock, register


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))  # a Monday, 09:00 in Vietnam


@pytest.fixture
def qapp(settings, clock, content):  # type: ignore[no-untyped-def]
    built = build_app(settings, clock=clock, rng=random.Random(7), content=content)
    load_demo_units(built)
    yield built
    built.db.dispose()


def _attempt(app) -> QuizAttempt:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return s.exec(select(QuizAttempt).order_by(QuizAttempt.id.desc())).first()  # type: ignore[union-attr]


def _right_letters(app) -> str:  # type: ignore[no-untyped-def]
    attempt = _attempt(app)
    question = app.content.catalog.questions[attempt.question_ids[attempt.current]]
    order = attempt.option_orders[attempt.current]
    return "".join(sorted(LETTERS[order.index(c)] for c in question.correct))


def _answer(me: MemoryChat, app, right: bool) -> None:  # type: ignore[no-untyped-def]
    letters = _right_letters(app)
    attempt = _attempt(app)
    n = len(attempt.option_orders[attempt.current])
    if not right:
        letters = next(x for x in LETTERS[:n] if x not in letters)
    if len(_right_letters(app)) > 1 or "Trả lời" in str(me.last_choices().options):
        for letter in letters:
            me.press(letter)
        me.press("Trả lời")
    else:
        me.press(letters)


def _start(me: MemoryChat, quiz: str = "7 dám") -> None:
    me.say("/thi")
    me.press(quiz)
    me.press("Bắt đầu")


def register_member(s: Session) -> int:
    unit = s.exec(select(Unit)).first()
    assert unit is not None and unit.id is not None
    member = Member(full_name="Thử Nghiệm", unit_id=unit.id, group="vien_chuc")
    s.add(member)
    s.flush()
    assert member.id is not None
    return member.id


def test_draw_has_no_duplicates_and_shuffling_keeps_the_right_answer(app):
    catalog = app.content.catalog
    bank = catalog.banks["bay-dam-2024"]
    campaign = next(c for c in catalog.campaigns if c.id == "demo-2026")
    for seed in range(30):
        rng = random.Random(seed)
        assert len({q.id for q in quizzes.draw(bank, 10, rng)}) == 10
        attempt = QuizAttempt(member_id=1, campaign_id=campaign.id, topic_id="bay-dam-2024")
        with Session(app.db) as s:
            member = register_member(s)
            attempt = quizzes.start(
                s,
                member_id=member,
                campaign=campaign,
                rule=campaign.quizzes[0],
                bank=bank,
                rng=rng,
                now=datetime.now(UTC),
            )
            for i in range(attempt.total):
                shown = quizzes.shown(attempt, catalog, i)
                right = [
                    shown.options[p]
                    for p in range(len(shown.options))
                    if attempt.option_orders[i][p] in shown.question.correct
                ]
                assert sorted(right) == sorted(
                    shown.question.options[c] for c in shown.question.correct
                )
    assert len({q.id for q in quizzes.draw(bank, 500, random.Random(1))}) == len(bank)


def test_scoring_and_shuffle_through_the_chat(qapp):
    me = MemoryChat(qapp.engine, "q1")
    register(me)
    _start(me)
    attempt = _attempt(qapp)
    orders = attempt.option_orders
    assert any(order != sorted(order) for order in orders)  # options really are shuffled
    for i in range(10):
        _answer(me, qapp, right=i < 7)
        assert ("Đúng!" if i < 7 else "Chưa đúng") in me.last_text()
    text = me.last_text()
    assert "Kết quả: 7/10 câu đúng" in text and "Bạn chưa đạt (cần 80%)" in text
    assert text.count("→") == 3  # the three missed questions with their right answers
    assert not any(isinstance(r, Photo) for r in me.last_response.replies)
    done = _attempt(qapp)
    assert done.score == 7 and done.finished_at is not None and not done.passed


def test_passing_earns_a_certificate_photo(qapp):
    me = MemoryChat(qapp.engine, "q2")
    register(me, name="Đặng Thị Ngọc Hằng")
    _start(me)
    for _ in range(10):
        _answer(me, qapp, right=True)
    assert "Kết quả: 10/10 câu đúng" in me.last_text() and "đạt" in me.last_text()
    [photo] = [r for r in me.last_response.replies if isinstance(r, Photo)]
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "PNG" and image.width > image.height
    assert "Đặng Thị Ngọc Hằng" in photo.caption


def test_typed_text_reshows_and_old_buttons_count_nothing(qapp):
    me = MemoryChat(qapp.engine, "q3")
    register(me)
    _start(me)
    first = me.last_choices()
    me.say("tôi nghĩ là câu B")
    assert "Xin chọn chữ cái" in me.texts()[0] and "Câu 1/10" in me.last_text()
    _answer(me, qapp, right=True)
    me.press_data(first.options[0].data)  # a button of the first question
    assert "tin nhắn cũ" in me.last_text()
    me.press_data(first.options[0].data)  # and again
    attempt = _attempt(qapp)
    assert attempt.current == 1 and attempt.score == 1


def test_quiz_resumes_after_restart_with_the_same_questions(qapp, settings, clock):
    me = MemoryChat(qapp.engine, "q4")
    register(me)
    _start(me)
    _answer(me, qapp, right=True)
    _answer(me, qapp, right=False)
    before = _attempt(qapp)
    me.say("/huy")
    restarted = build_app(settings, clock=clock, rng=random.Random(99))
    again = MemoryChat(restarted.engine, "q4")
    again.say("/thi")
    assert "Tiếp tục từ câu 3/10" in again.last_text() and "Câu 3/10" in again.last_text()
    after = _attempt(restarted)
    assert after.id == before.id and after.question_ids == before.question_ids
    assert after.option_orders == before.option_orders and after.score == 1


def test_time_limit_expiry_ends_the_quiz(qapp, clock):
    me = MemoryChat(qapp.engine, "q5")
    register(me)
    _start(me, "Dân chủ")  # 20 questions, 30 minutes
    assert "còn 30 phút" in me.last_text()
    _answer(me, qapp, right=True)
    clock.now += timedelta(minutes=31)
    _answer(me, qapp, right=True)
    text = me.last_text()
    assert "Hết giờ" in text and "Kết quả: 1/20 câu đúng" in text
    attempt = _attempt(qapp)
    assert attempt.timed_out and attempt.elapsed_seconds == 30 * 60
    assert attempt.answers[1] is None  # the late answer did not count


def test_attempts_per_period(qapp, clock):
    me = MemoryChat(qapp.engine, "q6")
    register(me)
    for _ in range(3):  # the yearly topic quiz allows 3 attempts a week
        _start(me, "Dân chủ")
        clock.now += timedelta(minutes=40)
        me.say("/thi")  # the expired attempt is closed and reported
        assert "Hết giờ" not in me.last_text() or "Kết quả" in me.last_text()
    me.say("/thi")
    me.press("Dân chủ")
    assert "đã dùng hết 3 lượt thi trong tuần" in me.last_text()
    clock.now += timedelta(days=7)
    me.say("/thi")
    me.press("Dân chủ")
    assert "bạn chưa thi lần nào" in me.last_text()


def _finished(s: Session, member: Member, score: int, elapsed: int, finished: datetime) -> None:
    s.add(
        QuizAttempt(
            member_id=member.id,
            campaign_id="demo-2026",
            topic_id="bay-dam-2024",
            question_ids=[],
            option_orders=[],
            answers=[],
            score=score,
            total=10,
            started_at=finished - timedelta(seconds=elapsed),
            finished_at=finished,
            elapsed_seconds=elapsed,
        )
    )


def test_leaderboard_order_ties_scope_and_initials(qapp, clock):
    names = ["Lê Văn Một", "Trần Thị Hai", "Phạm Văn Ba", "Võ Thị Bốn", "Hồ Văn Năm"]
    chats = []
    for i, name in enumerate(names):
        unit = "May Phú Thịnh" if i == 4 else "Mầm non Hoa Mai"
        c = MemoryChat(qapp.engine, f"lb{i}")
        register(c, name=name, unit=unit)
        chats.append(c)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(qapp.db) as s:
        m = {x.full_name: x for x in s.exec(select(Member)).all()}
        _finished(s, m["Lê Văn Một"], 8, 300, t0)
        _finished(s, m["Lê Văn Một"], 9, 400, t0 + timedelta(hours=1))  # the best one counts
        _finished(s, m["Trần Thị Hai"], 9, 350, t0 + timedelta(hours=2))  # same score, faster
        _finished(s, m["Phạm Văn Ba"], 9, 350, t0 + timedelta(hours=3))  # tie: finished later
        _finished(s, m["Võ Thị Bốn"], 10, 900, t0)
        _finished(s, m["Hồ Văn Năm"], 10, 100, t0)  # another unit
        m["Trần Thị Hai"].initials_only = True
        s.add(m["Trần Thị Hai"])
        s.commit()
        unit = s.exec(select(Unit).where(Unit.code == "CDCS-MN-HM")).one()
        board = quizzes.leaderboard(
            s, campaign_id="demo-2026", topic_id="bay-dam-2024", unit_path=unit.path
        )
        whole = quizzes.leaderboard(s, campaign_id="demo-2026", topic_id="bay-dam-2024")
        rank = quizzes.rank_of(
            s, member_id=m["Phạm Văn Ba"].id, campaign_id="demo-2026", topic_id="bay-dam-2024"
        )
    assert [r.name for r in board] == ["Võ Thị Bốn", "Trần Thị Hai", "Phạm Văn Ba", "Lê Văn Một"]
    assert [r.name for r in whole][:2] == ["Hồ Văn Năm", "Võ Thị Bốn"] and rank == 4
    me = chats[0]
    me.say("/thi")
    me.press("Bảng xếp hạng")
    text = me.last_text()
    assert "1. Võ Thị Bốn" in text and "2. T. T. H." in text and "Trần Thị Hai" not in text
    assert "Hồ Văn Năm" not in text and "Hạng của bạn: 4" in text
    me.press("Toàn cuộc thi")
    assert "1. Hồ Văn Năm" in me.last_text() and "Hạng của bạn: 5" in me.last_text()


def test_profile_shows_best_result(qapp):
    me = MemoryChat(qapp.engine, "q7")
    register(me)
    _start(me)
    for _ in range(10):
        _answer(me, qapp, right=True)
    me.say("/toi")
    assert "7 dám: cao nhất 10/10" in me.last_text() and "đạt" in me.last_text()
