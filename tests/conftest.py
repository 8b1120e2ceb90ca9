"""Fixtures: a migrated database per test (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
the app built on it with the demo units, and in-memory chats."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.app import App, build_app, ensure_demo_plan, load_demo_units
from bot.channels.memory import MemoryChat
from bot.config import PROJECT_ROOT, Settings
from bot.content import Content, load_content
from bot.db import make_engine, upgrade
from bot.models import SQLModel

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "").strip()
BACKENDS = ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh database on the server named by TEST_DATABASE_URL, migrated, dropped at the end."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    base = make_url(TEST_DATABASE_URL)
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    name = f"congdoan_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "congdoan.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


def make_settings(db_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {"database_url": db_url, "admin_telegram_ids": "900"}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture(scope="session")
def content() -> Content:
    """The shipped content, loaded once: loading it checks every quote against the seeds."""
    return load_content(PROJECT_ROOT / "content")


@pytest.fixture
def app(settings: Settings, content: Content) -> Iterator[App]:
    built = build_app(settings, extra_admins={"memory": {"admin"}}, content=content)
    load_demo_units(built)
    ensure_demo_plan(built)  # as `congdoan chat` does: a plan for the real today's year
    yield built
    built.db.dispose()


@pytest.fixture
def chat(app: App):  # type: ignore[no-untyped-def]
    """A factory of in-memory chats: chat("42") is user 42 talking to the engine. Chats made by
    one factory share a postbox, so what one person's action sends another shows in their inbox."""
    postbox: dict = {}  # type: ignore[type-arg]

    def make(user_id: str = "42", **kw: object) -> MemoryChat:
        kw.setdefault("postbox", postbox)
        return MemoryChat(app.engine, user_id, **kw)  # type: ignore[arg-type]

    return make


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`congdoan` commands run in this process against the test database, with no token,
    admins, time zone or content folder from the machine's environment."""
    from bot.config import get_settings

    for name in (
        "TELEGRAM_BOT_TOKEN",
        "ADMIN_TELEGRAM_IDS",
        "ADMIN_ZALO_IDS",
        "TIMEZONE",
        "CONTENT_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    yield db_url
    get_settings.cache_clear()
