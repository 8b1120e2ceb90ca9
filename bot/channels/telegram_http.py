"""The Telegram channel's HTTP transport: python-telegram-bot's `BaseRequest` over aiohttp.

PTB's default transport (HTTPXRequest) made httpx and httpcore the largest cost of a busy bot:
more CPU per update than the engine, the handlers and the database together (README,
Performance). PTB documents `BaseRequest` as the seam for another HTTP library, and its team's
ptbcontrib ships one for aiohttp; this is that, kept to what the bot uses: form-encoded
parameters, multipart files, PTB's four timeouts, one pool of kept-alive connections."""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

READ_TIMEOUT = 5.0  # seconds, as PTB's own defaults
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0  # a file upload
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 10.0  # waiting for a free connection when all are busy


def _given(value: Any, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value


class AiohttpRequest(BaseRequest):
    """Bot API requests through one aiohttp session with at most `connections` connections."""

    def __init__(self, connections: int) -> None:
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                timeout=aiohttp.ClientTimeout(total=None),
                skip_auto_headers=("User-Agent",),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data is not None else {}
        fields = request_data.json_parameters if request_data is not None else {}
        data: Any = fields or None
        if files:
            data = aiohttp.FormData(fields)
            for name, (filename, content, mimetype) in files.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        read = _given(read_timeout, READ_TIMEOUT)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: a request that sends a file gets a whole-request one
            total=(write or 0) + (read or 0) if files and write is not None else None,
            connect=_given(pool_timeout, POOL_TIMEOUT),  # a free connection, then connected
            sock_connect=_given(connect_timeout, CONNECT_TIMEOUT),
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut("Pool timeout or connect timeout: the request was not sent") from exc
        except TimeoutError as exc:
            raise TimedOut() from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
