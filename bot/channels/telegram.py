"""Telegram: translate python-telegram-bot updates into Incoming, and replies into Bot API calls."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bot.config import Settings
from bot.engine import Engine
from bot.messages import Choices, Document, Incoming, Photo, Response, Text, split_text

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MENU_COMMANDS = ("start", "hoc", "thi", "dangky", "toi", "trogiup", "huy")


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """A PTB application talking to TELEGRAM_API_BASE_URL ({root}/bot{token}/{method})."""
    root = settings.telegram_api_base_url
    return (
        ApplicationBuilder()
        .token(settings.telegram_bot_token)
        .base_url(f"{root}/bot{{token}}")
        .base_file_url(f"{root}/file/bot{{token}}")
        .concurrent_updates(True)
        .build()
    )


def to_incoming(update: Update) -> Incoming | None:
    """The neutral form of an update, or None for updates the bot does not handle."""
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        chat = message.chat if message is not None else None
        chat_id = str(chat.id) if chat is not None else str(query.from_user.id)
        return Incoming(
            platform=PLATFORM,
            update_id=str(update.update_id),
            user_id=str(query.from_user.id),
            chat_id=chat_id,
            choice=query.data or "",
            chat_type="private" if chat is None or chat.type == "private" else "group",
            message_id=str(message.message_id) if message is not None else None,
        )
    message = update.message or update.edited_message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return None
    if update.edited_message is not None:
        return None  # an edited old message is not a new answer
    text = message.text if message.text is not None else (message.caption or "")
    return Incoming(
        platform=PLATFORM,
        update_id=str(update.update_id),
        user_id=str(message.from_user.id),
        chat_id=str(message.chat.id),
        text=text,
        chat_type="private" if message.chat.type == "private" else "group",
        message_id=str(message.message_id),
    )


def keyboard(choices: Choices) -> InlineKeyboardMarkup:
    columns = max(1, choices.columns)
    buttons = [InlineKeyboardButton(o.label[:64], callback_data=o.data) for o in choices.options]
    rows = [buttons[i : i + columns] for i in range(0, len(buttons), columns)]
    return InlineKeyboardMarkup(rows)


class TelegramChannel:
    """Bridges a PTB Application and the engine."""

    def __init__(self, engine: Engine, settings: Settings, application: Any = None):
        self.engine = engine
        self.settings = settings
        self.application = application or build_application(settings)
        self.application.add_handler(TypeHandler(Update, self.on_update))
        self.application.add_error_handler(self.on_error)

    @property
    def bot(self) -> Any:
        return self.application.bot

    async def set_menu(self) -> None:
        """The command menu in Vietnamese: the commands this deployment has, with their texts."""
        texts = self.engine.texts
        commands = [
            BotCommand(name, texts(f"commands.{name}"))
            for name in MENU_COMMANDS
            if (name in self.engine.commands or name == "huy") and f"commands.{name}" in texts
        ]
        await self.bot.set_my_commands(commands)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand one update to the engine and send what it answers."""
        incoming = to_incoming(update)
        query = update.callback_query
        if incoming is None:
            if query is not None:
                await self._answer(query, None)
            return
        response = await self.engine.handle(incoming)
        if query is not None:
            await self._answer(query, response.notice)
            if response.selected and isinstance(query.message, Message):
                await self._mark_selected(query.message, response.selected)
        if not response.duplicate:
            await self.send(incoming.chat_id, response)
            await self.deliver(response)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the error with the update id only: updates carry names and messages."""
        update_id = update.update_id if isinstance(update, Update) else None
        logger.error(
            "telegram error update=%s: %s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )

    async def _answer(self, query: Any, notice: str | None) -> None:
        try:
            await query.answer(text=notice[:200] if notice else None)
        except TelegramError as exc:  # an old query cannot be answered any more
            logger.info("could not answer callback query: %s", exc)

    async def _mark_selected(self, message: Message, label: str) -> None:
        """Show the chosen option under the question and remove its buttons."""
        from bot.textutil import escape

        original = message.text_html if message.text else ""
        marked = f"{original}\n\n<i>➜ {escape(label)}</i>"
        try:
            if original and len(marked) <= TEXT_LIMIT:
                await message.edit_text(marked, parse_mode=ParseMode.HTML, reply_markup=None)
            else:
                await message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:
            logger.info("could not mark the chosen option: %s", exc)
        except TelegramError as exc:
            logger.warning("could not mark the chosen option: %s", exc)

    async def send(self, chat_id: str, response: Response) -> None:
        """Send every reply, splitting long texts at the platform limit."""
        for reply in response.replies:
            try:
                await self._send_one(chat_id, reply)
            except TelegramError as exc:
                logger.warning("sending to chat failed: %s", type(exc).__name__)

    async def deliver(self, response: Response) -> None:
        """Messages to other people's chats on this platform (other platforms have their own)."""
        for note in response.notifications:
            if note.platform != PLATFORM:
                logger.warning("no channel to deliver a notification on %s", note.platform)
                continue
            try:
                await self._send_one(note.chat_id, note.reply)
            except TelegramError as exc:
                logger.warning("notification failed: %s", type(exc).__name__)

    async def _send_one(self, chat_id: str, reply: Any) -> None:
        if isinstance(reply, Text):
            for part in split_text(reply.text, TEXT_LIMIT):
                await self.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
        elif isinstance(reply, Choices):
            parts = split_text(reply.text, TEXT_LIMIT)
            for part in parts[:-1]:
                await self.bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
            await self.bot.send_message(
                chat_id, parts[-1], parse_mode=ParseMode.HTML, reply_markup=keyboard(reply)
            )
        elif isinstance(reply, Photo | Document):
            send = self.bot.send_photo if isinstance(reply, Photo) else self.bot.send_document
            caption, rest = _caption(reply.caption)
            await send(
                chat_id,
                InputFile(reply.data, filename=reply.filename),
                caption=caption,
                parse_mode=ParseMode.HTML,
            )
            if rest:  # a caption over the limit follows as a message of its own
                await self._send_one(chat_id, Text(rest))

    async def process_webhook(self, payload: dict[str, Any]) -> None:
        """Process one update posted to the webhook."""
        update = Update.de_json(payload, self.bot)
        await self.application.process_update(update)


def _caption(caption: str) -> tuple[str | None, str]:
    """A caption that fits, and what is left to send as a text."""
    if not caption:
        return None, ""
    if len(caption) <= CAPTION_LIMIT:
        return caption, ""
    return None, caption
