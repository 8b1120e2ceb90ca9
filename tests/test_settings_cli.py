"""Settings and the command line: clear one-line errors, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.content import check_content


@pytest.fixture
def env(monkeypatch):  # type: ignore[no-untyped-def]
    for name in (
        "DATABASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "TIMEZONE",
        "ADMIN_TELEGRAM_IDS",
        "ZALO_BOT_TOKEN",
        "PUBLIC_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("DATABASE_URL", "mysql://u@h/db", "chỉ hỗ trợ sqlite hoặc postgresql"),
        ("TELEGRAM_BOT_TOKEN", "abc", "TELEGRAM_BOT_TOKEN"),
        ("TIMEZONE", "Mars/Olympus", "múi giờ"),
        ("BROADCAST_RATE_PER_SECOND", "nhanh", "BROADCAST_RATE_PER_SECOND"),
        ("ADMIN_TELEGRAM_IDS", "abc,;", "không phải mã người dùng Telegram"),
        ("ADMIN_ZALO_IDS", "ab cd", "không phải mã người dùng Zalo"),
        ("ZALO_BOT_TOKEN", "no-colon", "ZALO_BOT_TOKEN"),
        ("ZALO_WEBHOOK_SECRET", "short", "ZALO_WEBHOOK_SECRET"),
        ("ZALO_MONTHLY_MESSAGE_LIMIT", "-5", "ZALO_MONTHLY_MESSAGE_LIMIT"),
        ("PUBLIC_BASE_URL", "bot.example.org", "PUBLIC_BASE_URL"),
    ],
)
def test_malformed_settings_give_one_line(env, name, value, says):
    env.setenv(name, value)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 2
    assert says in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_admin_ids_are_parsed_from_a_comma_list(env):
    env.setenv("ADMIN_TELEGRAM_IDS", " 1, 22 ,,333 ")
    assert get_settings().admin_ids("telegram") == {"1", "22", "333"}


def test_run_without_token_says_what_to_do(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "TELEGRAM_BOT_TOKEN" in result.output and "ZALO_BOT_TOKEN" in result.output
    env.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-token-abcdefghijklmnopqrstuvwxyz")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["run", "--webhook"])
    assert result.exit_code == 2 and "TELEGRAM_WEBHOOK_SECRET" in result.output
    env.delenv("TELEGRAM_BOT_TOKEN")
    env.setenv("ZALO_BOT_TOKEN", "1234567890:zalo-test-secret-abcdefghij")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["run", "--webhook"])
    assert result.exit_code == 2 and "ZALO_WEBHOOK_SECRET" in result.output


def test_a_read_only_database_stops_the_start_with_one_line(env, tmp_path):
    """As on a read-only mount: the bot would fail every update, so it does not start."""
    path = tmp_path / "ro.db"
    env.setenv("DATABASE_URL", f"sqlite:///{path}")
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    get_settings.cache_clear()
    env.setenv("DATABASE_URL", f"sqlite:///file:{path}?mode=ro&uri=true")
    env.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST-token-abcdefghijklmnopqrstuvwxyz")
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "chỉ đọc" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_db_upgrade_on_a_fresh_sqlite_file(env, tmp_path):
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/sub/dir/new.db")
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "sub/dir/new.db").exists()


def test_shipped_content_passes_the_check(env):
    assert check_content(PROJECT_ROOT / "content") == []
    result = CliRunner().invoke(cli, ["content", "check"])
    assert result.exit_code == 0 and "hợp lệ" in result.output


def _copy_content(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "content", target)
    return target


def test_content_check_names_file_and_line(env, tmp_path):
    content = _copy_content(tmp_path)
    texts = content / "texts.yaml"
    lines = texts.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.strip().startswith("cancelled:"))
    lines[index] = '  cancelled: "Đã hủy {"'
    texts.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (content / "consent.yaml").write_text('version: ""\ntext: "ngắn"\n', encoding="utf-8")
    env.setenv("CONTENT_DIR", str(content))
    result = CliRunner().invoke(cli, ["content", "check"])
    assert result.exit_code == 1
    assert f"texts.yaml:{index + 1}: engine.cancelled" in result.output
    assert "consent.yaml:1: version" in result.output and "consent.yaml:2: text" in result.output


def test_content_check_reports_broken_yaml(tmp_path):
    content = _copy_content(tmp_path)
    (content / "texts.yaml").write_text("engine:\n  a: [unclosed\n", encoding="utf-8")
    problems = check_content(content)
    assert problems and problems[0].file.name == "texts.yaml" and problems[0].line >= 2


def test_settings_default_is_embedded_sqlite(env):
    assert Settings(_env_file=None).database_url == "sqlite:///data/congdoan.db"  # type: ignore[call-arg]


def test_content_check_reports_a_duplicated_key(tmp_path):
    """YAML keeps the last of two equal keys: a second `groups:` block would hide the first."""
    content = _copy_content(tmp_path)
    texts = content / "texts.yaml"
    original = texts.read_text(encoding="utf-8")
    texts.write_text(original + '\ngroups:\n  extra: "Thêm"\n', encoding="utf-8")
    problems = check_content(content)
    first = original.splitlines().index("groups:") + 1
    assert any(
        p.file.name == "texts.yaml" and f"khóa “groups” bị lặp (đã có ở dòng {first})" in p.message
        for p in problems
    ), problems
