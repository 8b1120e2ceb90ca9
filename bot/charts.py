"""Charts as PNG bytes, drawn with matplotlib's Agg canvas (no pyplot, no display) and the DejaVu
Sans font shipped with matplotlib, which has every Vietnamese letter. Texts come in ready to
print: the caller takes them from content/texts.yaml."""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from bot.services.certificates import SANS, SANS_BOLD, clean, font_dir

MAX_BARS = 30
LABEL_CHARS = 38  # unit names longer than this are cut with "…"

_RED, _AMBER, _GREEN = "#c62828", "#ef8f00", "#2e7d32"
_INK, _MUTED, _GRID = "#263238", "#607d8b", "#e0e0e0"
_LOCK = threading.Lock()  # matplotlib is not thread-safe; chats are handled in worker threads


@dataclass(frozen=True)
class Bar:
    label: str  # the unit's name
    value: float  # 0..100
    text: str  # printed at the end of the bar, e.g. "66,7% (40/60)"


def _font(bold: bool = False, size: float = 10) -> FontProperties:
    return FontProperties(fname=str(font_dir() / (SANS_BOLD if bold else SANS)), size=size)


def _plain(text: str, limit: int | None = None) -> str:
    """Printable with DejaVu Sans (emoji and control characters dropped), cut to `limit`, and
    with "$" escaped so matplotlib never reads a unit name as a formula."""
    text = clean(text, SANS)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text.replace("$", r"\$")


def _colour(value: float) -> str:
    return _GREEN if value >= 80 else _AMBER if value >= 50 else _RED


def completion_chart(
    *,
    title: str,
    subtitle: str,
    bars: Sequence[Bar],
    axis_label: str,
    reference: tuple[float, str] | None = None,
    note: str = "",
) -> bytes:
    """A horizontal bar chart of percentages, first bar on top, at most MAX_BARS bars; a dashed
    reference line (e.g. the overall rate) with its label; a note under the axis."""
    shown = list(bars)[:MAX_BARS]
    height = 2.2 + 0.36 * max(len(shown), 3)
    with _LOCK:
        fig = Figure(figsize=(9, height), dpi=120, facecolor="white")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        positions = list(range(len(shown)))
        ax.barh(
            positions,
            [b.value for b in shown],
            height=0.66,
            color=[_colour(b.value) for b in shown],
            zorder=2,
        )
        for y, b in zip(positions, shown, strict=True):
            ax.text(
                b.value + 1.2,
                y,
                _plain(b.text),
                va="center",
                fontproperties=_font(size=9),
                color=_INK,
            )
        ax.set_yticks(
            positions,
            [_plain(b.label, LABEL_CHARS) for b in shown],
            fontproperties=_font(size=9.5),
            color=_INK,
        )
        ax.set_ylim(len(shown) - 0.5, -0.5)  # first bar on top
        ax.set_xlim(0, 118)
        ax.set_xticks(range(0, 101, 20), [f"{v}%" for v in range(0, 101, 20)])
        for tick in ax.get_xticklabels():
            tick.set_fontproperties(_font(size=9))
        ax.xaxis.grid(True, color=_GRID, zorder=0)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(_plain(axis_label), fontproperties=_font(size=9.5), color=_MUTED)
        if reference is not None:
            mark, mark_label = reference
            ax.axvline(mark, color=_INK, linestyle="--", linewidth=1.2, zorder=3)
            ax.text(
                mark,
                -0.5,
                f" {_plain(mark_label)} ",
                va="bottom",
                ha="left" if mark < 70 else "right",
                fontproperties=_font(bold=True, size=9),
                color=_INK,
            )
        heading = f"{_plain(title)}\n{_plain(subtitle)}"
        fig.suptitle(heading, fontproperties=_font(bold=True, size=12), color=_INK)
        if note:
            fig.text(0.01, 0.01, _plain(note), fontproperties=_font(size=9), color=_MUTED)
        fig.tight_layout(rect=(0, 0.03 if note else 0, 1, 1))
        out = io.BytesIO()
        # the chart's words as PNG text chunks too: for screen readers, search and checks
        described = "\n".join(clean(b.label, SANS) for b in shown)
        fig.savefig(
            out, format="png", metadata={"Title": clean(title, SANS), "Description": described}
        )
    return out.getvalue()
