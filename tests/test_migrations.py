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
