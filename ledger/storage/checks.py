"""The SQL that `verify` runs against a ledger file (ledger/verify.py holds the checks in Python).

Verification reads the file through its own read-only connections: one for the chain pass in
the calling thread, one for the content pass (opened again in a forked process on a large
ledger, else used by a background thread). All hold a read transaction on the same snapshot.

The content pass compares every `disclosure` row at version 1 with the leaf of its
`disclosure.recorded` entry using SQLite's JSON functions, with the same mapping as
`projection.disclosure_columns` (see `DISCLOSURE_FROM_LEAF`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Iterator

IN_LIST_CHUNK = 500  # values in one `IN (?, ...)` list: SQLite bounds the parameters of a statement

ENTRY_BATCH = 4096  # a power of two: the Merkle tree is built a perfect subtree at a time
_SNAPSHOT_TRIES = 20


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection to the ledger file, usable from another thread, for verify: text
    that is not UTF-8 (written outside the ledger) is read, not refused, so that it can be told."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.text_factory = _lenient_text
    return conn


def _lenient_text(raw: bytes) -> str:
    """Bytes that are not UTF-8 become lone surrogates, which equal nothing the ledger writes."""
    return raw.decode("utf-8", "surrogateescape")


def last_seq(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(seq), 0) FROM entry").fetchone()[0]


def begin_snapshot(first: sqlite3.Connection, *others: sqlite3.Connection) -> int:
    """Open a read transaction on every connection, on the same snapshot, and return its last seq.

    Every write to a ledger appends an entry, so connections that see the same last seq see the
    same data; if a write lands between the BEGINs, start again."""
    for attempt in range(_SNAPSHOT_TRIES):
        first.execute("BEGIN")
        bound = last_seq(first)
        seen = []
        for conn in others:
            conn.execute("BEGIN")
            seen.append(last_seq(conn))
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
    for i in range(0, len(wanted), IN_LIST_CHUNK):
        chunk = wanted[i:i + IN_LIST_CHUNK]
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

# Each vault row with its commitment and the bytes that commitment hashes, salt || UTF-8 value.
# A commitment is a 32-byte BLOB: one stored as another type (even TEXT holding the same bytes)
# reads as empty, which matches no digest and no leaf.
_VAULT_ROWS_OF = (
    "SELECT entry_seq, CASE WHEN typeof(commitment) = 'blob' THEN commitment ELSE x'' END, "
    "CAST(salt || CAST(value AS BLOB) AS BLOB) FROM vault WHERE entry_seq > ? AND entry_seq <= ?"
)


def vault_rows_of(conn: sqlite3.Connection, after: int, upto: int) -> list[tuple]:
    """(entry_seq, commitment, salt || value) of the vault rows of the entries after `after` up
    to `upto`."""
    return conn.execute(_VAULT_ROWS_OF, (after, upto)).fetchall()


def vault_commitments_of(conn: sqlite3.Connection, seq: int) -> list:
    """The commitments (hex) of entry `seq`'s vault rows; None for one not stored as a BLOB."""
    return [c for (c,) in conn.execute(
        "SELECT CASE WHEN typeof(commitment) = 'blob' THEN lower(hex(commitment)) END FROM vault WHERE entry_seq = ?",
        (seq,))]


def vault_labels_of(conn: sqlite3.Connection, seqs: Iterable[int]) -> list[tuple[int, str | None, object]]:
    """(entry_seq, commitment as hex or None when not a BLOB, field) of the vault rows of these entries."""
    wanted = sorted(seqs)
    found: list[tuple[int, str | None, object]] = []
    for i in range(0, len(wanted), IN_LIST_CHUNK):
        chunk = wanted[i:i + IN_LIST_CHUNK]
        found.extend(conn.execute(
            "SELECT entry_seq, CASE WHEN typeof(commitment) = 'blob' THEN lower(hex(commitment)) END, field "
            f"FROM vault WHERE entry_seq IN ({','.join('?' * len(chunk))})", chunk).fetchall())
    return found


def vault_outside(conn: sqlite3.Connection, bound: int) -> tuple[int | None, int]:
    """Vault rows whose entry_seq names no entry of the ledger: (smallest such seq, count)."""
    low, count = conn.execute(
        "SELECT min(entry_seq), count(*) FROM vault WHERE entry_seq < 1 OR entry_seq > ?", (bound,)).fetchone()
    return (low if isinstance(low, int) else None), count


