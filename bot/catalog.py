"""Topics, quiz banks, plan presets and pledge suggestions from content/: typed, cross-checked,
defects at file:line. The models live in bot.topics, bot.campaign and bot.suggestions (and are
re-exported here); this module reads and cross-checks the files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field

from bot import pledgebook, typos
from bot.campaign import (
    Campaign,
    CampaignsFile,
    PledgeRule,
    QuizRule,
    Reminders,
    ReportDeadline,
)
from bot.contentmodel import SLUG, ContentReader, Slug, StrictModel, loc_path
from bot.suggestions import PledgeBook, RatingLevel, RatingRule, Suggestion
from bot.textutil import QUOTE_MATCHING, nfc
from bot.topics import KeyDate, Question, QuizBank, Section, SourceRef, Topic, asks_all
from bot.typos import Typo
from bot.yamlfile import Loc, Problem, YamlDoc

__all__ = [
    "Campaign",
    "CampaignsFile",
    "Catalog",
    "KeyDate",
    "PledgeBook",
    "PledgeRule",
    "Question",
    "QuizBank",
    "QuizRule",
    "RatingLevel",
    "RatingRule",
    "Reminders",
    "ReportDeadline",
    "Section",
    "SourceRef",
    "Suggestion",
    "Topic",
    "asks_all",
    "load_catalog",
]


class _PledgesShell(StrictModel):
    """The pledges file's outline: suggestions are validated one by one."""

    suggestions: list[Any] = Field(default_factory=list)
    rating: Any = None


class _BankShell(StrictModel):
    """A bank's outline: questions are validated one by one, so a bad one drops only itself."""

    topic: Slug
    questions: list[Any]


class _CampaignsShell(StrictModel):
    """The campaigns file's outline: campaigns are validated one by one."""

    campaigns: list[Any]


# --- catalog ----------------------------------------------------------------------------------


@dataclass
class Catalog:
    topics: dict[str, Topic] = field(default_factory=dict)
    banks: dict[str, list[Question]] = field(default_factory=dict)
    questions: dict[str, Question] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)  # presets of the yearly plans
    pledges: PledgeBook = field(default_factory=PledgeBook)


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
    known_typos: list[Typo] = field(default_factory=list)

    def dup(self, what: str, origin: _Origin) -> str:
        return f"{what} trùng với {origin.where(self.content_dir)}"

    # topics

    def declare_topics(self, docs: dict[Path, YamlDoc | None]) -> None:
        """Every topic a file stands for, even a broken one, so its bank is not reported orphan."""
        for path, doc in docs.items():
            data = doc.data if doc is not None else None
            raw_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(raw_id, str) and SLUG.fullmatch(raw_id):
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
            self.check_typos(doc, ("key_dates", i, "what"), key_date.what)
        self.check_typos(doc, ("title",), topic.title)
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
            self.check_typos(doc, ("sections", i, "title"), section.title)
            self.check_typos(doc, ("sections", i, "body"), section.body)

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
        self.check_typos(doc, ("questions", i, "text"), question.text)
        for j, option in enumerate(question.options):
            self.check_typos(doc, ("questions", i, "options", j), option)
        self.check_typos(doc, ("questions", i, "explanation"), question.explanation)
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
            hint = _mismatch_hint(_squash(source.quote), seed)
            self.add(doc, (*loc, "quote"), f"{message}{hint} ({QUOTE_MATCHING})")

    # known typos of the sources: a quote keeps them, nothing else repeats them

    def load_typos(self, path: Path) -> None:
        doc = self.read(path) if path.is_file() else None
        shell = self.validate(doc, typos.TyposFile, doc.data or {}, ()) if doc else None
        if doc is None or shell is None:
            return
        for i, typo in enumerate(shell.typos):
            seed = self.seeds.text(typo.source)
            if seed is None:
                message = f"không tìm thấy tệp văn bản gốc “{typo.source}” trong {self.where}"
                self.add(doc, ("typos", i, "source"), message)
            elif not typos.find(seed, [typo]):
                message = f"“{typo.wrong}” không có trong “{typo.source}”: lỗi này đã được sửa?"
                self.add(doc, ("typos", i, "wrong"), message)
        self.known_typos = shell.typos

    def check_typos(self, doc: YamlDoc, loc: Loc, text: str) -> None:
        for found in typos.find(text, self.known_typos):
            self.add(doc, loc, f"{loc_path(loc)}: {found.message()}")

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
        self.check_typos(doc, (*loc, "text"), suggestion.text)
        return len(self.problems) == before

    def accept_rating(self, doc: YamlDoc, rating: RatingRule) -> bool:
        defects = pledgebook.rating_defects(rating.points, rating.levels)
        for loc, message in defects:
            self.add(doc, ("rating", *loc), f"{loc_path(('rating', *loc))}: {message}")
        return not defects


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
    loader.load_typos(content_dir / typos.FILE)
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
