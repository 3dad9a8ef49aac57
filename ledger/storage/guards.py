"""The append-only guards: the triggers the migrations create. They stop mistakes, not attackers
(anyone with the file can drop one), so `verify` checks that each is still there, unchanged."""

from __future__ import annotations

import re
import sqlite3

from .db import MIGRATIONS, _split_sql

_TRIGGER_NAME = re.compile(r"CREATE\s+TRIGGER\s+(\w+)", re.I)
_GUARDED_TABLE = re.compile(r"\bON\s+(\w+)", re.I)


def _normalised(sql: str) -> str:
    return " ".join(sql.split())


def expected_triggers() -> dict[str, str]:
    """Trigger name -> its CREATE statement, as the migrations write it."""
    found = {}
    for _, script in MIGRATIONS:
        for statement in _split_sql(script):
            match = _TRIGGER_NAME.match(statement.strip())
            if match:
                found[match.group(1)] = _normalised(statement.rstrip().rstrip(";"))
    return found


def missing_or_altered(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """(trigger, the table it guards, 'removed' | 'altered') for every guard that is not as the
    migrations made it."""
    present = {name: _normalised(sql or "") for name, sql in
               conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")}
    problems = []
    for name, sql in expected_triggers().items():
        table = _GUARDED_TABLE.search(sql).group(1)
        if name not in present:
            problems.append((name, table, "removed"))
        elif present[name] != sql:
            problems.append((name, table, "altered"))
    return problems
