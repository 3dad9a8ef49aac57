"""The SQLite file: opening, migrations, the write transaction and the entry log.

Every SQL statement of the core lives in this package.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterator, NamedTuple

import sqlite_utils
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from ..chain.encoding import FORMAT_VERSION, ZERO_HASH_HEX, canonical_json
from ..errors import LedgerFileError
from . import checks
from .projection import insert_recorded, project_many
from .tree import ensure_table, write_nodes

# PRAGMA application_id marks a file as a Disclosure Ledger ("DLGR").
APPLICATION_ID = 0x444C4752
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_ENV = "DISCLOSURE_LEDGER_BUSY_TIMEOUT"
DEFAULT_BUSY_TIMEOUT_SECONDS = 30.0
# Leaves are about 1 KB: on 4 KB pages a sixth of the entry table is the gap left at the end of
# each page; 16 KB pages waste little. Set when the file is created (it cannot change after).
PAGE_SIZE = 16384
# The page cache of a writing connection (KiB; SQLite's default is 2 MB): a bulk import inserts
# into the vault's value index all over it, and pages evicted in mid-transaction are written
# twice. Memory is taken only as pages are read.
CACHE_KIB = 131_072
# An entry's leaf and hash as bytes whatever a change outside the ledger stored them as (verify
# tells such a change; reads must not stop on it).
_ENTRY_BYTES = "CAST(coalesce(leaf, x'') AS BLOB), CAST(coalesce(leaf_hash, x'') AS BLOB)"
_VAULT_INSERT = "INSERT INTO vault (entry_seq, commitment, field, salt, value) VALUES (?, ?, ?, ?, ?)"


def _migrations() -> list[tuple[str, str]]:
    folder = resources.files(__package__) / "migrations"
    files = sorted(p for p in folder.iterdir() if p.name.endswith(".sql"))
    return [(p.name, p.read_text(encoding="utf-8")) for p in files]


MIGRATIONS = _migrations()
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    leaf: bytes
    leaf_hash: bytes


class PendingVaultValue(NamedTuple):
    commitment: str
    field: str
    salt: bytes
    value: str


def vault_row(entry_seq: int, value: PendingVaultValue) -> tuple:
    """The vault row of a value sealed by entry `entry_seq`, as stored: the commitment as its 32 bytes."""
    commitment, field, salt, plain = value
    return entry_seq, bytes.fromhex(commitment), field, salt, plain


class PreparedDisclosure(NamedTuple):
    """A disclosure.recorded entry ready to be written as entry `seq` (bulk imports): its
    canonical body bytes and the rows it puts in the vault and the query tables."""
    seq: int
    body: bytes
    vault: list[tuple]        # vault_row()s
    disclosure: tuple         # projection.recorded_disclosure_rows
    subjects: list[tuple]


def leaf_hash_of(leaf: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def _envelope(kind: str, recorded_at: str, recorded_by: str) -> tuple[bytes, bytes]:
    """The leaf bytes around body, prev and seq: `{"body":` + body + first + prev hex + second
    + seq + `,"v":1}`. The envelope's keys in sorted order are body, kind, prev, recorded_at,
    recorded_by, seq, v."""
    first = b',"kind":' + canonical_json(kind) + b',"prev":"'
    second = (b'","recorded_at":' + canonical_json(recorded_at)
              + b',"recorded_by":' + canonical_json(recorded_by) + b',"seq":')
    return first, second


def leaf_bytes(leaf: dict, body_bytes: bytes) -> bytes:
    """The canonical bytes of a leaf, around its already-canonical body (= canonical_json(leaf))."""
    first, second = _envelope(leaf["kind"], leaf["recorded_at"], leaf["recorded_by"])
    return b"".join((b'{"body":', body_bytes, first, leaf["prev"].encode("ascii"), second,
                     str(leaf["seq"]).encode("ascii"), b',"v":', str(leaf["v"]).encode("ascii"), b"}"))


def busy_timeout_seconds() -> float:
    """How long a writer waits for another to finish: $DISCLOSURE_LEDGER_BUSY_TIMEOUT seconds, else 30."""
    try:
        return max(0.0, float(os.environ.get(BUSY_TIMEOUT_ENV, DEFAULT_BUSY_TIMEOUT_SECONDS)))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_SECONDS


def write_failure(path: Path, exc: sqlite3.Error) -> LedgerFileError:
    """A failed write in words a person can act on; the transaction was rolled back whole."""
    return LedgerFileError(f"{path}: nothing was recorded: {_failure_reason(exc)}")


def read_failure(path: Path, exc: sqlite3.Error) -> LedgerFileError:
    """A failed read of the query tables in words a person can act on."""
    return LedgerFileError(f"{path}: the ledger could not be read, so nothing was done: {_failure_reason(exc)}")


def _failure_reason(exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "could not decode" in text:
        return ("the file holds text that is not UTF-8, which the ledger never writes: it was changed "
                "outside the ledger (`disclosure-ledger verify` says where)")
    if "locked" in text or "busy" in text:
        return (f"another program kept the ledger busy for more than {busy_timeout_seconds():g} s "
                f"(set {BUSY_TIMEOUT_ENV} to wait longer); try again")
    if "readonly" in text or "read-only" in text:
        return "the file or its folder is read-only; check the permissions"
    if "full" in text:
        return "the disk is full; free some space and try again"
    if "malformed" in text or "not a database" in text:
        return "the file is damaged; restore it from a backup (`disclosure-ledger restore`)"
    if "i/o" in text:
        return "the disk reported an input/output error"
    return f"SQLite said: {exc}"


def register_migration_functions(conn: sqlite3.Connection) -> None:
    """SQL functions the migrations use that an older SQLite lacks (unhex() came in 3.41)."""
    conn.create_function("unhex", 1, _unhex, deterministic=True)


def _unhex(value: object) -> object:
    """SQLite's unhex() for the migrations: hex text to bytes (bytes and NULL pass through)."""
    return bytes.fromhex(value) if isinstance(value, str) else value


