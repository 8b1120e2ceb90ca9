"""Zalo: the Zalo Bot API over httpx (its SDK is an unmaintained fork), translated to and from the
neutral messages. Zalo has no buttons, no documents, no editing: choices go out as numbered lines
answered by typing (bot/typedchoice.py), files as links the bot serves itself (PUBLIC_BASE_URL),
texts as plain text of at most 2,000 characters. Platform facts: shared/reference/zalo-bot-api.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx

from bot import locks
from bot.channels.base import Switchboard
from bot.config import Settings
from bot.engine import Engine
from bot.locks import AdvisoryLock
from bot.messages import (
    Capabilities,
    Choices,
    Document,
    FileRequest,
    Incoming,
    Photo,
    Reply,
    Response,
    Text,
    split_text,
    to_plain,
)
from bot.services import quota, uploads
from bot.services.files import Published, Publisher
from bot.services.outbox import SendResult
from bot.timefmt import fmt_datetime
from bot.typedchoice import numbered

logger = logging.getLogger(__name__)

PLATFORM = "zalo"
TEXT_LIMIT = 2000
CAPABILITIES = Capabilities(text_limit=TEXT_LIMIT, buttons=False, uploads=False)
POLL_TIMEOUT = 30  # seconds Zalo holds getUpdates open; it answers 408 when nothing came
PHOTO_MAX_BYTES = 5 * 1024 * 1024
POLLER_RETRY = 30.0  # seconds between tries to become the one poller (PostgreSQL)
MAX_HANDLING = 64  # updates handled side by side (the engine serializes each chat)
BACKOFF_MAX = 60.0
INVALID_TOKEN_PAUSE = 60.0
RATE_LIMIT_PAUSE = 5.0  # seconds after a 429 without a retry_after (Zalo publishes none)
_MENTION = re.compile(r"^@\S+\s+(?=/)")


class ZaloError(Exception):
    """An answer other than ok from the Zalo Bot API: the HTTP status and Zalo's own fields."""

    def __init__(self, status: int, code: int | None, description: str, retry_after: float = 0):
        super().__init__(f"{status} {code}: {description}")
        self.status = status
        self.code = code if code is not None else status
        self.description = description
        self.retry_after = retry_after


