"""An in-memory channel: push an Incoming, read the replies. Used by flow tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from bot.engine import Engine
from bot.messages import Choices, FileRequest, Incoming, Reply, Response, Text, Upload, to_plain

_ids = itertools.count(1)


@dataclass
class MemoryChat:
    """One user talking to the engine; keeps every reply in order."""

    engine: Engine
    user_id: str
    chat_id: str | None = None
    platform: str = "memory"
    replies: list[Reply] = field(default_factory=list)
    last_response: Response | None = None
    postbox: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)  # shared by chats

    def _send(
        self,
        *,
        text: str | None = None,
        choice: str | None = None,
        update_id: str | None = None,
        chat_type: str = "private",
        photo: bytes | None = None,
        upload: Upload | None = None,
    ) -> Response:
        incoming = Incoming(
            platform=self.platform,
            update_id=update_id or f"u{next(_ids)}",
            user_id=self.user_id,
            chat_id=self.chat_id or self.user_id,
            text=text,
            choice=choice,
            chat_type=chat_type,  # type: ignore[arg-type]
            photo=photo,
            upload=upload,
        )
        response = self.engine.handle_sync(incoming)
        self.last_response = response
        self.replies.extend(response.replies)
        for note in response.notifications:
            self.postbox.setdefault((note.platform, note.chat_id), []).append(note.reply)
        return response

    def inbox(self) -> list[str]:
        """Plain texts other people's actions sent to this chat, oldest first."""
        box = self.postbox.get((self.platform, self.chat_id or self.user_id), [])
        return [to_plain(r.text) for r in box if isinstance(r, Text | Choices | FileRequest)]

    def say(self, text: str, **kw: object) -> Response:
        return self._send(text=text, **kw)  # type: ignore[arg-type]

    def send_photo(self, data: bytes, caption: str = "") -> Response:
        return self._send(text=caption, photo=data)

    def send_file(self, filename: str, data: bytes, caption: str = "", **kw: object) -> Response:
        """Send a file in the chat (as Telegram takes them; on Zalo it comes by upload link)."""
        return self._send(text=caption, upload=Upload(filename, data, len(data)), **kw)  # type: ignore[arg-type]

    def press_data(self, data: str, **kw: object) -> Response:
        return self._send(choice=data, **kw)  # type: ignore[arg-type]

    def last_choices(self) -> Choices:
        for reply in reversed(self.replies):
            if isinstance(reply, Choices):
                return reply
        raise AssertionError("the bot has offered no choices")

    def press(self, label_part: str) -> Response:
        """Press the button whose label contains label_part, in the latest choices."""
        choices = self.last_choices()
        for option in choices.options:
            if label_part.lower() in option.label.lower():
                return self.press_data(option.data)
        labels = [o.label for o in choices.options]
        raise AssertionError(f"no button with {label_part!r}; buttons: {labels}")

    def texts(self, response: Response | None = None) -> list[str]:
        """Plain texts of one response (default: the last one)."""
        resp = response or self.last_response
        assert resp is not None
        out = []
        for reply in resp.replies:
            if isinstance(reply, Text | Choices | FileRequest):
                out.append(to_plain(reply.text))
        return out

    def last_text(self) -> str:
        return "\n".join(self.texts())
