"""The terminal channel for `congdoan chat`: choices as numbered lines, answered by number."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.engine import Engine
from bot.messages import (
    MAX_UPLOAD_BYTES,
    Choices,
    Document,
    FileRequest,
    Incoming,
    Photo,
    Response,
    Text,
    Upload,
    to_plain,
)
from bot.services.outbox import SendResult
from bot.typedchoice import numbered

PLATFORM = "console"
USER_ID = "local"
QUIT_WORDS = {"/thoat", "/thoát", "/exit", "/quit"}


class ConsoleChannel:
    def __init__(
        self,
        engine: Engine,
        *,
        files_dir: Path,
        out: TextIO = sys.stdout,
        user_id: str = USER_ID,
    ):
        self.engine = engine
        self.files_dir = files_dir
        self.out = out
        self.user_id = user_id  # the default user is an admin; others play plain members

    def render(self, response: Response) -> None:
        for reply in response.replies:
            if isinstance(reply, Text):
                self._print(to_plain(reply.text))
            elif isinstance(reply, Choices):
                self._print(numbered(reply, self.engine.texts))
            elif isinstance(reply, FileRequest):  # a file is "sent" by typing its path
                self._print(to_plain(reply.text + "\n\n" + self.engine.texts("console.file_hint")))
            elif isinstance(reply, Photo | Document):
                path = self._save(reply.filename, reply.data)
                kind = "Ảnh" if isinstance(reply, Photo) else "Tệp"
                caption = f" – {to_plain(reply.caption)}" if reply.caption else ""
                self._print(f"[{kind} đã lưu: {path}]{caption}")
        for note in response.notifications:
            if isinstance(note.reply, Text | Choices):
                mine = (note.platform, note.chat_id) == (PLATFORM, self.user_id)
                head = "" if mine else to_plain(self.engine.texts("console.to_other")) + "\n"
                self._print(head + to_plain(note.reply.text))

    def _print(self, text: str) -> None:
        self.out.write("\n🤖 " + text.replace("\n", "\n   ") + "\n")
        self.out.flush()

    def _save(self, filename: str, data: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        path.write_bytes(data)
        return path

    def deliver(self, chat_id: str, text: str, photo: bytes | None = None) -> None:
        """A message from the outbox (announcement, post, reminder): shown here, since every
        terminal user shares this screen's database."""
        head = (
            ""
            if chat_id == self.user_id
            else to_plain(self.engine.texts("console.to_other")) + "\n"
        )
        self._print(head + to_plain(text))
        if photo:
            self._print(f"[Ảnh đã lưu: {self._save('anh.png', photo)}]")

    def handle_line(self, line: str) -> Response:
        upload = file_at(line)
        incoming = Incoming(
            platform=PLATFORM,
            update_id=str(time.time_ns()),
            user_id=self.user_id,
            chat_id=self.user_id,
            text="" if upload is not None else line,
            upload=upload,
        )
        response = self.engine.handle_sync(incoming)
        self.render(response)
        return response

    def loop(
        self,
        read: Callable[[str], str] = input,
        banner: str = "",
        bye: str = "",
        after: Callable[[], None] | None = None,
    ) -> None:
        if banner:
            self.out.write(banner + "\n")
        while True:
            try:
                line = read("\n👤 Bạn: ")
            except (EOFError, KeyboardInterrupt):
                break
            if line.strip().lower() in QUIT_WORDS:
                break
            if line.strip():
                self.handle_line(line)
                if after is not None:  # e.g. deliver what the scheduler has due
                    after()
        if bye:
            self.out.write("\n" + bye + "\n")


def file_at(line: str) -> Upload | None:
    """A line that is the path of a file on this computer sends that file (a file dragged into
    a terminal window types its path, often quoted)."""
    text = line.strip().strip("'\"")
    if not text or len(text) > 1000 or "\n" in text or not Path(text).suffix:
        return None  # a file has an extension: commands, numbers and words have none
    path = Path(text).expanduser()
    try:
        if not path.is_file():
            return None
        size = path.stat().st_size
        data = path.read_bytes() if size <= MAX_UPLOAD_BYTES else None
    except OSError:
        return None
    return Upload(path.name, data, size)


class ConsoleSender:
    """The delivery worker's sender for the terminal: prints instead of calling a platform."""

    platform = PLATFORM

    def __init__(self, channel: ConsoleChannel):
        self.channel = channel

    async def send(
        self, chat_id: str, text: str, photo: bytes | None = None, *, kind: str | None = None
    ) -> SendResult:
        self.channel.deliver(chat_id, text, photo)
        return SendResult("sent")
