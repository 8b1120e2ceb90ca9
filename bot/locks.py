"""One holder per database for work that must not run twice: the scheduler, the Zalo poller (Zalo
allows one getUpdates per bot). A PostgreSQL session advisory lock held on its own connection;
SQLite serves one process, which always holds it."""

from __future__ import annotations

import contextlib

from sqlalchemy import Connection, Engine, text

SCHEDULER = 0x43444254  # "CDBT"
ZALO_POLLER = 0x43445A50  # "CDZP"


class AdvisoryLock:
    def __init__(self, db: Engine, key: int):
        self.db = db
        self.key = key
        self.conn: Connection | None = None

    def try_acquire(self) -> bool:
        """Blocking (database): call it from a thread in async code."""
        if self.db.dialect.name != "postgresql":
            return True
        if self.conn is not None:
            return True
        conn = self.db.connect()
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
        conn.commit()
        if got:
            self.conn = conn
        else:
            conn.close()
        return got

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # the connection may be gone: the lock with it
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self.conn.commit()
            self.conn.close()
            self.conn = None
