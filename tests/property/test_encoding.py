"""Property tests of the canonical leaf encoding (RFC 8785) and of the vault commitments.

The ledger writes leaves with orjson (sorted keys) and claims the bytes are RFC 8785
canonical JSON for the values a leaf can hold. Here the `rfc8785` reference package is
the oracle, and the bytes are followed all the way into SQLite and back.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import unicodedata
from contextlib import closing
from datetime import datetime, timezone

import pytest
import rfc8785
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from ledger.chain.encoding import (
    MAX_SAFE_INTEGER,
    SALT_BYTES,
    canonical_json,
    commitment,
    new_salt,
    parse_leaf,
)
from ledger.service import LedgerService
from ledger.storage.db import Store

# ---- strategies -------------------------------------------------------------------------

# Characters that canonicalizers get wrong: every C0 control, DEL, the JSON specials,
# the characters JavaScript treats as line ends, bidi controls, BOM, the edges of the
# BMP around the surrogate block, non-characters and non-BMP (emoji, music, CJK ext. B).
AWKWARD = [chr(c) for c in range(0x20)] + [
    "\x7f", '"', "\\", "/", "\u0085", "\u00a0", "\u2028", "\u2029",
    "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
    "\u2069", "\ufeff", "\ud7ff", "\ue000", "\ufffd", "\ufffe", "\uffff", "\u00e9", "e\u0301",
    "\u65e5\u672c", "\uff76", "\U00010000", "\U0001d11e", "\U0001f600", "\U0001f468\u200d\U0001f469",
    "\U0001f1ef\U0001f1f5", "\U00020bb7", "\U0010ffff",
]

# Any valid Unicode scalar value (hypothesis leaves out lone surrogates, which are not
# valid Unicode and cannot be written as UTF-8), with the awkward ones made likely.
unicode_text = st.lists(st.one_of(st.characters(codec="utf-8"), st.sampled_from(AWKWARD)), max_size=30).map("".join)
ascii_keys = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=12)
safe_ints = st.integers(min_value=-MAX_SAFE_INTEGER, max_value=MAX_SAFE_INTEGER)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    safe_ints,
    st.sampled_from([0, -1, 1, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 2**31, -(2**31), 2**32]),
    unicode_text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(ascii_keys, children, max_size=5),
    ),
    max_leaves=25,
)
json_objects = st.dictionaries(ascii_keys, json_values, max_size=6)


def strictly_equal(a, b) -> bool:
    """Equality that tells True from 1 and a list from a tuple (json.loads gives lists)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(strictly_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(strictly_equal(x, y) for x, y in zip(a, b))
    return a == b


FIXED_NOW = datetime(2024, 6, 1, 3, 0, tzinfo=timezone.utc)
ENCODE_SETTINGS = settings(max_examples=300, deadline=None)
STORE_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


# ---- canonical_json == RFC 8785 ---------------------------------------------------------

@ENCODE_SETTINGS
@given(json_values)
@example({"b": 1, "a": [True, False, None], "": "", "A": "\x00\x08\t\n\x0b\x0c\r\x1f\x7f"})
@example({"rtl": "\u202eabc\u202c \u200fשלום\u200f", "emoji": "\U0001f600\U0001f1ef\U0001f1f5"})
@example({"ls": "\u2028\u2029", "bom": "\ufeff", "edge": "\ud7ff\ue000\uffff\U0010ffff"})
@example([MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0, -0])
@example("\"quoted\" and \\backslash\\ and /slash/")
def test_canonical_json_is_rfc8785_byte_for_byte(value):
    assert canonical_json(value) == rfc8785.dumps(value)


@ENCODE_SETTINGS
@given(json_values)
def test_canonical_json_round_trips_and_is_a_fixed_point(value):
    encoded = canonical_json(value)
    encoded.decode("utf-8")  # valid UTF-8, never lone surrogates or escapes of them
    decoded = json.loads(encoded)
    assert strictly_equal(decoded, value)
    # Decoding and encoding again gives the same bytes: a verifier can check canonicity.
    assert canonical_json(decoded) == encoded


def test_canonical_json_known_bytes():
    value = {"z": 1, "a": {"y": None, "b": [True, "é\n"]}, "m": "\U0001f600\x01"}
    assert canonical_json(value) == (
        b'{"a":{"b":[true,"\xc3\xa9\\n"],"y":null},"m":"\xf0\x9f\x98\x80\\u0001","z":1}'
    )


@pytest.mark.parametrize("value", [
    MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1, 2**64, "lone \ud800", {1: "key not text"},
    datetime(2026, 1, 1, tzinfo=timezone.utc), [[[{"deep": ["\udfff"]}]]],
], ids=["2**53", "-2**53", "2**64", "surrogate", "int-key", "datetime", "nested-surrogate"])
def test_canonical_json_refuses_what_no_leaf_can_hold(value):
    with pytest.raises(ValueError, match="not a JSON value this ledger writes"):
        canonical_json(value)


# ---- encode -> store -> read back: the same bytes --------------------------------------

@pytest.fixture(scope="module")
def raw_store(tmp_path_factory):
    """A ledger file written through Store directly: appends of any JSON body."""
    path = tmp_path_factory.mktemp("encoding") / "store.db"
    store = Store.open(path, create=True)
    yield store
    store.close()


def _read_back(path, seq: int) -> tuple[bytes, bytes]:
    """The stored leaf and leaf hash, read with a separate plain sqlite3 connection."""
    with closing(sqlite3.connect(str(path))) as conn:
        leaf, digest = conn.execute(
            "SELECT leaf, leaf_hash FROM entry WHERE seq = ?", (seq,)
        ).fetchone()
    assert isinstance(leaf, bytes) and isinstance(digest, bytes), "leaf and leaf_hash are BLOBs"
    return leaf, digest


@STORE_SETTINGS
@given(body=json_values, recorded_by=unicode_text)
@example(body={"text": "\x00\u202e\U0001f600\u2028"}, recorded_by="\u5c71\u7530 \u592a\u90ce")
def test_store_append_keeps_the_exact_canonical_bytes(raw_store, body, recorded_by):
    with raw_store.transaction() as tx:
        # "ledger.created" has no projection, so any JSON body can be appended.
        seq, leaf_value, digest = tx.append("ledger.created", body, "2024-06-01T03:00:00.000000Z", recorded_by)
    leaf, stored_hash = _read_back(raw_store.path, seq)

    assert leaf == canonical_json(leaf_value) == rfc8785.dumps(leaf_value)
    assert stored_hash == digest == hashlib.sha256(b"\x00" + leaf).digest()
    decoded = json.loads(leaf)
    assert strictly_equal(decoded, leaf_value)
    assert strictly_equal(decoded["body"], body)
    assert decoded["recorded_by"] == recorded_by
    assert decoded["seq"] == seq
    assert strictly_equal(parse_leaf(leaf), decoded)


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """A real ledger written through the service, with one recipient."""
    path = tmp_path_factory.mktemp("encoding-service") / "ledger.db"
    svc = LedgerService.open(path, create=True, operator="encoding-test", clock=lambda: FIXED_NOW)
    svc.register_party({"party_id": "R1", "name": "Recipient KK", "kind": "third_party",
                        "country": "JP", "address": "Kyoto", "representative": "Rep"})
    yield svc
    svc.close()


# The service refuses control characters (C0, C1; line separators in one-line fields) and
# invisible format characters other than ZWNJ/ZWJ, and trims and NFC-normalises text; these
# strategies give text it accepts (everything else is arbitrary Unicode).
def _accepted(char: str, multiline: bool) -> bool:
    if multiline and char in "\t\n":
        return True
    category = unicodedata.category(char)
    return not (category == "Cc" or (category == "Cf" and char not in "\u200c\u200d")
                or (not multiline and char in "\u2028\u2029"))


one_line = unicode_text.map(lambda s: "".join(c for c in s if _accepted(c, False))).filter(str.strip)
multi_line = unicode_text.map(lambda s: "".join(c for c in s if _accepted(c, True))).filter(str.strip)


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value.strip())


