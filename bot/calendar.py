"""The anniversary calendar (content/calendar.yaml) and its post templates (content/posts/):
typed, checked (placeholders, Telegram HTML, length, image), defects at file:line."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, Field

from bot import typos
from bot.contentmodel import ContentReader, Int, Name, Slug, StrictModel, loc_path, text_field
from bot.textutil import escape
from bot.yamlfile import Loc, Problem, YamlDoc

M = TypeVar("M", bound=BaseModel)

CALENDAR_FILE = "calendar.yaml"
POSTS_DIR = "posts"
DEFAULT_GRACE_HOURS = 6
DEFAULT_TIME = datetime.time(7, 0)
MAX_POST = 3500  # characters of HTML with the longest placeholder values; Telegram allows 4096
MAX_IMAGE = 5 * 1024 * 1024
ROUND_EVERY = 5  # 135 năm, 80 năm: the solemn variant

# Every placeholder a post may use, and the longest value it can take (for the length check):
# the topic's short_title and title are limited to 40 and 300 characters in bot/topics.py;
# {examples} is the block of up to three good examples of the tree (scheduler/jobs.py: each
# cut to EXAMPLE_CHARS), or nothing when the tree has none.
EXAMPLE_CHARS = 280
PLACEHOLDERS: dict[str, int] = {
    "count": 4,
    "year": 4,
    "topic": 40,
    "topic_title": 300,
    "name": 200,
    "date": 10,
    "examples": 1700,
}
_BLANK_LINES = re.compile(r"\n{3,}")
ALLOWED_TAGS = ("b", "i", "u", "s", "code")

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)([^<>]*)>")
_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);)")
_IMAGE_TYPES = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}


# --- the calendar -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One anniversary: every year on day/month at time (local), count = year - since."""

    id: str
    day: int
    month: int
    since: int
    name: str
    time: datetime.time = DEFAULT_TIME
    post: str = ""  # a post id (content/posts/<post>.yaml); "" means the event's id

    def __post_init__(self) -> None:
        if not self.post:
            object.__setattr__(self, "post", self.id)

    def occurrence(self, year: int, tz: ZoneInfo) -> datetime.datetime:
        """This year's post time, aware, in tz."""
        day = datetime.date(year, self.month, self.day)
        return datetime.datetime.combine(day, self.time, tzinfo=tz)

    def count(self, year: int) -> int:
        """The anniversary number: 2025 - 1890 = 135 năm."""
        return year - self.since

    def is_round(self, year: int) -> bool:
        count = self.count(year)
        return count > 0 and count % ROUND_EVERY == 0


@dataclass(frozen=True)
class Post:
    text: str  # HTML subset with {placeholders}
    round_text: str | None = None  # used when the count is a multiple of 5
    image: bytes | None = None  # PNG or JPEG, sent with the post


@dataclass
class Calendar:
    events: list[Event] = field(default_factory=list)
    grace: datetime.timedelta = datetime.timedelta(hours=DEFAULT_GRACE_HOURS)
    posts: dict[str, Post] = field(default_factory=dict)

    def event(self, event_id: str) -> Event | None:
        return next((e for e in self.events if e.id == event_id), None)

    def render(
        self,
        event: Event,
        year: int,
        *,
        topic: str,
        topic_title: str,
        tz: ZoneInfo,
        examples: str = "",
    ) -> tuple[str, bytes | None]:
        """The post as Telegram HTML (the values put in are escaped; `examples` is HTML built
        from the texts already) and its image, if any. Without examples, the paragraph that
        would hold them goes."""
        post = self.posts[event.post]
        template = post.text
        if post.round_text is not None and event.is_round(year):
            template = post.round_text
        values = {
            "count": event.count(year),
            "year": year,
            "topic": topic,
            "topic_title": topic_title,
            "name": event.name,
            "date": f"{event.occurrence(year, tz):%d/%m/%Y}",
        }
        filled = {k: escape(v) for k, v in values.items()}
        text = template.format(**filled, examples=examples.strip())
        return _BLANK_LINES.sub("\n\n", text).strip(), post.image

    def upcoming(
        self, after: datetime.datetime, tz: ZoneInfo, limit: int = 5
    ) -> list[tuple[Event, datetime.datetime]]:
        """The next `limit` occurrences strictly after `after` (aware), soonest first; an event
        comes back once per year, so with few events next year's turn up too."""
        if after.tzinfo is None or after.utcoffset() is None:
            raise ValueError("upcoming() needs an aware datetime")
        if not self.events or limit <= 0:
            return []
        start = after.astimezone(tz).year
        years = limit // len(self.events) + 2
        found = [
            (event.occurrence(year, tz), order, event)
            for year in range(start, start + years)
            for order, event in enumerate(self.events)
        ]
        found.sort(key=lambda item: (item[0], item[1]))
        return [(event, when) for when, _, event in found if when > after][:limit]


