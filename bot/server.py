"""Running the bot: every channel whose token is set (Telegram, Zalo, both), by long polling or by
webhook, with the scheduler beside them, and an HTTP server for the webhooks, /healthz and the
file links of platforms that take files by URL (/files/<id>), with the upload page for those that
take no files in the chat (/upload/<id>)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.app import App
from bot.channels.base import Switchboard
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel

if TYPE_CHECKING:
    import uvicorn

logger = logging.getLogger(__name__)

START_RETRY_MAX = 60.0  # seconds between attempts to reach a platform at start


async def _wait_for_stop() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def retry_until(
    attempt: Callable[[], Awaitable[Any]], what: str, stop: asyncio.Event
) -> bool:
    """Try until it works or the bot stops, waiting longer each time (with jitter), one log
    line per failed attempt. True once it worked."""
    delay = 1.0
    while not stop.is_set():
        try:
            await attempt()
            return True
        except Exception as exc:
            wait = min(delay, START_RETRY_MAX) * random.uniform(0.8, 1.2)
            logger.warning("%s failed (%s); retrying in %.0f s", what, type(exc).__name__, wait)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            delay *= 2
    return False


async def _run_telegram(
    app: App,
    telegram: TelegramChannel,
    stop: asyncio.Event,
    *,
    webhook: bool,
    public_url: str | None,
    ready: asyncio.Event,
) -> None:
    """Telegram from start to stop. A Bot API that cannot be reached at start is retried
    without holding up the other channels and the scheduler."""
    application = telegram.application
    if not await retry_until(application.initialize, "telegram: start", stop):
        return
    try:
        await retry_until(telegram.set_menu, "telegram: command menu", stop)
        if webhook and public_url:
            await retry_until(
                lambda: application.bot.set_webhook(
                    url=public_url.rstrip("/") + "/telegram/webhook",
                    secret_token=app.settings.telegram_webhook_secret,
                    allowed_updates=["message", "callback_query"],
                ),
                "telegram: setWebhook",
                stop,
            )
        elif not webhook:
            await retry_until(
                lambda: application.bot.delete_webhook(drop_pending_updates=False),
                "telegram: deleteWebhook",
                stop,
            )
            assert application.updater is not None
            await application.updater.start_polling(allowed_updates=["message", "callback_query"])
        await application.start()
        ready.set()
        logger.info("telegram %s started", "webhook" if webhook else "polling")
        await stop.wait()
    finally:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


async def _run_zalo(
    zalo: ZaloChannel, stop: asyncio.Event, *, webhook: bool, public_url: str | None
) -> None:
    try:
        if not webhook:
            await zalo.poll(stop)
            return
        await zalo.introduce()
        if public_url:
            await retry_until(lambda: zalo.set_webhook(public_url), "zalo: setWebhook", stop)
        await stop.wait()
        await zalo.drain()
    finally:
        await zalo.aclose()


@contextlib.asynccontextmanager
async def _background(
    app: App, senders: list[Any], enabled: bool, stop: asyncio.Event
) -> AsyncIterator[None]:
    """The scheduler and the outbox delivery, alongside the channels, stopped with them."""
    if not enabled:
        yield
        return
    from scheduler.runner import SchedulerService

    service = SchedulerService(app, senders, clock=app.engine.clock)
    task = asyncio.create_task(service.run(stop))
    try:
        yield
    finally:
        stop.set()
        try:
            await asyncio.wait_for(task, 15)
        except Exception:
            logger.exception("the scheduler did not stop cleanly")


async def serve(
    app: App,
    *,
    telegram: TelegramChannel | None = None,
    zalo: ZaloChannel | None = None,
    webhook: bool = False,
    host: str | None = None,
    port: int | None = None,
    public_url: str | None = None,
    stop: asyncio.Event | None = None,
    scheduler: bool = True,
) -> None:
    """Run the channels until stopped (SIGINT/SIGTERM, or `stop`). The HTTP server runs in
    webhook mode, and in polling mode when a port is given (health check and file links)."""
    from bot.channels.telegram import TelegramSender
    from bot.channels.zalo import sender as zalo_sender

    own_stop = stop is None
    stop = stop or asyncio.Event()
    board = Switchboard([c for c in (telegram, zalo) if c is not None])
    for channel in (telegram, zalo):
        if channel is not None:
            channel.switchboard = board
    telegram_ready = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    if telegram is not None:
        tasks.append(
            asyncio.create_task(
                _run_telegram(
                    app,
                    telegram,
                    stop,
                    webhook=webhook,
                    public_url=public_url,
                    ready=telegram_ready,
                )
            )
        )
    if zalo is not None:
        tasks.append(
            asyncio.create_task(_run_zalo(zalo, stop, webhook=webhook, public_url=public_url))
        )
    server: uvicorn.Server | None = None
    if webhook or port is not None:  # the web server loads only when it serves (memory)
        import uvicorn

        from bot.web import web_app

        config = uvicorn.Config(
            web_app(app, telegram, zalo, telegram_ready=telegram_ready),
            host=host or "0.0.0.0",  # noqa: S104 (behind a reverse proxy)
            port=port or 8080,
            log_level="warning",
            access_log=False,  # paths hold file ids: never in logs
            lifespan="off",
        )
        server = uvicorn.Server(config)
        tasks.append(asyncio.create_task(_http(server, stop)))
        logger.info("http server on %s:%s", config.host, config.port)
    senders: list[Any] = []
    if telegram is not None:
        senders.append(TelegramSender(telegram.bot))
    if zalo is not None:
        senders.append(zalo_sender(zalo))
    watcher = asyncio.create_task(_signals(stop)) if own_stop else None
    try:
        async with _background(app, senders, scheduler, stop):
            await stop.wait()
    finally:
        stop.set()
        if server is not None:
            server.should_exit = True
        for done in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(done, BaseException) and not isinstance(done, asyncio.CancelledError):
                logger.error("a channel stopped with %s", type(done).__name__)
        if watcher is not None:
            watcher.cancel()


async def _http(server: uvicorn.Server, stop: asyncio.Event) -> None:
    """uvicorn handles SIGINT/SIGTERM while it serves: when it stops, everything stops."""
    await server.serve()
    stop.set()


async def _signals(stop: asyncio.Event) -> None:
    await _wait_for_stop()
    stop.set()


async def serve_polling(
    app: App,
    telegram: TelegramChannel,
    stop: asyncio.Event | None = None,
    *,
    scheduler: bool = True,
) -> None:
    """Telegram alone by long polling (kept for the tests that drive one channel)."""
    await serve(app, telegram=telegram, stop=stop, scheduler=scheduler)


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
    """Telegram alone by webhook (kept for the tests that drive one channel)."""
    await serve(
        app,
        telegram=telegram,
        webhook=True,
        host=host,
        port=port,
        public_url=public_url,
        stop=stop,
        scheduler=scheduler,
    )
