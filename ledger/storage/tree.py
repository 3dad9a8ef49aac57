"""Stored Merkle tree nodes (table `merkle_node`) and proofs' subtree roots from them.

The root of every complete aligned subtree of 2**level leaves, level >= NODE_MIN_LEVEL, is
kept once it is complete (appending never changes it). Smaller subtrees are recomputed from the
leaf hashes: at most one block of BLOCK leaves is read per proof. Leaf index = seq - 1.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Callable, Iterable

from ..chain.merkle import EMPTY_ROOT, RootBuilder, node_hash

NODE_MIN_LEVEL = 8
BLOCK = 1 << NODE_MIN_LEVEL  # 256 leaves

_INSERT = "INSERT INTO merkle_node (level, idx, hash) VALUES (?, ?, ?)"
_SELECT = "SELECT hash FROM merkle_node WHERE level = ? AND idx = ?"


def _perfect_root(leaves: list[bytes]) -> bytes:
    """The root of a perfect subtree (len(leaves) a power of two), level by level."""
    sha256, level = hashlib.sha256, leaves
    while len(level) > 1:
        pairs = iter(level)
        level = [sha256(b"\x01" + a + b).digest() for a, b in zip(pairs, pairs)]
    return level[0]


def leaf_hashes(conn: sqlite3.Connection, start: int, end: int) -> list[bytes]:
    """The stored leaf hashes of leaves [start, end), i.e. entries start + 1 .. end."""
    rows = conn.execute(
        "SELECT CAST(leaf_hash AS BLOB) FROM entry WHERE seq > ? AND seq <= ? ORDER BY seq", (start, end)
    ).fetchall()
    return [r[0] for r in rows]


def write_nodes(conn: sqlite3.Connection, old_size: int, new_hashes: list[bytes]) -> None:
    """After appending `new_hashes` to a tree of `old_size` leaves: store the nodes they complete.

    Nothing to do unless a block of BLOCK leaves completes; then its node (from the leaf hashes,
    the earlier ones read back) and every higher node it completes (from its stored left sibling)."""
    new_size = old_size + len(new_hashes)
    first, last = old_size // BLOCK, new_size // BLOCK
    if first == last:
        return
    made: dict[tuple[int, int], bytes] = {}
    for block in range(first, last):
        start = block * BLOCK
        if start >= old_size:
            leaves = new_hashes[start - old_size:start - old_size + BLOCK]
        else:
            leaves = leaf_hashes(conn, start, old_size) + new_hashes[:start + BLOCK - old_size]
        if len(leaves) != BLOCK:
            return  # the entry log has a gap: leave the nodes to `rebuild` (verify reports it)
        digest = _perfect_root(leaves)
        level, idx = NODE_MIN_LEVEL, block
        made[(level, idx)] = digest
        while idx & 1:
            left = made.get((level, idx - 1))
            if left is None:
                row = conn.execute(_SELECT, (level, idx - 1)).fetchone()
                if row is None:
                    break  # a ledger written before nodes were kept: `rebuild` fills them in
                left = bytes(row[0])
            digest = node_hash(left, digest)
            level, idx = level + 1, idx >> 1
            made[(level, idx)] = digest
    conn.executemany(_INSERT, [(level, idx, digest) for (level, idx), digest in made.items()])


def clear_nodes(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM merkle_node")


def node_builder(conn: sqlite3.Connection) -> tuple[RootBuilder, Callable[[], None]]:
    """A RootBuilder that stores every node it completes at NODE_MIN_LEVEL and above (rebuild).
    Call the returned flush() at the end (and whenever convenient) to write what is pending."""
    pending: list[tuple[int, int, bytes]] = []

    def flush() -> None:
        conn.executemany(_INSERT, pending)
        pending.clear()

    builder = RootBuilder(on_node=lambda level, idx, digest: pending.append((level, idx, digest)),
                          min_level=NODE_MIN_LEVEL)
    return builder, flush


def stored_nodes(conn: sqlite3.Connection) -> dict[tuple[int, int], bytes] | None:
    """Every stored node, or None if the file has no node table."""
    try:
        rows = conn.execute("SELECT level, idx, CAST(hash AS BLOB) FROM merkle_node").fetchall()
    except sqlite3.OperationalError:
        return None
    return {(level, idx): digest for level, idx, digest in rows}


class SubtreeRoots:
    """``subtree_root(start, end)`` over a tree of `size` leaves, from stored nodes and leaf hashes.

    Perfect aligned subtrees of BLOCK leaves or more come from `merkle_node` (one indexed read;
    recomputed from their children if a ledger lacks them); smaller ones from the leaf hashes of
    their block, read once per object. Any other range is the RFC 9162 MTH of its pieces."""

    def __init__(self, conn: sqlite3.Connection, size: int):
        self.conn = conn
        self.size = size
        self._blocks: dict[int, list[bytes]] = {}
        self.reads = 0

    def __call__(self, start: int, end: int) -> bytes:
        if not 0 <= start < end <= self.size:
            raise ValueError(f"range [{start}, {end}) is outside a tree of {self.size} leaves")
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            if level >= NODE_MIN_LEVEL:
                self.reads += 1
                row = self.conn.execute(_SELECT, (level, start >> level)).fetchone()
                if row is not None:
                    return bytes(row[0])
                mid = start + width // 2
                return node_hash(self(start, mid), self(mid, end))
            block = start >> NODE_MIN_LEVEL
            leaves = self._blocks.get(block)
            if leaves is None:
                self.reads += 1
                base = block * BLOCK
                leaves = leaf_hashes(self.conn, base, min(base + BLOCK, self.size))
                self._blocks[block] = leaves
            offset = start - (block << NODE_MIN_LEVEL)
            piece = leaves[offset:offset + width]
            if len(piece) != width:
                raise ValueError(f"leaves [{start}, {end}) are not all in the entry log")
            return _perfect_root(piece)
        split = 1 << ((width - 1).bit_length() - 1)  # the largest power of two below width
        return node_hash(self(start, start + split), self(start + split, end))


def subtree_root(conn: sqlite3.Connection, start: int, end: int) -> bytes:
    """The MTH of leaves [start, end) of the ledger, from stored nodes and leaf hashes."""
    size = conn.execute("SELECT coalesce(max(seq), 0) FROM entry").fetchone()[0]
    return SubtreeRoots(conn, size)(start, end)


def root_at(conn: sqlite3.Connection, size: int) -> bytes:
    """The root of the ledger's first `size` leaves (SHA-256 of nothing for 0)."""
    if size == 0:
        return EMPTY_ROOT
    return SubtreeRoots(conn, size)(0, size)


def node_range(level: int, idx: int) -> tuple[int, int]:
    """The entries (first seq, last seq) a node covers."""
    return (idx << level) + 1, (idx + 1) << level


def ensure_table(conn: sqlite3.Connection, ddl: Iterable[str]) -> None:
    """Create the node table in a pre-release file written before it existed (empty: `rebuild`
    fills it, and verify says so)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'merkle_node'").fetchone():
        return
    for statement in ddl:
        conn.execute(statement)
