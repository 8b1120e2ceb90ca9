"""Topics, quiz banks, campaigns and pledge suggestions from content/: typed, cross-checked,
defects at file:line."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails

from bot import pledgebook
from bot.pledgebook import DEFAULT_LEVELS, DEFAULT_POINTS, EXAMPLE_GROUPS, GroupId, SectionId
from bot.textutil import nfc
from bot.yamlfile import ContentError, Loc, Problem, YamlDoc, load_yaml

M = TypeVar("M", bound=BaseModel)

TELEGRAM = " (giới hạn của Telegram)"
ASK_ALL = "chọn tất cả"
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


# --- field types ------------------------------------------------------------------------------


def _text(max_len: int | None = None, note: str = "") -> AfterValidator:
    """Trimmed, non-empty text whose length error says the actual length and the limit."""

    def check(value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("không được để trống")
        if max_len is not None and len(value) > max_len:
            raise ValueError(f"dài {len(value)} ký tự, tối đa {max_len}{note}")
        return value

    return AfterValidator(check)


def _slug(value: str) -> str:
    """Ids end up in file names and button data: keep them plain."""
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"mã “{value}” không hợp lệ: chỉ dùng chữ thường a-z, số 0-9 và dấu gạch ngang"
        )
    return value


Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
Slug = Annotated[str, _text(60), AfterValidator(_slug)]
Name = Annotated[str, _text(200)]
QuestionText = Annotated[str, _text(300, TELEGRAM)]
OptionText = Annotated[str, _text(100, TELEGRAM)]
Explanation = Annotated[str, _text(200, TELEGRAM)]


class _Model(BaseModel):
    """Unknown keys are typos: reject them instead of silently ignoring them."""

    model_config = ConfigDict(extra="forbid")


# --- models -----------------------------------------------------------------------------------


class SourceRef(_Model):
    file: Name
    section: Name
    quote: Annotated[str, _text()] | None = None


class Section(_Model):
    id: Slug
    title: Annotated[str, _text(80)]
    body: Annotated[str, _text(1200)]
    source: SourceRef


class KeyDate(_Model):
    date: datetime.date
    what: Name
    source: SourceRef


class Topic(_Model):
    id: Slug
    short_title: Annotated[str, _text(40, " (nhãn nút bấm)")]
    title: Annotated[str, _text(300)]
    years: list[Int]
    issuer: Name
    document: Name
    seed: Name
    key_dates: list[KeyDate] = []
    sections: list[Section] = Field(min_length=1)


def asks_all(text: str) -> bool:
    """Only a question that says "chọn tất cả" may have several correct options."""
    return ASK_ALL in nfc(text).casefold()


class Question(_Model):
    id: Slug
    text: QuestionText
    options: list[OptionText]
    correct: list[Int]
    explanation: Explanation
    source: SourceRef

    @property
    def multiple(self) -> bool:
        return len(self.correct) > 1

    @field_validator("options")
    @classmethod
    def _valid_options(cls, options: list[str]) -> list[str]:
        if not 2 <= len(options) <= 6:
            raise ValueError(f"có {len(options)} phương án, cần từ 2 đến 6")
        seen: set[str] = set()
        for option in options:
            key = " ".join(option.casefold().split())
            if key in seen:
                raise ValueError(f"phương án “{option}” bị lặp")
            seen.add(key)
        return options

    @field_validator("correct")
    @classmethod
    def _valid_correct(cls, correct: list[int], info: ValidationInfo) -> list[int]:
        options = info.data.get("options")
        text = info.data.get("text")
        if options is not None:
            _check_indexes(correct, len(options))
        if text is not None and options is not None:
            _check_count(correct, len(options), asks_all(text))
        return correct

    @field_validator("source")
    @classmethod
    def _quote_required(cls, source: SourceRef) -> SourceRef:
        if source.quote is None:
            raise ValueError("câu hỏi phải có quote: đoạn trích nguyên văn chứa đáp án")
        return source


def _check_indexes(correct: list[int], n_options: int) -> None:
    """Indexes are 0-based positions in options; a wrong one would mark the wrong answer."""
    if not correct:
        raise ValueError("không có đáp án đúng (correct rỗng)")
    for index in correct:
        if not 0 <= index < n_options:
            raise ValueError(
                f"chỉ số {index} ngoài phạm vi: có {n_options} phương án (chỉ số 0–{n_options - 1})"
            )
    duplicates = sorted({i for i in correct if correct.count(i) > 1})
    if duplicates:
        raise ValueError(f"chỉ số đáp án bị lặp: {', '.join(map(str, duplicates))}")


def _check_count(correct: list[int], n_options: int, multi: bool) -> None:
    """A Telegram quiz has one answer; several only when the question asks to pick them all."""
    if not multi and len(correct) != 1:
        raise ValueError(
            f"có {len(correct)} đáp án đúng nhưng câu hỏi chỉ được có một đáp án đúng "
            f"(muốn nhiều đáp án thì câu hỏi phải ghi “{ASK_ALL} các ý đúng”)"
        )
    if multi and len(correct) < 2:
        raise ValueError(f"câu “{ASK_ALL}” cần ít nhất 2 đáp án đúng, hiện có {len(correct)}")
    if multi and len(correct) >= n_options:
        raise ValueError(f"câu “{ASK_ALL}” cần ít nhất 1 phương án sai")


class QuizBank(_Model):
    topic: Slug
    questions: list[Question]


class QuizRule(_Model):
    topic: Slug
    questions: Annotated[Int, Field(ge=1, le=50)] = 10
    time_limit_minutes: Annotated[Int, Field(ge=1, le=240)] | None = None
    attempts: Annotated[Int, Field(ge=1)] | None = None
    period: Literal["day", "week", "month", "campaign"] = "campaign"
    pass_percent: Annotated[Int, Field(ge=1, le=100)] = 80


def _day(value: datetime.date) -> str:
    return f"{value:%d/%m/%Y}"


class Reminders(_Model):
    """Deadline reminders to members who have not submitted: days before the last day, at a time."""

    days_before: list[Annotated[Int, Field(ge=0, le=60)]] = [7, 3, 1]
    at: datetime.time = datetime.time(8, 0)  # local time; write it quoted: "08:00"

    @field_validator("days_before")
    @classmethod
    def _distinct(cls, days: list[int]) -> list[int]:
        if len(set(days)) != len(days):
            raise ValueError("các ngày nhắc bị lặp")
        return sorted(days, reverse=True)


class ReportDeadline(_Model):
    """A report officers owe their superiors (e.g. 6-month and 1-year), reminded beforehand."""

    name: Annotated[str, _text(120)]
    due: datetime.date  # the last day
    remind_days_before: list[Annotated[Int, Field(ge=0, le=60)]] = [7, 1]


class PledgeRule(_Model):
    """When the campaign's pledges are due and when the year-end self-assessment is open."""

    submit_before: datetime.date  # "trước ngày 10/4": on time until 09/04 23:59:59 local time
    late_allowed: Bool = True  # after the deadline: submit marked late (True) or closed (False)
    assessment_opens: datetime.date | None = None  # the self-assessment opens on this day
    assessment_closes: datetime.date | None = None  # inclusive last day; None: never closes
    reminders: Reminders = Reminders()

    @field_validator("assessment_opens")
    @classmethod
    def _opens_after_deadline(
        cls, opens: datetime.date | None, info: ValidationInfo
    ) -> datetime.date | None:
        deadline = info.data.get("submit_before")
        if opens is not None and deadline is not None and opens <= deadline:
            raise ValueError(
                f"ngày mở tự đánh giá ({_day(opens)}) phải sau hạn nộp bản đăng ký "
                f"submit_before ({_day(deadline)})"
            )
        return opens

    @field_validator("assessment_closes")
    @classmethod
    def _closes_after_opening(
        cls, closes: datetime.date | None, info: ValidationInfo
    ) -> datetime.date | None:
        if closes is None or "assessment_opens" not in info.data:
            return closes  # an invalid assessment_opens is reported on its own line
        opens = info.data["assessment_opens"]
        if opens is None:
            raise ValueError("có ngày đóng tự đánh giá thì phải có assessment_opens (ngày mở)")
        if closes < opens:
            raise ValueError(
                f"ngày đóng tự đánh giá ({_day(closes)}) không được trước ngày mở "
                f"assessment_opens ({_day(opens)})"
            )
        return closes


