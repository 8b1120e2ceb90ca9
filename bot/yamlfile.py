"""YAML loading that remembers where each value stands, so errors name file and line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentError(Exception):
    """Content that cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class YamlDoc:
    path: Path
    data: Any
    lines: dict[Loc, int]

    def line(self, loc: Loc) -> int:
        """The line of the deepest known node on the path to loc."""
        loc = tuple(loc)
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, 1)

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.path, self.line(loc), message)

    def validate(self, model: type[M]) -> tuple[M | None, list[Problem]]:
        try:
            return model.model_validate(self.data), []
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                loc = tuple(err["loc"])
                where = ".".join(str(p) for p in loc)
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems.append(self.problem(loc, f"{where}: {msg}" if where else msg))
            return None, problems


def load_yaml(path: Path) -> YamlDoc:
    """Parse a YAML file; a syntax error becomes a ContentError with its line."""
    text = path.read_text(encoding="utf-8")
    try:
        node, data = _parse(text, Loader)
    except yaml.YAMLError:
        try:  # the pure-Python loader's message quotes the line with a caret under the mistake
            node, data = _parse(text, yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise ContentError([Problem(path, line, f"YAML không hợp lệ: {exc}")]) from None
    lines: dict[Loc, int] = {}
    duplicates: list[Problem] = []
    if node is not None:
        _walk(node, (), lines, duplicates, path)
    if duplicates:  # YAML would silently keep the last one and lose the first
        raise ContentError(duplicates)
    return YamlDoc(path, data, lines)


def _parse(text: str, loader_class: Any) -> tuple[yaml.Node | None, Any]:
    """The document's node tree and the values built from it, parsed once. libyaml's loader
    (`Loader`, where PyYAML was built with it, as its wheels are) is ten times faster than the
    pure-Python one, which made every start and every CLI command wait most of a second."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _walk(
    node: yaml.Node, loc: Loc, lines: dict[Loc, int], duplicates: list[Problem], path: Path
) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                message = f"khóa “{key}” bị lặp (đã có ở dòng {seen[key]}): giá trị trước bị mất"
                duplicates.append(Problem(path, line, message))
            seen[key] = line
            lines[(*loc, key)] = line
            _walk(value_node, (*loc, key), lines, duplicates, path)
            lines[(*loc, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), lines, duplicates, path)
