"""Local HTTP test double of the Zalo Bot API, as strict as the documented platform."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import json
import os
import re
import socket
import threading
import time
from asyncio import FIRST_COMPLETED
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Self, TypedDict, TypeVar, Unpack
from urllib.parse import unquote, urlsplit

import httpx

DEFAULT_TOKEN = "1234567890:zalo-test-secret-abcdefghij"
SEND_METHODS = ("sendMessage", "sendPhoto", "sendSticker")
MAX_TEXT_LENGTH = 2000
SECRET_LENGTH = (8, 256)
IMAGE_TYPES = ("image/png", "image/jpeg")
PHOTO_FETCH_TIMEOUT = 5.0
BLOCKED_DESCRIPTION = "User has blocked the bot"  # the real wording is undocumented
QUOTA_DESCRIPTION = "Quota exceeded"
POLL_TIMEOUT_DESCRIPTION = "Request timeout"
WEBHOOK_CONFLICT = "Conflict: webhook is active"
POLL_CONFLICT = "Conflict: another getUpdates request is running"
SECRET_HEADER = "X-Bot-Api-Secret-Token"

T = TypeVar("T")
Params = dict[str, Any]
Gone = asyncio.Future[None]
ROUTE = re.compile(r"/bot([^/]+)/([^/]+)")
MAX_REQUEST_BYTES = 1 << 20


@dataclass
class Call:
    """One request the bot made to the double (recorded after it was answered)."""

    method: str
    params: Params
    at: float
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    fetched: bytes | None = None
    fetched_type: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.error_code is None

    @property
    def chat_id(self) -> str | None:
        """The `chat_id` parameter as a string (even when the bot wrongly sent a number)."""
        value = self.params.get("chat_id")
        return None if value is None else str(value)

    @property
    def text(self) -> str | None:
        """The `text` parameter, or the `caption` of a photo."""
        value = self.params.get("text", self.params.get("caption"))
        return value if isinstance(value, str) else None

    def short(self) -> str:
        """One-line human readable summary for failure messages."""
        parts = []
        for key, value in self.params.items():
            shown = repr(value)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            parts.append(f"{key}={shown}")
        if self.fetched is not None:
            parts.append(f"<fetched {self.fetched_type} {len(self.fetched)}B>")
        status = "" if self.ok else f" -> {self.error_code} {self.description}"
        return f"{self.method}({', '.join(parts)}){status}"


class Sender(TypedDict, total=False):
    """Who sends a built update and where (defaults: a private chat with the user)."""

    chat_id: str | None
    chat_type: str
    display_name: str
    name_field: str
    message_id: str | None


@dataclass
class _Failure:
    """A programmed failure for the next calls of a method."""

    method: str
    times: int
    error_code: int
    description: str
    status: int
    chat_id: str | None


class _ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, status: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = code if status is None else status

    def answer(self) -> tuple[int, dict[str, Any]]:
        """HTTP status and body of the error, as the platform renders it."""
        return self.status, {"ok": False, "error_code": self.code, "description": self.description}


def _bad_request(description: str) -> _ApiError:
    """Build a 400 error."""
    return _ApiError(400, description)


def _now_ms() -> int:
    """Current time in milliseconds, as Zalo dates are."""
    return int(time.time() * 1000)


def _new_id() -> str:
    """A fresh random hex id like Zalo's message ids."""
    return os.urandom(16).hex()


def _chat_id(params: Params) -> str:
    """The `chat_id` parameter, which must be a non-empty string."""
    value = params.get("chat_id")
    if value is None or value == "":
        raise _bad_request("chat_id is required")
    if not isinstance(value, str):
        raise _bad_request("chat_id must be a string")
    return value


def _text(params: Params, key: str, *, required: bool) -> str | None:
    """Check a text or caption parameter against the 2000-character limit."""
    value = params.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise _bad_request(f"{key} must be a string")
    low = 1 if required else 0
    if not low <= len(value) <= MAX_TEXT_LENGTH:
        raise _bad_request(f"{key} length must be between {low} and {MAX_TEXT_LENGTH}")
    return value


