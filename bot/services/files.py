"""Files served by link, for platforms that take a URL instead of an upload (Zalo): stored in
the database under an unguessable id, served at `{PUBLIC_BASE_URL}/files/<id>` until they expire,
never listed. Certificates, charts, pledges, data exports and reports go out this way."""

from __future__ import annotations

import mimetypes
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete
from sqlmodel import Session, col

from bot.models import StoredFile

DEFAULT_TTL = timedelta(days=7)
MAX_TTL = timedelta(days=31)
_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def new_link_id() -> str:
    """An unguessable link id (256 random bits), for files and upload pages alike."""
    return secrets.token_urlsafe(32)


def link_id_ok(value: str) -> bool:
    """Whether a link's id is well formed (checked before any lookup)."""
    return bool(_ID.match(value))


_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".json": "application/json",
    ".pdf": "application/pdf",
}


@dataclass(frozen=True)
class Published:
    url: str
    expires_at: datetime


def content_type(filename: str, data: bytes = b"") -> str:
    """By the file's extension; a photo by its first bytes (a JPEG named .png is served right)."""
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return _TYPES.get(suffix) or mimetypes.guess_type(filename)[0] or "application/octet-stream"


def store(
    session: Session,
    *,
    data: bytes,
    filename: str,
    now: datetime,
    ttl: timedelta | None = None,
) -> StoredFile:
    """Keep the file under a new unguessable id (256 random bits) until now + ttl."""
    life = min(ttl or DEFAULT_TTL, MAX_TTL)
    row = StoredFile(
        id=new_link_id(),
        filename=filename[:200],
        content_type=content_type(filename, data),
        size=len(data),
        data=data,
        created_at=now,
        expires_at=now + life,
    )
    session.add(row)
    session.flush()
    return row


def url(base: str, row: StoredFile) -> str:
    return f"{base.rstrip('/')}/files/{row.id}"


def find(session: Session, file_id: str, *, now: datetime) -> StoredFile | None:
    """The file behind a link, or None when the id is malformed, unknown or expired."""
    if not link_id_ok(file_id):
        return None
    row = session.get(StoredFile, file_id)
    if row is None or row.expires_at <= now:
        return None
    return row


def prune(session: Session, *, now: datetime) -> int:
    """Delete expired files (the scheduler does this); returns how many. Does not commit."""
    result = session.execute(delete(StoredFile).where(col(StoredFile.expires_at) <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


class Publisher:
    """Stores files and gives their links, for a channel or sender that sends files by URL.
    `base` is PUBLIC_BASE_URL; without it there are no links (publish gives None)."""

    def __init__(self, db: Engine, base: str, clock: Callable[[], datetime]):
        self.db = db
        self.base = base.rstrip("/")
        self.clock = clock

    def publish(self, data: bytes, filename: str, ttl: timedelta | None = None) -> Published | None:
        """Blocking (database): call it from a thread in async code."""
        if not self.base:
            return None
        with Session(self.db, expire_on_commit=False) as session:
            row = store(session, data=data, filename=filename, now=self.clock(), ttl=ttl)
            session.commit()
        return Published(url(self.base, row), row.expires_at)
