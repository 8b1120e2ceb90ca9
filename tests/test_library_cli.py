"""`congdoan content` for the library (issue 13): a topic from the document, the template, the
questions imported (refused with every row named, then the valid ones), exported back to XLSX
and YAML that `content check` reads like shipped content; `content check` over the library and
its fairness warnings; every refusal one Vietnamese line and a non-zero exit."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import openpyxl
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.db import make_engine
from bot.models_library import LibraryQuestion, LibraryTopic
from bot.services.xlsxquestions import SHEET
from tests import docsamples
from tests.helpers import run_cli

ROOT = Path(__file__).resolve().parent.parent


def test_a_topic_and_its_questions_from_the_command_line(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = tmp_path / "chuyen-de.docx"
    document.write_bytes(docsamples.topic_docx())
    code, out = run_cli("content", "import-topic", str(document), "--id", "tiet-kiem-2027")
    assert code == 0, out
    assert "Chuyên đề tiet-kiem-2027 (đã xuất bản)" in out and "4 mục" in out
    assert "1. I.1. Tiết kiệm là gì" in out

    template = tmp_path / "mau.xlsx"
    code, out = run_cli("content", "template", "questions", str(template))
    assert code == 0 and template.is_file()
    assert openpyxl.load_workbook(template)[SHEET]["B1"].value == "Câu hỏi"

    rows = docsamples.good_rows()
    rows[3][8] = "Z"
    sheet = tmp_path / "cau-hoi.xlsx"
    sheet.write_bytes(docsamples.sheet(rows))
    code, out = run_cli("content", "import-questions", str(sheet), "--topic", "tiet-kiem-2027")
    assert code == 1
    assert "Dòng 5, cột Đáp án đúng: “Z” không phải chữ cái" in out
    assert "chưa nhập câu nào" in out and "--valid-only để nhập 9 câu hợp lệ" in out
    code, out = run_cli(
        "content", "import-questions", str(sheet), "--topic", "tiet-kiem-2027", "--valid-only"
    )
    assert code == 0 and "9 câu mới" in out
    sheet.write_bytes(docsamples.sheet(docsamples.good_rows()))
    code, out = run_cli("content", "import-questions", str(sheet), "--topic", "tiet-kiem-2027")
    assert code == 0 and "1 câu mới, 0 câu cập nhật, 9 câu không đổi" in out

    exported = tmp_path / "xuat.xlsx"
    code, out = run_cli("content", "export-questions", str(exported), "--topic", "tiet-kiem-2027")
    assert code == 0 and "10 câu hỏi" in out
    book = openpyxl.load_workbook(io.BytesIO(exported.read_bytes()))
    assert book[SHEET].max_row == 11

    code, out = run_cli("content", "list")
    assert "tiet-kiem-2027  Chuyên đề 2027  (đã xuất bản; 4 mục, 10 câu hỏi)" in out

    # back to YAML: a copy of content/ with the exported files passes `content check`
    copy = tmp_path / "content"
    shutil.copytree(ROOT / "content", copy)
    code, out = run_cli("content", "export-topic", "tiet-kiem-2027", str(copy))
    assert code == 0 and "topics/tiet-kiem-2027.yaml" in out
    engine = make_engine(cli_env)
    with Session(engine) as s:  # the check reads the library too: leave it empty for this one
        for row in s.exec(select(LibraryQuestion)).all():
            s.delete(row)
        s.delete(s.get(LibraryTopic, "tiet-kiem-2027"))
        s.commit()
    engine.dispose()
    code, out = CliRunner(env={"CONTENT_DIR": str(copy)}).invoke(cli, ["content", "check"]), ""
    assert code.exit_code == 0, code.output  # type: ignore[attr-defined]
    assert "Nội dung hợp lệ" in code.output  # type: ignore[attr-defined]


def test_content_check_reads_the_library_and_warns_about_fairness(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    document = tmp_path / "chuyen-de.docx"
    document.write_bytes(docsamples.topic_docx())
    run_cli("content", "import-topic", str(document))
    sheet = tmp_path / "cau-hoi.xlsx"
    sheet.write_bytes(docsamples.sheet(docsamples.good_rows()))
    run_cli("content", "import-questions", str(sheet), "--topic", "chuyen-de-2027")
    code, out = run_cli("content", "check")
    assert code == 0 and "Nội dung hợp lệ" in out

    # a question edited in the database behind the bot's back: its quote left the document,
    # and an answer that gives itself away by length in most questions
    engine = make_engine(cli_env)
    with Session(engine) as s:
        rows = s.exec(select(LibraryQuestion)).all()
        first = rows[0]
        broken = first.id
        first.data = {**first.data, "source": {**first.data["source"], "quote": "không có đâu"}}
        s.add(first)
        for row in rows[1:]:
            options = list(row.data["options"])
            correct = row.data["correct"][0]
            options[correct] = options[correct] + " (theo đúng chuyên đề năm 2027)"
            row.data = {**row.data, "options": options}
            s.add(row)
        s.commit()
    engine.dispose()
    code, out = run_cli("content", "check")
    assert code == 1
    assert f"thư viện, chuyên đề chuyen-de-2027, câu {broken}: trích dẫn không có nguyên văn" in out
    assert "(so khớp sau khi gộp khoảng trắng, xuống dòng)" in out
    assert "Cảnh báo: bộ câu hỏi chuyen-de-2027: Đáp án đúng dài nhất ở 9/10" in out


def test_refusals_are_one_line(cli_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = tmp_path / "ghi-chu.txt"
    text.write_text("không phải tài liệu", encoding="utf-8")
    cases = [
        (("content", "import-topic", str(tmp_path / "khong-co.docx")), "không thấy tệp"),
        (("content", "import-topic", str(text)), "không phải DOCX hoặc PDF"),
        (("content", "import-topic", str(text), "--years", "năm sau"), "--years phải là năm"),
        (("content", "import-questions", str(text)), "thiếu --topic"),
        (("content", "import-questions", str(text), "--topic", "khong-co"), "không có chuyên đề"),
        (("content", "import-questions", str(text), "--topic", "bay-dam-2024"), "không phải Excel"),
        (("content", "export-topic", "khong-co", str(tmp_path)), "không có chuyên đề mã"),
        (("content", "template", "questions", str(tmp_path / "mau.csv")), "kết thúc bằng .xlsx"),
    ]
    document = tmp_path / "chuyen-de.docx"
    document.write_bytes(docsamples.topic_docx())
    cases.append(
        (("content", "import-topic", str(document), "--id", "bay-dam-2024"), "có sẵn trong")
    )
    cases.append((("content", "import-topic", str(document), "--id", "Sai Mã"), "không hợp lệ"))
    for args, said in cases:
        code, out = run_cli(*args)
        assert code != 0 and said in out, (args, out)
        assert len([line for line in out.splitlines() if line.startswith("Lỗi:")]) == 1
