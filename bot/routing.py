"""Routing: which handler an update goes to (a pressed button, a typed choice, a command, a
file), and what happens to an open flow when a command interrupts it. The engine
(bot/engine.py) loads and saves the state around it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from bot.flow import Command, Context, Router
from bot.messages import Choices, Option, Response
from bot.models import RoleName
from bot.texts import Texts
from bot.typedchoice import lists_labels, match, several

logger = logging.getLogger(__name__)

CANCEL_COMMAND = "huy"
START_COMMAND = "start"
_MAX_TEXT = 4000  # longer input is cut before any handler sees it
_CODE_CHARS = 20  # a registered member's short text outside any flow may be a code for /start


class Routing:
    """The routers' commands and steps, and the rules that choose among them."""

    def __init__(self, routers: Sequence[Router], texts: Texts):
        self.texts = texts
        self.routers = {r.name: r for r in routers}
        self.commands: dict[str, tuple[Router, Command]] = {}
        for router in routers:
            for name, cmd in router.commands.items():
                if name in self.commands:
                    raise ValueError(f"command /{name} registered twice")
                self.commands[name] = (router, cmd)

    def route(self, ctx: Context, response: Response) -> None:
        """Hand the update to what it is for: a pressed button or a typed choice to the open
        step, a command to its handler, a file to the step expecting one."""
        incoming = ctx.incoming
        data = ctx.state.data
        pending: list[str] = data.pop("_options", None) or []
        labels: list[str] = data.pop("_labels", None) or []
        exact: list[int] = data.pop("_exact", None) or []
        offered_at = data.pop("_ov", None)
        free_numbers = bool(data.pop("_free", False))
        ctx.file_expected = bool(data.pop("_file", False))
        if pending:
            ctx.pending = {
                "_options": pending,
                "_labels": labels,
                "_exact": exact,
                "_ov": offered_at,
            }
            if free_numbers:
                ctx.pending["_free"] = True

        if incoming.choice is not None:
            version, _, index = incoming.choice.partition(":")
            valid = (
                version.isdigit()
                and index.isdigit()
                and pending
                and int(version) == offered_at
                and int(index) < len(pending)
            )
            if not valid:
                ctx.say("engine.stale_button")
                return
            ctx.choice = pending[int(index)]
            response.selected = labels[int(index)] if int(index) < len(labels) else None
            self._dispatch_step(ctx)
            return

        text = (incoming.text or "").strip()
        if len(text) > _MAX_TEXT:
            ctx.incoming = replace(incoming, text=text[:_MAX_TEXT])
        command = ctx.incoming.command
        if command is not None:
            self._dispatch_command(ctx, *command)
            return
        if incoming.upload is not None:
            if incoming.chat_type != "private":
                return  # files in a group are for the people in it
            if not ctx.file_expected:
                ctx.say("engine.file_not_expected")
                if pending:
                    self._show_again(ctx, pending, labels, exact)
                return
            self._dispatch_step(ctx)
            return
        if incoming.unsupported is not None and incoming.photo is None:
            if incoming.chat_type == "private":  # in a group, stickers are not for the bot
                ctx.say("engine.unsupported")
            return
        matched = match(text, labels, exact) if pending else None
        if incoming.chat_type == "group":  # only answers to a question asked in the group
            if matched is not None:
                ctx.choice = pending[matched]
                self._dispatch_step(ctx)
            return
        if matched is not None:
            ctx.choice = pending[matched]
        elif pending and not free_numbers:
            picks = several(text, len(pending))
            if picks is not None:
                ctx.choices = [pending[i] for i in picks if i not in exact]
            elif text.isdigit():  # a number that is not in the list: stay, say the range
                ctx.say("engine.number_out_of_range", number=text[:6], last=len(pending))
                self._show_again(ctx, pending, labels, exact)
                return
        if ctx.state.flow is None:
            if START_COMMAND in self.commands and (
                ctx.actor.member is None or len(text) <= _CODE_CHARS
            ):
                # a first message from someone unregistered starts registration; a code typed
                # alone (a unit's or a conference's, as invitations say) works like `/start CODE`
                self._dispatch_command(ctx, START_COMMAND, text if len(text) <= 50 else "")
                return
            ctx.say("engine.unknown_input")
            return
        before = (ctx.state.flow, ctx.state.step)
        self._dispatch_step(ctx)
        if (
            pending
            and ctx.choice is None
            and ctx.offered is None
            and (ctx.state.flow, ctx.state.step) == before
            and not any(isinstance(r, Choices) for r in ctx.replies)
        ):  # typed something that chose nothing and the step did not ask again: show the list
            self._show_again(ctx, pending, labels, exact)

    def _show_again(
        self, ctx: Context, pending: list[str], labels: list[str], exact: list[int]
    ) -> None:
        """The options still on screen, offered again under a short line (on a channel without
        buttons the list may be far up the chat)."""
        options = [
            Option(label, data, exact=i in exact)
            for i, (data, label) in enumerate(zip(pending, labels, strict=False))
        ]
        free = bool(ctx.pending and ctx.pending.get("_free"))
        again = "engine.choices_again" if lists_labels(labels) else "engine.choices_again_above"
        ctx.ask(self.texts(again), options, typed_numbers=not free)

    def _dispatch_command(self, ctx: Context, name: str, args: str) -> None:
        if name == CANCEL_COMMAND:
            router = self.routers.get(ctx.state.flow or "")
            open_work = router is not None and router.keep_place  # a menu is not work to undo
            had_flow = open_work or ctx.state.resume is not None
            ctx.finish()
            ctx.state.resume = None
            ctx.say("engine.cancelled" if had_flow else "engine.nothing_to_cancel")
            return
        flow, step, data = ctx.state.flow, ctx.state.step, dict(ctx.state.data)
        ctx.finish()
        if flow is not None and self._entry(flow) == name:  # reopened: the handler may go on
            ctx.state.resume = {"flow": flow, "step": step, "data": data}
        self._run_command(ctx, name, args)
        router = self.routers.get(flow or "")
        if flow is None or router is None or not router.keep_place:
            return  # nothing was open, or a menu that was only looked at
        if ctx.pending and ctx.pending.get("_exact"):
            return  # a confirmation of something irreversible never stays armed
        if ctx.state.flow is None and ctx.offered is None:
            # a look at something (/trogiup, a refused command): back where the person was
            ctx.state.flow, ctx.state.step, ctx.state.data = flow, step, data
            ctx.say("engine.still_open", what=self._flow_name(flow))
        elif ctx.state.flow != flow:  # another flow began: where the first was is kept
            ctx.state.resume = {"flow": flow, "step": step, "data": data}
            entry = self._entry(flow)
            if entry is not None:
                ctx.say("engine.left_open", what=self._flow_name(flow), command=entry)

    def _run_command(self, ctx: Context, name: str, args: str) -> None:
        found = self.commands.get(name)
        if found is None:
            ctx.say("engine.unknown_command", command=name[:32])
            return
        _router, cmd = found
        if ctx.incoming.chat_type == "group" and not cmd.group_ok:
            ctx.say("engine.private_only")
            return
        if not ctx.actor.has(cmd.role):
            if cmd.role is RoleName.MEMBER:
                ctx.say("engine.need_register")
            else:
                ctx.say(
                    "engine.forbidden_admin" if cmd.role is RoleName.ADMIN else "engine.forbidden"
                )
            return
        if not cmd.permits(ctx.actor):
            ctx.say(cmd.refusal)
            return
        ctx.args = args
        cmd.handler(ctx)

    def _flow_name(self, flow: str) -> str:
        key = f"flows.{flow}"
        return self.texts(key) if key in self.texts else flow

    def _entry(self, flow: str) -> str | None:
        """The command that opens (and resumes) a flow: its router's first command."""
        router = self.routers.get(flow)
        return next(iter(router.commands), None) if router is not None else None

    def _dispatch_step(self, ctx: Context) -> None:
        router = self.routers.get(ctx.state.flow or "")
        handler = router.steps.get(ctx.state.step or "") if router else None
        if router is None or handler is None:
            logger.warning("no handler for flow=%s step=%s", ctx.state.flow, ctx.state.step)
            ctx.finish()
            ctx.say("engine.unknown_input")
            return
        if not router.permits(ctx.actor):
            logger.info("flow=%s refused: role gone actor=%s", router.name, ctx.actor.ref)
            ctx.finish()
            ctx.say("engine.role_gone")
            return
        handler(ctx)
