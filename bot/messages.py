"""Neutral messages: what channels translate platform updates into, and replies back out."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Literal

Platform = str  # "telegram", "zalo", "console", "memory"


@dataclass(frozen=True)
class Incoming:
    """One thing a user did: typed text, a command, or chose an option."""

    platform: Platform
    update_id: str
    user_id: str
    chat_id: str
    text: str | None = None
    choice: str | None = None  # the opaque data of a pressed button
    chat_type: Literal["private", "group"] = "private"
    message_id: str | None = None  # the message the button was on, when known
    photo: bytes | None = None  # a photo sent in a private chat (its caption is the text)

    @property
    def command(self) -> tuple[str, str] | None:
        """`/start@bot ABC` -> ("start", "ABC"); None if the text is not a command."""
        if not self.text:
            return None
        match = _COMMAND.match(self.text.strip())
        if not match:
            return None
        return match.group(1).lower(), (match.group(2) or "").strip()


_COMMAND = re.compile(r"^/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.DOTALL)


CAPTION_LIMIT = 1024  # a longer text goes after the photo as a message of its own (Telegram)


@dataclass(frozen=True)
class Option:
    label: str
    data: str
    exact: bool = False  # typed, only its whole label or number chooses it (irreversible steps)


@dataclass(frozen=True)
class Text:
    """Text in Telegram's HTML subset (<b>, <i>, <code>); user values are already escaped."""

    text: str


@dataclass(frozen=True)
class Choices:
    text: str
    options: tuple[Option, ...]
    columns: int = 1


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str
    caption: str = ""


@dataclass(frozen=True)
class Document:
    data: bytes
    filename: str
    caption: str = ""


Reply = Text | Choices | Photo | Document


@dataclass(frozen=True)
class Notification:
    """A message to another person's chat (e.g. "your pledge was returned"), sent by the
    channel of that platform after the replies."""

    platform: Platform
    chat_id: str
    reply: Reply


@dataclass
class Response:
    """What the engine answers to one Incoming."""

    replies: list[Reply] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    selected: str | None = None  # label of the option chosen, to mark the old message
    notice: str | None = None  # a short toast for a pressed button
    duplicate: bool = False


_TAG = re.compile(r"</?(?:b|i|u|s|code|pre)>")


def to_plain(text: str) -> str:
    """Render our HTML subset as plain text (console, Zalo)."""
    return html.unescape(_TAG.sub("", text))


def split_text(text: str, limit: int) -> list[str]:
    """Split on paragraph, then line, then word boundaries so each part fits the limit."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        sep = "\n\n" if current else ""
        if len(current) + len(sep) + len(piece) <= limit:
            current += sep + piece
        else:
            if current:
                parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for para in text.split("\n\n"):
        if len(para) <= limit:
            out.append(para)
            continue
        line_buf = ""
        for line in para.split("\n"):
            for chunk in _hard_wrap(line, limit):
                if len(line_buf) + 1 + len(chunk) <= limit and line_buf:
                    line_buf += "\n" + chunk
                else:
                    if line_buf:
                        out.append(line_buf)
                    line_buf = chunk
        if line_buf:
            out.append(line_buf)
    return out


def _hard_wrap(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    out: list[str] = []
    buf = ""
    for word in line.split(" "):
        while len(word) > limit:
            if buf:
                out.append(buf)
                buf = ""
            out.append(word[:limit])
            word = word[limit:]
        if not buf:
            buf = word
        elif len(buf) + 1 + len(word) <= limit:
            buf += " " + word
        else:
            out.append(buf)
            buf = word
    if buf:
        out.append(buf)
    return out