def _create_private(path: Path) -> None:
    """A new ledger file is readable by its owner only (SQLite gives its -wal and -shm files the
    same mode)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError as exc:
        raise LedgerFileError(f"{path}: cannot be created ({exc.strerror})") from None


def _check_is_ledger_file(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise LedgerFileError(f"{path}: cannot be read ({exc.strerror})") from None
    if header and header != SQLITE_HEADER:
        raise LedgerFileError(
            f"{path}: is not a Disclosure Ledger (not an SQLite database; the file may be damaged)"
        )


class _ReadOnlyTransactions:
    """The connection as SQLModel sees it: its commit and rollback are no-ops, so a read
    session never ends the write transaction that `Store.transaction()` holds."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._conn, name)


class Store:
    """One open ledger file. Writes go through `transaction()`; one writer at a time."""

    def __init__(self, path: Path, conn: sqlite3.Connection):
        self.path = path
        self.conn = conn
        reader = _ReadOnlyTransactions(conn)
        self._engine = create_engine(
            "sqlite://", creator=lambda: reader, poolclass=StaticPool, pool_reset_on_return=None
        )

    # ---- opening -----------------------------------------------------------
    @classmethod
    def open(cls, path: Path, *, create: bool) -> "Store":
        path = Path(path)
        exists = path.exists() and path.stat().st_size > 0
        if not exists and not create:
            raise LedgerFileError(
                f"{path}: no ledger here; create one with `disclosure-ledger --db {path} init`"
            )
        if exists:
            _check_is_ledger_file(path)
        elif not path.parent.exists():
            raise LedgerFileError(f"{path}: the folder {path.parent} does not exist")
        else:
            _create_private(path)
        conn = None
        try:
            conn = sqlite3.connect(
                str(path),
                isolation_level=None,
                timeout=busy_timeout_seconds(),
                check_same_thread=False,
            )
            store = cls(path, conn)
            # Identify the file before changing anything in it (WAL mode rewrites the header).
            store._check_or_initialise(create=create)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            text = str(exc).lower()
            if "locked" in text or "busy" in text or "readonly" in text:
                raise LedgerFileError(f"{path}: cannot be opened: {_failure_reason(exc)}") from None
            raise LedgerFileError(f"{path}: cannot be opened as a ledger ({exc})") from None
        except LedgerFileError:
            if conn is not None:
                conn.close()
            raise
        return store

    def _check_or_initialise(self, *, create: bool) -> None:
        app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        tables = self.conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
        ).fetchone()[0]
        if app_id == 0 and tables == 0:
            if not create:
                raise LedgerFileError(
                    f"{self.path}: is an empty SQLite database, not a ledger; "
                    f"create a ledger with `disclosure-ledger --db {self.path} init`"
                )
            self.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._migrate()
            return
        if app_id != APPLICATION_ID:
            raise LedgerFileError(
                f"{self.path}: is an SQLite database but not a Disclosure Ledger"
            )
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise LedgerFileError(
                f"{self.path}: was written by a newer Disclosure Ledger (schema {version}); "
                f"this version reads up to schema {SCHEMA_VERSION}: upgrade the program"
            )
        if version < SCHEMA_VERSION:
            self._migrate()
        else:
            try:
                ensure_table(self.conn, _node_table_ddl())
            except sqlite3.OperationalError:
                pass  # a read-only file: proofs recompute the missing nodes

    def _migrate(self) -> None:
        """Apply the versioned SQL files not yet applied, each in its own transaction."""
        db = sqlite_utils.Database(self.conn)
        done = set()
        if db["migration"].exists():
            done = {row["name"] for row in db["migration"].rows}
        register_migration_functions(self.conn)
        for number, (name, sql) in enumerate(MIGRATIONS, start=1):
            if name in done:
                continue
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                for statement in _split_sql(sql):
                    self.conn.execute(statement)
                db["migration"].insert({"name": name}, pk="name")
                self.conn.execute(f"PRAGMA user_version = {number}")
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._engine.dispose()
        self.conn.close()

    # ---- reading ------------------------------------------------------------
    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session on the query tables; a file that cannot be read raises LedgerFileError."""
        with Session(self._engine) as session:
            try:
                yield session
            except DBAPIError as exc:
                if isinstance(exc.orig, sqlite3.Error):
                    raise read_failure(self.path, exc.orig) from None
                raise

    def size(self) -> int:
        return self.conn.execute("SELECT coalesce(max(seq), 0) FROM entry").fetchone()[0]

    def head(self) -> tuple[int, bytes | None]:
        """The last entry's seq and hash, which the next entry links to: never one stored otherwise
        than the ledger writes it (a new entry would then link to a forged hash)."""
        row = self.conn.execute("SELECT seq, leaf_hash FROM entry ORDER BY seq DESC LIMIT 1").fetchone()
        if row is None:
            return 0, None
        seq, digest = row
        if not isinstance(seq, int) or not isinstance(digest, bytes) or len(digest) != 32:
            raise LedgerFileError(f"{self.path}: the last entry is not stored as the ledger writes it, so nothing "
                                  "can be linked to it; nothing was recorded (`disclosure-ledger verify` says what "
                                  "was changed)")
        return seq, digest

    def entry(self, seq: int) -> StoredEntry | None:
        row = self.conn.execute(
            f"SELECT seq, {_ENTRY_BYTES} FROM entry WHERE seq = ?", (seq,)
        ).fetchone()
        return None if row is None else StoredEntry(*row)

    def entries(self, seqs: list[int]) -> list[StoredEntry]:
        """The entries of `seqs` that exist, in seq order (read in chunks, as checks.entries does)."""
        wanted = sorted(set(seqs))
        found: list[StoredEntry] = []
        for i in range(0, len(wanted), checks.IN_LIST_CHUNK):
            chunk = wanted[i:i + checks.IN_LIST_CHUNK]
            rows = self.conn.execute(
                f"SELECT seq, {_ENTRY_BYTES} FROM entry WHERE seq IN ({','.join('?' * len(chunk))}) ORDER BY seq",
                chunk).fetchall()
            found += [StoredEntry(*r) for r in rows]
        return found

    def iter_entries(self, start: int = 1, batch: int = 5000) -> Iterator[tuple[int, bytes, bytes]]:
        """Every entry from `start` in seq order, read in batches (constant memory)."""
        cursor = self.conn.cursor()
        next_seq = start
        while True:
            rows = cursor.execute(
                f"SELECT seq, {_ENTRY_BYTES} FROM entry WHERE seq >= ? ORDER BY seq LIMIT ?",
                (next_seq, batch),
            ).fetchall()
            if not rows:
                return
            yield from rows
            next_seq = rows[-1][0] + 1

    def _rollback(self) -> None:
        if self.conn.in_transaction:  # SQLite may already have rolled back (a full disk, an I/O error)
            self.conn.execute("ROLLBACK")

    def backup_to(self, target: Path) -> None:
        """Copy the whole file to `target` with SQLite's online backup, in one step, so the copy is
        one consistent snapshot even while another process appends."""
        copy_database(self.conn, target)

    # ---- writing ------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator["WriteTransaction"]:
        """BEGIN IMMEDIATE: the one writer reads the head, appends, commits or rolls back whole.
        Another writer is waited for (SQLite retries until the busy timeout), never forked."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise write_failure(self.path, exc) from None
        try:
            tx = WriteTransaction(self)
        except BaseException:
            self._rollback()
            raise
        try:
            yield tx
        except sqlite3.Error as exc:
            self._rollback()
            raise write_failure(self.path, exc) from None
        except BaseException:
            self._rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise write_failure(self.path, exc) from None
        if tx.bulk:
            # Copy the bulk write from the WAL into the file now, without waiting for readers, so
            # that the next single append does not pay for it.
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


