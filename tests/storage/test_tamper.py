"""Tamper suite: the ledger file is changed with raw SQL behind the service, then reopened.

Every attack must make `service.verify()` and `disclosure-ledger verify` fail (ok false,
exit code 1) and name the right first bad seq. The sample ledger (tests/storage/conftest.py):

    1 ledger.created | 2-5 parties P001-P004 | 6-25 disclosures | 26 correction of 7 |
    27 void of 8 | 28 erasure of the subject of 11 | 29 change of party P002
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from contextlib import closing

import pytest

from ledger.service import LedgerService

from .attacks import DELETE_TRIGGER, UPDATE_TRIGGER, cli, leaf_hash, leaf_of, raw_sql, read_entries, report_of


@pytest.mark.parametrize("statement", [
    "UPDATE vault SET commitment = CAST(commitment AS TEXT) WHERE commitment = ?",
    "INSERT INTO vault SELECT entry_seq, CAST(commitment AS TEXT), field, salt, value FROM vault WHERE commitment = ?",
], ids=["retyped", "retyped-copy-added"])
def test_a_vault_commitment_stored_as_text_of_the_same_bytes_is_found(sample_ledger, capsys, statement):
    """A commitment is a 32-byte BLOB: TEXT holding the same bytes is another value to SQLite (a
    second row under the same entry), so it must not pass for the digest."""
    path = sample_ledger.path
    digest, _ = _vault_row(path, 14, "subject")
    raw_sql(path, (statement, (digest,)))
    result = assert_detected(path, capsys, 14)
    assert any("edited in the vault" in p["problem"] for p in result["problems"])


def _a_vault_row_labelled(path, field: str) -> tuple[int, bytes]:
    """(entry, commitment) of a vault row with this label, of a disclosure at version 1 if it is
    one's (else of any entry)."""
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute(
            "SELECT v.entry_seq, v.commitment FROM vault v LEFT JOIN disclosure d ON d.seq = v.entry_seq "
            "WHERE v.field = ? ORDER BY d.version IS NOT 1, v.entry_seq LIMIT 1", (field,)).fetchone()


@pytest.mark.parametrize("field, label", [
    ("subject", "notes"),                  # a person hidden from subject lookups and erasure
    ("notes", "subject"),                  # free text passed off as a person
    ("evidence.consent_reference", "route_evidence.consent_reference"),
    ("subject", 'evidence.a"b'),           # a label that would not make a JSON path
    ("reason", "notes"),                   # a correction's or void's value, checked in Python
])
def test_a_vault_row_relabelled_as_another_field_is_found(sample_ledger, capsys, field, label):
    path = sample_ledger.path
    seq, digest = _a_vault_row_labelled(path, field)
    raw_sql(path, ("UPDATE vault SET field = ? WHERE entry_seq = ? AND commitment = ?", (label, seq, digest)))
    result = assert_detected(path, capsys, seq)
    assert any("labelled as a field the entry does not hold it in" in p["problem"] for p in result["problems"])


# ---- helpers ------------------------------------------------------------------------------

def assert_detected(path, capsys, first_bad_seq: int) -> dict:
    """verify through the service and through the real CLI: not ok, exit 1, the right seq."""
    report = report_of(path)
    assert not report.ok
    assert report.first_bad_seq == first_bad_seq, report.as_dict()
    assert report.problems

    code, out, _ = cli(capsys, "--db", path, "verify", "--json")
    assert code == 1
    result = json.loads(out)
    assert result["ok"] is False
    assert result["first_bad_seq"] == first_bad_seq
    assert result["problems"] and all(set(p) == {"seq", "problem"} for p in result["problems"])
    assert first_bad_seq in [p["seq"] for p in result["problems"]]

    code, out, _ = cli(capsys, "--db", path, "verify")
    assert code == 1
    assert f"the first bad entry is {first_bad_seq}." in out
    return result


def mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.1 Merkle Tree Hash, written out from the RFC (not the ledger code)."""
    n = len(hashes)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashes[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + mth(hashes[:k]) + mth(hashes[k:])).digest()


# ---- the intact ledger ---------------------------------------------------------------------

def test_sample_ledger_layout(sample_ledger):
    s = sample_ledger
    assert s.parties == {"P001": 2, "P002": 3, "P003": 4, "P004": 5}
    assert s.disclosures == list(range(6, 26))
    assert (s.corrected, s.correction_seq, s.voided, s.void_seq) == (7, 26, 8, 27)
    assert (s.erased_disclosure, s.erasure_seq, s.party_change_seq, s.size) == (11, 28, 29, 29)


def test_intact_ledger_verifies(sample_ledger, capsys):
    path = sample_ledger.path
    report = report_of(path)
    assert report.ok and report.first_bad_seq is None and report.size == sample_ledger.size

    code, out, _ = cli(capsys, "--db", path, "verify", "--json")
    assert code == 0
    result = json.loads(out)
    assert set(result) == {"ok", "size", "root", "first_bad_seq", "checkpoints_checked", "against", "problems"}
    assert result["ok"] is True
    assert result["size"] == sample_ledger.size
    assert re.fullmatch(r"[0-9a-f]{64}", result["root"])
    assert result["first_bad_seq"] is None
    assert result["problems"] == []

    code, out, _ = cli(capsys, "--db", path, "verify")
    assert code == 0
    assert "Intact" in out and result["root"] in out


def test_root_is_the_rfc9162_root_of_the_leaves(sample_ledger, capsys):
    entries = read_entries(sample_ledger.path)
    assert [seq for seq, _, _ in entries] == list(range(1, sample_ledger.size + 1))
    for seq, leaf, stored in entries:
        assert stored == leaf_hash(leaf)
        decoded = json.loads(leaf)
        assert decoded["seq"] == seq
        assert decoded["prev"] == ("0" * 64 if seq == 1 else entries[seq - 2][2].hex())
    expected = mth([leaf_hash(leaf) for _, leaf, _ in entries]).hex()
    assert report_of(sample_ledger.path).root == expected
    code, out, _ = cli(capsys, "--db", sample_ledger.path, "verify", "--json")
    assert json.loads(out)["root"] == expected


def test_independent_mth_matches_the_rfc6962_vectors():
    """The test's own Merkle code is itself checked against the published 8-leaf vectors."""
    leaves = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                         "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
    assert mth([leaf_hash(x) for x in leaves]).hex() == \
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_the_triggers_refuse_changes_to_entries(sample_ledger, capsys):
    path = sample_ledger.path
    before = read_entries(path)
    _, leaf3, hash3 = before[2]
    refused = [
        ("UPDATE entry SET leaf_hash = ? WHERE seq = 3", (bytes(32),)),
        ("UPDATE entry SET leaf = leaf WHERE seq = 3", ()),
        ("DELETE FROM entry WHERE seq = 3", ()),
        ("DELETE FROM entry", ()),
        ("INSERT INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", (sample_ledger.size + 2, leaf3, hash3)),
        ("INSERT INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", (3, leaf3, hash3)),
        ("INSERT OR REPLACE INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", (3, b"{}", leaf_hash(b"{}"))),
        ("REPLACE INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", (5, b"{}", leaf_hash(b"{}"))),
        ("INSERT INTO entry (leaf, leaf_hash) VALUES (?, ?)", (b"{}", leaf_hash(b"{}"))),
    ]
    with closing(sqlite3.connect(str(path))) as conn:
        for statement, params in refused:
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement, params)
            conn.rollback()
    assert read_entries(path) == before
    assert report_of(path).ok


# ---- attacks on the entries --------------------------------------------------------------

