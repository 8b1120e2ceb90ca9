"""The month's message limit of a platform (Zalo plans) and the files served by link."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.db import make_engine
from bot.models import BroadcastKind
from bot.services import files, quota

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 00:30 on 1/1/2027 in Vietnam


def _take(db, count: int, kind: str | None, *, limit: int = 100, month: str = "2026-12") -> bool:  # type: ignore[no-untyped-def]
    with Session(db) as s:
        return quota.take(s, platform="zalo", month=month, count=count, limit=limit, kind=kind)


def test_lower_priorities_stop_first_and_nothing_goes_over(db_url: str) -> None:
    db = make_engine(db_url)
    anniversary, announcement = BroadcastKind.ANNIVERSARY.value, BroadcastKind.ANNOUNCEMENT.value
    reminder = BroadcastKind.REMINDER.value
    assert _take(db, 70, anniversary)
    assert _take(db, 5, anniversary)  # 75: the posts' ceiling
    assert not _take(db, 1, anniversary)
    assert _take(db, 10, announcement)  # 85
    assert not _take(db, 1, announcement)
    assert _take(db, 10, reminder)  # 95
    assert not _take(db, 1, reminder)
    assert _take(db, 5, quota.REPLY)  # 100: replies may use it all
    assert not _take(db, 1, quota.REPLY)
    with Session(db) as s:
        use = quota.usage(s, platform="zalo", month="2026-12", limit=100)
        assert (use.sent, use.held, use.percent) == (100, 4, 100)
        assert quota.notices_due(s, platform="zalo", month="2026-12", limit=100) == ["warn", "held"]
        quota.mark_notice(s, platform="zalo", month="2026-12", notice="warn", now=NOW)
        s.commit()
        assert quota.notices_due(s, platform="zalo", month="2026-12", limit=100) == ["held"]
    assert _take(db, 1, anniversary, month="2027-01")  # a new month starts afresh
    assert quota.month_of(NOW, TZ) == "2027-01"  # months are counted in local time
    db.dispose()


def test_many_workers_together_never_pass_the_limit(db_url: str) -> None:
    db = make_engine(db_url)
    with ThreadPoolExecutor(max_workers=8) as pool:
        taken = list(pool.map(lambda _: _take(db, 1, quota.REPLY, limit=50), range(120)))
    assert sum(taken) == 50
    with Session(db) as s:
        assert quota.usage(s, platform="zalo", month="2026-12", limit=50).sent == 50
    db.dispose()


def test_no_limit_only_counts(db_url: str) -> None:
    db = make_engine(db_url)
    assert all(_take(db, 10, BroadcastKind.ANNIVERSARY.value, limit=0) for _ in range(20))
    with Session(db) as s:
        assert quota.usage(s, platform="zalo", month="2026-12", limit=0).sent == 200
        assert quota.notices_due(s, platform="zalo", month="2026-12", limit=0) == []
    db.dispose()


def test_a_file_link_is_unguessable_expires_and_is_never_listed(db_url: str) -> None:
    db = make_engine(db_url)
    with Session(db, expire_on_commit=False) as s:
        one = files.store(s, data=b"%PDF", filename="Bản đăng ký.docx", now=NOW)
        two = files.store(s, data=b"\x89PNG....", filename="x.jpg", now=NOW, ttl=timedelta(hours=1))
        s.commit()
    assert one.id != two.id and len(one.id) >= 40
    assert one.content_type.endswith("wordprocessingml.document")
    assert two.content_type == "image/png"  # by its bytes, whatever its name says
    assert files.url("https://bot.example.org/", one) == f"https://bot.example.org/files/{one.id}"
    with Session(db) as s:
        assert files.find(s, one.id, now=NOW) is not None
        assert files.find(s, one.id[:-1] + ("A" if one.id[-1] != "A" else "B"), now=NOW) is None
        assert files.find(s, "../etc/passwd", now=NOW) is None
        assert files.find(s, two.id, now=NOW + timedelta(hours=2)) is None  # expired
        assert files.find(s, one.id, now=NOW + timedelta(days=8)) is None  # 7 days by default
        assert files.prune(s, now=NOW + timedelta(hours=2)) == 1
        s.commit()
        assert files.find(s, one.id, now=NOW) is not None
    db.dispose()
