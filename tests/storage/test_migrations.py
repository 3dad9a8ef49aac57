"""Versioned migrations: a ledger written at every earlier schema version opens under this one,
is migrated in place, keeps every entry and root, and has every append-only guard afterwards."""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from ledger.service import LedgerService
from ledger.storage import db
from ledger.storage.db import MIGRATIONS, SCHEMA_VERSION
from ledger.storage.guards import missing_or_altered

COMMITMENTS_AS_BYTES = "0004_commitments_as_bytes.sql"


def written_at_version(path, version: int, monkeypatch) -> tuple[int, str]:
    """A ledger as a program of schema `version` wrote it: only the first `version` migrations,
    and (before 4) commitments kept as hex text. Returns its size and root."""
    with monkeypatch.context() as patch:
        patch.setattr(db, "MIGRATIONS", MIGRATIONS[:version])
        patch.setattr(db, "SCHEMA_VERSION", version)
        with LedgerService.open(path, create=True) as service:
            service.register_party({"name": "Partner Books KK", "kind": "third_party", "country": "JP",
                                    "address": "Kyoto", "representative": "R", "party_id": "P1"})
            for i in range(4):
                service.record_disclosure({
                    "recipient": "P1", "date": "2026-06-01", "subjects": [f"student-{i}", "student-shared"],
                    "data_items": ["name"], "purpose": "affiliate_provision_with_consent", "basis": "consent",
                    "evidence": {"consent_reference": f"form {i}", "consent_date": "2026-05-01"}, "notes": "by post"})
            size, root = service.store.size(), service.root_at(service.store.size())
    if version < [name for name, _ in MIGRATIONS].index(COMMITMENTS_AS_BYTES) + 1:
        with closing(sqlite3.connect(str(path))) as conn:
            conn.execute("UPDATE vault SET commitment = lower(hex(commitment))")
            conn.execute("UPDATE disclosure_subject SET commitment = lower(hex(commitment))")
            conn.commit()
    return size, root


def test_every_migration_is_numbered_in_order():
    names = [name for name, _ in MIGRATIONS]
    assert names == sorted(names) and SCHEMA_VERSION == len(names) >= 2
    assert [int(name.split("_")[0]) for name in names] == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_a_ledger_of_an_earlier_schema_is_migrated_with_every_guard(tmp_path, monkeypatch, version):
    path = tmp_path / "old.db"
    size, root = written_at_version(path, version, monkeypatch)
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == version
        if any("CREATE TRIGGER" in sql.upper() for _, sql in MIGRATIONS[version:]):
            assert missing_or_altered(conn)  # the later guards are really not there before the upgrade

    with LedgerService.open(path) as service:
        assert service.root_at(size) == root and service.store.size() == size
        assert missing_or_altered(service.store.conn) == []
        assert service.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        report = service.verify()
        assert report.ok, report.as_dict()
        assert [s.seq for s in service.subject_disclosures("student-shared")] == [6, 5, 4, 3]
        service.create_signing_key()
        service.make_checkpoint()
        service.erase_subject("student-2")
        assert service.verify().ok
    with closing(sqlite3.connect(str(path))) as conn:
        applied = [row[0] for row in conn.execute("SELECT name FROM migration ORDER BY name")]
        assert applied == [name for name, _ in MIGRATIONS]
        assert {type(row[0]) for row in conn.execute("SELECT commitment FROM vault")} == {bytes}
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM entry WHERE seq = 1")


def test_a_failed_migration_leaves_the_file_at_its_old_version(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    written_at_version(path, SCHEMA_VERSION - 1, monkeypatch)
    broken = [*MIGRATIONS[:-1], (MIGRATIONS[-1][0], MIGRATIONS[-1][1] + "\nCREATE TABLE entry (x);")]
    monkeypatch.setattr(db, "MIGRATIONS", broken)
    with pytest.raises(Exception):
        LedgerService.open(path)
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION - 1
        assert MIGRATIONS[-1][0] not in {row[0] for row in conn.execute("SELECT name FROM migration")}
