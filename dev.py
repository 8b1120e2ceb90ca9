#!/usr/bin/env python3
"""Set up and run congdoan-bot with nothing but Python 3.11+.

python3 dev.py chat    create .venv, install, migrate, load demo units, open `congdoan chat`
python3 dev.py test    create .venv, install, run ruff, mypy and the whole test suite
python3 dev.py setup   only create .venv and install
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
MARKER = VENV / ".installed"


def run(*args: str | Path, env: dict[str, str] | None = None) -> None:
    print("$", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env)  # noqa: S603 (our own commands)
    if code:
        sys.exit(code)


def setup() -> None:
    """Create the virtual environment and install the project with its dev extra, once."""
    if sys.version_info < (3, 11):  # noqa: UP036 (dev.py may be started by an older python)
        sys.exit("congdoan-bot cần Python 3.11 trở lên (needs Python 3.11+)")
    if not PYTHON.exists():
        print(f"Tạo môi trường ảo {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if MARKER.exists() and MARKER.read_text() == digest:
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    # setuptools announces every editable install with a boxed "Editable installation" notice
    # that reads like an error to a newcomer; it is information only.
    quiet = {**os.environ, "PYTHONWARNINGS": "ignore:Editable installation"}
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]", env=quiet)
    MARKER.write_text(digest)


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command not in {"chat", "test", "setup"}:
        print(__doc__)
        sys.exit(0 if command == "help" else 2)
    setup()
    if command == "chat":
        run(BIN / "congdoan", "db", "upgrade")
        os.chdir(ROOT)
        os.execv(str(BIN / "congdoan"), [str(BIN / "congdoan"), "chat", *sys.argv[2:]])  # noqa: S606
    elif command == "test":
        run(PYTHON, "-m", "ruff", "check", ".")
        run(PYTHON, "-m", "mypy", "bot", "handlers", "scheduler")
        run(PYTHON, "-m", "pytest", "-q", *sys.argv[2:])


if __name__ == "__main__":
    main()
