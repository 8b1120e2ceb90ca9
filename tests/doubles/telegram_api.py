"""Local HTTP test double of the Telegram Bot API that python-telegram-bot can talk to."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import mimetypes
import re
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl, unquote

try:
    from tests.doubles.http11 import Answer, Client, Connection, Request, plain
except ModuleNotFoundError:  # `tests` is not a package and the repo root is not on sys.path
    from doubles.http11 import Answer, Client, Connection, Request, plain  # type: ignore[no-redef]

DEFAULT_TOKEN = "123456:TEST-token-abcdefghijklmnopqrstuvwxyz"
SEND_METHODS = ("sendMessage", "sendPhoto", "sendDocument")
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile refuses larger files ("file is too big")
HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip

T = TypeVar("T")
ChatKey = int | str
Params = dict[str, Any]
Files = dict[str, tuple[str, bytes]]
METHOD_ROUTE = re.compile(r"/bot([^/]+)/([^/]+)")
FILE_ROUTE = re.compile(r"/file/bot([^/]+)/(.+)")
WEBHOOK_TIMEOUT = 60.0  # seconds a webhook post may take before it counts as failed


@dataclass
class Call:
    """One request the bot made to the fake API (recorded after it was answered)."""

    method: str
    params: Params
    files: Files
    at: float
    error_code: int | None = None
    result: Any = None

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.error_code is None

    @property
    def chat_id(self) -> ChatKey | None:
        """The `chat_id` parameter normalised to int when numeric."""
        value = self.params.get("chat_id")
        return None if value is None else _chat_key(value)

    @property
    def text(self) -> str | None:
        """The `text` parameter, or the `caption` for media."""
        return self.params.get("text", self.params.get("caption"))

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        """The decoded `reply_markup` parameter, if any."""
        markup = self.params.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    def short(self) -> str:
        """One-line human readable summary for failure messages."""
        parts = []
        for key, value in self.params.items():
            shown = repr(value)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            parts.append(f"{key}={shown}")
        parts.extend(
            f"{key}=<file {name!r} {len(data)}B>" for key, (name, data) in self.files.items()
        )
        status = "" if self.ok else f" -> error {self.error_code}"
        return f"{self.method}({', '.join(parts)}){status}"


@dataclass
class _Failure:
    """A programmed failure for the next calls of a method."""

    method: str
    times: int
    error_code: int
    description: str
    retry_after: int | None
    chat_id: ChatKey | None


class _ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def answer(self) -> Answer:
        """Render the error the way Telegram does."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return _json(self.code, body)


def _bad_request(description: str) -> _ApiError:
    """Build a 400 error with Telegram's 'Bad Request: ' prefix."""
    return _ApiError(400, f"Bad Request: {description}")


def _wake(waiter: asyncio.Future[None]) -> None:
    """Resolve a long-poll waiter (runs in the double's event loop)."""
    if not waiter.done():
        waiter.set_result(None)


def _chat_key(value: Any) -> ChatKey:
    """Normalise a chat id as sent by a client (int or str) to an int when numeric."""
    if isinstance(value, bool):
        raise _bad_request("chat not found")
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    return text


def _maybe_json(value: str) -> Any:
    """Decode JSON-encoded objects/arrays (PTB sends those as strings in forms)."""
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            decoded = json.loads(stripped)
        except ValueError:
            return value
        if isinstance(decoded, (dict, list)):
            return decoded
    return value


def _as_int(value: Any, default: int) -> int:
    """Parse an integer parameter leniently."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad_request(f"wrong integer value {value!r}") from None


def _as_bool(value: Any) -> bool:
    """Parse a boolean parameter as Telegram does ('true'/'1')."""
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("true", "1")


def _utf16_len(text: str) -> int:
    """Length of a string in UTF-16 code units (Telegram entity unit)."""
    return len(text.encode("utf-16-le")) // 2


def _parse_multipart(body: bytes, boundary: bytes) -> tuple[Params, Files]:
    """Minimal multipart/form-data parser (python-multipart is not a dependency)."""
    params: Params = {}
    files: Files = {}
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers = head.decode("utf-8", "replace")
        disposition = next(
            (
                line.split(":", 1)[1]
                for line in headers.split("\r\n")
                if line.lower().startswith("content-disposition:")
            ),
            "",
        )
        attrs = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', disposition))
        name = attrs.get("name")
        if name is None:
            continue
        if "filename" in attrs:
            filename = re.sub(r"\\(.)", r"\1", attrs["filename"]).replace("%22", '"')
            files[name] = (filename, content)
        else:
            params[name] = _maybe_json(content.decode("utf-8"))
    return params, files


class _HTMLChecker(HTMLParser):
    """Rejects HTML that Telegram's parse_mode=HTML would reject (unknown/unbalanced tags)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Check that a start tag is supported."""
        if self.error is None and tag not in HTML_TAGS:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self.getpos()[1]}'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        """Check that an end tag closes the innermost open tag."""
        if self.error is not None:
            return
        if not self.stack or self.stack[-1] != tag:
            expected = f'"</{self.stack[-1]}>"' if self.stack else "nothing"
            self.error = f'Unmatched end tag "{tag}", expected {expected}'
            return
        self.stack.pop()


def _check_html(text: str) -> None:
    """Raise the Telegram 400 error for malformed HTML markup."""
    checker = _HTMLChecker()
    checker.feed(text)
    checker.close()
    if checker.error is None and checker.stack:
        checker.error = f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
    if checker.error is not None:
        raise _bad_request(f"can't parse entities: {checker.error}")


_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote", "a": "text_link",
}  # fmt: skip


