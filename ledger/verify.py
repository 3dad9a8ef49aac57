"""Verification: recompute every leaf hash and chain link, the RFC 9162 root, and check the
query tables and the vault against the entries. Problems are told in plain words.

Three passes over one snapshot of the file (ledger/FORMAT.md section 7 says what is checked):

1. The chain pass (this thread) reads the entries in seq order and checks hashes, links and the
   envelope of each leaf from its bytes, without decoding the JSON; it binds every vault row to
   its entry, and decodes only the entries that are not `disclosure.recorded` (few).
2. The content pass (a forked process on a large ledger, else a background thread; SQL in
   ledger/storage/checks.py) compares the query-table rows of every disclosure at version 1 with
   its leaf, using SQLite's JSON functions.
3. The rest is projected in Python, as on writes, into an in-memory scratch and compared: the
   other query tables, and the disclosures that were corrected or voided.
"""

from __future__ import annotations

import binascii
import bisect
import hashlib
import heapq
import json
import re
import sqlite3
import multiprocessing
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .chain.encoding import FORMAT_VERSION, ZERO_HASH_HEX, canonical_json
from .chain.merkle import RootBuilder
from .errors import IntegrityError
from .storage import checks, tree
from .storage.db import MIGRATIONS, Store, _split_sql, register_migration_functions
from .storage.projection import ENTRY_KINDS, PROJECTION_TABLE_NAMES, clear_projections, project, project_many
from .vault import commitments_in, fields_in

MAX_PROBLEMS = 100
PROGRESS_EVERY = 10_000
Progress = Callable[[int, int], None]

RECORDED = "disclosure.recorded"
_CHANGE_KINDS = ("disclosure.corrected", "disclosure.voided")
_SEALING_KINDS = (RECORDED, *_CHANGE_KINDS)  # the kinds whose bodies commit to vault values

# The seq each projection row stems from, to say where a difference is: the first of these
# columns that holds a seq.
_ROW_SEQ = {
    "party": ("version_seq",),
    "party_version": ("seq",),
    "disclosure": ("last_change_seq", "seq"),
    "disclosure_subject": ("disclosure_seq",),
    "disclosure_change": ("seq",),
    "contractor": ("version_seq",),
    "contractor_version": ("seq",),
    "assessment": ("seq",),
    "erasure": ("seq",),
    "erased_commitment": ("erasure_seq",),
}
_ROW_SEQ_GUESS = ("last_change_seq", "version_seq", "seq", "erasure_seq", "disclosure_seq")

# The envelope of a canonical leaf, byte for byte (FORMAT.md section 3): keys are sorted, so the
# body comes first and the top-level keys after it are the last occurrences of these bytes (no
# JSON string holds an unescaped quote).
_BODY_OPEN = b'{"body":{'
_KIND_KEY = b',"kind":"'
_V1_END = b',"v":1}'
_COMMITMENT_OPEN = b'{"commitment":"'
_COMMITMENT_CLOSE = b'"}'
_KINDS_BY_BYTES = {kind.encode("ascii"): kind for kind in ENTRY_KINDS}
_KIND_PREV = {kind: b',"kind":"' + kind.encode("ascii") + b'","prev":"' for kind in ENTRY_KINDS}
_ENVELOPE = re.compile(
    rb',"kind":"([^"\\]*)","prev":"([^"\\]*)","recorded_at":("(?:[^"\\]|\\.)*"),'
    rb'"recorded_by":("(?:[^"\\]|\\.)*"),"seq":([0-9]+),"v":1\}\Z', re.S)


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int | None
    what: str
    evidence: tuple[str, ...] = ()  # signed notes that prove it (a fork, a rewrite)

    def as_dict(self) -> dict:
        found = {"seq": self.seq, "problem": self.what}
        if self.evidence:
            found["evidence"] = list(self.evidence)
        return found


def _order(problem: Problem) -> tuple:
    return (problem.seq is None, problem.seq if problem.seq is not None else 0)


@dataclass
class VerifyReport:
    size: int = 0
    root: str = ""
    problems: list[Problem] = field(default_factory=list)
    checkpoints_checked: int = 0
    against: dict | None = None  # the outside checkpoint compared with: source, size, root, ok

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    def add(self, seq: int | None, what: str, evidence: tuple[str, ...] = ()) -> None:
        """Keep at most MAX_PROBLEMS, the ones at the earliest entries."""
        problem = Problem(seq if isinstance(seq, int) and not isinstance(seq, bool) else None, what, evidence)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
            return
        latest = max(self.problems, key=_order)
        if _order(problem) < _order(latest):
            self.problems.remove(latest)
            self.problems.append(problem)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "size": self.size, "root": self.root,
                "first_bad_seq": self.first_bad_seq, "checkpoints_checked": self.checkpoints_checked,
                "against": self.against, "problems": [p.as_dict() for p in self.problems]}


