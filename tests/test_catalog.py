"""The catalog loader: shipped content is clean, and every defect is reported at file:line."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot.catalog import Catalog, Question, SourceRef, load_catalog
from bot.config import PROJECT_ROOT
from bot.yamlfile import Problem

SEED = """HƯỚNG DẪN

I. MỤC ĐÍCH

Công đoàn tổ chức học tập cho toàn thể đoàn viên, báo cáo **trước ngày 29/2/2024** về tỉnh.
Mỗi đoàn viên đăng ký   làm theo
*Dám nghĩ; dám nói; dám làm*.
"""

TOPIC = """\
id: chu-de
short_title: "Chủ đề thử"
title: "Chủ đề thử nghiệm năm 2024"
years: [2024]
issuer: "LĐLĐ tỉnh"
document: "Hướng dẫn học tập"
seed: "seed.txt"
key_dates:
  - date: "2024-02-29"
    what: "Hạn báo cáo về tỉnh"
    source: {file: "seed.txt", section: "I", quote: "trước ngày 29/2/2024"}
sections:
  - id: muc-dich
    title: "Mục đích"
    body: "Học tập cho toàn thể đoàn viên."
    source: {file: "seed.txt", section: "I"}
"""

BANK = """\
topic: chu-de
questions:
  - id: cd-001
    text: "Hạn báo cáo về tỉnh là ngày nào?"
    options: ["28/2/2024", "29/2/2024"]
    correct: [1]
    explanation: "Hướng dẫn nêu: báo cáo trước ngày 29/2/2024."
    source: {file: "seed.txt", section: "I", quote: "báo cáo **trước ngày 29/2/2024** về tỉnh"}
  - id: cd-002
    text: "Chọn tất cả các ý đúng: đoàn viên đăng ký làm theo những gì?"
    options: ["Dám nghĩ", "Dám nói", "Dám hứa"]
    correct: [0, 1]
    explanation: "Đăng ký làm theo: dám nghĩ; dám nói; dám làm."
    source:
      file: "seed.txt"
      section: "I"
      quote: "đăng ký làm theo *Dám nghĩ; dám nói; dám làm*"
"""

CAMPAIGNS = """\
campaigns:
  - id: demo-2026
    year: 2026
    root_unit: LDLD-DEMO
    topic: chu-de
    quizzes:
      - topic: chu-de
        questions: 2
