"""Helpers shared by the tamper, checkpoint and verify tests: change a closed ledger file behind
the service's back with raw SQL, as someone holding the file could, and run the real command."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing

from ledger.cli import main
from ledger.service import LedgerService
from ledger.storage.guards import expected_triggers

from .conftest import FIXED_NOW

UPDATE_TRIGGER = "entry_append_only_update"
DELETE_TRIGGER = "entry_append_only_delete"
INSERT_TRIGGER = "entry_next_seq_only"
KEY_TRIGGERS = ("checkpoint_append_only_update", "checkpoint_append_only_delete")


def raw_sql(path, *statements, drop_triggers: bool = False):
    """Run statements on the closed ledger file with a plain sqlite3 connection."""
    with closing(sqlite3.connect(str(path))) as conn:
        if drop_triggers:
            for name in (UPDATE_TRIGGER, DELETE_TRIGGER, INSERT_TRIGGER):
                conn.execute(f"DROP TRIGGER {name}")
        for statement in statements:
            if isinstance(statement, tuple):
                conn.execute(*statement)
            else:
                conn.execute(statement)
        conn.commit()


def read_entries(path) -> list[tuple[int, bytes, bytes]]:
    with closing(sqlite3.connect(str(path))) as conn:
        return [(s, bytes(leaf), bytes(h)) for s, leaf, h in
                conn.execute("SELECT seq, leaf, leaf_hash FROM entry ORDER BY seq")]


def leaf_of(path, seq: int) -> bytes:
    with closing(sqlite3.connect(str(path))) as conn:
        return bytes(conn.execute("SELECT leaf FROM entry WHERE seq = ?", (seq,)).fetchone()[0])


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def report_of(path):
    """verify through the service."""
    with LedgerService.open(path) as service:
        return service.verify()


def cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def open_service(path, **kwargs) -> LedgerService:
    return LedgerService.open(path, operator="checkpoint-test", clock=lambda: FIXED_NOW, **kwargs)


def record_more(path, count: int) -> None:
    with open_service(path) as service:
        for i in range(count):
            service.record_disclosure({
                "recipient": "P002", "date": "2024-05-30", "subjects": [f"late-{i}"], "data_items": ["name"],
                "purpose": "affiliate_provision_with_consent", "basis": "consent",
                "evidence": {"consent_reference": f"late form {i}", "consent_date": "2024-04-01"}})


def rewrite_from(path, seq: int, old: bytes, new: bytes) -> None:
    """The attack a hash chain cannot see: change entry `seq`, then recompute every later `prev`
    and every leaf hash, and rebuild the query tables and tree nodes to match."""
    entries = read_entries(path)
    rows, prev = [], None
    for number, leaf, _ in entries:
        if number == seq:
            assert old in leaf
            leaf = leaf.replace(old, new)
        if prev is not None and number > seq:
            document = json.loads(leaf)
            leaf = leaf.replace(f'"prev":"{document["prev"]}"'.encode(), f'"prev":"{prev.hex()}"'.encode())
        digest = leaf_hash(leaf)
        if number >= seq:
            rows.append(("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (leaf, digest, number)))
        prev = digest
    raw_sql(path, *rows, drop_triggers=True)
    restore_guards(path)
    with open_service(path) as service:
        service.rebuild()


def restore_guards(path) -> None:
    """What a careful attacker does after editing: put the dropped triggers back."""
    with closing(sqlite3.connect(str(path))) as conn:
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        for name, sql in expected_triggers().items():
            if name not in present:
                conn.execute(sql)
        conn.commit()


def drop_stored_checkpoints(path) -> None:
    with closing(sqlite3.connect(str(path))) as conn:
        for name in KEY_TRIGGERS:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM checkpoint_export")
        conn.execute("DELETE FROM checkpoint")
        conn.commit()
    restore_guards(path)
