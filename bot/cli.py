"""The `congdoan` command line."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.clibase import build as _build
from bot.clibase import fail
from bot.clibase import load_settings as _settings
from bot.clibase import setup_logging as _setup_logging
from bot.clicontent import content_app
from bot.cliplan import plan_app
from bot.cliroles import roles_app
from bot.config import SettingsError

app = typer.Typer(
    help="congdoan-bot: học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Cơ sở dữ liệu", no_args_is_help=True)
units_app = typer.Typer(help="Cây đơn vị", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
app.add_typer(units_app, name="units")
app.add_typer(roles_app, name="roles")
app.add_typer(plan_app, name="plan")


@app.command()
def chat(
    user: Annotated[
        str,
        typer.Option(
            help="Đóng vai một người dùng khác (ví dụ: --user an): người đó là đoàn viên thường, "
            "còn người dùng mặc định là quản trị viên"
        ),
    ] = "",
) -> None:
    """Trò chuyện với Trợ lý ngay trong cửa sổ lệnh (không cần token); mặc định bạn là quản trị
    viên, còn --user TÊN đóng vai một đoàn viên khác trên cùng cơ sở dữ liệu."""
    from bot.app import ensure_demo_plan, load_demo_units
    from bot.channels.console import PLATFORM, USER_ID, ConsoleChannel

    user_id = "".join(c for c in user if c.isalnum())[:32] or USER_ID

    settings = _settings()
    _setup_logging(settings, quiet=True)
    built = _build(settings, extra_admins={PLATFORM: {USER_ID}})
    created = load_demo_units(built)
    if created:
        typer.echo(f"Đã nạp {created} đơn vị mẫu từ content/units_demo.csv.")
    ensure_demo_plan(built)  # the demo tree's plan for this year, its pledge due ahead of today
    t = built.content.texts
    console = ConsoleChannel(built.engine, files_dir=Path("data/console"), user_id=user_id)
    banner = t("console.banner") if user_id == USER_ID else t("console.banner_member", user=user_id)
    console.loop(banner=banner, bye=t("console.bye"), after=_console_scheduler(built, console))


def _console_scheduler(built, console):  # type: ignore[no-untyped-def]
    """After each line: what the scheduler has due now (posts, reminders, announcements) is
    delivered on this screen, as the outbox would on Telegram."""
    from bot.channels.console import ConsoleSender
    from bot.models import utcnow
    from scheduler.delivery import DeliveryWorker
    from scheduler.jobs import Planner

    logging.getLogger("scheduler").setLevel(logging.ERROR)  # old posts skipped: not news here
    planner = Planner(built.db, built.content, built.settings, platforms={"console"})
    worker = DeliveryWorker(
        built.db, ConsoleSender(console), texts=built.content.texts, rate_per_second=1000
    )

    def after() -> None:
        try:
            planner.tick(utcnow())
            asyncio.run(worker.drain())
        except Exception as exc:  # the chat goes on; the next line tries again
            logging.getLogger(__name__).error(
                "console scheduler round failed (%s)", type(exc).__name__
            )

    return after


def _few_malloc_arenas() -> None:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core); the
    database work runs in worker threads, and under hours of load their arenas fragment and hold
    hundreds of MB. Two arenas (as MALLOC_ARENA_MAX=2 would) keep memory flat; set before any
    worker thread exists. Elsewhere than glibc: nothing to do."""
    import ctypes

    if "MALLOC_ARENA_MAX" in os.environ or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        # the process's own symbols, libc's among them (find_library would run ldconfig in a
        # child process)
        ctypes.CDLL(None).mallopt(-8, 2)  # M_ARENA_MAX


def _freeze_what_is_loaded() -> None:
    """What start-up loaded (libraries, content, texts: some 170,000 objects) lives as long as
    the process; moved out of the garbage collector's sight, each full collection no longer walks
    it (75 ms each, every few hundred updates, before)."""
    gc.collect()
    gc.freeze()


