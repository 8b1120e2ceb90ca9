"""A minimal HTTP/1.1 server connection and client for the Bot API doubles.

Instead of uvicorn: uvicorn with h11 and Starlette cost ~1.5 ms of CPU per call in a
measurement (bench/interactive.py), so the double, not the bot, set the ceiling of a benchmark.
Enough of HTTP/1.1 for the clients the doubles serve: keep-alive, Content-Length and chunked
request bodies, one request at a time per connection."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

Answer = tuple[int, str, bytes]  # HTTP status, content type, body
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]
MAX_REQUEST_BYTES = 64 << 20


def plain(status: int, text: str) -> Answer:
    """A text answer."""
    return status, "text/plain; charset=utf-8", text.encode()


def http_response(answer: Answer, *, keep_alive: bool) -> bytes:
    """Serialize one HTTP/1.1 response."""
    status, content_type, body = answer
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    close = "" if keep_alive else "connection: close\r\n"
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n{close}\r\n"
    )
    return head.encode("latin-1") + body


def dechunk(data: bytes | bytearray, start: int) -> tuple[bytes, int] | None:
    """A chunked body starting at `start`: (body, end offset), or None while incomplete."""
    body = bytearray()
    pos = start
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(data[pos:eol]).split(b";", 1)[0].strip() or b"0", 16)
        pos = eol + 2
        if size == 0:
            end = data.find(b"\r\n", pos)  # no trailers are sent by the clients we serve
            return (bytes(body), end + 2) if end >= 0 else None
        if len(data) < pos + size + 2:
            return None
        body += data[pos : pos + size]
        pos += size + 2


@dataclass
class Request:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered one at a time, in order, by
    `handler`. Open connections are kept in `connections` and running answers in `tasks`, so
    the owner can close and wait for them."""

    def __init__(
        self,
        handler: Callable[[Request], Awaitable[Answer]],
        connections: set[Connection],
        tasks: set[asyncio.Task[Any]],
    ) -> None:
        self.handler = handler
        self.connections = connections
        self.tasks = tasks
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport so stop() can close it."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Forget the connection."""
        self.closed = True
        self.connections.discard(self)

    def data_received(self, data: bytes) -> None:
        """Buffer bytes and start the next complete request."""
        self.buffer += data
        self._next()

    def _next(self) -> None:
        """Parse and dispatch the next buffered request unless one is in flight."""
        if self.busy or self.closed:
            return
        try:
            request = self._parse()
        except ValueError:
            self._write(plain(400, "Bad Request"), keep_alive=False)
            return
        if request is not None:
            self.busy = True
            task = asyncio.get_running_loop().create_task(self._handle(request))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    def _parse(self) -> Request | None:
        """Cut one request off the buffer, if it is complete."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_REQUEST_BYTES:
                raise ValueError("headers too long")
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            chunked = dechunk(self.buffer, end + 4)
            if chunked is None:
                if len(self.buffer) > MAX_REQUEST_BYTES:
                    raise ValueError("body too long")
                return None
            body, stop = chunked
        else:
            length = int(headers.get("content-length", "0"))
            if not 0 <= length <= MAX_REQUEST_BYTES:
                raise ValueError("bad Content-Length")
            if len(self.buffer) < end + 4 + length:
                return None
            body, stop = bytes(self.buffer[end + 4 : end + 4 + length]), end + 4 + length
        del self.buffer[:stop]
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        return Request(method, target, headers, body, keep_alive)

    async def _handle(self, request: Request) -> None:
        """Answer one request, then look for the next."""
        try:
            answer = await self.handler(request)
        except Exception as exc:  # a bug in the double: answer 500 but keep it visible
            answer = plain(500, f"Internal Server Error: {exc!r}")
        self._write(answer, request.keep_alive)
        self.busy = False
        self._next()

    def _write(self, answer: Answer, keep_alive: bool) -> None:
        """Write a response (closing the connection unless kept alive)."""
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(http_response(answer, keep_alive=keep_alive))
        if not keep_alive:
            self.transport.close()
            self.closed = True


class Client:
    """Keep-alive HTTP/1.1 POSTs of JSON to the bot's webhook (a few lines instead of httpx,
    whose own cost would again be the double's, not the bot's)."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[Stream]] = {}

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST and return the status (the answer's body is read and dropped)."""
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        idle = self._idle.setdefault((host, port), [])
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {parts.path or '/'} HTTP/1.1\r\nhost: {host}:{port}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(body)}\r\n{head}\r\n"
        ).encode("latin-1") + body
        for attempt in range(2):  # a kept connection the server closed meanwhile: a new one
            reused = bool(idle)
            reader, writer = idle.pop() if idle else await asyncio.open_connection(host, port)
            try:
                writer.write(request)
                status, keep = await self._read(reader)
            except (OSError, ValueError, asyncio.IncompleteReadError):
                writer.close()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:  # cancelled (a timeout): the connection is in an unknown state
                writer.close()
                raise
            if keep:
                idle.append((reader, writer))
            else:
                writer.close()
            return status
        raise OSError("unreachable")

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> tuple[int, bool]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ")[1])
        headers = {}
        for line in head[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            await reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers.get("connection", "").lower() != "close"

    def close(self) -> None:
        for idle in self._idle.values():
            for _, writer in idle:
                writer.close()
        self._idle.clear()
