"""Quiz certificates: a PNG "Giấy chứng nhận" drawn with Pillow and matplotlib's DejaVu fonts."""

from __future__ import annotations

import io
import math
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
from matplotlib.ft2font import FT2Font
from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1600, 1131

# Frame: a thick red outer line and a thin gold inner line; text stays inside CONTENT.
OUTER_INSET, OUTER_WIDTH = 34, 9
INNER_INSET, INNER_WIDTH = 56, 3
CONTENT_LEFT, CONTENT_RIGHT = 140, WIDTH - 140
CONTENT_WIDTH = CONTENT_RIGHT - CONTENT_LEFT
CENTER_X = WIDTH // 2

CREAM = (251, 245, 228)
RED = (176, 22, 29)
DARK_RED = (112, 16, 18)
GOLD = (196, 150, 52)
INK = (52, 36, 28)
MUTED = (120, 98, 80)

SERIF, SERIF_BOLD, SANS, SANS_BOLD = (
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
)
FONT_FILES = (SERIF, SERIF_BOLD, SANS, SANS_BOLD)

_MIN_SIZE = 9  # below this the text block is drawn small and scaled down instead
_SUPERSAMPLE = 4  # antialiasing factor for the ornaments (Pillow polygons are not antialiased)


@lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """256 colours: cream, then each ink blended over cream in 51 steps."""
    colours: list[tuple[int, ...]] = [CREAM]
    for ink in (RED, DARK_RED, GOLD, INK, MUTED):
        for step in range(1, 52):
            t = step / 51
            colours.append(tuple(round(c + (k - c) * t) for c, k in zip(CREAM, ink, strict=True)))
    palette = Image.new("P", (1, 1))
    palette.putpalette([value for colour in colours for value in colour])
    return palette


def font_dir() -> Path:
    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=512)
def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / name), size)


@lru_cache(maxsize=16)
def _charset(name: str) -> frozenset[int]:
    return frozenset(FT2Font(str(font_dir() / name)).get_charmap())


@lru_cache(maxsize=512)
def _line_metrics(name: str, size: int) -> tuple[int, int]:
    """Ascent and descent from the baseline, covering stacked marks (Ẫ) and low ones (ỵ)."""
    font = _font(name, size)
    top = font.getbbox("ẪẤỰỖẶÁ", anchor="ls")[1]
    bottom = font.getbbox("gjpqyỵ", anchor="ls")[3]
    return math.ceil(-top), math.ceil(bottom)


def clean(text: object, face: str = SERIF) -> str:
    """NFC, whitespace collapsed, control characters and glyphs the font lacks (emoji) dropped."""
    normalized = unicodedata.normalize("NFC", str(text or ""))
    chars = _charset(face)
    out: list[str] = []
    for ch in normalized:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(" ")
        elif ord(ch) in chars:
            out.append(ch)
    return " ".join("".join(out).split())


