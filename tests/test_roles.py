"""Roles: admins from settings, grants from the CLI and from the chat, one permission check."""

from __future__ import annotations

import os

from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.channels.memory import MemoryChat
from bot.models import AuditLog, Member, RoleGrant, Unit
from bot.services.permissions import resolve_actor
from tests.helpers import register


def test_member_cannot_use_admin_commands(chat):
    me = chat("10")
    register(me)
    me.say("/phanquyen")
    assert "chỉ dành cho quản trị viên" in me.last_text()
    me.say("/trogiup")
    assert "/phanquyen" not in me.last_text() and "Đoàn viên" in me.last_text()


def test_admin_from_settings_grants_officer_in_chat(app, chat):
    worker = chat("11")
    register(worker, name="Lý Thị Thu", unit="May Phú Thịnh", group="Công nhân lao động")
    admin = MemoryChat(app.engine, "900", platform="telegram")  # ADMIN_TELEGRAM_IDS=900
    admin.say("/trogiup")
    assert "Quản trị viên" in admin.last_text() and "/phanquyen" in admin.last_text()
    admin.say("/phanquyen")
    admin.say("không có ai")
    assert "Không tìm thấy" in admin.last_text()
    admin.say("ly thi thu")
    admin.press("Lý Thị Thu")
    admin.press("Công đoàn các Khu công nghiệp tỉnh")
    admin.press("Cấp quyền")
    assert "Đã cấp quyền" in admin.last_text()
    with Session(app.db) as s:
        grant = s.exec(select(RoleGrant)).one()
        unit = s.get(Unit, grant.unit_id)
        audit = s.exec(select(AuditLog)).one()
    assert grant.role == "officer" and unit is not None and unit.code == "CD-KCN"
    assert audit.action == "grant" and audit.actor == "telegram:900"
    worker.say("/trogiup")
    assert "Cán bộ công đoàn" in worker.last_text()


def test_officer_scope_is_the_unit_subtree(app, chat):
    a = chat("12")
    register(a, name="Mai Văn Sơn", unit="Trung tâm Y tế")
    with Session(app.db) as s:
        member = s.exec(select(Member)).one()
        zones = s.exec(select(Unit).where(Unit.code == "CD-KCN")).one()
        s.add(RoleGrant(member_id=member.id, role="officer", unit_id=zones.id, granted_by="t"))
        s.commit()
        actor = resolve_actor(s, platform="memory", user_id="12")
        units = {u.code: u for u in s.exec(select(Unit)).all()}
    assert actor.can_manage(units["CDCS-CTY-MAY"]) and actor.can_manage(units["TO-CD-MAY-1"])
    assert actor.can_manage(units["CD-KCN"]) and not actor.can_manage(units["CDCS-TTYT-AP"])
    assert not actor.can_manage(units["CDCS-MN-HM"]) and not actor.can_manage(units["LDLD-DEMO"])


def test_cli_grant(app, chat, monkeypatch):
    from bot.cli import app as cli
    from bot.config import get_settings

    me = MemoryChat(app.engine, "31337", platform="telegram")
    register(me)
    monkeypatch.setenv("DATABASE_URL", app.settings.database_url)
    monkeypatch.delenv("ADMIN_TELEGRAM_IDS", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        bad = runner.invoke(
            cli,
            ["roles", "grant", "--platform", "telegram", "--user", "31337", "--role", "officer"],
        )
        assert bad.exit_code == 2 and "cần một đơn vị" in bad.output
        nobody = runner.invoke(
            cli, ["roles", "grant", "--platform", "telegram", "--user", "1", "--role", "admin"]
        )
        assert nobody.exit_code == 2 and "chưa khai báo thông tin" in nobody.output
        ok = runner.invoke(
            cli,
            [
                "roles",
                "grant",
                "--platform",
                "telegram",
                "--user",
                "31337",
                "--role",
                "officer",
                "--unit",
                "CD-NGANH-GD",
            ],
        )
        assert ok.exit_code == 0, ok.output
        admin = runner.invoke(
            cli, ["roles", "grant", "--platform", "telegram", "--user", "31337", "--role", "admin"]
        )
        assert admin.exit_code == 0
    finally:
        get_settings.cache_clear()
    me.say("/trogiup")
    assert "Quản trị viên" in me.last_text()
    assert os.environ.get("ADMIN_TELEGRAM_IDS") is None
