"""The RFC 9162 section 2.1 Merkle tree over leaf hashes (SHA-256).

Pure functions: roots, inclusion and consistency proofs, and their
verification. Proof generation reads the tree only through a
``subtree_root(start, end)`` callback and only ever asks it for *perfect
aligned subtrees*: ranges ``[k * 2**j, (k + 1) * 2**j)`` with
``end <= size``. Those are exactly the nodes a storage layer can keep once
and never rewrite, because appending leaves never changes them. A proof
needs O(log n) such calls.

Verification follows the algorithms of RFC 9162 sections 2.1.3.2 and
2.1.4.2, with the strictness of the transparency-dev/merkle reference:
leaf, proof and root hashes must be exactly 32 bytes (for equal tree sizes
the two roots are only compared, as the reference does), and a consistency
proof from a tree of size 0 is refused (an empty checkpoint proves nothing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

SubtreeRoot = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof does not verify, or its inputs are malformed."""


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf): the prefix keeps leaves apart from inner nodes."""
    return hashlib.sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, (bytes, bytearray)) or len(value) != HASH_SIZE:
        length = len(value) if isinstance(value, (bytes, bytearray)) else "?"
        raise ProofError(f"{what} must be {HASH_SIZE} bytes, got {length}")


class RootBuilder:
    """Root of a growing tree, fed leaf hashes in order.

    Keeps one hash per set bit of the size (the perfect subtrees of the
    right edge), so memory is O(log n) however many leaves are pushed.


    ``on_node(level, index, hash)``, if given, is called for every perfect aligned subtree of
    ``2**level >= 2**min_level`` leaves as it completes (leaves ``[index * 2**level,
    (index + 1) * 2**level)``): the nodes a storage layer keeps, at no extra hashing.
    """

    __slots__ = ("_size", "_stack", "_on_node", "_min_level")

    def __init__(self, on_node: Callable[[int, int, bytes], None] | None = None,
                 min_level: int = 0) -> None:
        self._size = 0
        self._stack: list[bytes] = []
        self._on_node = on_node
        self._min_level = min_level

    @property
    def size(self) -> int:
        return self._size

    def push(self, leaf_hash: bytes) -> None:
        if not isinstance(leaf_hash, (bytes, bytearray)) or len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        stack = self._stack
        stack.append(bytes(leaf_hash))
        # Each trailing 1 bit of the old size is a perfect subtree that the
        # new leaf completes into one twice as large.
        n = self._size
        level = 0
        on_node = self._on_node
        if on_node is not None and self._min_level == 0:
            on_node(0, n, stack[-1])
        while n & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            n >>= 1
            level += 1
            if on_node is not None and level >= self._min_level:
                on_node(level, ((self._size + 1) >> level) - 1, stack[-1])
        self._size += 1

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """Push many leaf hashes in order: the same tree as push() for each, faster.

        Runs that fill a perfect aligned subtree (the size a multiple of its width) are hashed
        level by level and pushed whole, so a verifier reading entries in batches of a power of
        two pays one list comprehension per level instead of one call per node.
        """
        hashes = [bytes(h) for h in leaf_hashes]
        for h in hashes:
            if len(h) != HASH_SIZE:
                raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
        sha256, prefix = hashlib.sha256, _NODE_PREFIX
        start, count = 0, len(hashes)
        while start < count:
            left = count - start
            width = self._size & -self._size if self._size else 1 << left.bit_length()
            while width > left:
                width >>= 1
            if width == 1:
                self.push(hashes[start])
                start += 1
                continue
            level = hashes[start:start + width]
            on_node, min_level, height = self._on_node, self._min_level, 0
            if on_node is not None and min_level == 0:
                for i, h in enumerate(level):  # width >= 2 here: the leaves are not the top
                    on_node(0, self._size + i, h)
            while len(level) > 1:
                pairs = iter(level)
                level = [sha256(prefix + a + b).digest() for a, b in zip(pairs, pairs)]
                height += 1
                if on_node is not None and height >= min_level and len(level) > 1:
                    base = self._size >> height
                    for i, h in enumerate(level):
                        on_node(height, base + i, h)
            self._push_subtree(level[0], width)
            start += width

    def _push_subtree(self, subtree_root: bytes, width: int) -> None:
        """Push the root of a perfect subtree of `width` leaves; the size is a multiple of `width`."""
        stack = self._stack
        stack.append(subtree_root)
        n = self._size // width
        level = width.bit_length() - 1
        on_node, min_level = self._on_node, self._min_level
        if on_node is not None and level >= min_level:
            on_node(level, n, subtree_root)
        end = self._size + width
        while n & 1:
            right = stack.pop()
            stack[-1] = node_hash(stack[-1], right)
            n >>= 1
            level += 1
            if on_node is not None and level >= min_level:
                on_node(level, (end >> level) - 1, stack[-1])
        self._size += width

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        stack = self._stack
        result = stack[-1]
        for left in reversed(stack[:-1]):
            result = node_hash(left, result)
        return result


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """The RFC 9162 root (MTH) of a sequence of leaf hashes."""
    builder = RootBuilder()
    for h in leaf_hashes:
        builder.push(h)
    return builder.root()


def _largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two strictly less than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _range_root(start: int, end: int, subtree_root: SubtreeRoot) -> bytes:
    """MTH of leaves [start, end) asked only as perfect aligned subtrees.

    Callers guarantee ``start`` is a multiple of the smallest power of two
    >= end - start. The range then splits, largest first, into one aligned
    perfect subtree per set bit of its length, and its MTH is those hashes
    folded from the right.
    """
    pieces: list[bytes] = []
    pos = start
    remaining = end - start
    while remaining:
        width = 1 << (remaining.bit_length() - 1)
        pieces.append(subtree_root(pos, pos + width))
        pos += width
        remaining -= width
    result = pieces[-1]
    for left in reversed(pieces[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_proof(index: int, size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 section 2.1.3.1, leaf level first.

    Asks ``subtree_root`` for perfect aligned subtrees only (see module
    docstring): at most 2 * ceil(log2(size)) calls.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Invariant: start is a multiple of the smallest power of two >= end - start,
    # so every sibling range below is aligned.
    while end - start > 1:
        mid = start + _largest_power_of_two_below(end - start)
        if index < mid:
            path.append(_range_root(mid, end, subtree_root))
            end = mid
        else:
            path.append(subtree_root(start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(
    first_size: int, second_size: int, subtree_root: SubtreeRoot
) -> list[bytes]:
    """PROOF(first_size, D[second_size]) of RFC 9162 section 2.1.4.1.

    Asks ``subtree_root`` for perfect aligned subtrees only (see module
    docstring): at most 2 * ceil(log2(second_size)) + 1 calls. Empty when
    the sizes are equal; a proof from size 0 is refused, as verification
    refuses it.
    """
    if not 0 < first_size <= second_size:
        raise ValueError(
            f"no consistency proof from size {first_size} to size {second_size}"
        )
    path: list[bytes] = []
    start, end = 0, second_size
    whole_first_tree = True  # the b flag of SUBPROOF
    while end != first_size:
        mid = start + _largest_power_of_two_below(end - start)
        if first_size <= mid:
            path.append(_range_root(mid, end, subtree_root))
            end = mid
        else:
            path.append(subtree_root(start, mid))
            start = mid
            whole_first_tree = False
    if not whole_first_tree:
        # [start, end) is a complete node of the first tree, so it is perfect.
        path.append(subtree_root(start, end))
    path.reverse()
    return path


def subtree_root_from_list(leaf_hashes: Sequence[bytes]) -> SubtreeRoot:
    """A ``subtree_root`` answering from leaf hashes held in memory.

    Precomputes every perfect aligned node (O(n) hashes) so proof
    generation is O(log n) per proof; any other range is hashed directly.
    """
    leaves = [bytes(h) for h in leaf_hashes]
    for h in leaves:
        if len(h) != HASH_SIZE:
            raise ValueError(f"a leaf hash must be {HASH_SIZE} bytes")
    levels = [leaves]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append(
            [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        )

    def subtree_root(start: int, end: int) -> bytes:
        if not 0 <= start <= end <= len(leaves):
            raise ValueError(f"range [{start}, {end}) is outside {len(leaves)} leaves")
        width = end - start
        if width and width & (width - 1) == 0 and start % width == 0:
            level = width.bit_length() - 1
            return levels[level][start >> level]
        return root_of(leaves[start:end])

    return subtree_root


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree ``(size, root)``.

    RFC 9162 section 2.1.3.2. Raises ProofError saying why it fails.
    """
    if index < 0 or size < 0:
        raise ProofError("index and size must not be negative")
    if index >= size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_hash(leaf_hash, "the leaf hash")
    _check_hash(root, "the root")
    for i, p in enumerate(proof):
        _check_hash(p, f"proof hash {i}")
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short for the tree size")
    if r != root:
        raise ProofError("the inclusion proof does not lead to the given root")