"""

BASE = {
    "topics/chu-de.yaml": TOPIC,
    "quizzes/chu-de.yaml": BANK,
    "campaigns.yaml": CAMPAIGNS,
    "seeds/seed.txt": SEED,
}

LONG = "ạ" * 412


def build(root: Path, changes: dict[str, str | None] | None = None) -> Path:
    """A content dir from BASE; changes add or replace files, None leaves a file out."""
    files: dict[str, str | None] = {**BASE, **(changes or {})}
    for name, text in files.items():
        if text is not None:
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return root


def problems_with(root: Path, file: str, old: str, new: str) -> list[Problem]:
    """Load BASE with one edit (old -> new, once) in one file."""
    assert old in BASE[file], old
    build(root, {file: BASE[file].replace(old, new, 1)})
    return load_catalog(root)[1]


def where(problems: list[Problem]) -> list[tuple[str, int, str]]:
    return [(p.file.name, p.line, p.message) for p in problems]


def assert_one(problems: list[Problem], file: str, line: int, phrase: str) -> None:
    """Exactly one problem, and it is the expected one: no noise from follow-on checks."""
    found = where(problems)
    assert len(found) == 1, found
    name, at, message = found[0]
    assert (name, at) == (Path(file).name, line), found
    assert phrase in message, message


# --- the shipped content --------------------------------------------------------------------


def test_shipped_content_is_clean() -> None:
    catalog, problems = load_catalog(PROJECT_ROOT / "content")
    assert [str(p) for p in problems] == []
    assert len(catalog.topics) == 5
    assert set(catalog.banks) == set(catalog.topics)
    assert len(catalog.banks["bay-dam-2024"]) >= 40
    for topic, bank in catalog.banks.items():
        assert len(bank) >= 20, topic
    assert len(catalog.questions) == sum(len(b) for b in catalog.banks.values())
    [preset] = catalog.campaigns  # the presets plans are made from (bot/services/plans.py)
    assert (preset.id, preset.root_unit, preset.year) == ("demo-2026", "LDLD-DEMO", 2026)


def test_fixture_base_is_clean(tmp_path: Path) -> None:
    catalog, problems = load_catalog(build(tmp_path))
    assert where(problems) == []
    assert list(catalog.topics) == ["chu-de"]
    assert [q.id for q in catalog.banks["chu-de"]] == ["cd-001", "cd-002"]
    assert [q.multiple for q in catalog.banks["chu-de"]] == [False, True]
    assert catalog.topics["chu-de"].key_dates[0].date.isoformat() == "2024-02-29"
    assert [c.id for c in catalog.campaigns] == ["demo-2026"]


# --- one defect per case: (file, old, new, line, phrase) -------------------------------------

Q1_CORRECT = "    correct: [1]\n"
Q1_QUOTE = ', quote: "báo cáo **trước ngày 29/2/2024** về tỉnh"'
Q1_SOURCE = '    source: {file: "seed.txt", section: "I"' + Q1_QUOTE + "}"
Q1_EXPLANATION = '    explanation: "Hướng dẫn nêu: báo cáo trước ngày 29/2/2024."\n'
Q1_TEXT = "Hạn báo cáo về tỉnh là ngày nào?"

CASES = [
    # YAML and schema
    ("quizzes/chu-de.yaml", f'"{Q1_TEXT}"', "Hạn: ngày nào?", 4, "YAML không hợp lệ"),
    ("quizzes/chu-de.yaml", Q1_EXPLANATION, "", 3, "explanation: thiếu trường bắt buộc"),
    ("quizzes/chu-de.yaml", Q1_EXPLANATION, '    explanation: " "\n', 7, "không được để trống"),
    ("campaigns.yaml", "year: 2026", 'year: "năm 2026"', 3, "year: phải là số nguyên"),
    ("quizzes/chu-de.yaml", '"29/2/2024"]', "29]", 5, "options[1]: phải là chuỗi văn bản"),
    ("topics/chu-de.yaml", 'date: "2024-02-29"', 'date: "2024-02-30"', 9, "ngày không hợp lệ"),
    ("topics/chu-de.yaml", "years: [2024]", "years: [2024]\nyear: 2024", 5, "year: trường không"),
    (
        "campaigns.yaml",
        "questions: 2",
        "questions: 2\n        period: year",
        9,
        "day, week, month hoặc campaign",
    ),
    ("campaigns.yaml", "questions: 2", "questions: 51", 8, "nhỏ hơn hoặc bằng 50"),
    ("topics/chu-de.yaml", "id: chu-de", "id: Chu De", 1, "chỉ dùng chữ thường"),
    # limits: the message says the actual length and the limit
    ("quizzes/chu-de.yaml", Q1_TEXT, LONG, 4, "dài 412 ký tự, tối đa 300 (giới hạn của Telegram)"),
    ("quizzes/chu-de.yaml", '"28/2/2024"', f'"{"x" * 101}"', 5, "dài 101 ký tự, tối đa 100"),
    ("quizzes/chu-de.yaml", "Hướng dẫn nêu:", "x" * 200, 7, "tối đa 200 (giới hạn của Telegram)"),
    ("topics/chu-de.yaml", "Học tập cho", "ạ" * 1200, 15, "dài 1220 ký tự, tối đa 1200"),
    ("topics/chu-de.yaml", '"Mục đích"', f'"{"ạ" * 81}"', 14, "dài 81 ký tự, tối đa 80"),
    ("topics/chu-de.yaml", '"Chủ đề thử"', f'"{"ạ" * 41}"', 2, "dài 41 ký tự, tối đa 40"),
    # answers and options
    ("quizzes/chu-de.yaml", Q1_CORRECT, "    correct: []\n", 6, "không có đáp án đúng"),
    ("quizzes/chu-de.yaml", Q1_CORRECT, "    correct: [0, 1]\n", 6, "chỉ được có một đáp án đúng"),
    ("quizzes/chu-de.yaml", Q1_CORRECT, "    correct: [2]\n", 6, "chỉ số 2 ngoài phạm vi"),
    ("quizzes/chu-de.yaml", Q1_CORRECT, "    correct: [1, 1]\n", 6, "chỉ số đáp án bị lặp: 1"),
    ("quizzes/chu-de.yaml", Q1_CORRECT, "    correct: [true]\n", 6, "phải là số nguyên"),
    ("quizzes/chu-de.yaml", "correct: [0, 1]", "correct: [0]", 12, "cần ít nhất 2 đáp án đúng"),
    ("quizzes/chu-de.yaml", "correct: [0, 1]", "correct: [0, 1, 2]", 12, "1 phương án sai"),
    ("quizzes/chu-de.yaml", '"28/2/2024", ', "", 5, "có 1 phương án, cần từ 2 đến 6"),
    ("quizzes/chu-de.yaml", '"28/2/2024"', '"1", "2", "3", "4", "5", "6"', 5, "có 7 phương án"),
    ("quizzes/chu-de.yaml", '"28/2/2024"', '"29/2/2024"', 5, "phương án “29/2/2024” bị lặp"),
    # sources and quotes
    ("quizzes/chu-de.yaml", Q1_SOURCE + "\n", "", 3, "source: thiếu trường bắt buộc"),
    ("quizzes/chu-de.yaml", Q1_QUOTE, "", 8, "phải có quote"),
    ("quizzes/chu-de.yaml", 'file: "seed.txt"\n', 'file: "khac.txt"\n', 15, "“khac.txt”"),
    ("quizzes/chu-de.yaml", "dám làm*", "dám hứa*", 17, "không có nguyên văn trong “seed.txt”"),
    ("quizzes/chu-de.yaml", "**trước", "trước", 8, "không có nguyên văn"),
    ("topics/chu-de.yaml", '29/2/2024"}', '30/2/2024"}', 11, "không có nguyên văn"),
    ("topics/chu-de.yaml", 'seed: "seed.txt"', 'seed: "khac.txt"', 7, "không tìm thấy tệp"),
    (
        "topics/chu-de.yaml",
        '{file: "seed.txt", section: "I"}',
        '{file: "../seed.txt", section: "I"}',
        16,
        "“../",
    ),
    # Unicode
    (
        "quizzes/chu-de.yaml",
        Q1_TEXT,
        unicodedata.normalize("NFD", Q1_TEXT),
        4,
        "questions[0].text: văn bản chưa chuẩn hóa Unicode NFC",
    ),
    # campaigns
    ("campaigns.yaml", "    topic: chu-de", "    topic: khong-co", 5, "“khong-co” không có tệp"),
    ("campaigns.yaml", "- topic: chu-de", "- topic: khong-co", 7, "“khong-co” không có tệp"),
    ("campaigns.yaml", "questions: 2", "questions: 3", 8, "yêu cầu 3 câu hỏi nhưng"),
]


@pytest.mark.parametrize(("file", "old", "new", "line", "phrase"), CASES)
def test_defect_is_reported_at_its_line(
    tmp_path: Path, file: str, old: str, new: str, line: int, phrase: str
) -> None:
    assert_one(problems_with(tmp_path, file, old, new), file, line, phrase)


def test_section_source_missing_file_is_reported(tmp_path: Path) -> None:
    problems = problems_with(
        tmp_path,
        "topics/chu-de.yaml",
        'file: "seed.txt", section: "I"}',
        'file: "x.txt", section: "I"}',
    )
    assert_one(problems, "chu-de.yaml", 16, "không tìm thấy tệp văn bản gốc “x.txt”")


def test_quote_mismatch_names_where_it_leaves_the_seed(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, "quizzes/chu-de.yaml", "dám làm*", "dám hứa*")
    assert "lệch từ “hứa*”" in problems[0].message


def test_a_quote_differing_from_its_seed_only_by_line_breaks_matches(tmp_path: Path) -> None:
    """Issue 16, item 13: a quote copied across a line break of the document (or with one where
    the document has a space) is the same quote; a different word is not, and the message says
    where it leaves the seed and how quotes are compared."""
    broken = '      quote: "đăng ký\\n  làm  theo *Dám nghĩ;\\r\\n dám nói; dám\\tlàm*"\n'
    bank = BANK.replace('      quote: "đăng ký làm theo *Dám nghĩ; dám nói; dám làm*"\n', broken)
    assert bank != BANK
    build(tmp_path, {"quizzes/chu-de.yaml": bank})
    assert where(load_catalog(tmp_path)[1]) == []

    build(tmp_path, {"quizzes/chu-de.yaml": bank.replace("dám nói", "dám viết")})
    [(name, line, message)] = where(load_catalog(tmp_path)[1])
    assert (name, line) == ("chu-de.yaml", 17)
    assert "trích dẫn không có nguyên văn trong “seed.txt”" in message
    assert "khớp đến “…ng ký làm theo *Dám nghĩ; dám ”, lệch từ “viết; dám làm*”" in message
    assert message.endswith("(so khớp sau khi gộp khoảng trắng, xuống dòng)")


def test_duplicate_question_id_across_banks(tmp_path: Path) -> None:
    other_topic = TOPIC.replace("id: chu-de", "id: khac")
    other_bank = BANK.replace("topic: chu-de", "topic: khac").replace("cd-002", "kh-002")
    build(tmp_path, {"topics/khac.yaml": other_topic, "quizzes/khac.yaml": other_bank})
    catalog, problems = load_catalog(tmp_path)
    assert_one(problems, "khac.yaml", 3, "mã câu hỏi “cd-001” trùng với quizzes/chu-de.yaml:3")
    assert [q.id for q in catalog.banks["khac"]] == ["kh-002"]


def test_duplicate_topic_id(tmp_path: Path) -> None:
    build(tmp_path, {"topics/khac.yaml": TOPIC})
    catalog, problems = load_catalog(tmp_path)
    assert_one(problems, "khac.yaml", 1, "mã chủ đề “chu-de” trùng với topics/chu-de.yaml:1")
    assert list(catalog.topics) == ["chu-de"]


def test_duplicate_section_id(tmp_path: Path) -> None:
    second = '  - id: muc-dich\n    title: "Lần hai"\n    body: "Nội dung."\n'
    second += '    source: {file: "seed.txt", section: "I"}\n'
    build(tmp_path, {"topics/chu-de.yaml": TOPIC + second})
    assert_one(
        load_catalog(tmp_path)[1], "chu-de.yaml", 17, "mã mục “muc-dich” trùng với mục ở dòng 13"
    )


def test_bank_without_topic_file(tmp_path: Path) -> None:
    build(tmp_path, {"quizzes/le.yaml": "topic: le\nquestions: []\n"})
    assert_one(load_catalog(tmp_path)[1], "le.yaml", 1, "chủ đề “le” không có tệp trong topics/")


def test_second_bank_for_a_topic(tmp_path: Path) -> None:
    build(tmp_path, {"quizzes/z.yaml": "topic: chu-de\nquestions: []\n"})
    assert_one(load_catalog(tmp_path)[1], "z.yaml", 1, "trùng với quizzes/chu-de.yaml:1")


def test_invalid_topic_does_not_orphan_its_bank(tmp_path: Path) -> None:
    problems = problems_with(tmp_path, "topics/chu-de.yaml", 'issuer: "LĐLĐ tỉnh"\n', "")
    assert_one(problems, "chu-de.yaml", 1, "issuer: thiếu trường bắt buộc")


@pytest.mark.parametrize(
    ("extra", "line", "phrase"),
    [
        ("  - id: demo-2026\n    year: 2027\n", 9, "mã đợt “demo-2026” trùng với đợt ở dòng 2"),
        ("  - id: lan-hai\n    year: 2026\n", 9, "đã có đợt cho LDLD-DEMO năm 2026 ở dòng 2"),
    ],
)
def test_duplicate_campaigns(tmp_path: Path, extra: str, line: int, phrase: str) -> None:
    second = extra + "    root_unit: LDLD-DEMO\n    topic: chu-de\n    quizzes: []\n"
    build(tmp_path, {"campaigns.yaml": CAMPAIGNS + second})
    catalog, problems = load_catalog(tmp_path)
    assert_one(problems, "campaigns.yaml", line, phrase)
    assert [c.id for c in catalog.campaigns] == ["demo-2026"]


def test_one_bad_question_drops_only_itself(tmp_path: Path) -> None:
    build(tmp_path, {"quizzes/chu-de.yaml": BANK.replace(Q1_CORRECT, "    correct: []\n")})
    catalog, _ = load_catalog(tmp_path)
    assert [q.id for q in catalog.banks["chu-de"]] == ["cd-002"]


# --- optional files ----------------------------------------------------------------------------


def test_no_campaigns_file_means_no_campaigns(tmp_path: Path) -> None:
    catalog, problems = load_catalog(build(tmp_path, {"campaigns.yaml": None}))
    assert (catalog.campaigns, problems) == ([], [])


def test_empty_content_dir_gives_empty_catalog(tmp_path: Path) -> None:
    catalog, problems = load_catalog(tmp_path)
    assert (catalog, problems) == (Catalog(), [])


def test_seeds_dir_can_be_elsewhere(tmp_path: Path) -> None:
    content = build(tmp_path / "content", {"seeds/seed.txt": None})
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "seed.txt").write_text(SEED, encoding="utf-8")
    assert load_catalog(content, tmp_path / "shared")[1] == []
    assert load_catalog(content)[1] != []


# --- models ------------------------------------------------------------------------------------


def _question(text: str, correct: list[int]) -> Question:
    return Question(
        id="q-001",
        text=text,
        options=["A", "B", "C"],
        correct=correct,
        explanation="Vì vậy.",
        source=SourceRef(file="seed.txt", section="I", quote="trích dẫn"),
    )


def test_ask_all_is_case_insensitive() -> None:
    assert _question("CHỌN TẤT CẢ các ý đúng", [0, 2]).multiple
    assert not _question("Ý nào đúng?", [1]).multiple
