"""One person on two apps: /lienket links a Telegram and a Zalo account to one member (one
pledge, counted once, roles shared, mass messages once on the app used last); nobody links to
someone else's member without the code; unlinking and erasure."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session, select

from bot.models import Broadcast, BroadcastKind, Identity, Member, RoleGrant, utcnow
from bot.services import audience
from tests.helpers import register


def _code(text: str) -> str:
    found = re.search(r"Mã liên kết của bạn: (\d{4} \d{4})", text)
    assert found is not None, text
    return found.group(1)


def _members(app) -> list[Member]:  # type: ignore[no-untyped-def]
    with Session(app.db) as s:
        return list(s.exec(select(Member).where(Member.deleted_at.is_(None))).all())  # type: ignore[union-attr]


def test_a_member_links_zalo_to_telegram_and_is_one_member(app, chat) -> None:  # type: ignore[no-untyped-def]
    tg = chat("5001", platform="telegram")
    register(tg, name="Trần Thị Bích")
    tg.say("/lienket")
    code = _code(tg.last_text())
    zl = chat("zalo-abc", platform="zalo")
    zl.say("/lienket")
    assert "Nhập mã liên kết" in zl.last_text()
    zl.say("1234")  # a typo: told the shape, asked again
    assert "8 chữ số" in zl.last_text()
    zl.say(code)
    assert "Đã liên kết" in zl.last_text() and "Trần Thị Bích" in zl.last_text()
    assert any("vừa được liên kết" in t for t in tg.inbox())  # told on the app they had
    assert len(_members(app)) == 1
    zl.say("/toi")
    profile = zl.last_text()
    assert "Trần Thị Bích" in profile
    assert "zalo-abc" in profile and "5001" in profile  # both account ids, to copy
    zl.say("/start")
    assert "Bạn đã khai báo thông tin rồi" in zl.last_text()


def test_a_code_works_once_for_ten_minutes_and_only_with_the_code(app, chat) -> None:  # type: ignore[no-untyped-def]
    tg = chat("5001", platform="telegram")
    register(tg, name="Trần Thị Bích")
    tg.say("/lienket")
    code = _code(tg.last_text())
    stranger = chat("zalo-x", platform="zalo")
    stranger.say("/lienket 0000 0000")
    assert "Mã không đúng hoặc đã hết hạn" in stranger.last_text()
    for _ in range(5):
        stranger.say("1111 2222")
    stranger.say(code)  # even the right code: too many wrong ones first
    assert "nhập sai mã nhiều lần" in stranger.last_text()
    assert len(_members(app)) == 1
    with Session(app.db) as s:
        assert s.exec(select(Identity).where(Identity.platform_user_id == "zalo-x")).first() is None
    late = chat("zalo-y", platform="zalo")
    app.engine.clock = lambda: utcnow() + timedelta(minutes=11)
    late.say(f"/lienket {code}")
    assert "hết hạn" in late.last_text()
    app.engine.clock = utcnow
    tg.say("/lienket")
    fresh = _code(tg.last_text())
    ok = chat("zalo-z", platform="zalo")
    ok.say(fresh)  # the code alone, as a first message: it links, no registration asked
    assert "Đã liên kết" in ok.last_text()
    again = chat("zalo-w", platform="zalo")
    again.say(f"/lienket {fresh}")
    assert "Mã không đúng hoặc đã hết hạn" in again.last_text()


def test_roles_are_shared_and_mass_messages_go_once_to_the_app_used_last(app, chat) -> None:  # type: ignore[no-untyped-def]
    tg = chat("5001", platform="telegram")
    register(tg, name="Trần Thị Bích")
    tg.say("/lienket")
    zl = chat("zalo-abc", platform="zalo")
    zl.say(f"/lienket {_code(tg.last_text())}")
    with Session(app.db) as s:
        member = s.exec(select(Member)).one()
        s.add(
            RoleGrant(member_id=member.id, role="officer", unit_id=member.unit_id, granted_by="t")
        )
        s.commit()
    zl.say("/chuanop")
    assert "chỉ dành cho" not in zl.last_text()  # an officer on Zalo too

    def recipients() -> list[tuple[str, str]]:
        with Session(app.db) as s:
            probe = Broadcast(kind=BroadcastKind.ANNIVERSARY, text="", created_by="t")
            return [
                (r.platform, r.chat_id)
                for r in audience.recipients(s, probe, platforms={"telegram", "zalo"})
            ]

    app.engine.clock = lambda: utcnow() + timedelta(hours=2)
    zl.say("/trogiup")
    assert recipients() == [("zalo", "zalo-abc")]
    app.engine.clock = lambda: utcnow() + timedelta(hours=4)
    tg.say("/trogiup")
    assert recipients() == [("telegram", "5001")]
    app.engine.clock = utcnow


def test_unlink_in_toi_and_erasure_removes_both_accounts(app, chat) -> None:  # type: ignore[no-untyped-def]
    tg = chat("5001", platform="telegram")
    register(tg, name="Trần Thị Bích")
    tg.say("/lienket")
    zl = chat("zalo-abc", platform="zalo")
    zl.say(f"/lienket {_code(tg.last_text())}")
    tg.say("/toi")
    tg.press("Bỏ liên kết tài khoản Zalo")
    assert "Đã bỏ liên kết" in tg.last_text()
    zl.say("/toi")
    assert "Bạn chưa khai báo thông tin" in zl.last_text()
    tg.say("/lienket")
    zl.say(f"/lienket {_code(tg.last_text())}")
    assert "Đã liên kết" in zl.last_text()
    zl.say("/toi")
    zl.press("Rút lại đồng ý và xóa dữ liệu")
    zl.press("Xóa vĩnh viễn")
    with Session(app.db) as s:
        assert s.exec(select(Identity).where(Identity.member_id.is_not(None))).all() == []  # type: ignore[union-attr]
    tg.say("/toi")
    assert "Bạn chưa khai báo thông tin" in tg.last_text()


def test_a_registered_account_cannot_be_taken_over(app, chat) -> None:  # type: ignore[no-untyped-def]
    tg = chat("5001", platform="telegram")
    register(tg, name="Trần Thị Bích")
    tg.say("/lienket")
    code = _code(tg.last_text())
    other = chat("zalo-other", platform="zalo")
    register(other, name="Lê Văn Cường")
    other.say(f"/lienket {code}")
    assert "đã khai báo thông tin rồi" in other.last_text()
    with Session(app.db) as s:
        who = s.exec(select(Identity).where(Identity.platform_user_id == "zalo-other")).one()
        cuong = s.exec(select(Member).where(Member.full_name == "Lê Văn Cường")).one()
    assert who.member_id == cuong.id