class _Tally:
    """Problems of one sort, told once: at the earliest entry, with how many more there are."""

    def __init__(self) -> None:
        self.first: tuple[int, str] | None = None
        self.count = 0

    def add(self, seq: int | None, what: str) -> None:
        self.count += 1
        key = seq if isinstance(seq, int) else float("inf")
        if self.first is None or key < (self.first[0] if isinstance(self.first[0], int) else float("inf")):
            self.first = (seq, what)

    def tell(self, report: VerifyReport) -> None:
        if self.first is not None:
            seq, what = self.first
            if self.count > 1:
                what += f" (and {self.count - 1} more like it)"
            report.add(seq, what)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _canonical_string(raw: bytes) -> bool:
    try:
        value = json.loads(raw)
    except ValueError:
        return False
    return isinstance(value, str) and _is_canonical(value, raw)


def _is_canonical(value: object, raw: bytes) -> bool:
    """`raw` is the canonical JSON of the value decoded from it (which a forged leaf may make
    unwritable: a lone surrogate, a number beyond 64 bits)."""
    try:
        return canonical_json(value) == raw
    except ValueError:
        return False


# ---- verify ----------------------------------------------------------------------------------

def verify_ledger(store: Store, progress: Progress | None = None) -> VerifyReport:
    report = VerifyReport()
    content_conn = checks.open_reader(store.path)
    chain_conn = checks.open_reader(store.path)
    try:
        bound = checks.begin_snapshot(content_conn, chain_conn)
        content = _ContentPass(store.path, content_conn, bound)
        content.start()
        try:
            chain = _ChainPass(chain_conn, bound, report, progress)
            chain.run()
            content.share(chain_conn)  # help with the SQL checks still to do
        except BaseException:
            content.stop()
            raise
        finally:
            content.join()
        if content.error is not None:
            raise content.error
        report.size = chain.builder.size
        report.root = chain.builder.root().hex()
        _check_nodes(content_conn, chain, report)
        labels = _check_content(content_conn, bound, chain, content, report)
        _check_vault(content_conn, chain, content, labels, report)
    finally:
        checks.end_snapshot(chain_conn, content_conn)
    report.problems.sort(key=_order)
    return report


# ---- 1. the chain pass -----------------------------------------------------------------------

