"""Numbers written the Vietnamese way: 1.234 for thousands, 0,75% with a decimal comma."""

from __future__ import annotations


def fmt_int(value: int) -> str:
    """1234567 -> '1.234.567'."""
    return f"{value:,}".replace(",", ".")


def fmt_pct(value: float | None) -> str:
    """66.66 -> '66,7%', 50.0 -> '50%', 0.75 -> '0,75%' (a small rate keeps two decimals, so
    3 of 400 never reads as 1%), None -> '—'."""
    if value is None:
        return "—"
    digits = 2 if 0 < value < 1 else 1
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


def parse_count(text: str) -> int | None:
    """A count as people type or a spreadsheet writes it: '400', '1.234', '1,234', '1 234',
    '400.0'; None if it is not a whole number."""
    raw = text.strip().replace(" ", "").replace("\u00a0", "")
    if raw.isdigit():
        return int(raw)
    head, sep, tail = raw.partition(".")
    if sep and head.isdigit() and tail and set(tail) == {"0"} and len(tail) != 3:
        return int(head)  # 400.0 from a spreadsheet
    groups = raw.replace(",", ".").split(".")
    head_ok = len(groups) > 1 and groups[0].isdigit() and 1 <= len(groups[0]) <= 3
    if head_ok and all(len(g) == 3 and g.isdigit() for g in groups[1:]):
        return int("".join(groups))
    return None
