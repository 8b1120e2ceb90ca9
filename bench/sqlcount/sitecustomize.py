"""Counts the SQL statements and commits of a bot process that bench/interactive.py starts.

Python imports `sitecustomize` at start from any folder on PYTHONPATH, so the bench puts this
folder there and the unchanged `congdoan run` is measured. It does something only when
CONGDOAN_BENCH_SQL_COUNT names a file: the counters live in that file (nine little-endian
64-bit integers, memory-mapped), so the bench reads them at any moment, and they are there at
exit. Order: statements, SELECT, INSERT, UPDATE, DELETE, other statements, commits, rollbacks,
connection checkouts from the pool (one per session; on PostgreSQL each also pings, uncounted)."""

from __future__ import annotations

import os

FIELDS = (
    *("statements", "select", "insert", "update", "delete", "other"),
    *("commit", "rollback", "checkout"),
)
_VERBS = {"SELECT": 1, "INSERT": 2, "UPDATE": 3, "DELETE": 4}


def _install(path: str) -> None:
    import atexit
    import mmap
    import struct
    import threading

    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    size = 8 * len(FIELDS)
    with open(path, "wb") as f:
        f.write(bytes(size))
    fd = os.open(path, os.O_RDWR)
    counters = mmap.mmap(fd, size)
    counts = [0] * len(FIELDS)
    lock = threading.Lock()  # the engine runs updates in worker threads

    def bump(*indexes: int) -> None:
        with lock:
            for i in indexes:
                counts[i] += 1
                struct.pack_into("<Q", counters, 8 * i, counts[i])

    def statement(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        bump(0, _VERBS.get(statement.lstrip()[:6].upper(), 5))

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", lambda conn: bump(6))
    event.listen(Engine, "rollback", lambda conn: bump(7))
    event.listen(Pool, "checkout", lambda dbapi_conn, record, proxy: bump(8))
    atexit.register(counters.flush)


_path = os.environ.get("CONGDOAN_BENCH_SQL_COUNT")
if _path:
    _install(_path)
