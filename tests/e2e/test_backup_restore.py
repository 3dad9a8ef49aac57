"""`backup` and `restore`: a verified, owner-only copy that is consistent while others record,
and a restore that never loses a file and will not quietly go back behind a checkpoint that has
left the ledger."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
import threading
from contextlib import closing

import pytest

from ledger.service import LedgerService



def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def add_party(path, name: str) -> None:
    with LedgerService.open(path) as service:
        service.register_party({"name": name, "kind": "third_party", "country": "JP", "address": "Kyoto",
                                "representative": "R"})


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "ledger.db"
    with LedgerService.open(path, create=True) as service:
        service.create_signing_key()
    add_party(path, "First KK")
    return path


def restore_log(path) -> list[tuple]:
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute("SELECT forced, reason, refused_because, size FROM restore_log").fetchall()


def test_a_backup_is_an_owner_only_verified_copy_and_never_overwrites(ledger, command_line, tmp_path):
    out = tmp_path / "backup.db"
    code, text, _ = command_line("--db", ledger, "backup", "--out", out)
    assert code == 0 and "the copy verifies" in text
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".*part*")) and not (tmp_path / "backup.db-wal").exists()
    with LedgerService.open(ledger) as original, LedgerService.open(out) as copy:
        assert copy.store.size() == original.store.size() == 2
        assert copy.root_at(2) == original.root_at(2) and copy.verify().ok
    before = digest(out)
    code, _, err = command_line("--db", ledger, "backup", "--out", out)
    assert code == 2 and "never overwrites" in err and digest(out) == before


def test_a_new_ledger_file_is_owner_only(tmp_path, command_line):
    path = tmp_path / "new.db"
    assert command_line("--db", path, "init")[0] == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_backup_taken_while_another_writer_appends_is_consistent(ledger, tmp_path):
    done = threading.Event()

    def writer():
        with LedgerService.open(ledger) as service:
            for i in range(150):
                service.register_party({"name": f"Busy {i}", "kind": "third_party", "country": "JP",
                                        "address": "Kyoto", "representative": "R"})
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    with LedgerService.open(ledger) as service:
        from ledger.backup import backup
        while not done.is_set() and len(copies) < 5:
            copies.append(backup(service, tmp_path / f"during-{len(copies)}.db"))
    thread.join()
    assert copies
    for result in copies:
        with LedgerService.open(result.path) as copy:
            report = copy.verify()
            assert report.ok and report.size == result.size and 2 <= result.size <= 152


def test_restore_refuses_a_backup_older_than_an_exported_checkpoint_and_changes_nothing(ledger, command_line, tmp_path):
    old = tmp_path / "old.db"
    assert command_line("--db", ledger, "backup", "--out", old)[0] == 0
    add_party(ledger, "Second KK")
    assert command_line("--db", ledger, "checkpoint", "export", "--out", tmp_path / "auditor.note")[0] == 0
    before = digest(ledger)
    code, _, err = command_line("--db", ledger, "restore", old)
    assert code == 2
    assert "checkpoint #1 of 3 entries has left the ledger" in err and "has only 2 entries" in err
    assert "Nothing was changed" in err and digest(ledger) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("ledger.db.", ".ledger"))) == []

    code, _, err = command_line("--db", ledger, "restore", old, "--force")
    assert code == 2 and "reason" in err and digest(ledger) == before

    code, text, _ = command_line("--db", ledger, "restore", old, "--force", "--reason", "the disk failed")
    assert code == 0 and "Forced past: checkpoint #1" in text
    [kept] = [p for p in tmp_path.iterdir() if p.name.startswith("ledger.db.replaced-")]
    assert digest(kept) == before  # nothing is lost: the replaced ledger is kept
    assert restore_log(ledger) == [(1, "the disk failed", restore_log(ledger)[0][2], 2)]
    assert "has only 2 entries" in restore_log(ledger)[0][2]
    # the same ledger's keys came along, so the auditor's checkpoint now tells the rollback
    code, text, _ = command_line("--db", ledger, "verify", "--against", tmp_path / "auditor.note")
    assert code == 1 and "cut short or an older backup was put back" in text


def test_restore_of_an_equal_or_newer_backup_needs_no_force(ledger, command_line, tmp_path):
    assert command_line("--db", ledger, "checkpoint", "export", "--out", tmp_path / "auditor.note")[0] == 0
    backup = tmp_path / "same.db"
    assert command_line("--db", ledger, "backup", "--out", backup)[0] == 0
    code, text, _ = command_line("--db", ledger, "restore", backup)
    assert code == 0 and "Restored 2 entries" in text and "Forced" not in text
    assert restore_log(ledger) == [(0, None, None, 2)]
    assert command_line("--db", ledger, "verify", "--against", tmp_path / "auditor.note")[0] == 0


def test_restore_refuses_losing_entries_even_without_an_export(ledger, command_line, tmp_path):
    old = tmp_path / "old.db"
    command_line("--db", ledger, "backup", "--out", old)
    add_party(ledger, "Second KK")
    code, _, err = command_line("--db", ledger, "restore", old)
    assert code == 2 and "1 entries more than the backup" in err


def test_restore_refuses_another_ledger_and_files_that_are_not_ledgers(ledger, command_line, tmp_path):
    other = tmp_path / "other.db"
    with LedgerService.open(other, create=True):
        pass
    code, _, err = command_line("--db", ledger, "restore", other)
    assert code == 2 and "another ledger" in err
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    before = digest(ledger)
    code, _, err = command_line("--db", ledger, "restore", junk)
    assert code == 2 and "not an SQLite database" in err and digest(ledger) == before
    code, _, err = command_line("--db", ledger, "restore", tmp_path / "missing.db")
    assert code == 2 and "no such backup file" in err
    assert not [p for p in tmp_path.iterdir() if "restoring" in p.name]
