"""C2SP signed notes and tlog-checkpoints (https://c2sp.org/signed-note, https://c2sp.org/tlog-checkpoint)
with Ed25519 signatures, so that standard transparency-log tools can check our checkpoints.

A checkpoint body is three lines: the origin, the tree size in decimal, the root hash in base64.
A note is the body, a blank line, then signature lines `— <name> <base64(key id || signature)>`.
The key id is the first 4 bytes of SHA-256(name || "\\n" || 0x01 || public key); the verifier key
string is `<name>+<8 hex digits of the key id>+<base64(0x01 || public key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "  # an em dash and a space
_NAME = re.compile(r"[^\s+]+")


class NoteError(ValueError):
    """A note or checkpoint that does not check out; the message says why."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key).digest()[:4]


def verifier_key(name: str, private_key: Ed25519PrivateKey) -> VerifierKey:
    if not _NAME.fullmatch(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    public = private_key.public_key().public_bytes_raw()
    return VerifierKey(name, key_id(name, public), public)


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)  # base64 may itself hold '+'; a name never does
    if len(parts) != 3 or not _NAME.fullmatch(parts[0]):
        raise NoteError("a verifier key reads <name>+<8 hex digits>+<base64 key>")
    name, hex_id, encoded = parts
    try:
        claimed = bytes.fromhex(hex_id)
        raw = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise NoteError("the verifier key's id or key is not valid hex / base64") from None
    if len(claimed) != 4 or len(raw) != 33 or raw[0] != ED25519:
        raise NoteError("the verifier key is not an Ed25519 key of the signed-note format")
    public = raw[1:]
    if key_id(name, public) != claimed:
        raise NoteError("the verifier key's id does not match its name and key")
    return VerifierKey(name, claimed, public)


def sign_note(body: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: body, blank line, one signature line."""
    if not body.endswith("\n"):
        raise NoteError("a note body ends with a newline")
    vkey = verifier_key(name, private_key)
    signature = private_key.sign(body.encode("utf-8"))
    line = base64.b64encode(vkey.key_id + signature).decode("ascii")
    return f"{body}\n{SIGNATURE_PREFIX}{name} {line}\n"


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """(body, [(name, key id, signature)]) of a note; raises NoteError when malformed."""
    if "\n\n" not in note:
        raise NoteError("a note has a body, a blank line and signature lines")
    cut = note.rindex("\n\n")
    body, signatures = note[:cut + 1], note[cut + 2:]
    if not signatures.endswith("\n"):
        raise NoteError("a note ends with a newline")
    found = []
    for line in signatures[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"not a signature line: {line[:60]!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError("a signature is not valid base64") from None
        if len(raw) < 5:
            raise NoteError("a signature is too short")
        found.append((name, raw[:4], raw[4:]))
    return body, found


def verify_note(note: str, keys: list[VerifierKey]) -> str:
    """The body of a note signed by at least one of `keys`; raises NoteError otherwise."""
    body, signatures = split_note(note)
    for name, kid, signature in signatures:
        for key in keys:
            if key.name == name and key.key_id == kid:
                try:
                    Ed25519PublicKey.from_public_bytes(key.public_key).verify(signature, body.encode("utf-8"))
                    return body
                except InvalidSignature:
                    raise NoteError(f"the signature by {name} does not match the note: it was altered") from None
    raise NoteError("no signature on the note is by a known verifier key")


def parse_checkpoint(body: str) -> Checkpoint:
    """The origin, size and root of a tlog-checkpoint body (extension lines are allowed)."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint body has an origin, a size and a root hash, each on its own line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("the checkpoint has no origin line")
    if not re.fullmatch(r"0|[1-9][0-9]*", size_text):
        raise NoteError(f"the checkpoint size {size_text[:30]!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        raise NoteError("the checkpoint root is not valid base64") from None
    if len(root) != 32:
        raise NoteError(f"the checkpoint root is {len(root)} bytes, not 32")
    return Checkpoint(origin, int(size_text), root)