class Campaign(_Model):
    id: Slug
    year: Int
    root_unit: Annotated[str, _text(60)] | None = None
    topic: Slug
    quizzes: list[QuizRule]
    pledge: PledgeRule | None = None  # None: this campaign collects no pledges
    reports: list[ReportDeadline] = []  # officers are reminded of these


class CampaignsFile(_Model):
    campaigns: list[Campaign]


class Suggestion(_Model):
    """A ready-made commitment the member can tick in one section of the pledge."""

    id: Slug
    section: SectionId
    groups: list[GroupId] | None = None  # None: every member group
    topics: list[Slug] | None = None  # None: whatever the campaign's yearly topic
    text: Annotated[str, _text(300)]
    source: SourceRef

    def applies(self, *, group: str, topic: str | None) -> bool:
        return pledgebook.applies(self.groups, self.topics, group=group, topic=topic)

    @field_validator("groups")
    @classmethod
    def _valid_groups(cls, groups: list[str] | None, info: ValidationInfo) -> list[str] | None:
        if groups is None:
            return None
        _check_list(groups, "nhóm", "mọi nhóm đoàn viên")
        others = [g for g in groups if g not in EXAMPLE_GROUPS]
        if info.data.get("section") == "example" and others:
            raise ValueError(
                f"mục nêu gương (example) chỉ dành cho {' và '.join(sorted(EXAMPLE_GROUPS))}; "
                f"bỏ {', '.join(others)}"
            )
        return groups

    @field_validator("topics")
    @classmethod
    def _valid_topics(cls, topics: list[str] | None) -> list[str] | None:
        if topics is not None:
            _check_list(topics, "chủ đề", "mọi chủ đề")
        return topics

    @field_validator("source")
    @classmethod
    def _quote_required(cls, source: SourceRef) -> SourceRef:
        if source.quote is None:
            raise ValueError("gợi ý phải có quote: đoạn trích nguyên văn làm căn cứ cho gợi ý")
        return source


