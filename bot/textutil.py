"""Vietnamese text helpers: NFC, diacritics folding for search, escaping."""

from __future__ import annotations

import html
import unicodedata

# How a quote is compared with its document (bot.catalog, the sheet and library checks), said
# in every message about a quote that does not match
QUOTE_MATCHING = "so khớp sau khi gộp khoảng trắng, xuống dòng"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lowercase without diacritics, for matching what people type ('lao cai' ~ 'Lào Cai')."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.replace("đ", "d").split())


def escape(text: object) -> str:
    return html.escape(str(text), quote=False)


def one_line(text: str) -> str:
    """Typed free text as one tidy line: NFC, control characters dropped, whitespace collapsed."""
    kept = "".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in nfc(text or ""))
    return " ".join(kept.split())


def has_emoji(text: str) -> bool:
    """Pictographs (🙂 ✅ 💪): fine in a chat, boxes or nothing on a printed document."""
    return any(ord(c) >= 0x1F000 or 0x2600 <= ord(c) <= 0x27BF or c in "\ufe0f\u200d" for c in text)


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word with "…" when longer."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head:
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:.") + "…"
