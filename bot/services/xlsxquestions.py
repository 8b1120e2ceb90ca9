"""Quiz questions in Excel (issue 13): the template officers fill, the same sheet for an existing
bank, and the reading back of a filled sheet with every problem named by row and column. Rows are
checked with the rules of the YAML banks (bot/catalog.py `Question`), and each quote must be
found in the topic's document (whitespace and Unicode normalized)."""

from __future__ import annotations

import difflib
import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.contentmodel import explain_error
from bot.services.docimport import normalized
from bot.textutil import QUOTE_MATCHING, fold, nfc
from bot.topics import Question
from bot.typos import Typo, find

LETTERS = "ABCDEF"
HEADERS = (
    "Mã (không bắt buộc)",
    "Câu hỏi",
    "A",
    "B",
    "C",
    "D",
    "E",
    "F",
    "Đáp án đúng",
    "Giải thích",
    "Trích dẫn",
    "Mục",
)
SHEET = "Câu hỏi"
GUIDE = "Hướng dẫn"
MAX_ROWS = 500
_COLUMN = {"id": 0, "text": 1, "options": 2, "correct": 8, "explanation": 9, "quote": 10}
_PROVINCES = (
    "An Giang",
    "Bắc Kạn",
    "Bắc Giang",
    "Bắc Ninh",
    "Bình Định",
    "Bình Thuận",
    "Cà Mau",
    "Cao Bằng",
    "Đà Nẵng",
    "Đắk Lắk",
    "Điện Biên",
    "Đồng Nai",
    "Đồng Tháp",
    "Gia Lai",
    "Hà Nội",
    "Hà Tĩnh",
    "Hải Phòng",
    "Huế",
    "Hưng Yên",
    "Khánh Hòa",
    "Lai Châu",
    "Lạng Sơn",
    "Lào Cai",
    "Lâm Đồng",
    "Nghệ An",
    "Ninh Bình",
    "Phú Thọ",
    "Quảng Ngãi",
    "Quảng Ninh",
    "Quảng Trị",
    "Sơn La",
    "Tây Ninh",
    "Thái Nguyên",
    "Thanh Hóa",
    "Tuyên Quang",
    "Vĩnh Long",
    "Cần Thơ",
    "Thành phố Hồ Chí Minh",
    "TP. Hồ Chí Minh",
    "TP Hồ Chí Minh",
)  # fmt: skip (the bare "Hồ Chí Minh" is Bác's name, in every topic)


@dataclass
class Problem:
    row: int  # the sheet's row number, as Excel shows it
    column: str  # the header of the column
    message: str

    def __str__(self) -> str:
        return f"Dòng {self.row}, cột {self.column}: {self.message}"


@dataclass
class Imported:
    questions: list[tuple[int, Question]] = field(default_factory=list)  # (row, question)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}

    def good(self) -> list[Question]:
        return [q for row, q in self.questions if row not in self.bad_rows]


