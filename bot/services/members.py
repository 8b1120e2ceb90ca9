"""Members and their platform identities: registration, profile changes, names."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.models import Identity, Member, MemberGroup, Unit, utcnow
from bot.textutil import fold, nfc

NAME_MIN, NAME_MAX = 2, 100


class InvalidName(ValueError):
    """The typed name is not acceptable; `reason` names the text key that explains why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def clean_name(raw: str) -> str:
    """Validate and normalize a full name: letters and spaces, NFC, each word capitalized."""
    text = nfc(raw or "").strip()
    if not text:
        raise InvalidName("empty")
    words = text.split()
    joined = " ".join(words)
    if not all(ch.isalpha() or ch == " " or unicodedata.category(ch) == "Mn" for ch in joined):
        raise InvalidName("chars")
    letters = sum(1 for ch in joined if ch.isalpha())
    if letters < NAME_MIN:
        raise InvalidName("short")
    if len(joined) > NAME_MAX:
        raise InvalidName("long")
    if len(words) < 2:  # "an": a given name alone is not what goes on a certificate
        raise InvalidName("one_word")
    return nfc(" ".join(w[:1].upper() + w[1:].lower() for w in words))


_GROUP_LABEL_KEYS = {g: f"groups.{g.value}" for g in MemberGroup}


def lacks_diacritics(name: str) -> bool:
    """'Tran Van Hung': typed without Vietnamese marks (many phones make them hard to type)."""
    return name.isascii()


def group_key(group: str) -> str:
    return _GROUP_LABEL_KEYS.get(MemberGroup(group), "groups.unknown")


def identity_for(session: Session, *, platform: str, user_id: str) -> Identity | None:
    return session.exec(
        select(Identity).where(Identity.platform == platform, Identity.platform_user_id == user_id)
    ).first()


def ensure_identity(session: Session, *, platform: str, user_id: str, chat_id: str) -> Identity:
    identity = identity_for(session, platform=platform, user_id=user_id)
    if identity is None:
        identity = Identity(platform=platform, platform_user_id=user_id, chat_id=chat_id)
        session.add(identity)
    elif identity.chat_id != chat_id or identity.blocked:
        identity.chat_id, identity.blocked = chat_id, False
        session.add(identity)
    session.flush()
    return identity


@dataclass(frozen=True)
class Registration:
    full_name: str
    unit_id: int
    group: MemberGroup
    party_member: bool
    consent_version: str


def register(
    session: Session, *, platform: str, user_id: str, chat_id: str, form: Registration
) -> Member:
    """Create the member (consent recorded with its time and text version) and link the identity."""
    if session.get(Unit, form.unit_id) is None:
        raise ValueError("unit does not exist")
    identity = ensure_identity(session, platform=platform, user_id=user_id, chat_id=chat_id)
    now = utcnow()
    member = Member(
        full_name=form.full_name,
        search_name=fold(form.full_name),
        unit_id=form.unit_id,
        group=form.group.value,
        party_member=form.party_member,
        consent_at=now,
        consent_version=form.consent_version,
    )
    session.add(member)
    session.flush()
    identity.member_id = member.id
    session.add(identity)
    session.flush()
    return member


def update_profile(session: Session, member: Member, **changes: object) -> Member:
    allowed = {"full_name", "unit_id", "group", "party_member", "initials_only"}
    for key, value in changes.items():
        if key not in allowed:
            raise ValueError(f"cannot change {key}")
        setattr(member, key, value)
        if key == "full_name" and isinstance(value, str):
            member.search_name = fold(value)
    member.updated_at = utcnow()
    session.add(member)
    session.flush()
    return member


def find_by_name(session: Session, text: str, *, limit: int = 8) -> list[Member]:
    """Registered members whose name contains every typed word, diacritics optional."""
    words = fold(text).split()
    if not words:
        return []
    query = select(Member).where(col(Member.deleted_at).is_(None))
    for word in words[:6]:
        query = query.where(col(Member.search_name).contains(word, autoescape=True))
    return list(session.exec(query.order_by(Member.full_name).limit(limit)).all())


_INITIAL = re.compile(r"\w", re.UNICODE)


def initials(name: str) -> str:
    """'Nguyễn Văn An' -> 'N. V. A.'"""
    return " ".join(f"{w[0]}." for w in name.split() if _INITIAL.match(w[0]))