@pytest.mark.parametrize("seq", [2, 15, 25])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_flipped_byte_in_a_leaf_is_found_at_that_entry(sample_ledger, capsys, seq, where):
    path = sample_ledger.path
    leaf = bytearray(leaf_of(path, seq))
    position = {"first": 0, "middle": len(leaf) // 2, "last": len(leaf) - 1}[where]
    leaf[position] ^= 0x01
    raw_sql(path, ("UPDATE entry SET leaf = ? WHERE seq = ?", (bytes(leaf), seq)), drop_triggers=True)
    result = assert_detected(path, capsys, seq)
    assert result["size"] == sample_ledger.size


def test_a_flipped_byte_only_with_the_update_trigger_dropped(sample_ledger, capsys):
    """The attack the issue names: DROP TRIGGER entry_append_only_update, then UPDATE."""
    path = sample_ledger.path
    leaf = bytearray(leaf_of(path, 15))
    position = leaf.index(b"2024-05-10")
    leaf[position + 9] = ord("1")  # 2024-05-10 -> 2024-05-11: still valid, canonical JSON
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute(f"DROP TRIGGER {UPDATE_TRIGGER}")
        conn.execute("UPDATE entry SET leaf = ? WHERE seq = 15", (bytes(leaf),))
        conn.commit()
    result = assert_detected(path, capsys, 15)
    assert any("entry 15" in p["problem"] and "hash" in p["problem"] for p in result["problems"])


def test_a_changed_leaf_hash_is_found_at_that_entry(sample_ledger, capsys):
    path = sample_ledger.path
    raw_sql(path, ("UPDATE entry SET leaf_hash = ? WHERE seq = 15", (hashlib.sha256(b"forged").digest(),)),
            drop_triggers=True)
    assert_detected(path, capsys, 15)


@pytest.mark.parametrize("seq", [1, 15, 25])
def test_a_deleted_row_is_found_at_the_deleted_seq(sample_ledger, capsys, seq):
    path = sample_ledger.path
    raw_sql(path, ("DELETE FROM entry WHERE seq = ?", (seq,)), drop_triggers=True)
    result = assert_detected(path, capsys, seq)
    assert any("missing" in p["problem"] for p in result["problems"] if p["seq"] == seq)

@pytest.mark.parametrize("seq", [26, 27, 28, 29])
def test_an_unreadable_later_version_is_found_at_itself(sample_ledger, capsys, seq):
    raw_sql(sample_ledger.path, ("UPDATE entry SET leaf = ? WHERE seq = ?", (b"damaged", seq)),
            drop_triggers=True)
    assert_detected(sample_ledger.path, capsys, seq)


@pytest.mark.parametrize("seq", [26, 27, 28])
def test_a_deleted_later_version_is_found_at_itself(sample_ledger, capsys, seq):
    raw_sql(sample_ledger.path, ("DELETE FROM entry WHERE seq = ?", (seq,)), drop_triggers=True)
    assert_detected(sample_ledger.path, capsys, seq)


def test_a_deleted_row_with_only_the_delete_trigger_dropped(sample_ledger, capsys):
    path = sample_ledger.path
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute(f"DROP TRIGGER {DELETE_TRIGGER}")
        conn.execute("DELETE FROM entry WHERE seq = 15")
        conn.commit()
    assert_detected(path, capsys, 15)


@pytest.mark.parametrize("low,high", [(10, 20), (14, 15), (2, 29)])
def test_two_swapped_rows_are_found_at_the_lower_seq(sample_ledger, capsys, low, high):
    path = sample_ledger.path
    raw_sql(
        path,
        # Swap through a temporary table, with the triggers gone.
        "CREATE TEMP TABLE saved AS SELECT seq, leaf, leaf_hash FROM entry",
        ("UPDATE entry SET leaf = (SELECT leaf FROM saved WHERE seq = ?), "
         "leaf_hash = (SELECT leaf_hash FROM saved WHERE seq = ?) WHERE seq = ?", (high, high, low)),
        ("UPDATE entry SET leaf = (SELECT leaf FROM saved WHERE seq = ?), "
         "leaf_hash = (SELECT leaf_hash FROM saved WHERE seq = ?) WHERE seq = ?", (low, low, high)),
        drop_triggers=True,
    )
    entries = {seq: leaf for seq, leaf, _ in read_entries(path)}
    assert json.loads(entries[low])["seq"] == high and json.loads(entries[high])["seq"] == low
    result = assert_detected(path, capsys, low)
    assert any(p["seq"] == low and "swapped" in p["problem"] for p in result["problems"])


def test_a_rewritten_leaf_with_a_recomputed_hash_is_found_at_the_next_link(sample_ledger, capsys):
    """Re-hashing a rewritten leaf hides it from its own hash check, not from the chain:
    the next entry's `prev` names the old hash. The change here (a non-personal evidence
    value) touches no query table and no vault row, so only the chain can see it."""
    path = sample_ledger.path
    seq = 14
    leaf = leaf_of(path, seq)
    assert b'"contract_reference":"C-8"' in leaf
    forged = leaf.replace(b'"contract_reference":"C-8"', b'"contract_reference":"C-9"')
    raw_sql(path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (forged, leaf_hash(forged), seq)),
            drop_triggers=True)
    result = assert_detected(path, capsys, seq + 1)
    assert any(p["seq"] == seq + 1 and f"entry {seq} was rewritten" in p["problem"] for p in result["problems"])


