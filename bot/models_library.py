"""Content made in the bot (issue 13): topics from an official document, quiz questions from
Excel, every change kept as a revision; and the one-time links through which people on apps
without file uploads send a file. Tables are created by Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.models import utc_field


class LibraryTopic(SQLModel, table=True):
    """A study topic made from an official document: its text (what quotes are checked
    against), the sections people read, and who made it. Drafts are seen only in /chuyende;
    published topics join content/topics/ in /hoc, /thi and /kehoach."""

    id: str = Field(max_length=60, primary_key=True)
    status: str = Field(max_length=16)  # "draft" | "published"
    short_title: str = Field(max_length=40)
    title: str = Field(max_length=300)
    years: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    issuer: str = Field(max_length=200)
    document: str = Field(max_length=200)  # the document's name, cited under every section
    file_name: str = Field(max_length=200)  # the file it came from
    source_text: str = Field(sa_column=Column(Text, nullable=False))
    sections: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # [{"id", "title", "body"}]
    version: int = 1
    created_by: str = Field(max_length=80)
    updated_by: str = Field(max_length=80)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()
    published_at: datetime | None = utc_field(nullable=True)


class LibraryQuestion(SQLModel, table=True):
    """A quiz question imported from Excel into a topic's bank (a topic of the library or one
    shipped in content/: then a question with a shipped id replaces it)."""

    __table_args__ = (Index("ix_libraryquestion_topic", "topic_id", "position"),)

    id: str = Field(max_length=60, primary_key=True)
    topic_id: str = Field(max_length=60)
    position: int = 0
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 1
    updated_by: str = Field(max_length=80)
    updated_at: datetime = utc_field()


class LibraryBank(SQLModel, table=True):
    """A topic's imported bank as a whole: its version tells every process to reload it."""

    topic_id: str = Field(max_length=60, primary_key=True)
    version: int = 1
    updated_by: str = Field(max_length=80)
    updated_at: datetime = utc_field()


class LibraryRevision(SQLModel, table=True):
    """One change to the library: who, when, from which file, and what it was afterwards."""

    __table_args__ = (Index("ix_libraryrevision_topic", "topic_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic_id: str = Field(max_length=60)
    kind: str = Field(max_length=32)  # topic.created, topic.changed, topic.published, ...
    version: int
    by: str = Field(max_length=80)
    at: datetime = utc_field()
    file_name: str | None = Field(default=None, max_length=200)
    summary: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class UploadSlot(SQLModel, table=True):
    """A one-time link to send a file from a browser, for apps that take no files in the chat
    (Zalo): the file then reaches the conversation of this chat as if sent there."""

    __table_args__ = (Index("ix_uploadslot_expires", "expires_at"),)

    id: str = Field(max_length=64, primary_key=True)  # unguessable
    platform: str = Field(max_length=16)
    user_id: str = Field(max_length=64)
    chat_id: str = Field(max_length=64)
    created_at: datetime = utc_field()
    expires_at: datetime = utc_field()
    used_at: datetime | None = utc_field(nullable=True)
