"""Officers leave: /phanquyen lists the officers and takes the role back, `congdoan roles revoke`
and `congdoan roles list` do the same from the command line. The revoked officer's next command
and the buttons of their old messages are refused; every revocation is audited."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.channels.memory import MemoryChat
from bot.cli import app as cli
from bot.config import get_settings
from bot.models import AuditLog, RoleGrant
from tests.helpers import register


def officer_in_chat(admin: MemoryChat, name_typed: str, name: str, unit: str) -> None:
    admin.say("/phanquyen")
    admin.say(name_typed)
    admin.press(name)
    admin.press(unit)
    admin.press("Cấp quyền")
    assert "Đã cấp quyền" in admin.last_text()


def test_an_admin_lists_the_officers_and_takes_the_role_back(app, chat) -> None:  # type: ignore[no-untyped-def]
    officer = chat("50")
    register(officer, name="Phan Văn Lâm", unit="Trung tâm Y tế", group="Cán bộ công đoàn")
    admin = chat("admin")
    register(admin, name="Quản Trị Viên", unit="Mầm non Hoa Mai")
    officer_in_chat(admin, "phan van lam", "Phan Văn Lâm", "Công đoàn Viên chức tỉnh")

    officer.say("/thongke")  # buttons on screen...
    assert "Thống kê năm" in officer.last_text()
    old_buttons = officer.last_choices()
    officer.say("/thongbao")  # ... and a flow left open, waiting for the announcement's text
    assert "thông báo" in officer.last_text().lower()

    admin.say("/phanquyen")
    admin.press("Danh sách cán bộ")
    text = admin.last_text()
    assert "Cán bộ công đoàn: 1 người" in text
    assert "1. Phan Văn Lâm – Công đoàn Viên chức tỉnh (cấp ngày" in text
    admin.say("x" * 5000)  # typed words filter the list; a flood is cut, not echoed whole
    assert "Không có cán bộ công đoàn nào có tên chứa" in admin.last_text()
    assert len(admin.last_text()) < 400
    admin.say("/phanquyen")
    admin.press("Danh sách cán bộ")
    admin.say("không có ai")
    assert "Không có cán bộ công đoàn nào có tên chứa “không có ai”" in admin.last_text()
    admin.say("/phanquyen")
    admin.press("Danh sách cán bộ")
    admin.say("lam")  # words of one person's line choose them
    assert "Thu hồi quyền cán bộ công đoàn của Phan Văn Lâm tại Công đoàn Viên chức tỉnh?" in (
        admin.last_text()
    )
    admin.say("thu hoi")  # words of an irreversible choice choose nothing
    assert "Phan Văn Lâm" in str(admin.last_choices()) or "Vui lòng chọn" in admin.last_text()
    confirm = next(o for o in admin.last_choices().options if "Thu hồi" in o.label)
    admin.press_data(confirm.data)
    assert "Đã thu hồi quyền cán bộ công đoàn của Phan Văn Lâm tại Công đoàn Viên chức tỉnh" in (
        admin.last_text()
    )
    admin.press_data(confirm.data)  # a double tap counts nothing
    assert "cũ hoặc đã được bấm" in admin.last_text()
    assert any("đã được quản trị viên thu hồi" in t for t in officer.inbox())

    # the next update: the old buttons and the open flow are refused, and so is the command
    officer.say("Họp công đoàn lúc 14:00 thứ Sáu.")  # the flow still open
    assert "Bạn không còn quyền dùng thao tác này" in officer.last_text()
    officer.press_data(old_buttons.options[0].data)  # an older message's
    assert "cũ hoặc đã được bấm" in officer.last_text() and "Thống kê" not in officer.last_text()
    officer.say("/thongke")
    assert "chỉ dành cho cán bộ công đoàn" in officer.last_text()
    officer.say("/trogiup")
    assert "/thongke" not in officer.last_text()

    with Session(app.db) as s:
        assert s.exec(select(RoleGrant)).all() == []
        revoked = s.exec(select(AuditLog).where(AuditLog.action == "revoke")).one()
    assert revoked.actor == "memory:admin" and revoked.detail["role"] == "officer"
    admin.say("/nhatky")
    assert "Thu hồi quyền" in admin.last_text()
    admin.say("/phanquyen")
    admin.press("Danh sách cán bộ")
    assert "Chưa có ai được cấp quyền cán bộ công đoàn" in admin.last_text()


def test_a_revoked_officer_mid_flow_is_stopped_at_the_next_button(app, chat) -> None:  # type: ignore[no-untyped-def]
    officer = chat("51")
    register(officer, name="Đỗ Thị Hằng", unit="Trung tâm Y tế")
    admin = chat("admin")
    register(admin, name="Quản Trị Viên", unit="Mầm non Hoa Mai")
    officer_in_chat(admin, "do thi hang", "Đỗ Thị Hằng", "LĐLĐ tỉnh Mẫu")
    officer.say("/thongke")
    opened = next(o for o in officer.last_choices().options if "Viên chức tỉnh" in o.label)
    officer.press_data(opened.data)  # drill down: a button of the current flow
    assert "Thống kê năm" in officer.last_text()
    up = next(o for o in officer.last_choices().options if "Lên" in o.label)
    with Session(app.db) as s:
        for grant in s.exec(select(RoleGrant)).all():
            s.delete(grant)
        s.commit()
    officer.press_data(up.data)
    assert "Bạn không còn quyền dùng thao tác này" in officer.last_text()
    assert "Thống kê năm" not in officer.last_text()


@pytest.fixture
def cli_env(app, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "777")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def roles(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["roles", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_roles_revoke_and_list_from_the_command_line(app, cli_env) -> None:  # type: ignore[no-untyped-def]
    me = MemoryChat(app.engine, "31337", platform="telegram")
    register(me, name="Lê Văn Minh")
    who = ["--platform", "telegram", "--user", "31337"]
    assert roles("grant", *who, "--role", "officer", "--unit", "CD-NGANH-GD")[0] == 0
    assert roles("grant", *who, "--role", "officer", "--unit", "CD-VIENCHUC")[0] == 0
    assert roles("grant", *who, "--role", "admin")[0] == 0
    code, out = roles("list")
    assert code == 0
    assert "officer\tCD-NGANH-GD (Công đoàn ngành Giáo dục)\tLê Văn Minh\ttelegram:31337" in out
    assert "admin\tmọi đơn vị\tLê Văn Minh\ttelegram:31337" in out
    assert "admin\tmọi đơn vị\t(theo ADMIN_TELEGRAM_IDS)\ttelegram:777" in out
    code, out = roles("list", "--unit", "CD-VIENCHUC")
    assert "CD-VIENCHUC" in out and "CD-NGANH-GD" not in out and "admin" not in out

    code, out = roles("revoke", *who, "--role", "officer", "--unit", "CD-NGANH-GD")
    assert code == 0 and "Đã thu hồi 1 quyền của telegram:31337" in out
    code, out = roles("revoke", *who, "--role", "officer", "--unit", "CD-NGANH-GD")
    assert code == 1 and "không có quyền officer tại CD-NGANH-GD để thu hồi" in out
    me.say("/thongke")  # still an admin
    assert "Thống kê năm" in me.last_text()
    code, out = roles("revoke", *who)  # everything left
    assert code == 0 and "Đã thu hồi 2 quyền" in out
    me.say("/thongke")
    assert "chỉ dành cho cán bộ công đoàn" in me.last_text()
    code, out = roles("revoke", "--platform", "telegram", "--user", "777")
    assert code == 2 and "chưa khai báo thông tin" in out
    with Session(app.db) as s:
        audit = s.exec(select(AuditLog).where(AuditLog.action == "revoke")).all()
    assert len(audit) == 3 and {a.actor for a in audit} == {"cli"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["revoke", "--platform", "viber", "--user", "1"], "--platform phải là telegram hoặc zalo"),
        (["revoke", "--platform", "telegram"], "thiếu --user"),
        (["revoke", "--platform", "telegram", "--user", "1", "--role", "boss"], "--role phải là"),
        (["revoke", "--platform", "telegram", "--user", "1"], "chưa khai báo thông tin"),
        (["list", "--unit", "KHONG-CO"], "không có đơn vị mã KHONG-CO"),
    ],
)
def test_roles_refusals_are_one_line(app, cli_env, args, says) -> None:  # type: ignore[no-untyped-def]
    code, out = roles(*args)
    assert code != 0 and says in out and len(out.strip().splitlines()) == 1
