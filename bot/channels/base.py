"""What every channel shares: the switchboard that carries a notification (a message to another
person, e.g. "your pledge was returned") to the app that person uses, whichever app the action
came from."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol

from bot.messages import Incoming, Notification, Reply

logger = logging.getLogger(__name__)


class Outbound(Protocol):
    platform: str

    async def send_reply(self, chat_id: str, reply: Reply) -> None: ...

    async def dispatch(self, incoming: Incoming) -> None:
        """Handle an update that reached this process another way (a file sent through an
        upload link) as if it came from the app, and answer it there."""
        ...


class Switchboard:
    """The channels running in this process, by platform."""

    def __init__(self, channels: Iterable[Outbound] = ()):
        self.channels: dict[str, Outbound] = {c.platform: c for c in channels}

    def add(self, channel: Outbound) -> None:
        self.channels[channel.platform] = channel

    async def deliver(self, notifications: Iterable[Notification]) -> None:
        """Send each notification on its platform; one that fails is logged, never raised."""
        for note in notifications:
            channel = self.channels.get(note.platform)
            if channel is None:
                logger.warning("no channel running for a notification on %s", note.platform)
                continue
            try:
                await channel.send_reply(note.chat_id, note.reply)
            except Exception as exc:  # the person's action is done; the notice is best effort
                logger.warning("notification on %s failed: %s", note.platform, type(exc).__name__)
