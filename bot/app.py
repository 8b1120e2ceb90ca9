"""Wiring: settings, database, content and engine, built once per process."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine as DbEngine
from sqlalchemy.exc import IntegrityError

from bot.campaign import Campaign
from bot.config import Settings, get_settings
from bot.content import Content, load_content
from bot.db import check_writable, make_engine, schema_is_current, session_scope, upgrade
from bot.engine import Engine
from bot.models import utcnow
from bot.services import plandrafts, units

logger = logging.getLogger(__name__)


class NotMigrated(Exception):
    """The database schema is behind the code; run `congdoan db upgrade`."""


@dataclass
class App:
    settings: Settings
    db: DbEngine
    content: Content
    engine: Engine


def build_app(
    settings: Settings | None = None,
    *,
    db: DbEngine | None = None,
    extra_admins: dict[str, set[str]] | None = None,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
    content: Content | None = None,
) -> App:
    """Build everything; the embedded SQLite database is migrated on start, others are checked."""
    from handlers import routers

    settings = settings or get_settings()
    db = db or make_engine(settings.database_url)
    if db.dialect.name == "sqlite":
        check_writable(db)
        if not schema_is_current(db):
            upgrade(db)
    elif not schema_is_current(db):
        raise NotMigrated()
    else:
        check_writable(db)
    content = content or load_content(settings.content_dir)
    import_presets(db, content, clock())
    engine = Engine(
        db=db,
        settings=settings,
        texts=content.texts,
        routers=routers(),
        content=content,
        extra_admins=extra_admins,
        clock=clock,
        rng=rng,
    )
    return App(settings=settings, db=db, content=content, engine=engine)


def import_presets(db: DbEngine, content: Content, now: datetime) -> int:
    """A first start (no plans yet) imports the presets of content/campaigns.yaml, once."""
    try:
        with session_scope(db) as session:
            imported = plandrafts.import_presets(session, content.catalog, now=now)
    except IntegrityError:  # another replica imported them a moment ago
        return 0
    if imported:
        logger.info(
            "imported %s plans from content/campaigns.yaml (presets, once); "
            "from now on plans are made with /kehoach or `congdoan plan new`",
            imported,
        )
    return imported


def load_demo_units(app: App) -> int:
    """Load the demo unit tree when the database has no units yet; returns units created."""
    with session_scope(app.db) as session:
        if units.children(session, None):
            return 0
        result = units.import_units(session, units.read_rows(app.content.demo_units))
        return result.created


def demo_root(app: App) -> str | None:
    """The code of the demo tree's root (content/units_demo.csv)."""
    rows = units.read_rows(app.content.demo_units)
    return next((row["code"] for _line, row in rows if not row["parent_code"]), None)


def ensure_demo_plan(app: App) -> Campaign | None:
    """The demo tree's plan for this year, made or moved so its pledge is due ahead of today
    (`congdoan chat`); nothing when the demo tree is not loaded."""
    root = demo_root(app)
    with session_scope(app.db) as session:
        if root is None or units.by_code(session, root) is None:
            return None
        return plandrafts.ensure_demo(
            session, app.content.catalog, root=root, now=app.engine.clock(), tz=app.settings.tz
        )


def quiet_noisy_loggers() -> None:
    """httpx logs every request URL, and Bot API URLs contain the token: keep it out of logs."""
    for name in ("httpx", "httpcore", "telegram", "apscheduler"):
        logging.getLogger(name).setLevel(logging.WARNING)
