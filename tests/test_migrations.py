"""The migrations and the models describe the same schema, so `congdoan db upgrade` on a fresh
server gives the tables (columns, indexes, constraints) the code expects."""

from __future__ import annotations

from alembic import command
from alembic.util.exc import CommandError

from bot.db import alembic_config


def test_migrations_match_the_models(db_url: str) -> None:
    try:
        command.check(alembic_config(db_url))
    except CommandError as exc:  # names the difference, e.g. a column missing from a migration
        raise AssertionError(f"the models and the migrations differ: {exc}") from None


def test_the_start_check_knows_the_newest_migration_as_alembic_does(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`congdoan run` checks the schema without loading alembic: its answer is alembic's."""
    from alembic.script import ScriptDirectory

    from bot.db import head_revisions, make_engine, schema_is_current, upgrade

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert head_revisions() == set(script.get_heads())
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert not schema_is_current(engine)  # a new database: no migration applied
    upgrade(engine, "0010")
    assert not schema_is_current(engine)  # one behind
    upgrade(engine)
    assert schema_is_current(engine)
    engine.dispose()


def test_the_bot_starts_without_loading_alembic_on_a_current_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Memory after start (issue 15): alembic is loaded only when a migration has to run."""
    import subprocess
    import sys

    from bot.db import make_engine, upgrade

    url = f"sqlite:///{tmp_path / 'current.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    probe = (
        "import sys\n"
        "from bot.app import build_app\n"
        "from bot.config import Settings\n"
        f"build_app(Settings(_env_file=None, database_url={url!r}))\n"
        "print('alembic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr[-2000:]
