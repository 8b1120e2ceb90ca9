"""Known typos of the sources (issue 16, item 10): the An Giang guide writes "tự chuyển biến" for
"tự diễn biến". A quote keeps the source's wording; a question, an option, an explanation, a study
text, a post or a question imported from Excel that repeats it is refused by the content check and
the sheet check, with the right form."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from sqlmodel import Session, select
from typer.testing import CliRunner

from bot import typos
from bot.catalog import load_catalog
from bot.cli import app as cli
from bot.config import PROJECT_ROOT
from bot.db import make_engine
from bot.models_library import LibraryQuestion
from bot.typos import Typo
from tests import docsamples
from tests.helpers import run_cli
from tests.test_catalog import BANK, SEED, build

TYPOS = """\
typos:
  - wrong: "tự chuyển biến"
    right: "tự diễn biến"
    source: "seed.txt"
"""
QUOTED = "những biểu hiện “tự chuyển biến”, “tự chuyển hoá” trong nội bộ"


def test_find_ignores_case_and_line_breaks_but_not_diacritics() -> None:
    [found] = typos.find("Ngăn chặn những biểu hiện “Tự chuyển\n   biến”, “tự chuyển hóa”.")
    assert found.text == "Tự chuyển\n   biến" and found.typo.right == "tự diễn biến"
    assert "“Tự chuyển biến” là lỗi đánh máy của văn bản nguồn 004_068" in found.message()
    assert "viết đúng là “tự diễn biến”" in found.message()
    assert typos.find("những biểu hiện “tự diễn biến”, “tự chuyển hóa”") == []
    assert typos.find("tạo chuyển biến tích cực") == []  # the word itself is right
    assert [f.text for f in typos.find("THÔNG KÊ kết quả; thống kê")] == ["THÔNG KÊ"]
    moved = Typo(wrong="tự chuyển hoá", right="tự chuyển hóa", source="x.txt")
    assert [f.text for f in typos.find("tự chuyển hóa", [moved])] == ["tự chuyển hóa"]


def _content(tmp_path: Path, bank: str) -> Path:
    seed = SEED + QUOTED + "\n"
    changes = {"seeds/seed.txt": seed, "typos.yaml": TYPOS, "quizzes/chu-de.yaml": bank}
    return build(tmp_path, changes)


def test_an_explanation_with_the_typo_fails_and_a_quote_keeps_it(tmp_path: Path) -> None:
    question = f"""\
  - id: cd-003
    text: "Mục đích là ngăn chặn những biểu hiện nào?"
    options: ["Tự diễn biến, tự chuyển hóa", "Tự soi, tự sửa"]
    correct: [0]
    explanation: "Hướng dẫn nêu những biểu hiện “tự chuyển biến”, “tự chuyển hóa”."
    source: {{file: "seed.txt", section: "I", quote: "{QUOTED}"}}
"""
    catalog, problems = load_catalog(_content(tmp_path, BANK + question))
    assert [(p.file.name, p.line) for p in problems] == [("chu-de.yaml", 22)], problems
    assert "questions[2].explanation: “tự chuyển biến” là lỗi đánh máy" in problems[0].message
    assert "viết đúng là “tự diễn biến”" in problems[0].message

    fixed = question.replace("“tự chuyển biến”, “tự chuyển hóa”.", "“tự diễn biến”.")
    catalog, problems = load_catalog(_content(tmp_path, BANK + fixed))
    assert problems == [] and "cd-003" in catalog.questions  # its quote keeps the source's typo


def test_the_list_of_typos_is_checked_against_its_source(tmp_path: Path) -> None:
    stale = TYPOS + '  - wrong: "thông kê"\n    right: "thống kê"\n    source: "seed.txt"\n'
    stale += '  - wrong: "đẩy lùi"\n    right: "đẩy lùi"\n    source: "khong-co.txt"\n'
    build(tmp_path, {"seeds/seed.txt": SEED + QUOTED + "\n", "typos.yaml": stale})
    problems = [(p.file.name, p.line, p.message) for p in load_catalog(tmp_path)[1]]
    stale_one = "“thông kê” không có trong “seed.txt”: lỗi này đã được sửa?"
    assert ("typos.yaml", 5, stale_one) in problems
    assert any(line == 10 and "khong-co.txt" in message for _, line, message in problems)


def test_content_check_names_a_typo_in_a_study_text_an_option_and_a_post(tmp_path: Path) -> None:
    """As a reviewer would: `congdoan content check` on a copy of content/ with the typo put
    back in a study section, a quiz option and the 28/7 post."""
    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    edits = {
        "topics/tien-phong-guong-mau-2022.yaml": ("“tự diễn biến”", "“tự chuyển biến”"),
        "quizzes/tien-phong-guong-mau-2022.yaml": ("- \"“Tự diễn biến”", "- \"“Tự chuyển biến”"),
        "posts/cong-doan.yaml": ("chăm lo, đại diện", "chống “tự chuyển biến”, chăm lo, đại diện"),
    }
    for name, (old, new) in edits.items():
        path = content / name
        text = path.read_text(encoding="utf-8")
        assert old in text, name
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = CliRunner(env={"CONTENT_DIR": str(content)}).invoke(cli, ["content", "check"])
    assert result.exit_code == 1, result.output
    said = result.output
    bank = "tien-phong-guong-mau-2022.yaml"
    assert re.search(rf"topics/{bank}:\d+: sections\[\d\]\.body: “tự chuyển biến” là", said)
    assert re.search(rf"quizzes/{bank}:\d+: questions\[\d+\]\.options\[\d\]: “Tự", said)
    assert re.search(r"posts/cong-doan\.yaml:\d+: text: “tự chuyển biến” là lỗi đánh máy", said)
    assert "quote" not in said  # the quotes of the same guide keep its wording


def test_an_imported_row_that_repeats_a_typo_is_refused_by_row_and_column(
    cli_env, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    document = tmp_path / "chuyen-de.docx"
    document.write_bytes(docsamples.topic_docx())
    assert run_cli("content", "import-topic", str(document), "--id", "tiet-kiem-2027")[0] == 0
    rows = docsamples.good_rows()
    rows[2][9] = "Tiết kiệm để chống “tự chuyển biến” trong nội bộ."  # row 4, the explanation
    rows[5][2] = "Chống tự chuyển biến"  # row 7, option A
    sheet = tmp_path / "cau-hoi.xlsx"
    sheet.write_bytes(docsamples.sheet(rows))
    code, out = run_cli("content", "import-questions", str(sheet), "--topic", "tiet-kiem-2027")
    assert code == 1, out
    assert "Dòng 4, cột Giải thích: “tự chuyển biến” là lỗi đánh máy của văn bản nguồn" in out
    assert "Dòng 7, cột A: “tự chuyển biến” là lỗi đánh máy" in out
    assert "viết đúng là “tự diễn biến”" in out and "chưa nhập câu nào" in out

    # a question edited in the database behind the check's back: `content check` names it
    sheet.write_bytes(docsamples.sheet(docsamples.good_rows()))
    assert run_cli("content", "import-questions", str(sheet), "--topic", "tiet-kiem-2027")[0] == 0
    engine = make_engine(cli_env)
    with Session(engine) as s:
        row = s.exec(select(LibraryQuestion)).first()
        assert row is not None
        qid = row.id
        row.data = {**row.data, "explanation": "Chống “tự chuyển biến”."}
        s.add(row)
        s.commit()
    engine.dispose()
    code, out = run_cli("content", "check")
    assert code == 1
    assert f"câu {qid}, giải thích: “tự chuyển biến” là lỗi đánh máy" in out
