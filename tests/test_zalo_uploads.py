"""Files from people on Zalo, which takes none in the chat: the bot answers a request for a file
with a one-time upload link it serves itself; the page sends the file, which reaches the
conversation as if sent there, and the answer comes in the Zalo chat (issue 13 over issue 11)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlmodel import Session, select

from bot.models_library import LibraryTopic, UploadSlot
from tests import docsamples
from tests.test_zalo_e2e import ADMIN, USER, Running, api, polling, register, say  # noqa: F401 (the fixtures)

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/upload/[A-Za-z0-9_-]+)")


def upload_link(text: str) -> str:
    found = LINK.findall(text)
    assert found, text
    return str(found[-1])


async def test_an_admin_on_zalo_sends_the_document_through_the_link(polling: Running) -> None:  # noqa: F811
    zalo = polling.api
    await register(zalo, user=ADMIN, name="Trần Thị Lan")
    text = await say(zalo, "/chuyende", "Chuyên đề và câu hỏi thi", ADMIN)
    assert "1. ➕ Thêm chuyên đề từ tài liệu" in text
    text = await say(zalo, "1", "/upload/", ADMIN)
    assert "dùng một lần" in text and "DOCX" in text
    link = upload_link(text)

    async with httpx.AsyncClient(timeout=30) as client:
        page = await client.get(link)
        assert page.status_code == 200 and 'type="file"' in page.text
        assert "no-store" in page.headers["cache-control"]
        # a wrong file first: the answer comes in the chat, with a new link
        mark = zalo.mark()
        sent = await client.post(link, files={"file": ("anh.txt", b"chu khong phai docx")})
        assert sent.status_code == 200 and "Trợ lý đã nhận tệp" in sent.text
        got = await zalo.await_for(
            lambda: "\n".join(zalo.texts_to(ADMIN, since=mark)) or None, timeout=10
        )
        assert "không phải DOCX hoặc PDF" in got
        # the used link is gone, for a replay and for a second submit alike
        again = await client.post(link, files={"file": ("x.docx", docsamples.topic_docx())})
        assert again.status_code == 404 and "đã dùng hoặc đã hết hạn" in again.text
        assert (await client.get(link)).status_code == 404
        await zalo.await_for(lambda: LINK.search("\n".join(zalo.texts_to(ADMIN, since=mark))), 10)
        fresh = upload_link("\n".join(zalo.texts_to(ADMIN, since=mark)))
        assert fresh != link
        mark = zalo.mark()
        sent = await client.post(
            fresh, files={"file": ("Chuyên đề 2027.docx", docsamples.topic_docx())}
        )
        assert "Chuyên đề 2027.docx" in sent.text
        got = await zalo.await_for(
            lambda: (t := "\n".join(zalo.texts_to(ADMIN, since=mark))) and "4 mục" in t and t,
            timeout=10,
        )
        assert "Bản nháp: Chuyên đề năm 2027" in got and "Mục 1: I.1. Tiết kiệm là gì" in got
        # no file chosen, a malformed or unknown link, a huge body
        junk = await client.post(fresh, data={"x": "1"})
        assert junk.status_code == 404  # used already
        for bad in ("/upload/short", "/upload/" + "A" * 43, "/upload/../files/x"):
            answer = await client.get(polling.base + bad)
            assert answer.status_code == 404 and "Traceback" not in answer.text
    with Session(polling.app.db) as s:
        assert s.exec(select(LibraryTopic)).one().created_by == f"zalo:{ADMIN}"
        slots = s.exec(select(UploadSlot)).all()
    assert all(s.used_at is not None for s in slots) and len(slots) == 2
    assert all(s.expires_at - s.created_at == timedelta(hours=1) for s in slots)


async def test_an_expired_or_oversized_upload_is_refused_kindly(polling: Running) -> None:  # noqa: F811
    zalo = polling.api
    await register(zalo, user=ADMIN, name="Trần Thị Lan")
    await say(zalo, "/chuyende", "Chuyên đề và câu hỏi thi", ADMIN)
    text = await say(zalo, "1", "/upload/", ADMIN)
    link = upload_link(text)
    async with httpx.AsyncClient(timeout=30) as client:
        big = b"0" * (11 * 1024 * 1024)
        answer = await client.post(link, files={"file": ("lon.pdf", big)})
        assert answer.status_code == 413 and "tối đa 10 MB" in answer.text
        empty = await client.post(link, files={"file": ("", b"")})
        assert empty.status_code == 400 and "Chưa có tệp nào" in empty.text
        polling.app.engine.clock = lambda: _later(polling)  # an hour and a minute later
        late = await client.get(link)
        assert late.status_code == 404
    # a member who never asked for a file has no link, and the page lists nothing
    await register(zalo)
    text = await say(zalo, "/chuyende", "chỉ dành cho", USER)
    assert "/upload/" not in text


def _later(running: Running):  # type: ignore[no-untyped-def]
    from bot.models import utcnow

    return utcnow() + timedelta(hours=1, minutes=1)
