"""Signing keys and signed checkpoints: the key file, rotation, automatic checkpoints, and
`verify` against the checkpoints the ledger keeps and against one held outside it (which is
what detects a ledger cut short, rolled back to an old backup, or rewritten whole)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import stat
from contextlib import closing
from dataclasses import replace

import pytest

from ledger import standalone_verifier
from ledger.chain.note import Checkpoint, NoteError, parse_checkpoint, parse_verifier_key, sign_note, verify_note
from ledger.keys import KeyUnavailable, PassphraseNeeded
from ledger.refdata import load_reference_data

from .attacks import cli, drop_stored_checkpoints, open_service, raw_sql, record_more, restore_guards, rewrite_from



@pytest.fixture
def signed_ledger(sample_ledger):
    """The sample ledger with a signing key and a checkpoint at its full size."""
    with open_service(sample_ledger.path) as service:
        service.create_signing_key()
        checkpoint = service.make_checkpoint()
    sample_ledger.checkpoint = checkpoint
    return sample_ledger


def verify_against(path, note: str, **kwargs):
    with open_service(path) as service:
        return service.verify(against=note, against_source="auditor.note", **kwargs)


# ---- keys ---------------------------------------------------------------------------------------

def test_key_init_writes_an_owner_only_file_outside_the_ledger(sample_ledger, private_key_folder):
    with open_service(sample_ledger.path) as service:
        key = service.create_signing_key()
        path = service.keys.path_for(service.ledger_id(), key.key_id)
        origin = service.origin()
    assert path.parent == private_key_folder and path.parent != sample_ledger.path.parent
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    public = parse_verifier_key(key.verifier_key)
    assert public.name == origin and public.key_id.hex() == key.key_id
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    raw_private = base64.b64decode(b"".join(pem.splitlines()[1:-1]))[-32:]
    assert raw_private not in sample_ledger.path.read_bytes()


def test_the_key_folder_is_created_owner_only(sample_ledger, tmp_path):
    folder = tmp_path / "fresh" / "keys"
    with open_service(sample_ledger.path, key_folder=folder) as service:
        service.create_signing_key()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_second_key_init_is_refused_and_changes_nothing(signed_ledger):
    with open_service(signed_ledger.path) as service:
        with pytest.raises(KeyUnavailable, match="already has a signing key"):
            service.create_signing_key()
        assert len(service.signing_keys()) == 1


def test_rotation_keeps_old_checkpoints_verifiable_with_the_old_key(signed_ledger):
    old_note = signed_ledger.checkpoint.note
    with open_service(signed_ledger.path) as service:
        old_key = service.signing_keys()[-1]
        new_key = service.create_signing_key(rotate=True)
        record_more(signed_ledger.path, 1)
        new_checkpoint = service.make_checkpoint()
        assert [k.key_id for k in service.signing_keys()] == [old_key.key_id, new_key.key_id]
        assert [k.current for k in service.signing_keys()] == [False, True]
        assert service.verify().ok
    assert new_key.key_id != old_key.key_id and new_checkpoint.key_id == new_key.key_id
    verify_note(old_note, [parse_verifier_key(old_key.verifier_key)])
    verify_note(new_checkpoint.note, [parse_verifier_key(new_key.verifier_key)])
    with pytest.raises(NoteError):
        verify_note(old_note, [parse_verifier_key(new_key.verifier_key)])


def test_a_passphrase_protects_the_key_file(sample_ledger):
    with open_service(sample_ledger.path, passphrase=lambda: None) as service:
        service.create_signing_key(b"correct horse battery")
        path = service.keys.path_for(service.ledger_id(), service.signing_keys()[-1].key_id)
        assert b"ENCRYPTED PRIVATE KEY" in path.read_bytes()
        assert not service.can_sign()
        with pytest.raises(PassphraseNeeded, match="passphrase"):
            service.make_checkpoint()
        assert service.checkpoints() == []
    with open_service(sample_ledger.path, passphrase=lambda: b"wrong horse battery") as service:
        with pytest.raises(KeyUnavailable, match="passphrase is wrong"):
            service.make_checkpoint()
    with open_service(sample_ledger.path, passphrase=lambda: b"correct horse battery") as service:
        assert service.make_checkpoint().size == sample_ledger.size


def test_a_short_passphrase_is_refused_before_any_key_is_made(sample_ledger, private_key_folder):
    with open_service(sample_ledger.path) as service:
        with pytest.raises(KeyUnavailable, match="passphrase: must be at least 8"):
            service.create_signing_key(b"short")
        assert service.signing_keys() == []
    assert list(private_key_folder.iterdir()) == []


def test_a_key_file_others_can_read_is_refused(signed_ledger):
    with open_service(signed_ledger.path) as service:
        path = service.keys.path_for(service.ledger_id(), service.signing_keys()[-1].key_id)
        os.chmod(path, 0o644)
        record_more(signed_ledger.path, 1)
        with pytest.raises(KeyUnavailable, match="chmod 600"):
            service.make_checkpoint()


def test_a_missing_key_file_is_reported_with_what_to_do(signed_ledger):
    with open_service(signed_ledger.path) as service:
        service.keys.path_for(service.ledger_id(), service.signing_keys()[-1].key_id).unlink()
        assert not service.can_sign()
        with pytest.raises(KeyUnavailable, match="missing; restore it from your backup"):
            service.make_checkpoint()


# ---- checkpoints ---------------------------------------------------------------------------------

def test_a_checkpoint_is_a_c2sp_note_of_the_ledger_size_and_root(signed_ledger):
    checkpoint = signed_ledger.checkpoint
    with open_service(signed_ledger.path) as service:
        key = parse_verifier_key(service.verifier_keys()[-1])
        origin, root = service.origin(), service.root_at(signed_ledger.size)
    body = verify_note(checkpoint.note, [key])
    assert parse_checkpoint(body) == Checkpoint(origin, signed_ledger.size, bytes.fromhex(root))
    assert body == f"{origin}\n{signed_ledger.size}\n{base64.b64encode(bytes.fromhex(root)).decode()}\n"
    assert checkpoint.note.splitlines()[4].startswith(f"\u2014 {origin} ")
    independent = standalone_verifier.verify_checkpoint(checkpoint.note, standalone_verifier.parse_verifier_key(str(key)))
    assert independent.size == signed_ledger.size


def test_a_second_checkpoint_at_the_same_size_is_not_duplicated(signed_ledger):
    with open_service(signed_ledger.path) as service:
        again = service.make_checkpoint()
        assert again == signed_ledger.checkpoint
        assert len(service.checkpoints()) == 1


def test_checkpoints_cannot_be_changed_or_deleted(signed_ledger):
    with closing(sqlite3.connect(str(signed_ledger.path))) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="cannot be changed"):
            conn.execute("UPDATE checkpoint SET size = 1")
        with pytest.raises(sqlite3.DatabaseError, match="cannot be deleted"):
            conn.execute("DELETE FROM checkpoint")
        with pytest.raises(sqlite3.DatabaseError, match="kept for good"):
            conn.execute("DELETE FROM signing_key")


@pytest.mark.parametrize("table, column, value, told", [
    ("signing_key", "verifier_key", b"\xff", "is not a verifier key"),
    ("signing_key", "verifier_key", "not a key", "is not a verifier key"),
    ("checkpoint", "size", "many", "is not kept as the ledger keeps one"),
    ("checkpoint", "note", b"\xff", "is not kept as the ledger keeps one"),
    ("checkpoint", "root", "x" * 32, "is not kept as the ledger keeps one"),  # text, of a root's length
])
def test_a_kept_key_or_checkpoint_changed_into_another_kind_of_value_is_told(signed_ledger, capsys, table, column,
                                                                             value, told):
    """Verify judges the keys and checkpoints the file keeps; a row changed into a value the ledger
    never writes is a finding (exit 1), never a stop."""
    path = signed_ledger.path
    with closing(sqlite3.connect(str(path))) as conn:
        for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                       (table,)).fetchall():
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute(f"UPDATE {table} SET {column} = ?", (value,))
        conn.commit()
    with open_service(path) as service:
        report = service.verify()
    assert not report.ok and any(told in p.what for p in report.problems), report.as_dict()
    code, out, err = cli(capsys, "--db", path, "verify", "--json")
    assert code == 1 and json.loads(out)["ok"] is False, err


@pytest.mark.parametrize("table, column", [("checkpoint", "made_at"), ("signing_key", "created_at")])
def test_a_kept_key_or_checkpoint_holding_text_that_is_not_utf8_is_told(signed_ledger, capsys, table, column):
    path = signed_ledger.path
    with closing(sqlite3.connect(str(path))) as conn:
        for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                                       (table,)).fetchall():
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute(f"UPDATE {table} SET {column} = CAST(x'ff41' AS TEXT)")
        conn.commit()
    code, out, err = cli(capsys, "--db", path, "verify", "--json")
    assert code == 1, err
    assert any("cannot be read" in p["problem"] and "not UTF-8" in p["problem"] for p in json.loads(out)["problems"])


def test_the_inclusion_proof_carries_the_checkpoint_at_its_size(signed_ledger):
    with open_service(signed_ledger.path) as service:
        proof = service.inclusion_proof(7)
        assert proof["checkpoint"] == signed_ledger.checkpoint.note
        assert service.inclusion_proof(7, signed_ledger.size - 1)["checkpoint"] is None
        key = service.verifier_keys()[-1]
    checkpoint = standalone_verifier.verify_checkpoint(proof["checkpoint"], standalone_verifier.parse_verifier_key(key))
    standalone_verifier.check_inclusion_record(proof, checkpoint)


def automatic_settings(every: int):
    ref = load_reference_data()
    return replace(ref, settings=replace(ref.settings, checkpoint_every_entries=every))


def test_checkpoints_are_made_automatically_every_n_entries(signed_ledger):
    with open_service(signed_ledger.path, ref=automatic_settings(5)) as service:
        start = service.store.size()
        for i in range(12):
            service.register_party({"name": f"Auto {i}", "kind": "third_party", "country": "JP",
                                    "address": "Kyoto", "representative": "R"})
        automatic = [c for c in service.checkpoints() if c.reason == "auto"]
        assert service.notices == []
    crossed = [n for n in range(start + 1, start + 13) if n % 5 == 0]
    assert [c.size for c in automatic] == crossed
    assert all(c.root == service_root(signed_ledger.path, c.size) for c in automatic)


def service_root(path, size: int) -> str:
    with open_service(path) as service:
        return service.root_at(size)


def test_no_automatic_checkpoint_without_a_key_and_no_complaint(sample_ledger):
    with open_service(sample_ledger.path, ref=automatic_settings(1)) as service:
        record_more(sample_ledger.path, 0)
        service.register_party({"name": "No key", "kind": "third_party", "country": "JP", "address": "Kyoto",
                                "representative": "R"})
        assert service.checkpoints() == [] and service.notices == []


def test_a_locked_key_skips_the_automatic_checkpoint_with_a_notice_and_keeps_the_entry(sample_ledger):
    with open_service(sample_ledger.path, ref=automatic_settings(1), passphrase=lambda: None) as service:
        service.create_signing_key(b"correct horse battery")
        party = service.register_party({"name": "Locked", "kind": "third_party", "country": "JP",
                                        "address": "Kyoto", "representative": "R"})
        assert service.party(party.party_id).name == "Locked"
        assert service.checkpoints() == []
        assert len(service.notices) == 1 and "no automatic checkpoint was made" in service.notices[0]


def test_the_app_close_checkpoint_is_made_only_when_the_ledger_grew(signed_ledger):
    with open_service(signed_ledger.path) as service:
        assert service.checkpoint_on_close() is None
        record_more(signed_ledger.path, 2)
        made = service.checkpoint_on_close()
        assert made is not None and made.reason == "app-closed" and made.size == signed_ledger.size + 2
        assert service.checkpoint_on_close() is None


# ---- verify: the stored checkpoints ----------------------------------------------------------------

def test_verify_checks_the_stored_checkpoints(signed_ledger):
    record_more(signed_ledger.path, 3)
    with open_service(signed_ledger.path) as service:
        service.make_checkpoint()
        report = service.verify()
    assert report.ok, report.as_dict()
    assert report.checkpoints_checked == 2


def test_a_truncated_ledger_fails_its_own_stored_checkpoint(signed_ledger, capsys):
    keep = signed_ledger.size - 3
    raw_sql(signed_ledger.path, f"DELETE FROM entry WHERE seq > {keep}", drop_triggers=True)
    with open_service(signed_ledger.path) as service:
        service.rebuild()
    code, out, _ = cli(capsys, "--db", signed_ledger.path, "verify")
    assert code == 1
    assert f"now has only {keep:,}" in out and "cut short" in out
    assert signed_ledger.checkpoint.note.splitlines()[0] in out  # the note is shown as evidence


def test_a_checkpoint_with_a_forged_signature_is_reported(signed_ledger):
    note = signed_ledger.checkpoint.note
    forged = note[:-10] + ("A" if note[-10] != "A" else "B") + note[-9:]
    with closing(sqlite3.connect(str(signed_ledger.path))) as conn:
        conn.execute("INSERT INTO checkpoint (size, root, key_id, note, made_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
                     (signed_ledger.size, bytes.fromhex(signed_ledger.checkpoint.root),
                      signed_ledger.checkpoint.key_id, forged, "2024-06-01T03:00:00Z", "manual"))
        conn.commit()
    with open_service(signed_ledger.path) as service:
        report = service.verify()
    assert not report.ok
    assert any("not a valid signed checkpoint" in p.what for p in report.problems)


def test_a_fork_is_reported_with_both_notes_as_evidence(signed_ledger, capsys):
    """Two validly signed checkpoints of one size with different roots: someone signed two ledgers."""
    with open_service(signed_ledger.path) as service:
        key_id, private = service._unlocked_signer()
        other_root = bytes(32)
        other = sign_note(Checkpoint(service.origin(), signed_ledger.size, other_root).body(), service.origin(), private)
    with closing(sqlite3.connect(str(signed_ledger.path))) as conn:
        conn.execute("INSERT INTO checkpoint (size, root, key_id, note, made_at, reason) VALUES (?, ?, ?, ?, ?, ?)",
                     (signed_ledger.size, other_root, key_id, other, "2024-06-02T03:00:00Z", "manual"))
        conn.commit()
    with open_service(signed_ledger.path) as service:
        report = service.verify()
    forks = [p for p in report.problems if p.what.startswith("fork:")]
    assert len(forks) == 1
    assert set(forks[0].evidence) == {signed_ledger.checkpoint.note, other}
    code, out, _ = cli(capsys, "--db", signed_ledger.path, "verify", "--json")
    assert code == 1
    evidence = [p["evidence"] for p in json.loads(out)["problems"] if p["problem"].startswith("fork:")]
    assert evidence and set(evidence[0]) == {signed_ledger.checkpoint.note, other}


# ---- verify --against: a checkpoint held outside the ledger ------------------------------------------

def test_an_intact_ledger_that_grew_matches_an_older_outside_checkpoint(signed_ledger):
    record_more(signed_ledger.path, 4)
    report = verify_against(signed_ledger.path, signed_ledger.checkpoint.note)
    assert report.ok, report.as_dict()
    assert report.against == {"source": "auditor.note", "size": signed_ledger.size,
                              "root": signed_ledger.checkpoint.root, "ok": True}


def test_a_full_rewrite_with_recomputed_hashes_passes_the_chain_but_not_the_outside_checkpoint(signed_ledger):
    outside = signed_ledger.checkpoint.note
    drop_stored_checkpoints(signed_ledger.path)  # a thorough attacker removes the copies inside too
    rewrite_from(signed_ledger.path, 14, b'"contract_reference":"C-8"', b'"contract_reference":"C-9"')
    with open_service(signed_ledger.path) as service:
        assert service.verify().ok, "the rewrite is invisible to the hash chain alone"
    report = verify_against(signed_ledger.path, outside)
    assert not report.ok
    assert report.first_bad_seq == 1
    assert any("was rewritten" in p.what and p.evidence == (outside,) for p in report.problems)


def test_a_rewrite_is_also_caught_by_the_stored_checkpoint_it_left_behind(signed_ledger):
    rewrite_from(signed_ledger.path, 14, b'"contract_reference":"C-8"', b'"contract_reference":"C-9"')
    with open_service(signed_ledger.path) as service:
        report = service.verify()
    assert not report.ok and any("was rewritten" in p.what for p in report.problems)


def test_a_rewrite_after_a_matching_checkpoint_is_narrowed_to_the_entries_since(signed_ledger):
    record_more(signed_ledger.path, 3)
    with open_service(signed_ledger.path) as service:
        service.make_checkpoint()
    last = signed_ledger.size + 2
    rewrite_from(signed_ledger.path, last, b'"consent_date":"2024-04-01"', b'"consent_date":"2024-04-02"')
    with open_service(signed_ledger.path) as service:
        report = service.verify()
    assert not report.ok
    assert report.first_bad_seq == signed_ledger.size + 1  # the first checkpoint still matches


def test_a_truncated_ledger_fails_the_outside_checkpoint(signed_ledger):
    outside = signed_ledger.checkpoint.note
    drop_stored_checkpoints(signed_ledger.path)
    # the last entry (a party change) goes; the chain that is left is whole
    raw_sql(signed_ledger.path, f"DELETE FROM entry WHERE seq = {signed_ledger.size}", drop_triggers=True)
    restore_guards(signed_ledger.path)
    with open_service(signed_ledger.path) as service:
        service.rebuild()
        assert service.verify().ok
    report = verify_against(signed_ledger.path, outside)
    assert not report.ok and report.first_bad_seq == signed_ledger.size
    assert any("were removed" in p.what for p in report.problems)


def test_a_restored_old_backup_fails_a_later_outside_checkpoint(sample_ledger, tmp_path):
    backup = tmp_path / "backup.db"
    with open_service(sample_ledger.path) as service:
        service.create_signing_key()
    shutil.copyfile(sample_ledger.path, backup)
    record_more(sample_ledger.path, 5)
    with open_service(sample_ledger.path) as service:
        later = service.make_checkpoint().note
    shutil.copyfile(backup, sample_ledger.path)  # the old backup is put back
    with open_service(sample_ledger.path) as service:
        assert service.verify().ok
    report = verify_against(sample_ledger.path, later)
    assert not report.ok
    assert any("older backup" in p.what for p in report.problems)


def test_a_checkpoint_of_another_ledger_or_an_unknown_key_is_not_trusted(signed_ledger, tmp_path):
    other = tmp_path / "other.db"
    with open_service(other, create=True) as service:
        service.create_signing_key()
        foreign = service.make_checkpoint().note
        foreign_key = service.verifier_keys()[-1]
    report = verify_against(signed_ledger.path, foreign)
    assert not report.ok and any("no signature on the note is by a known verifier key" in p.what
                                 for p in report.problems)
    report = verify_against(signed_ledger.path, foreign, trusted_keys=[foreign_key])
    assert not report.ok and any("checkpoint of another ledger" in p.what for p in report.problems)


def test_an_altered_outside_checkpoint_is_not_trusted(signed_ledger):
    note = signed_ledger.checkpoint.note
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) - 1)
    report = verify_against(signed_ledger.path, "\n".join(lines))
    assert not report.ok and any("altered" in p.what for p in report.problems)


# ---- the append-only guards ---------------------------------------------------------------------

@pytest.mark.parametrize("trigger", ["entry_append_only_update", "entry_next_seq_only", "checkpoint_append_only_delete"])
def test_a_dropped_guard_is_reported_by_verify(sample_ledger, capsys, trigger):
    with closing(sqlite3.connect(str(sample_ledger.path))) as conn:
        conn.execute(f"DROP TRIGGER {trigger}")
        conn.commit()
    code, out, _ = cli(capsys, "--db", sample_ledger.path, "verify")
    assert code == 1
    assert f"the safeguard {trigger}" in out and "was removed" in out


def test_a_guard_replaced_by_one_that_does_nothing_is_reported(sample_ledger):
    with closing(sqlite3.connect(str(sample_ledger.path))) as conn:
        conn.execute("DROP TRIGGER entry_append_only_delete")
        conn.execute("CREATE TRIGGER entry_append_only_delete BEFORE DELETE ON entry BEGIN SELECT 1; END")
        conn.commit()
    with open_service(sample_ledger.path) as service:
        report = service.verify()
    assert [p.what for p in report.problems if "entry_append_only_delete" in p.what][0].endswith(
        "(the hashes above still show what changed)")
    assert any("was altered" in p.what for p in report.problems)
