"""Small helpers shared by the flow tests."""

from __future__ import annotations

from datetime import datetime

from bot.channels.memory import MemoryChat


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def register(
    chat: MemoryChat,
    name: str = "Nguyễn Văn An",
    unit: str = "Mầm non Hoa Mai",
    group: str = "Viên chức",
    party: str = "Không",
) -> None:
    """Walk the whole registration by typing and pressing, as a person would."""
    chat.say("/start")
    chat.say(name)
    chat.say(unit)
    chat.press(unit)
    chat.press(group)
    chat.press(party)
    chat.press("Tôi đồng ý")
    assert "Khai báo thông tin thành công" in chat.last_text(), chat.last_text()


def add_member(
    app,  # type: ignore[no-untyped-def]
    name: str,
    unit_code: str,
    user: str,
    *,
    party: bool = False,
    group: str = "vien_chuc",
) -> int:
    """A registered member with a chat account (user id = chat id), made in the database."""
    from sqlmodel import Session, select

    from bot.models import Identity, Member, Unit, utcnow

    with Session(app.db) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.code == unit_code)).one()
        member = Member(
            full_name=name,
            search_name=name.lower(),
            unit_id=unit_id,
            group=group,
            party_member=party,
            consent_at=utcnow(),
            consent_version="test",
        )
        s.add(member)
        s.flush()
        s.add(Identity(platform="memory", platform_user_id=user, chat_id=user, member_id=member.id))
        s.commit()
        assert member.id is not None
        return member.id


def make_officer(app, user: str, unit_code: str) -> None:  # type: ignore[no-untyped-def]
    """Give the member behind chat `user` the officer role over a unit's subtree."""
    from sqlmodel import Session, select

    from bot.models import Identity, RoleGrant, Unit

    with Session(app.db) as s:
        identity = s.exec(select(Identity).where(Identity.platform_user_id == user)).one()
        unit_id = s.exec(select(Unit.id).where(Unit.code == unit_code)).one()
        s.add(
            RoleGrant(member_id=identity.member_id, role="officer", unit_id=unit_id, granted_by="t")
        )
        s.commit()


def run_cli(*args: str) -> tuple[int, str]:
    """A `congdoan` command in this process: its exit code and output (never a traceback)."""
    from typer.testing import CliRunner

    from bot.cli import app as cli

    result = CliRunner().invoke(cli, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output