def _check_list(values: list[str], what: str, omitted: str) -> None:
    if not values:
        raise ValueError(f"danh sách {what} rỗng; muốn áp dụng cho {omitted} thì bỏ hẳn dòng này")
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"{what} bị lặp: {', '.join(duplicates)}")


class RatingLevel(_Model):
    id: Slug
    label: Annotated[str, _text(100)]
    min_percent: Annotated[Int, Field(ge=0, le=100)]
    max_not_done: Annotated[Int, Field(ge=0)] | None = None  # at most this many "not done"


def _default_levels() -> list[RatingLevel]:
    return [
        RatingLevel(id=i, label=label, min_percent=low, max_not_done=most)
        for i, label, low, most in DEFAULT_LEVELS
    ]


class RatingRule(_Model):
    """Points per result, and the levels proposed from the percentage of the maximum."""

    points: dict[str, Annotated[Int, Field(ge=0)]] = Field(
        default_factory=lambda: dict(DEFAULT_POINTS)
    )
    levels: list[RatingLevel] = Field(default_factory=_default_levels, min_length=1)

    def percent(self, results: list[str]) -> int:
        """Rounded-down percent of the maximum points; 0 for no commitments."""
        return pledgebook.percent(self.points, results)

    def rate(self, results: list[str]) -> RatingLevel:
        """The first level, from the top, whose conditions hold."""
        return pledgebook.first_level(self.levels, self.percent(results), results.count("not_done"))


class PledgeBook(_Model):
    """content/pledges.yaml: the suggestions offered per section, and the rating rule."""

    suggestions: list[Suggestion] = []
    rating: RatingRule = Field(default_factory=RatingRule)

    def for_section(self, section: str, *, group: str, topic: str | None) -> list[Suggestion]:
        """This section's suggestions for this group and yearly topic, in file order."""
        if section not in pledgebook.sections_for(group):
            return []
        return [
            s
            for s in self.suggestions
            if s.section == section and s.applies(group=group, topic=topic)
        ]


class _PledgesShell(_Model):
    """The pledges file's outline: suggestions are validated one by one."""

    suggestions: list[Any] = []
    rating: Any = None


class _BankShell(_Model):
    """A bank's outline: questions are validated one by one, so a bad one drops only itself."""

    topic: Slug
    questions: list[Any]


class _CampaignsShell(_Model):
    """The campaigns file's outline: campaigns are validated one by one."""

    campaigns: list[Any]


# --- catalog ----------------------------------------------------------------------------------


@dataclass
class Catalog:
    topics: dict[str, Topic] = field(default_factory=dict)
    banks: dict[str, list[Question]] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)
    pledges: PledgeBook = field(default_factory=PledgeBook)

    def campaign_for(self, root_unit_code: str | None, year: int) -> Campaign | None:
        """The campaign of this tree and year; else its latest earlier one; else a shared one."""
        roots = (root_unit_code, None) if root_unit_code is not None else (None,)
        for root in roots:
            earlier = [c for c in self.campaigns if c.root_unit == root and c.year <= year]
            if earlier:
                return max(earlier, key=lambda c: c.year)
        return None