class ZaloClient:
    """POST {root}/bot{TOKEN}/{method} with a JSON body; every answer is {"ok", "result", ...}.
    The URL holds the token: never log it (httpx's own logger is quieted in bot/app.py)."""

    def __init__(
        self,
        token: str,
        root: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        connections: int = 32,
    ):
        self._client = httpx.AsyncClient(
            base_url=f"{root.rstrip('/')}/bot{token}/",
            transport=transport,
            timeout=httpx.Timeout(15.0, connect=10.0),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def call(
        self, method: str, params: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> Any:
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        response = await self._client.post(method, json=params or {}, **extra)
        try:
            body = response.json()
        except ValueError:
            raise ZaloError(response.status_code, None, "answer is not JSON") from None
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("ok"):
            body = body if isinstance(body, dict) else {}
            code = body.get("error_code")
            params_ = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
            retry = params_.get("retry_after", 0) if params_ else 0
            raise ZaloError(
                response.status_code,
                code if isinstance(code, int) else None,
                str(body.get("description") or "")[:200],
                float(retry) if isinstance(retry, int | float) else 0.0,
            )
        return body.get("result")

    async def fetch(self, url: str, max_bytes: int) -> bytes | None:
        """A file Zalo gives by URL (a photo a person sent), up to max_bytes; None otherwise."""
        try:
            async with self._client.stream("GET", url, timeout=20.0) as response:
                if response.status_code != 200:
                    return None
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > max_bytes:
                        return None
                return bytes(data)
        except httpx.HTTPError as exc:
            logger.warning("zalo: photo fetch failed (%s)", type(exc).__name__)
            return None

    async def aclose(self) -> None:
        await self._client.aclose()


# -- updates --------------------------------------------------------------------------------------

_KINDS = {
    "message.sticker.received": "sticker",
    "message.voice.received": "voice",
    "message.unsupported.received": "file",
}


@dataclass(frozen=True)
class Update:
    """A Zalo update in neutral form, with the photo URL still to fetch."""

    incoming: Incoming
    photo_url: str | None = None


def unwrap(payload: Any) -> dict[str, Any] | None:
    """The update itself, whether bare or wrapped as {"ok": true, "result": {...}}."""
    if not isinstance(payload, dict):
        return None
    if "message" not in payload and isinstance(payload.get("result"), dict):
        payload = payload["result"]
    return payload if isinstance(payload.get("message"), dict) else None


def parse(payload: Any, bot_name: str = "") -> Update | None:
    """The neutral form of an update, or None for what is not a person's message."""
    update = unwrap(payload)
    if update is None:
        return None
    message: dict[str, Any] = update["message"]
    sender: dict[str, Any] = _mapping(message.get("from"))
    chat: dict[str, Any] = _mapping(message.get("chat"))
    if sender.get("is_bot"):
        return None
    message_id = str(message.get("message_id") or "")[:64]
    user_id = str(sender.get("id") or "")[:64]
    chat_id = str(chat.get("id") or user_id)[:64]
    if not message_id or not user_id:
        return None
    group = str(chat.get("chat_type") or "").upper() == "GROUP"
    event = str(update.get("event_name") or "")
    text = message.get("text") if isinstance(message.get("text"), str) else None
    photo_url = None
    unsupported = None
    if event == "message.image.received" or message.get("photo_url") or message.get("photo"):
        url = message.get("photo_url") or message.get("photo")
        photo_url = (
            url if isinstance(url, str) and url.startswith(("http://", "https://")) else None
        )
        caption = message.get("caption")
        text = caption if isinstance(caption, str) else ""
        unsupported = None if text.strip() else "image"  # until the photo is fetched
    elif event in _KINDS:
        unsupported = _KINDS[event]
    elif text is None:
        unsupported = "file"
    if group and text:
        text = _strip_mention(text, bot_name)
    incoming = Incoming(
        platform=PLATFORM,
        update_id=message_id,
        user_id=user_id,
        chat_id=chat_id,
        text=text or "",
        chat_type="group" if group else "private",
        message_id=message_id,
        unsupported=unsupported,
    )
    return Update(incoming, photo_url)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _strip_mention(text: str, bot_name: str) -> str:
    """In a group the bot sees only messages that @mention it: "@Bot Công đoàn /ganhom"."""
    text = text.strip()
    if bot_name and text.startswith("@" + bot_name):
        return text[len(bot_name) + 1 :].strip()
    return _MENTION.sub("", text)


# -- the channel ----------------------------------------------------------------------------------


class ZaloChannel:
    """Bridges the Zalo Bot API and the engine: long polling or webhook in, replies out."""

    platform = PLATFORM

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        client: ZaloClient | None = None,
        switchboard: Switchboard | None = None,
    ):
        self.engine = engine
        self.settings = settings
        self.client = client or ZaloClient(settings.zalo_bot_token, settings.zalo_api_base_url)
        self.switchboard = switchboard or Switchboard()
        self.switchboard.add(self)
        self.files = Publisher(engine.db, settings.public_base_url, engine.clock)
        engine.upload_links.add(PLATFORM)  # people cannot send files in a Zalo chat
        self.counter = quota.Counter(
            engine.db,
            platform=PLATFORM,
            limit=settings.monthly_limit(PLATFORM),
            tz=settings.tz,
            clock=engine.clock,
        )
        self.bot_name = ""
        self.retry_base = 1.0  # seconds before the first retry of a failed poll; then doubled
        self.poller_retry = POLLER_RETRY
        self._handling: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(MAX_HANDLING)

    # -- start-up ------------------------------------------------------------------------------

    async def introduce(self) -> bool:
        """Ask Zalo who the bot is (its name is how people @mention it in groups)."""
        try:
            me = await self.client.call("getMe")
        except (ZaloError, httpx.HTTPError) as exc:
            logger.warning("zalo: getMe failed (%s)", _reason(exc))
            return False
        if isinstance(me, dict):
            self.bot_name = str(me.get("account_name") or "")
            if self.bot_name:  # invitations say whom to write to
                self.engine.bot_names[PLATFORM] = self.bot_name
        logger.info("zalo: connected")
        return True

    async def set_webhook(self, public_url: str) -> None:
        await self.client.call(
            "setWebhook",
            {
                "url": public_url.rstrip("/") + "/zalo/webhook",
                "secret_token": self.settings.zalo_webhook_secret,
            },
        )
        logger.info("zalo: webhook registered")

    # -- receiving -----------------------------------------------------------------------------

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling until stopped: one update per call, 408 when idle (not an error); network
        errors and refusals are retried with growing delay and jitter, one log line each."""
        lock = AdvisoryLock(self.engine.db, locks.ZALO_POLLER)
        while not await asyncio.to_thread(lock.try_acquire):  # Zalo allows one poller per bot
            logger.info("zalo: another process polls this bot; this one waits")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poller_retry)
            if stop.is_set():
                return
        try:
            await self._poll(stop)
        finally:
            await asyncio.to_thread(lock.release)

    async def _poll(self, stop: asyncio.Event) -> None:
        await self.introduce()
        with contextlib.suppress(ZaloError, httpx.HTTPError):
            await self.client.call("deleteWebhook")  # getUpdates is refused while one is set
        failures = 0
        logger.info("zalo: polling started")
        while not stop.is_set():
            call = asyncio.ensure_future(
                self.client.call(
                    "getUpdates", {"timeout": str(POLL_TIMEOUT)}, timeout=POLL_TIMEOUT + 15
                )
            )
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({call, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not call.done():
                call.cancel()
                with contextlib.suppress(BaseException):
                    await call
                break
            try:
                payload = call.result()
            except ZaloError as exc:
                if exc.status == 408 or exc.code == 408:
                    failures = 0
                    continue
                failures += 1
                await self._pause(exc, failures, stop)
                continue
            except httpx.HTTPError as exc:
                failures += 1
                await self._pause(exc, failures, stop)
                continue
            failures = 0
            self.spawn(payload)
        await self.drain()
        logger.info("zalo: polling stopped")

    async def _pause(self, exc: Exception, failures: int, stop: asyncio.Event) -> None:
        growth = 2.0 ** min(failures - 1, 6)
        delay = min(BACKOFF_MAX, self.retry_base * growth) * random.uniform(0.8, 1.2)
        if isinstance(exc, ZaloError) and exc.status == 401:
            delay = INVALID_TOKEN_PAUSE
            logger.error("zalo: the token was refused (401): check ZALO_BOT_TOKEN")
        elif isinstance(exc, ZaloError) and exc.status == 409:
            logger.warning(
                "zalo: another poller or a webhook holds this bot (409); retry in %.0f s", delay
            )
        else:
            logger.warning("zalo: polling failed (%s); retry in %.0f s", _reason(exc), delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)

    def spawn(self, payload: Any) -> None:
        """Handle an update in the background (polling goes on at once)."""
        task = asyncio.create_task(self._guarded(payload))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def drain(self) -> None:
        """Wait for the updates being handled (when stopping)."""
        if self._handling:
            await asyncio.wait(set(self._handling), timeout=15)

    async def _guarded(self, payload: Any) -> None:
        async with self._slots:
            try:
                await self.on_update(payload)
            except Exception:  # one bad update never stops the channel; ids only in the log
                logger.exception("zalo: update failed")

    async def on_update(self, payload: Any) -> None:
        """Hand one update to the engine and send what it answers."""
        update = parse(payload, self.bot_name)
        if update is None:
            logger.info("zalo: update ignored (not a person's message)")
            return
        incoming = update.incoming
        if update.photo_url and incoming.chat_type == "private":
            data = await self.client.fetch(update.photo_url, PHOTO_MAX_BYTES)
            if data is not None:
                incoming = replace(incoming, photo=data, unsupported=None)
        await self.dispatch(incoming)

    async def dispatch(self, incoming: Incoming) -> None:
        """Handle an update (from Zalo, or a file sent through an upload link) and answer it."""
        response = await self.engine.handle(incoming)
        if response.duplicate:
            return
        await self.send(incoming.chat_id, response)
        await self.switchboard.deliver(response.notifications)

    # -- sending -------------------------------------------------------------------------------

    async def send(self, chat_id: str, response: Response) -> None:
        """Send every reply in order."""
        for reply in response.replies:
            await self.send_reply(chat_id, reply)

    async def send_reply(self, chat_id: str, reply: Reply) -> None:
        """One reply as the Zalo calls it takes; counted against the month's limit first."""
        calls = await self._calls(reply)
        if not calls:
            return
        if not await asyncio.to_thread(self.counter.take, len(calls), quota.REPLY):
            logger.warning("zalo: monthly message limit reached, a reply was not sent")
            return
        for method, params in calls:
            try:
                await self.client.call(method, {"chat_id": chat_id, **params})
            except (ZaloError, httpx.HTTPError) as exc:
                logger.warning("zalo: %s failed (%s)", method, _reason(exc))
                return

    async def _calls(self, reply: Reply) -> list[tuple[str, dict[str, Any]]]:
        texts = self.engine.texts
        if isinstance(reply, Text):
            return _messages(to_plain(reply.text))
        if isinstance(reply, Choices):
            return _messages(numbered(reply, texts))
        if isinstance(reply, FileRequest):
            return _messages(to_plain(reply.text + "\n\n" + self._upload_line(reply)))
        if isinstance(reply, Photo | Document):
            link = await asyncio.to_thread(
                self.files.publish, reply.data, reply.filename, reply.ttl
            )
            caption = to_plain(reply.caption)
            if link is None:
                key = "files.no_link_photo" if isinstance(reply, Photo) else "files.no_link"
                return _messages(to_plain(texts(key, caption=caption or reply.filename)))
            if isinstance(reply, Photo):
                if len(caption) <= TEXT_LIMIT:
                    return [("sendPhoto", _photo(link.url, caption))]
                return [("sendPhoto", {"photo": link.url}), *_messages(caption)]
            return _messages(to_plain(self._document_text(reply, caption, link)))
        return []

    def _upload_line(self, reply: FileRequest) -> str:
        base = self.settings.public_base_url
        if reply.upload_id is None or reply.expires_at is None or not base:
            return self.engine.texts("files.no_upload")
        return self.engine.texts(
            "files.upload_link",
            url=uploads.url(base, reply.upload_id),
            until=fmt_datetime(reply.expires_at, self.settings.tz),
        )

    def _document_text(self, reply: Document, caption: str, link: Published) -> str:
        return self.engine.texts(
            "files.document",
            caption=caption or reply.filename,
            name=reply.filename,
            url=link.url,
            until=fmt_datetime(link.expires_at, self.settings.tz),
        )

    async def process_webhook(self, payload: Any) -> None:
        """One update posted to /zalo/webhook (bare or wrapped)."""
        await self.on_update(payload)

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.counter.flush)
        await self.client.aclose()


