"""Study topics and their quiz banks, as read from content/topics/ and content/quizzes/."""

from __future__ import annotations

import datetime
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from bot.contentmodel import Int, Name, Slug, StrictModel, text_field
from bot.textutil import nfc

TELEGRAM = " (giới hạn của Telegram)"
ASK_ALL = "chọn tất cả"

QuestionText = Annotated[str, text_field(300, TELEGRAM)]
OptionText = Annotated[str, text_field(100, TELEGRAM)]
Explanation = Annotated[str, text_field(200, TELEGRAM)]


class SourceRef(StrictModel):
    file: Name
    section: Name
    quote: Annotated[str, text_field()] | None = None


class Section(StrictModel):
    id: Slug
    title: Annotated[str, text_field(80)]
    body: Annotated[str, text_field(1200)]
    source: SourceRef


class KeyDate(StrictModel):
    date: datetime.date
    what: Name
    source: SourceRef


class Topic(StrictModel):
    id: Slug
    short_title: Annotated[str, text_field(40, " (nhãn nút bấm)")]
    title: Annotated[str, text_field(300)]
    years: list[Int]
    issuer: Name
    document: Name
    seed: Name
    key_dates: list[KeyDate] = Field(default_factory=list)
    sections: list[Section] = Field(min_length=1)


def asks_all(text: str) -> bool:
    """Only a question that says "chọn tất cả" may have several correct options."""
    return ASK_ALL in nfc(text).casefold()


class Question(StrictModel):
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


class QuizBank(StrictModel):
    topic: Slug
    questions: list[Question]
