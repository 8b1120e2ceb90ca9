"""Settings: read once from the environment and `.env`, validated."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"

_TELEGRAM_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,100}$")
_ZALO_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,40}:[A-Za-z0-9_-]{8,200}$")

IdList = Annotated[frozenset[str], NoDecode]


def _split_ids(value: object) -> frozenset[str]:
    if value is None:
        return frozenset()
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    elif isinstance(value, list | tuple | set | frozenset):
        parts = [str(p).strip() for p in value]
    else:
        parts = [str(value).strip()]
    return frozenset(p for p in parts if p)


class Settings(BaseSettings):
    """Every setting of DESIGN.md's contract table."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///data/congdoan.db"
    telegram_bot_token: str = ""
    telegram_api_base_url: str = "https://api.telegram.org"
    telegram_webhook_secret: str = ""
    zalo_bot_token: str = ""
    zalo_api_base_url: str = "https://bot-api.zaloplatforms.com"
    zalo_webhook_secret: str = ""
    admin_telegram_ids: IdList = Field(default_factory=frozenset)
    admin_zalo_ids: IdList = Field(default_factory=frozenset)
    timezone: str = "Asia/Ho_Chi_Minh"
    broadcast_rate_per_second: float = Field(default=25, gt=0, le=1000)
    # Zalo publishes no rate: its own, lower default; the monthly cap of the bot's plan (0: none)
    zalo_broadcast_rate_per_second: float = Field(default=5, gt=0, le=1000)
    zalo_monthly_message_limit: int = Field(default=0, ge=0, le=100_000_000)
    public_base_url: str = ""
    content_dir: Path = DEFAULT_CONTENT_DIR
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip()
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "không phải URL SQLAlchemy hợp lệ (ví dụ sqlite:///data/congdoan.db)"
            ) from None
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("chỉ hỗ trợ sqlite hoặc postgresql")
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _check_telegram_token(cls, value: str) -> str:
        value = value.strip()
        if value and not _TELEGRAM_TOKEN.match(value):
            raise ValueError("token Telegram phải có dạng 123456789:ABC... (lấy từ @BotFather)")
        return value

    @field_validator("zalo_bot_token")
    @classmethod
    def _check_zalo_token(cls, value: str) -> str:
        value = value.strip()
        if value and not _ZALO_TOKEN.match(value):
            raise ValueError("token Zalo phải có dạng <bot_id>:<secret>")
        return value

    @field_validator("telegram_api_base_url", "zalo_api_base_url")
    @classmethod
    def _check_base(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("phải là địa chỉ http(s)://...")
        return value

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _check_zalo_secret(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{8,256}", value):
            raise ValueError("phải dài 8–256 ký tự, chỉ gồm chữ, số, _ và -")
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_public(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", value):
            raise ValueError("phải là địa chỉ http(s)://... mà điện thoại truy cập được")
        return value

    @field_validator("admin_telegram_ids", "admin_zalo_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> frozenset[str]:
        return _split_ids(value)

    @field_validator("admin_telegram_ids")
    @classmethod
    def _check_telegram_ids(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(v for v in value if not re.fullmatch(r"\d{1,20}", v))
        if bad:
            raise ValueError(
                f"“{bad[0]}” không phải mã người dùng Telegram (một dãy số, ví dụ 123456789); "
                "nhiều mã cách nhau bằng dấu phẩy"
            )
        return value

    @field_validator("admin_zalo_ids")
    @classmethod
    def _check_zalo_ids(cls, value: frozenset[str]) -> frozenset[str]:
        bad = sorted(v for v in value if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", v))
        if bad:
            raise ValueError(
                f"“{bad[0]}” không phải mã người dùng Zalo (chữ và số, xem trong /toi); "
                "nhiều mã cách nhau bằng dấu phẩy"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("múi giờ không tồn tại (ví dụ Asia/Ho_Chi_Minh)") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def admin_ids(self, platform: str) -> frozenset[str]:
        return self.admins_by_platform().get(platform, frozenset())

    def admins_by_platform(self) -> dict[str, frozenset[str]]:
        return {"telegram": self.admin_telegram_ids, "zalo": self.admin_zalo_ids}

    def rate_for(self, platform: str) -> float:
        """Mass messages per second on this platform."""
        if platform == "zalo":
            return self.zalo_broadcast_rate_per_second
        return self.broadcast_rate_per_second

    def monthly_limit(self, platform: str) -> int:
        """Outbound messages the platform allows per calendar month (0: no limit)."""
        return self.monthly_limits().get(platform, 0)

    def monthly_limits(self) -> dict[str, int]:
        """The platforms whose plan caps the messages of a month, with the cap."""
        limits = {"zalo": self.zalo_monthly_message_limit}
        return {p: n for p, n in limits.items() if n > 0}

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.database_url).get_backend_name() == "sqlite"


class SettingsError(Exception):
    """Settings are invalid; the message is one line per problem, no traceback."""


def describe_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = ".".join(str(p) for p in err["loc"]).upper() or "SETTINGS"
        msg = str(err["msg"]).removeprefix("Value error, ")
        lines.append(f"{name}: {msg}")
    return "; ".join(lines)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(describe_errors(exc)) from None