@pytest.mark.parametrize("far", [10**9, 2**62])
def test_an_entry_renumbered_far_beyond_the_end_is_found_at_once(sample_ledger, capsys, far):
    """The content checks are cut into chunks by the disclosures there are, not by seq values, so a
    huge seq written outside the ledger cannot keep verify busy for ever."""
    path = sample_ledger.path
    last = max(sample_ledger.disclosures)
    raw_sql(path, ("UPDATE entry SET seq = ? WHERE seq = ?", (far, last)),
            ("UPDATE disclosure SET seq = ? WHERE seq = ?", (far, last)), drop_triggers=True)
    assert_detected(path, capsys, last)


@pytest.mark.parametrize("value", [-5, 2**62, 1.5, ""])
def test_the_first_entry_stored_as_another_kind_of_value_is_found(sample_ledger, capsys, value):
    """Entry 1 names the ledger, so verify reads it apart; a number or text in its place is
    a damaged entry, not a reason to stop (NULL is refused by the table itself)."""
    raw_sql(sample_ledger.path, ("UPDATE entry SET leaf = ? WHERE seq = 1", (value,)), drop_triggers=True)
    assert_detected(sample_ledger.path, capsys, 1)


def test_nothing_is_linked_to_a_last_entry_whose_hash_was_stored_as_text(sample_ledger, capsys):
    """A hash of the right length stored as TEXT passes the table's check; a new entry must not
    link to it."""
    path = sample_ledger.path
    raw_sql(path, ("UPDATE entry SET leaf_hash = ? WHERE seq = ?", ("x" * 32, sample_ledger.size)),
            drop_triggers=True)
    code, _, err = cli(capsys, "--db", path, "void", str(sample_ledger.disclosures[0]), "--reason", "test")
    assert code == 2 and "the last entry is not stored as the ledger writes it" in err
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("SELECT count(*) FROM entry").fetchone()[0] == sample_ledger.size
    assert_detected(path, capsys, sample_ledger.size)


def test_a_forged_entry_appended_at_the_end_is_found(sample_ledger, capsys):
    """The insert trigger lets the next seq in; a forged entry still has to link and be known."""
    path = sample_ledger.path
    size = sample_ledger.size
    forged = json.dumps({"v": 1, "seq": size + 1, "prev": "0" * 64, "kind": "ledger.created",
                         "recorded_at": "2024-06-01T03:00:00.000000Z", "recorded_by": "mallory",
                         "body": {}}, sort_keys=True, separators=(",", ":")).encode()
    raw_sql(path, ("INSERT INTO entry (seq, leaf, leaf_hash) VALUES (?, ?, ?)", (size + 1, forged, leaf_hash(forged))))
    assert_detected(path, capsys, size + 1)


def test_a_leaf_rewritten_as_text_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    raw_sql(path, "UPDATE entry SET leaf = replace(leaf, 'C-8', 'C-9') WHERE seq = 14", drop_triggers=True)
    assert_detected(path, capsys, 14)


def test_a_rehashed_leaf_with_a_wrong_field_type_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    seq = 14
    forged = leaf_of(path, seq).replace(b'"bulk":false', b'"bulk":"yes"')
    raw_sql(path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (forged, leaf_hash(forged), seq)),
            drop_triggers=True)
    assert_detected(path, capsys, seq)


def test_a_rehashed_leaf_with_an_unhashable_kind_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    seq = 14
    forged = leaf_of(path, seq).replace(b'"kind":"disclosure.recorded"', b'"kind":["disclosure.recorded"]')
    raw_sql(path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (forged, leaf_hash(forged), seq)),
            drop_triggers=True)
    assert_detected(path, capsys, seq)