class _ChainPass:
    """Hashes, links and envelopes of every entry from the bytes; vault rows against their entry."""

    def __init__(self, conn: sqlite3.Connection, bound: int, report: VerifyReport, progress: Progress | None):
        self.conn = conn
        self.bound = bound
        self.report = report
        self.progress = progress
        self.nodes: list[tuple[int, int, bytes]] = []  # the tree nodes proofs read, recomputed
        self.builder = RootBuilder(on_node=lambda *node: self.nodes.append(node), min_level=tree.NODE_MIN_LEVEL)
        self.recorded = 0                          # entries of kind disclosure.recorded
        self.others: list[tuple[int, dict]] = []   # the other entries, decoded, in seq order
        self.unreadable: set[int] = set()          # entries not read as a record of a known kind
        self.gaps: list[tuple[int, int]] = []      # missing seqs, as inclusive ranges
        self.targets: set[int] = set()             # disclosures named by corrections and voids
        self.erased: dict[str, int] = {}           # commitment -> the erasure entry listing it
        self.unheld = _Tally()                     # vault rows their entry does not commit to
        self.edited_values = _Tally()              # vault rows whose value no longer matches
        self.missing: list[tuple[str, int]] = []   # (commitment, seq): in a leaf, not in the vault
        # The envelope of the last entry read: most entries repeat kind, time and operator.
        self._kind = RECORDED
        self._kind_prev = _KIND_PREV[RECORDED]
        self._middle = b"\xff"

    def run(self) -> None:
        first = checks.first_seq(self.conn)
        if first is None:
            return
        sha256, hexlify, report = hashlib.sha256, binascii.hexlify, self.report
        after = min(first, 1) - 1
        expect = 1
        recorded = 0
        prev_hex = ZERO_HASH_HEX.encode("ascii")
        kind_prev, middle, current = self._kind_prev, self._middle, self._kind
        join, v1_end, body_open = b"".join, _V1_END, _BODY_OPEN
        needle, needle_length, close = _COMMITMENT_OPEN, len(_COMMITMENT_OPEN), _COMMITMENT_CLOSE
        next_progress = PROGRESS_EVERY
        for rows in checks.entry_batches(self.conn, after, self.bound):
            upto = rows[-1][0]
            commitments = self._vault_rows(max(after, 0), upto)
            hashes = []
            append = hashes.append
            for seq, leaf, stored in rows:
                if seq != expect:
                    if seq < expect:
                        report.add(None, f"the ledger holds an entry numbered {seq}: entries are numbered from 1")
                        continue
                    self._gap(expect, seq)
                if leaf is None:
                    leaf = b""
                digest = sha256(b"\x00" + leaf).digest()
                append(digest)
                if digest != stored:
                    report.add(seq, f"entry {seq} was changed after it was written: its stored hash does not match its bytes")
                    if stored is None:
                        stored = b""
                # The envelope, byte for byte: as the entry before's, with this seq and link.
                decoded = None
                suffix = join((kind_prev, prev_hex, middle, b"%d" % seq, v1_end))
                if leaf.endswith(suffix) and leaf.startswith(body_open) and leaf[-len(suffix) - 1] == 0x7D:
                    kind = current
                else:
                    kind, decoded = self._envelope(seq, leaf, prev_hex)
                    kind_prev, middle, current = self._kind_prev, self._middle, self._kind
                if kind == RECORDED:
                    recorded += 1
                    if not leaf.isascii():
                        self._check_utf8(seq, leaf)
                elif kind is not None:
                    decoded = self._other(seq, leaf, kind, decoded)
                # The entry's vault rows are exactly the commitment objects its leaf holds.
                count = leaf.count(needle)
                held = commitments.pop(seq, None)
                if count == 1:
                    at = leaf.find(needle) + needle_length
                    if type(held) is not bytes or not leaf.startswith(hexlify(held) + close, at):
                        self._vault_entry(seq, leaf, decoded)
                elif count == 0:
                    if held is not None:
                        self._vault_entry(seq, leaf, decoded)
                elif type(held) is not list or len(held) != count or (
                        sorted([part[:66] for part in leaf.split(needle)[1:]])
                        != sorted([hexlify(h) + close for h in held])):
                    self._vault_entry(seq, leaf, decoded)
                prev_hex = hexlify(stored)
                expect = seq + 1
            self.builder.extend(hashes)
            for seq in commitments:  # vault rows of entries that are missing
                self.unheld.add(seq, f"the vault holds a value for entry {seq} that the entry does not commit to")
            after = upto
            if self.progress is not None and upto >= next_progress:
                self.progress(upto, self.bound)
                next_progress = (upto // PROGRESS_EVERY + 1) * PROGRESS_EVERY
        self.recorded = recorded
        if self.progress is not None:
            self.progress(self.builder.size, self.bound)

    def _vault_rows(self, after: int, upto: int) -> dict[int, bytes | list[bytes]]:
        """Check the vault rows of entries (after, upto]: SHA-256(salt || value) is the commitment.
        Return entry seq -> the commitment of its one vault row, or a list of them when several."""
        rows = checks.vault_rows_of(self.conn, after, upto)
        sha256 = hashlib.sha256
        try:
            edited = [r for r in rows if sha256(r[2]).digest() != r[1]]
        except TypeError:  # a salt or value of the wrong type
            edited = []
            for r in rows:
                try:
                    if sha256(r[2]).digest() == r[1]:
                        continue
                except TypeError:
                    pass
                edited.append(r)
        for seq, _, _ in edited:
            self.edited_values.add(seq, f"a personal value kept for entry {seq} was edited in the vault: "
                                        "it no longer matches the entry")
        commitments: dict = {}
        for seq, commitment, _ in rows:
            if seq not in commitments:
                commitments[seq] = commitment
            elif type(several := commitments[seq]) is list:
                several.append(commitment)
            else:
                commitments[seq] = [several, commitment]
        return commitments

    def _gap(self, expect: int, seq: int) -> None:
        missing = f"entries {expect} to {seq - 1} are" if seq - 1 > expect else f"entry {expect} is"
        self.report.add(expect, f"{missing} missing: the ledger goes from entry {expect - 1} to entry {seq}")
        self.gaps.append((expect, seq - 1))

    def is_missing_or_unreadable(self, seq: int) -> bool:
        return seq in self.unreadable or any(low <= seq <= high for low, high in self.gaps)

    def _envelope(self, seq: int, leaf: bytes, prev_hex: bytes) -> tuple[str | None, dict | None]:
        """The envelope is not the one of the entry before: read it from the bytes, else decode."""
        at = leaf.rfind(_KIND_KEY)
        match = _ENVELOPE.match(leaf, at) if at > 0 else None
        if match is not None and leaf.startswith(_BODY_OPEN) and leaf[at - 1] == 0x7D:
            kind_bytes, prev, recorded_at, recorded_by, seq_bytes = match.groups()
            kind = _KINDS_BY_BYTES.get(kind_bytes)
            if (kind is not None and prev == prev_hex and seq_bytes == b"%d" % seq
                    and _canonical_string(recorded_at) and _canonical_string(recorded_by)):
                self._kind, self._kind_prev = kind, _KIND_PREV[kind]
                self._middle = b'","recorded_at":' + recorded_at + b',"recorded_by":' + recorded_by + b',"seq":'
                return kind, None
        return self._decode(seq, leaf, prev_hex)

    def _decode(self, seq: int, leaf: bytes, prev_hex: bytes) -> tuple[str | None, dict | None]:
        """Decode a leaf whose envelope is not laid out as it must be, to say what is wrong."""
        report = self.report
        try:
            decoded = json.loads(leaf)
            if not isinstance(decoded, dict):
                raise ValueError
        except ValueError:
            report.add(seq, f"entry {seq} is damaged: its bytes are not a readable record")
            self.unreadable.add(seq)
            return None, None
        told = False
        written_as = decoded.get("seq")
        if _int(written_as) != seq:
            report.add(seq, f"entry {seq} holds the record written as entry {written_as}: entries were moved or swapped")
            told = True
        if decoded.get("prev") != prev_hex.decode("ascii", "replace"):
            report.add(seq, f"entry {seq} does not link to the entry before it: entry {seq - 1} was rewritten, "
                            "or an entry was removed or inserted here")
            told = True
        kind, version = decoded.get("kind"), decoded.get("v")
        if _int(version) != FORMAT_VERSION or not (isinstance(kind, str) and kind in ENTRY_KINDS):
            report.add(seq, f"entry {seq} is not a record this ledger format knows (version {version}, kind {kind})")
            self.unreadable.add(seq)
            return None, None
        if not _is_canonical(decoded, leaf):
            report.add(seq, f"entry {seq} is not in canonical form (RFC 8785): it was rewritten outside the ledger")
            self.unreadable.add(seq)
            return None, None
        if not told:
            if not isinstance(decoded.get("body"), dict):
                why = "its fields are not a record"
            else:
                why = "the time or the operator it was recorded by is not text"
            report.add(seq, f"entry {seq} is not laid out as the ledger format requires: {why}")
        return kind, decoded

    def _check_utf8(self, seq: int, leaf: bytes) -> None:
        try:
            leaf.decode("utf-8")
        except UnicodeDecodeError:
            self.report.add(seq, f"entry {seq} is damaged: its bytes are not a readable record")
            self.unreadable.add(seq)

    def _other(self, seq: int, leaf: bytes, kind: str, decoded: dict | None) -> dict | None:
        """An entry of a kind other than disclosure.recorded: decode it, check its canonical form,
        and keep it for the Python projection."""
        if decoded is None:
            try:
                decoded = json.loads(leaf)
                if not isinstance(decoded, dict):
                    raise ValueError
            except ValueError:
                self.report.add(seq, f"entry {seq} is damaged: its bytes are not a readable record")
                self.unreadable.add(seq)
                return None
            if not _is_canonical(decoded, leaf):
                self.report.add(seq, f"entry {seq} is not in canonical form (RFC 8785): it was rewritten outside the ledger")
                self.unreadable.add(seq)
                return None
        self.others.append((seq, decoded))
        body = decoded.get("body")
        if isinstance(body, dict):
            if kind == "subject.erased" and isinstance(body.get("commitments"), list):
                for digest in body["commitments"]:
                    if isinstance(digest, str):
                        self.erased.setdefault(digest, seq)
            elif kind in _CHANGE_KINDS and _int(body.get("disclosure")) is not None:
                self.targets.add(body["disclosure"])
        return decoded

    def _vault_entry(self, seq: int, leaf: bytes, decoded: dict | None) -> None:
        """The vault rows of entry `seq` are not exactly the commitments its leaf holds: find which."""
        held = set(checks.vault_commitments_of(self.conn, seq))
        if decoded is None and seq not in self.unreadable:
            try:
                decoded = json.loads(leaf)
            except ValueError:
                decoded = None
        body = decoded.get("body") if isinstance(decoded, dict) else None
        in_leaf = set(commitments_in(body)) if seq not in self.unreadable and body is not None else set()
        for _ in held - in_leaf:
            self.unheld.add(seq, f"the vault holds a value for entry {seq} that the entry does not commit to")
        for digest in sorted(in_leaf - held):
            self.missing.append((digest, seq))


# ---- the stored tree nodes -------------------------------------------------------------------

def _check_nodes(conn: sqlite3.Connection, chain: _ChainPass, report: VerifyReport) -> None:
    """Every stored Merkle node equals the one recomputed by the chain pass, and none is missing
    or extra. A node over an entry already reported (or after a gap) is not told again."""
    stored = tree.stored_nodes(conn)
    if stored is None or chain.gaps:
        return
    bad_seqs = sorted({p.seq for p in report.problems if isinstance(p.seq, int)})

    def explained(level: int, idx: int) -> bool:
        low, high = tree.node_range(level, idx)
        i = bisect.bisect_left(bad_seqs, low)
        return i < len(bad_seqs) and bad_seqs[i] <= high

    wrong, missing, extra = _Tally(), _Tally(), _Tally()
    for level, idx, digest in chain.nodes:
        have = stored.pop((level, idx), None)
        low, high = tree.node_range(level, idx)
        if have is None:
            missing.add(high, f"the Merkle tree nodes that proofs read are missing from entry {high}: "
                              "`disclosure-ledger rebuild` recomputes them")
        elif have != digest and not explained(level, idx):
            wrong.add(high, f"the stored Merkle tree node over entries {low}-{high} does not match the entries: "
                            "it was changed outside the ledger, and proofs that use it would be wrong "
                            "(`disclosure-ledger rebuild` recomputes it)")
    for level, idx in stored:
        if _int(level) is None or _int(idx) is None or not 0 <= level < 64 or idx < 0:
            extra.add(None, "the file holds a Merkle tree node at a place no tree has (level and index): "
                            "it was added or changed outside the ledger (`disclosure-ledger rebuild` removes it)")
            continue
        low, high = tree.node_range(level, idx)
        extra.add(min(high, chain.builder.size) or None,
                  f"the file holds a Merkle tree node over entries {low}-{high} that the ledger does not have: "
                  "it was added outside the ledger (`disclosure-ledger rebuild` removes it)")
    for tally in (wrong, missing, extra):
        tally.tell(report)


# ---- 2. the content pass (background thread) --------------------------------------------------

class _ContentPass:
    """The SQL checks of the query tables, beside the chain pass.

    The disclosure checks are cut into chunks of CHUNK disclosures taken from a shared counter: by a forked
    process on a large ledger (a core of its own: SQLite's JSON functions then run beside the
    Python chain pass, with no GIL or allocator lock between them), else by a background thread;
    the calling thread joins in once its chain pass is done. Every reader holds a read
    transaction on the same snapshot."""

    CHUNK = 10_000
    PROCESS_MIN_ENTRIES = 100_000  # below this a fork costs more than it saves

    def __init__(self, path: Path, conn: sqlite3.Connection, bound: int):
        self.path = path
        self.conn = conn
        self.bound = bound
        self.error: BaseException | None = None
        # A column the SQL does not know (a newer schema) sends every disclosure to Python.
        self.covered = set(checks.disclosure_columns(conn)) <= set(checks.DISCLOSURE_FROM_LEAF)
        self.changed: list[int] = []
        self.count = 0
        self.outside: tuple[int | None, int] = (None, 0)
        self.recorded: tuple[int | None, int] = (None, 0)
        self.orphans: tuple[int | None, int] = (None, 0)
        self.labels: tuple[int | None, int] = (None, 0)  # disclosures whose vault rows are mislabelled
        self._lock = threading.Lock()
        # Chunks end at every CHUNK-th disclosure, however far apart their seqs are (a seq changed
        # outside the ledger may be huge).
        self._ends = checks.every_nth_disclosure(conn, self.CHUNK)
        self._next = multiprocessing.RawValue("q", 0)  # the next chunk's index; -1 when all are taken
        self._next_lock = multiprocessing.Lock()
        self._thread: threading.Thread | None = None
        self._process = None
        self._results = None  # the pipe the process sends its findings on

    def start(self) -> None:
        # Forking is only safe from a single-threaded process (no TUI worker threads).
        if (self.bound >= self.PROCESS_MIN_ENTRIES and threading.active_count() == 1
                and "fork" in multiprocessing.get_all_start_methods()):
            context = multiprocessing.get_context("fork")
            self._results, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=self._in_process, args=(sender,), daemon=True,
                                            name="verify-content")
            self._process.start()
            sender.close()
        else:
            self._thread = threading.Thread(target=self._in_thread, name="verify-content", daemon=True)
            self._thread.start()

    def _whole_table_checks(self, conn: sqlite3.Connection) -> None:
        self.changed = checks.changed_disclosures(conn)
        self.count = checks.disclosure_count(conn)
        self.outside = checks.vault_outside(conn, self.bound)

    def _in_thread(self) -> None:
        try:
            self._whole_table_checks(self.conn)
            self.share(self.conn)
        except BaseException as exc:  # re-raised in the calling thread
            self.error = exc

    def _in_process(self, sender) -> None:
        """The forked process: its own connection (never one inherited), on the same snapshot."""
        try:
            conn = checks.open_reader(self.path)
            conn.execute("BEGIN")
            if checks.last_seq(conn) != self.bound:  # a write landed since: leave it all to the caller
                sender.send(None)
                return
            self._whole_table_checks(conn)
            self.share(conn)
            sender.send((self.changed, self.count, self.outside, self.recorded, self.orphans, self.labels))
        except BaseException as exc:
            sender.send(RuntimeError(f"verify's content check failed: {exc}"))

    def _take(self) -> tuple[int | None, int | None] | None:
        """The next chunk (low, high]; None bounds are open (the first and last chunks also take
        rows whose seq is out of range or not a number)."""
        with self._next_lock:
            index = self._next.value
            if index < 0:
                return None
            self._next.value = index + 1 if index < len(self._ends) else -1
        low = self._ends[index - 1] if index > 0 else None
        high = self._ends[index] if index < len(self._ends) else None
        return low, high

    def share(self, conn: sqlite3.Connection) -> None:
        while (chunk := self._take()) is not None:
            low, high = chunk
            recorded, labels = (checks.recorded_disclosure_mismatches(conn, self.bound, low, high) if self.covered
                                else ((None, 0), (None, 0)))
            orphans = checks.orphan_subject_rows(conn, low, high)
            with self._lock:
                self.recorded = _add_counts(self.recorded, recorded)
                self.orphans = _add_counts(self.orphans, orphans)
                self.labels = _add_counts(self.labels, labels)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
        else:
            self.conn.interrupt()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()
            return
        if self._process is None:
            return
        try:
            found = self._results.recv()
        except EOFError:  # stopped, or died, before it said what it found
            found = RuntimeError("verify's content check stopped before it finished")
        self._process.join()
        self._results.close()
        if isinstance(found, BaseException):
            self.error = found
        elif found is None:
            self._whole_table_checks(self.conn)
            self.share(self.conn)
        else:
            self.changed, self.count, self.outside, recorded, orphans, labels = found
            self.labels = _add_counts(self.labels, labels)
            self.recorded = _add_counts(self.recorded, recorded)
            self.orphans = _add_counts(self.orphans, orphans)


