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
    assert "Đăng ký thành công" in chat.last_text(), chat.last_text()
