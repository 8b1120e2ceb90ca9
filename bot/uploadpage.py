"""The page behind an upload link (`/upload/<id>`, bot/services/uploads.py): a form to choose
one file on a phone or a computer; the file then reaches the conversation it was asked in, on
that app, as if sent there, and the answer appears in the chat."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.app import App
from bot.channels.base import Outbound
from bot.messages import MAX_UPLOAD_BYTES, Incoming, Upload
from bot.services import uploads

logger = logging.getLogger(__name__)

FORM_OVERHEAD = 64 * 1024  # the multipart envelope around the file


def routes(app: App, channels: dict[str, Outbound]) -> list[Route]:
    texts = app.engine.texts

    def page(key: str, status: int = 200, **values: Any) -> HTMLResponse:
        body = texts(f"upload_page.{key}", **values)
        return HTMLResponse(
            _PAGE.format(title=html.escape(texts("upload_page.title")), body=body),
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "X-Robots-Tag": "noindex, nofollow",
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def find(slot_id: str) -> uploads.Slot | None:
        with Session(app.db) as session:
            return uploads.find(session, slot_id, now=app.engine.clock())

    def take(slot_id: str) -> uploads.Slot | None:
        with Session(app.db) as session:
            return uploads.use(session, slot_id, now=app.engine.clock())

    async def show(request: Request) -> Response:
        slot = await asyncio.to_thread(find, request.path_params["slot_id"])
        if slot is None or slot.platform not in channels:
            return page("gone", 404)
        return page("form", mb=MAX_UPLOAD_BYTES // (1024 * 1024))

    async def receive(request: Request) -> Response:
        slot_id = request.path_params["slot_id"]
        if await asyncio.to_thread(find, slot_id) is None:
            return page("gone", 404)
        length = request.headers.get("content-length", "")
        if not length.isdigit() or int(length) > MAX_UPLOAD_BYTES + FORM_OVERHEAD:
            return page("too_big", 413, mb=MAX_UPLOAD_BYTES // (1024 * 1024))
        try:
            async with request.form(max_files=1, max_fields=4) as form:
                sent = form.get("file")
                if sent is None or isinstance(sent, str) or not sent.filename:
                    return page("no_file", 400)
                data = await sent.read()
                name = sent.filename
        except Exception as exc:  # a broken form: say so, never a traceback
            logger.info("upload page: unreadable form (%s)", type(exc).__name__)
            return page("no_file", 400)
        slot = await asyncio.to_thread(take, slot_id)
        channel = channels.get(slot.platform) if slot is not None else None
        if slot is None or channel is None:  # used by a double submit meanwhile
            return page("gone", 404)
        incoming = Incoming(
            platform=slot.platform,
            update_id=f"upload-{slot.id[:40]}",
            user_id=slot.user_id,
            chat_id=slot.chat_id,
            text="",
            upload=Upload(name[-200:], data, len(data)),
        )
        await channel.dispatch(incoming)
        return page("sent", name=name[-200:])

    return [
        Route("/upload/{slot_id}", show, methods=["GET"]),
        Route("/upload/{slot_id}", receive, methods=["POST"]),
    ]


_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1b1b1b; }}
h1 {{ font-size: 1.3rem; }}
input[type=file] {{ display: block; margin: 1rem 0; font-size: 1rem; }}
button {{ font-size: 1.1rem; padding: .6rem 1.4rem; }}
.note {{ color: #555; font-size: .95rem; }}
</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""
