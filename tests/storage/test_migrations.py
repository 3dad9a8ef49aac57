"""Versioned migrations: a ledger written at every earlier schema version opens under this one,
is migrated in place, keeps every entry and root, and has every append-only guard afterwards."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing

import pytest

from ledger.service import LedgerService
from ledger.storage.db import MIGRATIONS, SCHEMA_VERSION, _split_sql
from ledger.storage.guards import missing_or_altered

CREATED = re.compile(r"CREATE\s+(TABLE|TRIGGER|INDEX)\s+(\w+)", re.I)


def objects_of(migration_sql: str) -> list[tuple[str, str]]:
    return [(m.group(1).upper(), m.group(2)) for statement in _split_sql(migration_sql)
            if (m := CREATED.match(statement.strip()))]


def as_of_version(path, version: int) -> None:
    """Turn a current ledger into one written at `version`: drop what later migrations made."""
    with closing(sqlite3.connect(str(path))) as conn:
        for name, sql in MIGRATIONS[version:]:
            for kind, created in reversed(objects_of(sql)):
                conn.execute(f"DROP {kind} IF EXISTS {created}")
            conn.execute("DELETE FROM migration WHERE name = ?", (name,))
        conn.execute(f"PRAGMA user_version = {version}")
        conn.commit()


def test_every_migration_is_numbered_in_order():
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and SCHEMA_VERSION == len(names) >= 2
    assert [int(name.split("_")[0]) for name in names] == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_a_ledger_of_an_earlier_schema_is_migrated_with_every_guard(tmp_path, version):
    path = tmp_path / "old.db"
    with LedgerService.open(path, create=True) as service:
        for i in range(5):
            service.register_party({"name": f"Party {i}", "kind": "third_party", "country": "JP",
                                    "address": "Kyoto", "representative": "R"})
        size, root = service.store.size(), service.root_at(service.store.size())
    as_of_version(path, version)
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
        assert missing_or_altered(conn)  # the later guards are really gone before the upgrade

    with LedgerService.open(path) as service:
        assert service.root_at(size) == root and service.store.size() == size
        assert missing_or_altered(service.store.conn) == []
        assert service.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        service.create_signing_key()
        service.make_checkpoint()
        assert service.verify().ok
    with closing(sqlite3.connect(str(path))) as conn:
        applied = [row[0] for row in conn.execute("SELECT name FROM migration ORDER BY name")]
        assert applied == [name for name, _ in MIGRATIONS]
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM entry WHERE seq = 1")


def test_a_failed_migration_leaves_the_file_at_its_old_version(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    with LedgerService.open(path, create=True):
        pass
    as_of_version(path, SCHEMA_VERSION - 1)
    from ledger.storage import db
    broken = [*MIGRATIONS[:-1], (MIGRATIONS[-1][0], MIGRATIONS[-1][1] + "\nCREATE TABLE entry (x);")]
    monkeypatch.setattr(db, "MIGRATIONS", broken)
    with pytest.raises(Exception):
        LedgerService.open(path)
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
        assert MIGRATIONS[-1][0] not in {row[0] for row in conn.execute("SELECT name FROM migration")}
