"""The yearly topic from the official document: the text of a DOCX (python-docx) or a PDF (pypdf),
and study sections proposed from its numbered headings ("I.", "1.", "1.1.", "a)"), each at most
1,200 characters and never cut in the middle of a sentence."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from bot.textutil import nfc

MAX_BYTES = 10 * 1024 * 1024
MIN_TEXT = 200  # characters: less than this in a PDF means scanned pages (no text layer)
SECTION_MAX = 1200
TITLE_MAX = 80
_HEADING = re.compile(
    r"^(?:(?P<roman>[IVXLC]{1,6})\.|(?P<num>\d{1,2}(?:\.\d{1,2}){0,3})\.?|(?P<letter>[a-zđ])\))"
    r"\s+(?P<rest>\S.*)$"
)
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+")


class DocumentError(ValueError):
    """The file cannot be a topic; `reason` names the text that says why (documents.<reason>)."""

    def __init__(self, reason: str, **values: object):
        super().__init__(reason)
        self.reason = reason
        self.values = values


@dataclass(frozen=True)
class Part:
    """A proposed study section: its title (the heading) and its body."""

    title: str
    body: str


def kind_of(data: bytes, filename: str = "") -> str:
    """ "docx" or "pdf" by the file's first bytes (not its name); "" for anything else."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return "docx"
        except zipfile.BadZipFile:
            return ""
    return ""


def paragraphs(data: bytes, filename: str = "") -> list[str]:
    """The document's text as paragraphs, in reading order (tables row by row), NFC."""
    if not data:
        raise DocumentError("empty")
    if len(data) > MAX_BYTES:
        raise DocumentError("too_big", size=_mb(len(data)), limit=_mb(MAX_BYTES))
    kind = kind_of(data, filename)
    if kind == "docx":
        found = _docx(data)
        if sum(len(p) for p in found) == 0:
            raise DocumentError("empty")
    elif kind == "pdf":
        found = _pdf(data)
        if sum(len(p) for p in found) < MIN_TEXT:
            raise DocumentError("scanned")
    else:
        raise DocumentError("type")
    return found


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f}".replace(".", ",")


def _clean(text: str) -> str:
    return " ".join(nfc(text).replace("\u00a0", " ").split())


def _docx(data: bytes) -> list[str]:
    from docx import Document
    from docx.oxml.ns import qn

    try:
        document = Document(io.BytesIO(data))
    except Exception as exc:  # a broken or foreign file: python-docx raises many kinds
        raise DocumentError("broken") from exc
    out: list[str] = []
    for block in document.element.body.iterchildren():
        if block.tag == qn("w:p"):
            text = "".join(node.text or "" for node in block.iter(qn("w:t")))
            if text.strip():
                out.append(_clean(text))
        elif block.tag == qn("w:tbl"):
            for row in block.iter(qn("w:tr")):
                cells = [
                    _clean("".join(t.text or "" for t in cell.iter(qn("w:t"))))
                    for cell in row.iter(qn("w:tc"))
                ]
                line = " | ".join(c for c in cells if c)
                if line:
                    out.append(line)
    return out


def _pdf(data: bytes) -> list[str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise DocumentError("broken") from exc
    out: list[str] = []
    current = ""
    for line in (raw.strip() for page in pages for raw in page.splitlines()):
        if not line:  # a blank line ends a paragraph
            if current:
                out.append(_clean(current))
            current = ""
            continue
        if current and (_is_heading(line) or _is_heading(current)):
            out.append(_clean(current))
            current = line
        else:
            current = f"{current} {line}" if current else line
        if re.search(r"[.!?:;…]$", line):  # a line that ends a sentence ends the paragraph
            out.append(_clean(current))
            current = ""
    if current:
        out.append(_clean(current))
    return [p for p in out if p]


def _is_heading(text: str) -> bool:
    """A numbered or all-capital short line: "I. MỤC ĐÍCH", "1.1. Học tập", "a) Nêu gương"."""
    if len(text) > 150:
        return False
    if _HEADING.match(text):
        return not re.search(r"[.;]$", text) or len(text) <= 60
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters) and len(text) <= 120


def propose(found: list[str]) -> list[Part]:
    """Study sections: one per heading, with what follows it up to the next heading; a body
    over 1,200 characters continues in a section of its own ("… (tiếp)"), split between
    paragraphs, or between sentences for one long paragraph; never in a word."""
    groups: list[tuple[str, list[str]]] = []
    part = ""  # the current "I.", "II." …: "1. Mục đích" under "II." is titled "II.1. Mục đích"
    for paragraph in found[front_matter(found) :]:
        if _is_heading(paragraph) or not groups:
            title = paragraph if _is_heading(paragraph) else ""
            numbered = _HEADING.match(title)
            if numbered and numbered.group("roman"):
                part = numbered.group("roman")
            elif numbered and part and (numbered.group("num") or "").isdigit():
                title = f"{part}.{numbered.group('num')}. {numbered.group('rest')}"
            groups.append((title, [] if title else [paragraph]))
        else:
            groups[-1][1].append(paragraph)
    parts: list[Part] = []
    for title, body in groups:
        if body:  # a heading with nothing under it (e.g. "II. NỘI DUNG" before "1.") has none
            parts += sections_of(_title(title) if title else "Mở đầu", body)
    return parts


def front_matter(found: list[str]) -> int:
    """How many paragraphs open the document before its content: the issuer, the national
    motto, the number and date, the title, all short lines before the first numbered heading.
    A long paragraph there is an introduction, and is content."""
    first = next((n for n, p in enumerate(found) if _HEADING.match(p)), 0)
    n = 0
    while n < first and len(found[n]) <= 200:
        n += 1
    return n


def sections_of(title: str, body: list[str]) -> list[Part]:
    """One titled run of paragraphs as sections of at most 1,200 characters: the first keeps
    the title, the next ones say "(tiếp 2)", "(tiếp 3)"."""
    chunks = _chunks(body)
    return [
        Part(title if n == 0 else _title(f"{title} (tiếp {n + 1})"), chunk)
        for n, chunk in enumerate(chunks)
    ]


def _title(text: str) -> str:
    text = text.rstrip(" .:")
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1].rsplit(" ", 1)[0] + "…"


def _chunks(body: list[str]) -> list[str]:
    pieces: list[str] = []
    for paragraph in body:
        pieces += [paragraph] if len(paragraph) <= SECTION_MAX else _sentences(paragraph)
    out: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= SECTION_MAX:
            current = joined
        else:
            out.append(current)
            current = piece
    if current:
        out.append(current)
    return out


def _sentences(paragraph: str) -> list[str]:
    """A long paragraph in runs of whole sentences (a sentence over the limit: whole words)."""
    out: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        for piece in _words(sentence):
            joined = f"{current} {piece}" if current else piece
            if len(joined) <= SECTION_MAX:
                current = joined
            else:
                out.append(current)
                current = piece
    if current:
        out.append(current)
    return out


def _words(sentence: str) -> list[str]:
    if len(sentence) <= SECTION_MAX:
        return [sentence]
    out: list[str] = []
    current = ""
    for word in sentence.split():
        joined = f"{current} {word}" if current else word
        if len(joined) <= SECTION_MAX:
            current = joined
        else:
            out.append(current)
            current = word[:SECTION_MAX]
    if current:
        out.append(current)
    return out


def normalized(text: str) -> str:
    """How quotes are compared with a document: NFC, whitespace (line breaks too) collapsed."""
    return " ".join(nfc(text).split())
