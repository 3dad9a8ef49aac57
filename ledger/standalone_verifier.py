#!/usr/bin/env python3
"""Standalone verifier for Disclosure Ledger proofs: one file, for a regulator or an auditor.

It needs Python 3.8 or later and, for Ed25519 signatures, the `cryptography` package; nothing
else (in particular not the ledger software itself). Usage:

    python3 standalone_verifier.py --checkpoint NOTE_FILE --key VERIFIER_KEY PROOF.json [...]

NOTE_FILE is a checkpoint exported by the ledger (a C2SP signed note, https://c2sp.org/signed-note,
whose body is a tlog-checkpoint: origin, decimal tree size and base64 root hash, one per line).
VERIFIER_KEY is the ledger's verifier key string `<name>+<8 hex key id>+<base64(0x01 || key)>`,
or a file holding it. Each PROOF file holds one JSON object, a JSON array of them, or JSON Lines:

  inclusion:   {"seq", "leaf_index", "tree_size", "leaf" (base64 of the leaf bytes), "leaf_hash",
                "audit_path": [hex, ...], "root", "checkpoint" (optional note text)}
  consistency: {"first_size", "second_size", "first_root", "second_root", "path": [hex, ...]}

For each inclusion proof it recomputes the leaf hash SHA-256(0x00 || leaf) from the leaf bytes,
checks that leaf_index is seq - 1, that the proof is at the checkpoint's size and root, and the
audit path (RFC 9162 section 2.1.3.2); then prints the entry. A consistency proof must start or
end at the checkpoint (RFC 9162 section 2.1.4.2). Hashes must be exactly 32 bytes, an index must
be below its tree size and a consistency proof from size 0 is refused.

Exit status: 0 when everything verifies, 1 when something does not (the first reason is printed
last; every proof is still reported), 2 for a usage error (missing file, bad key, bad arguments).

The functions verify_inclusion, verify_consistency, verify_note, parse_verifier_key and
parse_checkpoint can be imported and raise VerificationError saying why a check fails.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # reported when a signature has to be checked
    Ed25519PublicKey = None  # type: ignore[assignment,misc]
    InvalidSignature = Exception  # type: ignore[assignment,misc]

HASH_SIZE = 32
MAX_SIZE = 2**64 - 1  # tree sizes and indexes are uint64 in RFC 9162 and the checkpoint format
ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
ORIGIN_PREFIX = "disclosure-ledger/"

_NAME = re.compile(r"[^\s+]+")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class VerificationError(ValueError):
    """A proof, note or key that does not check out; the message says why."""


class UsageError(Exception):
    """Bad arguments or unreadable files: exit status 2."""


# --- RFC 9162 section 2.1 ----------------------------------------------------------------------


def leaf_hash(leaf: bytes) -> bytes:
    """SHA-256(0x00 || leaf)."""
    return hashlib.sha256(b"\x00" + bytes(leaf)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_SIZE


def _check_hash(value: object, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)):
        raise VerificationError(f"{what} is not a byte string")
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{what} must be {HASH_SIZE} bytes, got {len(value)}")
    return bytes(value)


def verify_inclusion(index: int, size: int, leaf_hash: bytes, proof, root: bytes) -> None:
    """Check that `leaf_hash` is leaf `index` (0-based) of the tree of `size` leaves and `root`.

    RFC 9162 section 2.1.3.2, strictly: every hash exactly 32 bytes, 0 <= index < size.
    Raises VerificationError saying why it fails.
    """
    if not _is_size(index) or not _is_size(size):
        raise VerificationError("the leaf index and tree size must be integers from 0 to 2^64-1")
    if index >= size:
        raise VerificationError(f"leaf index {index} is not below the tree size {size}")
    r = _check_hash(leaf_hash, "the leaf hash")
    root = _check_hash(root, "the root")
    path = [_check_hash(p, f"audit path hash {i}") for i, p in enumerate(proof)]
    fn, sn = index, size - 1
    for p in path:
        if sn == 0:
            raise VerificationError("the audit path is longer than the tree is deep")
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
        raise VerificationError("the audit path is too short for the tree size")
    if r != root:
        raise VerificationError("the audit path does not lead to the root")


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof) -> None:
    """Check that the tree (size1, root1) is a prefix of the tree (size2, root2).

    RFC 9162 section 2.1.4.2, strictly: 0 < size1 <= size2, every hash exactly 32 bytes, equal
    sizes need an empty proof and equal roots. Raises VerificationError saying why it fails.
    """
    if not _is_size(size1) or not _is_size(size2):
        raise VerificationError("tree sizes must be integers from 0 to 2^64-1")
    if size1 > size2:
        raise VerificationError(f"the first size {size1} is larger than the second size {size2}")
    if size1 == 0:
        raise VerificationError("a consistency proof from an empty tree (size 0) proves nothing")
    proof = list(proof)
    if size1 == size2:
        if proof:
            raise VerificationError("equal tree sizes need an empty consistency proof")
        if root1 != root2:
            raise VerificationError("equal tree sizes but the roots differ")
        return
    if not proof:
        raise VerificationError("the consistency proof is empty")
    root1 = _check_hash(root1, "the first root")
    root2 = _check_hash(root2, "the second root")
    path = [_check_hash(c, f"consistency proof hash {i}") for i, c in enumerate(proof)]
    if size1 & (size1 - 1) == 0:  # a power of two: the first tree is a node of the second
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("the consistency proof is longer than the tree is deep")
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
        raise VerificationError("the consistency proof is too short for the tree sizes")
    if fr != root1:
        raise VerificationError("the consistency proof does not lead to the first root")
    if sr != root2:
        raise VerificationError("the consistency proof does not lead to the second root")


# --- C2SP signed notes and checkpoints ---------------------------------------------------------


class VerifierKey:
    """A parsed verifier key of the signed-note format (Ed25519 only)."""

    __slots__ = ("name", "key_id", "public_key")

    def __init__(self, name: str, key_id: bytes, public_key: bytes):
        self.name, self.key_id, self.public_key = name, key_id, public_key

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


class Checkpoint:
    """The origin, tree size and root hash of a tlog-checkpoint body."""

    __slots__ = ("origin", "size", "root")

    def __init__(self, origin: str, size: int, root: bytes):
        self.origin, self.size, self.root = origin, size, root


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || "\\n" || 0x01 || public key)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def parse_verifier_key(text: str) -> VerifierKey:
    """`<name>+<8 hex digits>+<base64(0x01 || 32-byte Ed25519 key)>`; the id must match."""
    parts = text.strip().split("+", 2)  # base64 may hold '+'; a name never does
    if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
        raise VerificationError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
    name, hex_id, encoded = parts
    if not re.fullmatch(r"[0-9a-fA-F]{8}", hex_id):
        raise VerificationError("the verifier key's id is not 8 hex digits")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("the verifier key is not valid base64") from None
    if len(raw) != 33 or raw[0] != ED25519:
        raise VerificationError("the verifier key is not an Ed25519 key of the signed-note format")
    public = raw[1:]
    claimed = bytes.fromhex(hex_id)
    if key_id(name, public) != claimed:
        raise VerificationError("the verifier key's id does not match its name and key")
    return VerifierKey(name, claimed, public)


def split_note(note: str):
    """(body, [(name, key id, signature)]) of a signed note; raises VerificationError."""
    if not isinstance(note, str):
        raise VerificationError("a note is text")
    if "\r" in note or any(ord(c) < 0x20 and c != "\n" for c in note):
        raise VerificationError("a note holds no control characters other than newline")
    if "\n\n" not in note:
        raise VerificationError("a note has a body, a blank line and signature lines")
    cut = note.rindex("\n\n")
    body, signatures = note[:cut + 1], note[cut + 2:]
    if not signatures.endswith("\n"):
        raise VerificationError("a note ends with a newline")
    found = []
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise VerificationError(f"not a signature line: {line[:60]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        if not _NAME.fullmatch(name):
            raise VerificationError(f"a signature line has no valid key name: {line[:60]!r}")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise VerificationError("a signature is not valid base64") from None
        if len(raw) < 5:
            raise VerificationError("a signature is too short")
        found.append((name, raw[:4], raw[4:]))
    return body, found


def verify_note(note: str, key) -> str:
    """The body of `note` if it carries a valid signature by `key`; raises VerificationError.

    `key` is a verifier key string, a VerifierKey, or a list of either. Signatures by other keys
    are ignored; a signature by the key that does not match the body is an error.
    """
    keys = key if isinstance(key, (list, tuple)) else [key]
    keys = [parse_verifier_key(k) if isinstance(k, str) else k for k in keys]
    body, signatures = split_note(note)
    for name, kid, signature in signatures:
        for k in keys:
            if k.name == name and k.key_id == kid:
                if Ed25519PublicKey is None:
                    raise VerificationError(
                        "checking an Ed25519 signature needs the 'cryptography' package "
                        "(pip install cryptography)")
                try:
                    Ed25519PublicKey.from_public_bytes(k.public_key).verify(
                        signature, body.encode("utf-8"))
                except InvalidSignature:
                    raise VerificationError(
                        f"the signature by {name} does not match the note: it was altered") from None
                except ValueError:
                    raise VerificationError(f"the signature by {name} is malformed") from None
                return body
    names = ", ".join(sorted({n for n, _, _ in signatures})) or "nobody"
    raise VerificationError(
        f"no signature on the note is by the verifier key {keys[0].name if keys else '?'} "
        f"(signed by: {names})")


def parse_checkpoint(body: str) -> Checkpoint:
    """Origin, decimal size and base64 root of a tlog-checkpoint body (extension lines allowed)."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise VerificationError(
            "a checkpoint body has an origin, a size and a root hash, each on its own line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise VerificationError("the checkpoint has no origin line")
    if not _DECIMAL.fullmatch(size_text) or int(size_text) > MAX_SIZE:
        raise VerificationError(f"the checkpoint size {size_text[:30]!r} is not a decimal uint64")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("the checkpoint root is not valid base64") from None
    if len(root) != HASH_SIZE:
        raise VerificationError(f"the checkpoint root is {len(root)} bytes, not {HASH_SIZE}")
    return Checkpoint(origin, int(size_text), root)