@pytest.mark.parametrize("seq", [1, 14])
@pytest.mark.parametrize("value", [b'"\\ud800"', b"NaN", b"123456789012345678901234567890", b"1e999"])
def test_a_rehashed_leaf_holding_a_value_no_ledger_writes_is_found(sample_ledger, capsys, seq, value):
    """A lone surrogate, NaN, a number beyond 64 bits or an infinite one: read back by a JSON
    decoder, none can be written as canonical JSON again; verify says so and does not stop. (The
    disclosure's row is made to differ too, so that verify decodes its leaf to explain.)"""
    path = sample_ledger.path
    forged = leaf_of(path, seq).replace(b'{"body":{', b'{"body":{"aaa":' + value + b",", 1)
    forged = forged.replace(b'"bulk":false', b'"bulk":true')
    raw_sql(path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (forged, leaf_hash(forged), seq)),
            drop_triggers=True)
    result = assert_detected(path, capsys, seq)
    assert any(p["seq"] == seq and "not in canonical form" in p["problem"] for p in result["problems"])


# ---- attacks on the query tables -------------------------------------------------------------

def test_a_changed_disclosure_row_is_found_at_its_seq(sample_ledger, capsys):
    path = sample_ledger.path
    seq = 14  # an outsourcing disclosure that was never corrected
    assert seq in sample_ledger.outsourcing
    raw_sql(path, ("UPDATE disclosure SET basis = 'law' WHERE seq = ?", (seq,)))
    result = assert_detected(path, capsys, seq)
    assert any("disclosure" in p["problem"] and "rebuild" in p["problem"] for p in result["problems"])


def test_a_changed_row_of_a_corrected_disclosure_is_found_at_its_correction(sample_ledger, capsys):
    path = sample_ledger.path
    raw_sql(path, ("UPDATE disclosure SET purpose = 'business_communication' WHERE seq = ?",
                   (sample_ledger.corrected,)))
    assert_detected(path, capsys, sample_ledger.correction_seq)


@pytest.mark.parametrize("statement,first_bad", [
    ("DELETE FROM disclosure WHERE seq = 14", 14),
    ("INSERT INTO disclosure SELECT 99, recipient_id, first_day, last_day, bulk, subject_count, group_count, "
     "data_items, purpose, basis, country, route, method, contract_as_record, statutory, statutory_ground, "
     "retention_until, status, version, last_change_seq, recorded_at, recorded_by, assessment_seq, override "
     "FROM disclosure WHERE seq = 14",
     99),
    ("UPDATE disclosure SET status = 'active' WHERE seq = 8", 27),
    ("UPDATE disclosure SET statutory = 0 WHERE seq = 15", 15),
    ("UPDATE disclosure_subject SET commitment = 'ff' WHERE disclosure_seq = 18 AND position = 1", 18),
    ("DELETE FROM disclosure_change WHERE seq = 26", 26),
    ("UPDATE party SET address = 'Osaka' WHERE party_id = 'P001'", 2),
    ("UPDATE party SET address = 'Osaka' WHERE party_id = 'P002'", 29),
    ("DELETE FROM party_version WHERE seq = 4", 4),
    ("DELETE FROM erased_commitment", 28),
    ("UPDATE erasure SET reason = 'retention_ended'", 28),
])
def test_changed_query_tables_are_found(sample_ledger, capsys, statement, first_bad):
    raw_sql(sample_ledger.path, statement)
    assert_detected(sample_ledger.path, capsys, first_bad)


# ---- attacks on the vault -------------------------------------------------------------------

def _vault_row(path, seq: int, field: str):
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute("SELECT commitment, value FROM vault WHERE entry_seq = ? AND field = ? "
                            "ORDER BY commitment LIMIT 1", (seq, field)).fetchone()


def test_an_edited_vault_value_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    digest, value = _vault_row(path, 14, "subject")
    raw_sql(path, ("UPDATE vault SET value = ? WHERE commitment = ?", (value + "x", digest)))
    assert_detected(path, capsys, 14)


def test_an_edited_vault_value_of_a_correction_reason_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    digest, _ = _vault_row(path, sample_ledger.correction_seq, "reason")
    raw_sql(path, ("UPDATE vault SET value = 'no reason' WHERE commitment = ?", (digest,)))
    assert_detected(path, capsys, sample_ledger.correction_seq)


