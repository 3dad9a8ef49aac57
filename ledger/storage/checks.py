"""The SQL that `verify` runs against a ledger file (ledger/verify.py holds the checks in Python).

Verification reads the file through its own read-only connections: one for the chain pass in
the calling thread, one for the content pass in a background thread (SQLite releases the GIL
while a statement runs, so the two overlap). Both hold a read transaction on the same snapshot.

The content pass compares every `disclosure` row at version 1 with the leaf of its
`disclosure.recorded` entry using SQLite's JSON functions, with the same mapping as
`projection.disclosure_columns` (see `DISCLOSURE_FROM_LEAF`).
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Iterable, Iterator

ENTRY_BATCH = 5000
_SNAPSHOT_TRIES = 20
_MMAP_BYTES = 1 << 40  # SQLite caps it at its compile-time maximum; pages are read without a copy


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection to the ledger file, usable from another thread."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")
    return conn


def _max_seq(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(seq), 0) FROM entry").fetchone()[0]


def begin_snapshot(first: sqlite3.Connection, *others: sqlite3.Connection) -> int:
    """Open a read transaction on every connection, on the same snapshot, and return its last seq.

    Every write to a ledger appends an entry, so connections that see the same last seq see the
    same data; if a write lands between the BEGINs, start again."""
    for attempt in range(_SNAPSHOT_TRIES):
        first.execute("BEGIN")
        bound = _max_seq(first)
        seen = []
        for conn in others:
            conn.execute("BEGIN")
            seen.append(_max_seq(conn))
        if all(s == bound for s in seen) or attempt == _SNAPSHOT_TRIES - 1:
            return bound
        for conn in (first, *others):
            conn.execute("ROLLBACK")
        time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def end_snapshot(*conns: sqlite3.Connection) -> None:
    for conn in conns:
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        finally:
            conn.close()


# ---- the entry log -------------------------------------------------------------------------

def first_seq(conn: sqlite3.Connection) -> int | None:
    return conn.execute("SELECT min(seq) FROM entry").fetchone()[0]


def entry_batches(conn: sqlite3.Connection, after: int, bound: int,
                  batch: int = ENTRY_BATCH) -> Iterator[list[tuple[int, bytes | None, bytes | None]]]:
    """(seq, leaf, leaf_hash) in seq order up to `bound`, as bytes whatever type they are stored as."""
    cursor = conn.cursor()
    while True:
        rows = cursor.execute(
            "SELECT seq, CAST(leaf AS BLOB), CAST(leaf_hash AS BLOB) FROM entry "
            "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?", (after, bound, batch)
        ).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][0]


def entries(conn: sqlite3.Connection, seqs: Iterable[int], bound: int) -> list[tuple[int, bytes]]:
    """The leaves of the given entries that exist, in seq order."""
    wanted = sorted({s for s in seqs if isinstance(s, int) and not isinstance(s, bool)})
    found: list[tuple[int, bytes]] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        found.extend(conn.execute(
            f"SELECT seq, CAST(leaf AS BLOB) FROM entry WHERE seq IN ({','.join('?' * len(chunk))}) "
            "AND seq <= ? ORDER BY seq", (*chunk, bound)).fetchall())
    found.sort()
    return found


def entries_without_disclosure(conn: sqlite3.Connection, bound: int) -> list[int]:
    return [s for (s,) in conn.execute(
        "SELECT e.seq FROM entry e WHERE e.seq <= ? "
        "AND NOT EXISTS (SELECT 1 FROM disclosure d WHERE d.seq = e.seq) ORDER BY e.seq", (bound,))]


# ---- the vault -------------------------------------------------------------------------------

# Each vault row as the exact bytes its entry's leaf must hold: {"commitment":"<hex>"}.
_VAULT_NEEDLES = (
    "SELECT entry_seq, CAST(group_concat('{\"commitment\":\"' || commitment || '\"}', char(10)) AS BLOB) "
    "FROM vault WHERE entry_seq > ? AND entry_seq <= ? GROUP BY entry_seq"
)


def vault_needles(conn: sqlite3.Connection, after: int, upto: int) -> dict[int, bytes]:
    """entry seq -> its vault rows' commitment objects as leaf bytes, joined by newlines
    (a newline never occurs in a leaf). Reads only the vault_by_entry index."""
    return dict(conn.execute(_VAULT_NEEDLES, (after, upto)).fetchall())


def vault_commitments_of(conn: sqlite3.Connection, seq: int) -> list:
    return [c for (c,) in conn.execute("SELECT commitment FROM vault WHERE entry_seq = ?", (seq,))]


def vault_outside(conn: sqlite3.Connection, bound: int) -> tuple[int | None, int]:
    """Vault rows whose entry_seq names no entry of the ledger: (smallest such seq, count)."""
    low, count = conn.execute(
        "SELECT min(entry_seq), count(*) FROM vault WHERE NOT (typeof(entry_seq) = 'integer' "
        "AND entry_seq BETWEEN 1 AND ?)", (bound,)).fetchone()
    return (low if isinstance(low, int) else None), count


def vault_rows(conn: sqlite3.Connection, batch: int = 20000) -> Iterator[list[tuple]]:
    """Every vault row as (entry_seq, commitment, salt, value), in table order."""
    cursor = conn.execute("SELECT entry_seq, commitment, salt, value FROM vault")
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            return
        yield rows


def vault_entries_of(conn: sqlite3.Connection, commitments: Iterable[str]) -> dict[str, object]:
    """commitment -> entry_seq of the vault rows holding these commitments."""
    wanted = sorted({c for c in commitments if isinstance(c, str)})
    found: dict[str, object] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        found.update(conn.execute(
            f"SELECT commitment, entry_seq FROM vault WHERE commitment IN ({','.join('?' * len(chunk))})",
            chunk).fetchall())
    return found


# ---- the query tables ---------------------------------------------------------------------

def _leaf(path: str) -> str:
    return f"json_extract(e.leaf, '{path}')"


def _bool(column: str, path: str) -> str:
    # disclosure_columns stores int(value): JSON true/false read back as 1/0.
    return f"d.{column} IS {_leaf(path)}"


# Every column of `disclosure` at version 1, from the leaf of its disclosure.recorded entry:
# the SQL twin of projection._recorded_disclosure_row (tests hold the two equal). A key the
# projection requires but whose column may be NULL must be present in the leaf.
DISCLOSURE_FROM_LEAF: dict[str, str] = {
    "seq": "d.seq = e.seq",
    "recipient_id": f"d.recipient_id IS {_leaf('$.body.recipient')}",
    "country": f"d.country IS {_leaf('$.body.recipient_country')}",
    "first_day": f"d.first_day IS {_leaf('$.body.first_day')}",
    "last_day": f"d.last_day IS {_leaf('$.body.last_day')}",
    "purpose": f"d.purpose IS {_leaf('$.body.purpose')}",
    "basis": f"d.basis IS {_leaf('$.body.basis')}",
    "method": f"json_type(e.leaf, '$.body.method') IS NOT NULL AND d.method IS {_leaf('$.body.method')}",
    "retention_until": f"d.retention_until IS {_leaf('$.body.retention_until')}",
    "bulk": _bool("bulk", "$.body.bulk"),
    "contract_as_record": _bool("contract_as_record", "$.body.contract_as_record"),
    "subject_count": (
        "d.subject_count IS CASE WHEN json_type(e.leaf, '$.body.subjects.group') IS NOT NULL "
        f"THEN {_leaf('$.body.subjects.group.count')} "
        "ELSE json_array_length(e.leaf, '$.body.subjects.identified') END"
    ),
    "group_count": (
        "d.group_count IS CASE WHEN json_type(e.leaf, '$.body.subjects.group') IS NOT NULL "
        f"THEN {_leaf('$.body.subjects.group.count')} END"
    ),
    # The canonical JSON array text, which is what json_extract returns for a canonical leaf.
    "data_items": (
        f"json_type(e.leaf, '$.body.data_items') = 'array' AND d.data_items IS {_leaf('$.body.data_items')}"
    ),
    "route": (
        "CASE json_type(e.leaf, '$.body.cross_border') WHEN 'null' THEN d.route IS NULL "
        f"WHEN 'object' THEN d.route IS {_leaf('$.body.cross_border.route')} ELSE 0 END"
    ),
    "statutory": _bool("statutory", "$.body.statutory.required"),
    "statutory_ground": f"d.statutory_ground IS {_leaf('$.body.statutory.ground')}",
    "status": "d.status IS 'active'",
    "version": "d.version IS 1",
    "last_change_seq": "d.last_change_seq IS NULL",
    "recorded_at": f"d.recorded_at IS {_leaf('$.recorded_at')}",
    "recorded_by": f"d.recorded_by IS {_leaf('$.recorded_by')}",
    "assessment_seq": (
        "CASE json_type(e.leaf, '$.body.gating') WHEN 'null' THEN d.assessment_seq IS NULL "
        f"WHEN 'object' THEN d.assessment_seq IS {_leaf('$.body.gating.assessment')} ELSE 0 END"
    ),
    "override": (
        "d.override IS (json_type(e.leaf, '$.body.gating') = 'object' "
        "AND json_type(e.leaf, '$.body.gating.override') IS NOT NULL)"
    ),
}

# The rows of disclosure_subject of a version-1 disclosure are (seq, i, identified[i].commitment)
# for the leaf's $.body.subjects.identified, none when it has no such array: the same count, and
# each row's commitment at its position.
_SUBJECTS_FROM_LEAF = (
    "(SELECT count(*) FROM disclosure_subject s WHERE s.disclosure_seq = d.seq) "
    "IS coalesce(json_array_length(e.leaf, '$.body.subjects.identified'), 0) "
    "AND NOT EXISTS (SELECT 1 FROM disclosure_subject s WHERE s.disclosure_seq = d.seq "
    "AND s.commitment IS NOT CASE WHEN typeof(s.position) = 'integer' AND s.position >= 0 "
    "THEN json_extract(e.leaf, '$.body.subjects.identified[' || s.position || '].commitment') END)"
)


def disclosure_columns(conn: sqlite3.Connection) -> list[str]:
    return [row[1] for row in conn.execute("PRAGMA table_info(disclosure)")]


def recorded_disclosure_mismatches(conn: sqlite3.Connection, bound: int) -> tuple[int | None, int]:
    """Disclosure rows at version 1 (and their subject rows) that differ from the leaf of their
    entry, or whose entry is not a readable disclosure.recorded entry: (smallest seq, count)."""
    checks = " AND ".join(f"({DISCLOSURE_FROM_LEAF[c]})" for c in DISCLOSURE_FROM_LEAF)
    sql = (
        "SELECT min(d.seq), count(*) FROM disclosure d LEFT JOIN entry e ON e.seq = d.seq AND e.seq <= ? "
        "WHERE d.version = 1 AND NOT CASE WHEN e.seq IS NOT NULL AND json_valid(e.leaf) THEN "
        f"json_extract(e.leaf, '$.kind') IS 'disclosure.recorded' AND {checks} AND {_SUBJECTS_FROM_LEAF} "
        "ELSE 0 END"
    )
    low, count = conn.execute(sql, (bound,)).fetchone()
    return low, count


def orphan_subject_rows(conn: sqlite3.Connection) -> tuple[object, int]:
    """disclosure_subject rows of a disclosure that does not exist: (smallest disclosure_seq, count)."""
    return conn.execute(
        "SELECT min(s.disclosure_seq), count(*) FROM disclosure_subject s "
        "WHERE NOT EXISTS (SELECT 1 FROM disclosure d WHERE d.seq = s.disclosure_seq)").fetchone()


def disclosure_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM disclosure").fetchone()[0]


def changed_disclosures(conn: sqlite3.Connection) -> list[int]:
    """Disclosures whose row is not at version 1: they must be the targets of corrections and voids."""
    return [s for (s,) in conn.execute("SELECT seq FROM disclosure WHERE version IS NOT 1")]


def primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    info = sorted((row[5], row[1]) for row in conn.execute(f"PRAGMA table_info({table})") if row[5])
    return [name for _, name in info]


def table_rows(conn: sqlite3.Connection, table: str, column: str | None = None,
               among: Iterable[int] | None = None) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of a query table, all of it or the rows whose `column` is in `among`."""
    cursor = conn.execute(f"SELECT * FROM {table} LIMIT 0")
    names = [d[0] for d in cursor.description]
    if column is None:
        return names, conn.execute(f"SELECT * FROM {table}").fetchall()
    wanted = sorted(set(among or ()))
    rows: list[tuple] = []
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        rows.extend(conn.execute(
            f"SELECT * FROM {table} WHERE {column} IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return names, rows
