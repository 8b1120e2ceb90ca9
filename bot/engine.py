"""The engine: dedupe an update, serialize per chat, load state, route, save state, answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine as DbEngine
from sqlalchemy import bindparam, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.db import guarded_update
from bot.flow import Context, FlowState, Router
from bot.messages import Choices, FileRequest, Incoming, Option, Reply, Response, Text
from bot.models import ConversationState, Identity, ProcessedUpdate, utcnow
from bot.routing import Routing
from bot.services import uploads
from bot.services.permissions import load
from bot.texts import Texts

logger = logging.getLogger(__name__)

_PROCESSED = ProcessedUpdate.__table__  # type: ignore[attr-defined]
_STATES = ConversationState.__table__  # type: ignore[attr-defined]
# a chat's state saved only if still at the version read (another process may have moved it)
_SAVE_STATE = guarded_update(_STATES, "version", ("flow", "step", "data", "version", "updated_at"))
# SQLite's claim of an update, built once (building it cost more than running it)
_CLAIM = (
    sqlite.insert(_PROCESSED)
    .values(
        platform=bindparam("platform", type_=_PROCESSED.c.platform.type),
        update_id=bindparam("update_id", type_=_PROCESSED.c.update_id.type),
        processed_at=bindparam("at", type_=_PROCESSED.c.processed_at.type),
    )
    .on_conflict_do_nothing()
    .returning(_PROCESSED.c.update_id)
)

OFFERS_KEPT = 20_000  # chats whose latest buttons are remembered (for `surely_stale`)


class StateConflict(Exception):
    """Another process saved this chat's state first; the update is handled again."""