def verify_checkpoint(note: str, key) -> Checkpoint:
    """Verify the note's signature with `key`, then parse its body as a checkpoint."""
    return parse_checkpoint(verify_note(note, key))


# --- Proof records -----------------------------------------------------------------------------


def _field_size(record: dict, name: str) -> int:
    if name not in record:
        raise VerificationError(f"the proof has no {name!r}")
    value = record[name]
    if not _is_size(value):
        raise VerificationError(f"{name!r} must be an integer from 0 to 2^64-1, got {value!r}"[:200])
    return value


def _field_hex(record: dict, name: str) -> bytes:
    if name not in record:
        raise VerificationError(f"the proof has no {name!r}")
    return _hex(record[name], repr(name))


def _hex(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX.fullmatch(value):
        raise VerificationError(f"{what} is not a hex string")
    raw = bytes.fromhex(value)
    if len(raw) != HASH_SIZE:
        raise VerificationError(f"{what} must be {HASH_SIZE} bytes, got {len(raw)}")
    return raw


def _field_path(record: dict, name: str) -> list:
    if name not in record:
        raise VerificationError(f"the proof has no {name!r}")
    value = record[name]
    if not isinstance(value, list):
        raise VerificationError(f"{name!r} must be a list of hex hashes")
    return [_hex(h, f"{name} hash {i}") for i, h in enumerate(value)]


def check_inclusion_record(record: dict, checkpoint: Checkpoint, key=None) -> dict:
    """Check an inclusion-proof record against a verified checkpoint; return the decoded leaf.

    Raises VerificationError with the reason for the first failed check.
    """
    seq = _field_size(record, "seq")
    index = _field_size(record, "leaf_index")
    size = _field_size(record, "tree_size")
    if seq < 1:
        raise VerificationError(f"seq must be at least 1, got {seq}")
    if index != seq - 1:
        raise VerificationError(f"leaf_index {index} is not seq - 1 = {seq - 1}")
    encoded = record.get("leaf")
    if not isinstance(encoded, str):
        raise VerificationError("the proof has no 'leaf' (base64 of the leaf bytes)")
    try:
        leaf = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise VerificationError("'leaf' is not valid base64") from None
    claimed = _field_hex(record, "leaf_hash")
    computed = leaf_hash(leaf)
    if computed != claimed:
        raise VerificationError(
            f"the leaf bytes hash to {computed.hex()}, not to the leaf_hash {claimed.hex()}: "
            "the leaf was altered")
    path = _field_path(record, "audit_path")
    root = _field_hex(record, "root")
    if size != checkpoint.size:
        raise VerificationError(
            f"the proof is for a tree of size {size} but the checkpoint is at size "
            f"{checkpoint.size}; ask for a proof at size {checkpoint.size}")
    if root != checkpoint.root:
        raise VerificationError(
            f"the proof's root {root.hex()} is not the checkpoint's root {checkpoint.root.hex()}")
    try:
        verify_inclusion(index, size, computed, path, checkpoint.root)
    except VerificationError as e:
        raise VerificationError(f"inclusion proof: {e}") from None
    try:
        entry = json.loads(leaf.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerificationError("the leaf bytes are not UTF-8 JSON") from None
    if not isinstance(entry, dict):
        raise VerificationError("the leaf is not a JSON object")
    if "seq" in entry and entry["seq"] != seq:
        raise VerificationError(f"the leaf says seq {entry['seq']!r} but the proof says {seq}")
    body = entry.get("body")
    if (entry.get("kind") == "ledger.created" and isinstance(body, dict)
            and isinstance(body.get("ledger_id"), str)
            and checkpoint.origin.startswith(ORIGIN_PREFIX)
            and checkpoint.origin != ORIGIN_PREFIX + body["ledger_id"]):
        raise VerificationError(
            f"the ledger id {body['ledger_id']} does not match the checkpoint origin "
            f"{checkpoint.origin}")
    embedded = record.get("checkpoint")
    if isinstance(embedded, str) and embedded.strip() and key is not None:
        try:
            own = verify_checkpoint(embedded, key)
        except VerificationError:
            own = None  # e.g. signed by an earlier key: not a check of this proof
        if own is not None and own.size == size and own.root != root:
            raise VerificationError(
                "the checkpoint inside the proof is signed with the key for the same size but "
                "a different root: the log has forked")
    return entry


def check_consistency_record(record: dict, checkpoint: Checkpoint) -> None:
    """Check a consistency-proof record, one end of which must be the checkpoint."""
    size1 = _field_size(record, "first_size")
    size2 = _field_size(record, "second_size")
    root1 = _field_hex(record, "first_root")
    root2 = _field_hex(record, "second_root")
    path = _field_path(record, "path")
    if checkpoint.size not in (size1, size2):
        raise VerificationError(
            f"the consistency proof runs from size {size1} to {size2}; neither is the "
            f"checkpoint's size {checkpoint.size}")
    if size1 == checkpoint.size and root1 != checkpoint.root:
        raise VerificationError("the first root is not the checkpoint's root")
    if size2 == checkpoint.size and root2 != checkpoint.root:
        raise VerificationError("the second root is not the checkpoint's root")
    try:
        verify_consistency(size1, size2, root1, root2, path)
    except VerificationError as e:
        raise VerificationError(f"consistency proof: {e}") from None


def read_records(text: str):
    """[(label, record or None, error or None)] from one JSON value, a JSON array or JSON Lines."""
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    else:
        if isinstance(whole, list):
            return [(f"item {i + 1}", r, None) for i, r in enumerate(whole)]
        return [("", whole, None)]
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((f"line {number}", json.loads(line), None))
        except ValueError as e:
            out.append((f"line {number}", None, f"not JSON ({e})"))
    if not out:
        out.append(("", None, "the file holds no proof"))
    return out


# --- Command line ------------------------------------------------------------------------------


def _read_text(path: str, what: str) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise UsageError(f"cannot read the {what} {path}: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"the {what} {path} is not UTF-8 text") from None


def _load_key(arg: str) -> VerifierKey:
    text = _read_text(arg, "key file") if os.path.isfile(arg) else arg
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if len(lines) != 1:
        raise UsageError("the verifier key file must hold exactly one key")
    try:
        return parse_verifier_key(lines[0])
    except VerificationError as e:
        raise UsageError(f"bad verifier key: {e}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # exit 2 with the usage, never a traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="standalone_verifier.py",
        description="Verify Disclosure Ledger inclusion and consistency proofs against a signed "
                    "checkpoint. Exit 0: all verify; 1: something does not; 2: usage error.")
    p.add_argument("--checkpoint", required=True, metavar="NOTE_FILE",
                   help="the signed checkpoint note exported by the ledger")
    p.add_argument("--key", required=True, metavar="VERIFIER_KEY",
                   help="the verifier key string <name>+<id>+<key>, or a file holding it")
    p.add_argument("proofs", nargs="+", metavar="PROOF.json",
                   help="proof files: one JSON object, a JSON array, or JSON Lines")
    return p


def run(argv=None, out=None, err=None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        key = _load_key(args.key)
        note = _read_text(args.checkpoint, "checkpoint")
        proof_texts = [(path, _read_text(path, "proof file")) for path in args.proofs]
    except UsageError as e:
        print(f"error: {e}", file=err)
        return 2

    failures = []
    checked = 0

    def fail(label: str, reason: str) -> None:
        failures.append(f"{label}: {reason}" if label else reason)
        print(f"FAIL {label}: {reason}" if label else f"FAIL {reason}", file=out)

    try:
        checkpoint = verify_checkpoint(note, key)
    except VerificationError as e:
        fail(f"checkpoint {args.checkpoint}", str(e))
        print(f"\nFAILED: {failures[0]}", file=err)
        return 1
    print(f"checkpoint {args.checkpoint}: signature by {key.name} OK", file=out)
    print(f"  origin {checkpoint.origin}", file=out)
    print(f"  size   {checkpoint.size}", file=out)
    print(f"  root   {checkpoint.root.hex()}", file=out)

    for path, text in proof_texts:
        for where, record, problem in read_records(text):
            label = f"{path} {where}".strip()
            checked += 1
            if problem is not None:
                fail(label, problem)
                continue
            if not isinstance(record, dict):
                fail(label, "a proof is a JSON object")
                continue
            try:
                if "first_size" in record or "second_size" in record:
                    check_consistency_record(record, checkpoint)
                    print(f"\n{label}: consistency from size {record['first_size']} to size "
                          f"{record['second_size']}: OK", file=out)
                elif "leaf_index" in record or "audit_path" in record or "leaf" in record:
                    entry = check_inclusion_record(record, checkpoint, key)
                    print(f"\n{label}: entry seq {record['seq']} (leaf {record['leaf_index']} of "
                          f"{record['tree_size']}): OK", file=out)
                    print(json.dumps(entry, indent=2, ensure_ascii=False, sort_keys=True), file=out)
                else:
                    raise VerificationError("neither an inclusion nor a consistency proof")
            except VerificationError as e:
                fail(label, str(e))

    print("", file=out)
    if failures:
        print(f"{len(failures)} of {checked} proofs FAILED", file=out)
        print(f"FAILED: {failures[0]}", file=err)
        return 1
    print(f"all {checked} proofs verify against the checkpoint: OK", file=out)
    return 0


def main(argv=None) -> int:
    try:
        return run(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # never a traceback for the regulator; say what happened
        print(f"error: unexpected {type(e).__name__}: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
