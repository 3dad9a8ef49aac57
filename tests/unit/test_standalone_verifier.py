"""The standalone verifier (ledger/standalone_verifier.py): the same verdicts as the project's own
verifier on the RFC 6962 / transparency-dev vectors, the Go reference note, and an end-to-end run
of the single file, isolated from the ledger package, over proofs of a real ledger."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger import standalone_verifier as sv
from ledger.chain import merkle
from ledger.chain import note as ledger_note
from ledger.service import LedgerService

VERIFIER_FILE = Path(sv.__file__).resolve()
VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "transparency-dev-merkle"

# --- Verdicts of both verifiers ------------------------------------------------------------------


def standalone_inclusion(*args) -> bool:
    try:
        sv.verify_inclusion(*args)
    except sv.VerificationError:
        return False
    return True


def project_inclusion(*args) -> bool:
    try:
        merkle.verify_inclusion(*args)
    except merkle.ProofError:
        return False
    return True


def standalone_consistency(*args) -> bool:
    try:
        sv.verify_consistency(*args)
    except sv.VerificationError:
        return False
    return True


def project_consistency(*args) -> bool:
    try:
        merkle.verify_consistency(*args)
    except merkle.ProofError:
        return False
    return True


# --- Inline known answers: the RFC 6962 / transparency-dev 8-leaf tree ----------------------------

LEAVES = [bytes.fromhex(x) for x in [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f"]]
HASHES = [merkle.leaf_hash(leaf) for leaf in LEAVES]
ROOT_8 = bytes.fromhex("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")
SUBTREE = merkle.subtree_root_from_list(HASHES)


def root(size: int) -> bytes:
    return merkle.root_of(HASHES[:size])


def flip(data: bytes, bit: int = 3) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_inline_tree_matches_the_published_root() -> None:
    assert root(8) == ROOT_8
    assert sv.leaf_hash(LEAVES[3]) == HASHES[3]


# (index, size) pairs and (first, second) pairs, including those published by RFC 6962 tests.
INCLUSION_CASES = [(0, 1), (0, 8), (5, 8), (2, 3), (1, 5), (7, 8), (4, 5), (6, 7)]
CONSISTENCY_CASES = [(1, 1), (1, 8), (6, 8), (2, 5), (6, 7), (3, 7), (4, 8), (8, 8)]


def inclusion_mutations(index: int, size: int):
    """(name, args, expected verdict): the good proof and its negative cases."""
    proof = merkle.inclusion_proof(index, size, SUBTREE)
    good = (index, size, HASHES[index], proof, root(size))
    yield "happy path", good, True
    yield "wrong leaf", (index, size, HASHES[(index + 1) % 8], proof, root(size)), False
    yield "flipped root bit", (index, size, HASHES[index], proof, flip(root(size))), False
    yield "root one byte short", (index, size, HASHES[index], proof, root(size)[:-1]), False
    yield "leaf hash one byte long", (index, size, HASHES[index] + b"\0", proof, root(size)), False
    yield "extended path", (index, size, HASHES[index], proof + [HASHES[0]], root(size)), False
    yield "index equals size", (size, size, HASHES[index], proof, root(size)), False
    yield "size zero", (0, 0, HASHES[index], [], merkle.EMPTY_ROOT), False
    yield "negative index", (-1, size, HASHES[index], proof, root(size)), False
    yield "size doubled", (index, size * 2, HASHES[index], proof, root(size)), False
    if proof:
        yield "flipped proof bit", (index, size, HASHES[index], [flip(proof[0])] + proof[1:], root(size)), False
        yield "truncated path", (index, size, HASHES[index], proof[:-1], root(size)), False
        yield "short proof hash", (index, size, HASHES[index], [proof[0][:31]] + proof[1:], root(size)), False
        yield "garbage before", (index, size, HASHES[index], [b""] + proof, root(size)), False


def consistency_mutations(first: int, second: int):
    proof = merkle.consistency_proof(first, second, SUBTREE)
    r1, r2 = root(first), root(second)
    yield "happy path", (first, second, r1, r2, proof), True
    yield "flipped first root", (first, second, flip(r1), r2, proof), False
    yield "flipped second root", (first, second, r1, flip(r2), proof), False
    yield "from size 0", (0, second, merkle.EMPTY_ROOT, r2, proof), False
    yield "sizes reversed", (second, first, r2, r1, proof), first == second
    yield "extended path", (first, second, r1, r2, proof + [HASHES[0]]), False
    if first != second:
        yield "swapped roots", (first, second, r2, r1, proof), False
        yield "flipped proof bit", (first, second, r1, r2, [flip(proof[0])] + proof[1:]), False
        yield "truncated path", (first, second, r1, r2, proof[:-1]), False
        yield "empty path", (first, second, r1, r2, []), False
        yield "long proof hash", (first, second, r1, r2, [proof[0] + b"\0"] + proof[1:]), False
        yield "root one byte short", (first, second, r1, r2[:-1], proof), False
        yield "second size out of range", (first, second * 2, r1, r2, proof), False


INCLUSION_PARAMS = [pytest.param(args, want, id=f"{i}-of-{s}-{name}")
                    for i, s in INCLUSION_CASES for name, args, want in inclusion_mutations(i, s)]
CONSISTENCY_PARAMS = [pytest.param(args, want, id=f"{a}-to-{b}-{name}")
                      for a, b in CONSISTENCY_CASES for name, args, want in consistency_mutations(a, b)]


@pytest.mark.parametrize("args,want", INCLUSION_PARAMS)
def test_inline_inclusion_cases(args, want) -> None:
    assert standalone_inclusion(*args) is want
    assert project_inclusion(*args) is want


@pytest.mark.parametrize("args,want", CONSISTENCY_PARAMS)
def test_inline_consistency_cases(args, want) -> None:
    assert standalone_consistency(*args) is want
    assert project_consistency(*args) is want


# A few of the transparency-dev/merkle files verbatim (hashes base64), so a fresh clone without
# ../shared still checks the cases a plain reading of the RFC gets wrong.
INLINE_VECTORS = [
    ("consistency", {"size1": 0, "size2": 1,
                     "root1": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                     "root2": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
                     "proof": ["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="], "wantErr": True}),
    ("consistency", {"size1": 2, "size2": 5,
                     "root1": "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
                     "root2": "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
                     "proof": ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                               "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="], "wantErr": False}),
    ("consistency", {"size1": 2, "size2": 5,
                     "root1": "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
                     "root2": "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
                     "proof": ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                               "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="], "wantErr": True}),
    ("consistency", {"size1": 2, "size2": 5,
                     "root1": "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=",
                     "root2": "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
                     "proof": ["", "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                               "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="], "wantErr": True}),
    ("consistency", {"size1": 0, "size2": 0, "root1": "", "root2": "", "proof": [], "wantErr": True}),
    ("inclusion", {"leafIdx": 0, "treeSize": 0, "root": "", "leafHash": "", "proof": [], "wantErr": True}),
]


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _vector_args(kind: str, v: dict) -> tuple:
    if kind == "inclusion":
        return (v["leafIdx"], v["treeSize"], _b64(v["leafHash"]), [_b64(p) for p in v["proof"] or []],
                _b64(v["root"]))
    return (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), [_b64(p) for p in v["proof"] or []])


def _check_vector(kind: str, v: dict) -> None:
    args = _vector_args(kind, v)
    want = not v["wantErr"]
    if kind == "inclusion":
        assert standalone_inclusion(*args) is want, v.get("desc")
        assert project_inclusion(*args) is want, v.get("desc")
    else:
        assert standalone_consistency(*args) is want, v.get("desc")
        assert project_consistency(*args) is want, v.get("desc")


@pytest.mark.parametrize("kind,vector", INLINE_VECTORS)
def test_inline_transparency_dev_vectors(kind, vector) -> None:
    _check_vector(kind, vector)


def _vector_files() -> list:
    base = VECTORS / "testdata"
    files = sorted(base.rglob("*.json")) if base.is_dir() else []
    return [pytest.param(p, id=p.relative_to(base).as_posix()) for p in files] or [
        pytest.param(None, id="absent")]


def test_all_196_vectors_are_present() -> None:
    if not VECTORS.is_dir():
        pytest.skip(f"test vectors not found at {VECTORS}")
    assert len(list((VECTORS / "testdata").rglob("*.json"))) == 196


@pytest.mark.parametrize("path", _vector_files())
def test_transparency_dev_vector(path) -> None:
    if path is None:
        pytest.skip(f"test vectors not found at {VECTORS}")
    kind = path.relative_to(VECTORS / "testdata").parts[0]
    assert kind in ("inclusion", "consistency")
    _check_vector(kind, json.loads(path.read_text()))


# --- Signed notes ----------------------------------------------------------------------------

GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
           "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def test_the_go_reference_note_verifies() -> None:
    key = sv.parse_verifier_key(GO_VERIFIER_KEY)
    assert key.name == "PeterNeumann" and key.key_id.hex() == "c74f20a3"
    assert str(key) == GO_VERIFIER_KEY
    assert sv.verify_note(GO_NOTE, GO_VERIFIER_KEY) == GO_TEXT
    assert sv.verify_note(GO_NOTE, [key]) == GO_TEXT


@pytest.mark.parametrize("change", [
    lambda n: n.replace("cryptography", "cryptographY"),
    lambda n: n.replace("x08go", "x08gp"),
    lambda n: n.replace("PeterNeumann x", "PeterNeuman x"),
    lambda n: n[:-1],
    lambda n: n.replace("\n\n", "\n"),
])
def test_an_altered_note_is_refused(change) -> None:
    with pytest.raises(sv.VerificationError):
        sv.verify_note(change(GO_NOTE), GO_VERIFIER_KEY)


@pytest.mark.parametrize("text", [
    "", "PeterNeumann", "PeterNeumann+c74f20a3", "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+ApBc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",
])
def test_malformed_verifier_keys_are_refused(text) -> None:
    with pytest.raises(sv.VerificationError):
        sv.parse_verifier_key(text)


def test_a_checkpoint_signed_by_the_project_verifies_and_parses() -> None:
    private = Ed25519PrivateKey.generate()
    body = ledger_note.Checkpoint("disclosure-ledger/abc", 8, ROOT_8).body()
    signed = ledger_note.sign_note(body, "ledger-test", private)
    key = str(ledger_note.verifier_key("ledger-test", private))
    checkpoint = sv.verify_checkpoint(signed, key)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == ("disclosure-ledger/abc", 8, ROOT_8)
    other = str(ledger_note.verifier_key("ledger-test", Ed25519PrivateKey.generate()))
    with pytest.raises(sv.VerificationError, match="no signature"):
        sv.verify_checkpoint(signed, other)
    with pytest.raises(sv.VerificationError, match="altered"):
        sv.verify_checkpoint(signed.replace("\n8\n", "\n9\n"), key)


@pytest.mark.parametrize("body", [
    "origin\n8\n", "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    "o\n08\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n", "o\n-1\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
    "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQ==\n", "o\n8\nnot base64!\n",
    "o\n18446744073709551616\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n",
])
def test_malformed_checkpoints_are_refused(body) -> None:
    with pytest.raises(sv.VerificationError):
        sv.parse_checkpoint(body)


# --- End to end: the single file, alone, over a real ledger ---------------------------------

PARTIES = [
    {"name": "Kyoto Mail Delivery Co., Ltd.", "kind": "contractor", "country": "JP",
     "address": "12 Karasuma-dori, Shimogyo-ku, Kyoto 600-8008", "representative": "Suzuki Ichiro"},
    {"name": "Heian Textbook Publishers Inc.", "kind": "third_party", "country": "JP",
     "address": "8 Oike-dori, Nakagyo-ku, Kyoto 604-8171", "representative": "Watanabe Aiko"},
    {"name": "Kyoto Prefectural Police", "kind": "government_body", "country": "JP",
     "address": "85-3 Yabunouchi-cho, Kamigyo-ku, Kyoto 602-8550"},
]


@pytest.fixture
def world(tmp_path, clock):
    """A small ledger, a checkpoint of it signed with a fresh key, proofs, and a lone verifier copy."""
    with LedgerService.open(tmp_path / "ledger.db", create=True, operator="Test Operator",
                            clock=clock) as service:
        for party in PARTIES:
            service.register_party(party)
        size = service.store.size()
        entries = [service.entry(seq) for seq in range(1, size + 1)]
        origin = f"disclosure-ledger/{service.ledger_id()}"
    assert size >= 4
    hashes = [e.leaf_hash for e in entries]
    subtree = merkle.subtree_root_from_list(hashes)
    tree_root = merkle.root_of(hashes)
    private = Ed25519PrivateKey.generate()
    note_text = ledger_note.sign_note(ledger_note.Checkpoint(origin, size, tree_root).body(), "test-ledger", private)
    key = str(ledger_note.verifier_key("test-ledger", private))

    def proof(seq: int, at: int = size) -> dict:
        return {"seq": seq, "leaf_index": seq - 1, "tree_size": at,
                "leaf": base64.b64encode(entries[seq - 1].leaf).decode(),
                "leaf_hash": entries[seq - 1].leaf_hash.hex(),
                "audit_path": [h.hex() for h in merkle.inclusion_proof(seq - 1, at, subtree)],
                "root": merkle.root_of(hashes[:at]).hex(), "checkpoint": note_text}

    folder = tmp_path / "regulator"
    folder.mkdir()
    verifier = folder / "standalone_verifier.py"
    shutil.copyfile(VERIFIER_FILE, verifier)
    (folder / "checkpoint.txt").write_text(note_text, encoding="utf-8")
    (folder / "key.txt").write_text(key + "\n", encoding="utf-8")
    consistency = {"first_size": 2, "second_size": size, "first_root": merkle.root_of(hashes[:2]).hex(),
                   "second_root": tree_root.hex(),
                   "path": [h.hex() for h in merkle.consistency_proof(2, size, subtree)]}
    return {"folder": folder, "verifier": verifier, "key": key, "proof": proof, "size": size,
            "entries": entries, "consistency": consistency, "origin": origin}


# The venv has the ledger package installed, so -I alone would still find it: the runner also
# blocks it (and the terminal app) in sys.modules before running the copied file as __main__.
BLOCKING_RUNNER = ("import runpy, sys; sys.modules['ledger'] = None; sys.modules['tui'] = None; "
                   "path = sys.argv[1]; sys.argv = sys.argv[1:]; runpy.run_path(path, run_name='__main__')")


def run_verifier(world, *args: str, plain: bool = False) -> subprocess.CompletedProcess:
    # -I: isolated mode (no PYTHONPATH, no user site, no current folder on sys.path), on a copy of
    # the file in the regulator's folder, with `import ledger` made to fail.
    command = [sys.executable, "-I", str(world["verifier"]), *args] if plain else [
        sys.executable, "-I", "-c", BLOCKING_RUNNER, str(world["verifier"]), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=world["folder"], timeout=60)


def write(world, name: str, *records: dict) -> str:
    path = world["folder"] / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def test_the_runner_blocks_the_ledger_package(world) -> None:
    probe = world["folder"] / "probe.py"
    probe.write_text("import ledger\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-I", "-c", BLOCKING_RUNNER, str(probe)],
                            capture_output=True, text=True, cwd=world["folder"])
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr


def test_the_file_runs_as_a_plain_script(world) -> None:
    path = write(world, "proofs.jsonl", world["proof"](1))
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"], path, plain=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "entry seq 1 " in result.stdout and "ledger.created" in result.stdout


def test_the_file_imports_only_the_standard_library_and_cryptography() -> None:
    import ast

    tree = ast.parse(VERIFIER_FILE.read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            modules.add(node.module.split(".")[0])
    assert modules - {"cryptography"} <= set(sys.stdlib_module_names), modules


def test_end_to_end_all_verify(world) -> None:
    proofs = write(world, "proofs.jsonl", world["proof"](2), world["proof"](world["size"]))
    single = world["folder"] / "one.json"
    single.write_text(json.dumps(world["proof"](1), indent=2), encoding="utf-8")
    consistency = write(world, "consistency.json", world["consistency"])
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"],
                          proofs, str(single), consistency)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert out.count(": OK") >= 5  # the checkpoint, three entries, one consistency proof
    assert f"origin {world['origin']}" in out
    for seq in (1, 2, world["size"]):
        assert f"entry seq {seq} " in out
    second = world["entries"][1]
    assert json.dumps(second.body["name"]) in out  # the decoded leaf is printed
    assert '"kind": "party.registered"' in out or f'"kind": "{second.kind}"' in out
    # The key may also be given as a file.
    again = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", "key.txt", proofs)
    assert again.returncode == 0, again.stdout + again.stderr


def test_end_to_end_a_tampered_leaf_fails(world) -> None:
    tampered = world["proof"](2)
    leaf = base64.b64decode(tampered["leaf"]).replace(b"Kyoto", b"Osaka", 1)
    tampered["leaf"] = base64.b64encode(leaf).decode()
    good = world["proof"](3)
    path = write(world, "proofs.jsonl", tampered, good)
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"], path)
    assert result.returncode == 1
    assert "altered" in result.stdout and "FAILED" in result.stderr
    assert "entry seq 3 " in result.stdout  # the others are still reported
    assert "Traceback" not in result.stdout + result.stderr

    # Recomputing leaf_hash too does not help: the audit path no longer leads to the root.
    tampered["leaf_hash"] = merkle.leaf_hash(leaf).hex()
    path = write(world, "rehashed.json", tampered)
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"], path)
    assert result.returncode == 1 and "does not lead to the root" in result.stderr


def test_end_to_end_a_wrong_key_fails(world) -> None:
    other = str(ledger_note.verifier_key("test-ledger", Ed25519PrivateKey.generate()))
    path = write(world, "proofs.jsonl", world["proof"](2))
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", other, path)
    assert result.returncode == 1
    assert "no signature on the note is by the verifier key" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr

    altered = world["folder"] / "altered.txt"
    text = (world["folder"] / "checkpoint.txt").read_text(encoding="utf-8")
    altered.write_text(text.replace(f"\n{world['size']}\n", f"\n{world['size'] + 1}\n"), encoding="utf-8")
    result = run_verifier(world, "--checkpoint", str(altered), "--key", world["key"], path)
    assert result.returncode == 1 and "altered" in result.stderr


def test_end_to_end_a_proof_at_the_wrong_size_fails(world) -> None:
    size = world["size"]
    path = write(world, "proofs.jsonl", world["proof"](2, at=size - 1))
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"], path)
    assert result.returncode == 1
    assert f"size {size - 1} but the checkpoint is at size {size}" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("mutate,reason", [
    (lambda p: p.update(leaf_index=p["leaf_index"] + 1), "is not seq - 1"),
    (lambda p: p.update(audit_path=p["audit_path"][:-1]), "too short"),
    (lambda p: p.update(audit_path=p["audit_path"] + [p["leaf_hash"]]), "longer than the tree"),
    (lambda p: p.update(audit_path=[p["audit_path"][0][:62]] + p["audit_path"][1:]), "32 bytes"),
    (lambda p: p.update(root="00" * 32), "not the checkpoint's root"),
    (lambda p: p.update(leaf="***"), "not valid base64"),
    (lambda p: p.pop("leaf_hash"), "no 'leaf_hash'"),
    (lambda p: p.update(seq="2"), "must be an integer"),
])
def test_end_to_end_malformed_proofs_fail_with_a_reason(world, mutate, reason) -> None:
    proof = world["proof"](2)
    mutate(proof)
    path = write(world, "bad.json", proof)
    result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"], path)
    assert result.returncode == 1, result.stdout
    assert reason in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_end_to_end_a_consistency_proof_from_size_zero_or_off_the_checkpoint_fails(world) -> None:
    zero = dict(world["consistency"], first_size=0, first_root=merkle.EMPTY_ROOT.hex())
    off = dict(world["consistency"], second_size=world["size"] - 1)
    for record, reason in [(zero, "empty tree"), (off, "neither is the checkpoint's size")]:
        path = write(world, "c.json", record)
        result = run_verifier(world, "--checkpoint", "checkpoint.txt", "--key", world["key"], path)
        assert result.returncode == 1 and reason in result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("args", [
    [],
    ["--key", "K"],
    ["--checkpoint", "checkpoint.txt", "--key", "not-a-key", "proofs.json"],
    ["--checkpoint", "missing.txt", "--key", "KEY", "proofs.json"],
    ["--checkpoint", "checkpoint.txt", "--key", "KEY"],  # no proof file
    ["--checkpoint", "checkpoint.txt", "--key", "KEY", "missing.json"],
    ["--bogus"],
])
def test_end_to_end_bad_usage_exits_2(world, args) -> None:
    write(world, "proofs.json", world["proof"](2))
    args = [world["key"] if a == "KEY" else a for a in args]
    result = run_verifier(world, *args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr.strip()