def _add_counts(total: tuple[object, int], more: tuple[object, int]) -> tuple[object, int]:
    """(smallest seq, count) of two chunks together."""
    lows = [x for x in (total[0], more[0]) if _int(x) is not None]
    low = min(lows) if lows else (total[0] if total[0] is not None else more[0])
    return low, total[1] + more[1]


# ---- 3. the query tables -----------------------------------------------------------------------

def _table_problem(table: str, seq: int | None, more: int = 0, entry_bad: bool = False) -> str:
    where = f" at entry {seq}" if seq is not None else ""
    extra = f" (and {more} more row{'s' if more > 1 else ''})" if more > 0 else ""
    if entry_bad:
        return f"the query table '{table}' does not match the entries{where}{extra}, where the entry is missing or damaged"
    return (f"the query table '{table}' does not match the entries{where}{extra}: it was edited directly; "
            "`disclosure-ledger rebuild` restores it from the entries")


def _check_content(conn: sqlite3.Connection, bound: int, chain: _ChainPass, content: _ContentPass,
                   report: VerifyReport) -> _Tally:
    """The query tables against the entries; returns the vault rows found mislabelled among the
    entries decoded here (the SQL check labels the rest)."""
    bad: dict[str, _Tally] = {}

    def flag(table: str, seq: object, count: int = 1) -> None:
        if count:
            tally = bad.setdefault(table, _Tally())
            tally.add(_int(seq), "")
            tally.count += count - 1

    # Disclosures at version 1 and their subjects, checked in SQL against their leaves.
    low, count = content.recorded
    if count:
        flag("disclosure", low, count)
        _explain_disclosure(conn, bound, low, chain, report)
    low, count = content.orphans
    flag("disclosure_subject", low, count)

    # The rest in Python: the other tables whole, and the disclosures changed since recorded.
    changed = set(chain.targets) | set(content.changed)
    everything = not content.covered
    with _Scratch(large=everything) as scratch:
        recorded = (_all_recorded(conn, bound, chain) if everything
                    else _recorded_of(conn, bound, changed, chain, report))
        sealed: dict[int, dict[str, str | None]] = {}
        _project_into(scratch.conn, _sealed_fields(_merged(chain.others, recorded), sealed), report)
        among = None if everything else changed
        for table in PROJECTION_TABLE_NAMES:
            if table == "disclosure":
                places = _compare_table(scratch.conn, conn, table, "seq", among)
            elif table == "disclosure_subject":
                places = _compare_table(scratch.conn, conn, table, "disclosure_seq", among,
                                        place=_DisclosurePlace(scratch.conn, conn))
            else:
                places = _compare_table(scratch.conn, conn, table)
            for seq in places:
                flag(table, seq)

    # Every disclosure.recorded entry has its row: counted, and where the count or a row is off, found.
    if content.count != chain.recorded or "disclosure" in bad:
        others = {seq for seq, _ in chain.others}
        for seq in checks.entries_without_disclosure(conn, bound):
            if seq not in others and seq not in chain.unreadable:
                flag("disclosure", seq)
    for table in PROJECTION_TABLE_NAMES:
        if table in bad:
            first = bad[table].first[0]
            entry_bad = first is not None and chain.is_missing_or_unreadable(first)
            report.add(first, _table_problem(table, first, bad[table].count - 1, entry_bad))
    return _mislabelled(conn, sealed)


