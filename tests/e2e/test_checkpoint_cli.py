"""`key`, `checkpoint`, `verify --against` and `proof` through the real command line, ending
with what an auditor does: the standalone verifier on an exported checkpoint and a proof."""

from __future__ import annotations

import io
import json
import stat

import pytest

from ledger import standalone_verifier
from ledger.chain.note import parse_checkpoint, parse_verifier_key, verify_note



@pytest.fixture
def ledger(tmp_path, command_line):
    path = tmp_path / "ledger.db"
    assert command_line("--db", path, "init")[0] == 0
    assert command_line("--db", path, "party", "add", "--name", "Kyoto Mail KK", "--kind", "third_party",
               "--country", "JP", "--address", "1 Karasuma, Kyoto", "--representative", "Taro Yamada")[0] == 0
    return path


def test_key_init_prints_the_verifier_key_and_key_show_repeats_it(ledger, command_line, private_key_folder):
    code, out, err = command_line("--db", ledger, "key", "init")
    assert code == 0
    verifier = out.strip()
    key = parse_verifier_key(verifier)
    assert key.name.startswith("disclosure-ledger/")
    assert "Give this verifier key to your auditor" in err
    files = list(private_key_folder.iterdir())
    assert len(files) == 1 and stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert str(files[0]) in err
    assert command_line("--db", ledger, "key", "show")[1].strip() == verifier


def test_key_commands_explain_what_is_missing_or_already_there(ledger, command_line):
    code, _, err = command_line("--db", ledger, "key", "show")
    assert code == 2 and "no signing key yet" in err and "key init" in err
    code, _, err = command_line("--db", ledger, "key", "rotate")
    assert code == 2 and "no signing key to rotate" in err
    code, _, err = command_line("--db", ledger, "checkpoint")
    assert code == 2 and "key init" in err
    assert command_line("--db", ledger, "key", "init")[0] == 0
    code, _, err = command_line("--db", ledger, "key", "init")
    assert code == 2 and "already has a signing key" in err


def test_a_passphrase_from_the_environment_protects_and_unlocks_the_key(ledger, command_line, monkeypatch,
                                                                         private_key_folder):
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEY_PASSPHRASE", "correct horse battery")
    assert command_line("--db", ledger, "key", "init", "--passphrase")[0] == 0
    assert b"ENCRYPTED" in next(private_key_folder.iterdir()).read_bytes()
    assert command_line("--db", ledger, "checkpoint")[0] == 0
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEY_PASSPHRASE", "wrong horse battery")
    assert command_line("--db", ledger, "party", "add", "--name", "Later KK", "--kind", "third_party",
               "--country", "JP", "--address", "Kyoto", "--representative", "R")[0] == 0
    code, _, err = command_line("--db", ledger, "checkpoint")
    assert code == 2 and "passphrase is wrong" in err
    assert "correct horse" not in err and "wrong horse" not in err


def test_checkpoint_export_verify_against_and_the_auditors_standalone_check(ledger, command_line, tmp_path):
    verifier = command_line("--db", ledger, "key", "init")[1].strip()
    code, out, _ = command_line("--db", ledger, "checkpoint")
    assert code == 0
    note = out if out.endswith("\n") else out + "\n"
    checkpoint = parse_checkpoint(verify_note(note, [parse_verifier_key(verifier)]))
    assert checkpoint.size == 2

    exported = tmp_path / "for-the-auditor.note"
    code, out, _ = command_line("--db", ledger, "checkpoint", "export", "--out", exported)
    assert code == 0 and "Wrote checkpoint #1 (2 entries)" in out
    assert exported.read_text() == note

    code, out, _ = command_line("--db", ledger, "verify", "--against", exported)
    assert code == 0 and "It still holds the 2 entries signed in" in out
    code, out, _ = command_line("--db", ledger, "verify", "--against", exported, "--key", verifier, "--json")
    assert code == 0 and json.loads(out)["against"]["size"] == 2

    code, out, _ = command_line("--db", ledger, "proof", "inclusion", "--seq", "2")
    assert code == 0
    proof = json.loads(out)
    assert proof["checkpoint"] == note
    proof_file = tmp_path / "proof.json"
    proof_file.write_text(out)
    report = io.StringIO()
    assert standalone_verifier.run(["--checkpoint", str(exported), "--key", verifier, str(proof_file)],
                                   out=report, err=report) == 0, report.getvalue()


def test_proof_inclusion_signs_a_checkpoint_at_the_current_size_when_it_can(ledger, command_line):
    code, out, err = command_line("--db", ledger, "proof", "inclusion", "--seq", "1")
    assert code == 0 and json.loads(out)["checkpoint"] is None and "no signed checkpoint at size 2" in err
    command_line("--db", ledger, "key", "init")
    code, out, _ = command_line("--db", ledger, "proof", "inclusion", "--seq", "1")
    assert json.loads(out)["checkpoint"].startswith("disclosure-ledger/")
    code, out, _ = command_line("--db", ledger, "checkpoint", "list", "--json")
    assert [c["reason"] for c in json.loads(out)] == ["proof"]


def test_verify_against_a_bad_file_is_a_clear_error(ledger, command_line, tmp_path):
    code, _, err = command_line("--db", ledger, "verify", "--against", tmp_path / "missing.note")
    assert code == 2 and "missing.note: the checkpoint file cannot be read" in err
    binary = tmp_path / "binary.note"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = command_line("--db", ledger, "verify", "--against", binary)
    assert code == 2 and "not UTF-8 text" in err
    text = tmp_path / "text.note"
    text.write_text("just some text\n")
    code, out, _ = command_line("--db", ledger, "verify", "--against", text)
    assert code == 1 and "cannot be trusted" in out


def test_checkpoint_export_refuses_a_folder_and_writes_nothing(ledger, command_line, tmp_path):
    command_line("--db", ledger, "key", "init")
    code, _, err = command_line("--db", ledger, "checkpoint", "export", "--out", tmp_path)
    assert code == 2 and "is a folder" in err
    assert command_line("--db", ledger, "checkpoint", "list", "--json")[1].count('"id"') == 1
