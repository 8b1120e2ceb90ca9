"""The audit trail of officer and admin actions: who (an id, never a name), when, what."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.models import AuditLog


def record(session: Session, *, actor: str, action: str, **detail: Any) -> None:
    session.add(AuditLog(actor=actor, action=action, detail=detail))