@STORE_SETTINGS
@given(address=one_line, contact=one_line)
@example(address="\u05e9\u05dc\u05d5\u05dd \u4eac\u90fd\u5e02 \U0001f3eb", contact="e\u0301 \U00020bb7")
def test_service_party_leaf_round_trips_through_sqlite(service, address, contact):
    number = len(service.parties()) + 1
    party = service.register_party({
        "party_id": f"X{number}", "name": f"Party {number}", "kind": "third_party", "country": "JP",
        "address": address, "representative": "Rep", "contact": contact,
    })
    leaf, digest = _read_back(service.path, party.registered_seq)
    decoded = json.loads(leaf)
    assert leaf == rfc8785.dumps(decoded) == canonical_json(decoded)
    assert digest == hashlib.sha256(b"\x00" + leaf).digest()
    assert decoded["kind"] == "party.registered"
    assert decoded["body"]["address"] == _clean(address)
    assert decoded["body"]["contact"] == _clean(contact)
    assert service.party(party.party_id).address == _clean(address)
    assert service.entry(party.registered_seq).leaf == leaf


@STORE_SETTINGS
@given(subject=one_line, notes=multi_line)
@example(subject=" taro@example.jp", notes="line one\n\tline two \U0001f600 \u05e9\u05dc\u05d5\u05dd RTL")
def test_service_vault_values_match_their_commitments(service, subject, notes):
    subject = "person:" + subject  # a marker that nothing else in a leaf contains
    seq = service.record_disclosure({
        "recipient": "R1", "date": "2024-05-01", "subjects": [subject], "data_items": ["name"],
        "purpose": "business_communication", "basis": "law", "evidence": {"statute": "Act Art. 1"},
        "notes": notes,
    })
    leaf, _ = _read_back(service.path, seq)
    decoded = json.loads(leaf)
    assert leaf == rfc8785.dumps(decoded)
    body = decoded["body"]
    # No plaintext of the person in the leaf: only commitments.
    assert b"person:" not in leaf
    with closing(sqlite3.connect(str(service.path))) as conn:
        # The vault keeps each commitment as its 32 bytes; leaves hold the hex.
        vault = {bytes(row[0]).hex(): (bytes(row[1]), row[2], row[3]) for row in conn.execute(
            "SELECT commitment, salt, value, field FROM vault WHERE entry_seq = ?", (seq,))}
    subject_commitment = body["subjects"]["identified"][0]["commitment"]
    notes_commitment = body["notes"]["commitment"]
    assert set(vault) == {subject_commitment, notes_commitment}
    for digest, (salt, value, _field) in vault.items():
        assert len(salt) == SALT_BYTES
        assert hashlib.sha256(salt + value.encode("utf-8")).hexdigest() == digest
    assert vault[subject_commitment][1:] == (_clean(subject), "subject")
    assert vault[notes_commitment][1:] == (_clean(notes), "notes")
    detail = service.disclosure(seq)
    assert detail.subjects == (_clean(subject),)
    assert detail.notes == _clean(notes)


