"""One-time upload links, for apps that take no files in the chat (Zalo): the bot answers a
request for a file with `{PUBLIC_BASE_URL}/upload/<id>`; the page there sends one file, which
then reaches the conversation of that chat as if sent in it. The id is unguessable (256 random
bits), works once and expires after an hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col

from bot.models_library import UploadSlot
from bot.services import files

LIFE = timedelta(hours=1)


@dataclass(frozen=True)
class Slot:
    id: str
    platform: str
    user_id: str
    chat_id: str
    expires_at: datetime


def open_slot(
    session: Session, *, platform: str, user_id: str, chat_id: str, now: datetime
) -> UploadSlot:
    row = UploadSlot(
        id=files.new_link_id(),
        platform=platform,
        user_id=user_id,
        chat_id=chat_id,
        created_at=now,
        expires_at=now + LIFE,
    )
    session.add(row)
    session.flush()
    return row


def url(base: str, slot_id: str) -> str:
    return f"{base.rstrip('/')}/upload/{slot_id}"


def find(session: Session, slot_id: str, *, now: datetime) -> Slot | None:
    """The link's chat, while it is valid (well formed, known, not used, not expired)."""
    if not files.link_id_ok(slot_id):
        return None
    row = session.get(UploadSlot, slot_id)
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return Slot(row.id, row.platform, row.user_id, row.chat_id, row.expires_at)


def use(session: Session, slot_id: str, *, now: datetime) -> Slot | None:
    """Take the link for one file: only the first of two submits at once gets it."""
    slot = find(session, slot_id, now=now)
    if slot is None:
        return None
    taken = session.execute(
        update(UploadSlot)
        .where(col(UploadSlot.id) == slot_id, col(UploadSlot.used_at).is_(None))
        .values(used_at=now)
    )
    session.commit()
    return slot if taken.rowcount == 1 else None  # type: ignore[attr-defined]


def prune(session: Session, *, now: datetime) -> int:
    """Forget links a day after they expired."""
    result = session.execute(
        delete(UploadSlot).where(col(UploadSlot.expires_at) < now - timedelta(days=1))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
