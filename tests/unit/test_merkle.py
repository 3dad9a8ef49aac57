"""RFC 9162 Merkle tree: known answers, public test vectors, properties."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.chain.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    ProofError,
    RootBuilder,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_of,
    subtree_root_from_list,
    verify_consistency,
    verify_inclusion,
)

# --- An independent, naive reading of RFC 9162 section 2.1 -----------------


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def naive_mth(hashes: list[bytes]) -> bytes:
    n = len(hashes)
    if n == 0:
        return _h(b"")
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return _h(b"\x01" + naive_mth(hashes[:k]) + naive_mth(hashes[k:]))


def naive_path(m: int, hashes: list[bytes]) -> list[bytes]:
    n = len(hashes)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return naive_path(m, hashes[:k]) + [naive_mth(hashes[k:])]
    return naive_path(m - k, hashes[k:]) + [naive_mth(hashes[:k])]


def naive_subproof(m: int, hashes: list[bytes], whole: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if whole else [naive_mth(hashes)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return naive_subproof(m, hashes[:k], whole) + [naive_mth(hashes[k:])]
    return naive_subproof(m - k, hashes[k:], False) + [naive_mth(hashes[:k])]


def flip_bit(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[(bit // 8) % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


class RecordingSubtreeRoot:
    """Wraps subtree_root_from_list and records every range asked for."""

    def __init__(self, hashes: list[bytes]):
        self._inner = subtree_root_from_list(hashes)
        self.calls: list[tuple[int, int]] = []

    def __call__(self, start: int, end: int) -> bytes:
        self.calls.append((start, end))
        return self._inner(start, end)

    def check_and_reset(self, size: int) -> None:
        """Only perfect aligned subtrees inside the tree, O(log n) of them."""
        for start, end in self.calls:
            width = end - start
            assert width > 0 and width & (width - 1) == 0, (start, end)
            assert start % width == 0, (start, end)
            assert end <= size, (start, end, size)
        assert len(self.calls) <= 2 * max(size - 1, 0).bit_length() + 1, self.calls
        self.calls.clear()


# --- Known answers: the RFC 6962 / transparency-dev 8-leaf tree ------------

LEAVES = [
    bytes.fromhex(x)
    for x in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
HASHES = [leaf_hash(leaf) for leaf in LEAVES]

# Roots at sizes 1..8, as published in transparency-dev/merkle proof/verify_test.go.
PUBLISHED_ROOTS = [
    bytes.fromhex(x)
    for x in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]


def _hexes(*xs: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in xs]


# (leaf index, tree size, proof), published alongside the roots.
PUBLISHED_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        _hexes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        5,
        8,
        _hexes(
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (2, 3, _hexes("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (
        1,
        5,
        _hexes(
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
]

# (first size, second size, proof).
PUBLISHED_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        _hexes(
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ),
    ),
    (
        6,
        8,
        _hexes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
    (
        2,
        5,
        _hexes(
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ),
    ),
    (
        6,
        7,
        _hexes(
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ),
    ),
]


def test_empty_root() -> None:
    expected = bytes.fromhex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert EMPTY_ROOT == expected
    assert root_of([]) == expected
    assert RootBuilder().root() == expected
    assert RootBuilder().size == 0


def test_leaf_and_node_hash_prefixes() -> None:
    assert HASH_SIZE == 32
    assert leaf_hash(b"") == PUBLISHED_ROOTS[0]
    assert leaf_hash(b"abc") == _h(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _h(b"\x01" + b"L" * 32 + b"R" * 32)


def test_size_8_root_matches_published_constant() -> None:
    assert root_of(HASHES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )
    assert naive_mth(HASHES) == PUBLISHED_ROOTS[7]


@pytest.mark.parametrize("size", range(1, 9))
def test_known_roots_at_every_size(size: int) -> None:
    assert root_of(HASHES[:size]) == PUBLISHED_ROOTS[size - 1]
    assert naive_mth(HASHES[:size]) == PUBLISHED_ROOTS[size - 1]
    builder = RootBuilder()
    for h in HASHES[:size]:
        builder.push(h)
    assert builder.size == size
    assert builder.root() == PUBLISHED_ROOTS[size - 1]
    assert builder.root() == PUBLISHED_ROOTS[size - 1]  # root() does not consume


@pytest.mark.parametrize("index, size, expected", PUBLISHED_INCLUSION)
def test_known_inclusion_proofs(index: int, size: int, expected: list[bytes]) -> None:
    oracle = RecordingSubtreeRoot(HASHES)
    assert inclusion_proof(index, size, oracle) == expected
    oracle.check_and_reset(size)
    verify_inclusion(index, size, HASHES[index], expected, PUBLISHED_ROOTS[size - 1])


@pytest.mark.parametrize("first, second, expected", PUBLISHED_CONSISTENCY)
def test_known_consistency_proofs(first: int, second: int, expected: list[bytes]) -> None:
    oracle = RecordingSubtreeRoot(HASHES)
    assert consistency_proof(first, second, oracle) == expected
    oracle.check_and_reset(second)
    verify_consistency(
        first, second, PUBLISHED_ROOTS[first - 1], PUBLISHED_ROOTS[second - 1], expected
    )


# --- Argument checks --------------------------------------------------------


def test_push_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        RootBuilder().push(b"short")


@pytest.mark.parametrize("index, size", [(0, 0), (8, 8), (-1, 8), (9, 8)])
def test_inclusion_proof_rejects_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError):
        inclusion_proof(index, size, subtree_root_from_list(HASHES))


@pytest.mark.parametrize("first, second", [(0, 0), (0, 5), (6, 5), (-1, 3)])
def test_consistency_proof_rejects_bad_sizes(first: int, second: int) -> None:
    with pytest.raises(ValueError):
        consistency_proof(first, second, subtree_root_from_list(HASHES))


def test_subtree_root_from_list_answers_any_range() -> None:
    subtree_root = subtree_root_from_list(HASHES)
    for start in range(9):
        for end in range(start, 9):
            assert subtree_root(start, end) == naive_mth(HASHES[start:end])
    with pytest.raises(ValueError):
        subtree_root(0, 9)


def test_verify_inclusion_rejects_with_reason() -> None:
    proof = inclusion_proof(1, 5, subtree_root_from_list(HASHES))
    root = PUBLISHED_ROOTS[4]
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(5, 5, HASHES[1], proof, root)
    with pytest.raises(ProofError, match="leaf hash must be 32 bytes"):
        verify_inclusion(1, 5, HASHES[1][:31], proof, root)
    with pytest.raises(ProofError, match="proof hash 2 must be 32 bytes"):
        verify_inclusion(1, 5, HASHES[1], [*proof[:2], proof[2] + b"\x00"], root)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(1, 5, HASHES[1], proof[:2], root)
    with pytest.raises(ProofError, match="longer"):
        verify_inclusion(1, 5, HASHES[1], [*proof, root], root)
    with pytest.raises(ProofError, match="does not lead"):
        verify_inclusion(1, 5, HASHES[2], proof, root)


def test_verify_consistency_rejects_with_reason() -> None:
    r = PUBLISHED_ROOTS
    proof = consistency_proof(6, 8, subtree_root_from_list(HASHES))
    with pytest.raises(ProofError, match="larger"):
        verify_consistency(8, 6, r[7], r[5], proof)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 8, EMPTY_ROOT, r[7], proof)
    with pytest.raises(ProofError, match="empty consistency proof"):
        verify_consistency(8, 8, r[7], r[7], proof)
    with pytest.raises(ProofError, match="roots differ"):
        verify_consistency(8, 8, r[7], r[6], [])
    with pytest.raises(ProofError, match="is empty"):
        verify_consistency(6, 8, r[5], r[7], [])
    with pytest.raises(ProofError, match="proof hash 0 must be 32 bytes"):
        verify_consistency(6, 8, r[5], r[7], [proof[0] + b"\x00", *proof[1:]])
    with pytest.raises(ProofError, match="first root must be 32 bytes"):
        verify_consistency(6, 8, r[5][:16], r[7], proof)
    with pytest.raises(ProofError, match="first root"):
        verify_consistency(6, 8, r[4], r[7], proof)
    with pytest.raises(ProofError, match="second root"):
        verify_consistency(6, 8, r[5], r[6], proof)
    verify_consistency(8, 8, r[7], r[7], [])


# --- Public test vectors (transparency-dev/merkle) --------------------------

VECTORS = (
    Path(__file__).resolve().parents[2].parent
    / "shared"
    / "testdata"
    / "transparency-dev-merkle"
)


def _vector_files(kind: str) -> list[Path | None]:
    base = VECTORS / "testdata" / kind
    files = sorted(base.rglob("*.json")) if base.is_dir() else []
    return files or [None]


def _vector_id(path: Path | None) -> str:
    if path is None:
        return "absent"
    return path.relative_to(VECTORS / "testdata").as_posix()


def _load(path: Path | None) -> dict:
    if path is None:
        pytest.skip(f"test vectors not found at {VECTORS}")
    return json.loads(path.read_text())


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _b64_list(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def test_all_vectors_are_found() -> None:
    if not VECTORS.is_dir():
        pytest.skip(f"test vectors not found at {VECTORS}")
    files = [*_vector_files("inclusion"), *_vector_files("consistency")]
    assert None not in files
    assert len(files) == 196  # the count its README gives, nested folders included


@pytest.mark.parametrize("path", _vector_files("inclusion"), ids=_vector_id)
def test_inclusion_vector(path: Path | None) -> None:
    v = _load(path)
    args = (
        v["leafIdx"],
        v["treeSize"],
        _b64(v["leafHash"]),
        _b64_list(v["proof"]),
        _b64(v["root"]),
    )
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", _vector_files("consistency"), ids=_vector_id)
def test_consistency_vector(path: Path | None) -> None:
    v = _load(path)
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _b64_list(v["proof"]))
    if v["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


def _happy_paths(kind: str) -> list[Path | None]:
    return [p for p in _vector_files(kind) if p is None or p.name == "happy-path.json"]


@pytest.mark.parametrize("path", _happy_paths("inclusion"), ids=_vector_id)
def test_generated_inclusion_proof_equals_vector(path: Path | None) -> None:
    v = _load(path)
    index, size = v["leafIdx"], v["treeSize"]
    assert _b64(v["root"]) == PUBLISHED_ROOTS[size - 1]
    assert _b64(v["leafHash"]) == HASHES[index]
    proof = inclusion_proof(index, size, subtree_root_from_list(HASHES))
    assert proof == _b64_list(v["proof"])


@pytest.mark.parametrize("path", _happy_paths("consistency"), ids=_vector_id)
def test_generated_consistency_proof_equals_vector(path: Path | None) -> None:
    v = _load(path)
    first, second = v["size1"], v["size2"]
    assert _b64(v["root1"]) == PUBLISHED_ROOTS[first - 1]
    assert _b64(v["root2"]) == PUBLISHED_ROOTS[second - 1]
    proof = consistency_proof(first, second, subtree_root_from_list(HASHES))
    assert proof == _b64_list(v["proof"])


# --- Properties over random trees -------------------------------------------

# Distinct leaves: with two equal leaves, swapping their indexes is a genuinely
# valid proof, so "wrong index fails" only holds for distinct leaves.
# The size is drawn first so large trees are as likely as small ones.
MAX_LEAVES = 70
distinct_leaves = st.integers(1, MAX_LEAVES).flatmap(
    lambda n: st.lists(st.binary(max_size=6), min_size=n, max_size=n, unique=True)
)
LARGEST = [i.to_bytes(2, "big") for i in range(MAX_LEAVES)]
any_leaves = st.integers(0, MAX_LEAVES).flatmap(
    lambda n: st.lists(st.binary(max_size=6), min_size=n, max_size=n)
)


@settings(max_examples=40, deadline=None)
@given(leaves=any_leaves)
@example(leaves=LARGEST)
def test_root_builder_matches_naive_mth_at_every_prefix(leaves: list[bytes]) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    builder = RootBuilder()
    assert builder.root() == naive_mth([])
    for size, h in enumerate(hashes, start=1):
        builder.push(h)
        assert builder.size == size
        assert builder.root() == naive_mth(hashes[:size])
        assert len(builder._stack) == size.bit_count()  # O(log n) memory
    assert root_of(hashes) == naive_mth(hashes)


@settings(max_examples=10, deadline=None)
@given(leaves=distinct_leaves, bit=st.integers(0, 8 * HASH_SIZE - 1))
@example(leaves=LARGEST, bit=8 * HASH_SIZE - 1)
def test_every_inclusion_proof_verifies_and_mutations_fail(
    leaves: list[bytes], bit: int
) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    oracle = RecordingSubtreeRoot(hashes)  # answers every prefix tree
    stranger = leaf_hash(b"not a leaf of this tree")
    for size in range(1, len(hashes) + 1):
        root = naive_mth(hashes[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, oracle)
            oracle.check_and_reset(size)
            verify_inclusion(index, size, hashes[index], proof, root)
            for i in range(len(proof)):
                bad = [*proof[:i], flip_bit(proof[i], bit), *proof[i + 1 :]]
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, hashes[index], bad, root)
            for wrong in {index - 1, index + 1, index ^ 2, size}:
                if wrong != index and wrong >= 0:
                    with pytest.raises(ProofError):
                        verify_inclusion(wrong, size, hashes[index], proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(index, size, stranger, proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(index, size, hashes[index], [*proof, root], root)
            if proof:
                with pytest.raises(ProofError):
                    verify_inclusion(index, size, hashes[index], proof[:-1], root)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), leaves=distinct_leaves)
def test_inclusion_proof_equals_rfc_path(data: st.DataObject, leaves: list[bytes]) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(index, size, subtree_root_from_list(hashes))
    assert proof == naive_path(index, hashes[:size])


@settings(max_examples=40, deadline=None)
@given(leaves=distinct_leaves, bit=st.integers(0, 8 * HASH_SIZE - 1))
@example(leaves=LARGEST, bit=0)
def test_every_consistency_proof_verifies_and_mutations_fail(
    leaves: list[bytes], bit: int
) -> None:
    hashes = [leaf_hash(leaf) for leaf in leaves]
    n = len(hashes)
    oracle = RecordingSubtreeRoot(hashes)
    roots = [naive_mth(hashes[:size]) for size in range(n + 1)]
    second_root = roots[n]
    for m in range(1, n + 1):
        first_root = roots[m]
        proof = consistency_proof(m, n, oracle)
        oracle.check_and_reset(n)
        assert proof == naive_subproof(m, hashes, True)
        verify_consistency(m, n, first_root, second_root, proof)
        for i in range(len(proof)):
            bad = [*proof[:i], flip_bit(proof[i], bit), *proof[i + 1 :]]
            with pytest.raises(ProofError):
                verify_consistency(m, n, first_root, second_root, bad)
        with pytest.raises(ProofError):
            verify_consistency(m, n, flip_bit(first_root, bit), second_root, proof)
        with pytest.raises(ProofError):
            verify_consistency(m, n, first_root, flip_bit(second_root, bit), proof)
        with pytest.raises(ProofError):
            verify_consistency(m, n, first_root, second_root, [*proof, second_root])
        if proof:
            with pytest.raises(ProofError):
                verify_consistency(m, n, first_root, second_root, proof[:-1])
        for wrong in (m - 1, m + 1):
            if 0 <= wrong <= n:
                with pytest.raises(ProofError):
                    verify_consistency(wrong, n, first_root, second_root, proof)
