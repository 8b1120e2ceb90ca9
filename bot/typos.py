"""Known typos of the source documents (content/typos.yaml): a quote keeps the source's wording,
but a question, an answer, an explanation, a study text or a post must not repeat the error.
Matching ignores case, line breaks and where a tone mark is placed (hoá ~ hóa); diacritics
themselves count (thông kê is a typo, thống kê is not)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError

from bot.config import DEFAULT_CONTENT_DIR
from bot.contentmodel import Name, StrictModel, explain_error, loc_path, text_field
from bot.textutil import nfc
from bot.yamlfile import ContentError, Problem, load_yaml

FILE = "typos.yaml"


class Typo(StrictModel):
    wrong: Name  # as the source writes it
    right: Name  # the standard form
    source: Name  # the seed file that has it
    note: Annotated[str, text_field(300)] | None = None


class TyposFile(StrictModel):
    typos: list[Typo] = Field(default_factory=list)


@dataclass(frozen=True)
class Found:
    typo: Typo
    text: str  # as written in the text checked
    start: int  # where, in the text checked

    def message(self) -> str:
        """In Vietnamese, for the content check and the sheet check."""
        written = " ".join(self.text.split())
        return (
            f"“{written}” là lỗi đánh máy của văn bản nguồn {self.typo.source}; viết đúng là "
            f"“{self.typo.right}” (chỉ trích dẫn nguyên văn mới giữ cách viết của văn bản gốc)"
        )


# Old placement of a tone mark on an open syllable: hoà hoá khoẻ thuỷ -> hòa hóa khỏe thủy
_OLD_TONE = re.compile(r"(?i)([oO])([àáảãạèéẻẽẹ])(?!\w)|(?<![qQ])([uU])([ỳýỷỹỵ])(?!\w)")


def _tone_moved(match: re.Match[str]) -> str:
    glide, vowel = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    parts = unicodedata.normalize("NFD", vowel)
    return unicodedata.normalize("NFC", glide + parts[1]) + parts[0]


def comparable(text: str) -> str:
    """NFC with tone marks in the new place; the same length as nfc(text), position for position."""
    return _OLD_TONE.sub(_tone_moved, nfc(text))


def _pattern(typo: Typo) -> re.Pattern[str]:
    words = comparable(typo.wrong).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, words)) + r"(?!\w)", re.IGNORECASE)


def find(text: str, typos: Sequence[Typo] | None = None) -> list[Found]:
    """Every known typo the text repeats, in order; typos: the list of content/typos.yaml."""
    if typos is None:
        typos = known()
    source = nfc(text)
    plain = comparable(source)
    found = [
        Found(typo, source[m.start() : m.end()], m.start())
        for typo in typos
        for m in _pattern(typo).finditer(plain)
    ]
    return sorted(found, key=lambda f: f.start)


def read(path: Path) -> tuple[list[Typo], list[Problem]]:
    """The list in a typos file and what is wrong with it; no file is an empty list."""
    if not path.is_file():
        return [], []
    try:
        doc = load_yaml(path)
    except ContentError as exc:
        return [], exc.problems
    try:
        shell = TyposFile.model_validate(doc.data or {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            problems.append(doc.problem(loc, f"{loc_path(loc)}: {explain_error(err)}"))
        return [], problems
    return shell.typos, []


def known(content_dir: Path | None = None) -> list[Typo]:
    """The typos of content/typos.yaml (a broken file is reported by the content check)."""
    return read((content_dir or DEFAULT_CONTENT_DIR) / FILE)[0]
