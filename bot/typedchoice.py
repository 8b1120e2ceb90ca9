"""Choices for channels without buttons (Zalo, the terminal): the options as numbered lines, and
what a person types matched back to one option (its number, its letter, or words of its label,
diacritics optional). One implementation for every such channel."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.messages import Choices, to_plain
from bot.texts import Texts
from bot.textutil import fold

SHORT_LABEL = 12  # labels this short fit side by side on one line of a phone screen
LABEL_MAX = 80  # a longer label is cut on a phone screen (the list stays readable)
_NUMBERS = re.compile(r"^\d{1,3}(?:\s*[,;\s]\s*\d{1,3})+$")


def words(text: str) -> str:
    """'Tiếp ➡️' -> 'tiep': folded letters and digits only, so icons need not be typed."""
    return " ".join("".join(c if c.isalnum() else " " for c in fold(text)).split())


def numbered(choices: Choices, texts: Texts) -> str:
    """The question and its options as plain text: one numbered line per option (short labels
    side by side), then how to answer. An option labelled with its own number or letter (a list
    the question already shows) gets no line of its own."""
    lines = [to_plain(choices.text)]
    labels = [_cut(to_plain(o.label)) for o in choices.options]
    shown = [(i, label) for i, label in enumerate(labels, 1) if not _self_named(label, i)]
    if all(len(label) <= SHORT_LABEL for _, label in shown):
        if shown:
            lines.append("  ".join(f"{i}) {label}" for i, label in shown))
    else:
        lines += [f"{i}. {label}" for i, label in shown]
    letters = [label for i, label in enumerate(labels, 1) if _is_letter(label)]
    if letters:
        hint = texts("choices.hint_letters", letters=", ".join(letters), last=len(labels))
    else:
        hint = texts("choices.hint" if len(labels) > 1 else "choices.hint_one", last=len(labels))
    lines.append(to_plain(hint))
    return "\n".join(lines)


def lists_labels(labels: list[str]) -> bool:
    """Whether the numbered rendering lists any label (quiz letters name themselves)."""
    return any(not _self_named(label, i) for i, label in enumerate(labels, 1))


def _self_named(label: str, number: int) -> bool:
    return label == str(number) or _is_letter(label)


def _is_letter(label: str) -> bool:
    return len(label) == 1 and label.isalpha()


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"


def match(text: str, labels: Sequence[str], exact: Sequence[int] = ()) -> int | None:
    """The option a typed answer means, or None: its number; its whole label (icons and
    diacritics optional: "xong" for "✅ Xong"); else words found in exactly one label, in order
    ("mot phan" for "🔸 Thực hiện một phần"; "thuc hien" chooses nothing when three labels
    have it). An `exact` option (an irreversible step) is chosen
    only by its number or its whole label: "xóa" never erases anything."""
    text = text.strip()
    if text.isdigit():
        number = int(text)
        return number - 1 if 1 <= number <= len(labels) else None
    typed = words(text)
    if not typed:
        return None
    folded = [words(label) for label in labels]
    if typed in folded:
        return folded.index(typed)
    found = [
        i
        for i, label in enumerate(folded)
        if i not in exact and f" {typed} " in f" {label} "  # whole words, in order
    ]
    return found[0] if len(found) == 1 else None


def several(text: str, count: int) -> list[int] | None:
    """Several numbers typed at once ("1 3 5", "1, 3"): their positions (0-based, in the order
    typed, each once), or None when the text is not such a list or a number is out of range."""
    text = text.strip()
    if not _NUMBERS.match(text):
        return None
    positions: list[int] = []
    for part in re.split(r"[,;\s]+", text):
        number = int(part)
        if not 1 <= number <= count:
            return None
        if number - 1 not in positions:
            positions.append(number - 1)
    return positions
