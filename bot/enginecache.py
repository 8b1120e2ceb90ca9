"""Memory kept per database engine, which is one per process (two in a test of two replicas):
the plans and the library each keep their copy this way, read again after a TTL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlmodel import Session

T = TypeVar("T")

_stores: dict[str, weakref.WeakKeyDictionary[Engine, Any]] = {}
_lock = threading.Lock()


def engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    assert isinstance(engine, Engine)
    return engine


def per_engine(name: str, session: Session, make: Callable[[], T]) -> T:
    """The `name` object of the session's engine, made by `make` the first time."""
    engine = engine_of(session)
    with _lock:
        store = _stores.setdefault(name, weakref.WeakKeyDictionary())
        found = store.get(engine)
        if found is None:
            found = store[engine] = make()
        return found  # type: ignore[no-any-return]
