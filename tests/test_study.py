"""Studying a topic section by section, with progress saved and completion recorded."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.app import build_app
from bot.channels.memory import MemoryChat
from bot.models import StudyProgress
from tests.helpers import register


def test_read_back_and_forth_resume_and_finish(app, settings):
    me = MemoryChat(app.engine, "s1")
    register(me)
    me.say("/hoc")
    labels = [o.label for o in me.last_choices().options]
    assert labels[0].endswith("Dân chủ và pháp chế 2024") and labels[1].endswith("7 dám")
    me.press("7 dám")
    topic = app.content.catalog.topics["bay-dam-2024"]
    assert f"Phần 1/{len(topic.sections)}" in me.last_text()
    assert topic.sections[0].title in me.last_text() and "Nguồn:" in me.last_text()
    me.press("Tiếp")
    me.press("Tiếp")
    me.press("Quay lại")
    assert f"Phần 2/{len(topic.sections)}" in me.last_text()
    me.say("xin chào")
    assert "dùng các nút" in me.last_text()
    me.say("/huy")
    again = MemoryChat(build_app(settings).engine, "s1")  # a restart in between
    again.say("/hoc")
    again.press("7 dám")
    assert f"Tiếp tục từ phần 2/{len(topic.sections)}" in again.last_text()
    for _ in range(len(topic.sections) - 2):
        again.press("Tiếp")
    again.press("Hoàn thành")
    assert "học xong chuyên đề" in again.last_text()
    with Session(app.db) as s:
        row = s.exec(select(StudyProgress)).one()
    assert row.completed_at is not None and row.topic_id == "bay-dam-2024"
    again.say("/hoc")
    assert "✅ 7 dám" in [o.label for o in again.last_choices().options]
    again.say("/toi")
    assert "7 dám: đã học xong" in again.last_text()