def _sealed_fields(entries: Iterable[tuple[int, dict]], sealed: dict[int, dict[str, str | None]]
                   ) -> Iterator[tuple[int, dict]]:
    """Pass the decoded entries on, noting for those that seal values which field each commitment
    was sealed as."""
    for seq, decoded in entries:
        body = decoded.get("body")
        if decoded.get("kind") in _SEALING_KINDS and isinstance(body, dict):
            sealed[seq] = fields_in(body)
        yield seq, decoded


def _mislabelled(conn: sqlite3.Connection, sealed: dict[int, dict[str, str | None]]) -> _Tally:
    found = _Tally()
    for seq, digest, field in checks.vault_labels_of(conn, sealed):
        expected = sealed[seq]
        if digest in expected and expected[digest] != field:
            found.add(seq, "")
    return found


def _explain_disclosure(conn: sqlite3.Connection, bound: int, seq: int | None, chain: _ChainPass,
                        report: VerifyReport) -> None:
    """Say more about the first disclosure the SQL check found different: is its entry itself bad?"""
    if seq is None or chain.is_missing_or_unreadable(seq):
        return
    found = checks.entries(conn, [seq], bound)
    if not found:
        return
    leaf = found[0][1]
    try:
        decoded = json.loads(leaf)
        if not isinstance(decoded, dict):
            raise ValueError
    except ValueError:
        report.add(seq, f"entry {seq} is damaged: its bytes are not a readable record")
        return
    if decoded.get("kind") != RECORDED:
        return
    if not _is_canonical(decoded, leaf):
        report.add(seq, f"entry {seq} is not in canonical form (RFC 8785): it was rewritten outside the ledger")
    with _Scratch() as scratch:
        _project_into(scratch.conn, [(seq, decoded)], report)