class _HTMLToEntities(HTMLParser):
    """Turns parse_mode=HTML text into plain text plus entities, as Telegram stores messages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.plain = ""
        self.open: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember where an entity starts."""
        self.open.append((tag, _utf16_len(self.plain), dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        """Close the entity opened by the matching start tag."""
        if not self.open:
            return
        name, start, attrs = self.open.pop()
        length = _utf16_len(self.plain) - start
        kind = _ENTITY_TYPES.get(name)
        if kind and length > 0:
            entity: dict[str, Any] = {"type": kind, "offset": start, "length": length}
            if kind == "text_link":
                entity["url"] = attrs.get("href") or ""
            self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        """Collect the visible text."""
        self.plain += data


def _html_to_entities(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HTMLToEntities()
    parser.feed(text)
    parser.close()
    return parser.plain, sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))


def _json(status: int, body: Any) -> Answer:
    """A JSON answer, UTF-8 and compact as Starlette's JSONResponse wrote it."""
    payload = json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return status, "application/json", payload.encode()


@dataclass
class Delivery:
    """One webhook post of an update (status 0: no HTTP answer)."""

    update_id: int
    url: str
    status: int
    at: float


def _update_chat(update: dict[str, Any]) -> Any:
    """The chat an update belongs to (webhooks deliver one update per chat at a time)."""
    query = update.get("callback_query")
    if isinstance(query, dict):
        message = query.get("message") or {}
        return (message.get("chat") or {}).get("id", (query.get("from") or {}).get("id"))
    for kind in ("message", "edited_message", "channel_post"):
        if isinstance(update.get(kind), dict):
            return (update[kind].get("chat") or {}).get("id")
    return None


class FakeTelegramAPI:
    """In-process fake Telegram Bot API served over real HTTP by an event loop in a thread."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "congdoan_test_bot",
        *,
        max_poll_timeout: float = 2.0,
        strict: bool = True,
    ) -> None:
        """Configure the fake; `strict` enables Telegram-like validation errors."""
        self.token = token
        self.bot_username = bot_username
        self.max_poll_timeout = max_poll_timeout
        self.strict = strict
        bot_id = token.split(":", 1)[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else 123456
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Congdoan Test Bot",
            "username": bot_username,
        }
        self.port = 0
        self.root = ""
        self._lock = threading.RLock()
        self._calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._failures: list[_Failure] = []
        self._messages: dict[ChatKey, OrderedDict[int, dict[str, Any]]] = {}
        self._message_ids: dict[ChatKey, int] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._webhook: dict[str, Any] = {}
        self._next_update_id = 100_000
        self._next_query_id = 5_000_000
        self._next_file = 0
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poll_waiters: set[asyncio.Future[None]] = set()
        self.on_call: Callable[[Call], None] | None = None
        """Called with each call once it is recorded, in the double's thread, before the bot gets
        its answer (a benchmark reacts to the bot's messages this way, without polling)."""
        self._thread: threading.Thread | None = None
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._delivery: asyncio.Task[None] | None = None
        self._targets: list[str] = []
        self._max_in_flight = 40
        self._redeliver_every = 0
        self._delivered = 0
        self.redelivered = 0
        """Updates posted twice by `deliver_webhooks(redeliver_every=...)`."""
        self.deliveries: list[Delivery] = []
        """Every webhook post of `deliver_webhooks`, oldest first."""
        self._handlers: dict[str, tuple[str, Callable[[Params, Files], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": lambda p, f: True,
                "close": lambda p, f: True,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendChatAction": lambda p, f: True,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": lambda p, f: True,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "getFile": self._get_file,
            }.items()
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
        self.root = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve,
            args=(sock, ready),
            name=f"fake-telegram-api-{self.port}",
            daemon=True,
        )
        self._thread.start()
        if not ready.wait(10):
            self.stop()
            raise RuntimeError("FakeTelegramAPI server failed to start")
        return self

    def _serve(self, sock: socket.socket, ready: threading.Event) -> None:
        """Thread body: serve until stop(), then let answers in flight finish (1 s at most)."""
        loop = asyncio.new_event_loop()
        try:
            server = loop.run_until_complete(
                loop.create_server(
                    lambda: Connection(self._respond, self._connections, self._tasks), sock=sock
                )
            )
            with self._lock:
                self._loop = loop
            ready.set()
            loop.run_forever()
            server.close()
            if self._delivery is not None:
                self._delivery.cancel()
            if self._tasks:
                loop.run_until_complete(asyncio.wait(set(self._tasks), timeout=1))
            for connection in list(self._connections):
                if connection.transport is not None:
                    connection.transport.close()
            for task in list(self._tasks):
                task.cancel()
            loop.run_until_complete(asyncio.sleep(0.01))  # run the close callbacks
        finally:
            with self._lock:
                self._loop = None
            self._delivery = None
            loop.close()

    def stop(self) -> None:
        """Stop the server and join its thread (pending long polls return at once)."""
        self._stopping = True
        self._wake_pollers()
        with self._lock:
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
    def base_url(self) -> str:
        """Value for PTB's `base_url` (PTB appends the token)."""
        return f"{self.root}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for PTB's `base_file_url` (PTB appends the token)."""
        return f"{self.root}/file/bot"

    # ------------------------------------------------------------------ HTTP layer

    async def _respond(self, request: Request) -> Answer:
        """Route one request: `/bot{token}/{method}` and `/file/bot{token}/{path}`."""
        path, _, query = request.target.partition("?")
        path = unquote(path)
        route = METHOD_ROUTE.fullmatch(path)
        if route is not None:
            if request.method not in ("GET", "POST", "HEAD"):
                return plain(405, "Method Not Allowed")
            return await self._endpoint(route[1], route[2], query, request)
        route = FILE_ROUTE.fullmatch(path)
        if route is not None:
            if request.method not in ("GET", "HEAD"):
                return plain(405, "Method Not Allowed")
            return self._file_endpoint(route[1], route[2])
        return plain(404, "Not Found")

    async def _endpoint(self, token: str, name: str, query: str, request: Request) -> Answer:
        """Handle `/bot{token}/{method}`."""
        if token != self.token:
            return _ApiError(401, "Unauthorized").answer()
        started = time.time()
        try:
            params, files = self._parse_request(query, request)
        except (ValueError, UnicodeDecodeError) as exc:
            return _bad_request(f"can't parse request: {exc}").answer()
        entry = self._handlers.get(name.lower())
        if entry is None and name.lower() != "getupdates":
            error = _ApiError(404, "Not Found: method not found")
            self._record(Call(name, params, files, started, error.code))
            return error.answer()
        method = entry[0] if entry else "getUpdates"
        try:
            self._check_failure(method, params)
            if entry is None:
                result = await self._get_updates(params)
            else:
                with self._lock:
                    result = entry[1](params, files)
        except _ApiError as error:
            self._record(Call(method, params, files, started, error.code))
            return error.answer()
        except Exception as exc:  # a bug in the fake: answer 500 but keep it visible
            crash = _ApiError(500, f"Internal Server Error: fake {method} failed: {exc!r}")
            self._record(Call(method, params, files, started, crash.code))
            return crash.answer()
        answer = _json(200, {"ok": True, "result": result})
        self._record(Call(method, params, files, started, None, copy.deepcopy(result)))
        return answer

    def _file_endpoint(self, token: str, path: str) -> Answer:
        """Serve uploaded file contents at `/file/bot{token}/{file_path}`."""
        if token != self.token:
            return _ApiError(401, "Unauthorized").answer()
        with self._lock:
            info = next((f for f in self._files.values() if f["file_path"] == path), None)
        if info is None:
            return _ApiError(404, "Not Found").answer()
        media_type = info.get("mime_type") or "application/octet-stream"
        if media_type.startswith("text/") and "charset" not in media_type:
            media_type += "; charset=utf-8"
        return 200, media_type, info["content"]

    @staticmethod
    def _parse_request(query: str, request: Request) -> tuple[Params, Files]:
        """Read parameters from query, JSON, urlencoded or multipart bodies."""
        pairs = parse_qsl(query, keep_blank_values=True)
        params: Params = {k: _maybe_json(v) for k, v in pairs}
        files: Files = {}
        body = request.body
        content_type = request.headers.get("content-type", "")
        mime = content_type.split(";", 1)[0].strip().lower()
        if not body:
            return params, files
        if mime == "application/json":
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("JSON body must be an object")
            params.update({k: _maybe_json(v) if isinstance(v, str) else v for k, v in data.items()})
        elif mime == "multipart/form-data":
            match = re.search(r'boundary="?([^";]+)"?', content_type)
            if match is None:
                raise ValueError("multipart body without boundary")
            form, files = _parse_multipart(body, match.group(1).encode("latin-1"))
            params.update(form)
        else:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: _maybe_json(v) for k, v in pairs})
        return params, files

    def _record(self, call: Call) -> None:
        """Append a call to the log and tell `on_call`."""
        with self._lock:
            self._calls.append(call)
        listener = self.on_call
        if listener is not None:
            listener(call)

    def _check_failure(self, method: str, params: Params) -> None:
        """Raise a programmed failure if one matches this call."""
        with self._lock:
            for failure in self._failures:
                if failure.method.lower() != method.lower() or failure.times <= 0:
                    continue
                if failure.chat_id is not None:
                    raw = params.get("chat_id")
                    if raw is None or _chat_key(raw) != failure.chat_id:
                        continue
                failure.times -= 1
                self._failures = [f for f in self._failures if f.times > 0]
                parameters = None
                if failure.retry_after is not None:
                    parameters = {"retry_after": failure.retry_after}
                raise _ApiError(failure.error_code, failure.description, parameters)

    # ------------------------------------------------------------------ object builders

    def _chat(self, chat_id: ChatKey) -> dict[str, Any]:
        """Build a Chat object for a chat id."""
        if not isinstance(chat_id, int) or chat_id == 0:
            raise _bad_request("chat not found")
        if chat_id > 0:
            user = self._users.get(chat_id, {})
            chat: dict[str, Any] = {
                "id": chat_id,
                "type": "private",
                "first_name": user.get("first_name", "Test"),
            }
            if user.get("username"):
                chat["username"] = user["username"]
            return chat
        return {"id": chat_id, "type": "group", "title": f"Test group {chat_id}"}

    def _user(self, user_id: int) -> dict[str, Any]:
        """Build a User object for a (previously seen) user id."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Test"}
        user.update(self._users.get(user_id, {}))
        return user

    def _next_message_id(self, chat_id: ChatKey) -> int:
        """Allocate the next message id in a chat (shared by bot and users)."""
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _allocate_update_id(self) -> int:
        """Allocate a fresh update id."""
        self._next_update_id += 1
        return self._next_update_id

    def _store(self, message: dict[str, Any]) -> None:
        """Store (or move to the end) a message the bot sent or edited."""
        chat_id = message["chat"]["id"]
        chat = self._messages.setdefault(chat_id, OrderedDict())
        chat[message["message_id"]] = message
        chat.move_to_end(message["message_id"])

    def _chat_messages(self, chat_id: ChatKey) -> OrderedDict[int, dict[str, Any]]:
        """Stored bot messages of a chat (an empty mapping for unknown chats)."""
        return self._messages.get(chat_id) or OrderedDict()

    def _find(self, params: Params) -> dict[str, Any]:
        """Find the stored bot message addressed by chat_id/message_id."""
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by the fake")
        chat_id = _chat_key(params.get("chat_id", ""))
        message_id = _as_int(params.get("message_id"), 0)
        message = self._chat_messages(chat_id).get(message_id)
        if message is None:
            raise _bad_request("message to edit not found")
        return message

    def _check_markup(self, markup: Any) -> dict[str, Any] | None:
        """Validate a reply_markup parameter like Telegram does."""
        if markup is None or markup == "":
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        keyboard = markup.get("inline_keyboard")
        if keyboard is not None and self.strict:
            if not isinstance(keyboard, list) or not all(isinstance(r, list) for r in keyboard):
                raise _bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for row in keyboard:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _bad_request('can\'t find field "text"')
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                        raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    def _check_text(self, value: Any, parse_mode: Any, *, caption: bool = False) -> str | None:
        """Validate text/caption length and markup."""
        if value is None:
            if caption:
                return None
            raise _bad_request("message text is empty")
        text = str(value)
        if not caption and not text.strip():
            raise _bad_request("message text is empty")
        if self.strict:
            limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
            if len(text) > limit:
                raise _bad_request(
                    "message caption is too long" if caption else "message is too long"
                )
            if str(parse_mode or "").upper() == "HTML":
                _check_html(text)
        return text

    def _new_bot_message(self, params: Params) -> dict[str, Any]:
        """Build the common part of a message the bot sends."""
        chat_id = _chat_key(params.get("chat_id", ""))
        chat = self._chat(chat_id)
        markup = self._check_markup(params.get("reply_markup"))
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": dict(self.bot_user),
            "chat": chat,
            "date": int(time.time()),
        }
        reply_to = params.get("reply_to_message_id")
        if reply_to is None and isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        if reply_to is not None:
            original = self._chat_messages(chat_id).get(_as_int(reply_to, 0))
            if original is not None:
                message["reply_to_message"] = copy.deepcopy(original)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message

    def _register_file(
        self, kind: str, filename: str, content: bytes, mime_type: str | None
    ) -> dict[str, Any]:
        """Store uploaded content and return its file record."""
        self._next_file += 1
        number = self._next_file
        ext = filename.rsplit(".", 1)[1] if "." in filename else "bin"
        info: dict[str, Any] = {
            "file_id": f"{kind[:2].upper()}ACAgFAKE{number:06d}",
            "file_unique_id": f"AgADFAKE{number:06d}",
            "file_size": len(content),
            "file_path": f"{kind}s/file_{number}.{ext}",
            "file_name": filename,
            "mime_type": mime_type,
            "content": content,
        }
        self._files[info["file_id"]] = info
        return info

    def _file_from(self, kind: str, params: Params, files: Files) -> dict[str, Any]:
        """Resolve an uploaded file, a known file_id or a URL into a file record."""
        if kind in files:
            filename, content = files[kind]
            mime = mimetypes.guess_type(filename)[0]
            return self._register_file(kind, filename, content, mime)
        ref = params.get(kind)
        if isinstance(ref, str) and ref.startswith("attach://"):
            attached = files.get(ref[len("attach://") :])
            if attached is not None:
                mime = mimetypes.guess_type(attached[0])[0]
                return self._register_file(kind, attached[0], attached[1], mime)
        if not ref:
            raise _bad_request(f"there is no {kind} in the request")
        if ref in self._files:
            return self._files[ref]
        name = str(ref).rstrip("/").rsplit("/", 1)[-1] or f"{kind}.bin"
        return self._register_file(kind, name, b"", mimetypes.guess_type(name)[0])

    # ------------------------------------------------------------------ API methods

    def _get_me(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer getMe."""
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _send_message(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer sendMessage."""
        text = self._check_text(params.get("text"), params.get("parse_mode"))
        message = self._new_bot_message(params)
        message["text"] = text
        if isinstance(params.get("entities"), list):
            message["entities"] = params["entities"]
        elif str(params.get("parse_mode") or "").upper() == "HTML" and text is not None:
            message["text"], entities = _html_to_entities(text)
            if entities:
                message["entities"] = entities
        self._store(message)
        return copy.deepcopy(message)

    def _send_photo(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer sendPhoto with a PhotoSize list."""
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        message = self._new_bot_message(params)
        info = self._file_from("photo", params, files)
        sizes = [(90, 67), (320, 240), (800, 600)]
        message["photo"] = [
            {
                "file_id": f"{info['file_id']}_{width}",
                "file_unique_id": f"{info['file_unique_id']}_{width}",
                "width": width,
                "height": height,
                "file_size": info["file_size"],
            }
            for width, height in sizes
        ]
        for width, _ in sizes:
            self._files[f"{info['file_id']}_{width}"] = info
        if caption is not None:
            message["caption"] = caption
        self._store(message)
        return copy.deepcopy(message)

    def _send_document(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer sendDocument with a Document object."""
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        message = self._new_bot_message(params)
        info = self._file_from("document", params, files)
        document = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_name": info["file_name"],
            "file_size": info["file_size"],
        }
        if info.get("mime_type"):
            document["mime_type"] = info["mime_type"]
        message["document"] = document
        if caption is not None:
            message["caption"] = caption
        self._store(message)
        return copy.deepcopy(message)

    def _apply_edit(self, message: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Apply an edit, rejecting no-op edits like Telegram does."""
        updated = copy.deepcopy(message)
        for key, value in changes.items():
            if value is None:
                updated.pop(key, None)
            else:
                updated[key] = value
        if self.strict and all(updated.get(k) == message.get(k) for k in changes):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        updated["edit_date"] = int(time.time())
        self._store(updated)
        return copy.deepcopy(updated)

    def _inline_markup(self, params: Params) -> dict[str, Any] | None:
        """Return the inline keyboard markup of an edit request (None removes it)."""
        markup = self._check_markup(params.get("reply_markup"))
        return markup if markup is not None and "inline_keyboard" in markup else None

    def _edit_message_text(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer editMessageText (a missing reply_markup removes the keyboard)."""
        message = self._find(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text = self._check_text(params.get("text"), params.get("parse_mode"))
        changes: dict[str, Any] = {"text": text, "reply_markup": self._inline_markup(params)}
        if str(params.get("parse_mode") or "").upper() == "HTML" and text is not None:
            changes["text"], entities = _html_to_entities(text)
            changes["entities"] = entities or None
        return self._apply_edit(message, changes)

    def _edit_message_caption(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer editMessageCaption."""
        message = self._find(params)
        caption = self._check_text(params.get("caption"), params.get("parse_mode"), caption=True)
        return self._apply_edit(
            message, {"caption": caption, "reply_markup": self._inline_markup(params)}
        )

    def _edit_message_reply_markup(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer editMessageReplyMarkup."""
        message = self._find(params)
        return self._apply_edit(message, {"reply_markup": self._inline_markup(params)})

    def _delete_message(self, params: Params, files: Files) -> bool:
        """Answer deleteMessage."""
        chat_id = _chat_key(params.get("chat_id", ""))
        message_id = _as_int(params.get("message_id"), 0)
        if self._chat_messages(chat_id).pop(message_id, None) is None:
            raise _bad_request("message to delete not found")
        return True

    @staticmethod
    def _commands_key(params: Params) -> str:
        """Key for command lists: scope + language code."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _set_my_commands(self, params: Params, files: Files) -> bool:
        """Answer setMyCommands."""
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
        self._commands[self._commands_key(params)] = commands
        return True

    def _get_my_commands(self, params: Params, files: Files) -> list[dict[str, Any]]:
        """Answer getMyCommands."""
        return copy.deepcopy(self._commands.get(self._commands_key(params), []))

    def _delete_my_commands(self, params: Params, files: Files) -> bool:
        """Answer deleteMyCommands."""
        self._commands.pop(self._commands_key(params), None)
        return True

    def _set_webhook(self, params: Params, files: Files) -> bool:
        """Answer setWebhook (remembers url, secret token and allowed updates)."""
        url = str(params.get("url") or "")
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        self._webhook = {k: v for k, v in params.items() if k != "certificate"} if url else {}
        return True

    def _delete_webhook(self, params: Params, files: Files) -> bool:
        """Answer deleteWebhook (which also ends `deliver_webhooks`)."""
        if _as_bool(params.get("drop_pending_updates", False)):
            self._updates.clear()
        self._webhook = {}
        self._targets = []
        return True

    def _get_webhook_info(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer getWebhookInfo."""
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook:
            info["max_connections"] = _as_int(self._webhook.get("max_connections"), 40)
            if isinstance(self._webhook.get("allowed_updates"), list):
                info["allowed_updates"] = self._webhook["allowed_updates"]
        return info

    def _get_file(self, params: Params, files: Files) -> dict[str, Any]:
        """Answer getFile for files uploaded through this fake."""
        info = self._files.get(str(params.get("file_id", "")))
        if info is None:
            raise _bad_request("invalid file_id")
        if info["file_size"] > BOT_DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return {key: info[key] for key in ("file_id", "file_unique_id", "file_size", "file_path")}

    def _take_updates(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Drop confirmed updates and return up to `limit` pending ones."""
        with self._lock:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            return copy.deepcopy(self._updates[:limit])

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        """Answer getUpdates with long polling (timeout capped at max_poll_timeout)."""
        with self._lock:
            if self._webhook or self._targets:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
        offset = _as_int(params.get("offset"), 0)
        limit = min(max(_as_int(params.get("limit"), 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_timeout)
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        while True:
            waiter: asyncio.Future[None] = loop.create_future()
            with self._lock:  # registered before looking, so an update queued meanwhile wakes it
                self._loop = loop
                self._poll_waiters.add(waiter)
            try:
                updates = self._take_updates(offset, limit)
                if isinstance(allowed, list) and allowed:
                    updates = [u for u in updates if any(kind in u for kind in allowed)]
                left = deadline - time.monotonic()
                if updates or self._stopping or left <= 0:
                    return updates
                await asyncio.wait((waiter,), timeout=left)
            finally:
                with self._lock:
                    self._poll_waiters.discard(waiter)

    # ------------------------------------------------------------------ webhook delivery

    def deliver_webhooks(
        self,
        urls: list[str] | None = None,
        *,
        max_connections: int | None = None,
        redeliver_every: int = 0,
    ) -> None:
        """Post queued updates to the webhook instead of serving getUpdates, as Telegram does
        once setWebhook was called (opt-in: tests that post to the bot themselves are not
        affected). Round robin over `urls` (default: the registered URL), as several bot
        processes behind one address; with the registered secret in
        X-Telegram-Bot-Api-Secret-Token; at most `max_connections` posts in flight
        (setWebhook's, else 40), one at a time per chat, in update_id order. An update is done
        once a post is answered 2xx; otherwise it is posted again, a little later each time.
        `redeliver_every=N`: every Nth update is also posted at once to the next URL, as when
        Telegram retries an answer that is late, to prove deduplication. Calling it again
        changes the settings; `stop_webhooks()` or deleteWebhook ends it."""
        with self._lock:
            registered = self._webhook.get("url")
            targets = list(urls) if urls else ([str(registered)] if registered else [])
            if not targets:
                raise ValueError("no webhook URL: call setWebhook first or pass urls")
            self._targets = targets
            self._max_in_flight = max_connections or _as_int(
                self._webhook.get("max_connections"), 40
            )
            self._redeliver_every = max(0, redeliver_every)
            loop = self._loop
        if loop is None:
            raise RuntimeError("FakeTelegramAPI is not started")
        loop.call_soon_threadsafe(self._start_delivery)
        self._wake_pollers()

    def stop_webhooks(self, timeout: float = 10) -> None:
        """Stop posting; posts in flight finish (updates not posted stay queued)."""
        with self._lock:
            self._targets = []
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while self._delivery is not None and not self._delivery.done():
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)

    def _start_delivery(self) -> None:
        """Start the delivery task (in the double's loop) unless it runs."""
        if self._delivery is None or self._delivery.done():
            self._delivery = asyncio.get_running_loop().create_task(_Deliverer(self).run())

    # ------------------------------------------------------------------ failures

    def fail_next(
        self,
        method: str,
        *,
        times: int = 1,
        error_code: int = 429,
        description: str = "Too Many Requests: retry after 1",
        retry_after: int | None = None,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next `times` calls of `method` (optionally for one chat) fail."""
        failure = _Failure(
            method=method,
            times=times,
            error_code=error_code,
            description=description,
            retry_after=retry_after,
            chat_id=None if chat_id is None else _chat_key(chat_id),
        )
        with self._lock:
            self._failures.append(failure)

    def clear_failures(self) -> None:
        """Forget all programmed failures."""
        with self._lock:
            self._failures.clear()

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

    def calls_of(self, method: str, *, since: int = 0) -> list[Call]:
        """Recorded calls of one method (case-insensitive), oldest first."""
        return [c for c in self.calls[since:] if c.method.lower() == method.lower()]

    def sent_to(self, chat_id: int | str, *, since: int = 0) -> list[Call]:
        """Successful sendMessage/sendPhoto/sendDocument calls to a chat, in order."""
        key = _chat_key(chat_id)
        return [
            c for c in self.calls[since:] if c.method in SEND_METHODS and c.ok and c.chat_id == key
        ]

    def clear(self) -> None:
        """Forget recorded calls, pending updates, stored messages and failures."""
        with self._lock:
            self._calls.clear()
            self._updates.clear()
            self._failures.clear()
            self._messages.clear()

    # ------------------------------------------------------------------ stored messages

    def messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """All stored bot messages of a chat, least recently sent/edited first."""
        with self._lock:
            return copy.deepcopy(list(self._chat_messages(_chat_key(chat_id)).values()))

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """One stored bot message by id, or None."""
        with self._lock:
            found = self._chat_messages(_chat_key(chat_id)).get(message_id)
            return copy.deepcopy(found)

    def last_message(self, chat_id: int | str) -> dict[str, Any] | None:
        """The bot message most recently sent or edited in a chat, or None."""
        stored = self.messages(chat_id)
        return stored[-1] if stored else None

    @staticmethod
    def buttons(message: dict[str, Any] | Call | None) -> list[tuple[str, str | None]]:
        """Flatten an inline keyboard into (text, callback_data) pairs."""
        if message is None:
            return []
        markup = message.reply_markup if isinstance(message, Call) else message.get("reply_markup")
        rows = (markup or {}).get("inline_keyboard") or []
        return [(b.get("text", ""), b.get("callback_data")) for row in rows for b in row]

    def keyboard_message(self, chat_id: int | str, label_substring: str = "") -> dict[str, Any]:
        """Latest bot message with an inline keyboard (having a matching button, if given)."""
        for message in reversed(self.messages(chat_id)):
            buttons = self.buttons(message)
            if buttons and any(label_substring in text for text, _ in buttons):
                return dict(message)
        raise AssertionError(
            f"No bot message with a button containing {label_substring!r} in chat {chat_id}. "
            f"Buttons by message: {self._describe_buttons(chat_id)}"
        )

    def button_data(self, chat_id: int | str, label_substring: str) -> str:
        """callback_data of the button containing `label_substring` in the latest keyboard."""
        latest = next((m for m in reversed(self.messages(chat_id)) if self.buttons(m)), None)
        if latest is None:
            raise AssertionError(
                f"No bot message with an inline keyboard in chat {chat_id}; "
                f"calls: {self.describe_calls()}"
            )
        for text, data in self.buttons(latest):
            if label_substring in text and data is not None:
                return data
        raise AssertionError(
            f"No button containing {label_substring!r} in message {latest['message_id']} "
            f"of chat {chat_id}. Available buttons: {self.buttons(latest)}"
        )

    def _describe_buttons(self, chat_id: int | str) -> str:
        """Describe buttons of all stored messages of a chat."""
        return (
            "; ".join(f"#{m['message_id']}: {self.buttons(m)}" for m in self.messages(chat_id))
            or "none"
        )

    # ------------------------------------------------------------------ user activity

    def _remember_user(
        self, user_id: int, first_name: str, username: str | None, language_code: str | None
    ) -> dict[str, Any]:
        """Record user details and return the User object."""
        info: dict[str, Any] = {"first_name": first_name}
        if username:
            info["username"] = username
        if language_code:
            info["language_code"] = language_code
        self._users[user_id] = info
        return self._user(user_id)

    def build_text_update(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Build (without queueing) a `message` Update with a text from a user."""
        with self._lock:
            user = self._remember_user(user_id, first_name, username, language_code)
            key = user_id if chat_id is None else chat_id
            message: dict[str, Any] = {
                "message_id": self._next_message_id(key),
                "from": user,
                "chat": self._chat(key),
                "date": int(time.time()),
                "text": text,
            }
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
                ]
            if reply_to_message_id is not None:
                original = self._chat_messages(key).get(reply_to_message_id)
                if original is not None:
                    message["reply_to_message"] = copy.deepcopy(original)
            return {"update_id": self._allocate_update_id(), "message": message}

    def build_callback_update(
        self,
        user_id: int,
        message: dict[str, Any] | int,
        data: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
    ) -> dict[str, Any]:
        """Build (without queueing) a `callback_query` Update for a bot message."""
        with self._lock:
            if isinstance(message, dict):
                key = _chat_key(message["chat"]["id"])
                message_id = int(message["message_id"])
            else:
                key = user_id if chat_id is None else chat_id
                message_id = message
            stored = self._chat_messages(key).get(message_id)
            if stored is None and not isinstance(message, dict):
                raise AssertionError(
                    f"No bot message {message_id} in chat {key}: {self._describe_buttons(key)}"
                )
            current = copy.deepcopy(stored if stored is not None else message)
            if user_id not in self._users or username or first_name != "Test" or language_code:
                self._remember_user(user_id, first_name, username, language_code)
            self._next_query_id += 1
            query = {
                "id": str(self._next_query_id),
                "from": self._user(user_id),
                "message": current,
                "chat_instance": str(7_000_000_000_000 + abs(hash(key)) % 10**12),
                "data": data,
            }
            return {"update_id": self._allocate_update_id(), "callback_query": query}

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an Update for getUpdates (assigns an update_id if missing)."""
        with self._lock:
            if "update_id" not in update:
                update["update_id"] = self._allocate_update_id()
            else:
                self._next_update_id = max(self._next_update_id, int(update["update_id"]))
            self._updates.append(update)
            if len(self._updates) > 1 and self._updates[-2]["update_id"] > update["update_id"]:
                self._updates.sort(key=lambda u: u["update_id"])
            self._wake_pollers()
        return update

    def _wake_pollers(self) -> None:
        """Wake the waiting getUpdates calls (from any thread)."""
        with self._lock:
            loop, waiters = self._loop, list(self._poll_waiters)
        if loop is None:
            return
        for waiter in waiters:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(_wake, waiter)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a text message from a user (commands get a bot_command entity)."""
        return self.queue_update(
            self.build_text_update(
                user_id,
                text,
                chat_id=chat_id,
                first_name=first_name,
                username=username,
                language_code=language_code,
                reply_to_message_id=reply_to_message_id,
            )
        )

    def _media_update(
        self, user_id: int, caption: str, chat_id: int | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A message update without text, with the caption if any: the file is added to it."""
        update = self.build_text_update(user_id, caption, chat_id=chat_id)
        message = update["message"]
        del message["text"]
        message.pop("entities", None)
        if caption:
            message["caption"] = caption
        return update, message

    def send_photo(
        self, user_id: int, content: bytes, caption: str = "", *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Queue a photo message from a user; the bot can fetch it with getFile and the file URL
        (every size serves the same bytes)."""
        update, message = self._media_update(user_id, caption, chat_id)
        with self._lock:
            info = self._register_file("photo", "photo.jpg", content, "image/jpeg")
            message["photo"] = []
            for width, height in [(90, 67), (320, 240), (800, 600)]:
                file_id = f"{info['file_id']}_{width}"
                self._files[file_id] = info
                message["photo"].append(
                    {
                        "file_id": file_id,
                        "file_unique_id": f"{info['file_unique_id']}_{width}",
                        "width": width,
                        "height": height,
                        "file_size": len(content),
                    }
                )
        return self.queue_update(update)

    def send_document(
        self,
        user_id: int,
        content: bytes,
        filename: str,
        caption: str = "",
        *,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a file a user sends (a DOCX, a PDF, a spreadsheet): a `document` with its name,
        MIME type and size; the bot fetches it with getFile and the file URL (Telegram serves
        bots files up to 20 MB)."""
        update, message = self._media_update(user_id, caption, chat_id)
        with self._lock:
            mime = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            info = self._register_file("document", filename, content, mime)
        message["document"] = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_name": filename,
            "mime_type": mime,
            "file_size": len(content),
        }
        return self.queue_update(update)

    def press(
        self, user_id: int, message: dict[str, Any] | int, data: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Queue a callback query for a button on a message the bot sent."""
        return self.queue_update(
            self.build_callback_update(user_id, message, data, chat_id=chat_id)
        )

    def press_button(
        self, user_id: int, label_substring: str, *, chat_id: int | None = None
    ) -> dict[str, Any]:
        """Press the button whose text contains the substring in the latest keyboard message."""
        key = user_id if chat_id is None else chat_id
        data = self.button_data(key, label_substring)
        message = next(m for m in reversed(self.messages(key)) if self.buttons(m))
        return self.press(user_id, message, data, chat_id=chat_id)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued but not yet confirmed by the bot."""
        with self._lock:
            return copy.deepcopy(self._updates)

    # ------------------------------------------------------------------ waiting

    def describe_calls(self, since: int = 0, limit: int = 40) -> str:
        """Readable list of recorded calls (getUpdates collapsed) for assertion messages."""
        calls = self.calls[since:]
        polls = sum(1 for c in calls if c.method == "getUpdates" and c.ok)
        shown = [c for c in calls if not (c.method == "getUpdates" and c.ok)]
        lines = [f"  [{i}] {c.short()}" for i, c in enumerate(shown[-limit:])]
        header = f"{len(shown)} call(s) besides {polls} successful getUpdates"
        return header + (":\n" + "\n".join(lines) if lines else "")

    def _timeout_error(self, what: str, timeout: float, since: int = 0) -> AssertionError:
        """Build a debuggable timeout error."""
        return AssertionError(
            f"Timed out after {timeout}s waiting for {what}; recorded {self.describe_calls(since)}"
        )

    def _poll(self, probe: Callable[[], T | None], what: str, timeout: float, since: int) -> T:
        """Block until `probe()` returns a non-None/truthy value."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise self._timeout_error(what, timeout, since)
            time.sleep(0.02)

    async def _apoll(
        self, probe: Callable[[], T | None], what: str, timeout: float, since: int
    ) -> T:
        """Async variant of `_poll` using asyncio.sleep."""
        deadline = time.monotonic() + timeout
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise self._timeout_error(what, timeout, since)
            await asyncio.sleep(0.02)

    def _call_probe(
        self, method: str, predicate: Callable[[Call], bool] | None, since: int
    ) -> Callable[[], Call | None]:
        """Probe returning the first matching call."""

        def probe() -> Call | None:
            for call in self.calls_of(method, since=since):
                if predicate is None or predicate(call):
                    return call
            return None

        return probe

    def _sent_probe(
        self, chat_id: int | str, count: int, since: int
    ) -> Callable[[], list[Call] | None]:
        """Probe returning the sent calls once there are at least `count`."""

        def probe() -> list[Call] | None:
            sent = self.sent_to(chat_id, since=since)
            return sent if len(sent) >= count else None

        return probe

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5, since: int = 0) -> T:
        """Block until `predicate()` is truthy and return its value."""
        return self._poll(predicate, "predicate", timeout, since)

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5,
        since: int = 0,
    ) -> Call:
        """Block until a call of `method` (index >= since) matches; return the first one."""
        probe = self._call_probe(method, predicate, since)
        return self._poll(probe, f"a {method} call", timeout, since)

    def wait_sent(
        self, chat_id: int | str, count: int = 1, timeout: float = 5, since: int = 0
    ) -> list[Call]:
        """Block until >= `count` messages were sent to a chat after call index `since`."""
        probe = self._sent_probe(chat_id, count, since)
        return self._poll(probe, f"{count} message(s) to chat {chat_id}", timeout, since)

    async def await_for(self, predicate: Callable[[], T], timeout: float = 5, since: int = 0) -> T:
        """Async version of `wait_for`."""
        return await self._apoll(predicate, "predicate", timeout, since)

    async def await_for_call(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        timeout: float = 5,
        since: int = 0,
    ) -> Call:
        """Async version of `wait_for_call`."""
        probe = self._call_probe(method, predicate, since)
        return await self._apoll(probe, f"a {method} call", timeout, since)

    await_call = await_for_call

    async def await_sent(
        self, chat_id: int | str, count: int = 1, timeout: float = 5, since: int = 0
    ) -> list[Call]:
        """Async version of `wait_sent`."""
        probe = self._sent_probe(chat_id, count, since)
        return await self._apoll(probe, f"{count} message(s) to chat {chat_id}", timeout, since)


class _Deliverer:
    """The webhook delivery of `FakeTelegramAPI.deliver_webhooks`, in the double's loop."""

    def __init__(self, api: FakeTelegramAPI) -> None:
        self.api = api
        self.client = Client()
        self.posts: set[asyncio.Task[None]] = set()
        self.busy: set[Any] = set()  # chats with an update in flight
        self.retry_at: dict[int, float] = {}
        self.failures: dict[int, int] = {}
        self.turn = 0

    async def run(self) -> None:
        """Post what is queued until the targets are cleared and nothing is in flight."""
        api = self.api
        loop = asyncio.get_running_loop()
        try:
            while True:
                waiter: asyncio.Future[None] = loop.create_future()
                with api._lock:  # registered before looking: a queued update wakes it
                    api._poll_waiters.add(waiter)
                    targets, limit = list(api._targets), api._max_in_flight
                    pending = list(api._updates) if targets else []
                    secret = api._webhook.get("secret_token")
                if not targets and not self.posts:
                    return
                wake_at = self._start_posts(pending, targets, limit, secret)
                timeout = None if wake_at is None else max(0.0, wake_at - time.monotonic())
                try:
                    await asyncio.wait((waiter,), timeout=timeout)
                finally:
                    with api._lock:
                        api._poll_waiters.discard(waiter)
        finally:
            self.client.close()

    def _start_posts(
        self, pending: list[dict[str, Any]], targets: list[str], limit: int, secret: Any
    ) -> float | None:
        """Post the next update of each free chat; when the next retry is due, if any."""
        now = time.monotonic()
        wake_at: float | None = None
        blocked = set(self.busy)
        for update in pending:
            chat = _update_chat(update)
            if chat in blocked:
                continue
            blocked.add(chat)  # its later updates wait for this one
            due = self.retry_at.get(update["update_id"], 0.0)
            if due > now:
                wake_at = due if wake_at is None else min(wake_at, due)
                continue
            if len(self.posts) >= limit:
                break
            urls = [targets[self.turn % len(targets)]]
            self.turn += 1
            self.api._delivered += 1
            every = self.api._redeliver_every
            if every and len(targets) > 1 and self.api._delivered % every == 0:
                urls.append(targets[self.turn % len(targets)])
                self.api.redelivered += 1
            self.busy.add(chat)
            task = asyncio.get_running_loop().create_task(self._post(update, urls, secret))
            self.posts.add(task)
            task.add_done_callback(self.posts.discard)
        return wake_at

    async def _post(self, update: dict[str, Any], urls: list[str], secret: Any) -> None:
        """Post one update to each URL at once; done once one answered 2xx, else retried."""
        api = self.api
        update_id = update["update_id"]
        body = json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"X-Telegram-Bot-Api-Secret-Token": str(secret)} if secret else {}

        async def one(url: str) -> int:
            try:
                post = self.client.post(url, body, headers)
                status = await asyncio.wait_for(post, WEBHOOK_TIMEOUT)
            except (OSError, ValueError, asyncio.IncompleteReadError, TimeoutError):
                status = 0
            with api._lock:
                api.deliveries.append(Delivery(update_id, url, status, time.time()))
            return status

        statuses = await asyncio.gather(*(one(url) for url in urls))
        if any(200 <= status < 300 for status in statuses):
            self.retry_at.pop(update_id, None)
            self.failures.pop(update_id, None)
            with api._lock:
                api._updates = [u for u in api._updates if u is not update]
        else:
            self.failures[update_id] = self.failures.get(update_id, 0) + 1
            delay = min(0.05 * 2 ** self.failures[update_id], 2.0)
            self.retry_at[update_id] = time.monotonic() + delay
        self.busy.discard(_update_chat(update))
        api._wake_pollers()
