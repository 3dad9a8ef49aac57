"""Inclusion and consistency proofs from the stored Merkle nodes (table merkle_node): they verify
with ledger.chain.merkle against the root at that size, the nodes are written with the entries,
rebuilt by `rebuild` and checked by `verify`."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.bench import _clock, _register_parties, synthetic_rows
from ledger.chain import merkle
from ledger.cli import main
from ledger.errors import ValidationError
from ledger.service import LedgerService
from ledger.storage import tree
from ledger.storage.db import Store

SIZES = (1, 2, 7, 255, 256, 257, 300, 511, 512, 513)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """About 620 entries written in every way: bulk imports crossing 256-blocks, single appends."""
    path = tmp_path_factory.mktemp("proofs") / "proofs.db"
    service = LedgerService.open(path, create=True, operator="proof-test", clock=_clock)
    parties = _register_parties(service, 5)
    rows = synthetic_rows(parties, 600)
    service.import_disclosures(rows[:240], source="test")
    for row in rows[240:270]:  # single appends across the 256 boundary
        service.record_disclosure(row)
    service.import_disclosures(rows[270:], source="test")  # crosses 512 inside one batch
    service.close()
    return path


@pytest.fixture
def service(built):
    svc = LedgerService.open(built, operator="proof-test", clock=_clock)
    yield svc
    svc.close()


@pytest.fixture
def copy(built, tmp_path) -> Path:
    target = tmp_path / "copy.db"
    shutil.copy(built, target)
    return target


def _hashes(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def _leaf_hashes(service: LedgerService) -> list[bytes]:
    return [bytes(h) for _, _, h in service.store.iter_entries()]


def test_the_ledger_crosses_several_blocks(service):
    size = service.store.size()
    assert size > 2 * tree.BLOCK and size & (size - 1)
    levels = dict(service.store.conn.execute("SELECT level, count(*) FROM merkle_node GROUP BY level"))
    assert levels == {8: size // 256, 9: size // 512}


def test_stored_nodes_equal_a_recomputation(service):
    leaves = _leaf_hashes(service)
    reference = merkle.subtree_root_from_list(leaves)
    for (level, idx), digest in tree.stored_nodes(service.store.conn).items():
        assert digest == reference(idx << level, (idx + 1) << level)


def test_root_at_full_size_is_verify_root(service):
    report = service.verify()
    assert report.ok
    assert service.root_at(report.size) == report.root
    leaves = _leaf_hashes(service)
    for size in SIZES:
        assert service.root_at(size) == merkle.root_of(leaves[:size]).hex()
    assert service.root_at(0) == merkle.EMPTY_ROOT.hex()


def test_every_inclusion_proof_verifies_at_full_size(service):
    size = service.store.size()
    root = bytes.fromhex(service.root_at(size))
    for seq in range(1, size + 1):
        proof = service.inclusion_proof(seq)
        assert proof["seq"] == seq and proof["leaf_index"] == seq - 1 and proof["tree_size"] == size
        assert proof["root"] == root.hex() and proof["checkpoint"] is None
        leaf = base64.b64decode(proof["leaf"])
        assert hashlib.sha256(b"\x00" + leaf).hexdigest() == proof["leaf_hash"]
        merkle.verify_inclusion(seq - 1, size, bytes.fromhex(proof["leaf_hash"]), _hashes(proof["audit_path"]), root)


@pytest.mark.parametrize("size", SIZES)
def test_inclusion_and_consistency_proofs_at_smaller_sizes(service, size):
    root = bytes.fromhex(service.root_at(size))
    full = service.store.size()
    full_root = bytes.fromhex(service.root_at(full))
    for seq in range(1, size + 1):
        proof = service.inclusion_proof(seq, size)
        assert proof["root"] == root.hex()
        merkle.verify_inclusion(seq - 1, size, bytes.fromhex(proof["leaf_hash"]), _hashes(proof["audit_path"]), root)
    proof = service.consistency_proof(size)
    assert proof["first_root"] == root.hex() and proof["second_root"] == full_root.hex()
    merkle.verify_consistency(size, full, root, full_root, _hashes(proof["path"]))
    for first in {1, size // 2 or 1, size}:
        proof = service.consistency_proof(first, size)
        merkle.verify_consistency(first, size, bytes.fromhex(proof["first_root"]), root, _hashes(proof["path"]))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_random_proofs_verify_and_a_mutation_fails(built, data):
    with LedgerService.open(built, operator="proof-test", clock=_clock) as service:
        full = service.store.size()
        size = data.draw(st.integers(1, full), label="size")
        seq = data.draw(st.integers(1, size), label="seq")
        first = data.draw(st.integers(1, size), label="first")
        root = bytes.fromhex(service.root_at(size))
        proof = service.inclusion_proof(seq, size)
        path = _hashes(proof["audit_path"])
        merkle.verify_inclusion(seq - 1, size, bytes.fromhex(proof["leaf_hash"]), path, root)
        consistency = service.consistency_proof(first, size)
        cpath = _hashes(consistency["path"])
        first_root = bytes.fromhex(consistency["first_root"])
        merkle.verify_consistency(first, size, first_root, root, cpath)
        if path:
            i = data.draw(st.integers(0, len(path) - 1), label="flip")
            bad = list(path)
            bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
            with pytest.raises(merkle.ProofError):
                merkle.verify_inclusion(seq - 1, size, bytes.fromhex(proof["leaf_hash"]), bad, root)
        if cpath:
            bad = cpath[:-1]
            with pytest.raises(merkle.ProofError):
                merkle.verify_consistency(first, size, first_root, root, bad)


@settings(max_examples=25, deadline=None)
@given(chunks=st.lists(st.integers(1, 300), min_size=1, max_size=8))
def test_nodes_written_by_appends_of_any_batch_shape(tmp_path_factory, chunks):
    """However the entries are batched into transactions, the stored nodes are exactly every
    complete aligned subtree of 256+ leaves."""
    store = Store.open(tmp_path_factory.mktemp("shape") / "s.db", create=True)
    try:
        for count in chunks:
            with store.transaction() as tx:
                tx.append_many("subject.erased", [({"reason": "retention_ended", "commitments": []}, None, [])
                                                  for _ in range(count)], "2024-01-01T00:00:00.000000Z", "t")
        leaves = [bytes(h) for _, _, h in store.iter_entries()]
        reference = merkle.subtree_root_from_list(leaves)
        expected = {}
        level = tree.NODE_MIN_LEVEL
        while (1 << level) <= len(leaves):
            for idx in range(len(leaves) >> level):
                expected[(level, idx)] = reference(idx << level, (idx + 1) << level)
            level += 1
        assert tree.stored_nodes(store.conn) == expected
        nodes = tree.SubtreeRoots(store.conn, len(leaves))
        assert nodes(0, len(leaves)) == merkle.root_of(leaves)
    finally:
        store.close()


def _problems(path: Path) -> list[str]:
    with LedgerService.open(path, operator="proof-test", clock=_clock) as svc:
        return [p.what for p in svc.verify().problems]


def test_a_changed_stored_node_is_detected_and_rebuild_repairs_it(copy):
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("UPDATE merkle_node SET hash = zeroblob(32) WHERE level = 8 AND idx = 1")
    problems = _problems(copy)
    assert len(problems) == 1 and "node over entries 257-512 does not match" in problems[0]
    with LedgerService.open(copy, operator="proof-test", clock=_clock) as svc:
        svc.rebuild()
        assert svc.verify().ok


def test_a_missing_or_extra_node_is_detected(copy):
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("DELETE FROM merkle_node WHERE level = 9")
        conn.execute("INSERT INTO merkle_node VALUES (8, 99, zeroblob(32))")
    problems = _problems(copy)
    assert any("missing from entry 512" in p for p in problems)
    assert any("node over entries 25345-25600 that the ledger does not have" in p for p in problems)


@pytest.mark.parametrize("level, idx", [("x", 1), (8, "x"), (-1, 0), (8, -1), (2**62, 0), (8.5, 0), (b"\x08", 0)])
def test_a_node_at_a_place_no_tree_has_is_reported_not_fatal(copy, level, idx):
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("UPDATE merkle_node SET level = ?, idx = ? WHERE level = 8 AND idx = 1", (level, idx))
    problems = _problems(copy)
    assert any("a Merkle tree node at a place no tree has" in p for p in problems), problems
    assert any("missing from entry 512" in p for p in problems), problems
    with LedgerService.open(copy, operator="proof-test", clock=_clock) as svc:
        svc.rebuild()
        assert svc.verify().ok


def test_a_ledger_without_the_node_table_gets_it_and_rebuild_fills_it(copy):
    with closing(sqlite3.connect(copy)) as conn, conn:
        conn.execute("DROP TABLE merkle_node")
    with LedgerService.open(copy, operator="proof-test", clock=_clock) as svc:
        size = svc.store.size()
        leaves = _leaf_hashes(svc)
        assert svc.root_at(size) == merkle.root_of(leaves).hex()  # recomputed without nodes
        assert any("missing" in p.what for p in svc.verify().problems)
        svc.rebuild()
        assert svc.verify().ok


@pytest.mark.parametrize("call, field", [
    (lambda s, n: s.inclusion_proof(0), "seq"),
    (lambda s, n: s.inclusion_proof(n + 1), "seq"),
    (lambda s, n: s.inclusion_proof(10, 9), "seq"),
    (lambda s, n: s.inclusion_proof(1, n + 1), "size"),
    (lambda s, n: s.inclusion_proof(1, 0), "size"),
    (lambda s, n: s.inclusion_proof("1"), "seq"),
    (lambda s, n: s.consistency_proof(0), "first_size"),
    (lambda s, n: s.consistency_proof(5, 4), "first_size"),
    (lambda s, n: s.consistency_proof(1, n + 1), "second_size"),
    (lambda s, n: s.root_at(n + 1), "size"),
    (lambda s, n: s.root_at(-1), "size"),
])
def test_out_of_range_arguments_are_refused(service, call, field):
    with pytest.raises(ValidationError) as raised:
        call(service, service.store.size())
    assert raised.value.field == field


def _cli(path: Path, *argv: str, capsys) -> tuple[int, str, str]:
    code = main(["--db", str(path), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_inclusion_and_consistency(built, capsys):
    code, out, _ = _cli(built, "proof", "inclusion", "--seq", "300", "--size", "513", capsys=capsys)
    assert code == 0
    proof = json.loads(out)
    assert set(proof) == {"seq", "leaf_index", "tree_size", "leaf", "leaf_hash", "audit_path", "root", "checkpoint"}
    assert (proof["seq"], proof["leaf_index"], proof["tree_size"], proof["checkpoint"]) == (300, 299, 513, None)
    for value in [proof["leaf_hash"], proof["root"], *proof["audit_path"]]:
        assert len(value) == 64 and value == value.lower()
    merkle.verify_inclusion(299, 513, bytes.fromhex(proof["leaf_hash"]), _hashes(proof["audit_path"]),
                            bytes.fromhex(proof["root"]))

    code, out, _ = _cli(built, "proof", "consistency", "--from", "257", capsys=capsys)
    assert code == 0
    proof = json.loads(out)
    assert set(proof) == {"first_size", "second_size", "first_root", "second_root", "path"}
    merkle.verify_consistency(257, proof["second_size"], bytes.fromhex(proof["first_root"]),
                              bytes.fromhex(proof["second_root"]), _hashes(proof["path"]))
    code, out, _ = _cli(built, "proof", "consistency", "--from", "7", "--to", "300", capsys=capsys)
    assert code == 0 and json.loads(out)["second_size"] == 300


def test_cli_refuses_out_of_range(built, capsys):
    code, out, err = _cli(built, "proof", "inclusion", "--seq", "100000", capsys=capsys)
    assert code == 2 and out == "" and "seq" in err and "Traceback" not in err
    code, out, err = _cli(built, "proof", "consistency", "--from", "0", capsys=capsys)
    assert code == 2 and "first_size" in err
