"""User-facing texts, kept in content/texts.yaml; values put into them are HTML-escaped."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

from bot.textutil import escape, nfc
from bot.yamlfile import ContentError, Problem, load_yaml

_FORMATTER = string.Formatter()


class Raw(str):
    """A value that is already safe HTML (e.g. a fragment built from other texts)."""

    __slots__ = ()


class Texts:
    def __init__(self, entries: dict[str, str]):
        self._entries = entries

    @classmethod
    def load(cls, path: Path) -> Texts:
        doc = load_yaml(path)
        entries: dict[str, str] = {}
        problems: list[Problem] = []
        _flatten(doc.data or {}, (), entries, problems, doc)
        if problems:
            raise ContentError(problems)
        return cls(entries)

    def keys(self) -> set[str]:
        return set(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __call__(self, key: str, **values: Any) -> str:
        template = self._entries[key]
        safe = {k: v if isinstance(v, Raw) else escape(v) for k, v in values.items()}
        return template.format(**safe)

    def raw(self, key: str, **values: Any) -> Raw:
        return Raw(self(key, **values))


def _flatten(
    node: Any, loc: tuple[str, ...], out: dict[str, str], problems: list[Problem], doc: Any
) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, (*loc, str(key)), out, problems, doc)
        return
    key = ".".join(loc)
    if not isinstance(node, str):
        problems.append(doc.problem(loc, f"{key}: phải là một chuỗi văn bản"))
        return
    text = node.rstrip("\n")
    if nfc(text) != text:
        problems.append(doc.problem(loc, f"{key}: chưa chuẩn hóa Unicode NFC"))
    try:
        list(_FORMATTER.parse(text))
    except ValueError as exc:
        problems.append(doc.problem(loc, f"{key}: dấu {{ }} không hợp lệ ({exc})"))
    out[key] = text


class Refusal(Exception):
    """A change a service cannot make, said by a text key (`<PREFIX><key>`) and its values, so
    the chat and the command line say the same thing."""

    PREFIX = ""

    def __init__(self, key: str, **values: Any):
        super().__init__(key)
        self.key = f"{self.PREFIX}{key}"
        self.values = values