def vault_entries_of(conn: sqlite3.Connection, commitments: Iterable[str]) -> dict[str, object]:
    """commitment (hex) -> entry_seq of the vault rows holding these commitments (one pass over the vault)."""
    wanted = json.dumps(sorted({c.upper() for c in commitments if isinstance(c, str)}))
    return {digest.lower(): seq for digest, seq in conn.execute(
        "SELECT hex(commitment), entry_seq FROM vault WHERE typeof(commitment) = 'blob' "
        "AND hex(commitment) IN (SELECT value FROM json_each(?))", (wanted,)).fetchall()}


# ---- the query tables ---------------------------------------------------------------------

# How each column of `disclosure` at version 1 is found in the leaf of its disclosure.recorded
# entry: the SQL twin of projection._recorded_disclosure_row (tests hold the two equal).
#   ("value", path): the JSON value at path (a missing key reads as null);
#   ("bool", path):  the JSON true/false at path, stored as 1/0;
#   ("json", path):  the canonical JSON text of the array at path, as SQLite renders it;
#   ("sql", condition): a condition on the row `d` and the leaf `e.leaf`.
DISCLOSURE_FROM_LEAF: dict[str, tuple[str, str]] = {
    "seq": ("sql", "d.seq = e.seq"),
    "recipient_id": ("value", "$.body.recipient"),
    "country": ("value", "$.body.recipient_country"),
    "first_day": ("value", "$.body.first_day"),
    "last_day": ("value", "$.body.last_day"),
    "purpose": ("value", "$.body.purpose"),
    "basis": ("value", "$.body.basis"),
    "method": ("value", "$.body.method"),
    "retention_until": ("value", "$.body.retention_until"),
    "bulk": ("bool", "$.body.bulk"),
    "contract_as_record": ("bool", "$.body.contract_as_record"),
    "group_count": ("value", "$.body.subjects.group.count"),
    "data_items": ("json", "$.body.data_items"),
    "route": ("value", "$.body.cross_border.route"),
    "statutory": ("bool", "$.body.statutory.required"),
    "statutory_ground": ("value", "$.body.statutory.ground"),
    "recorded_at": ("value", "$.recorded_at"),
    "recorded_by": ("value", "$.recorded_by"),
    "assessment_seq": ("value", "$.body.gating.assessment"),
    "status": ("sql", "d.status IS 'active'"),
    "version": ("sql", "d.version IS 1"),
    "last_change_seq": ("sql", "d.last_change_seq IS NULL"),
    "override": ("sql", "d.override IS (json_type(e.leaf, '$.body.gating.override') IS NOT NULL)"),
    "subject_count": ("sql", "1"),  # with the subject rows, below
}


def _as_json(kind: str, column: str) -> str:
    if kind == "bool":
        return f"CASE d.{column} WHEN 1 THEN json('true') WHEN 0 THEN json('false') ELSE d.{column} END"
    return f"d.{column}"


def _disclosure_check(guarded: bool = False) -> str:
    """One condition on a disclosure row `d` and its entry `e`: true when they agree.

    The leaf's values are read with one multi-path json_extract (one parse, cached) and compared,
    as JSON text, with the row's values made into a JSON array; arrays (data items) are compared
    as text on their own, which spares parsing the row's copy. JSON cannot hold a BLOB: the
    guarded form first finds rows holding one (they differ), for when the fast form fails."""
    paths = [(c, k, p) for c, (k, p) in DISCLOSURE_FROM_LEAF.items() if k in ("value", "bool")]
    leaf = ", ".join(f"'{p}'" for _, _, p in paths)
    row = ", ".join(_as_json(k, c) for c, k, _ in paths)
    # An array is compared as the text SQLite renders it, which for a canonical leaf is the
    # canonical JSON the row holds.
    arrays = " AND ".join(f"json_type(e.leaf, '{p}') IS 'array' AND json_extract(e.leaf, '{p}') IS d.{c}"
                          for c, (k, p) in DISCLOSURE_FROM_LEAF.items() if k == "json")
    others = " AND ".join(f"({p})" for c, (k, p) in DISCLOSURE_FROM_LEAF.items() if k == "sql")
    check = (f"json_extract(e.leaf, '$.kind', {leaf}) IS json_array('disclosure.recorded', {row}) "
             f"AND {arrays} AND {others} AND {_SUBJECTS_FROM_LEAF}")
    if guarded:
        blobs = " OR ".join(f"typeof(d.{c}) = 'blob'" for c, (k, _) in DISCLOSURE_FROM_LEAF.items() if k != "sql")
        check = f"CASE WHEN {blobs} THEN 0 ELSE {check} END"
    return f"CASE WHEN e.seq IS NOT NULL AND json_valid(e.leaf) THEN {check} ELSE 0 END"


