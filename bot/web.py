"""The bot's HTTP endpoints: the webhooks (the secret checked first), /healthz, the file links
of platforms that take files by URL (/files/<id>) and the upload page (/upload/<id>). Loaded only
when `congdoan run` serves HTTP (a webhook or PUBLIC_BASE_URL)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from json import JSONDecodeError
from typing import Any
from urllib.parse import quote

from sqlalchemy import text
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot import uploadpage
from bot.app import App
from bot.channels.base import Outbound
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo import ZaloChannel
from bot.services import files

logger = logging.getLogger(__name__)

TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
ZALO_SECRET_HEADER = "X-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
MAX_BODY = 1_000_000


def _secret_ok(given: str | None, expected: str) -> bool:
    return (
        bool(expected)
        and given is not None
        and hmac.compare_digest(given.encode(), expected.encode())
    )


async def _webhook_payload(
    request: Request, header: str, secret: str, platform: str
) -> dict[str, Any] | Response:
    """A posted update as a JSON object, its secret checked before anything else is read; or a
    ready error response."""
    if not _secret_ok(request.headers.get(header), secret):
        logger.warning("%s webhook: wrong or missing secret token", platform)
        return JSONResponse({"ok": False, "error": "unauthorized"}, status_code=401)
    payload = await _json_body(request)
    if isinstance(payload, Response):
        return payload
    if not isinstance(payload, dict):
        return JSONResponse({"ok": False, "error": "not an update"}, status_code=400)
    return payload


async def _json_body(request: Request) -> Any:
    """The body as JSON, or a ready error response."""
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
    try:
        return await request.json()
    except (JSONDecodeError, UnicodeDecodeError):
        return JSONResponse({"ok": False, "error": "bad json"}, status_code=400)


def web_app(
    app: App,
    telegram: TelegramChannel | None = None,
    zalo: ZaloChannel | None = None,
    *,
    telegram_ready: asyncio.Event | None = None,
) -> Starlette:
    """The webhook endpoints, the file links and a health check."""

    async def healthz(request: Request) -> JSONResponse:
        try:
            await asyncio.to_thread(_ping_db, app)
        except Exception:
            logger.exception("health check: database unreachable")
            return JSONResponse({"ok": False, "database": "unreachable"}, status_code=503)
        return JSONResponse({"ok": True, "database": "ok"})

    async def telegram_webhook(request: Request) -> Response:
        if telegram is None:
            return JSONResponse({"ok": False}, status_code=404)
        payload = await _webhook_payload(
            request, TELEGRAM_SECRET_HEADER, app.settings.telegram_webhook_secret, "telegram"
        )
        if isinstance(payload, Response):
            return payload
        if not isinstance(payload.get("update_id"), int):
            return JSONResponse({"ok": False, "error": "not an update"}, status_code=400)
        if telegram_ready is not None and not telegram_ready.is_set():
            return JSONResponse({"ok": False, "error": "starting"}, status_code=503)  # retried
        await telegram.process_webhook(payload)
        return JSONResponse({"ok": True})

    async def zalo_webhook(request: Request) -> Response:
        if zalo is None:
            return JSONResponse({"ok": False}, status_code=404)
        payload = await _webhook_payload(
            request, ZALO_SECRET_HEADER, app.settings.zalo_webhook_secret, "zalo"
        )
        if isinstance(payload, Response):
            return payload
        await zalo.process_webhook(payload)
        return JSONResponse({"ok": True})

    async def served_file(request: Request) -> Response:
        found = await asyncio.to_thread(_find_file, app, request.path_params["file_id"])
        if found is None:  # unknown, altered or expired: the same answer, nothing listed
            return PlainTextResponse("Không tìm thấy tệp hoặc liên kết đã hết hạn.", 404)
        name, content_type, data = found
        inline = content_type.startswith("image/")
        ascii_name = name.encode("ascii", "ignore").decode() or "tep"
        disposition = (
            f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(name)}"
        )
        return Response(
            data,
            media_type=content_type,
            headers={
                "Content-Disposition": disposition,
                "Cache-Control": "private, no-store",
                "X-Robots-Tag": "noindex, nofollow",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    channels: dict[str, Outbound] = {c.platform: c for c in (telegram, zalo) if c is not None}
    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/files/{file_id}", served_file, methods=["GET"]),
            Route("/telegram/webhook", telegram_webhook, methods=["POST"]),
            Route("/zalo/webhook", zalo_webhook, methods=["POST"]),
            *uploadpage.routes(app, channels),
        ]
    )


def _ping_db(app: App) -> None:
    with app.db.connect() as conn:
        conn.execute(text("SELECT 1"))


def _find_file(app: App, file_id: str) -> tuple[str, str, bytes] | None:
    with Session(app.db) as session:
        row = files.find(session, file_id, now=app.engine.clock())
        return None if row is None else (row.filename, row.content_type, row.data)