# --- file formats -----------------------------------------------------------------------------


def _clock(value: Any) -> Any:
    """ "07:00" -> 07:00. Unquoted 7:30 is a number to YAML: ask for quotes instead of guessing."""
    if isinstance(value, datetime.time):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('giờ phải đặt trong dấu ngoặc kép, ví dụ "07:00"')
    if not isinstance(value, str):
        raise ValueError('phải là giờ dạng "HH:MM" trong dấu ngoặc kép, ví dụ "07:00"')
    match = _CLOCK.fullmatch(value.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ValueError(f'giờ không hợp lệ “{value}”: cần dạng "HH:MM", từ "00:00" đến "23:59"')
    return datetime.time(int(match[1]), int(match[2]))


Clock = Annotated[datetime.time, BeforeValidator(_clock)]


class _EventModel(StrictModel):
    id: Slug
    day: Annotated[Int, Field(ge=1, le=31)]
    month: Annotated[Int, Field(ge=1, le=12)]
    since: Annotated[Int, Field(ge=1000, le=2100)]
    name: Name
    time: Clock | None = None  # None: the file's default_time
    post: Slug | None = None  # None: the event's id


class _CalendarShell(StrictModel):
    """The file's outline: events are validated one by one."""

    grace_hours: Annotated[Int, Field(ge=0, le=72)] = DEFAULT_GRACE_HOURS
    default_time: Clock = DEFAULT_TIME
    events: list[Any] = Field(default_factory=list)


class _PostModel(StrictModel):
    text: Annotated[str, text_field()]
    round_text: Annotated[str, text_field()] | None = None
    image: Name | None = None


# --- template checks --------------------------------------------------------------------------


def template_defects(text: str) -> list[tuple[int, str]]:
    """(index in text, message) for every placeholder or HTML defect of a post template."""
    defects = list(_brace_defects(text)) + list(_html_defects(text))
    return sorted(defects, key=lambda d: d[0])


def _brace_defects(text: str) -> Iterator[tuple[int, str]]:
    """Mirrors str.format: with no defect, formatting does plain substitutions and cannot fail."""
    allowed = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    i = 0
    while i < len(text):
        char = text[i]
        if text.startswith("{{", i) or text.startswith("}}", i):
            i += 2
            continue
        if char == "}":
            yield i, "dấu “}” thừa (muốn in dấu } thì gõ }})"
        elif char == "{":
            end = text.find("}", i + 1)
            opening = text.find("{", i + 1)
            if end == -1 or -1 < opening < end:
                yield i, "dấu “{” không có “}” đóng (muốn in dấu { thì gõ {{)"
            else:
                name = text[i + 1 : end]
                if name not in PLACEHOLDERS:
                    yield i, f"chỗ trống “{{{name}}}” không được dùng; chỉ dùng: {allowed}"
                i = end
        i += 1


def _html_defects(text: str) -> Iterator[tuple[int, str]]:
    """Telegram's HTML: only these tags, without attributes, properly nested; < > & escaped."""
    allowed = ", ".join(f"<{tag}>" for tag in ALLOWED_TAGS)
    open_tags: list[tuple[int, str]] = []
    in_tag: set[int] = set()
    refused: set[str] = set()  # a refused tag is named once, not again at its closing tag
    for match in _TAG.finditer(text):
        in_tag.update(range(match.start(), match.end()))
        closing, name, rest = match[1] == "/", match[2].lower(), match[3]
        if name not in ALLOWED_TAGS:
            if not (closing and name in refused):
                yield match.start(), f"thẻ “{match[0]}” không được dùng; chỉ dùng {allowed}"
            refused.add(name)
            continue
        if rest.strip():
            yield match.start(), f"thẻ “{match[0]}” không được có thuộc tính; viết <{name}>"
        if not closing:
            open_tags.append((match.start(), name))
        elif open_tags and open_tags[-1][1] == name:
            open_tags.pop()
        elif any(tag == name for _, tag in open_tags):
            inner = open_tags[-1][1]
            yield match.start(), f"thẻ “</{name}>” đóng trước thẻ “<{inner}>” bên trong nó"
            last = max(k for k, (_, tag) in enumerate(open_tags) if tag == name)
            del open_tags[last]  # the inner tag stays open: its own closing tag may follow
        else:
            yield match.start(), f"thẻ đóng “</{name}>” không có thẻ mở <{name}>"
    for start, name in open_tags:
        yield start, f"thẻ “<{name}>” chưa được đóng (thiếu </{name}>)"
    for i, char in enumerate(text):
        if char in "<>" and i not in in_tag:
            entity = "&lt;" if char == "<" else "&gt;"
            yield i, f"dấu “{char}” lẻ: Telegram không nhận, viết {entity}"
    for match in _AMP.finditer(text):
        yield match.start(), "dấu “&” lẻ: Telegram không nhận, viết &amp;"


def _longest(text: str) -> int:
    """The template's length with every placeholder at its longest value."""
    return len(text.format(**{name: "x" * size for name, size in PLACEHOLDERS.items()}))


# --- loading ----------------------------------------------------------------------------------


@dataclass
class _Loader(ContentReader):
    content_dir: Path
    problems: list[Problem] = field(default_factory=list)
    sources: dict[Path, list[str]] = field(default_factory=dict)
    known_typos: list[typos.Typo] = field(default_factory=list)  # none may be in a post

    def line_at(self, doc: YamlDoc, loc: Loc, text: str, index: int) -> int:
        """The source line of text[index], text being the value at loc (block scalars included)."""
        key_line = doc.line(loc)
        if doc.path not in self.sources:
            self.sources[doc.path] = doc.path.read_text(encoding="utf-8").splitlines()
        source = self.sources[doc.path]
        k = text.count("\n", 0, index)
        line = text.split("\n")[k].strip()
        rest = text[index:].split("\n", 1)[0].strip()
        tries = [(key_line, line)] if k == 0 else []
        tries.append((key_line + 1 + k, line))  # `text: |-`: its lines start under the key
        for number, snippet in tries:
            if snippet and 0 < number <= len(source) and snippet in source[number - 1]:
                return number
        for snippet in (line, rest):
            for number in range(key_line, len(source) + 1):
                if snippet and snippet in source[number - 1]:
                    return number
        return key_line

    # calendar.yaml

    def load_calendar(self, doc: YamlDoc, posts: dict[str, Post], broken: set[str]) -> Calendar:
        data = {} if doc.data is None else doc.data
        shell = self.validate(doc, _CalendarShell, data, ())
        if shell is None and isinstance(data, dict):
            # keep checking the events with the defaults in place of the broken settings
            kept = {k: v for k, v in data.items() if k == "events" and isinstance(v, list)}
            shell = _CalendarShell.model_validate(kept)
        if shell is None:
            return Calendar()
        calendar = Calendar(grace=datetime.timedelta(hours=shell.grace_hours), posts=posts)
        first_line: dict[str, int] = {}
        for i, raw in enumerate(shell.events):
            model = self.validate(doc, _EventModel, raw, ("events", i))
            if model is None:
                continue
            event = Event(
                id=model.id,
                day=model.day,
                month=model.month,
                since=model.since,
                name=model.name,
                time=model.time or shell.default_time,
                post=model.post or model.id,
            )
            if self.accept_event(doc, i, event, model.post is not None, first_line, broken):
                calendar.events.append(event)
        return calendar

    def accept_event(
        self,
        doc: YamlDoc,
        i: int,
        event: Event,
        has_post: bool,
        first_line: dict[str, int],
        broken: set[str],
    ) -> bool:
        loc: Loc = ("events", i)
        if event.id in first_line:
            message = (
                f"mã ngày kỷ niệm “{event.id}” trùng với sự kiện ở dòng {first_line[event.id]}"
            )
            self.add(doc, (*loc, "id"), message)
            return False
        first_line[event.id] = doc.line((*loc, "id"))
        ok = True
        try:
            datetime.date(2001, event.month, event.day)  # 2001: not a leap year
        except ValueError:
            extra = " (chỉ có trong năm nhuận)" if (event.day, event.month) == (29, 2) else ""
            message = f"ngày {event.day}/{event.month} không có trong mọi năm{extra}"
            self.add(doc, (*loc, "day"), f"{loc_path((*loc, 'day'))}: {message}")
            ok = False
        if event.post not in self.post_ids:
            where = (*loc, "post") if has_post else (*loc, "id")
            message = f"không có tệp bài đăng {POSTS_DIR}/{event.post}.yaml"
            self.add(doc, where, f"{loc_path(where)}: {message}")
            ok = False
        return ok and event.post not in broken

    # posts/*.yaml

    @property
    def post_ids(self) -> set[str]:
        return {p.stem for p in (self.content_dir / POSTS_DIR).glob("*.yaml")}

    def load_post(self, doc: YamlDoc) -> Post | None:
        model = self.validate(doc, _PostModel, doc.data, ())
        if model is None:
            return None
        before = len(self.problems)
        texts = {"text": doc.data["text"], "round_text": doc.data.get("round_text")}
        for key, raw in texts.items():
            if isinstance(raw, str):
                self.check_template(doc, key, raw)
        image = self.read_image(doc, model.image) if model.image is not None else None
        if len(self.problems) > before:
            return None
        return Post(text=model.text, round_text=model.round_text, image=image)

    def check_template(self, doc: YamlDoc, key: str, raw: str) -> None:
        defects = template_defects(raw)
        for index, message in defects:
            self.problems.append(
                Problem(doc.path, self.line_at(doc, (key,), raw, index), f"{key}: {message}")
            )
        if defects:
            return
        for found in typos.find(raw, self.known_typos):
            line = self.line_at(doc, (key,), raw, found.start)
            self.problems.append(Problem(doc.path, line, f"{key}: {found.message()}"))
        length = _longest(raw.strip())
        if length > MAX_POST:
            message = (
                f"{key}: dài {length} ký tự khi điền các chỗ trống với giá trị dài nhất, "
                f"tối đa {MAX_POST} (Telegram nhận tối đa 4096)"
            )
            self.add(doc, (key,), message)

    def read_image(self, doc: YamlDoc, name: str) -> bytes | None:
        path = doc.path.parent / name
        suffix = Path(name).suffix.lower()
        if Path(name).name != name or suffix not in _IMAGE_TYPES:
            message = f"ảnh “{name}”: cần tên một tệp .png, .jpg hoặc .jpeg trong {POSTS_DIR}/"
        elif not path.is_file():
            message = f"không tìm thấy tệp ảnh “{name}” trong {POSTS_DIR}/"
        elif path.stat().st_size > MAX_IMAGE:
            size = path.stat().st_size / 1024 / 1024
            message = f"ảnh “{name}” nặng {size:.1f} MB, tối đa {MAX_IMAGE // 1024 // 1024} MB"
        else:
            data = path.read_bytes()
            if data.startswith(_IMAGE_TYPES[suffix]):
                return data
            message = f"tệp “{name}” không phải ảnh {suffix.lstrip('.').upper()}"
        self.add(doc, ("image",), f"image: {message}")
        return None


def load_calendar(content_dir: Path) -> tuple[Calendar, list[Problem]]:
    """Load calendar.yaml and every post in posts/; every defect is returned as a Problem, never
    raised. Without calendar.yaml: an empty calendar. Events with a defect are left out."""
    loader = _Loader(content_dir, known_typos=typos.known(content_dir))  # checked in bot/catalog
    posts: dict[str, Post] = {}
    broken: set[str] = set()
    for path in sorted((content_dir / POSTS_DIR).glob("*.yaml")):
        doc = loader.read(path)
        post = loader.load_post(doc) if doc is not None else None
        if post is None:
            broken.add(path.stem)
        else:
            posts[path.stem] = post
    calendar = Calendar(posts=posts)
    path = content_dir / CALENDAR_FILE
    if path.is_file():
        doc = loader.read(path)
        if doc is not None:
            calendar = loader.load_calendar(doc, posts, broken)
    problems = sorted(loader.problems, key=lambda p: (str(p.file), p.line))
    return calendar, problems
