"""The terminal channel for `congdoan chat`: choices as numbered lines, answered by number."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot.engine import Engine
from bot.messages import Choices, Document, Incoming, Photo, Response, Text, to_plain

PLATFORM = "console"
USER_ID = "local"
QUIT_WORDS = {"/thoat", "/thoát", "/exit", "/quit"}


class ConsoleChannel:
    def __init__(self, engine: Engine, *, files_dir: Path, out: TextIO = sys.stdout):
        self.engine = engine
        self.files_dir = files_dir
        self.out = out

    def render(self, response: Response) -> None:
        for reply in response.replies:
            if isinstance(reply, Text):
                self._print(to_plain(reply.text))
            elif isinstance(reply, Choices):
                lines = [to_plain(reply.text)]
                labels = [to_plain(o.label) for o in reply.options]
                if all(len(label) <= 12 for label in labels):  # short labels fit on one line
                    lines.append("  " + "   ".join(f"{i}) {x}" for i, x in enumerate(labels, 1)))
                else:
                    lines += [f"  {i}. {label}" for i, label in enumerate(labels, 1)]
                self._print("\n".join(lines))
            elif isinstance(reply, Photo | Document):
                path = self._save(reply.filename, reply.data)
                kind = "Ảnh" if isinstance(reply, Photo) else "Tệp"
                caption = f" – {to_plain(reply.caption)}" if reply.caption else ""
                self._print(f"[{kind} đã lưu: {path}]{caption}")
        for note in response.notifications:
            if isinstance(note.reply, Text | Choices):
                mine = (note.platform, note.chat_id) == (PLATFORM, USER_ID)
                head = "" if mine else "[Tin nhắn gửi tới một thành viên khác]\n"
                self._print(head + to_plain(note.reply.text))

    def _print(self, text: str) -> None:
        self.out.write("\n🤖 " + text.replace("\n", "\n   ") + "\n")
        self.out.flush()

    def _save(self, filename: str, data: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        path = self.files_dir / Path(filename).name
        path.write_bytes(data)
        return path

    def handle_line(self, line: str) -> Response:
        incoming = Incoming(
            platform=PLATFORM,
            update_id=str(time.time_ns()),
            user_id=USER_ID,
            chat_id=USER_ID,
            text=line,
        )
        response = self.engine.handle_sync(incoming)
        self.render(response)
        return response

    def loop(self, read: Callable[[str], str] = input, banner: str = "", bye: str = "") -> None:
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
        if bye:
            self.out.write("\n" + bye + "\n")
