"""What handlers see: a Router to declare commands and steps, and the Context of one update."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.catalog import Catalog
from bot.config import Settings
from bot.messages import (
    Choices,
    Document,
    FileRequest,
    Incoming,
    Notification,
    Option,
    Photo,
    Reply,
    Text,
    Upload,
)
from bot.models import Identity, RoleName, utcnow
from bot.services import library
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.services.permissions import Actor

Handler = Callable[["Context"], None]


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    role: RoleName | None  # None: anyone, even unregistered
    group_ok: bool = False
    allowed: Callable[[Actor], bool] | None = None  # a narrower rule than the role, if any
    refusal: str = "engine.forbidden"  # the text key saying so

    def permits(self, actor: Actor) -> bool:
        return actor.has(self.role) and (self.allowed is None or self.allowed(actor))


class Router:
    """One per flow module: its commands and its named steps. `keep_place`: a command typed in
    the middle of this flow (a look at /trogiup) comes back to it; menus that are only looked at
    (a profile, figures) do not need that."""

    def __init__(
        self, name: str, *, keep_place: bool = True, preload: tuple[str, type] | None = None
    ):
        self.name = name
        self.keep_place = keep_place
        # (key in the state's data, model): the row whose id the key holds is read with the
        # state, in the same statement, while this flow is open (`session.get` then finds it)
        self.preload = preload
        self.commands: dict[str, Command] = {}
        self.steps: dict[str, Handler] = {}

    def command(
        self,
        name: str,
        *,
        role: RoleName | None = RoleName.MEMBER,
        group_ok: bool = False,
        allowed: Callable[[Actor], bool] | None = None,
        refusal: str = "engine.forbidden",
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.commands[name] = Command(name, fn, role, group_ok, allowed, refusal)
            return fn

        return register

    def permits(self, actor: Actor) -> bool:
        """Whether the actor may still be in this flow: one of its commands is theirs (a role
        taken back ends the flow at the next update, old buttons included)."""
        return not self.commands or any(c.permits(actor) for c in self.commands.values())

    def step(self, name: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.steps[name] = fn
            return fn

        return register


@dataclass
class FlowState:
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    version: int = 0
    resume: dict[str, Any] | None = None  # a flow left open by another one: {flow, step, data}


class Context:
    """One update being handled: who, what, the session, the state, and the replies so far."""

    def __init__(
        self,
        *,
        incoming: Incoming,
        session: Session,
        settings: Settings,
        texts: Texts,
        actor: Actor,
        state: FlowState,
        content: Any = None,
        commands: dict[str, Command] | None = None,
        now: datetime | None = None,
        rng: random.Random | None = None,
        bot_names: dict[str, str] | None = None,
    ):
        self.incoming = incoming
        self.session = session
        self.settings = settings
        self.t = texts
        self.actor = actor
        self.state = state
        self.content = content
        self.commands = commands or {}
        self.now = now or utcnow()
        self.rng = rng or random.Random()
        self.bot_names = bot_names or {}
        self.replies: list[Reply] = []
        self.notifications: list[Notification] = []
        self.offered: list[Option] | None = None  # options asked in this update
        self.choice: str | None = None  # the semantic data of the chosen option
        self.choices: list[str] | None = None  # several options typed at once ("1 3 5")
        self.typed_numbers = True  # a number typed in answer to `ask` chooses an option
        self.file_asked = False  # this update asked for a file (`ask_file`)
        self.file_expected = False  # the step on screen had asked for one
        self.pending: dict[str, Any] | None = None  # the options on screen before this update
        self._catalog: Catalog | None = None
        self.args: str = ""

    @property
    def text(self) -> str:
        return (self.incoming.text or "").strip()

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    @property
    def catalog(self) -> Catalog:
        """Topics, quiz banks and plan presets: content/ with the published library."""
        if self._catalog is None:
            self._catalog = library.catalog(self.session, self.content.catalog, now=self.now)
        return self._catalog

    @property
    def upload(self) -> Upload | None:
        """The file sent with this update, only where the step asked for one."""
        return self.incoming.upload

    def ask_file(self, html: str) -> None:
        """Ask for a file: the next update may carry one (`ctx.upload`). Channels that take no
        files in the chat add how to send it (an upload link, a path to type)."""
        self.file_asked = True
        self.replies.append(FileRequest(html))

    def say(self, key: str, **values: Any) -> None:
        self.replies.append(Text(self.t(key, **values)))

    def say_html(self, html: str) -> None:
        self.replies.append(Text(html))

    def ask(
        self,
        html: str,
        options: list[Option],
        columns: int = 1,
        *,
        typed_numbers: bool = True,
        edit: bool = False,
    ) -> None:
        """Offer options; the engine binds them to the state so old buttons are recognised.
        `typed_numbers=False` when the step also takes a number as its own input (a count, a
        year): then a number out of the list's range is not answered with the range.
        `edit`: in place of the message whose button was pressed (a quiz goes on in one
        message), where the platform can; else as a new message."""
        self.offered = list(options)
        self.typed_numbers = typed_numbers
        self.replies.append(Choices(html, tuple(options), columns, edit))

    def photo(self, data: bytes, filename: str, caption: str = "") -> None:
        self.replies.append(Photo(data, filename, caption))

    def document(
        self, data: bytes, filename: str, caption: str = "", *, ttl: timedelta | None = None
    ) -> None:
        """A file; `ttl`: how long its download link lives where files go by link (default 7
        days): shorter for files with other people's personal data, such as reports."""
        self.replies.append(Document(data, filename, caption, ttl))

    def notify(self, member_id: int, html: str) -> int:
        """Tell another member something, on the app they wrote from last; returns the chats
        reached (0 or 1)."""
        return self.notify_reply(member_id, Text(html))

    def notify_reply(self, member_id: int, reply: Reply) -> int:
        """Send another member any reply (a text, a document), as `notify` does."""
        identity = self.session.exec(
            select(Identity)
            .where(Identity.member_id == member_id, Identity.blocked == False)  # noqa: E712
            .order_by(
                func.coalesce(col(Identity.last_seen_at), col(Identity.created_at)).desc(),
                col(Identity.id).desc(),
            )
        ).first()
        if identity is None:
            return 0
        self.notifications.append(Notification(identity.platform, identity.chat_id, reply))
        return 1

    def invitation(self, code: str) -> list[str]:
        """How to join through a code (a unit's, a conference's): a link for Telegram, the
        line to type on Zalo, where links cannot carry it."""
        lines = []
        telegram = self.bot_names.get("telegram")
        if telegram:
            lines.append(self.t("invite.telegram", link=f"https://t.me/{telegram}?start={code}"))
        zalo = self.bot_names.get("zalo")
        if zalo:
            lines.append(self.t("invite.zalo", bot=zalo, code=code))
        else:
            lines.append(self.t("invite.typed", code=code))
        return lines

    def begin(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        self.state.flow, self.state.step, self.state.data = flow, step, dict(data or {})

    def goto(self, step: str) -> None:
        self.state.step = step

    def take_resume(self, flow: str) -> tuple[str, dict[str, Any]] | None:
        """The step and data of this flow when another one interrupted it, once."""
        left = self.state.resume
        if not left or left.get("flow") != flow:
            return None
        self.state.resume = None
        return str(left.get("step") or ""), dict(left.get("data") or {})

    def finish(self) -> None:
        self.state.flow, self.state.step, self.state.data = None, None, {}
