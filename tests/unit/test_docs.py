"""Every command of the command line is documented in the README."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from ledger.cli import build_parser

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix}{name}"
                nested = _commands(sub, full + " ")
                found.extend(nested or [full])
    return found


COMMANDS = _commands(build_parser())


def test_the_parser_has_the_commands_the_issue_names():
    for name in ("init", "demo", "party add", "party list", "party show", "disclose", "correct", "void",
                 "list", "show", "subject", "erase-subject", "import", "verify", "rebuild",
                 "vendor list", "vendor show", "vendor assess", "vendor due"):
        assert name in COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented_in_the_readme(command):
    assert f"`{command}" in README, f"README.md does not document `{command}`"


def test_readme_starts_with_the_two_set_up_commands():
    blocks = [part.split("```", 1)[0].strip() for part in README.split("```sh")[1:3]]
    assert blocks[0] == "python3 -m pip install uv && python3 -m uv run disclosure-ledger"
    assert blocks[1] == "python3 -m pip install uv && python3 -m uv run pytest"
