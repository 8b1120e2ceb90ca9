"""One voice (issue 16, item 9): one term per idea in everything a person reads. "nộp muộn",
"tỷ lệ", "xóa" and the new placement of tone marks (hòa, hóa, khỏe, thủy); Trợ lý speaks of itself
as "Trợ lý", never "Mình" or "bot"; "đăng ký" is the yearly pledge only, a member's sign-up is
"khai báo thông tin". Quotes from the seed documents keep the source's wording."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from bot.contentmodel import loc_path, strings
from bot.textutil import nfc
from bot.yamlfile import load_yaml

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"

# Anywhere a person reads: (pattern, what to write instead)
EVERYWHERE = [
    (re.compile(r"(?i)(?<!\w)trễ(?!\w)"), "“nộp muộn” / “muộn”"),
    (re.compile(r"(?i)(?<!\w)tỉ lệ(?!\w)"), "“tỷ lệ”"),
    # old placement of the tone mark on an open syllable: hoà, hoá, khoẻ, thuỷ, xoá
    (re.compile(r"(?i)\w*(?:o[àáảãạ]|o[èéẻẽẹ]|(?<!q)u[ỳýỷỹỵ])(?!\w)"), "the new style (hòa, xóa)"),
    (re.compile(r"(?<!\w)Mình(?!\w)"), "“Trợ lý” (the bot's self), “bạn” (the member)"),
]
# In what the bot itself says (texts, consent, posts): it is "Trợ lý"
BOT = (re.compile(r"(?i)(?<![\w{])bot(?![\w}])"), "“Trợ lý”")
# and it speaks to "bạn" (texts, consent); a post may say "mỗi đoàn viên … của mình"
MINH = (re.compile(r"(?i)(?<!\w)mình(?!\w)"), "“bạn” / “Trợ lý”")
# "đăng ký" only in the senses of the yearly pledge
PLEDGE_SENSE = re.compile(
    r"(?i)(?:bản|người|đợt) đăng ký"
    r"|đăng ký (?:học tập|làm theo)"
    r"|(?:nội dung|điều|việc)(?: bạn)?(?: đã)? đăng ký"
)
REGISTER = re.compile(r"(?i)(?<!\w)đăng ký(?!\w)")

# Words of the sources, kept as the sources write them: verbatim quotes of the seed documents,
# the wrong forms of content/typos.yaml; in Python, a matcher for the wording of imported
# documents and the docstring that explains tone placement
SOURCE_WORDING = {"quote", "wrong"}
PY_ALLOWED = {("bot/services/librarywrite.py", "hoà"), ("bot/typos.py", "hoá")}


def _speaks_to_member(name: str) -> bool:
    return name in {"texts.yaml", "consent.yaml"}


def _bots_own(name: str) -> bool:
    return _speaks_to_member(name) or name.startswith("posts/")


def _rules_for(name: str) -> list[tuple[re.Pattern[str], str]]:
    return [
        *EVERYWHERE,
        *([BOT] if _bots_own(name) else []),
        *([MINH] if _speaks_to_member(name) else []),
    ]


def _yaml_files(root: Path) -> Iterator[Path]:
    yield from sorted(root.glob("*.yaml"))
    for folder in ("posts", "topics", "quizzes"):
        yield from sorted((root / folder).glob("*.yaml"))


def _findings(name: str, where: str, text: str, *, own: bool) -> Iterator[str]:
    text = nfc(text)
    for pattern, instead in _rules_for(name):
        for match in pattern.finditer(text):
            yield f"{where}: “{match.group()}”, write {instead}"
    if own:
        allowed = [m.span() for m in PLEDGE_SENSE.finditer(text)]
        for match in REGISTER.finditer(text):
            if not any(a <= match.start() < b for a, b in allowed):
                tail = text[match.start() : match.end() + 25]
                yield f"{where}: “{tail}…”: a member's sign-up is “khai báo thông tin”"


def _content_findings(content: Path) -> list[str]:
    found: list[str] = []
    for path in _yaml_files(content):
        name = path.relative_to(content).as_posix()
        own = _bots_own(name)
        doc = load_yaml(path)
        for loc, text in strings(doc.data, ()):
            if loc and loc[-1] in SOURCE_WORDING:
                continue
            where = f"{name}:{doc.line(loc)} {loc_path(loc)}"
            found += _findings(name, where, text, own=own)
    return found


def test_every_text_a_member_reads_uses_one_term_per_idea() -> None:
    found = _content_findings(CONTENT)
    assert not found, "\n".join(found)


def test_user_facing_python_strings_use_the_same_terms() -> None:
    found: list[str] = []
    for folder in ("bot", "handlers", "scheduler"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                    continue
                for pattern, instead in EVERYWHERE:
                    for match in pattern.finditer(nfc(node.value)):
                        if (name, match.group()) in PY_ALLOWED:
                            continue
                        found.append(f"{name}:{node.lineno}: “{match.group()}”, write {instead}")
    assert not found, "\n".join(found)


def test_the_readme_quotes_the_bot_in_the_same_terms() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    found = [
        f"README.md:{n}: “{m.group()}”, write {instead}"
        for n, line in enumerate(text.splitlines(), 1)
        for pattern, instead in EVERYWHERE
        for m in pattern.finditer(nfc(line))
    ]
    assert not found, "\n".join(found)


def test_the_voice_check_names_the_key_and_the_word(tmp_path: Path) -> None:
    """The check itself: each forbidden variant is named with its key; a quote is left alone."""
    (tmp_path / "posts").mkdir()
    (tmp_path / "texts.yaml").write_text(
        "engine:\n"
        '  unknown_input: "Mình chưa hiểu tin nhắn này."\n'
        "pledge:\n"
        '  late: "nộp trễ"\n'
        '  sent: "Bot sẽ báo cho bạn; bạn đã đăng ký rồi."\n'
        '  ok: "Nộp bản đăng ký học tập và làm theo; nội dung bạn đã đăng ký."\n'
        "stats:\n"
        '  chart: "Tỉ lệ nộp – hài hoà"\n',
        encoding="utf-8",
    )
    (tmp_path / "posts" / "p.yaml").write_text(
        'text: "Xoá"\nsource:\n  quote: "hài hoà, tỉ lệ"\n', encoding="utf-8"
    )
    found = "\n".join(_content_findings(tmp_path))
    for expected in (
        "engine.unknown_input: “Mình”",
        "pledge.late: “trễ”",
        "pledge.sent: “Bot”",
        "pledge.sent: “đăng ký rồi.",
        "stats.chart: “Tỉ lệ”",
        "stats.chart: “hoà”",
        "posts/p.yaml:1 text: “Xoá”",
    ):
        assert expected in found, found
    assert "pledge.ok" not in found and "quote" not in found
