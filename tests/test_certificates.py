"""Quiz certificates: a valid PNG, every Vietnamese diacritic drawn, nothing overflowing."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import pytest
from matplotlib.ft2font import FT2Font
from PIL import Image, ImageChops

from bot.services import certificates
from bot.services.certificates import FONT_FILES, HEIGHT, WIDTH, font_dir, render_certificate

LONG_NAME = "Đặng Thị Ngọc Hằng Huỳnh Ẩn Ỹ Phượng Nguyễn Lưu Quỳnh Ẫu Ậu Ặng Ỡ Ựa Đoàn Võ"
LONG_UNIT = ("Công đoàn cơ sở Trường Trung học phổ thông chuyên Lê Hồng Phong – " * 6)[:300]
LONG_TOPIC = (
    "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh về ý thức trách nhiệm, "
    "tinh thần phục vụ nhân dân, cần kiệm liêm chính chí công vô tư, đoàn kết xây dựng "
    "tổ chức Công đoàn vững mạnh trong giai đoạn mới"
)

BASE_VOWELS = "aăâeêioôơuưy"
TONE_MARKS = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # huyền sắc ngã hỏi nặng


def vietnamese_letters() -> set[str]:
    """Every Vietnamese vowel with and without each tone mark, plus đ/Đ, both cases, NFC."""
    letters = {"đ", "Đ"}
    for vowel in BASE_VOWELS:
        for mark in ("", *TONE_MARKS):
            for base in (vowel, vowel.upper()):
                letters.add(unicodedata.normalize("NFC", base + mark))
    return letters


def render(**overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "full_name": "Nguyễn Văn An",
        "unit": "Công đoàn Trường THPT Nguyễn Trãi",
        "topic": "Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
        "score": 18,
        "total": 20,
        "elapsed": "12 phút 05 giây",
        "issued_on": "19/05/2025",
        "reference": "CD-2025-000123",
    }
    fields.update(overrides)
    return render_certificate(**fields)


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_letter_set_is_complete() -> None:
    letters = vietnamese_letters()
    assert len(letters) == 2 + 2 * len(BASE_VOWELS) * 6
    assert {"ẫ", "Ậ", "ặ", "ỡ", "Ự", "ỹ"} <= letters
    assert all(len(ch) == 1 for ch in letters)


@pytest.mark.parametrize("name", FONT_FILES)
def test_fonts_cover_every_vietnamese_letter(name: str) -> None:
    font = FT2Font(str(font_dir() / name))
    missing = sorted(ch for ch in vietnamese_letters() if font.get_char_index(ord(ch)) == 0)
    assert missing == []


@pytest.mark.parametrize(
    "fields",
    [
        {"full_name": LONG_NAME, "unit": LONG_UNIT, "topic": LONG_TOPIC},
        {"full_name": nfd(LONG_NAME), "unit": nfd(LONG_UNIT), "topic": nfd(LONG_TOPIC)},
        {"full_name": "", "unit": "", "topic": "", "elapsed": "", "issued_on": "", "reference": ""},
        {"full_name": "😀🎉 Lê <b>Tú</b> &amp;", "unit": "<i>x</i>\x00\u200b\n\t", "topic": "🇻🇳"},
        {"full_name": "Ngô" * 400, "unit": "đ" * 2000, "topic": "Hồ Chí Minh " * 500},
    ],
    ids=["long", "nfd", "empty", "odd", "huge"],
)
def test_png_is_valid(fields: dict[str, Any]) -> None:
    data = render(**fields)
    assert len(data) < 400_000
    image = open_png(data)
    assert image.format == "PNG"
    assert image.size == (WIDTH, HEIGHT)
    assert image.width > image.height


def test_nfc_and_nfd_render_identically() -> None:
    fields = {"full_name": LONG_NAME, "unit": LONG_UNIT, "topic": LONG_TOPIC, "elapsed": "3 phút"}
    decomposed = {key: nfd(value) for key, value in fields.items()}
    assert decomposed["full_name"] != fields["full_name"]
    assert render(**fields) == render(**decomposed)


def test_name_is_drawn() -> None:
    one = open_png(render(full_name="Nguyễn Văn An"))
    other = open_png(render(full_name="Nguyễn Văn Ân"))
    blank = open_png(render(full_name=""))
    assert ImageChops.difference(one.convert("RGB"), other.convert("RGB")).getbbox() is not None
    assert ImageChops.difference(one.convert("RGB"), blank.convert("RGB")).getbbox() is not None


def test_nothing_overflows_the_frame() -> None:
    """Very long fields change nothing outside the content area: border and margins untouched."""
    full = open_png(render(full_name=LONG_NAME * 3, unit=LONG_UNIT, topic=LONG_TOPIC * 3))
    empty = open_png(render(full_name="", unit="", topic=""))
    diff = ImageChops.difference(full.convert("RGB"), empty.convert("RGB")).getbbox()
    assert diff is not None
    left, _, right, _ = diff
    assert left >= certificates.CONTENT_LEFT
    assert right <= certificates.CONTENT_RIGHT
    # The frame region itself holds only the background, border and ornament colours.
    rgb, reference = full.convert("RGB"), empty.convert("RGB")
    frame_colours = {certificates.CREAM, certificates.RED}
    outer = certificates.OUTER_INSET + 2
    for x in range(0, WIDTH, 7):
        for y in (5, outer, HEIGHT - 6, HEIGHT - 1 - outer):
            assert rgb.getpixel((x, y)) in frame_colours
    for y in range(0, HEIGHT, 7):
        for x in (5, outer, 100, WIDTH - 101, WIDTH - 1 - outer, WIDTH - 6):
            assert rgb.getpixel((x, y)) == reference.getpixel((x, y))


def test_long_name_is_shrunk_not_cut() -> None:
    """A long name stays whole: its drawn width grows with the text but stays inside the box."""
    short = open_png(render(full_name="Lê Hà"))
    long = open_png(render(full_name=LONG_NAME))
    blank = open_png(render(full_name="")).convert("RGB")
    band = (0, 396, WIDTH, 484)  # the name line
    short_box = ImageChops.difference(short.convert("RGB").crop(band), blank.crop(band)).getbbox()
    long_box = ImageChops.difference(long.convert("RGB").crop(band), blank.crop(band)).getbbox()
    assert short_box is not None and long_box is not None
    assert long_box[2] - long_box[0] > short_box[2] - short_box[0]
    assert long_box[0] >= certificates.CONTENT_LEFT
    assert long_box[2] <= certificates.CONTENT_RIGHT


def test_clean_normalizes_and_drops_missing_glyphs() -> None:
    assert certificates.clean(nfd("Đặng  Hằng\n")) == "Đặng Hằng"
    assert certificates.clean("A😀B\u200b <b>") == "AB <b>"
    assert certificates.clean(None) == ""
