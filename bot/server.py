"""Running channels: long polling, or a Starlette app serving the webhooks and /healthz."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
from collections.abc import AsyncIterator
from json import JSONDecodeError
from typing import Any

import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.app import App
from bot.channels.telegram import TelegramChannel

logger = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY = 1_000_000


def _secret_ok(given: str | None, expected: str) -> bool:
    return (
        bool(expected)
        and given is not None
        and hmac.compare_digest(given.encode(), expected.encode())
    )


def web_app(app: App, telegram: TelegramChannel | None) -> Starlette:
    """The webhook endpoints and a health check."""

    async def healthz(request: Request) -> JSONResponse:
        try:
            await asyncio.to_thread(_ping_db, app)
        except Exception:
            logger.exception("health check: database unreachable")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    async def telegram_webhook(request: Request) -> JSONResponse:
        if telegram is None:
            return JSONResponse({"ok": False}, status_code=404)
        given = request.headers.get(TELEGRAM_SECRET_HEADER)
        if not _secret_ok(given, app.settings.telegram_webhook_secret):
            logger.warning("telegram webhook: wrong or missing secret token")
            return JSONResponse({"ok": False, "error": "unauthorized"}, status_code=401)
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
        try:
            payload: Any = await request.json()
        except (JSONDecodeError, UnicodeDecodeError):
            return JSONResponse({"ok": False, "error": "bad json"}, status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return JSONResponse({"ok": False, "error": "not an update"}, status_code=400)
        await telegram.process_webhook(payload)
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
        ]
    )


def _ping_db(app: App) -> None:
    with app.db.connect() as conn:
        conn.execute(text("SELECT 1"))


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


@contextlib.asynccontextmanager
async def _background(app: App, telegram: TelegramChannel, enabled: bool) -> AsyncIterator[None]:
    """The scheduler and the outbox delivery, alongside the channel, stopped with it."""
    if not enabled:
        yield
        return
    from bot.channels.telegram import TelegramSender
    from scheduler.runner import SchedulerService

    done = asyncio.Event()
    service = SchedulerService(app, [TelegramSender(telegram.bot)], clock=app.engine.clock)
    task = asyncio.create_task(service.run(done))
    try:
        yield
    finally:
        done.set()
        try:
            await asyncio.wait_for(task, 15)
        except Exception:
            logger.exception("the scheduler did not stop cleanly")


async def serve_polling(
    app: App,
    telegram: TelegramChannel,
    stop: asyncio.Event | None = None,
    *,
    scheduler: bool = True,
) -> None:
    """Long polling until stopped; PTB's updater retries with growing delays on network errors."""
    application = telegram.application
    async with application:
        await telegram.set_menu()
        await application.bot.delete_webhook(drop_pending_updates=False)
        assert application.updater is not None
        await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        await application.start()
        logger.info("telegram polling started")
        try:
            async with _background(app, telegram, scheduler):
                await (stop.wait() if stop is not None else _wait_for_stop())
        finally:
            await application.updater.stop()
            await application.stop()


async def serve_webhook(
    app: App,
    telegram: TelegramChannel,
    *,
    host: str,
    port: int,
    public_url: str | None = None,
    stop: asyncio.Event | None = None,
    scheduler: bool = True,
) -> None:
    """Serve /telegram/webhook and /healthz with uvicorn until stopped."""
    application = telegram.application
    async with application:
        await telegram.set_menu()
        if public_url:
            await application.bot.set_webhook(
                url=public_url.rstrip("/") + "/telegram/webhook",
                secret_token=app.settings.telegram_webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
        await application.start()
        config = uvicorn.Config(
            web_app(app, telegram), host=host, port=port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        if stop is not None:

            async def _stopper() -> None:
                await stop.wait()
                server.should_exit = True

            watcher = asyncio.create_task(_stopper())
        logger.info("webhook server on %s:%s", host, port)
        try:
            async with _background(app, telegram, scheduler):
                await server.serve()
        finally:
            if stop is not None:
                watcher.cancel()
            await application.stop()