def test_service_refuses_lone_surrogates_and_writes_nothing(service):
    """Text that is not valid Unicode cannot become leaf bytes: it is refused by field."""
    from ledger.errors import ValidationError

    size = service.store.size()
    with pytest.raises(ValidationError) as refused:
        service.register_party({"name": "Bad \ud800 KK", "kind": "third_party", "country": "JP",
                                "address": "Kyoto", "representative": "Rep"})
    assert refused.value.field == "name"
    assert service.store.size() == size


# ---- commitments -----------------------------------------------------------------------

def test_commitment_known_answer():
    # SHA-256 of 16 zero bytes followed by the UTF-8 of the value, computed independently.
    salt = bytes(16)
    assert commitment(salt, "taro@example.jp") == hashlib.sha256(
        b"\x00" * 16 + b"taro@example.jp").hexdigest()
    assert commitment(b"", "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert commitment(b"", "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@settings(max_examples=200, deadline=None)
@given(salt=st.binary(min_size=SALT_BYTES, max_size=SALT_BYTES), value=unicode_text)
def test_commitment_is_sha256_of_salt_and_utf8_value(salt, value):
    digest = commitment(salt, value)
    assert digest == hashlib.sha256(salt + value.encode("utf-8")).hexdigest()
    assert len(digest) == 64 and digest == digest.lower()
    int(digest, 16)


@settings(max_examples=200, deadline=None)
@given(salt_a=st.binary(min_size=SALT_BYTES, max_size=SALT_BYTES),
       salt_b=st.binary(min_size=SALT_BYTES, max_size=SALT_BYTES), value=unicode_text)
def test_different_salts_give_different_commitments(salt_a, salt_b, value):
    assume(salt_a != salt_b)
    assert commitment(salt_a, value) != commitment(salt_b, value)


@settings(max_examples=200, deadline=None)
@given(value_a=unicode_text, value_b=unicode_text)
def test_different_values_give_different_commitments(value_a, value_b):
    assume(value_a != value_b)
    salt = new_salt()
    assert commitment(salt, value_a) != commitment(salt, value_b)


def test_new_salt_is_128_random_bits():
    salts = {new_salt() for _ in range(200)}
    assert len(salts) == 200
    assert all(isinstance(s, bytes) and len(s) == 16 for s in salts)
    # The same value sealed twice gets two unlinkable commitments.
    assert len({commitment(s, "taro@example.jp") for s in salts}) == 200
