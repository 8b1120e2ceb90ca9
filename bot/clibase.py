"""What every `congdoan` command shares: one-line errors, settings, logging, the app."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from bot.config import Settings, SettingsError, get_settings

if TYPE_CHECKING:
    from bot.app import App


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"Lỗi: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return get_settings()
    except SettingsError as exc:
        raise fail(f"cấu hình không hợp lệ: {exc}") from None


def setup_logging(settings: Settings, *, quiet: bool = False) -> None:
    from bot.app import quiet_noisy_loggers

    level = logging.WARNING if quiet else getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_noisy_loggers()


def build(settings: Settings, **kw: Any) -> App:
    """The app (migrating the embedded SQLite database), or a one-line error."""
    from sqlalchemy.exc import OperationalError

    from bot.app import NotMigrated, build_app
    from bot.db import NotWritable
    from bot.yamlfile import ContentError

    try:
        return build_app(settings, **kw)
    except NotWritable:
        raise fail(
            "cơ sở dữ liệu chỉ đọc, bot không ghi được: kiểm tra quyền ghi của tệp và thư mục "
            "(hoặc DATABASE_URL trỏ tới một bản sao chỉ đọc)"
        ) from None
    except NotMigrated:
        raise fail("cơ sở dữ liệu chưa được cập nhật: chạy `congdoan db upgrade`") from None
    except ContentError as exc:
        raise fail(f"nội dung không hợp lệ, chạy `congdoan content check`:\n{exc}") from None
    except OperationalError as exc:
        raise fail(f"không kết nối được cơ sở dữ liệu ({type(exc.orig).__name__})") from None


def now() -> datetime:
    """The time commands take as now (looked up when called, so tests can set it)."""
    from bot import models

    return models.utcnow()
