"""The Telegram transport (python-telegram-bot over aiohttp) fails the way PTB expects, so PTB
retries polling and the bot logs a network problem instead of crashing: a silent server is a
timeout, a closed port a network error, a full pool a timeout before anything is sent."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from telegram.error import NetworkError, TimedOut

from bot.channels.telegram_http import AiohttpRequest
from tests.doubles.telegram_api import FakeTelegramAPI


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/botX/getMe"
    for writer in held:
        writer.close()
    server.close()


async def _request(connections: int = 2) -> AiohttpRequest:
    request = AiohttpRequest(connections)
    await request.initialize()
    return request


async def test_a_silent_server_is_a_timeout(silent_server: str) -> None:
    request = await _request()
    try:
        with pytest.raises(TimedOut):
            await request.do_request(silent_server, "POST", read_timeout=0.3)
    finally:
        await request.shutdown()


async def test_a_closed_port_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: nothing listens there
    request = await _request()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.do_request(f"http://127.0.0.1:{port}/botX/getMe", "POST")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()


async def test_a_full_pool_times_out_before_sending(silent_server: str) -> None:
    request = await _request(connections=1)
    try:
        first = asyncio.create_task(request.do_request(silent_server, "POST", read_timeout=5))
        await asyncio.sleep(0.2)  # the only connection is taken
        with pytest.raises(TimedOut, match="not sent"):
            await request.do_request(silent_server, "POST", pool_timeout=0.2)
        first.cancel()
    finally:
        await request.shutdown()


async def test_parameters_and_files_reach_the_bot_api() -> None:
    """What PTB hands the transport arrives as Telegram reads it: fields form-encoded, a file
    as multipart (the strict double parses both)."""
    from telegram import Bot, InputFile

    with FakeTelegramAPI() as api:
        bot = Bot(
            api.token,
            base_url=f"{api.root}/bot",
            request=AiohttpRequest(2),
            get_updates_request=AiohttpRequest(1),
        )
        async with bot:
            await bot.send_message(5001, "<b>Chào</b> bạn", parse_mode="HTML")
            await bot.send_document(5001, InputFile(b"PK\x03\x04 data", filename="bao-cao.docx"))
        sent, document = [c for c in api.calls if c.method in {"sendMessage", "sendDocument"}]
        assert sent.ok and sent.params["text"] == "<b>Chào</b> bạn"
        assert document.ok and document.files["document"] == ("bao-cao.docx", b"PK\x03\x04 data")