class Engine:
    def __init__(
        self,
        *,
        db: DbEngine,
        settings: Settings,
        texts: Texts,
        routers: Sequence[Router],
        content: Any = None,
        extra_admins: dict[str, set[str]] | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ):
        self.db = db
        self.settings = settings
        self.texts = texts
        self.content = content
        self.routing = Routing(routers, texts)
        self.commands = self.routing.commands
        self.preloads = tuple((r.name, *r.preload) for r in routers if r.preload is not None)
        self.extra_admins = extra_admins or {}
        # each running channel's bot name (Telegram: its username), for invitations
        self.bot_names: dict[str, str] = {}
        # apps whose people cannot send files in the chat: a request for one gets an upload link
        self.upload_links: set[str] = set()
        self.clock = clock
        self.rng = rng or random.SystemRandom()
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        # each chat's latest buttons (the state version in their data), newest chats last
        self._offered: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._offered_lock = threading.Lock()

    async def handle(self, incoming: Incoming) -> Response:
        """Process one update; updates of one chat run one at a time, chats run side by side."""
        key = (incoming.platform, incoming.chat_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            return await asyncio.to_thread(self.handle_sync, incoming)

    def handle_sync(self, incoming: Incoming) -> Response:
        for _attempt in range(3):
            try:
                response = self._process(incoming)
            except StateConflict:
                logger.info("state conflict, retrying update=%s", incoming.update_id)
                continue
            self._note_offered(incoming, response)
            return response
        return self._apologize(incoming, RuntimeError("state conflict after 3 attempts"))

    def surely_stale(self, incoming: Incoming) -> bool:
        """Whether a pressed button is older than the buttons this process last gave the chat
        (a double tap, an old message), known before the update is handled: a channel can say so
        on the button at once. False when unsure (the engine still decides and says why)."""
        version, _, _ = (incoming.choice or "").partition(":")
        if not version.isdigit():
            return incoming.choice is not None  # data the bot never makes
        with self._offered_lock:
            latest = self._offered.get(_chat_key(incoming))
        return latest is not None and int(version) < latest

    def _note_offered(self, incoming: Incoming, response: Response) -> None:
        offered = [r for r in response.replies if isinstance(r, Choices) and r.options]
        if not offered:
            return
        version, _, _ = offered[-1].options[0].data.partition(":")
        if not version.isdigit():
            return
        key = _chat_key(incoming)
        with self._offered_lock:
            self._offered[key] = max(int(version), self._offered.get(key, 0))
            self._offered.move_to_end(key)
            while len(self._offered) > OFFERS_KEPT:
                self._offered.popitem(last=False)

    def admin_ids(self, platform: str) -> set[str]:
        return set(self.settings.admin_ids(platform)) | self.extra_admins.get(platform, set())

    # -- one attempt -------------------------------------------------------------------

    def _process(self, incoming: Incoming) -> Response:
        with Session(self.db, expire_on_commit=False) as session:
            # PostgreSQL claims the update in the statement that loads the state and the person;
            # SQLite (no INSERT inside WITH) claims it first, on its own
            along = self.db.dialect.name == "postgresql"
            if not along and not self._claim(session, incoming):
                return _duplicate(incoming)
            loaded = load(
                session,
                platform=incoming.platform,
                chat_id=incoming.chat_id,
                user_id=incoming.user_id,
                admin_ids=self.admin_ids(incoming.platform),
                other_admins={
                    p: ids
                    for p in self.settings.admins_by_platform()
                    if p != incoming.platform and (ids := self.admin_ids(p))
                },
                claim=incoming.update_id if along else None,
                preloads=self.preloads,
            )
            if not loaded.claimed:
                return _duplicate(incoming)
            actor = loaded.actor
            row = loaded.state or ConversationState(
                platform=incoming.platform,
                chat_id=incoming.chat_id,
                user_id=incoming.user_id,
                data={},
                version=0,
            )
            data = dict(row.data or {})
            resume = data.pop("_resume", None)
            state = FlowState(row.flow, row.step, data, row.version, resume)
            now = self.clock()
            _seen(actor.identity, now, session)
            ctx = Context(
                incoming=incoming,
                session=session,
                settings=self.settings,
                texts=self.texts,
                actor=actor,
                state=state,
                content=self.content,
                commands={name: cmd for name, (_, cmd) in self.commands.items()},
                now=now,
                rng=self.rng,
                bot_names=self.bot_names,
            )
            response = Response()
            try:
                self.routing.route(ctx, response)
                self._open_upload_links(ctx)
                new_version = self._save_state(session, row, state, ctx)
                session.commit()
            except StateConflict:
                session.rollback()
                raise
            except Exception as exc:
                session.rollback()
                if self._moved(incoming, state.version):  # another process handled this chat
                    raise StateConflict() from exc  # meanwhile: the update is handled again
                return self._apologize(incoming, exc)
        response.replies = self._bind_options(ctx, new_version)
        response.notifications = ctx.notifications
        return response

    def _open_upload_links(self, ctx: Context) -> None:
        """A request for a file, on an app that takes none in the chat, gets a one-time link."""
        incoming = ctx.incoming
        if incoming.platform not in self.upload_links or not self.settings.public_base_url:
            return
        for n, reply in enumerate(ctx.replies):
            if isinstance(reply, FileRequest) and reply.upload_id is None:
                slot = uploads.open_slot(
                    ctx.session,
                    platform=incoming.platform,
                    user_id=incoming.user_id,
                    chat_id=incoming.chat_id,
                    now=ctx.now,
                )
                ctx.replies[n] = replace(reply, upload_id=slot.id, expires_at=slot.expires_at)

    def _moved(self, incoming: Incoming, version: int) -> bool:
        """Whether the chat's state changed since it was read at `version` (a failure caused
        by a race with another process)."""
        with Session(self.db) as session:
            current = session.exec(
                select(ConversationState.version).where(
                    ConversationState.platform == incoming.platform,
                    ConversationState.chat_id == incoming.chat_id,
                    ConversationState.user_id == incoming.user_id,
                )
            ).first()
        return (current or 0) != version

    def _claim(self, session: Session, incoming: Incoming) -> bool:
        """Mark the update as processed; False when it already was (a replay). One INSERT that
        skips a duplicate rather than failing on it (no exception, no rollback). SQLite only:
        PostgreSQL claims the update inside `load`."""
        # rowcount is not reliable here (-1 through psycopg); the returned key is
        claimed = session.connection().execute(
            _CLAIM,
            {"platform": incoming.platform, "update_id": incoming.update_id, "at": utcnow()},
        )
        return claimed.first() is not None

    def _save_state(
        self, session: Session, row: ConversationState, state: FlowState, ctx: Context
    ) -> int:
        new_version = row.version + 1
        data = dict(state.data)
        if state.resume is not None:
            data["_resume"] = state.resume
        if ctx.offered is not None:
            data.update(
                _options=[o.data for o in ctx.offered],
                _labels=[o.label for o in ctx.offered],
                _exact=[i for i, o in enumerate(ctx.offered) if o.exact],
                _ov=new_version,
            )
            if not ctx.typed_numbers:
                data["_free"] = True
        elif ctx.pending and (state.flow, state.step) == (row.flow, row.step):
            data.update(ctx.pending)  # nothing new was asked: the buttons on screen stay valid
        if ctx.file_asked or (
            ctx.file_expected and (state.flow, state.step) == (row.flow, row.step)
        ):
            data["_file"] = True  # the step takes a file (until it moves on)
        if row.id is None:
            row.flow, row.step, row.data, row.version = state.flow, state.step, data, new_version
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise StateConflict() from None
            return new_version
        result = session.connection().execute(  # the table, not the ORM: nothing to synchronise
            _SAVE_STATE,
            {
                "row_id": row.id,
                "read_version": row.version,
                "flow": state.flow,
                "step": state.step,
                "data": data,
                "version": new_version,
                "updated_at": utcnow(),
            },
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StateConflict()
        return new_version

    def _bind_options(self, ctx: Context, version: int) -> list[Reply]:
        """Replace the handlers' option data with `version:index`, the only data buttons carry."""
        out: list[Reply] = []
        for reply in ctx.replies:
            if isinstance(reply, Choices):
                options = tuple(
                    Option(o.label, f"{version}:{i}") for i, o in enumerate(reply.options)
                )
                out.append(Choices(reply.text, options, reply.columns, reply.edit))
            else:
                out.append(reply)
        return out

    # -- errors ------------------------------------------------------------------------

    def _apologize(self, incoming: Incoming, exc: BaseException) -> Response:
        ref = secrets.token_hex(3).upper()
        logger.error(
            "handler failed ref=%s platform=%s chat=%s update=%s",
            ref,
            incoming.platform,
            incoming.chat_id,
            incoming.update_id,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        try:  # a failing update must not be retried forever by a webhook
            with Session(self.db) as session, contextlib.suppress(IntegrityError):
                # IntegrityError: the update is recorded already, which is all we want
                session.add(
                    ProcessedUpdate(platform=incoming.platform, update_id=incoming.update_id)
                )
                session.commit()
        except Exception:
            logger.exception("could not record failed update ref=%s", ref)
        return Response(replies=[Text(self.texts("engine.error", ref=ref))])


SEEN_EVERY = timedelta(hours=1)


def _duplicate(incoming: Incoming) -> Response:
    logger.info("duplicate update platform=%s update=%s", incoming.platform, incoming.update_id)
    return Response(duplicate=True)


def _chat_key(incoming: Incoming) -> tuple[str, str, str]:
    return (incoming.platform, incoming.chat_id, incoming.user_id)


def _seen(identity: Identity | None, now: datetime, session: Session) -> None:
    """Note when the person last wrote from this account, at most once an hour (one write)."""
    if identity is None or identity.id is None:
        return
    if identity.last_seen_at is not None and now - identity.last_seen_at < SEEN_EVERY:
        return
    session.execute(
        update(Identity).where(col(Identity.id) == identity.id).values(last_seen_at=now)
    )
