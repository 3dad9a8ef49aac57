"""The fast verifier: attacks its design could miss, the SQL twin of the projection, the snapshot
it reads, and its fallback when the disclosure table has a column the SQL does not know.

The sample ledger (tests/storage/conftest.py):

    1 ledger.created | 2-5 parties P001-P004 | 6-25 disclosures | 26 correction of 7 |
    27 void of 8 | 28 erasure of the subject of 11 | 29 change of party P002
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from contextlib import closing

import pytest

from ledger import verify
from ledger.chain.encoding import canonical_json
from ledger.cli import main
from ledger.service import LedgerService
from ledger.storage import checks
from ledger.storage.db import Store
from ledger.vault import fields_in
from ledger.storage.projection import (_DISCLOSURE_INSERT_COLUMNS, _recorded_disclosure_row,
                                       disclosure_columns, project)

from .attacks import leaf_hash, leaf_of, raw_sql, report_of


def assert_detected(path, capsys, first_bad_seq: int) -> list[dict]:
    report = report_of(path)
    assert not report.ok
    assert report.first_bad_seq == first_bad_seq, report.as_dict()
    capsys.readouterr()
    code = main(["--db", str(path), "verify", "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in out + err
    result = json.loads(out)
    assert result["first_bad_seq"] == first_bad_seq
    for problem in result["problems"]:
        assert problem["problem"][0].islower() and "entry" in problem["problem"], problem
    return result["problems"]


def problems_at(problems: list[dict], seq: int) -> list[str]:
    return [p["problem"] for p in problems if p["seq"] == seq]


# ---- attacks the fast design must not miss --------------------------------------------------

def test_a_voided_disclosure_row_put_back_to_version_1_is_found(sample_ledger, capsys):
    """The row then matches its recorded entry exactly, as the SQL check of version-1 rows sees it;
    only the void (entry 27) says otherwise."""
    path, seq = sample_ledger.path, sample_ledger.voided
    raw_sql(path, ("UPDATE disclosure SET status = 'active', version = 1, last_change_seq = NULL WHERE seq = ?", (seq,)))
    problems = assert_detected(path, capsys, sample_ledger.void_seq)
    assert any("'disclosure'" in p and "rebuild" in p for p in problems_at(problems, sample_ledger.void_seq))


def test_a_corrected_disclosure_row_put_back_to_version_1_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    recorded = json.loads(leaf_of(path, sample_ledger.corrected))["body"]["data_items"]
    raw_sql(path, ("UPDATE disclosure SET data_items = ?, version = 1, last_change_seq = NULL WHERE seq = ?",
                   (canonical_json(recorded).decode(), sample_ledger.corrected)))
    assert_detected(path, capsys, sample_ledger.correction_seq)


@pytest.mark.parametrize("disclosure_seq", [3, 26, 999])
def test_a_subject_row_of_a_disclosure_that_does_not_exist_is_found(sample_ledger, capsys, disclosure_seq):
    raw_sql(sample_ledger.path, ("INSERT INTO disclosure_subject (disclosure_seq, position, commitment) "
                                 "VALUES (?, 0, ?)", (disclosure_seq, "ab" * 32)))
    problems = assert_detected(sample_ledger.path, capsys, disclosure_seq)
    assert any("'disclosure_subject'" in p for p in problems_at(problems, disclosure_seq))


def test_a_subject_row_added_to_a_disclosure_is_found(sample_ledger, capsys):
    raw_sql(sample_ledger.path, ("INSERT INTO disclosure_subject (disclosure_seq, position, commitment) "
                                 "VALUES (14, 2, ?)", ("ab" * 32,)))
    assert_detected(sample_ledger.path, capsys, 14)


def test_subject_rows_swapped_between_positions_are_found(sample_ledger, capsys):
    path = sample_ledger.path
    raw_sql(path, "UPDATE disclosure_subject SET position = position + 10 WHERE disclosure_seq = 14",
            "UPDATE disclosure_subject SET position = 11 - position WHERE disclosure_seq = 14")
    assert_detected(path, capsys, 14)


@pytest.mark.parametrize("statement", [
    "UPDATE disclosure SET purpose = x'00' WHERE seq = 14",
    "UPDATE disclosure SET data_items = CAST(data_items AS BLOB) WHERE seq = 14",
])
def test_a_query_table_value_stored_as_a_blob_is_found(sample_ledger, capsys, statement):
    """JSON cannot hold a BLOB: the SQL check falls back to a form that looks for them first."""
    raw_sql(sample_ledger.path, statement)
    assert_detected(sample_ledger.path, capsys, 14)


@pytest.mark.parametrize("statement", [
    "UPDATE disclosure_subject SET commitment = lower(hex(commitment)) WHERE disclosure_seq = 14",
    "UPDATE disclosure_subject SET commitment = CAST(commitment AS TEXT) WHERE disclosure_seq = 14",
    "UPDATE disclosure_subject SET commitment = commitment || x'00' WHERE disclosure_seq = 14",
])
def test_a_subject_commitment_not_stored_as_its_32_bytes_is_found(sample_ledger, capsys, statement):
    raw_sql(sample_ledger.path, statement)
    assert_detected(sample_ledger.path, capsys, 14)


@pytest.mark.parametrize("data_items", ['["name", "email"]', '["name","email" ]', '["name","email"'])
def test_data_items_rewritten_with_the_same_meaning_are_found(sample_ledger, capsys, data_items):
    """The column holds the canonical JSON text, exactly."""
    path = sample_ledger.path
    with closing(sqlite3.connect(str(path))) as conn:
        assert conn.execute("SELECT data_items FROM disclosure WHERE seq = 14").fetchone()[0] == '["name","email"]'
    raw_sql(path, ("UPDATE disclosure SET data_items = ? WHERE seq = 14", (data_items,)))
    assert_detected(path, capsys, 14)


def test_a_missing_query_table_is_found(sample_ledger, capsys):
    raw_sql(sample_ledger.path, "DROP TABLE erasure")
    report = report_of(sample_ledger.path)
    assert not report.ok and any("'erasure'" in p.what for p in report.problems)


def test_an_empty_ledger_file_verifies(tmp_path):
    store = Store.open(tmp_path / "empty.db", create=True)
    try:
        report = verify.verify_ledger(store)
    finally:
        store.close()
    assert report.ok and report.size == 0
    assert report.root == hashlib.sha256(b"").hexdigest()


def _subject_commitment(path, seq: int) -> str:
    with closing(sqlite3.connect(str(path))) as conn:
        return conn.execute("SELECT commitment FROM vault WHERE entry_seq = ? AND field = 'subject' "
                            "ORDER BY commitment LIMIT 1", (seq,)).fetchone()[0]


@pytest.mark.parametrize("source,target", [(14, 20), (20, 14), (14, 28)])
def test_a_vault_row_moved_to_another_entry_is_found(sample_ledger, capsys, source, target):
    path = sample_ledger.path
    digest = _subject_commitment(path, source)
    raw_sql(path, ("UPDATE vault SET entry_seq = ? WHERE commitment = ?", (target, digest)))
    problems = assert_detected(path, capsys, min(source, target))
    assert any(f"under entry {target}" in p for p in problems_at(problems, source))
    assert any("does not commit to" in p for p in problems_at(problems, target))


def test_a_vault_row_moved_past_the_last_entry_is_found(sample_ledger, capsys):
    path = sample_ledger.path
    digest = _subject_commitment(path, 14)
    raw_sql(path, ("UPDATE vault SET entry_seq = 1000 WHERE commitment = ?", (digest,)))
    problems = assert_detected(path, capsys, 14)
    assert any("no entry of the ledger" in p["problem"] for p in problems)


def _rehash(path, seq: int, forged: bytes) -> None:
    raw_sql(path, ("UPDATE entry SET leaf = ?, leaf_hash = ? WHERE seq = ?", (forged, leaf_hash(forged), seq)),
            drop_triggers=True)


@pytest.mark.parametrize("seq", [5, 14])
def test_a_leaf_whose_envelope_is_garbage_is_found(sample_ledger, capsys, seq):
    """Body intact, envelope replaced by bytes that are not JSON, and re-hashed: only reading the
    envelope finds it."""
    path = sample_ledger.path
    leaf = leaf_of(path, seq)
    body_end = leaf.rindex(b',"kind":"')
    _rehash(path, seq, leaf[:body_end] + b',"kind":disclosure.recorded,,"seq":' + str(seq).encode() + b',"v":1}')
    problems = assert_detected(path, capsys, seq)
    assert any("damaged" in p for p in problems_at(problems, seq))


@pytest.mark.parametrize("seq", [5, 14])
def test_a_leaf_with_its_envelope_keys_out_of_order_is_found(sample_ledger, capsys, seq):
    """Valid JSON with the right values, but not canonical: the keys are not sorted."""
    path = sample_ledger.path
    value = json.loads(leaf_of(path, seq))
    forged = json.dumps({k: value[k] for k in reversed(sorted(value))}, separators=(",", ":"),
                        ensure_ascii=False).encode()
    _rehash(path, seq, forged)
    problems = assert_detected(path, capsys, seq)
    assert any("canonical" in p for p in problems_at(problems, seq))


def test_a_leaf_with_an_extra_envelope_key_is_found(sample_ledger, capsys):
    path, seq = sample_ledger.path, 14
    value = json.loads(leaf_of(path, seq))
    value["extra"] = "x"
    _rehash(path, seq, canonical_json(value))
    assert_detected(path, capsys, seq)


@pytest.mark.parametrize("old,new", [
    (b'"v":1}', b'"v":true}'),
    (b'"v":1}', b'"v":2}'),
    (b'"kind":"disclosure.recorded"', b'"kind":"disclosure.recorded.x"'),
    (b'"recorded_by":"tamper-test"', b'"recorded_by":5'),
])
def test_a_rehashed_leaf_with_a_bad_envelope_value_is_found(sample_ledger, capsys, old, new):
    path, seq = sample_ledger.path, 14
    leaf = leaf_of(path, seq)
    assert old in leaf
    _rehash(path, seq, leaf.replace(old, new))
    assert_detected(path, capsys, seq)


def test_a_rehashed_disclosure_body_that_is_not_json_is_found(sample_ledger, capsys):
    """The envelope is read from the bytes; the body of a disclosure.recorded entry is read by SQLite."""
    path, seq = sample_ledger.path, 14
    leaf = leaf_of(path, seq)
    _rehash(path, seq, leaf.replace(b'"bulk":false,', b'"bulk":false,,'))
    problems = assert_detected(path, capsys, seq)
    assert any("damaged" in p for p in problems_at(problems, seq))


def test_a_rehashed_disclosure_leaf_that_is_not_utf8_is_found(sample_ledger, capsys):
    path, seq = sample_ledger.path, 14
    leaf = leaf_of(path, seq)
    _rehash(path, seq, leaf.replace(b'"purpose":"', b'"purpose":"\xff'))
    assert_detected(path, capsys, seq)


def test_a_rehashed_disclosure_with_a_changed_projected_value_is_found_at_itself(sample_ledger, capsys):
    path, seq = sample_ledger.path, 14
    leaf = leaf_of(path, seq)
    _rehash(path, seq, leaf.replace(b'"basis":"outsourcing"', b'"basis":"consent"'))
    problems = assert_detected(path, capsys, seq)
    assert any("'disclosure'" in p for p in problems_at(problems, seq))


def test_a_commitment_added_to_a_rehashed_leaf_is_found(sample_ledger, capsys):
    path, seq = sample_ledger.path, 14
    leaf = leaf_of(path, seq)
    forged = leaf.replace(b'"notes":null', b'"notes":{"commitment":"' + b"cd" * 32 + b'"}')
    assert forged != leaf
    _rehash(path, seq, forged)
    problems = assert_detected(path, capsys, seq)
    assert any("without an erasure" in p for p in problems_at(problems, seq))


def test_a_deleted_first_entry_and_a_trailing_vault_row_are_found(sample_ledger, capsys):
    raw_sql(sample_ledger.path, "DELETE FROM entry WHERE seq = 1", drop_triggers=True)
    assert_detected(sample_ledger.path, capsys, 1)


# ---- the SQL twin of the projection ------------------------------------------------------------

def test_the_sql_check_covers_every_disclosure_column(tmp_path):
    store = Store.open(tmp_path / "schema.db", create=True)
    try:
        assert set(checks.disclosure_columns(store.conn)) == set(checks.DISCLOSURE_FROM_LEAF)
    finally:
        store.close()
    assert set(_DISCLOSURE_INSERT_COLUMNS) == set(checks.DISCLOSURE_FROM_LEAF)


def _recorded_body(**changes) -> dict:
    body = {
        "basis": "outsourcing", "bulk": False, "contract_as_record": False, "cross_border": None,
        "data_items": ["name", "email"], "evidence": {"contract_reference": "C-1"},
        "first_day": "2024-05-01", "gating": None, "last_day": "2024-05-01", "method": "sftp", "notes": None,
        "purpose": "business_communication", "recipient": "P001", "recipient_country": "JP",
        "retention_until": "2027-05-01", "statutory": {"ground": "basis:outsourcing", "required": True},
        "subjects": {"identified": [{"commitment": "a" * 64}, {"commitment": "b" * 64}]},
    }
    body.update(changes)
    return body


BODIES = {
    "identified": _recorded_body(),
    "one subject": _recorded_body(subjects={"identified": [{"commitment": "c" * 64}]}),
    "no subject": _recorded_body(subjects={"identified": []}),
    "group": _recorded_body(bulk=True, last_day="2024-05-31",
                            subjects={"group": {"count": 120, "description": {"commitment": "d" * 64}}}),
    "cross border": _recorded_body(recipient_country="US", cross_border={
        "country": "US", "route": "equivalent_measures", "evidence": {"measures_reference": "SCC"}}),
    "no method": _recorded_body(method=None),
    "gated": _recorded_body(gating={"assessment": 4}),
    "overridden": _recorded_body(gating={"assessment": None, "override": {"reason": {"commitment": "e" * 64}}}),
    "voluntary": _recorded_body(statutory={"ground": "basis:consent", "required": False}, contract_as_record=True),
    "text": _recorded_body(data_items=["名前", "e\"mail\\", "tab\there"]),
}


def _store_with(tmp_path, body: dict, recorded_by: str = "clerk") -> Store:
    store = Store.open(tmp_path / "twin.db", create=True)
    leaf = {"v": 1, "seq": 1, "prev": "0" * 64, "kind": "disclosure.recorded",
            "recorded_at": "2024-06-01T03:00:00.000000Z", "recorded_by": recorded_by, "body": body}
    raw = canonical_json(leaf)
    with store.transaction():
        store.conn.execute("INSERT INTO entry (seq, leaf, leaf_hash) VALUES (1, ?, ?)", (raw, leaf_hash(raw)))
        project(store.conn, 1, leaf)
    return store


@pytest.mark.parametrize("name", sorted(BODIES))
def test_the_sql_check_agrees_with_the_python_projection(tmp_path, name):
    store = _store_with(tmp_path, BODIES[name], recorded_by="Ōsaka \"desk\"")
    try:
        assert checks.recorded_disclosure_mismatches(store.conn, 1) == ((None, 0), (None, 0))
        columns = checks.column_names(store.conn, "disclosure")
        row = store.conn.execute("SELECT * FROM disclosure").fetchone()
        for column, value in zip(columns, row):
            if column in ("seq", "version"):
                continue
            other = 1 if value is None else value + 7 if isinstance(value, int) else f"{value}x"
            store.conn.execute(f"UPDATE disclosure SET {column} = ?", (other,))
            assert checks.recorded_disclosure_mismatches(store.conn, 1)[0] == (1, 1), column
            store.conn.execute(f"UPDATE disclosure SET {column} = ?", (value,))
        assert checks.recorded_disclosure_mismatches(store.conn, 1)[0] == (None, 0)
    finally:
        store.close()


def test_data_items_held_as_text_in_the_leaf_do_not_match_an_array_row(tmp_path):
    """The data items are compared as text: a leaf holding the same characters as a string, not an
    array, still differs from the row."""
    store = _store_with(tmp_path, _recorded_body(data_items='["name","email"]'))
    try:
        store.conn.execute("""UPDATE disclosure SET data_items = '["name","email"]'""")
        assert checks.recorded_disclosure_mismatches(store.conn, 1)[0] == (1, 1)
    finally:
        store.close()


@pytest.mark.parametrize("name", sorted(BODIES))
def test_the_direct_disclosure_row_is_the_column_mapping(name):
    """Imports build a disclosure row directly; it must be what disclosure_columns maps the body to."""
    fixed = {"seq": 9, "status": "active", "version": 1, "last_change_seq": None,
             "recorded_at": "2024-06-01T03:00:00.000000Z", "recorded_by": "clerk"}
    mapped = {**disclosure_columns(BODIES[name]), **fixed}
    expected = tuple(mapped[column] for column in _DISCLOSURE_INSERT_COLUMNS)
    assert _recorded_disclosure_row(9, BODIES[name], fixed["recorded_at"], "clerk") == expected


# ---- the snapshot, progress, and the fallback -----------------------------------------------

def test_writes_during_verify_are_not_seen(sample_ledger, monkeypatch):
    """Verify reads one snapshot: an append and an erasure committed while it runs change nothing."""
    path = sample_ledger.path
    monkeypatch.setattr(checks, "entry_batches", functools.partial(checks.entry_batches, batch=4))
    monkeypatch.setattr(verify, "PROGRESS_EVERY", 4)
    seen: list[tuple[int, int]] = []
    with LedgerService.open(path) as service, LedgerService.open(path) as writer:
        def progress(done: int, total: int) -> None:
            seen.append((done, total))
            if len(seen) == 2:
                writer.record_disclosure({
                    "recipient": "P003", "date": "2024-05-30", "subjects": ["student-14"],
                    "data_items": ["name"], "purpose": "terms_violation_investigation", "basis": "law",
                    "evidence": {"statute": "School Education Act Art. 1"}})
                writer.erase_subject("student-16")  # in entry 22, not read yet
        report = verify.verify_ledger(service.store, progress=progress)
        assert report.ok, report.as_dict()
        assert report.size == sample_ledger.size
        assert seen[-1] == (sample_ledger.size, sample_ledger.size)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 5
        after = verify.verify_ledger(service.store)
        assert after.ok, after.as_dict()
        assert after.size == sample_ledger.size + 2


def test_a_disclosure_column_the_sql_does_not_know_is_checked_in_python(sample_ledger, capsys, monkeypatch):
    """A newer schema whose disclosure table has a column missing from DISCLOSURE_FROM_LEAF: every
    disclosure is then projected in Python, so nothing goes unchecked."""
    fewer = {k: v for k, v in checks.DISCLOSURE_FROM_LEAF.items() if k != "basis"}
    monkeypatch.setattr(checks, "DISCLOSURE_FROM_LEAF", fewer)
    path = sample_ledger.path
    assert report_of(path).ok
    raw_sql(path, "UPDATE disclosure SET basis = 'law' WHERE seq = 14")
    assert_detected(path, capsys, 14)


def test_problems_are_listed_in_entry_order(sample_ledger):
    path = sample_ledger.path
    raw_sql(path, "UPDATE disclosure SET basis = 'consent' WHERE seq = 20",
            "UPDATE party SET address = 'Osaka' WHERE party_id = 'P001'",
            ("UPDATE entry SET leaf_hash = ? WHERE seq = 17", (bytes(32),)), drop_triggers=True)
    report = report_of(path)
    seqs = [p.seq for p in report.problems if p.seq is not None]
    assert seqs == sorted(seqs) and seqs[0] == 2 and {17, 20} <= set(seqs)
    unplaced = [i for i, p in enumerate(report.problems) if p.seq is None]  # the dropped guards
    assert unplaced and unplaced == list(range(len(seqs), len(report.problems)))


def test_root_builder_extend_matches_push():
    """verify pushes leaf hashes a batch at a time; the tree must be the one push() builds."""
    import random

    from ledger.chain.merkle import RootBuilder, root_of

    rng = random.Random(5)
    hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(700)]
    for _ in range(40):
        count = rng.randrange(0, len(hashes))
        pushed, extended = RootBuilder(), RootBuilder()
        for h in hashes[:count]:
            pushed.push(h)
        start = 0
        while start < count:
            step = rng.choice((1, 2, 3, 64, 100, 256, 4096))
            extended.extend(hashes[start:min(start + step, count)])
            start += step
        assert extended.size == pushed.size == count
        assert extended.root() == pushed.root() == root_of(hashes[:count])
    with pytest.raises(ValueError):
        RootBuilder().extend([b"short"])


def test_the_fields_read_from_a_body_are_the_fields_its_values_were_sealed_as(sample_ledger):
    """vault.fields_in, which verify uses for the entries it decodes, names every vault row of the
    sample ledger (subjects, group descriptions, evidence, route evidence, notes, reasons) as it
    was sealed."""
    with closing(sqlite3.connect(str(sample_ledger.path))) as conn:
        labels: dict[int, dict[str, str]] = {}
        for seq, digest, field in conn.execute("SELECT entry_seq, lower(hex(commitment)), field FROM vault"):
            labels.setdefault(seq, {})[digest] = field
        leaves = dict(conn.execute("SELECT seq, leaf FROM entry"))
    assert {field for fields in labels.values() for field in fields.values()} >= {
        "subject", "notes", "reason", "evidence.consent_reference"}
    for seq, fields in labels.items():
        assert fields_in(json.loads(leaves[seq])["body"]) == fields, seq


@pytest.mark.parametrize("label, told", [
    ("subject", False), ("evidence.ref2", False), ("route_evidence.m3_ref", False), ("notes", False),
    ("group_description", False),
    ("evidence.ref2\x00x", True), ("evidence.ref", True), ("route_evidence.ref2", True), ("evidence.", True),
    ('evidence.a"b', True), ("Subject", True),
])
def test_the_sql_label_check_reads_every_code_reference_data_allows(tmp_path, label, told):
    """Evidence codes are [a-z][a-z0-9_]*; a label is right only where the leaf holds its commitment
    (here each label's own commitment, and the row checked is the first subject's)."""
    where = {"subject": "a" * 64, "evidence.ref2": "e" * 64, "route_evidence.m3_ref": "f" * 64,
             "notes": "9" * 64, "group_description": None}
    body = _recorded_body(evidence={"ref2": {"commitment": "e" * 64}, "contract_reference": "C-1"},
                          recipient_country="US", notes={"commitment": "9" * 64},
                          cross_border={"country": "US", "route": "equivalent_measures",
                                        "evidence": {"m3_ref": {"commitment": "f" * 64}}})
    if label == "group_description":
        body = _recorded_body(bulk=True, last_day="2024-05-31",
                              subjects={"group": {"count": 3, "description": {"commitment": "d" * 64}}})
        where[label] = "d" * 64
    store = _store_with(tmp_path, body)
    try:
        digest = bytes.fromhex(where.get(label) or "a" * 64)
        store.conn.execute("INSERT INTO vault (entry_seq, commitment, field, salt, value) VALUES (1, ?, ?, x'00', 'v')",
                           (digest, label))
        assert checks.recorded_disclosure_mismatches(store.conn, 1) == ((None, 0), (1, 1) if told else (None, 0))
    finally:
        store.close()
