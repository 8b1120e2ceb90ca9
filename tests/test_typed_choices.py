"""Choices on channels without buttons (Zalo, the terminal): numbered lines, and what people type
matched back to an option: the number, the letter, or words of the label with or without
diacritics; never an irreversible option from a guess."""

from __future__ import annotations

from bot.messages import Choices, Option, split_text
from bot.textutil import fold
from bot.typedchoice import match, numbered, several, words


def test_words_of_a_label_choose_it_with_or_without_diacritics() -> None:
    labels = ["✅ Đã thực hiện", "🔸 Thực hiện một phần", "✖️ Chưa thực hiện"]
    assert match("mot phan", labels) == 1
    assert match("một phần", labels) == 1
    assert match("chua", labels) == 2
    assert match("da thuc hien", labels) == 0
    assert match("thuc hien", labels) is None  # in all three: not a guess
    labels = ["📨 Gửi nhắc (2 người)", "⬅️ Quay lại"]
    assert match("gui nhac", labels) == 0
    assert match("quay lai", labels) == 1


def test_numbers_letters_and_out_of_range() -> None:
    assert match("2", ["A", "B", "C"]) == 1
    assert match("b", ["A", "B", "C"]) == 1
    assert match("9", ["A", "B", "C"]) is None
    assert match("0", ["A", "B"]) is None
    assert match("", ["A", "B"]) is None
    assert match("🙂", ["A", "B"]) is None


def test_an_irreversible_option_needs_its_whole_label_or_number() -> None:
    labels = ["Xóa vĩnh viễn", "Không, giữ lại"]
    assert match("xoa", labels, exact=[0]) is None
    assert match("xóa vĩnh viễn", labels, exact=[0]) == 0
    assert match("1", labels, exact=[0]) == 0
    labels = ["✅ Tôi đồng ý", "Không đồng ý"]
    assert match("dong y", labels) is None  # in both: never consent from a guess
    assert match("khong", labels) == 1


def test_several_numbers_typed_at_once() -> None:
    assert several("1 3 5", 6) == [0, 2, 4]
    assert several("1, 3", 6) == [0, 2]
    assert several("3 3 1", 6) == [2, 0]
    assert several("1 9", 6) is None
    assert several("13", 6) is None  # one number is not a list
    assert several("1 3 năm", 6) is None


def test_every_label_the_content_and_texts_can_produce_is_chosen_by_its_own_words(app) -> None:  # type: ignore[no-untyped-def]
    """Property over every option label the bot offers from content and texts: typing a label
    (folded, no icons) chooses that label among the others of the same kind, and typing its
    number always does."""
    t = app.content.texts
    catalog = app.content.catalog
    groups: list[list[str]] = [[topic.short_title for topic in catalog.topics.values()]]
    groups.append([s.text for s in catalog.pledges.suggestions])
    keys = sorted(t.keys())
    by_block: dict[str, list[str]] = {}
    for key in keys:
        block = key.rsplit(".", 1)[0]
        try:
            text = t(key)
        except (KeyError, IndexError):  # a template with placeholders: not a fixed label
            continue
        if "\n" not in text and len(text) <= 64:
            by_block.setdefault(block, []).append(text)
    groups += [labels for labels in by_block.values() if len(labels) > 1]
    checked = 0
    for labels in groups:
        folded = [words(label) for label in labels]
        for i, label in enumerate(labels):
            assert match(str(i + 1), labels) == i
            if not folded[i] or folded.count(folded[i]) > 1:
                continue  # an icon-only label, or two labels that read the same once folded
            assert match(label, labels) == i, (label, labels)
            assert match(fold(label), labels) == i, (label, labels)
            checked += 1
    assert checked > 200


def test_numbered_lines_fit_a_phone_and_say_how_to_answer(app) -> None:  # type: ignore[no-untyped-def]
    t = app.content.texts
    short = Choices("<b>Câu 1/10</b>\nA. Một\nB. Hai", (Option("A", "1"), Option("B", "2")))
    text = numbered(short, t)
    assert "<b>" not in text and "Câu 1/10" in text
    assert "chữ cái (A, B)" in text and "1) A" not in text  # the letters are the list already
    long = Choices(
        "Chọn đơn vị:", tuple(Option(f"Công đoàn cơ sở số {i}", str(i)) for i in range(12))
    )
    lines = numbered(long, t).splitlines()
    assert "1. Công đoàn cơ sở số 0" in lines and "12. Công đoàn cơ sở số 11" in lines
    assert "1–12" in lines[-1]
    very = Choices("?", (Option("x" * 300, "1"), Option("y", "2")))
    assert all(len(line) <= 90 for line in numbered(very, t).splitlines())
    alone = numbered(Choices("Chưa có tệp?", (Option("⬅️ Quay lại", "back"),)), t)
    assert "1–1" not in alone and "Trả lời 1" in alone  # one option: no range of one


def test_a_long_text_is_split_at_sentences_in_order() -> None:
    sentence = "Đoàn viên học tập và làm theo tấm gương đạo đức Hồ Chí Minh. "
    text = (sentence * 80).strip()
    parts = split_text(text, 2000)
    assert len(parts) > 1 and all(len(p) <= 2000 for p in parts)
    assert all(p.endswith(".") for p in parts)  # never cut mid-sentence
    assert " ".join(parts) == text
    paragraphs = "\n\n".join(f"Mục {i}. " + "chữ " * 100 for i in range(30))
    parts = split_text(paragraphs, 2000)
    assert parts[0].startswith("Mục 0.")
    assert "".join(parts).replace("\n", "").replace(" ", "") == paragraphs.replace(
        "\n", ""
    ).replace(" ", "")
    assert [q.strip() for p in parts for q in p.split("\n\n")] == [
        p.strip() for p in paragraphs.split("\n\n")
    ]