def _messages(text: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("sendMessage", {"text": part}) for part in split_text(text.strip(), TEXT_LIMIT) if part
    ]


def _photo(url: str, caption: str) -> dict[str, Any]:
    return {"photo": url, "caption": caption} if caption else {"photo": url}


def _reason(exc: BaseException) -> str:
    """What went wrong, without URLs (they hold the token) or personal data."""
    if isinstance(exc, ZaloError):
        return f"HTTP {exc.status}, {exc.code}: {' '.join(exc.description.split())[:80]}"
    return type(exc).__name__


# -- mass messages: one send per recipient for the delivery worker (scheduler/delivery.py) -------


def send_result(exc: BaseException) -> SendResult:
    """Map a failed call to what the delivery worker does with the row."""
    if isinstance(exc, ZaloError):
        lowered = exc.description.lower()
        if exc.status == 429 or exc.code == 429:
            pause = exc.retry_after or RATE_LIMIT_PAUSE
            return SendResult("retry_after", retry_after=pause, error="rate limited")
        if exc.status == 401:
            return SendResult("retry_after", retry_after=INVALID_TOKEN_PAUSE, error="invalid token")
        if exc.status == 403 and ("quota" in lowered or "limit" in lowered):
            return SendResult("held", error="platform quota reached", retryable=False)
        if exc.status == 403 or "block" in lowered:
            return SendResult("blocked", error="blocked the bot", retryable=False)
        if exc.status >= 500 or exc.status == 408:
            return SendResult("error", error=f"server error {exc.status}")
        return SendResult("error", error=f"refused: {_reason(exc)}"[:120], retryable=False)
    if isinstance(exc, httpx.TimeoutException):
        return SendResult("error", error="timed out")
    if isinstance(exc, httpx.HTTPError):
        return SendResult("error", error=f"network: {type(exc).__name__}")
    return SendResult("error", error=type(exc).__name__)