def test_a_vault_row_deleted_without_an_erasure_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    digest, _ = _vault_row(path, 14, "subject")
    raw_sql(path, ("DELETE FROM vault WHERE commitment = ?", (digest,)))
    result = assert_detected(path, capsys, 14)
    assert any("without an erasure" in p["problem"] for p in result["problems"])


def test_a_vault_row_the_entry_does_not_commit_to_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    salt = bytes(16)
    value = "someone-else@example.jp"
    digest = hashlib.sha256(salt + value.encode()).hexdigest()
    raw_sql(path, ("INSERT INTO vault (commitment, entry_seq, field, salt, value) VALUES (?, 14, 'subject', ?, ?)",
                   (digest, salt, value)))
    assert_detected(path, capsys, 14)


def test_restoring_erased_personal_data_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    assert sample_ledger.erased_vault_rows
    raw_sql(path, *[("INSERT INTO vault (commitment, entry_seq, field, salt, value) VALUES (?, ?, ?, ?, ?)", row)
                    for row in sample_ledger.erased_vault_rows])
    assert_detected(path, capsys, sample_ledger.erasure_seq)


# ---- rebuild -------------------------------------------------------------------------------

def test_rebuild_repairs_a_changed_projection(sample_ledger, capsys):
    path = sample_ledger.path
    raw_sql(path, "UPDATE disclosure SET basis = 'law' WHERE seq = 14",
            "DELETE FROM party_version WHERE seq = 4",
            "UPDATE disclosure SET status = 'active' WHERE seq = 8")
    entries = read_entries(path)
    assert_detected(path, capsys, 4)

    code, out, err = cli(capsys, "--db", path, "rebuild")
    assert code == 0, err
    assert str(sample_ledger.size) in out
    assert read_entries(path) == entries

    code, out, _ = cli(capsys, "--db", path, "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    with LedgerService.open(path) as service:
        assert service.disclosure(14).summary.basis == "outsourcing"
        assert service.disclosure(8).summary.status == "voided"
        assert len(service.party_history("P003")) == 1


def test_rebuild_does_not_hide_a_changed_entry(sample_ledger, capsys):
    path = sample_ledger.path
    forged = leaf_of(path, 14).replace(b'"contract_reference":"C-8"', b'"contract_reference":"C-9"')
    raw_sql(path, ("UPDATE entry SET leaf = ? WHERE seq = 14", (forged,)), drop_triggers=True)
    code, _, _ = cli(capsys, "--db", path, "rebuild")
    assert code == 0
    assert_detected(path, capsys, 14)


def test_rebuild_of_a_damaged_leaf_fails_cleanly(sample_ledger, capsys):
    path = sample_ledger.path
    leaf = leaf_of(path, 14)
    raw_sql(path, ("UPDATE entry SET leaf = ? WHERE seq = 14", (b"#" + leaf[1:],)), drop_triggers=True)
    with closing(sqlite3.connect(str(path))) as conn:
        before = conn.execute("SELECT * FROM disclosure ORDER BY seq").fetchall()
    code, out, err = cli(capsys, "--db", path, "rebuild")
    assert code in (1, 2)
    assert "error" in err.lower() and "14" in err
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("SELECT * FROM disclosure ORDER BY seq").fetchall() == before


# ---- attacks on the contractor register and its assessments ------------------------------------

def _assessment_ledger(path) -> dict[str, int]:
    """A small ledger with the register: P001 registered (2) and recorded in the register (3), an approved
    assessment (4), a release it justifies (5), a rejection (6) and one more party (7)."""
    from datetime import datetime, timezone

    now = datetime(2024, 6, 1, 3, 0, tzinfo=timezone.utc)  # as the sample ledger's clock

    def answers(svc, **changed):
        return [{"item": item, "answer": changed.get(item, "met"), "note": "checked on site"}
                for item in svc.ref.checklist]

    with LedgerService.open(path, create=True, operator="tamper-test", clock=lambda: now) as svc:
        svc.register_party({"party_id": "P001", "name": "Kyoto Mail Services KK", "kind": "contractor",
                            "country": "JP", "address": "1 Karasuma, Kyoto", "representative": "Taro Yamada"})
        svc.record_contractor("P001", {"service": "mailing", "data_items": ["name", "email"],
                                       "contract": {"reference": "C-1", "signed_on": "2023-12-01",
                                                    "clauses": ["security_measures", "incident_notification"]}})
        approved = svc.record_assessment("P001", {"assessor": "Imade", "assessed_on": "2024-01-10",
                                                  "answers": answers(svc)})
        release = svc.record_disclosure({
            "recipient": "P001", "date": "2024-05-02", "subjects": ["student-1"], "data_items": ["name"],
            "purpose": "business_communication", "basis": "outsourcing",
            "evidence": {"contract_reference": "C-1"}})
        rejected = svc.record_assessment("P001", {"assessor": "Imade", "assessed_on": "2024-05-20",
                                                  "answers": answers(svc, **{"TS-01": "not_met"})})
        svc.register_party({"party_id": "P002", "name": "Partner Books KK", "kind": "third_party",
                            "country": "JP", "address": "2 Shijo, Kyoto", "representative": "Hanako Sato"})
        seqs = {"register": 3, "approved": approved.seq, "release": release, "rejected": rejected.seq,
                "size": svc.store.size()}
        assert rejected.outcome == "rejected" and rejected.reasons
        assert svc.entry(release).body["gating"] == {"assessment": approved.seq}
        assert svc.verify().ok
    assert seqs == {"register": 3, "approved": 4, "release": 5, "rejected": 6, "size": 7}
    return seqs


def _forged_assessment_leaf(path, seq: int) -> bytes:
    """Leaf `seq` with the rejection turned into an approval and the items that triggered it dropped."""
    from ledger.chain.encoding import canonical_json

    leaf = leaf_of(path, seq)
    value = json.loads(leaf)
    assert canonical_json(value) == leaf
    body = value["body"]
    assert body["outcome"] == body["derived_outcome"] == "rejected" and body["reasons"]
    body.update(outcome="approved", derived_outcome="approved", reasons=[], score=100)
    for answer in body["answers"]:
        answer["answer"] = "met"
    return canonical_json(value)


def test_an_assessment_outcome_edited_in_its_leaf_is_found_at_that_entry(tmp_path, capsys):
    path = tmp_path / "assessed.db"
    seqs = _assessment_ledger(path)
    forged = _forged_assessment_leaf(path, seqs["rejected"])
    raw_sql(path, ("UPDATE entry SET leaf = ? WHERE seq = ?", (forged, seqs["rejected"])), drop_triggers=True)
    result = assert_detected(path, capsys, seqs["rejected"])
    assert any(p["seq"] == seqs["rejected"] and "hash" in p["problem"] for p in result["problems"])


def test_an_assessment_outcome_edited_in_its_leaf_and_rehashed_is_found_at_that_entry(tmp_path, capsys):
    """Re-hashed, the forged leaf passes its own hash check; the chain (the next entry's prev) and the
    assessment table (still saying rejected) do not."""
    path = tmp_path / "assessed.db"
    seq = _assessment_ledger(path)["rejected"]
    forged = _forged_assessment_leaf(path, seq)
    raw_sql(path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (forged, leaf_hash(forged), seq)),
            drop_triggers=True)
    result = assert_detected(path, capsys, seq)
    assert any(p["seq"] == seq + 1 and f"entry {seq} was rewritten" in p["problem"] for p in result["problems"])


@pytest.mark.parametrize("statement, which", [
    ("UPDATE assessment SET outcome = 'approved', derived_outcome = 'approved' WHERE seq = 6", "rejected"),
    ("UPDATE assessment SET valid_until = '2030-12-31' WHERE seq = 4", "approved"),
    ("UPDATE assessment SET overridden = 1 WHERE seq = 6", "rejected"),
    ("DELETE FROM assessment WHERE seq = 6", "rejected"),
    ("UPDATE disclosure SET assessment_seq = 6 WHERE seq = 5", "release"),
    ("UPDATE disclosure SET override = 1 WHERE seq = 5", "release"),
    ("UPDATE contractor SET contract_ends_on = '2030-12-31' WHERE party_id = 'P001'", "register"),
])
def test_a_changed_assessment_or_register_row_is_found_at_its_entry(tmp_path, capsys, statement, which):
    path = tmp_path / "assessed.db"
    seqs = _assessment_ledger(path)
    raw_sql(path, statement)
    result = assert_detected(path, capsys, seqs[which])
    assert result["size"] == seqs["size"]
