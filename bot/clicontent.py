"""`congdoan content`: check content/ and the library; make a topic from the official document
and quiz questions from Excel, as /chuyende does in the chat; export them back to XLSX and YAML.
Refusals are one Vietnamese line (a sheet's problems one line each) and a non-zero exit."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.clibase import build, fail, load_settings, now

if TYPE_CHECKING:
    from bot.app import App

content_app = typer.Typer(help="Nội dung: content/ và thư viện chuyên đề", no_args_is_help=True)
template_app = typer.Typer(help="Tệp mẫu để soạn nội dung", no_args_is_help=True)
content_app.add_typer(template_app, name="template")

BY = "cli"


def _say(built: App, key: str, **values: object) -> str:
    from bot.messages import to_plain

    return to_plain(built.content.texts(key, **values))


def _read(file: Path) -> bytes:
    if not file.is_file():
        raise fail(f"không thấy tệp {file}")
    return file.read_bytes()


@content_app.command("check")
def content_check() -> None:
    """Kiểm tra nội dung trong content/ (lỗi theo tệp và dòng) và thư viện chuyên đề trong cơ sở
    dữ liệu; cảnh báo bộ câu hỏi chưa công bằng."""
    from bot.content import check_content

    settings = load_settings()
    problems = [str(p) for p in check_content(settings.content_dir)]
    warnings: list[str] = []
    if not problems:
        found = _library_findings()
        if found is not None:
            problems += found.problems
            warnings += found.warnings
    for problem in problems:
        typer.echo(problem)
    for warning in warnings:
        typer.echo(f"Cảnh báo: {warning}")
    if problems:
        raise fail(f"{len(problems)} lỗi trong nội dung", code=1)
    typer.echo("Nội dung hợp lệ." + (f" ({len(warnings)} cảnh báo)" if warnings else ""))


def _library_findings():  # type: ignore[no-untyped-def]
    """The library's problems and every bank's warnings; None (said why) without a database."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from bot.content import load_content
    from bot.db import make_engine
    from bot.services import librarycheck

    settings = load_settings()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return None  # no database yet: content/ is all there is
    content = load_content(settings.content_dir)
    engine = make_engine(settings.database_url)
    try:
        if not inspect(engine).has_table("librarytopic"):
            return None
        with Session(engine) as session:
            return librarycheck.check(session, content.catalog, content.root, now=now())
    except SQLAlchemyError as exc:
        typer.echo(f"(Không đọc được thư viện trong cơ sở dữ liệu: {type(exc).__name__})")
        return None
    finally:
        engine.dispose()


@content_app.command("import-topic")
def import_topic(
    file: Annotated[Path, typer.Argument(help="Tài liệu học tập: DOCX hoặc PDF có chữ")],
    topic_id: Annotated[str, typer.Option("--id", help="Mã chuyên đề, ví dụ chuyen-de-2027")] = "",
    title: Annotated[str, typer.Option("--title", help="Tên đầy đủ của chuyên đề")] = "",
    years: Annotated[str, typer.Option("--years", help="Năm dùng chuyên đề, ví dụ 2027")] = "",
    draft: Annotated[bool, typer.Option("--draft", help="Để bản nháp, sửa trong chat")] = False,
) -> None:
    """Tạo chuyên đề từ tài liệu học tập (chia mục theo đề mục) và xuất bản; nạp lại cùng --id
    sẽ thay nội dung của chuyên đề đó."""
    from bot.db import session_scope
    from bot.services import librarywrite
    from bot.services.docimport import DocumentError
    from bot.services.librarywrite import LibraryError

    data = _read(file)
    year_list: list[int] = []
    for part in years.replace(",", " ").split():
        if not part.isdigit() or len(part) != 4:
            raise fail(f"--years phải là năm, ví dụ 2027 (nhận được “{years}”)")
        year_list.append(int(part))
    built = build(load_settings())
    moment = now()
    with session_scope(built.db) as session:
        try:
            row = librarywrite.create(
                session,
                built.content.catalog,
                data=data,
                filename=file.name,
                by=BY,
                now=moment,
                tz=built.settings.tz,
                topic_id=topic_id.strip() or None,
                title=title.strip() or None,
                years=year_list or None,
            )
            if not draft and row.status != "published":
                librarywrite.publish(session, row.id, by=BY, now=moment)
        except DocumentError as exc:
            reason = _say(built, f"library.doc_errors.{exc.reason}", name=file.name, **exc.values)
            raise fail(reason) from None
        except LibraryError as exc:
            raise fail(_say(built, exc.key, **exc.values)) from None
        state = "bản nháp" if row.status == "draft" else "đã xuất bản"
        typer.echo(f"Chuyên đề {row.id} ({state}): {row.title}")
        typer.echo(f"Năm: {', '.join(map(str, row.years))}; {len(row.sections)} mục:")
        for n, section in enumerate(row.sections, 1):
            typer.echo(f"  {n}. {section['title']} ({len(section['body'])} ký tự)")
    typer.echo(
        f"Tiếp theo: congdoan content template questions cau-hoi.xlsx, soạn câu hỏi, rồi "
        f"congdoan content import-questions cau-hoi.xlsx --topic {row.id}"
    )