@dataclass(frozen=True)
class _Origin:
    """Where something was first defined, to name it when a duplicate turns up."""

    path: Path
    line: int

    def where(self, root: Path) -> str:
        try:
            name = self.path.relative_to(root).as_posix()
        except ValueError:
            name = self.path.name
        return f"{name}:{self.line}"


class _Seeds:
    """Seed documents, read once and normalised the way quotes are compared."""

    def __init__(self, root: Path):
        self.root = root
        self._texts: dict[str, str | None] = {}

    def text(self, name: str) -> str | None:
        if name not in self._texts:
            path = self.root / name
            ok = Path(name).name == name and path.is_file()
            raw = path.read_text(encoding="utf-8", errors="replace") if ok else None
            self._texts[name] = None if raw is None else _squash(raw)
        return self._texts[name]


def _squash(text: str) -> str:
    """Quotes may differ from the seed only in whitespace runs (line breaks, double spaces)."""
    return " ".join(nfc(text).split())


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
                self.add(doc, loc, f"{_where(loc)}: {_explain(err)}" if loc else _explain(err))
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
            line, value = _bad_date(path)
            message = f"YAML không hợp lệ: {exc}"
            if value is not None:
                message = f"ngày không hợp lệ “{value}”: không có ngày này trong lịch"
            self.problems.append(Problem(path, line, message))
            return None
        for loc, text in _strings(doc.data, ()):
            if nfc(text) != text:
                where = _where(loc) or "nội dung"
                self.add(doc, loc, f"{where}: văn bản chưa chuẩn hóa Unicode NFC")
        return doc