class SheetError(ValueError):
    """The file is not a sheet the bot can read at all (not XLSX, no question sheet)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- writing --------------------------------------------------------------------------------------


def template(example: Question | None = None) -> bytes:
    """The empty template: the header row, one example row, validation of the answer column,
    and a sheet of instructions in Vietnamese."""
    return _workbook([example] if example is not None else [], example_only=example is not None)


def export(questions: Sequence[Question]) -> bytes:
    """A bank as the same sheet, so officers edit what exists and import it back."""
    return _workbook(list(questions), example_only=False)


def _workbook(questions: list[Question], *, example_only: bool) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = SHEET
    sheet.append(list(HEADERS))
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for cell in sheet[1]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for question in questions:
        sheet.append(_row(question))
    if example_only:
        for cell in sheet[2]:
            cell.font = Font(italic=True, color="666666")
    widths = (12, 50, 28, 28, 28, 28, 20, 20, 12, 40, 50, 10)
    for n, width in enumerate(widths, 1):
        sheet.column_dimensions[chr(64 + n)].width = width
    sheet.freeze_panes = "C2"
    answer = DataValidation(
        type="custom",
        formula1=(
            "AND(LEN(TRIM(I2))>0,LEN(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(SUBSTITUTE("
            'SUBSTITUTE(SUBSTITUTE(SUBSTITUTE(UPPER(I2),"A",""),"B",""),"C",""),"D",""),"E",""),'
            '"F",""),",","")," ",""))=0)'
        ),
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Đáp án đúng",
        error="Chỉ gõ chữ cái A–F; câu “chọn tất cả các ý đúng” gõ nhiều chữ, cách nhau dấu phẩy.",
        promptTitle="Đáp án đúng",
        prompt="Ví dụ: B. Câu nhiều đáp án: A, C",
        showInputMessage=True,
    )
    answer.add(f"I2:I{MAX_ROWS + 1}")
    sheet.add_data_validation(answer)
    lengths = DataValidation(
        type="textLength",
        operator="lessThanOrEqual",
        formula1="300",
        showErrorMessage=True,
        error="Câu hỏi tối đa 300 ký tự.",
    )
    lengths.add(f"B2:B{MAX_ROWS + 1}")
    sheet.add_data_validation(lengths)
    guide = book.create_sheet(GUIDE)
    guide.column_dimensions["A"].width = 110
    for line in _GUIDE_LINES:
        guide.append([line])
        guide.cell(row=guide.max_row, column=1).alignment = Alignment(wrap_text=True)
    guide["A1"].font = Font(bold=True, size=13)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


_GUIDE_LINES = (
    "HƯỚNG DẪN NHẬP CÂU HỎI THI TÌM HIỂU",
    "Mỗi dòng của trang “Câu hỏi” là một câu hỏi. Dòng 2 là ví dụ: sửa hoặc xóa trước khi gửi.",
    "• Mã: để trống thì Trợ lý tự đặt. Gửi lại cùng tệp sẽ cập nhật các câu đã có, không tạo "
    "câu trùng.",
    "• Câu hỏi: tối đa 300 ký tự. Câu có nhiều đáp án đúng phải ghi rõ “chọn tất cả các ý đúng”.",
    "• A … F: từ 2 đến 6 phương án, mỗi phương án tối đa 100 ký tự, không bỏ trống ở giữa.",
    "• Đáp án đúng: chữ cái của phương án đúng, ví dụ B. Câu nhiều đáp án: A, C.",
    "• Giải thích: tối đa 200 ký tự; đoàn viên đọc sau khi trả lời.",
    "• Trích dẫn: chép nguyên văn đoạn trong tài liệu chuyên đề có chứa đáp án (không cần giữ "
    "xuống dòng). Trợ lý kiểm tra đoạn này có trong tài liệu.",
    "• Mục: số mục của tài liệu, ví dụ II.1 (không bắt buộc).",
    "Nên để độ dài các phương án tương đương nhau: nếu đáp án đúng luôn dài nhất, người thi "
    "đoán được mà không cần học.",
    "Gửi tệp cho Trợ lý: /chuyende → chọn chuyên đề → “Nhập câu hỏi từ Excel”.",
)


def _row(question: Question) -> list[Any]:
    options = list(question.options) + [""] * (6 - len(question.options))
    correct = ", ".join(LETTERS[i] for i in question.correct)
    quote = question.source.quote or ""
    return [question.id, question.text, *options, correct, question.explanation, quote,
            question.source.section]  # fmt: skip


# -- reading --------------------------------------------------------------------------------------


def read(
    data: bytes,
    *,
    topic_id: str,
    document: str,
    source_name: str,
    bank: Sequence[Question] = (),
    province: str | None = None,
    typos: Sequence[Typo] = (),
) -> Imported:
    """Every row checked; problems by row and column; nothing is decided here about importing.
    typos: the known typos of the sources, refused outside the quote (content/typos.yaml)."""
    rows = _rows(data)
    doc = normalized(document)
    out = Imported()
    seen_text: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    for number, values in rows:
        if not any(str(v or "").strip() for v in values):
            continue
        question = _question(number, values, topic_id, source_name, out)
        if question is None:
            continue
        key = fold(question.text)
        if key in seen_text:
            out.problems.append(
                Problem(number, "Câu hỏi", f"trùng với câu hỏi ở dòng {seen_text[key]}")
            )
        seen_text.setdefault(key, number)
        if question.id in seen_ids:
            out.problems.append(
                Problem(number, "Mã", f"trùng với mã ở dòng {seen_ids[question.id]}")
            )
        seen_ids.setdefault(question.id, number)
        out.problems += _typos(number, question, typos)
        quote = question.source.quote or ""
        if quote and normalized(quote) not in doc:
            out.problems.append(
                Problem(
                    number,
                    "Trích dẫn",
                    "không tìm thấy nguyên văn trong tài liệu của chuyên đề"
                    + _where_it_differs(normalized(quote), doc)
                    + f" ({QUOTE_MATCHING})",
                )
            )
        out.questions.append((number, question))
    out.warnings += fairness([q for _, q in out.questions], province=province, bank=bank)
    return out


def _rows(data: bytes) -> list[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    if not data.startswith(b"PK\x03\x04"):
        raise SheetError("type")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # a broken or foreign file: openpyxl raises many kinds
        raise SheetError("broken") from exc
    sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
    rows = list(sheet.iter_rows(min_row=1, max_row=MAX_ROWS + 2, values_only=True))
    book.close()
    if not rows or fold(str(rows[0][1] or "")) != fold(HEADERS[1]):
        raise SheetError("headers")
    return [(n, list(r) + [None] * (len(HEADERS) - len(r))) for n, r in enumerate(rows[1:], 2)]


def _cell(values: list[Any], index: int) -> str:
    value = values[index] if index < len(values) else None
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value)).strip()


def _question(
    number: int, values: list[Any], topic_id: str, source_name: str, out: Imported
) -> Question | None:
    text = _cell(values, _COLUMN["text"])
    options = [_cell(values, _COLUMN["options"] + i) for i in range(6)]
    while options and not options[-1]:
        options.pop()
    if "" in options:
        gap = LETTERS[options.index("")]
        out.problems.append(Problem(number, gap, "bỏ trống giữa các phương án"))
        return None
    letters = [p for p in re.split(r"[\s,;/]+", _cell(values, _COLUMN["correct"]).upper()) if p]
    wrong = [p for p in letters if p not in LETTERS[: len(options)]]
    if not letters or wrong:
        if not letters:
            message = "chưa có đáp án đúng"
        elif not options:
            message = "chưa có phương án nào"
        else:
            last = LETTERS[len(options) - 1]
            message = f"“{', '.join(wrong)}” không phải chữ cái của một phương án (A–{last})"
        out.problems.append(Problem(number, "Đáp án đúng", message))
        return None
    raw = {
        "id": _cell(values, _COLUMN["id"]) or _made_id(topic_id, text),
        "text": text,
        "options": options,
        "correct": sorted({LETTERS.index(p) for p in letters}),
        "explanation": _cell(values, _COLUMN["explanation"]),
        "source": {
            "file": source_name,
            "section": _cell(values, 11) or "—",
            "quote": _cell(values, _COLUMN["quote"]),
        },
    }
    try:
        return Question.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors():
            out.problems.append(Problem(number, _column_of(err["loc"]), explain_error(err)))
        return None


def _typos(number: int, question: Question, typos: Sequence[Typo]) -> list[Problem]:
    """A known typo of the sources in the question, an option or the explanation."""
    cells = [
        ("Câu hỏi", question.text),
        *zip(LETTERS, question.options, strict=False),
        ("Giải thích", question.explanation),
    ]
    return [Problem(number, col, f.message()) for col, text in cells for f in find(text, typos)]


def _made_id(topic_id: str, text: str) -> str:
    """An id for a row without one, from its question: the same file imported twice gives the
    same ids, so it updates instead of adding the questions again."""
    digest = hashlib.sha1(fold(text).encode(), usedforsecurity=False).hexdigest()[:8]
    return f"{topic_id[:40]}-{digest}"


def _column_of(loc: tuple[Any, ...]) -> str:
    names = {"id": "Mã", "text": "Câu hỏi", "correct": "Đáp án đúng", "explanation": "Giải thích"}
    if loc and loc[0] == "options":
        return LETTERS[loc[1]] if len(loc) > 1 and isinstance(loc[1], int) else "A … F"
    if loc and loc[0] == "source":
        return "Trích dẫn" if "quote" in loc else "Mục"
    return names.get(str(loc[0]) if loc else "", "?")


def _where_it_differs(quote: str, document: str) -> str:
    low, high = 0, len(quote)
    while low < high:
        mid = (low + high + 1) // 2
        if quote[:mid] in document:
            low = mid
        else:
            high = mid - 1
    if low < 10:
        return ""
    return f" (khớp đến “…{quote[max(0, low - 25) : low]}”, lệch từ “{quote[low : low + 25]}…”)"


# -- fairness -------------------------------------------------------------------------------------


def fairness(
    questions: Sequence[Question], *, province: str | None = None, bank: Sequence[Question] = ()
) -> list[str]:
    """Warnings, not refusals: answers that give themselves away by length, other provinces'
    trivia, near-duplicate questions."""
    out: list[str] = []
    single = [q for q in questions if not q.multiple]
    longest = [q for q in single if _longest_is_correct(q)]
    if len(single) >= 5 and len(longest) > 0.4 * len(single):
        out.append(
            f"Đáp án đúng dài nhất ở {len(longest)}/{len(single)} câu một đáp án: người thi "
            "đoán được mà không cần học. Nên viết các phương án dài tương đương."
        )
    for q in questions:
        named = [p for p in _PROVINCES if p in q.text and p != province]
        if named:
            out.append(
                f"Câu “{q.text[:50]}…” nhắc tới {', '.join(named)}: có đúng với đơn vị không?"
            )
    everything = [*bank, *questions]
    folded = [(q, fold(q.text)) for q in everything]
    for i, (a, fa) in enumerate(folded):
        for b, fb in folded[i + 1 :]:
            if a.id != b.id and fa != fb and difflib.SequenceMatcher(None, fa, fb).ratio() > 0.9:
                out.append(f"Hai câu gần giống nhau: “{a.text[:40]}…” và “{b.text[:40]}…”")
    return out


def _longest_is_correct(question: Question) -> bool:
    lengths = [len(o) for o in question.options]
    best = max(lengths)
    return lengths.count(best) == 1 and lengths.index(best) in question.correct