def _clusters(word: str) -> list[str]:
    """Split a word into base characters with their combining marks, so marks stay attached."""
    parts: list[str] = []
    for ch in word:
        if parts and unicodedata.combining(ch):
            parts[-1] += ch
        else:
            parts.append(ch)
    return parts


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int, *, hard: bool) -> list[str] | None:
    """Greedy word wrap; over-long words are broken only when `hard`, else None."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        if font.getlength(word) <= width:
            current = word
            continue
        if not hard:
            return None
        for part in _clusters(word):
            if current and font.getlength(current + part) > width:
                lines.append(current)
                current = ""
            current += part
    if current or not lines:
        lines.append(current)
    return lines


@dataclass(frozen=True)
class _Block:
    face: str
    size: int
    lines: list[str]

    @property
    def gap(self) -> int:
        return round(self.size * 0.22)

    @property
    def height(self) -> int:
        ascent, descent = _line_metrics(self.face, self.size)
        n = len(self.lines)
        return n * (ascent + descent) + (n - 1) * self.gap

    @property
    def width(self) -> int:
        font = _font(self.face, self.size)
        return max(round(font.getlength(line)) for line in self.lines)


def _fit(text: str, face: str, size: int, *, width: int, height: int, max_lines: int) -> _Block:
    """The largest size at which `text` fits the box on at most `max_lines` lines.

    Word breaks are preferred; words are broken only if nothing else fits at the minimum size.
    If even that fails, the returned block is larger than the box and is scaled when drawn.
    """

    def attempt(candidate: int, hard: bool) -> _Block | None:
        lines = _wrap(text, _font(face, candidate), width, hard=hard)
        if lines is None or len(lines) > max_lines:
            return None
        block = _Block(face, candidate, lines)
        return block if block.height <= height else None

    for hard in (False, True):
        # Binary search for the largest size that fits (fitting is monotonic in the size).
        low, high, found = _MIN_SIZE, size, None
        while low <= high:
            middle = (low + high) // 2
            block = attempt(middle, hard)
            if block is None:
                high = middle - 1
            else:
                found, low = block, middle + 1
        if found is not None:
            return _balance(text, found, width, hard=hard)
    lines = _wrap(text, _font(face, _MIN_SIZE), width, hard=True) or [text]
    return _Block(face, _MIN_SIZE, lines)


def _balance(text: str, block: _Block, width: int, *, hard: bool) -> _Block:
    """Re-wrap a multi-line block at the narrowest width keeping its line count (even lines)."""
    n = len(block.lines)
    if n < 2:
        return block
    font = _font(block.face, block.size)
    low, high = width // n, width
    best = block.lines
    while low < high:
        middle = (low + high) // 2
        lines = _wrap(text, font, middle, hard=hard)
        if lines is not None and len(lines) <= n:
            best, high = lines, middle
        else:
            low = middle + 1
    return _Block(block.face, block.size, best)


def _draw_lines(
    draw: ImageDraw.ImageDraw, block: _Block, cx: int, top: int, fill: tuple[int, ...]
) -> None:
    font = _font(block.face, block.size)
    ascent, descent = _line_metrics(block.face, block.size)
    y = top + ascent
    for line in block.lines:
        draw.text((cx, y), line, font=font, fill=fill, anchor="ms")
        y += ascent + descent + block.gap


def _draw_text(
    image: Image.Image,
    text: object,
    *,
    face: str,
    size: int,
    center_y: int,
    fill: tuple[int, int, int],
    height: int | None = None,
    max_lines: int = 1,
    width: int = CONTENT_WIDTH,
) -> None:
    """Draw `text` centred in a box of `width` x `height` around (CENTER_X, center_y)."""
    cleaned = clean(text, face)
    if not cleaned:
        return
    box_h = height if height is not None else sum(_line_metrics(face, size))
    block = _fit(cleaned, face, size, width=width, height=box_h, max_lines=max_lines)
    if block.height <= box_h and block.width <= width:
        _draw_lines(ImageDraw.Draw(image), block, CENTER_X, center_y - block.height // 2, fill)
        return
    # Pathologically long input: draw it on a layer and scale that into the box.
    layer = Image.new("RGBA", (block.width + 4, block.height + 4), (*fill, 0))
    _draw_lines(ImageDraw.Draw(layer), block, layer.width // 2, 2, (*fill, 255))
    layer.thumbnail((width, box_h), Image.Resampling.LANCZOS)
    image.paste(layer, (CENTER_X - layer.width // 2, center_y - layer.height // 2), layer)


def _draw_spaced(
    image: Image.Image, text: str, *, face: str, size: int, center_y: int, fill: tuple[int, ...]
) -> None:
    """A single line with wide letter spacing, for the organisation name above the title."""
    font = _font(face, size)
    tracking = round(size * 0.22)
    total = sum(font.getlength(ch) for ch in text) + tracking * (len(text) - 1)
    x = CENTER_X - total / 2
    draw = ImageDraw.Draw(image)
    for ch in text:
        draw.text((x, center_y), ch, font=font, fill=fill, anchor="lm")
        x += font.getlength(ch) + tracking


def _polygon(image: Image.Image, points: list[tuple[float, float]], fill: tuple[int, ...]) -> None:
    """An antialiased filled polygon (drawn large on a mask, then reduced)."""
    left = int(min(x for x, _ in points)) - 1
    top = int(min(y for _, y in points)) - 1
    right = int(max(x for x, _ in points)) + 2
    bottom = int(max(y for _, y in points)) + 2
    k = _SUPERSAMPLE
    mask = Image.new("L", ((right - left) * k, (bottom - top) * k), 0)
    ImageDraw.Draw(mask).polygon([((x - left) * k, (y - top) * k) for x, y in points], fill=255)
    mask = mask.resize((right - left, bottom - top), Image.Resampling.LANCZOS)
    image.paste(Image.new("RGB", mask.size, fill), (left, top), mask)


def _star(cx: float, cy: float, radius: float) -> list[tuple[float, float]]:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def _diamond(cx: float, cy: float, rx: float, ry: float) -> list[tuple[float, float]]:
    return [(cx, cy - ry), (cx + rx, cy), (cx, cy + ry), (cx - rx, cy)]


def _divider(image: Image.Image, center_y: int, half: int) -> None:
    draw = ImageDraw.Draw(image)
    draw.line([(CENTER_X - half, center_y), (CENTER_X - 18, center_y)], fill=GOLD, width=2)
    draw.line([(CENTER_X + 18, center_y), (CENTER_X + half, center_y)], fill=GOLD, width=2)
    _polygon(image, _diamond(CENTER_X, center_y, 11, 8), GOLD)
    _polygon(image, _diamond(CENTER_X - half - 8, center_y, 5, 4), GOLD)
    _polygon(image, _diamond(CENTER_X + half + 8, center_y, 5, 4), GOLD)


def _frame(image: Image.Image) -> None:
    draw = ImageDraw.Draw(image)
    o, i = OUTER_INSET, INNER_INSET
    draw.rectangle([o, o, WIDTH - 1 - o, HEIGHT - 1 - o], outline=RED, width=OUTER_WIDTH)
    draw.rectangle([i, i, WIDTH - 1 - i, HEIGHT - 1 - i], outline=GOLD, width=INNER_WIDTH)
    corner = i + 22
    for cx in (corner, WIDTH - 1 - corner):
        for cy in (corner, HEIGHT - 1 - corner):
            _polygon(image, _diamond(cx, cy, 12, 12), GOLD)
            _polygon(image, _diamond(cx, cy, 5, 5), CREAM)


def render_certificate(
    *,
    full_name: str,
    unit: str,
    topic: str,
    score: int,
    total: int,
    elapsed: str,
    issued_on: str,
    reference: str,
) -> bytes:
    """Draw the quiz certificate ("Giấy chứng nhận") for a member and return it as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), CREAM)
    _frame(image)
    _polygon(image, _star(CENTER_X, 112, 24), RED)

    _draw_spaced(image, "CÔNG ĐOÀN VIỆT NAM", face=SERIF_BOLD, size=28, center_y=168, fill=DARK_RED)
    _draw_text(image, "GIẤY CHỨNG NHẬN", face=SERIF_BOLD, size=88, center_y=252, fill=RED)
    _divider(image, 320, 230)

    _draw_text(image, "Chứng nhận đoàn viên", face=SERIF, size=32, center_y=372, fill=INK)
    _draw_text(image, full_name, face=SERIF_BOLD, size=64, center_y=440, height=84, fill=DARK_RED)
    _draw_text(
        image,
        f"Đơn vị: {clean(unit)}",
        face=SERIF,
        size=32,
        center_y=522,
        height=64,
        max_lines=2,
        fill=INK,
    )

    _draw_text(image, "Đã hoàn thành bài thi tìm hiểu", face=SERIF, size=32, center_y=598, fill=INK)
    _draw_text(
        image,
        topic,
        face=SERIF_BOLD,
        size=46,
        center_y=724,
        height=172,
        max_lines=3,
        fill=RED,
    )
    _draw_text(
        image,
        f"Kết quả: {score}/{total} câu đúng – thời gian {clean(elapsed)}",
        face=SERIF,
        size=32,
        center_y=852,
        height=48,
        fill=INK,
    )

    _divider(image, 912, 120)
    _draw_text(image, f"Ngày {clean(issued_on)}", face=SERIF, size=30, center_y=960, fill=INK)
    _draw_text(
        image,
        f"Mã chứng nhận: {clean(reference, SANS)}",
        face=SANS,
        size=20,
        center_y=1012,
        height=30,
        fill=MUTED,
    )

    # Every pixel is the cream background blended with one ink: a fixed palette of those blends
    # keeps the design colours exact and the file small even for very dense text.
    buffer = io.BytesIO()
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(buffer, format="PNG")
    return buffer.getvalue()
