"""Registration through the engine with an in-memory channel, as a member would do it."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from bot.app import build_app
from bot.channels.memory import MemoryChat
from bot.models import ConversationState, Identity, Member, Unit
from tests.helpers import register


def members(app) -> list[Member]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return list(s.exec(select(Member)).all())


def test_happy_path_stores_a_clean_profile(app, chat):
    me = chat("42")
    register(
        me, name="  nguyễn   thị   LAN ", unit="Mầm non Hoa Mai", group="Viên chức", party="Có"
    )
    assert "Họ tên: Nguyễn Thị Lan" in me.last_text()
    [m] = members(app)
    assert m.full_name == "Nguyễn Thị Lan"
    assert m.group == "vien_chuc" and m.party_member is True
    assert m.consent_at is not None and m.consent_version == app.content.consent.version
    with Session(app.db) as s:
        unit = s.get(Unit, m.unit_id)
        identity = s.exec(select(Identity)).one()
    assert unit is not None and unit.code == "CDCS-MN-HM"
    assert identity.platform_user_id == "42" and identity.member_id == m.id


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "không được để trống"),
        ("   ", "không được để trống"),
        ("A", "ít nhất 2 chữ cái"),
        ("Nguyễn Văn 123", "chỉ gồm chữ cái"),
        ("😀😀😀", "chỉ gồm chữ cái"),
        ("<b>An</b>", "chỉ gồm chữ cái"),
        ("_*[Lan]", "chỉ gồm chữ cái"),
        ("Robert'); DROP TABLE member;--", "chỉ gồm chữ cái"),
        ("a" * 5000, "dài quá 100 ký tự"),
        ("Nguyễn " * 20, "dài quá 100 ký tự"),
        ("an", "cả họ và tên"),
        ("Lan", "cả họ và tên"),
    ],
)
def test_every_bad_name_gets_a_reason_and_a_second_chance(app, chat, typed, expected):
    me = chat()
    me.say("/start")
    me.say(typed)
    assert expected in me.last_text()
    me.say("Trần Văn Bình")  # the second chance works
    assert "Bước 2/5" in me.last_text()
    assert members(app) == []


def test_name_with_every_tone_mark_is_accepted(chat):
    me = chat()
    me.say("/start")
    me.say("đặng thị ngọc hằng huỳnh ẩn ỹ")
    assert "Bước 2/5" in me.last_text()


def test_cancel_mid_flow_leaves_nothing(app, chat):
    me = chat()
    me.say("/start")
    me.say("Lê Văn Tám")
    me.say("/huy")
    assert "Đã hủy" in me.last_text()
    assert members(app) == []
    me.say("Mầm non")  # someone not registered who writes anything is offered registration
    assert "Bước 1/5" in me.last_text()
    me.say("/huy")
    me.say("/huy")
    assert "không có thao tác" in me.last_text()


def test_restart_mid_flow_resumes_where_it_was(app, chat, settings):
    me = chat()
    me.say("/start")
    me.say("Lê Văn Tám")
    app.engine = None  # the old process is gone
    restarted = build_app(settings, extra_admins={"memory": {"admin"}})
    again = MemoryChat(restarted.engine, "42")
    again.say("mam non")  # answers the unit question asked before the restart
    again.press("Mầm non Hoa Mai")
    again.press("Viên chức")
    again.press("Không")
    again.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in again.last_text()
    assert [m.full_name for m in members(restarted)] == ["Lê Văn Tám"]


def test_replayed_update_is_processed_once(app, chat):
    me = chat()
    me.say("/start", update_id="777")
    first = me.say("Lê Văn Tám", update_id="778")
    replay = me.say("Lê Văn Tám", update_id="778")
    assert first.replies and not replay.replies and replay.duplicate
    with Session(app.db) as s:
        state = s.exec(select(ConversationState)).one()
    assert state.step == "unit" and state.version == 2


def test_two_chats_interleaved_keep_their_own_state(app, chat):
    a, b = chat("1"), chat("2")
    a.say("/start")
    b.say("/start")
    a.say("Người Thứ Nhất")
    b.say("Người Thứ Hai")
    a.say("Hoa Mai")
    b.say("Lê Thánh Tông")
    b.press("Lê Thánh Tông")
    a.press("Hoa Mai")
    for c in (a, b):
        c.press("Công chức")
        c.press("Không")
    b.press("Tôi đồng ý")
    a.press("Tôi đồng ý")
    got = {m.full_name: m.unit_id for m in members(app)}
    with Session(app.db) as s:
        codes = {name: s.get(Unit, uid).code for name, uid in got.items()}  # type: ignore[union-attr]
    assert codes == {"Người Thứ Nhất": "CDCS-MN-HM", "Người Thứ Hai": "CDCS-THPT-LTV"}


def test_deep_link_fills_the_unit(app, chat):
    me = chat()
    me.say("/start CDCS-CTY-MAY")
    assert "đường dẫn mời của CĐCS Công ty TNHH May Phú Thịnh" in me.last_text()
    me.say("Phạm Thị Hoa")
    assert "Bước 3/5" in me.last_text()
    me.press("Công nhân lao động")
    me.press("Không")
    me.press("Tôi đồng ý")
    [m] = members(app)
    with Session(app.db) as s:
        assert s.get(Unit, m.unit_id).code == "CDCS-CTY-MAY"  # type: ignore[union-attr]


def test_unknown_deep_link_code_falls_back_to_choosing(chat):
    me = chat()
    me.say("/start KHONG-CO")
    assert "Không tìm thấy đơn vị có mã “KHONG-CO”" in me.last_text()
    me.say("Phạm Thị Hoa")
    assert "Bước 2/5" in me.last_text()


def test_walk_the_tree_with_buttons_and_back(chat):
    me = chat()
    me.say("/start")
    me.say("Phạm Thị Hoa")
    me.press("Công đoàn các Khu công nghiệp tỉnh")
    labels = [o.label for o in me.last_choices().options]
    assert any("Công ty TNHH May" in label for label in labels)
    me.press("Quay lại")
    me.press("Công đoàn ngành Giáo dục")
    me.press("Chọn: Công đoàn ngành Giáo dục")
    assert "Bước 3/5" in me.last_text()


def test_search_without_diacritics_and_no_match(chat):
    me = chat()
    me.say("/start")
    me.say("Phạm Thị Hoa")
    me.say("xyz khong ton tai")
    assert "Không tìm thấy đơn vị nào" in me.last_text()
    me.say("truong thcs")
    me.press("Nguyễn Trãi")
    assert "Bước 3/5" in me.last_text()


def test_typed_answers_to_choices_work_by_number_or_label(chat):
    me = chat()
    me.say("/start CDCS-MN-HM")
    me.say("Phạm Thị Hoa")
    me.say("9")  # out of range: the range is said and the choices shown again
    assert "Không có lựa chọn số 9. Xin chọn một số từ 1 đến 4." in me.last_text()
    assert me.last_choices().options[0].label == "Cán bộ công đoàn"
    me.say("vien chuc")
    assert "Bước 4/5" in me.last_text()
    me.say("2")
    assert "Bước 5/5" in me.last_text()
    me.say("toi dong y!")  # the label's words: case, diacritics and the ✅ icon optional
    assert "Khai báo thông tin thành công" in me.texts()[0]


def test_no_consent_no_registration(app, chat):
    me = chat()
    me.say("/start CDCS-MN-HM")
    me.say("Phạm Thị Hoa")
    me.press("Viên chức")
    me.press("Không")
    me.press("Không đồng ý")
    assert "chưa thể hoàn tất khai báo thông tin" in me.last_text()
    assert members(app) == []
    me.say("/toi")
    assert "Bạn chưa khai báo thông tin. Gõ /start" in me.last_text()


def test_start_again_shows_profile_and_corrects_it(app, chat):
    me = chat()
    register(me)
    me.say("/start")
    assert "Bạn đã khai báo thông tin rồi" in me.last_text() and "Nguyễn Văn An" in me.last_text()
    me.press("Sửa họ tên")
    me.say("12345")
    assert "chỉ gồm chữ cái" in me.last_text()
    me.say("nguyễn văn bình")
    assert "Đã lưu" in me.last_text()
    me.press("Sửa thông tin đảng viên")
    me.press("Có")
    me.press("Xong")
    [m] = members(app)
    assert m.full_name == "Nguyễn Văn Bình" and m.party_member is True
    assert len(members(app)) == 1


def test_start_with_other_code_offers_to_move(app, chat):
    me = chat()
    register(me)
    me.say("/start CDCS-CTY-MAY")
    me.press("Chuyển sang đơn vị")
    [m] = members(app)
    with Session(app.db) as s:
        assert s.get(Unit, m.unit_id).code == "CDCS-CTY-MAY"  # type: ignore[union-attr]


def test_old_button_and_double_tap_count_nothing(app, chat):
    me = chat()
    me.say("/start CDCS-MN-HM")
    me.say("Phạm Thị Hoa")
    group_buttons = me.last_choices()
    me.press("Viên chức")
    me.press_data(group_buttons.options[0].data)  # double tap / old message
    assert "tin nhắn cũ" in me.last_text()
    assert "Bước 4/5" not in me.last_text()
    me.press("Không")  # the current question still works
    assert "Bước 5/5" in me.last_text()


@pytest.mark.parametrize("data", ["garbage", "", "1:99", "99999:0", "x" * 300, "'; DROP--"])
def test_unknown_callback_data_gets_a_clear_answer(chat, data):
    me = chat()
    me.say("/start")
    me.press_data(data)
    assert "tin nhắn cũ" in me.last_text()


def test_wrong_input_types_in_choice_steps_ask_again(chat):
    me = chat()
    me.say("/start CDCS-MN-HM")
    me.say("Phạm Thị Hoa")
    for junk in ["", "😀", "<b>x</b>", "a" * 5000]:
        me.say(junk)
        assert "Vui lòng chọn" in me.last_text()
    me.press("Viên chức")
    me.say("có lẽ")
    assert "Vui lòng chọn Có hoặc Không" in me.last_text()


def test_group_chat_ignores_chatter_and_keeps_commands_private(chat):
    me = chat("5", chat_id="-100")
    quiet = me.say("xin chào mọi người", chat_type="group")
    assert quiet.replies == []
    me.say("/start", chat_type="group")
    assert "nhắn riêng" in me.last_text()


def test_unknown_command_and_unknown_text(chat):
    me = chat()
    me.say("/khongco")
    assert "Không có lệnh /khongco" in me.last_text()
    me.say("xin chào")  # a first message from someone new: registration, as on Zalo
    assert "Bước 1/5" in me.last_text()
    me.say("/huy")
    register(me)
    me.say("xin chào")
    assert "/trogiup" in me.last_text()


def test_with_no_units_loaded_the_unit_step_says_so_once(settings, content):  # type: ignore[no-untyped-def]
    """A deployment whose admin has not imported the units yet: the person is told that, not
    that the search found nothing and to pick from a tree that is not there."""
    from bot.app import build_app
    from bot.channels.memory import MemoryChat

    bare = build_app(settings, content=content)  # no units imported
    try:
        me = MemoryChat(bare.engine, "nu1")
        me.say("/start")
        me.say("Phạm Thị Hoa")
        me.say("mầm non")
        said = me.last_text()
        assert "chưa có danh sách đơn vị" in said
        assert "Không tìm thấy" not in said and "cây đơn vị" not in said
    finally:
        bare.db.dispose()