@dataclass
class _Loader(ContentReader):
    content_dir: Path
    seeds: _Seeds
    catalog: Catalog = field(default_factory=Catalog)
    problems: list[Problem] = field(default_factory=list)
    declared_topics: set[str] = field(default_factory=set)
    topic_origin: dict[str, _Origin] = field(default_factory=dict)
    question_origin: dict[str, _Origin] = field(default_factory=dict)
    bank_origin: dict[str, _Origin] = field(default_factory=dict)
    bank_size: dict[str, int] = field(default_factory=dict)
    broken_banks: set[str] = field(default_factory=set)

    def dup(self, what: str, origin: _Origin) -> str:
        return f"{what} trùng với {origin.where(self.content_dir)}"

    # topics

    def declare_topics(self, docs: dict[Path, YamlDoc | None]) -> None:
        """Every topic a file stands for, even a broken one, so its bank is not reported orphan."""
        for path, doc in docs.items():
            data = doc.data if doc is not None else None
            raw_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(raw_id, str) and _SLUG.fullmatch(raw_id):
                self.declared_topics.add(raw_id)
            else:
                self.declared_topics.add(path.stem)

    def load_topic(self, doc: YamlDoc) -> None:
        topic = self.validate(doc, Topic, doc.data, ())
        if topic is None:
            return
        origin = _Origin(doc.path, doc.line(("id",)))
        if topic.id in self.topic_origin:
            first = self.topic_origin[topic.id]
            self.add(doc, ("id",), self.dup(f"mã chủ đề “{topic.id}”", first))
            return
        self.topic_origin[topic.id] = origin
        self.check_seed(doc, topic.seed)
        self.check_sections(doc, topic)
        for i, key_date in enumerate(topic.key_dates):
            self.check_source(doc, ("key_dates", i, "source"), key_date.source)
        self.catalog.topics[topic.id] = topic

    def check_seed(self, doc: YamlDoc, seed: str) -> None:
        if self.seeds.text(seed) is None:
            self.add(doc, ("seed",), f"không tìm thấy tệp văn bản gốc “{seed}” trong {self.where}")

    def check_sections(self, doc: YamlDoc, topic: Topic) -> None:
        first_line: dict[str, int] = {}
        for i, section in enumerate(topic.sections):
            loc: Loc = ("sections", i, "id")
            if section.id in first_line:
                self.add(
                    doc, loc, f"mã mục “{section.id}” trùng với mục ở dòng {first_line[section.id]}"
                )
            else:
                first_line[section.id] = doc.line(loc)
            self.check_source(doc, ("sections", i, "source"), section.source)

    # quiz banks

    def load_bank(self, doc: YamlDoc) -> None:
        shell = self.validate(doc, _BankShell, doc.data, ())
        if shell is None:
            self.broken_banks.add(doc.path.stem)
            return
        if shell.topic not in self.declared_topics:
            self.add(doc, ("topic",), f"chủ đề “{shell.topic}” không có tệp trong topics/")
        if shell.topic in self.bank_origin:
            first = self.bank_origin[shell.topic]
            self.add(doc, ("topic",), self.dup(f"bộ câu hỏi của chủ đề “{shell.topic}”", first))
            return
        self.bank_origin[shell.topic] = _Origin(doc.path, doc.line(("topic",)))
        self.bank_size[shell.topic] = len(shell.questions)
        bank = self.catalog.banks.setdefault(shell.topic, [])
        for i, raw in enumerate(shell.questions):
            question = self.validate(doc, Question, raw, ("questions", i))
            if question is not None and self.accept_question(doc, i, question):
                bank.append(question)
                self.catalog.questions[question.id] = question

    def accept_question(self, doc: YamlDoc, i: int, question: Question) -> bool:
        loc: Loc = ("questions", i, "id")
        if question.id in self.question_origin:
            first = self.question_origin[question.id]
            self.add(doc, loc, self.dup(f"mã câu hỏi “{question.id}”", first))
            return False
        self.question_origin[question.id] = _Origin(doc.path, doc.line(loc))
        self.check_source(doc, ("questions", i, "source"), question.source)
        return True

    # sources

    @property
    def where(self) -> str:
        return f"thư mục {self.seeds.root.name}/"

    def check_source(self, doc: YamlDoc, loc: Loc, source: SourceRef) -> None:
        seed = self.seeds.text(source.file)
        if seed is None:
            message = f"không tìm thấy tệp văn bản gốc “{source.file}” trong {self.where}"
            self.add(doc, (*loc, "file"), message)
            return
        if source.quote is not None and _squash(source.quote) not in seed:
            message = f"trích dẫn không có nguyên văn trong “{source.file}”"
            self.add(doc, (*loc, "quote"), message + _mismatch_hint(_squash(source.quote), seed))

    # campaigns

    def load_campaigns(self, doc: YamlDoc) -> None:
        shell = self.validate(doc, _CampaignsShell, doc.data, ())
        if shell is None:
            return
        ids: dict[str, int] = {}
        trees: dict[tuple[str | None, int], int] = {}
        for i, raw in enumerate(shell.campaigns):
            campaign = self.validate(doc, Campaign, raw, ("campaigns", i))
            if campaign is None:
                continue
            line = doc.line(("campaigns", i))
            if campaign.id in ids:
                message = f"mã đợt “{campaign.id}” trùng với đợt ở dòng {ids[campaign.id]}"
                self.add(doc, ("campaigns", i, "id"), message)
                continue
            ids[campaign.id] = line
            tree = (campaign.root_unit, campaign.year)
            if tree in trees:
                who = campaign.root_unit or "mọi đơn vị (không có root_unit)"
                message = f"đã có đợt cho {who} năm {campaign.year} ở dòng {trees[tree]}"
                self.add(doc, ("campaigns", i), message)
                continue
            trees[tree] = line
            self.check_campaign(doc, i, campaign)
            self.catalog.campaigns.append(campaign)

    def check_campaign(self, doc: YamlDoc, i: int, campaign: Campaign) -> None:
        if campaign.topic not in self.declared_topics:
            message = f"chủ đề “{campaign.topic}” không có tệp trong topics/"
            self.add(doc, ("campaigns", i, "topic"), message)
        for j, rule in enumerate(campaign.quizzes):
            loc: Loc = ("campaigns", i, "quizzes", j)
            if rule.topic not in self.declared_topics:
                self.add(doc, (*loc, "topic"), f"chủ đề “{rule.topic}” không có tệp trong topics/")
                continue
            if rule.topic in self.broken_banks and rule.topic not in self.bank_size:
                continue  # its file is already reported as broken
            have = self.bank_size.get(rule.topic, 0)
            if rule.questions > have:
                message = (
                    f"yêu cầu {rule.questions} câu hỏi nhưng bộ câu hỏi của chủ đề "
                    f"“{rule.topic}” chỉ có {have} câu"
                )
                self.add(doc, (*loc, "questions"), message)

    # pledges

    def load_pledges(self, doc: YamlDoc) -> None:
        shell = self.validate(doc, _PledgesShell, doc.data, ())
        if shell is None:
            return
        book = self.catalog.pledges
        first_line: dict[str, int] = {}
        for i, raw in enumerate(shell.suggestions):
            suggestion = self.validate(doc, Suggestion, raw, ("suggestions", i))
            if suggestion is not None and self.accept_suggestion(doc, i, suggestion, first_line):
                book.suggestions.append(suggestion)
        if shell.rating is not None:
            rating = self.validate(doc, RatingRule, shell.rating, ("rating",))
            if rating is not None and self.accept_rating(doc, rating):
                book.rating = rating

    def accept_suggestion(
        self, doc: YamlDoc, i: int, suggestion: Suggestion, first_line: dict[str, int]
    ) -> bool:
        loc: Loc = ("suggestions", i)
        if suggestion.id in first_line:
            message = f"mã gợi ý “{suggestion.id}” trùng với gợi ý ở dòng "
            self.add(doc, (*loc, "id"), message + str(first_line[suggestion.id]))
            return False
        first_line[suggestion.id] = doc.line((*loc, "id"))
        before = len(self.problems)
        for j, topic in enumerate(suggestion.topics or []):
            if topic not in self.declared_topics:
                self.add(doc, (*loc, "topics", j), f"chủ đề “{topic}” không có tệp trong topics/")
        self.check_source(doc, (*loc, "source"), suggestion.source)
        return len(self.problems) == before

    def accept_rating(self, doc: YamlDoc, rating: RatingRule) -> bool:
        defects = pledgebook.rating_defects(rating.points, rating.levels)
        for loc, message in defects:
            self.add(doc, ("rating", *loc), f"{_where(('rating', *loc))}: {message}")
        return not defects