@app.command()
def run(
    webhook: Annotated[
        bool, typer.Option(help="Nhận cập nhật qua webhook thay vì long polling")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Địa chỉ lắng nghe của máy chủ HTTP (mặc định 0.0.0.0)")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(help="Cổng của máy chủ HTTP: webhook, /healthz và /files (mặc định 8080)"),
    ] = None,
    webhook_url: Annotated[
        str, typer.Option(help="Địa chỉ https công khai để đăng ký webhook với Telegram và Zalo")
    ] = "",
) -> None:
    """Chạy bot trên các nền tảng đã có token (Telegram, Zalo hoặc cả hai)."""
    from bot.channels.telegram import TelegramChannel
    from bot.channels.zalo import ZaloChannel
    from bot.server import serve

    _few_malloc_arenas()
    settings = _settings()
    _setup_logging(settings)
    if not settings.telegram_bot_token and not settings.zalo_bot_token:
        raise fail(
            "chưa có token: đặt TELEGRAM_BOT_TOKEN hoặc ZALO_BOT_TOKEN trong .env "
            "(xem .env.example)"
        )
    if webhook and settings.telegram_bot_token and not settings.telegram_webhook_secret:
        raise fail("chế độ webhook cần TELEGRAM_WEBHOOK_SECRET (một chuỗi ngẫu nhiên dài)")
    if webhook and settings.zalo_bot_token and not settings.zalo_webhook_secret:
        raise fail("chế độ webhook cần ZALO_WEBHOOK_SECRET (một chuỗi ngẫu nhiên 8–256 ký tự)")
    built = _build(settings)
    log = logging.getLogger("congdoan")
    if settings.zalo_bot_token and not settings.public_base_url:
        log.warning(
            "Zalo: chưa đặt PUBLIC_BASE_URL nên đoàn viên trên Zalo sẽ không nhận được tệp "
            "(giấy chứng nhận, bản đăng ký, báo cáo, ảnh thông báo); xem README, mục Zalo"
        )
    if settings.public_base_url and port is None and not webhook:
        port = 8080  # the file links need the HTTP server
    telegram = TelegramChannel(built.engine, settings) if settings.telegram_bot_token else None
    zalo = ZaloChannel(built.engine, settings) if settings.zalo_bot_token else None
    _freeze_what_is_loaded()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C is how an operator stops the bot
        asyncio.run(
            serve(
                built,
                telegram=telegram,
                zalo=zalo,
                webhook=webhook,
                host=host,
                port=port,
                public_url=webhook_url or None,
            )
        )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Áp dụng các bản cập nhật cấu trúc cơ sở dữ liệu (migrations)."""
    from sqlalchemy.exc import OperationalError

    from bot.db import make_engine, upgrade

    settings = _settings()
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    except OperationalError as exc:
        raise fail(f"không kết nối được cơ sở dữ liệu ({type(exc.orig).__name__})") from None
    typer.echo("Cơ sở dữ liệu đã ở phiên bản mới nhất.")


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("-m", "--message", help="Nội dung thay đổi")],
) -> None:
    """(Cho lập trình viên) Sinh migration mới từ bot/models.py."""
    from alembic import command

    from bot.db import alembic_config, make_engine, upgrade

    settings = _settings()
    upgrade(make_engine(settings.database_url))
    command.revision(alembic_config(settings.database_url), message=message, autogenerate=True)


@units_app.command("import")
def units_import(file: Path) -> None:
    """Nạp cây đơn vị từ CSV hoặc XLSX (cột code,name,parent_code; tùy chọn members,
    party_members: số đoàn viên, đảng viên thực tế); nạp lại sẽ cập nhật theo mã."""
    from bot.db import make_engine, session_scope, upgrade
    from bot.services.units import UnitFileError, import_units, read_rows

    settings = _settings()
    if not file.is_file():
        raise fail(f"không thấy tệp {file}")
    try:
        rows = read_rows(file)
    except UnitFileError as exc:
        raise fail(str(exc)) from None
    engine = make_engine(settings.database_url)
    if engine.dialect.name == "sqlite":
        upgrade(engine)
    with session_scope(engine) as session:
        result = import_units(session, rows)
        if result.errors:
            session.rollback()
            for err in result.errors:
                typer.echo(err, err=True)
            raise fail(f"{len(result.errors)} lỗi, chưa nạp đơn vị nào", code=1)
    typer.echo(
        f"Đã nạp: {result.created} mới, {result.updated} cập nhật, {result.unchanged} không đổi."
    )
    roots = [values["code"] for _line, values in rows if not values["parent_code"]]
    for code in roots[:5]:  # a fresh deployment: the next step is the year's plan
        typer.echo(
            f"Tiếp theo: tạo kế hoạch năm cho cây {code} trong chat bằng /kehoach, "
            f"hoặc: congdoan plan new --root {code} --year NĂM"
        )


def main() -> None:
    try:
        app()
    except SettingsError as exc:  # pragma: no cover - settings errors are caught above
        typer.secho(f"Lỗi: {exc}", err=True)
        sys.exit(2)
