"""Conversations that forgive: what a new user did, found by trying the bot as one (issue 16).
Each test is named after what the person did."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.models import Member, QuizAttempt
from handlers.quiz import LETTERS
from tests.helpers import register


def _member(app, name: str) -> Member | None:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return s.exec(select(Member).where(Member.full_name == name)).first()


def _to_consent(me) -> None:  # type: ignore[no-untyped-def]
    me.say("/start CDCS-MN-HM")
    me.say("Phạm Thị Hoa")
    me.say("vien chuc")
    me.say("khong")
    assert "Bước 5/5" in me.last_text()


def test_typing_ok_or_dong_y_at_the_consent_agrees(app, chat) -> None:  # type: ignore[no-untyped-def]
    for typed in ("ok", "dong y", "đồng ý", "Đồng ý!"):
        me = chat(f"c-{typed}")
        _to_consent(me)
        me.say(typed)
        assert "Khai báo thông tin thành công" in me.last_text(), typed


def test_typing_khong_at_the_consent_is_never_consent(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("c1")
    _to_consent(me)
    me.say("không")
    assert "chưa thể hoàn tất khai báo thông tin" in me.last_text()
    assert _member(app, "Phạm Thị Hoa") is None


def test_an_unclear_answer_at_the_consent_is_asked_again_in_one_line(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("c2")
    _to_consent(me)
    for typed in ("hmm", "không rõ", "🙂", "x" * 5000):
        me.say(typed)
        text = me.last_text()
        assert "đồng ý" in text and len(text) < 200, text  # not the 1,500-character text again
    assert _member(app, "Phạm Thị Hoa") is None


def test_help_in_the_middle_of_a_quiz_then_the_letter_still_answers(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("q1")
    register(me)
    me.say("/thi")
    me.say("1")
    me.say("bat dau")
    assert "Câu 1/" in me.last_text()
    me.say("/trogiup")
    assert "bài thi" in me.last_text() and "trả lời tiếp" in me.last_text()
    with Session(app.db) as s:
        attempt = s.exec(select(QuizAttempt)).one()
    question = app.content.catalog.questions[attempt.question_ids[0]]
    order = attempt.option_orders[0]
    letter = LETTERS[order.index(question.correct[0])]
    me.say(letter.lower() if not question.multiple else "/huy")
    if not question.multiple:
        assert "Đúng!" in me.last_text() and "Câu 2/" in me.last_text()


def test_study_during_registration_then_start_goes_on_with_the_name_kept(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("r1")
    me.say("/start")
    me.say("Lê Thị Hồng")
    assert "Bước 2/5" in me.last_text()
    me.say("/hoc")
    assert "khai báo thông tin" in me.last_text() and "/start" in me.last_text()
    me.say("/start")
    text = me.last_text()
    assert "Lê Thị Hồng" in text and "Bước 2/5" in text and "Bước 1/5" not in text
    me.say("mam non")
    me.press("Hoa Mai")
    assert "Bước 3/5" in me.last_text()


def test_a_name_typed_without_marks_gets_a_hint_and_can_be_kept(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("n1")
    me.say("/start CDCS-MN-HM")
    me.say("tran van hung")
    assert "chưa có dấu" in me.last_text() and "giấy chứng nhận" in me.last_text()
    me.say("Trần Văn Hùng")  # typed again with the marks
    assert "Bước 3/5" in me.last_text()
    other = chat("n2")
    other.say("/start CDCS-MN-HM")
    other.say("le thi mai")
    other.say("giu nguyen")  # cannot type the marks: kept as typed, nobody is blocked
    assert "Bước 3/5" in other.last_text()
    other.press("Viên chức")
    other.press("Không")
    other.press("Tôi đồng ý")
    assert _member(app, "Le Thi Mai") is not None and _member(app, "Trần Văn Hùng") is None


def test_a_wrong_number_in_the_unit_picker_stays_where_it_is(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("u1")
    me.say("/start")
    me.say("Vũ Thị Lan")
    me.press("Công đoàn ngành Giáo dục")
    inside = [o.label for o in me.last_choices().options]
    me.say("9")
    assert "Xin chọn một số từ 1 đến" in me.last_text()
    assert [o.label for o in me.last_choices().options] == inside  # still inside, not the top
    me.say("CDCS-MN-HM")  # the unit's code, as an invitation gives it
    assert "Bước 3/5" in me.last_text()


def test_help_when_nothing_is_open_says_nothing_is_open(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("h1")
    register(me)
    me.say("/huy")
    assert "Hiện không có thao tác nào" in me.last_text()
    me.say("/trogiup")
    assert "trả lời tiếp" not in me.last_text()


def _to_first_section(me) -> None:  # type: ignore[no-untyped-def]
    register(me)
    me.say("/dangky")
    me.press("Bắt đầu viết")
    assert "Phần 1/" in me.last_text()


def _ticked(app) -> list[str]:  # type: ignore[no-untyped-def]
    from bot.models import Pledge

    with Session(app.db) as s:
        draft = s.exec(select(Pledge)).one().draft
    return [i["text"] for i in draft.get("study", [])]


def test_typing_1_3_5_in_the_pledge_ticks_three_suggestions(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("p1")
    _to_first_section(me)
    me.say("1 3 5")
    assert "Đã chọn 3" in me.last_text()
    assert len(_ticked(app)) == 3 and "1 3 5" not in _ticked(app)
    me.say("1, 3")  # the same numbers again untick them
    assert "Đã chọn 1" in me.last_text()


def test_the_old_number_of_xong_never_removes_an_own_item(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("p2")
    _to_first_section(me)
    labels = [o.label for o in me.last_choices().options]
    xong = next(i for i, label in enumerate(labels, 1) if "Xong" in label)
    me.say("Đọc lại tác phẩm Sửa đổi lối làm việc mỗi quý")
    labels = [o.label for o in me.last_choices().options]
    assert "Xong" in labels[xong - 1]  # the same number as before the item was added
    me.say(str(xong))  # by habit: moves on, removes nothing
    assert "Phần 2/" in me.last_text()
    assert _ticked(app) == ["Đọc lại tác phẩm Sửa đổi lối làm việc mỗi quý"]


def test_a_time_frame_for_the_wrong_year_is_refused(app, chat) -> None:  # type: ignore[no-untyped-def]
    me = chat("p3")
    _to_first_section(me)
    while "Thời gian thực hiện" not in me.last_text():
        me.say("1")
        me.press("Xong")
    me.say("Từ tháng 4 đến tháng 12/2024")
    assert "năm 2024" in me.last_text() and "Xin gõ lại" in me.last_text()
    me.say("Từ tháng 4 đến tháng 12/2026")
    assert "Bạn muốn nộp" in me.last_text()


def test_a_name_retyped_with_marks_after_the_hint_is_the_new_name(app, chat) -> None:  # type: ignore[no-untyped-def]
    """The words of the typed name must not read as the "keep it" option."""
    me = chat("n3")
    me.say("/start CDCS-MN-HM")
    me.say("tran van hung")
    me.say("Trần Văn Hùng")
    me.press("Viên chức")
    me.press("Không")
    me.press("Tôi đồng ý")
    assert _member(app, "Trần Văn Hùng") is not None and _member(app, "Tran Van Hung") is None


def test_every_flow_left_open_is_named_in_vietnamese(content) -> None:  # type: ignore[no-untyped-def]
    """ "Việc … còn dở" names the flow a command interrupted: never its code name ("topics")."""
    from handlers import routers

    missing = [r.name for r in routers() if f"flows.{r.name}" not in content.texts]
    assert missing == []


def test_a_wrong_number_in_a_quiz_says_the_range_and_points_to_the_question(app, chat) -> None:  # type: ignore[no-untyped-def]
    """The letters are the list: no empty "choices on offer" line (seen on the terminal)."""
    me = chat("q9")
    register(me)
    me.say("/thi")
    me.say("1")
    me.say("bat dau")
    for _ in range(10):  # to a question with one answer: its options are the letters alone
        with Session(app.db) as s:
            attempt = s.exec(select(QuizAttempt)).one()
        if not app.content.catalog.questions[attempt.question_ids[attempt.current]].multiple:
            break
        me.say("a")
        me.say("Trả lời")
    me.say("9")
    said = [getattr(r, "text", "") for r in me.replies]
    assert "Không có lựa chọn số 9" in said[-2]
    assert "Xin trả lời câu hỏi ở trên" in said[-1] and "Các lựa chọn hiện có" not in said[-1]