# The rows of disclosure_subject of a version-1 disclosure are (seq, i, identified[i].commitment)
# for the leaf's $.body.subjects.identified, none without it: positions 0..n-1 whose commitments,
# as a JSON array in position order, equal the leaf's array; and subject_count is the group's
# count, else that number of rows.
_SUBJECTS_FROM_LEAF = (
    "coalesce(json_extract(e.leaf, '$.body.subjects.identified'), '[]') IS "
    "(SELECT CASE WHEN d.subject_count IS coalesce(d.group_count, count(*)) AND (count(*) = 0 OR "
    "(min(s.position) = 0 AND max(s.position) = count(*) - 1 AND sum(typeof(s.position) = 'integer') = count(*) "
    "AND sum(typeof(s.commitment) = 'blob' AND length(s.commitment) = 32) = count(*))) "
    "THEN '[' || coalesce(group_concat('{\"commitment\":\"' || lower(hex(s.commitment)) || '\"}', ','), '') || ']' END "
    "FROM (SELECT position, commitment FROM disclosure_subject WHERE disclosure_seq = d.seq ORDER BY position) s)"
)
SUBJECT_COLUMNS = ("disclosure_seq", "position", "commitment")


def disclosure_columns(conn: sqlite3.Connection) -> list[str]:
    return [row[1] for row in conn.execute("PRAGMA table_info(disclosure)")]


def _range(column: str, low: int | None, high: int | None) -> tuple[str, tuple]:
    """(low, high] on a column; an open bound (None) takes every value beyond, numbers or not."""
    terms, args = [], []
    if low is not None:
        terms.append(f"{column} > ?")
        args.append(low)
    if high is not None:
        terms.append(f"{column} <= ?")
        args.append(high)
    return (" AND ".join(terms) or "1"), tuple(args)


# The field a vault row of a version-1 disclosure is labelled with names where its entry holds its
# commitment (vault.fields_in is the Python twin): a subject is one of the disclosure's subject rows,
# which the check above holds equal to the leaf; any other field is a path in the leaf. Subject
# lookups and erasure read the label, so it is checked, not trusted. An evidence code is taken
# into a JSON path only when it is a plain name (reference data codes are [a-z][a-z0-9_]*) with no
# NUL, where text functions would stop reading: any other label is wrong.
_PLAIN_LABEL = "typeof(v.field) = 'text' AND length(v.field) = length(CAST(v.field AS BLOB))"
_VAULT_FIELDS_FROM_LEAF = (
    "NOT EXISTS (SELECT 1 FROM vault v WHERE v.entry_seq = d.seq AND NOT coalesce(CASE "
    "WHEN v.field = 'subject' THEN EXISTS (SELECT 1 FROM disclosure_subject s "
    "WHERE s.disclosure_seq = d.seq AND s.commitment = v.commitment) "
    "WHEN v.field = 'notes' THEN json_extract(e.leaf, '$.body.notes.commitment') IS lower(hex(v.commitment)) "
    "WHEN v.field = 'group_description' THEN "
    "json_extract(e.leaf, '$.body.subjects.group.description.commitment') IS lower(hex(v.commitment)) "
    f"WHEN v.field GLOB 'evidence.?*' AND {_PLAIN_LABEL} AND substr(v.field, 10) NOT GLOB '*[^a-z0-9_]*' THEN "
    "json_extract(e.leaf, '$.body.evidence.' || substr(v.field, 10) || '.commitment') IS lower(hex(v.commitment)) "
    f"WHEN v.field GLOB 'route_evidence.?*' AND {_PLAIN_LABEL} AND substr(v.field, 16) NOT GLOB '*[^a-z0-9_]*' THEN "
    "json_extract(e.leaf, '$.body.cross_border.evidence.' || substr(v.field, 16) || '.commitment') "
    "IS lower(hex(v.commitment)) END, 0))"
)

Mismatches = tuple[int | None, int]  # (smallest seq, count)
_MATERIALIZED = "MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35) else ""