def _poll_timeout(value: Any) -> float:
    """Parse getUpdates' `timeout` (string or number of seconds; missing means no wait)."""
    if value is None:
        return 0.0
    try:
        seconds = -1.0 if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:  # also refuses NaN
        raise _bad_request("timeout must be a number of seconds")
    return seconds


def _is_url(value: Any, schemes: tuple[str, ...]) -> bool:
    """Whether a value is an absolute URL with one of the schemes and a host."""
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in schemes and bool(parts.hostname)


def _wake(waiter: asyncio.Future[None]) -> None:
    """Resolve a long-poll waiter (runs in the double's event loop)."""
    if not waiter.done():
        waiter.set_result(None)


def _read_params(body: bytes) -> Params:
    """Decode the JSON object body (an empty body means no parameters)."""
    if not body.strip():
        return {}
    try:
        params = json.loads(body)
    except ValueError:
        raise _bad_request("request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise _bad_request("request body must be a JSON object")
    return params


def _http_response(status: int, body: dict[str, Any], *, keep_alive: bool) -> bytes:
    """Serialize one JSON HTTP/1.1 response."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    close = "" if keep_alive else "connection: close\r\n"
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(payload)}\r\n{close}\r\n"
    )
    return head.encode("latin-1") + payload


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; requests are answered one at a time, in order.

    A minimal server instead of uvicorn: h11 cost ~230 us per request, which capped an
    in-process async client well under 1,000 sends per second on two cores."""

    def __init__(self, api: FakeZaloAPI) -> None:
        self.api = api
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.gone: Gone = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the transport so stop() can close it."""
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.api._connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell a waiting long poll that its client went away."""
        self.api._connections.discard(self)
        if not self.gone.done():
            self.gone.set_result(None)

    def data_received(self, data: bytes) -> None:
        """Buffer bytes and start the next complete request."""
        self.buffer += data
        self._next()

    def _next(self) -> None:
        """Parse and dispatch the next buffered request unless one is in flight."""
        if self.busy or self.gone.done():
            return
        try:
            request = self._parse()
        except ValueError:
            self._answer(_ApiError(400, "Bad Request").answer(), keep_alive=False)
            return
        if request is not None:
            self.busy = True
            task = asyncio.get_running_loop().create_task(self._handle(*request))
            self.api._tasks.add(task)
            task.add_done_callback(self.api._tasks.discard)

    def _parse(self) -> tuple[str, str, bytes, bool] | None:
        """Cut one request (method, path, body, keep-alive) off the buffer, if complete."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self.buffer) > MAX_REQUEST_BYTES:
                raise ValueError("headers too long")
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "transfer-encoding" in headers:
            raise ValueError("only Content-Length bodies are supported")
        length = int(headers.get("content-length", "0"))
        if not 0 <= length <= MAX_REQUEST_BYTES:
            raise ValueError("bad Content-Length")
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        keep_alive = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        return method, unquote(target.split("?", 1)[0]), body, keep_alive

    async def _handle(self, method: str, path: str, body: bytes, keep_alive: bool) -> None:
        """Answer one request, then look for the next."""
        self._answer(await self.api._endpoint(method, path, body, self.gone), keep_alive)
        self.busy = False
        self._next()

    def _answer(self, answer: tuple[int, dict[str, Any]], keep_alive: bool) -> None:
        """Write a response (closing the connection unless kept alive)."""
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(_http_response(*answer, keep_alive=keep_alive))
        if not keep_alive:
            self.transport.close()


class FakeZaloAPI:
    """In-process fake Zalo Bot API served over real HTTP by an event loop in a thread."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        max_poll_timeout: float = 2.0,
        fetch_photos: bool = True,
        bot_name: str = "Bot Công đoàn thử",
    ) -> None:
        """Configure the double; `fetch_photos=False` skips fetching sendPhoto URLs."""
        self.token = token
        self.bot_id = token.split(":", 1)[0]
        self.bot_name = bot_name
        self.max_poll_timeout = max_poll_timeout
        self.fetch_photos = fetch_photos
        self.monthly_limit: int | None = None
        self.sent_count = 0
        self.over_quota = 0
        self.conflicts = 0
        self.port = 0
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._updates: deque[dict[str, Any]] = deque()
        self._failures: list[_Failure] = []
        self._blocked: set[str] = set()
        self._webhook: dict[str, Any] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._methods: dict[str, Callable[[Call, Gone], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "deleteWebhook": self._delete_webhook,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        """Start serving on 127.0.0.1 with a free port; returns self."""
        if self._thread is not None:
            return self
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK waits
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._stopping = False
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(sock, ready), name=f"fake-zalo-api-{self.port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(10):
            self.stop()
            raise RuntimeError("FakeZaloAPI server failed to start")
        return self

    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        """Thread body: serve until stop(), then let answers in flight finish (1 s at most)."""
        loop = asyncio.new_event_loop()
        try:
            server = loop.run_until_complete(
                loop.create_server(lambda: _Connection(self), sock=sock)
            )
            self._loop = loop
            ready.set()
            loop.run_forever()
            server.close()
            if self._tasks:
                loop.run_until_complete(asyncio.wait(set(self._tasks), timeout=1))
            for connection in list(self._connections):
                if connection.transport is not None:
                    connection.transport.close()
            for task in self._tasks:
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0.01))  # run the close callbacks
        finally:
            self._loop = None
            loop.close()

    def stop(self) -> None:
        """Stop the server and join its thread (a pending long poll answers 408 at once)."""
        with self._lock:
            self._stopping = True
            self._wake_poller()
            loop, thread = self._loop, self._thread
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # already closed
                loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=5)
        self._thread = None

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server."""
        self.stop()

    @property
    def root(self) -> str:
        """Base URL to configure as the bot's API base (it appends `/bot<TOKEN>/<method>`)."""
        if not self.port:
            raise RuntimeError("FakeZaloAPI is not started")
        return f"http://127.0.0.1:{self.port}"

    def method_url(self, method: str, token: str | None = None) -> str:
        """Full URL of one method, for tests that call the double directly."""
        return f"{self.root}/bot{self.token if token is None else token}/{method}"

    # ------------------------------------------------------------------ HTTP layer

    async def _endpoint(
        self, method: str, path: str, body: bytes, gone: Gone
    ) -> tuple[int, dict[str, Any]]:
        """Answer `POST /bot{token}/{method}`: HTTP status and JSON body."""
        route = ROUTE.fullmatch(path)
        if route is None:
            return _ApiError(404, "Not Found").answer()
        if route[1] != self.token:
            return _ApiError(401, "Unauthorized").answer()
        call = Call(route[2], {}, time.time())
        try:
            if method != "POST":
                raise _ApiError(405, "Method Not Allowed")
            call.params = _read_params(body)
            handler = self._methods.get(call.method)
            if handler is None:
                raise _ApiError(404, "Not Found")
            self._check_failure(call)
            call.result = await handler(call, gone)
        except Exception as exc:  # an exception other than _ApiError is a bug in the double
            error = exc if isinstance(exc, _ApiError) else _ApiError(500, f"fake failed: {exc!r}")
            call.error_code, call.description = error.code, error.description
            self._record(call)
            return error.answer()
        self._record(call)
        return 200, {"ok": True, "result": call.result}

    def _record(self, call: Call) -> None:
        """Append a call to the log."""
        with self._lock:
            self._calls.append(call)

    def _check_failure(self, call: Call) -> None:
        """Raise a programmed failure if one matches this call."""
        with self._lock:
            for failure in self._failures:
                if failure.method != call.method:
                    continue
                if failure.chat_id is not None and failure.chat_id != call.chat_id:
                    continue
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise _ApiError(failure.error_code, failure.description, failure.status)

    def _wake_poller(self) -> None:
        """Wake the waiting getUpdates, if any (call with the lock held)."""
        if self._waiter is not None and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._loop.call_soon_threadsafe(_wake, self._waiter)

    # ------------------------------------------------------------------ API methods

    async def _get_me(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Answer getMe."""
        return {
            "id": self.bot_id,
            "account_name": self.bot_name,
            "account_type": "BASIC",
            "can_join_groups": True,
        }

    async def _get_updates(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Long-poll for one update; 408 when none arrives in time, 409 for a second poller."""
        timeout = min(_poll_timeout(call.params.get("timeout")), self.max_poll_timeout)
        with self._lock:
            if self._webhook is not None:
                raise _ApiError(409, WEBHOOK_CONFLICT)
            if self._waiter is not None:
                self.conflicts += 1
                raise _ApiError(409, POLL_CONFLICT)
            if self._updates:
                return self._updates.popleft()
            if timeout <= 0 or self._stopping:
                raise _ApiError(408, POLL_TIMEOUT_DESCRIPTION)
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiter = waiter
        client_here = False
        try:
            await asyncio.wait((waiter, gone), timeout=timeout, return_when=FIRST_COMPLETED)
            client_here = not gone.done()
        finally:
            with self._lock:
                self._waiter = None
                webhook = self._webhook is not None
                # a poller whose client went away (or that lost to a webhook) consumes nothing
                take = client_here and not webhook and self._updates
                update = self._updates.popleft() if take else None
        if webhook:
            raise _ApiError(409, WEBHOOK_CONFLICT)
        if update is None:
            raise _ApiError(408, POLL_TIMEOUT_DESCRIPTION)
        return update

    async def _set_webhook(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Register a webhook: an https URL and a secret of 8..256 characters."""
        url, secret = call.params.get("url"), call.params.get("secret_token")
        if not _is_url(url, ("https",)):
            raise _bad_request("url must be a valid https url")
        low, high = SECRET_LENGTH
        if not isinstance(secret, str) or not low <= len(secret) <= high:
            raise _bad_request(f"secret_token length must be between {low} and {high}")
        with self._lock:
            self._webhook = {"url": url, "secret_token": secret, "updated_at": _now_ms()}
            self._wake_poller()
            return {"url": url, "updated_at": self._webhook["updated_at"]}

    async def _get_webhook_info(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Describe the webhook; 404 when none is set."""
        with self._lock:
            if self._webhook is None:
                raise _ApiError(404, "Not Found")
            return {"url": self._webhook["url"], "updated_at": self._webhook["updated_at"]}

    async def _delete_webhook(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Remove the webhook (also fine when none is set)."""
        with self._lock:
            self._webhook = None
        return {"url": "", "updated_at": _now_ms()}

    def _deliver(self, chat_id: str) -> dict[str, Any]:
        """Count a send against the blocked list and the quota; answer its message id."""
        with self._lock:
            if chat_id in self._blocked:
                raise _ApiError(403, BLOCKED_DESCRIPTION)
            if self.monthly_limit is not None and self.sent_count >= self.monthly_limit:
                self.over_quota += 1
                raise _ApiError(403, QUOTA_DESCRIPTION)
            self.sent_count += 1
        return {"message_id": _new_id(), "date": _now_ms()}

    async def _send_message(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Send a text of 1..2000 characters (reply_markup and other keys are only recorded)."""
        chat_id = _chat_id(call.params)
        _text(call.params, "text", required=True)
        reply_to = call.params.get("reply_to_message_id")
        if reply_to is not None and not isinstance(reply_to, str):
            raise _bad_request("reply_to_message_id must be a string")
        return self._deliver(chat_id)

    async def _send_photo(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Send a photo by URL, which is fetched first as Zalo's servers do."""
        chat_id = _chat_id(call.params)
        _text(call.params, "caption", required=False)
        photo = call.params.get("photo")
        if not _is_url(photo, ("http", "https")):
            raise _bad_request("photo must be an http(s) url")
        if self.fetch_photos:
            await self._fetch_photo(call, str(photo))
        return self._deliver(chat_id)

    @staticmethod
    async def _fetch_photo(call: Call, url: str) -> None:
        """GET the photo URL (no redirects, no lock held) and store what came back."""
        try:
            async with httpx.AsyncClient(timeout=PHOTO_FETCH_TIMEOUT, trust_env=False) as client:
                response = await client.get(url)
        except (httpx.HTTPError, httpx.InvalidURL):
            raise _bad_request("photo url is not reachable") from None
        content_type = response.headers.get("content-type", "")
        call.fetched = response.content
        call.fetched_type = content_type.split(";", 1)[0].strip().lower() or None
        if response.status_code != 200:
            raise _bad_request("photo url is not reachable")
        if call.fetched_type not in IMAGE_TYPES:
            raise _bad_request("photo is not an image")

    async def _send_sticker(self, call: Call, gone: Gone) -> dict[str, Any]:
        """Send a sticker by id."""
        chat_id = _chat_id(call.params)
        sticker = call.params.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise _bad_request("sticker must be a non-empty string")
        return self._deliver(chat_id)

    async def _send_chat_action(self, call: Call, gone: Gone) -> bool:
        """Show an action in a chat; only "typing" exists."""
        _chat_id(call.params)
        if call.params.get("action") != "typing":
            raise _bad_request("action must be typing")
        return True

    # ------------------------------------------------------------------ control

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 429,
        description: str = "Too Many Requests",
        chat_id: str | None = None,
        status: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (optionally for one chat) fail."""
        code = error_code if status is None else status
        with self._lock:
            self._failures.append(_Failure(method, times, error_code, description, code, chat_id))

    def clear_failures(self) -> None:
        """Forget all programmed failures."""
        with self._lock:
            self._failures.clear()

    def block(self, chat_id: str) -> None:
        """Make sends to a chat fail as if its user blocked the bot."""
        with self._lock:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: str) -> None:
        """Undo `block`."""
        with self._lock:
            self._blocked.discard(chat_id)

    @property
    def webhook(self) -> dict[str, Any] | None:
        """What the bot registered with setWebhook (url, secret_token, updated_at), if any."""
        with self._lock:
            return None if self._webhook is None else dict(self._webhook)

    @property
    def polling(self) -> bool:
        """Whether a getUpdates request is waiting right now."""
        with self._lock:
            return self._waiter is not None

    # ------------------------------------------------------------------ recording

    @property
    def calls(self) -> list[Call]:
        """Snapshot of all recorded calls, oldest first."""
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        """Current number of recorded calls; pass as `since` to only see later calls."""
        with self._lock:
            return len(self._calls)

    def _since(self, since: int) -> list[Call]:
        """Recorded calls from index `since` on."""
        with self._lock:
            return self._calls[since:]

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        """Recorded calls of one method, oldest first."""
        return [c for c in self._since(since) if c.method == method]

    def sent_to(self, chat_id: str, since: int = 0) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendSticker calls to a chat, in order."""
        return [
            c
            for c in self._since(since)
            if c.error_code is None and c.method in SEND_METHODS and c.chat_id == chat_id
        ]

    def texts_to(self, chat_id: str, since: int = 0) -> list[str]:
        """Texts and photo captions successfully sent to a chat, in order."""
        return [c.text for c in self.sent_to(chat_id, since) if c.text is not None]

    def clear(self) -> None:
        """Forget calls, pending updates, failures and counters (not blocks or the webhook)."""
        with self._lock:
            self._calls.clear()
            self._updates.clear()
            self._failures.clear()
            self.sent_count = self.over_quota = self.conflicts = 0

    def describe_calls(self, since: int = 0, limit: int = 40) -> str:
        """Readable list of recorded calls (idle getUpdates collapsed) for assertion messages."""
        calls = self._since(since)
        shown = [c for c in calls if c.method != "getUpdates" or c.error_code not in (None, 408)]
        polls = len(calls) - len(shown)
        lines = [f"  [{i}] {c.short()}" for i, c in enumerate(shown[-limit:])]
        header = f"{len(shown)} call(s) besides {polls} answered getUpdates"
        return header + (":\n" + "\n".join(lines) if lines else "")

    # ------------------------------------------------------------------ updates

    def build_text(self, user_id: str, text: str, **sender: Unpack[Sender]) -> dict[str, Any]:
        """Build (without queueing) a `message.text.received` update."""
        return self._build("message.text.received", user_id, {"text": text}, sender)

    def build_image(
        self,
        user_id: str,
        photo_url: str,
        caption: str = "",
        *,
        url_field: str = "photo_url",
        **sender: Unpack[Sender],
    ) -> dict[str, Any]:
        """Build a `message.image.received` update (`url_field` "photo_url" or "photo")."""
        fields: dict[str, Any] = {url_field: photo_url}
        if caption:
            fields["caption"] = caption
        return self._build("message.image.received", user_id, fields, sender)

    def build_sticker(
        self, user_id: str, sticker: str = "abc", **sender: Unpack[Sender]
    ) -> dict[str, Any]:
        """Build a `message.sticker.received` update."""
        return self._build("message.sticker.received", user_id, {"sticker": sticker}, sender)

    def build_voice(
        self,
        user_id: str,
        voice_url: str = "https://voice.zalo.example/voice.m4a",
        **sender: Unpack[Sender],
    ) -> dict[str, Any]:
        """Build a `message.voice.received` update."""
        return self._build("message.voice.received", user_id, {"voice_url": voice_url}, sender)

    def build_unsupported(self, user_id: str, **sender: Unpack[Sender]) -> dict[str, Any]:
        """Build a `message.unsupported.received` update (a kind the bot cannot read)."""
        return self._build("message.unsupported.received", user_id, {}, sender)

    @staticmethod
    def _build(
        event_name: str, user_id: str, fields: dict[str, Any], sender: Sender
    ) -> dict[str, Any]:
        """Build an update in the documented shape (string ids, date in milliseconds)."""
        chat_id = sender.get("chat_id") or user_id
        if not isinstance(user_id, str) or not isinstance(chat_id, str):
            raise TypeError("Zalo ids are strings")
        name_field = sender.get("name_field", "display_name")
        name = sender.get("display_name", "Nguyen Van A")
        message: dict[str, Any] = {
            "message_id": sender.get("message_id") or _new_id(),
            "date": _now_ms(),
            "chat": {"id": chat_id, "chat_type": sender.get("chat_type", "PRIVATE")},
            "from": {"id": user_id, name_field: name, "is_bot": False},
            "message_type": "CHAT_MESSAGE",
            **fields,
        }
        return {"event_name": event_name, "message": message}

    def queue(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (waking a waiting poller) and return it."""
        with self._lock:
            self._updates.append(update)
            self._wake_poller()
        return update

    def send_text(self, user_id: str, text: str, **sender: Unpack[Sender]) -> dict[str, Any]:
        """Queue a text message from a user."""
        return self.queue(self.build_text(user_id, text, **sender))

    def send_image(
        self,
        user_id: str,
        photo_url: str,
        caption: str = "",
        *,
        url_field: str = "photo_url",
        **sender: Unpack[Sender],
    ) -> dict[str, Any]:
        """Queue an image message from a user."""
        return self.queue(
            self.build_image(user_id, photo_url, caption, url_field=url_field, **sender)
        )

    def send_sticker(
        self, user_id: str, sticker: str = "abc", **sender: Unpack[Sender]
    ) -> dict[str, Any]:
        """Queue a sticker from a user."""
        return self.queue(self.build_sticker(user_id, sticker, **sender))

    def send_voice(
        self,
        user_id: str,
        voice_url: str = "https://voice.zalo.example/voice.m4a",
        **sender: Unpack[Sender],
    ) -> dict[str, Any]:
        """Queue a voice message from a user."""
        return self.queue(self.build_voice(user_id, voice_url, **sender))

    def send_unsupported(self, user_id: str, **sender: Unpack[Sender]) -> dict[str, Any]:
        """Queue a message of a kind the platform does not describe."""
        return self.queue(self.build_unsupported(user_id, **sender))

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued but not yet handed to a getUpdates call."""
        with self._lock:
            return copy.deepcopy(list(self._updates))

    async def post_webhook(
        self, url: str, update: dict[str, Any], *, secret: str | None, wrapped: bool = False
    ) -> httpx.Response:
        """POST an update to the bot's webhook as Zalo does (`wrapped` as {"ok", "result"})."""
        body = {"ok": True, "result": update} if wrapped else update
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with httpx.AsyncClient(timeout=10, trust_env=False) as client:
            return await client.post(url, json=body, headers=headers)

    # ------------------------------------------------------------------ waiting

    def _timeout_error(self, what: str, timeout: float, since: int) -> AssertionError:
        """Build a debuggable timeout error."""
        return AssertionError(
            f"Timed out after {timeout}s waiting for {what}; recorded {self.describe_calls(since)}"
        )

    def _poll(self, probe: Callable[[], T | None], what: str, timeout: float, since: int) -> T:
        """Block until `probe()` returns a truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise self._timeout_error(what, timeout, since)
            time.sleep(0.01)

    async def _apoll(
        self, probe: Callable[[], T | None], what: str, timeout: float, since: int
    ) -> T:
        """Async `_poll` that yields to the event loop between probes."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise self._timeout_error(what, timeout, since)
            await asyncio.sleep(0.01)

    def _first_call(
        self, method: str, since: int, predicate: Callable[[Call], bool] | None
    ) -> Call | None:
        """The first call of `method` from index `since` that matches, if any."""
        return next(
            (c for c in self.calls_of(method, since) if not predicate or predicate(c)), None
        )

    def _sent_at_least(self, chat_id: str, count: int, since: int) -> list[Call]:
        """The successful sends to a chat once there are at least `count`, else []."""
        sent = self.sent_to(chat_id, since)
        return sent if len(sent) >= count else []

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5, since: int = 0) -> T:
        """Block until `predicate()` is truthy and return its value."""
        return self._poll(predicate, "predicate", timeout, since)

    def wait_for_call(
        self,
        method: str,
        timeout: float = 5,
        since: int = 0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> Call:
        """Block until a call of `method` (index >= since) matches; return the first one."""
        probe = functools.partial(self._first_call, method, since, predicate)
        return self._poll(probe, f"a {method} call", timeout, since)

    def wait_sent(
        self, chat_id: str, count: int = 1, timeout: float = 5, since: int = 0
    ) -> list[Call]:
        """Block until >= `count` sends to a chat succeeded after call index `since`."""
        probe = functools.partial(self._sent_at_least, chat_id, count, since)
        return self._poll(probe, f"{count} send(s) to chat {chat_id}", timeout, since)

    async def await_for(self, predicate: Callable[[], T], timeout: float = 5, since: int = 0) -> T:
        """Async version of `wait_for`."""
        return await self._apoll(predicate, "predicate", timeout, since)

    async def await_for_call(
        self,
        method: str,
        timeout: float = 5,
        since: int = 0,
        predicate: Callable[[Call], bool] | None = None,
    ) -> Call:
        """Async version of `wait_for_call`."""
        probe = functools.partial(self._first_call, method, since, predicate)
        return await self._apoll(probe, f"a {method} call", timeout, since)

    async def await_sent(
        self, chat_id: str, count: int = 1, timeout: float = 5, since: int = 0
    ) -> list[Call]:
        """Async version of `wait_sent`."""
        probe = functools.partial(self._sent_at_least, chat_id, count, since)
        return await self._apoll(probe, f"{count} send(s) to chat {chat_id}", timeout, since)