class _Scratch:
    """The query tables, empty, built from the migrations: in memory, or in a file when large."""

    def __init__(self, large: bool = False):
        self._folder = tempfile.TemporaryDirectory(prefix="disclosure-ledger-verify-") if large else None
        where = str(Path(self._folder.name) / "expected.db") if self._folder else ":memory:"
        self.conn = sqlite3.connect(where, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=OFF")
        self.conn.execute("PRAGMA synchronous=OFF")
        register_migration_functions(self.conn)
        for _, sql in MIGRATIONS:
            for statement in _split_sql(sql):
                self.conn.execute(statement)

    def __enter__(self) -> "_Scratch":
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()
        if self._folder is not None:
            self._folder.cleanup()


def _recorded_of(conn: sqlite3.Connection, bound: int, seqs: set[int], chain: _ChainPass,
                 report: VerifyReport) -> list[tuple[int, dict]]:
    """The decoded disclosure.recorded entries among `seqs` (the changed disclosures)."""
    found = []
    for seq, leaf in checks.entries(conn, seqs, bound):
        if chain.is_missing_or_unreadable(seq):
            continue
        try:
            decoded = json.loads(leaf)
        except ValueError:
            continue
        if not isinstance(decoded, dict) or decoded.get("kind") != RECORDED:
            continue
        if not _is_canonical(decoded, leaf):
            report.add(seq, f"entry {seq} is not in canonical form (RFC 8785): it was rewritten outside the ledger")
            continue
        found.append((seq, decoded))
    return found


def _all_recorded(conn: sqlite3.Connection, bound: int, chain: _ChainPass) -> Iterator[tuple[int, dict]]:
    """Every readable disclosure.recorded entry, decoded, streamed in seq order."""
    for rows in checks.entry_batches(conn, 0, bound):
        for seq, leaf, _ in rows:
            if chain.is_missing_or_unreadable(seq) or leaf is None:
                continue
            try:
                decoded = json.loads(leaf)
            except ValueError:
                continue
            if isinstance(decoded, dict) and decoded.get("kind") == RECORDED:
                yield seq, decoded


def _merged(first: Iterable[tuple[int, dict]], second: Iterable[tuple[int, dict]]) -> Iterator[tuple[int, dict]]:
    """Two seq-ordered streams of entries as one."""
    return heapq.merge(first, second, key=lambda item: item[0])


def _project_into(scratch: sqlite3.Connection, entries: Iterable[tuple[int, dict]], report: VerifyReport) -> None:
    for seq, decoded in entries:
        scratch.execute("SAVEPOINT entry")
        try:
            project(scratch, seq, decoded)
        except (KeyError, TypeError, AttributeError, ValueError, IndexError, sqlite3.Error):
            scratch.execute("ROLLBACK TO entry")
            report.add(seq, f"entry {seq} does not hold a valid {decoded.get('kind')} record")
        scratch.execute("RELEASE entry")


def _row_seq(table: str, names: list[str]) -> Callable[[tuple | None], int | None]:
    columns = _ROW_SEQ.get(table) or tuple(c for c in _ROW_SEQ_GUESS if c in names)
    places = [names.index(c) for c in columns if c in names]

    def seq_of(row: tuple | None) -> int | None:
        for i in places if row is not None else ():
            if _int(row[i]) is not None:
                return row[i]
        return None
    return seq_of


def _sort_key(value: object) -> tuple:
    """SQLite's order of values (NULL, numbers, text, blobs), so Python can merge sorted rows."""
    if value is None:
        return (0, 0)
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    return (3, bytes(value))


def _pairs(expected: Iterator[tuple], actual: Iterator[tuple],
           key_of: Callable[[tuple], tuple]) -> Iterator[tuple[tuple | None, tuple | None]]:
    """Merge two row streams sorted on the same key into (expected row, actual row) pairs."""
    want, have = next(expected, None), next(actual, None)
    while want is not None or have is not None:
        if have is None or (want is not None and key_of(want) < key_of(have)):
            yield want, None
            want = next(expected, None)
        elif want is None or key_of(have) < key_of(want):
            yield None, have
            have = next(actual, None)
        else:
            yield want, have
            want, have = next(expected, None), next(actual, None)


def _compare_table(scratch: sqlite3.Connection, live: sqlite3.Connection, table: str,
                   column: str | None = None, among: set[int] | None = None,
                   place: "_DisclosurePlace | None" = None) -> list[int | None]:
    """Where a live query table differs from the scratch projection, comparing rows matched on
    the primary key (both read in key order, so memory stays small). A difference is placed at
    the later of the two rows' seqs: the entry that last shaped the row."""
    names = checks.column_names(scratch, table)
    try:
        if checks.column_names(live, table) != names:
            return [None]
    except sqlite3.OperationalError:  # the file has no such table
        return [None]
    key = checks.primary_key(scratch, table) or names
    index = [names.index(k) for k in key]

    def key_of(row: tuple) -> tuple:
        return tuple(_sort_key(row[i]) for i in index)

    expected = checks.ordered_rows(scratch, table, key)
    actual = (checks.ordered_rows(live, table, key, column, among) if column is not None and among is not None
              else checks.ordered_rows(live, table, key))
    seq_of = _row_seq(table, names)
    places: list[int | None] = []
    for want, have in _pairs(expected, actual, key_of):
        if want == have:
            continue
        if place is not None:
            places.append(place(names, want or have))
        else:
            seqs = [s for s in (seq_of(want), seq_of(have)) if s is not None]
            places.append(max(seqs) if seqs else None)
    return places


class _DisclosurePlace:
    """A subject row is placed where its disclosure's current state comes from, in the entries or
    in the live table, whichever is later."""

    def __init__(self, scratch: sqlite3.Connection, live: sqlite3.Connection):
        self.conns = (scratch, live)
        self.asked = 0

    def __call__(self, names: list[str], row: tuple) -> int | None:
        disclosure = _int(row[names.index("disclosure_seq")])
        if disclosure is None or self.asked > 1000:
            return disclosure
        self.asked += 1
        seqs = [disclosure]
        for conn in self.conns:
            found = checks.row_of(conn, "disclosure", "seq", disclosure)
            if found is not None:
                seq = _row_seq("disclosure", checks.column_names(conn, "disclosure"))(found)
                if seq is not None:
                    seqs.append(seq)
        return max(seqs)


# ---- the vault -------------------------------------------------------------------------------

def _check_vault(conn: sqlite3.Connection, chain: _ChainPass, content: _ContentPass, labels: _Tally,
                 report: VerifyReport) -> None:
    chain.unheld.tell(report)
    low, count = content.labels
    for _ in range(count):
        labels.add(low, "")
    if labels.first is not None:
        seq = labels.first[0]
        labels.first = (seq, f"a value kept in the vault for entry {seq} is labelled as a field the entry does not "
                             "hold it in: the label was changed outside the ledger, and subject lookups, erasures "
                             "and reports read it")
        labels.tell(report)
    low, count = content.outside
    if count:
        where = f" for entry {low}" if low is not None else ""
        report.add(low, f"the vault holds {count} value(s){where} that no entry of the ledger commits to")
    chain.edited_values.tell(report)
    # Commitments a leaf holds that have no vault row at their entry, and commitments an erasure
    # entry lists (which must be gone from the vault).
    unresolved = [(digest, seq) for digest, seq in chain.missing if digest not in chain.erased]
    if not unresolved and not chain.erased:
        return
    in_vault = checks.vault_entries_of(conn, [d for d, _ in unresolved] + list(chain.erased))
    claimed = checks.erasure_claims(conn, [d for d, _ in unresolved]) if unresolved else {}
    moved, deleted, left = _Tally(), _Tally(), _Tally()
    for digest, seq in unresolved:
        if digest in in_vault:
            moved.add(seq, f"a personal value of entry {seq} is kept in the vault under entry {in_vault[digest]} instead")
            continue
        erasure = _int(claimed.get(digest))
        if erasure is not None and chain.is_missing_or_unreadable(erasure):
            deleted.add(erasure, f"a personal value of entry {seq} is gone from the vault, and entry {erasure}, "
                                 "the erasure that removed it, is missing or damaged")
        else:
            deleted.add(seq, f"a personal value of entry {seq} was deleted from the vault without an erasure entry")
    for digest, erasure in chain.erased.items():
        if digest in in_vault:
            left.add(erasure, f"a value erased by entry {erasure} is still in the vault")
    for tally in (moved, deleted, left):
        tally.tell(report)


# ---- rebuild ---------------------------------------------------------------------------------

def rebuild_projections(store: Store, progress: Progress | None = None) -> int:
    """Clear the query tables and the Merkle tree nodes and derive them from every entry again,
    in one transaction."""
    total = store.size()
    with store.transaction():
        clear_projections(store.conn)
        tree.clear_nodes(store.conn)
        builder, flush_nodes = tree.node_builder(store.conn)
        batch: list[tuple[int, dict]] = []
        hashes: list[bytes] = []
        for seq, leaf, stored_hash in store.iter_entries():
            hashes.append(bytes(stored_hash))
            try:
                decoded = json.loads(leaf)
                if not isinstance(decoded, dict):
                    raise ValueError
            except ValueError:
                raise IntegrityError(
                    f"entry {seq} is damaged: its bytes are not a readable record, so the query tables "
                    "cannot be rebuilt; nothing was changed (`disclosure-ledger verify` lists what is wrong)"
                ) from None
            batch.append((seq, decoded))
            if len(hashes) == 4096:
                builder.extend(hashes)
                hashes.clear()
                flush_nodes()
            if len(batch) == 5000:
                project_many(store.conn, batch)
                batch.clear()
                if progress is not None:
                    progress(seq, total)
        project_many(store.conn, batch)
        builder.extend(hashes)
        flush_nodes()
    return total
