"""Verification: recompute every leaf hash and chain link, the RFC 9162 root, and check the
query tables and the vault against the entries. Problems are told in plain words."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .chain.encoding import FORMAT_VERSION, ZERO_HASH_HEX, canonical_json
from .chain.merkle import RootBuilder
from .storage.db import MIGRATIONS, Store, _split_sql
from .storage.projection import ENTRY_KINDS, PROJECTION_TABLE_NAMES, clear_projections, project, project_many
from .vault import commitments_in

MAX_PROBLEMS = 100
Progress = Callable[[int, int], None]

# The seq each projection row stems from, to say where a difference is.
_ROW_SEQ = {
    "party": "version_seq",
    "party_version": "seq",
    "disclosure": "coalesce(last_change_seq, seq)",
    "disclosure_subject": "disclosure_seq",
    "disclosure_change": "seq",
    "contractor": "version_seq",
    "contractor_version": "seq",
    "assessment": "seq",
    "erasure": "seq",
    "erased_commitment": "erasure_seq",
}


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    what: str

    def as_dict(self) -> dict:
        return {"seq": self.seq, "problem": self.what}


@dataclass
class VerifyReport:
    size: int = 0
    root: str = ""
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def add(self, seq: int | None, what: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, what))

    def as_dict(self) -> dict:
        return {"ok": self.ok, "size": self.size, "root": self.root,
                "first_bad_seq": self.first_bad_seq,
                "problems": [p.as_dict() for p in self.problems]}


def _scratch_schema(conn: sqlite3.Connection) -> None:
    for _, sql in MIGRATIONS:
        for statement in _split_sql(sql):
            conn.execute(statement)
    conn.execute("CREATE TABLE expected_commitment (commitment TEXT NOT NULL, entry_seq INTEGER NOT NULL)")


def verify_ledger(store: Store, progress: Progress | None = None) -> VerifyReport:
    report = VerifyReport()
    total = store.size()
    with tempfile.TemporaryDirectory(prefix="disclosure-ledger-verify-") as folder:
        scratch = sqlite3.connect(str(Path(folder) / "expected.db"), isolation_level=None)
        scratch.execute("PRAGMA journal_mode=OFF")
        scratch.execute("PRAGMA synchronous=OFF")
        _scratch_schema(scratch)
        scratch.execute("BEGIN")
        builder = _check_entries(store, scratch, report, total, progress)
        scratch.execute("COMMIT")
        report.size = builder.size
        report.root = builder.root().hex()
        scratch.execute("ATTACH DATABASE ? AS live", (str(store.path),))
        _compare_projections(scratch, report)
        _check_vault(scratch, report)
        scratch.close()
    return report


def _check_entries(store: Store, scratch: sqlite3.Connection, report: VerifyReport, total: int,
                   progress: Progress | None) -> RootBuilder:
    builder = RootBuilder()
    expected_seq = 1
    prev_hex = ZERO_HASH_HEX
    sha256 = hashlib.sha256
    commitments: list[tuple[str, int]] = []
    for seq, leaf, stored_hash in store.iter_entries():
        leaf = bytes(leaf)
        if seq != expected_seq:
            if seq > expected_seq:
                missing = f"entries {expected_seq} to {seq - 1} are" if seq - 1 > expected_seq else f"entry {expected_seq} is"
                report.add(expected_seq, f"{missing} missing: the ledger goes from entry {expected_seq - 1} to entry {seq}")
            expected_seq = seq
        computed = sha256(b"\x00" + leaf).digest()
        builder.push(computed)
        if bytes(stored_hash) != computed:
            report.add(seq, f"entry {seq} was changed after it was written: its stored hash does not match its bytes")
        try:
            decoded = json.loads(leaf)
            if not isinstance(decoded, dict):
                raise ValueError
        except ValueError:
            report.add(seq, f"entry {seq} is damaged: its bytes are not a readable record")
            prev_hex, expected_seq = bytes(stored_hash).hex(), seq + 1
            continue
        if decoded.get("seq") != seq:
            report.add(seq, f"entry {seq} holds the record written as entry {decoded.get('seq')}: entries were moved or swapped")
        if decoded.get("prev") != prev_hex:
            report.add(seq, f"entry {seq} does not link to the entry before it: entry {seq - 1} was rewritten, or an entry was removed or inserted here")
        if decoded.get("v") != FORMAT_VERSION or decoded.get("kind") not in ENTRY_KINDS:
            report.add(seq, f"entry {seq} is not a record this ledger format knows (version {decoded.get('v')}, kind {decoded.get('kind')})")
        elif canonical_json(decoded) != leaf:
            report.add(seq, f"entry {seq} is not in canonical form (RFC 8785): it was rewritten outside the ledger")
        else:
            try:
                project(scratch, seq, decoded)
                for digest in commitments_in(decoded["body"]):
                    commitments.append((digest, seq))
            except (KeyError, TypeError, AttributeError, sqlite3.Error):
                report.add(seq, f"entry {seq} does not hold a valid {decoded.get('kind')} record")
        if len(commitments) > 20000:
            scratch.executemany("INSERT INTO expected_commitment VALUES (?, ?)", commitments)
            commitments.clear()
        prev_hex = bytes(stored_hash).hex()
        expected_seq = seq + 1
        if progress is not None and seq % 10000 == 0:
            progress(seq, total)
    scratch.executemany("INSERT INTO expected_commitment VALUES (?, ?)", commitments)
    if progress is not None:
        progress(builder.size, total)
    return builder


def _compare_projections(scratch: sqlite3.Connection, report: VerifyReport) -> None:
    for table in PROJECTION_TABLE_NAMES:
        where = _ROW_SEQ[table]
        extra = scratch.execute(
            f"SELECT min({where}) FROM (SELECT * FROM live.{table} EXCEPT SELECT * FROM main.{table})"
        ).fetchone()[0]
        missing = scratch.execute(
            f"SELECT min({where}) FROM (SELECT * FROM main.{table} EXCEPT SELECT * FROM live.{table})"
        ).fetchone()[0]
        if extra is not None or missing is not None:
            seq = min(s for s in (extra, missing) if s is not None)
            report.add(seq, f"the query table '{table}' does not match the entries at entry {seq}: "
                            "it was edited directly; `disclosure-ledger rebuild` restores it from the entries")


def _check_vault(scratch: sqlite3.Connection, report: VerifyReport) -> None:
    sha256 = hashlib.sha256
    for digest, seq, salt, value in scratch.execute(
            "SELECT commitment, entry_seq, salt, value FROM live.vault ORDER BY entry_seq"):
        if sha256(bytes(salt) + value.encode("utf-8")).hexdigest() != digest:
            report.add(seq, f"a personal value kept for entry {seq} was edited in the vault: it no longer matches the entry")
    row = scratch.execute(
        "SELECT min(v.entry_seq) FROM live.vault v LEFT JOIN expected_commitment e "
        "ON e.commitment = v.commitment AND e.entry_seq = v.entry_seq WHERE e.commitment IS NULL"
    ).fetchone()
    if row[0] is not None:
        report.add(row[0], f"the vault holds a value for entry {row[0]} that the entry does not commit to")
    row = scratch.execute(
        "SELECT min(e.entry_seq) FROM expected_commitment e WHERE NOT EXISTS "
        "(SELECT 1 FROM live.vault v WHERE v.commitment = e.commitment) AND NOT EXISTS "
        "(SELECT 1 FROM main.erased_commitment x WHERE x.commitment = e.commitment)"
    ).fetchone()
    if row[0] is not None:
        report.add(row[0], f"a personal value of entry {row[0]} was deleted from the vault without an erasure entry")
    row = scratch.execute(
        "SELECT min(x.erasure_seq) FROM main.erased_commitment x JOIN live.vault v ON v.commitment = x.commitment"
    ).fetchone()
    if row[0] is not None:
        report.add(row[0], f"a value erased by entry {row[0]} is still in the vault")


def rebuild_projections(store: Store, progress: Progress | None = None) -> int:
    """Clear the query tables and project every entry again, in one transaction."""
    total = store.size()
    with store.transaction():
        clear_projections(store.conn)
        batch: list[tuple[int, dict]] = []
        for seq, leaf, _ in store.iter_entries():
            batch.append((seq, json.loads(leaf)))
            if len(batch) == 5000:
                project_many(store.conn, batch)
                batch.clear()
                if progress is not None:
                    progress(seq, total)
        project_many(store.conn, batch)
    return total