_DATE = re.compile(r"(?<![\w.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\w.:-])")


def _bad_date(path: Path) -> tuple[int, str | None]:
    """The line and text of the first date-looking value that is not a real day."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in _DATE.finditer(line.split("#", 1)[0]):
            try:
                datetime.date(*map(int, match.groups()))
            except ValueError:
                return number, match.group()
    return 1, None


def _strings(data: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    """Every string in a parsed YAML document, with its path."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, (*loc, index))


def _where(loc: Loc) -> str:
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


def _explain(err: ErrorDetails) -> str:
    """One pydantic error in Vietnamese; our own validators already speak it."""
    kind = err["type"]
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind.startswith("date"):
        return f"ngày không hợp lệ “{err['input']}”: cần dạng YYYY-MM-DD, ví dụ 2024-03-31"
    if kind in _MESSAGES:
        return _MESSAGES[kind](dict(err.get("ctx") or {}))
    return f"giá trị không hợp lệ ({err['msg']})"


def _mismatch_hint(quote: str, seed: str) -> str:
    """Name the point where the quote leaves the seed, so the author can fix it quickly."""
    low, high = 0, len(quote)  # the longest prefix found in the seed is quote[:n], low <= n <= high
    while low < high:
        mid = (low + high + 1) // 2
        if quote[:mid] in seed:
            low = mid
        else:
            high = mid - 1
    if low == 0:
        return ""
    head = ("…" if low > 30 else "") + quote[max(0, low - 30) : low]
    tail = quote[low : low + 30] + ("…" if len(quote) > low + 30 else "")
    return f"; khớp đến “{head}”, lệch từ “{tail}”"


def load_catalog(content_dir: Path, seeds_dir: Path | None = None) -> tuple[Catalog, list[Problem]]:
    """Load topics, banks, campaigns and pledge suggestions; every defect is returned as a Problem,
    never raised. campaigns.yaml and pledges.yaml are optional: without them, no campaigns, and no
    suggestions with the default rating rule."""
    loader = _Loader(content_dir, _Seeds(seeds_dir or content_dir / "seeds"))
    topic_docs = {p: loader.read(p) for p in sorted((content_dir / "topics").glob("*.yaml"))}
    loader.declare_topics(topic_docs)
    for doc in topic_docs.values():
        if doc is not None:
            loader.load_topic(doc)
    for path in sorted((content_dir / "quizzes").glob("*.yaml")):
        doc = loader.read(path)
        if doc is None:
            loader.broken_banks.add(path.stem)
        else:
            loader.load_bank(doc)
    campaigns = content_dir / "campaigns.yaml"
    if campaigns.is_file():
        doc = loader.read(campaigns)
        if doc is not None and doc.data is not None:
            loader.load_campaigns(doc)
    pledges = content_dir / "pledges.yaml"
    if pledges.is_file():
        doc = loader.read(pledges)
        if doc is not None and doc.data is not None:
            loader.load_pledges(doc)
    problems = sorted(loader.problems, key=lambda p: (str(p.file), p.line))
    return loader.catalog, problems
