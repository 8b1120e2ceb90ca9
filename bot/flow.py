"""What handlers see: a Router to declare commands and steps, and the Context of one update."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from bot.config import Settings
from bot.messages import Choices, Document, Incoming, Notification, Option, Photo, Reply, Text
from bot.models import Identity, RoleName, utcnow
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


class Router:
    """One per flow module: its commands and its named steps."""

    def __init__(self, name: str):
        self.name = name
        self.commands: dict[str, Command] = {}
        self.steps: dict[str, Handler] = {}

    def command(
        self, name: str, *, role: RoleName | None = RoleName.MEMBER, group_ok: bool = False
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.commands[name] = Command(name, fn, role, group_ok)
            return fn

        return register

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
        self.replies: list[Reply] = []
        self.notifications: list[Notification] = []
        self.offered: list[Option] | None = None  # options asked in this update
        self.choice: str | None = None  # the semantic data of the chosen option
        self.pending: dict[str, Any] | None = None  # the options on screen before this update
        self.args: str = ""

    @property
    def text(self) -> str:
        return (self.incoming.text or "").strip()

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    def say(self, key: str, **values: Any) -> None:
        self.replies.append(Text(self.t(key, **values)))

    def say_html(self, html: str) -> None:
        self.replies.append(Text(html))

    def ask(self, html: str, options: list[Option], columns: int = 1) -> None:
        """Offer options; the engine binds them to the state so old buttons are recognised."""
        self.offered = list(options)
        self.replies.append(Choices(html, tuple(options), columns))

    def photo(self, data: bytes, filename: str, caption: str = "") -> None:
        self.replies.append(Photo(data, filename, caption))

    def document(self, data: bytes, filename: str, caption: str = "") -> None:
        self.replies.append(Document(data, filename, caption))

    def notify(self, member_id: int, html: str) -> int:
        """Tell another member something in each chat they use; returns the chats reached."""
        identities = self.session.exec(
            select(Identity).where(Identity.member_id == member_id, Identity.blocked == False)  # noqa: E712
        ).all()
        for identity in identities:
            self.notifications.append(Notification(identity.platform, identity.chat_id, Text(html)))
        return len(identities)

    def begin(self, flow: str, step: str, data: dict[str, Any] | None = None) -> None:
        self.state.flow, self.state.step, self.state.data = flow, step, dict(data or {})

    def goto(self, step: str) -> None:
        self.state.step = step

    def finish(self) -> None:
        self.state.flow, self.state.step, self.state.data = None, None, {}