class WriteTransaction:
    """Appends entries inside one open write transaction."""

    def __init__(self, store: Store):
        self.conn = store.conn
        self.bulk = False  # a bulk import wrote through append_recorded
        size, last = store.head()
        self.size = size
        self.last_hash_hex = last.hex() if last is not None else ZERO_HASH_HEX

    def append(
        self,
        kind: str,
        body: dict,
        recorded_at: str,
        recorded_by: str,
        vault: list[PendingVaultValue] = (),
    ) -> tuple[int, dict, bytes]:
        """Append one entry with its vault values and projection rows."""
        return self.append_many(kind, [(body, None, vault)], recorded_at, recorded_by)[0]

    def append_many(
        self,
        kind: str,
        items: list[tuple[dict, bytes | None, list[PendingVaultValue]]],
        recorded_at: str,
        recorded_by: str,
    ) -> list[tuple[int, dict, bytes]]:
        """Append entries of one kind in order, writing rows in batches (bulk imports).

        Each item is (body, its canonical bytes or None to encode here, vault values)."""
        appended: list[tuple[int, dict, bytes]] = []
        entry_rows: list[tuple] = []
        vault_rows: list[tuple] = []
        for body, body_bytes, vault in items:
            seq = self.size + 1
            leaf_value = {
                "v": FORMAT_VERSION,
                "seq": seq,
                "prev": self.last_hash_hex,
                "kind": kind,
                "recorded_at": recorded_at,
                "recorded_by": recorded_by,
                "body": body,
            }
            leaf = leaf_bytes(leaf_value, body_bytes if body_bytes is not None else canonical_json(body))
            digest = leaf_hash_of(leaf)
            entry_rows.append((seq, leaf, digest))
            vault_rows.extend(vault_row(seq, value) for value in vault)
            appended.append((seq, leaf_value, digest))
            self.size = seq
            self.last_hash_hex = digest.hex()
        old_size = entry_rows[0][0] - 1 if entry_rows else self.size
        self.conn.executemany("INSERT INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", entry_rows)
        write_nodes(self.conn, old_size, [row[2] for row in entry_rows])
        if vault_rows:
            self.conn.executemany(_VAULT_INSERT, vault_rows)
        project_many(self.conn, [(seq, leaf_value) for seq, leaf_value, _ in appended])
        return appended

    def append_recorded(self, items: list[PreparedDisclosure], recorded_at: str, recorded_by: str) -> list[int]:
        """Append prepared disclosure.recorded entries in order (bulk imports): only the chain
        link, the leaf hash and the inserts are left to do here. Returns their seqs."""
        if not items:
            return []
        self.bulk = True
        first, second = _envelope("disclosure.recorded", recorded_at, recorded_by)
        head, v1_end = b'{"body":', b',"v":%d}' % FORMAT_VERSION
        join, hexlify = b"".join, binascii.hexlify
        prev = self.last_hash_hex.encode("ascii")
        entry_rows, vault_rows, disclosures, subjects = [], [], [], []
        seq = self.size
        for item_seq, body, vault, disclosure, subject_rows in items:  # plain tuples are welcome too
            seq += 1
            if item_seq != seq:
                raise ValueError(f"prepared entry {item_seq} is out of order (expected {seq})")
            leaf = join((head, body, first, prev, second, b"%d" % seq, v1_end))
            digest = leaf_hash_of(leaf)
            entry_rows.append((seq, leaf, digest))
            prev = hexlify(digest)
            vault_rows += vault
            disclosures.append(disclosure)
            subjects += subject_rows
        old_size = self.size
        self.conn.executemany("INSERT INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", entry_rows)
        write_nodes(self.conn, old_size, [row[2] for row in entry_rows])
        self.conn.executemany(_VAULT_INSERT, vault_rows)
        insert_recorded(self.conn, disclosures, subjects)
        self.size = seq
        self.last_hash_hex = prev.decode("ascii")
        return list(range(old_size + 1, seq + 1))

    def log_verification(self, verified_at: str, ok: bool, size: int, root: str,
                         first_bad_seq: int | None, problems: int) -> None:
        self.conn.execute(
            "INSERT INTO verification_log (verified_at, ok, size, root, first_bad_seq, problems) "
            "VALUES (?, ?, ?, ?, ?, ?)", (verified_at, int(ok), size, root, first_bad_seq, problems))

    def add_signing_key(self, key_id: str, verifier_key: str, created_at: str, created_by: str) -> None:
        self.conn.execute(
            "INSERT INTO signing_key (key_id, verifier_key, created_at, created_by) VALUES (?, ?, ?, ?)",
            (key_id, verifier_key, created_at, created_by))

    def add_checkpoint(self, size: int, root: bytes, key_id: str, note: str, made_at: str, reason: str) -> int:
        return self.conn.execute(
            "INSERT INTO checkpoint (size, root, key_id, note, made_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
            (size, root, key_id, note, made_at, reason)).lastrowid

    def log_checkpoint_export(self, checkpoint_id: int, exported_at: str, destination: str) -> None:
        self.conn.execute(
            "INSERT INTO checkpoint_export (checkpoint_id, exported_at, destination) VALUES (?, ?, ?)",
            (checkpoint_id, exported_at, destination))

    def log_restore(self, restored_at: str, restored_by: str, source: str, size: int, root: str,
                    replaced: tuple[int, str, str] | None, reason: str | None, refused_because: str | None) -> None:
        replaced_size, replaced_root, kept_at = replaced if replaced is not None else (None, None, None)
        self.conn.execute(
            "INSERT INTO restore_log (restored_at, restored_by, source, size, root, replaced_size, replaced_root, "
            "replaced_kept_at, forced, reason, refused_because) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (restored_at, restored_by, source, size, root, replaced_size, replaced_root, kept_at,
             int(reason is not None), reason, refused_because))

    def delete_vault_values(self, rows: list[tuple[int, str]]) -> int:
        """Erasure: the only deletion the ledger makes, and only of vault rows (entry seq, commitment)."""
        removed = 0
        for entry_seq, digest in rows:
            removed += self.conn.execute(
                "DELETE FROM vault WHERE entry_seq = ? AND commitment = ?", (entry_seq, bytes.fromhex(digest))
            ).rowcount
        return removed


def copy_database(source: sqlite3.Connection | Path, target: Path) -> None:
    """SQLite's online backup of `source` (an open connection, or a file opened read-only) into
    the new file `target`."""
    if isinstance(source, Path):
        _check_is_ledger_file(source)
        try:
            reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise LedgerFileError(f"{source}: cannot be read as a ledger ({exc})") from None
    else:
        reader = source
    writer = sqlite3.connect(str(target))
    try:
        reader.backup(writer)
    except sqlite3.Error as exc:
        raise LedgerFileError(f"{target}: the copy could not be made ({exc})") from None
    finally:
        writer.close()
        if reader is not source:
            reader.close()


def _node_table_ddl() -> list[str]:
    """The statements of the migrations that create the Merkle node table."""
    return [statement for _, sql in MIGRATIONS for statement in _split_sql(sql)
            if "CREATE TABLE merkle_node" in statement]


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping trigger bodies whole."""
    statements, current = [], []
    for line in script.splitlines():
        if line.strip().startswith("--") or not line.strip():
            continue
        current.append(line)
        candidate = "\n".join(current)
        if sqlite3.complete_statement(candidate):
            statements.append(candidate)
            current = []
    if current:
        statements.append("\n".join(current))
    return statements