@template_app.command("questions")
def template_questions(
    file: Annotated[Path, typer.Argument(help="Tệp .xlsx sẽ tạo")],
) -> None:
    """Mẫu Excel để soạn câu hỏi thi: dòng tiêu đề, một dòng ví dụ, trang hướng dẫn."""
    from bot.content import load_content
    from bot.services import xlsxquestions

    settings = load_settings()
    if file.suffix.lower() != ".xlsx":
        raise fail("tên tệp phải kết thúc bằng .xlsx")
    content = load_content(settings.content_dir)
    example = next(iter(content.catalog.questions.values()), None)
    file.write_bytes(xlsxquestions.template(example))
    typer.echo(f"Đã tạo mẫu {file}: mỗi dòng một câu hỏi; trang “Hướng dẫn” giải thích các cột.")


@content_app.command("import-questions")
def import_questions(
    file: Annotated[Path, typer.Argument(help="Tệp .xlsx theo mẫu")],
    topic: Annotated[str, typer.Option("--topic", help="Mã chuyên đề")] = "",
    valid_only: Annotated[
        bool, typer.Option("--valid-only", help="Nhập các dòng hợp lệ, bỏ qua dòng có lỗi")
    ] = False,
) -> None:
    """Nhập câu hỏi thi từ Excel vào một chuyên đề; mọi dòng được kiểm tra, nhập lại cùng tệp
    sẽ cập nhật theo mã, không tạo câu trùng."""
    from bot.db import session_scope
    from bot.services import library, librarywrite
    from bot.services.librarywrite import LibraryError
    from bot.services.xlsxquestions import SheetError

    if not topic.strip():
        raise fail("thiếu --topic: mã chuyên đề (xem: congdoan content list)")
    data = _read(file)
    built = build(load_settings())
    moment = now()
    topic_id = topic.strip()
    with session_scope(built.db) as session:
        base = built.content.catalog
        if library.topic_any(session, base, topic_id, now=moment) is None:
            raise fail(f"không có chuyên đề mã “{topic_id}” (xem: congdoan content list)")
        try:
            result = library.check_sheet(
                session, base, built.content.root, topic_id, data, now=moment
            )
        except SheetError as exc:
            raise fail(_say(built, f"library.sheet_errors.{exc.reason}", name=file.name)) from None
        for problem in result.problems:
            typer.echo(str(problem), err=True)
        for warning in result.warnings:
            typer.echo(f"Cảnh báo: {warning}")
        good = result.good()
        if result.problems and not valid_only:
            raise fail(
                f"{len(result.problems)} lỗi ở {len(result.bad_rows)} dòng, chưa nhập câu nào "
                f"(sửa rồi chạy lại, hoặc thêm --valid-only để nhập {len(good)} câu hợp lệ)",
                code=1,
            )
        if not good:
            raise fail("không có câu hỏi nào để nhập", code=1)
        try:
            done = librarywrite.import_questions(
                session, base, topic_id, good, by=BY, now=moment, file_name=file.name
            )
        except LibraryError as exc:
            raise fail(_say(built, exc.key, **exc.values)) from None
    typer.echo(
        f"Đã nhập: {done.added} câu mới, {done.updated} câu cập nhật, {done.unchanged} câu "
        f"không đổi; chuyên đề {topic_id} có {done.total} câu hỏi."
    )


@content_app.command("export-questions")
def export_questions(
    file: Annotated[Path, typer.Argument(help="Tệp .xlsx sẽ tạo")],
    topic: Annotated[str, typer.Option("--topic", help="Mã chuyên đề")] = "",
) -> None:
    """Xuất bộ câu hỏi của một chuyên đề ra Excel (cùng mẫu), để sửa rồi nhập lại."""
    from bot.db import session_scope
    from bot.services import library, xlsxquestions

    built = build(load_settings())
    with session_scope(built.db) as session:
        bank = library.bank(session, built.content.catalog, topic.strip(), now=now())
    if not bank:
        raise fail(f"chuyên đề “{topic}” chưa có câu hỏi nào (xem: congdoan content list)")
    file.write_bytes(xlsxquestions.export(bank))
    typer.echo(f"Đã xuất {len(bank)} câu hỏi ra {file}.")


@content_app.command("list")
def content_list() -> None:
    """Các chuyên đề: bản nháp, đã xuất bản, có sẵn trong content/; số mục và câu hỏi."""
    from bot.db import session_scope
    from bot.services import library

    built = build(load_settings())
    names = {"draft": "bản nháp", "published": "đã xuất bản", "shipped": "có sẵn"}
    with session_scope(built.db) as session:
        for entry in library.entries(session, built.content.catalog, now=now()):
            typer.echo(
                f"{entry.id}  {entry.short_title}  ({names[entry.status]}; {entry.sections} mục, "
                f"{entry.questions} câu hỏi)"
            )


@content_app.command("export-topic")
def export_topic(
    topic_id: Annotated[str, typer.Argument(help="Mã chuyên đề của thư viện")],
    folder: Annotated[Path, typer.Argument(help="Thư mục sẽ ghi, cùng cấu trúc content/")],
) -> None:
    """Xuất một chuyên đề của thư viện ra YAML (topics/, quizzes/, seeds/), để đưa vào
    content/ của bộ cài đặt hoặc chuyển sang máy khác."""
    from bot.db import session_scope
    from bot.services import libraryexport

    built = build(load_settings())
    with session_scope(built.db) as session:
        written = libraryexport.to_yaml(
            session, built.content.catalog, topic_id.strip(), folder, now=now()
        )
    if not written:
        raise fail(f"không có chuyên đề mã “{topic_id}” trong thư viện")
    for path in written:
        typer.echo(f"Đã ghi {path}")
