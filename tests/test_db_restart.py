"""PostgreSQL restarted while the bot was quiet (issue 15 drops the ping before every update; an
idle connection is still checked before use): the next person who writes gets a normal answer."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

import bot.db
from tests.helpers import register


def test_a_database_restart_while_the_bot_was_quiet_loses_no_answer(  # type: ignore[no-untyped-def]
    app, chat, db_url, monkeypatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a server restart is a PostgreSQL matter")
    me = chat("r1")
    register(me)
    me.say("/toi")
    before = me.last_text()
    # the server closes every connection of the bot's pool, as a restart does
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert killed, "the bot's pool had connections to close"
    monkeypatch.setattr(bot.db, "PING_AFTER_IDLE", 0.0)  # the pool's connections sat idle
    me.say("/toi")
    assert me.last_text() == before  # the same profile card, not an apology


def test_a_busy_connection_is_not_pinged(app, chat, db_url) -> None:  # type: ignore[no-untyped-def]
    """The round trip saved on every update: a connection back within PING_AFTER_IDLE seconds
    goes straight to work."""
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite has no connection to ping")
    pings: list[object] = []
    original = app.db.dialect.do_ping
    app.db.dialect.do_ping = lambda conn: pings.append(conn) or original(conn)  # type: ignore[method-assign]
    try:
        me = chat("r2")
        register(me)
        pings.clear()
        for _ in range(5):
            me.say("/toi")
    finally:
        app.db.dialect.do_ping = original  # type: ignore[method-assign]
    assert pings == []
