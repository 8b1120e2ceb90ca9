"""What every content file shares: strict pydantic field types, and reading YAML with every
defect recorded as a Problem at its file and line, in Vietnamese."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Strict, ValidationError
from pydantic_core import ErrorDetails

from bot.textutil import nfc
from bot.yamlfile import ContentError, Loc, Problem, YamlDoc, load_yaml

M = TypeVar("M", bound=BaseModel)

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


# --- field types ------------------------------------------------------------------------------


def text_field(max_len: int | None = None, note: str = "") -> AfterValidator:
    """Trimmed, non-empty text whose length error says the actual length and the limit."""

    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("không được để trống")
        if max_len is not None and len(value) > max_len:
            raise ValueError(f"dài {len(value)} ký tự, tối đa {max_len}{note}")
        return value

    return AfterValidator(check)


def slug_check(value: str) -> str:
    """Ids end up in file names and button data: keep them plain."""
    if not SLUG.fullmatch(value):
        raise ValueError(
            f"mã “{value}” không hợp lệ: chỉ dùng chữ thường a-z, số 0-9 và dấu gạch ngang"
        )
    return value


Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Slug = Annotated[str, text_field(60), AfterValidator(slug_check)]
Name = Annotated[str, text_field(200)]


class StrictModel(BaseModel):
    """Unknown keys are typos: reject them instead of silently ignoring them."""

    model_config = ConfigDict(extra="forbid")


def fmt_day(value: datetime.date) -> str:
    return f"{value:%d/%m/%Y}"


# --- reading ----------------------------------------------------------------------------------


class ContentReader:
    """Reading YAML content with every defect recorded as a Problem at its file and line; the
    loaders of the catalog and of the calendar share it. Needs a `problems` list."""

    problems: list[Problem]

    def add(self, doc: YamlDoc, loc: Loc, message: str) -> None:
        self.problems.append(doc.problem(loc, message))

    def validate(self, doc: YamlDoc, model: type[M], data: Any, prefix: Loc) -> M | None:
        """Pydantic, but with Vietnamese messages located at the offending node's line."""
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = (*prefix, *err["loc"])
                self.add(
                    doc,
                    loc,
                    f"{loc_path(loc)}: {explain_error(err)}" if loc else explain_error(err),
                )
            return None

    def read(self, path: Path) -> YamlDoc | None:
        """A YAML file, or None after recording why it cannot be read."""
        try:
            doc = load_yaml(path)
        except ContentError as exc:
            self.problems.extend(exc.problems)
            return None
        except UnicodeDecodeError:
            self.problems.append(Problem(path, 1, "tệp không phải văn bản UTF-8"))
            return None
        except ValueError as exc:  # PyYAML builds unquoted dates itself: 2026-02-30 fails there
            line, value = bad_date(path)
            message = f"YAML không hợp lệ: {exc}"
            if value is not None:
                message = f"ngày không hợp lệ “{value}”: không có ngày này trong lịch"
            self.problems.append(Problem(path, line, message))
            return None
        for loc, text in strings(doc.data, ()):
            if nfc(text) != text:
                where = loc_path(loc) or "nội dung"
                self.add(doc, loc, f"{where}: văn bản chưa chuẩn hóa Unicode NFC")
        return doc


_DATE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.:-])")


def bad_date(path: Path) -> tuple[int, str | None]:
    """The line and text of the first date-looking value that is not a real day."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in _DATE.finditer(line.split("#", 1)[0]):
            try:
                datetime.date(*map(int, match.groups()))
            except ValueError:
                return number, match.group()
    return 1, None


def strings(data: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every string in a parsed YAML document, with its path."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from strings(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from strings(value, (*loc, index))


def loc_path(loc: Loc) -> str:
    """A path people can follow in the file: questions[3].options[1]."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda c: "thiếu trường bắt buộc",
    "extra_forbidden": lambda c: "trường không có trong định dạng (gõ nhầm tên?)",
    "string_type": lambda c: "phải là chuỗi văn bản (nên đặt trong dấu ngoặc kép)",
    "int_type": lambda c: "phải là số nguyên",
    "bool_type": lambda c: "phải là true hoặc false",
    "list_type": lambda c: "phải là danh sách",
    "model_type": lambda c: "phải là một khối “khóa: giá trị”",
    "model_attributes_type": lambda c: "phải là một khối “khóa: giá trị”",
    "dict_type": lambda c: "phải là một khối “khóa: giá trị”",
    "too_short": lambda c: f"có {c['actual_length']} mục, cần ít nhất {c['min_length']}",
    "too_long": lambda c: f"có {c['actual_length']} mục, tối đa {c['max_length']}",
    "greater_than_equal": lambda c: f"phải lớn hơn hoặc bằng {c['ge']}",
    "less_than_equal": lambda c: f"phải nhỏ hơn hoặc bằng {c['le']}",
    "literal_error": lambda c: (
        "phải là một trong: " + c["expected"].replace("'", "").replace(" or ", " hoặc ")
    ),
}


def explain_error(err: ErrorDetails) -> str:
    """One pydantic error in Vietnamese; our own validators already speak it."""
    kind = err["type"]
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind.startswith("date"):
        return f"ngày không hợp lệ “{err['input']}”: cần dạng YYYY-MM-DD, ví dụ 2024-03-31"
    if kind in _MESSAGES:
        return _MESSAGES[kind](dict(err.get("ctx") or {}))
    return f"giá trị không hợp lệ ({err['msg']})"
