"""C2SP signed notes and tlog-checkpoints with Ed25519."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.chain.note import (
    Checkpoint,
    NoteError,
    parse_checkpoint,
    parse_verifier_key,
    sign_note,
    verifier_key,
    verify_note,
)

# The example of golang.org/x/mod/sumdb/note (note_test.go).
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSN"
           "XgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")


def test_the_go_reference_note_verifies():
    key = parse_verifier_key(GO_VERIFIER_KEY)
    assert key.name == "PeterNeumann" and key.key_id.hex() == "c74f20a3"
    assert str(key) == GO_VERIFIER_KEY
    assert verify_note(GO_NOTE, [key]) == GO_TEXT


@pytest.mark.parametrize("change", [
    lambda n: n.replace("cryptography", "cryptographY"),
    lambda n: n.replace("x08go", "x08gp"),
])
def test_an_altered_note_is_refused(change):
    with pytest.raises(NoteError):
        verify_note(change(GO_NOTE), [parse_verifier_key(GO_VERIFIER_KEY)])


def test_a_checkpoint_signed_here_verifies_and_parses():
    private = Ed25519PrivateKey.generate()
    checkpoint = Checkpoint("disclosure-ledger/0123abcd", 8, bytes(range(32)))
    note = sign_note(checkpoint.body(), "kamo-river-learning", private)
    key = parse_verifier_key(str(verifier_key("kamo-river-learning", private)))
    assert parse_checkpoint(verify_note(note, [key])) == checkpoint
    other = verifier_key("kamo-river-learning", Ed25519PrivateKey.generate())
    with pytest.raises(NoteError, match="no signature"):
        verify_note(note, [other])


@pytest.mark.parametrize("text", [
    "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   # id does not match
    "PeterNeumann+c74f20a3+AhNc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",   # not an Ed25519 key
    "PeterNeumann+c74f20a3",
    "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
])
def test_malformed_verifier_keys_are_refused(text):
    with pytest.raises(NoteError):
        parse_verifier_key(text)


@pytest.mark.parametrize("body", [
    "origin\n8\n",                          # no root
    "origin\n08\nAAAA\n",                   # not decimal
    "origin\n8\nAAAA\n",                    # root not 32 bytes
    "\n8\n" + "A" * 43 + "=\n",             # no origin
])
def test_malformed_checkpoints_are_refused(body):
    with pytest.raises(NoteError):
        parse_checkpoint(body)
