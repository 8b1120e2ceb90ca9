"""Engine, sessions and migrations."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, Update, bindparam, event, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def guarded_update(table: Table, guard: str, names: Iterable[str]) -> Update:
    """An UPDATE of one row by id, only while its `guard` column still holds the value read
    (another process may have moved it on: the rowcount is then 0). Built once and bound at each
    execution (building it cost more than running it on a hot path); its parameters: `row_id`,
    `read_<guard>`, and one per column in `names`."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c[guard] == bindparam(f"read_{guard}"))
        .values({name: bindparam(name, type_=table.c[name].type) for name in names})
    )


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout for threads."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL (as Rails and most SQLite deployments run): a commit no
            # longer waits for the disk (0.7 ms of each update's 4 ms here); a killed process
            # loses nothing, a power cut may lose the last moment's commits, never the database
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, **kwargs)
    _ping_when_idle(engine)
    return engine


PING_AFTER_IDLE = 10.0  # seconds


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, but only for a connection that sat idle PING_AFTER_IDLE
    seconds: a database restarted while the bot was quiet is noticed before use (the pool
    replaces the connection), while a busy bot saves a round trip on every update. A restart in
    the middle of traffic fails the updates under way once (they are answered with an apology)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool drops this connection and tries a fresh one
            raise DisconnectionError() from exc


class NotWritable(Exception):
    """The database can be read but not written (a read-only file, mount or replica)."""


def check_writable(engine: Engine) -> None:
    """Refuse to start on a database the bot cannot write: every update writes (dedupe, state),
    so starting anyway would fail each one. A write is tried and rolled back."""
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                conn.exec_driver_sql("CREATE TABLE congdoan_write_check (x INTEGER)")
                conn.exec_driver_sql("ROLLBACK")
            else:
                read_only = conn.exec_driver_sql("SHOW transaction_read_only").scalar()
                if str(read_only).lower() == "on":
                    raise NotWritable("read-only transaction")
    except OperationalError as exc:
        if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
            raise NotWritable(str(exc.orig)) from None
        raise


def alembic_config(url: str) -> Config:
    from alembic.config import Config  # alembic (10 MB) loads only when migrating

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations on the given engine's database."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(None|\"([^\"]+)\")", re.MULTILINE)


def head_revisions() -> set[str]:
    """The newest migrations' ids, read from the files (a revision no other one revises) without
    loading alembic: the schema check at every start needs nothing more. Tested against
    alembic's own answer."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = {m.group(1): m.group(3) for m in _REVISION.finditer(path.read_text("utf-8"))}
        if found.get("revision"):
            revisions.add(found["revision"])
            if found.get("down_revision"):
                revised.add(found["down_revision"])
    return revisions - revised


def current_revisions(engine: Engine) -> set[str]:
    """The migrations applied to the database (none on a new one)."""
    with engine.connect() as conn:
        if not engine.dialect.has_table(conn, "alembic_version"):
            return set()
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


def schema_is_current(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()


def optimize(engine: Engine) -> None:
    """Keep SQLite's planner statistics current (PostgreSQL's autovacuum does this itself):
    without them SQLite scans a whole campaign to count one district. Sampled (analysis_limit),
    so it takes milliseconds even on a million rows; the scheduler runs it every few minutes.
    Best effort: a database busy with writers is simply analysed next time."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA analysis_limit=1000")
            conn.exec_driver_sql("PRAGMA optimize")
    except OperationalError as exc:
        logger.info("optimize skipped: %s", str(exc.orig)[:80])


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
