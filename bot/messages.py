"""Neutral messages: what channels translate platform updates into, and replies back out."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Platform = str  # "telegram", "zalo", "console", "memory"


MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # files people send: larger ones are not fetched


@dataclass(frozen=True)
class Upload:
    """A file a person sent (a DOCX, a PDF, a spreadsheet): in the chat where the platform takes
    files, else through an upload link (bot/services/uploads.py)."""

    filename: str
    data: bytes | None  # None: over MAX_UPLOAD_BYTES, not fetched
    size: int

    @property
    def too_big(self) -> bool:
        return self.data is None or self.size > MAX_UPLOAD_BYTES


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
    unsupported: str | None = None  # what the bot cannot read: "sticker", "voice", "file"...
    upload: Upload | None = None  # a file sent in a private chat (its caption is the text)

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
    # shown in place of the message whose button was pressed, where the platform can edit
    # messages (Telegram); elsewhere, or when that message cannot be edited, sent as a new one
    edit: bool = False


@dataclass(frozen=True)
class Photo:
    data: bytes
    filename: str
    caption: str = ""
    ttl: timedelta | None = None  # a download link's life where files go by URL (None: default)


@dataclass(frozen=True)
class Document:
    data: bytes
    filename: str
    caption: str = ""
    ttl: timedelta | None = None  # e.g. officers' reports expire sooner than the default


@dataclass(frozen=True)
class FileRequest:
    """Asks for a file. Where the platform takes files in the chat the text is enough; elsewhere
    the channel adds how to send one: an upload link (Zalo), a path to type (the terminal)."""

    text: str
    upload_id: str | None = None  # a one-time upload link, opened for apps that need one
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a channel can do; the neutral layer makes up for what it cannot."""

    text_limit: int  # characters in one message; longer texts are split
    buttons: bool  # inline buttons; without them choices are numbered lines, answered by typing
    uploads: bool  # files are uploaded; without it they are served by link (PUBLIC_BASE_URL)


Reply = Text | Choices | Photo | Document | FileRequest


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
    duplicate: bool = False


_TAG = re.compile(r"</?(?:b|i|u|s|code|pre)>")


def to_plain(text: str) -> str:
    """Render our HTML subset as plain text (console, Zalo)."""
    return html.unescape(_TAG.sub("", text))


def split_text(text: str, limit: int) -> list[str]:
    """Split on paragraph, then line, then sentence, then word boundaries so each part fits the
    limit; the parts keep their order and nothing is lost."""
    if len(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece, sep in _pieces(text, limit):
        joined = current + sep + piece if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            if current:
                parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


_SENTENCE = re.compile(r"(?<=[.!?…;:])\s+")


def _pieces(text: str, limit: int) -> list[tuple[str, str]]:
    """(piece, the separator that joins it to the previous one): paragraphs, and inside a
    paragraph too long for one part, its lines, sentences and words."""
    out: list[tuple[str, str]] = []
    for p, para in enumerate(text.split("\n\n")):
        para_sep = "\n\n" if p else ""
        if len(para) <= limit:
            out.append((para, para_sep))
            continue
        for n, line in enumerate(para.split("\n")):
            line_sep = para_sep if n == 0 else "\n"
            for k, chunk in enumerate(_sentences(line, limit)):
                out.append((chunk, line_sep if k == 0 else " "))
    return out


def _sentences(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    out: list[str] = []
    for sentence in _SENTENCE.split(line):
        out += _hard_wrap(sentence, limit)
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
