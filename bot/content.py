"""Everything in content/: loaded once, validated with pydantic, errors with file and line."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from bot.calendar import Calendar, load_calendar
from bot.catalog import Catalog, load_catalog
from bot.texts import Texts
from bot.textutil import nfc
from bot.yamlfile import ContentError, Problem, load_yaml

DEMO_UNITS_FILE = "units_demo.csv"


class Consent(BaseModel):
    version: str = Field(min_length=1, max_length=32)
    text: str = Field(min_length=50, max_length=4000)

    @field_validator("text")
    @classmethod
    def _nfc(cls, value: str) -> str:
        if nfc(value) != value:
            raise ValueError("chưa chuẩn hóa Unicode NFC")
        return value.strip()


@dataclass
class Content:
    root: Path
    texts: Texts
    consent: Consent
    catalog: Catalog
    calendar: Calendar = field(default_factory=Calendar)  # anniversary posts

    @property
    def demo_units(self) -> Path:
        return self.root / DEMO_UNITS_FILE


def load_content(root: Path) -> Content:
    """Load and validate content; raise ContentError listing every problem."""
    problems: list[Problem] = []
    texts = None
    try:
        texts = Texts.load(root / "texts.yaml")
    except ContentError as exc:
        problems.extend(exc.problems)
    except FileNotFoundError:
        problems.append(Problem(root / "texts.yaml", 1, "thiếu tệp"))
    consent = None
    try:
        consent, found = load_yaml(root / "consent.yaml").validate(Consent)
        problems.extend(found)
    except ContentError as exc:
        problems.extend(exc.problems)
    except FileNotFoundError:
        problems.append(Problem(root / "consent.yaml", 1, "thiếu tệp"))
    catalog, found = load_catalog(root)
    problems.extend(found)
    calendar, found = load_calendar(root)
    problems.extend(found)
    if problems or texts is None or consent is None:
        raise ContentError(problems)
    return Content(root=root, texts=texts, consent=consent, catalog=catalog, calendar=calendar)


def check_content(root: Path) -> list[Problem]:
    """Every problem in content/, for `congdoan content check`."""
    try:
        load_content(root)
    except ContentError as exc:
        return exc.problems
    return []