class ZaloSender:
    """Sends one mass message to one chat for the delivery worker; never raises. The text goes
    as plain text in parts of 2,000 characters; a photo by its link (stored once per photo).
    Every message is counted against the month's limit by the broadcast's kind first: what would
    pass its ceiling is held, never sent."""

    platform = PLATFORM
    max_rate_per_second: float | None = None  # Zalo publishes none: the setting decides
    group_per_minute: int | None = None
    FOLLOW_UP_RETRIES = 3

    def __init__(
        self,
        client: ZaloClient,
        *,
        files: Publisher,
        counter: quota.Counter,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ):
        self.client = client
        self.files = files
        self.counter = counter
        self._sleep = sleep
        self._links: OrderedDict[str, Published] = OrderedDict()
        self._warned_no_link = False

    async def send(
        self, chat_id: str, text: str, photo: bytes | None = None, *, kind: str | None = None
    ) -> SendResult:
        plain = to_plain(text).strip()
        link = await self._link(photo) if photo is not None else None
        calls: list[tuple[str, dict[str, Any]]] = []
        if link is not None and len(plain) <= TEXT_LIMIT:
            calls.append(("sendPhoto", _photo(link.url, plain)))
        else:
            if link is not None:
                calls.append(("sendPhoto", {"photo": link.url}))
            calls += _messages(plain)
        if not calls:
            return SendResult("sent")
        if not await asyncio.to_thread(self.counter.take, len(calls), kind):
            return SendResult("held", error="monthly message limit", retryable=False)
        try:
            await self.client.call(calls[0][0], {"chat_id": chat_id, **calls[0][1]})
        except Exception as exc:  # nothing reached the chat: the worker decides what to do
            await asyncio.to_thread(self.counter.give_back, len(calls))
            return send_result(exc)
        for method, params in calls[1:]:  # part of it is there: finish it, never start over
            failure = await self._follow_up(method, {"chat_id": chat_id, **params})
            if failure is not None:
                return SendResult("error", error=f"partly sent: {failure}", retryable=False)
        return SendResult("sent")

    async def _follow_up(self, method: str, params: dict[str, Any]) -> str | None:
        for _ in range(self.FOLLOW_UP_RETRIES):
            try:
                await self.client.call(method, params)
                return None
            except Exception as exc:
                result = send_result(exc)
                if result.status == "retry_after":
                    await self._sleep(result.retry_after)
                    continue
                if result.status == "error" and result.retryable:
                    await self._sleep(1.0)
                    continue
                return result.error
        return "gave up"

    def flush(self) -> None:
        """Write the month's count kept for later (no limit set); the worker calls it when it
        pauses or stops."""
        self.counter.flush()

    async def _link(self, photo: bytes) -> Published | None:
        """The photo's link, stored once per photo and reused while it has days left."""
        digest = hashlib.sha256(photo).hexdigest()
        known = self._links.get(digest)
        if known is not None and known.expires_at - self.files.clock() > timedelta(days=1):
            return known
        link = await asyncio.to_thread(self.files.publish, photo, "anh.png")
        if link is None:
            if not self._warned_no_link:
                logger.warning("zalo: PUBLIC_BASE_URL is not set: photos go out as text only")
                self._warned_no_link = True
            return None
        self._links[digest] = link
        while len(self._links) > 8:
            self._links.popitem(last=False)
        return link


def sender(channel: ZaloChannel) -> ZaloSender:
    """The delivery worker's sender, sharing the channel's client, links and counter."""
    return ZaloSender(channel.client, files=channel.files, counter=channel.counter)