def verify_consistency(
    first_size: int,
    second_size: int,
    first_root: bytes,
    second_root: bytes,
    proof: Sequence[bytes],
) -> None:
    """Check that tree ``(first_size, first_root)`` is a prefix of ``(second_size, second_root)``.

    RFC 9162 section 2.1.4.2. Raises ProofError saying why it fails.
    """
    if first_size < 0 or second_size < 0:
        raise ProofError("tree sizes must not be negative")
    if first_size > second_size:
        raise ProofError(
            f"the first size {first_size} is larger than the second size {second_size}"
        )
    if first_size == 0:
        raise ProofError("a consistency proof from an empty tree proves nothing")
    if first_size == second_size:
        if len(proof):
            raise ProofError("equal tree sizes need an empty consistency proof")
        if first_root != second_root:
            raise ProofError("equal tree sizes but the roots differ")
        return
    if not len(proof):
        raise ProofError("the consistency proof is empty")
    _check_hash(first_root, "the first root")
    _check_hash(second_root, "the second root")
    for i, c in enumerate(proof):
        _check_hash(c, f"proof hash {i}")
    path = list(proof)
    if first_size & (first_size - 1) == 0:
        path.insert(0, bytes(first_root))
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short for the tree sizes")
    if fr != first_root:
        raise ProofError("the consistency proof does not lead to the first root")
    if sr != second_root:
        raise ProofError("the consistency proof does not lead to the second root")
