"""The core stays headless: ledger never imports the terminal app, and the terminal app
reaches storage only through the service."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(folder: str) -> list[tuple[Path, str]]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path, node.module))
    return found


@pytest.mark.parametrize("path,module", _imports("ledger"))
def test_ledger_does_not_import_the_terminal_app(path, module):
    assert module.split(".")[0] not in ("textual", "tui"), f"{path.relative_to(ROOT)} imports {module}"


@pytest.mark.parametrize("path,module", _imports("tui"))
def test_tui_does_not_reach_storage(path, module):
    forbidden = ("sqlite3", "sqlalchemy", "sqlmodel", "sqlite_utils")
    assert module.split(".")[0] not in forbidden and not module.startswith("ledger.storage"), \
        f"{path.relative_to(ROOT)} imports {module}"


def test_the_core_imports_without_textual():
    import subprocess
    import sys

    code = ("import sys; sys.modules['textual'] = None; "
            "import ledger.service, ledger.cli, ledger.verify, ledger.demo; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.strip() == "ok", result.stderr