def recorded_disclosure_mismatches(conn: sqlite3.Connection, bound: int, low: int | None = None,
                                   high: int | None = None) -> tuple[Mismatches, Mismatches]:
    """For the disclosure rows at version 1 with seq in (low, high]: those that differ from the
    leaf of their entry, or whose entry is not a readable disclosure.recorded entry; and those
    that agree but whose entry's vault rows are labelled with a field other than where the leaf
    holds them."""
    where, args = _range("d.seq", low, high)
    for guarded in (False, True):
        # Materialized (SQLite 3.35+), so that each check runs once a row however often the totals
        # name it.
        sql = (
            f"WITH checked AS {_MATERIALIZED}("
            f"SELECT d.seq AS seq, {_disclosure_check(guarded)} AS agrees, "
            f"CASE WHEN e.seq IS NOT NULL AND json_valid(e.leaf) THEN {_VAULT_FIELDS_FROM_LEAF} ELSE 1 END AS labelled "
            "FROM disclosure d LEFT JOIN entry e ON e.seq = d.seq AND e.seq <= ? "
            f"WHERE {where} AND d.version = 1) "
            "SELECT min(CASE WHEN NOT agrees THEN seq END), coalesce(sum(NOT agrees), 0), "
            "min(CASE WHEN agrees AND NOT labelled THEN seq END), coalesce(sum(agrees AND NOT labelled), 0) "
            "FROM checked"
        )
        try:
            low_seq, count, low_label, labels = conn.execute(sql, (bound, *args)).fetchone()
            return (low_seq, count), (low_label, labels)
        except sqlite3.OperationalError as exc:
            if guarded or "JSON cannot hold BLOB values" not in str(exc):
                raise
    raise AssertionError("unreachable")


def orphan_subject_rows(conn: sqlite3.Connection, low: int | None = None,
                        high: int | None = None) -> tuple[object, int]:
    """disclosure_subject rows, with disclosure_seq in (low, high], of a disclosure that does not
    exist: (smallest disclosure_seq, count)."""
    where, args = _range("s.disclosure_seq", low, high)
    return tuple(conn.execute(
        "SELECT min(s.disclosure_seq), count(*) FROM disclosure_subject s "
        f"WHERE {where} AND NOT EXISTS (SELECT 1 FROM disclosure d WHERE d.seq = s.disclosure_seq)", args).fetchone())


def every_nth_disclosure(conn: sqlite3.Connection, n: int) -> list[int]:
    """The seq of the n-th, 2n-th, ... disclosure in seq order (seq is the table's rowid)."""
    ends: list[int] = []
    after = -(2**63)
    while (row := conn.execute("SELECT seq FROM disclosure WHERE seq > ? ORDER BY seq LIMIT 1 OFFSET ?",
                               (after, n - 1)).fetchone()) is not None:
        after = row[0]
        ends.append(after)
    return ends


def disclosure_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM disclosure").fetchone()[0]


def changed_disclosures(conn: sqlite3.Connection) -> list[int]:
    """Disclosures whose row is not at version 1: they must be the targets of corrections and voids."""
    return [s for (s,) in conn.execute("SELECT seq FROM disclosure WHERE version IS NOT 1")]


def primary_key(conn: sqlite3.Connection, table: str) -> list[str]:
    info = sorted((row[5], row[1]) for row in conn.execute(f"PRAGMA table_info({table})") if row[5])
    return [name for _, name in info]


def erasure_claims(conn: sqlite3.Connection, commitments: Iterable[str]) -> dict[str, object]:
    """commitment -> erasure_seq, as the erased_commitment query table claims."""
    wanted = json.dumps(sorted({c for c in commitments if isinstance(c, str)}))
    return dict(conn.execute(
        "SELECT commitment, erasure_seq FROM erased_commitment WHERE commitment IN (SELECT value FROM json_each(?))",
        (wanted,)).fetchall())


def column_names(conn: sqlite3.Connection, table: str) -> list[str]:
    return [d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description]


def ordered_rows(conn: sqlite3.Connection, table: str, key: list[str], column: str | None = None,
                 among: Iterable[int] | None = None, batch: int = 5000) -> Iterator[tuple]:
    """The rows of a query table in primary-key order: all of them, or those whose `column` is in `among`."""
    order = ", ".join(key)
    if column is None:
        cursor = conn.execute(f"SELECT * FROM {table} ORDER BY {order}")
    else:
        wanted = json.dumps(sorted({s for s in among or () if isinstance(s, int)}))
        cursor = conn.execute(
            f"SELECT * FROM {table} WHERE {column} IN (SELECT value FROM json_each(?)) ORDER BY {order}", (wanted,))
    while True:
        rows = cursor.fetchmany(batch)
        if not rows:
            return
        yield from rows


def row_of(conn: sqlite3.Connection, table: str, column: str, value: object) -> tuple | None:
    return conn.execute(f"SELECT * FROM {table} WHERE {column} = ?", (value,)).fetchone()
