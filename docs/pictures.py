"""Draw the README's pictures of the Excel question template from the template itself (the one
`congdoan content template questions` writes), so they never drift from it:

    .venv/bin/python docs/pictures.py        # writes docs/images/*.png

The sheet is drawn as Excel shows it: column letters, row numbers, the header row, the example
row; the instructions sheet as its lines."""

from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from matplotlib.figure import Figure  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from bot.content import load_content  # noqa: E402
from bot.services.xlsxquestions import GUIDE, SHEET, template  # noqa: E402

OUT = ROOT / "docs" / "images"
HEADER = "#DDEBF7"
GRID = "#C8C8C8"
SCALE = 0.062  # inches per unit of Excel column width


def _sheet_picture(rows: list[list[str]], widths: list[float], path: Path) -> None:
    letters = [chr(65 + n) for n in range(len(widths))]
    wrapped = [
        [
            textwrap.fill(str(value or ""), max(5, int(w * 0.95)))
            for value, w in zip(row, widths, strict=True)
        ]
        for row in rows
    ]
    heights = [max(1, *(cell.count("\n") + 1 for cell in row)) for row in wrapped]
    unit = 0.22  # inches per line
    total_w = sum(widths) * SCALE + 0.6
    total_h = (sum(heights) + 1) * unit + 0.2
    figure = Figure(figsize=(total_w, total_h), dpi=110)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, total_w)
    axes.set_ylim(total_h, 0)
    axes.axis("off")
    x0, y = 0.4, 0.1
    xs = [x0]
    for w in widths:
        xs.append(xs[-1] + w * SCALE)
    for n, letter in enumerate(letters):  # column letters
        axes.add_patch(_rect(xs[n], y, xs[n + 1] - xs[n], unit, "#F2F2F2"))
        axes.text((xs[n] + xs[n + 1]) / 2, y + unit / 2, letter, ha="center", va="center", size=8)
    y += unit
    for r, (row, height) in enumerate(zip(wrapped, heights, strict=True), 1):
        h = height * unit
        axes.add_patch(_rect(0.05, y, 0.35, h, "#F2F2F2"))
        axes.text(0.22, y + h / 2, str(r), ha="center", va="center", size=8)
        for n, cell in enumerate(row):
            fill = HEADER if r == 1 else "white"
            axes.add_patch(_rect(xs[n], y, xs[n + 1] - xs[n], h, fill))
            axes.text(
                xs[n] + 0.04,
                y + 0.05,
                cell,
                ha="left",
                va="top",
                size=7.5,
                weight="bold" if r == 1 else "normal",
                style="italic" if r == 2 else "normal",
                color="#1b1b1b" if r != 2 else "#555555",
            )
        y += h
    figure.savefig(path)


def _rect(x: float, y: float, w: float, h: float, fill: str):  # type: ignore[no-untyped-def]
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=fill, edgecolor=GRID, linewidth=0.6)


def _guide_picture(lines: list[str], path: Path) -> None:
    wrapped = [textwrap.fill(line, 110) for line in lines]
    count = sum(w.count("\n") + 1 for w in wrapped) + len(wrapped)
    figure = Figure(figsize=(9.6, 0.2 * count + 0.4), dpi=110)
    y = 0.97
    step = 1 / (count + 2)
    for n, text in enumerate(wrapped):
        figure.text(0.02, y, text, va="top", size=8.5, weight="bold" if n == 0 else "normal")
        y -= step * (text.count("\n") + 2)
    figure.savefig(path)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    content = load_content(ROOT / "content")
    example = next(
        q for q in content.catalog.questions.values() if min(len(o) for o in q.options) > 12
    )
    book = load_workbook(io.BytesIO(template(example)))
    sheet = book[SHEET]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=1, max_row=2)]
    widths = [float(sheet.column_dimensions[chr(65 + n)].width or 10) for n in range(len(rows[0]))]
    _sheet_picture(rows, widths, OUT / "mau-cau-hoi.png")  # type: ignore[arg-type]
    guide = [str(r[0].value or "") for r in book[GUIDE].iter_rows() if r[0].value]
    _guide_picture(guide, OUT / "mau-cau-hoi-huong-dan.png")
    for name in ("mau-cau-hoi.png", "mau-cau-hoi-huong-dan.png"):
        print(f"wrote docs/images/{name}")


if __name__ == "__main__":
    main()
