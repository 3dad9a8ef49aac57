"""The SQLModel query-table classes and the versioned SQL schema describe the same tables."""

from __future__ import annotations

import sqlite3

import pytest
from sqlmodel import SQLModel

from ledger.storage import models  # noqa: F401  (registers the tables)
from ledger.storage.db import SCHEMA_VERSION, Store
from ledger.storage.projection import PROJECTION_TABLE_NAMES


@pytest.fixture
def schema(tmp_path):
    store = Store.open(tmp_path / "schema.db", create=True)
    yield store.conn
    store.close()


def _columns(conn: sqlite3.Connection, table: str) -> dict[str, tuple[bool, bool]]:
    """name -> (not null, part of the primary key)."""
    return {row[1]: (bool(row[3]), bool(row[5])) for row in conn.execute(f"PRAGMA table_info({table})")}


@pytest.mark.parametrize("table", sorted(SQLModel.metadata.tables))
def test_model_matches_the_migrated_table(schema, table):
    model = SQLModel.metadata.tables[table]
    migrated = _columns(schema, table)
    assert migrated, f"table {table} is not created by the migrations"
    assert set(migrated) == {c.name for c in model.columns}
    for column in model.columns:
        not_null, primary = migrated[column.name]
        assert primary == column.primary_key, column.name
        if not column.primary_key:
            assert not_null == (not column.nullable), column.name


def test_every_projection_table_has_a_model():
    assert set(PROJECTION_TABLE_NAMES) <= set(SQLModel.metadata.tables)


def test_schema_version_and_application_id(schema):
    assert schema.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert schema.execute("PRAGMA application_id").fetchone()[0] == 0x444C4752


def test_entry_table_is_guarded_by_triggers(schema):
    names = {row[0] for row in schema.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"entry_append_only_update", "entry_append_only_delete", "entry_next_seq_only"} <= names


def test_entries_are_read_in_chunks_in_seq_order_once_each(sample_ledger, monkeypatch):
    from ledger.storage import checks

    monkeypatch.setattr(checks, "IN_LIST_CHUNK", 7)
    store = Store.open(sample_ledger.path, create=False)
    try:
        asked = [*range(sample_ledger.size + 5, 0, -1), 3, 3]  # backwards, with repeats and missing seqs
        assert [e.seq for e in store.entries(asked)] == list(range(1, sample_ledger.size + 1))
        assert store.entries([]) == []
    finally:
        store.close()
