"""The benchmarks' fresh databases."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def database(url: str | None, workdir: Path, tag: str = "") -> tuple[str, Any]:
    """A fresh database: a SQLite file, or a new database on the given PostgreSQL server."""
    if url is None:
        return f"sqlite:///{workdir / ('bench-' + tag if tag else 'bench')}.db", None
    base = make_url(url)
    if base.get_backend_name() != "postgresql":
        return url, None
    name = f"congdoan_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop
