"""Secrets and privacy through the real command line.

Files that hold personal data or key material are the owner's only (0600 files, 0700 folders);
subject identifiers, free text, vault values, passphrases and private keys never appear in error
messages, `verify` output or crash reports; and the commands show vault values only where the
README says they do.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from ledger.cli import main

REPO = Path(__file__).resolve().parents[2]

SUBJECT = "S2024-0137-Hanako"          # a person's identifier
OTHER = "S2024-0200-Taro"             # another person in the same release
NOTES = "Hanako asked for the brochure"  # free text about her
CONSENT_REF = "consent form 17 signed by Hanako Sato"
PASSPHRASE = "correct horse battery staple"
SECRETS = (SUBJECT, OTHER, NOTES, CONSENT_REF, "Hanako", "Taro")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def cli(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("DISCLOSURE_LEDGER_OPERATOR", "privacy-officer")
    monkeypatch.delenv("DISCLOSURE_LEDGER_DB", raising=False)
    db = tmp_path / "ledger.db"

    def run(*argv) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--db", str(db), *map(str, argv)])
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err
        return code, out, err
    run.db = db
    return run


@pytest.fixture
def ledger(cli):
    """A ledger with one release naming two people, with notes and a consent reference."""
    assert cli("init")[0] == 0
    assert cli("party", "add", "--id", "P001", "--name", "Partner Books KK", "--kind", "third_party", "--country",
               "JP", "--address", "2 Shijo, Kyoto", "--representative", "Sato Ichiro")[0] == 0
    code, out, err = cli("disclose", "--recipient", "P001", "--date", "2024-05-02", "--subject", SUBJECT,
                         "--subject", OTHER, "--item", "name", "--purpose", "affiliate_provision_with_consent",
                         "--basis", "consent", "--evidence", f"consent_reference={CONSENT_REF}",
                         "--evidence", "consent_date=2024-04-01", "--notes", NOTES)
    assert code == 0, err
    return cli


def assert_no_secrets(text: str, *extra: str) -> None:
    for secret in (*SECRETS, *extra):
        assert secret not in text, (secret, text)


# ---- owner-only files ----------------------------------------------------------------------------------

@pytest.fixture
def open_umask():
    """The usual umask, under which a file made without care is readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_ledger_and_its_wal_and_shm_files_are_the_owners_only(ledger, open_umask):
    db = ledger.db
    with closing(sqlite3.connect(str(db))) as reader:  # while a reader holds it, -wal and -shm exist
        reader.execute("SELECT count(*) FROM entry").fetchone()
        assert ledger("party", "add", "--name", "Another KK", "--kind", "third_party", "--country", "JP",
                      "--address", "x", "--representative", "y")[0] == 0
        files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
        for path in files:
            assert mode(path) == 0o600, (path, oct(mode(path)))
    assert mode(db) == 0o600


def test_a_new_ledger_made_under_an_open_umask_is_the_owners_only(cli, open_umask):
    assert cli("init")[0] == 0
    assert mode(cli.db) == 0o600


def test_key_files_and_their_folder_are_the_owners_only(ledger, open_umask, private_key_folder, monkeypatch):
    folder = private_key_folder / "fresh"
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(folder))
    code, out, err = ledger("key", "init")
    assert code == 0, err
    (key_file,) = folder.iterdir()
    assert mode(folder) == 0o700 and mode(key_file) == 0o600
    assert_no_secrets(out + err)
    pem = key_file.read_text()
    for line in pem.splitlines()[1:-1]:
        assert line not in out + err  # the private key is never printed


def test_evidence_copies_and_their_folder_are_the_owners_only(ledger, open_umask, tmp_path):
    ledger("party", "add", "--id", "P002", "--name", "Kyoto Mail KK", "--kind", "contractor", "--country", "JP",
           "--address", "1 Karasuma", "--representative", "Taro Yamada")
    (tmp_path / "pentest.pdf").write_bytes(b"%PDF findings about our systems")
    from ledger.service import LedgerService
    with LedgerService.open(ledger.db) as service:
        answers = [{"item": item, "answer": "met"} for item in service.ref.checklist]
        folder = service.evidence_folder
    answers[0]["evidence_files"] = ["pentest.pdf"]
    (tmp_path / "assessment.json").write_text(json.dumps({"answers": answers}))
    code, out, err = ledger("vendor", "assess", "P002", "--from-json", tmp_path / "assessment.json")
    assert code == 0, err
    (copy,) = folder.iterdir()
    assert mode(folder) == 0o700 and mode(copy) == 0o600


def test_a_backup_is_the_owners_only(ledger, open_umask, tmp_path):
    code, _, err = ledger("backup", "--out", tmp_path / "copy.db")
    assert code == 0, err
    assert mode(tmp_path / "copy.db") == 0o600


# ---- no personal data in error messages ----------------------------------------------------------------

RELEASE = ["disclose", "--recipient", "P001", "--date", "2024-05-03", "--item", "name",
           "--purpose", "affiliate_provision_with_consent", "--basis", "consent",
           "--evidence", "consent_date=2024-04-01"]


@pytest.mark.parametrize("argv, field", [
    (["--subject", f"{SUBJECT}\x1b[2J", "--evidence", "consent_reference=x"], "subjects[1]"),
    (["--subject", SUBJECT * 20, "--evidence", "consent_reference=x"], "subjects[1]"),
    (["--subject", f"{SUBJECT}\u202e", "--evidence", "consent_reference=x"], "subjects[1]"),
    (["--subject", "ok", "--evidence", f"consent_reference={CONSENT_REF}\x00"], "evidence.consent_reference"),
    (["--subject", "ok", "--evidence", "consent_reference=x", "--notes", NOTES * 100], "notes"),
    (["--subject", "ok", "--evidence", f"{CONSENT_REF} without an equals sign"], "evidence"),
    (["--subject", "ok", "--evidence", "consent_reference=x", "--evidence", f"consent_date={NOTES}"],
     "evidence.consent_date"),
])
def test_a_refused_personal_value_is_named_by_its_field_not_echoed(ledger, argv, field):
    before = ledger.db.read_bytes()
    code, out, err = ledger(*RELEASE[:-2], *argv, *([] if "consent_date" in " ".join(argv) else RELEASE[-2:]))
    assert code == 2 and field in err, err
    assert_no_secrets(out + err)
    assert ledger.db.read_bytes() == before


def test_an_import_row_with_a_bad_personal_value_is_not_echoed(ledger, tmp_path):
    rows = [{"recipient": "P001", "date": "2024-05-03", "subjects": [f"{SUBJECT}\x07"], "data_items": ["name"],
             "purpose": "affiliate_provision_with_consent", "basis": "consent", "notes": NOTES + "\x1b",
             "evidence": {"consent_reference": CONSENT_REF, "consent_date": f"{SUBJECT} agreed"}}]
    (tmp_path / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "rows.csv").write_text(f"recipient,date,subjects\nP001,2024-05-03,{SUBJECT},{NOTES}\n")
    for name, fields in (("rows.jsonl", ("subjects[1]", "notes")),
                         ("rows.csv", ("row 1",))):
        code, out, err = ledger("import", tmp_path / name)
        assert code == 2 and all(f in err for f in fields), err
        assert_no_secrets(out + err)


def test_erasing_or_finding_an_unknown_person_does_not_echo_the_identifier_as_an_error(ledger):
    code, out, err = ledger("erase-subject", "S1999-9999-Unknown", "--yes")
    assert code == 2 and "no disclosure in the ledger names that subject" in err
    assert "S1999-9999-Unknown" not in err


def test_an_internal_error_reports_its_kind_and_place_but_not_its_message(ledger, monkeypatch):
    from ledger.service import LedgerService

    def broken(self, *args, **kwargs):
        raise KeyError(f"{SUBJECT} / {CONSENT_REF} / {PASSPHRASE}")
    monkeypatch.setattr(LedgerService, "subject_disclosures", broken)
    code, out, err = ledger("subject", SUBJECT)
    assert code == 70 and "unexpected internal error (KeyError in test_privacy.py line" in err
    assert_no_secrets(err, PASSPHRASE)


def test_a_subprocess_crash_report_holds_no_traceback_or_personal_data(ledger, tmp_path):
    """A hostile argument through a real process: refused by its field, nothing echoed raw."""
    env = {**os.environ, "DISCLOSURE_LEDGER_OPERATOR": "privacy-officer"}
    argv = [sys.executable, "-m", "ledger", "--db", str(ledger.db), *RELEASE,
            "--subject", f"{SUBJECT}\x1b]0;owned\x07", "--evidence", "consent_reference=x"]
    result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert result.returncode == 2 and "subjects[1]" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "\x1b" not in result.stderr
    assert_no_secrets(result.stdout + result.stderr)
    bad_bytes = subprocess.run([sys.executable, "-m", "ledger", "--db", str(ledger.db), "subject", b"caf\xe9"],
                               capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert bad_bytes.returncode == 2 and "identifier" in bad_bytes.stderr and "Traceback" not in bad_bytes.stderr


# ---- no key material in messages -----------------------------------------------------------------------

def test_passphrases_and_private_keys_stay_out_of_every_message(ledger, monkeypatch, private_key_folder):
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEY_PASSPHRASE", PASSPHRASE)
    code, out, err = ledger("key", "init", "--passphrase")
    assert code == 0, err
    (key_file,) = private_key_folder.iterdir()
    pem_lines = key_file.read_text().splitlines()[1:-1]
    outputs = [out + err]
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEY_PASSPHRASE", "a wrong passphrase, long enough")
    code, out, err = ledger("checkpoint")
    assert code == 2 and "passphrase" in err.lower()
    outputs.append(out + err)
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEY_PASSPHRASE", PASSPHRASE)
    for argv in (["checkpoint"], ["verify"], ["verify", "--json"], ["key", "show"], ["key", "show", "--all"]):
        code, out, err = ledger(*argv)
        assert code == 0, (argv, err)
        outputs.append(out + err)
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nc2VjcmV0IGtleSBtYXRlcmlhbA==\n-----END PRIVATE KEY-----\n")
    code, out, err = ledger("checkpoint")
    assert code == 2 and str(key_file) in err
    outputs.append(out + err)
    for text in outputs:
        assert PASSPHRASE not in text and "c2VjcmV0IGtleSBtYXRlcmlhbA" not in text
        assert not any(line in text for line in pem_lines)
        assert_no_secrets(text)


# ---- vault values only where a command needs them ------------------------------------------------------

def test_verify_reports_hold_no_vault_values_even_when_the_vault_was_edited(ledger):
    for argv in (["verify"], ["verify", "--json"]):
        code, out, err = ledger(*argv)
        assert code == 0
        assert_no_secrets(out + err)
    with closing(sqlite3.connect(str(ledger.db))) as conn:
        conn.execute("DROP TRIGGER IF EXISTS vault_append_only_update")
        triggers = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name='vault'")]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE vault SET value = ? WHERE value = ?", (f"{SUBJECT}-edited", SUBJECT))
        conn.commit()
    for argv in (["verify"], ["verify", "--json"]):
        code, out, err = ledger(*argv)
        assert code == 1 and "vault" in out
        assert_no_secrets(out + err, f"{SUBJECT}-edited")


def test_listings_show_counts_not_identifiers_and_show_opens_the_values(ledger):
    for argv in (["list"], ["list", "--json"], ["list", "--csv"], ["list", "--subject", SUBJECT, "--json"],
                 ["subject", SUBJECT, "--json"], ["subject", SUBJECT, "--csv"], ["party", "list", "--json"],
                 ["party", "show", "P001"], ["vendor", "due", "--json"]):
        code, out, err = ledger(*argv)
        assert code == 0, (argv, err)
        assert_no_secrets(out + err)
    code, out, _ = ledger("list", "--json")
    assert json.loads(out)[0]["subject_count"] == 2
    code, out, _ = ledger("show", "3")
    assert SUBJECT in out and OTHER in out and NOTES in out and CONSENT_REF in out  # asked for this entry
    leaf = out.split("leaf       ", 1)[1]
    assert_no_secrets(leaf)  # the leaf bytes hold commitments only


def test_the_annual_review_holds_no_personal_data_and_a_subject_report_only_that_person(ledger, tmp_path):
    for fmt in ("md", "json", "csv"):
        code, out, err = ledger("report", "annual", "--year", "2024", "--format", fmt, "--no-verify",
                                "--out", tmp_path / f"annual.{fmt}")
        assert code == 0, err
        assert_no_secrets((tmp_path / f"annual.{fmt}").read_text(encoding="utf-8"))
    code, out, err = ledger("report", "subject", SUBJECT, "--format", "json", "--out", tmp_path / "subject.json")
    assert code == 0, err
    report = (tmp_path / "subject.json").read_text(encoding="utf-8")
    assert SUBJECT in report and OTHER not in report


def test_report_files_are_owner_only_and_written_whole(tmp_path, open_umask):
    """A report may hold personal data: only its owner may read it."""
    from ledger.reports import render

    report = render.write(tmp_path / "subject.html", "<p>someone</p>")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    streamed = render.write(tmp_path / "rows.csv", iter(["a,b\n", "1,2\n"]))
    assert stat.S_IMODE(streamed.stat().st_mode) == 0o600 and streamed.read_text() == "a,b\n1,2\n"
    assert not list(tmp_path.glob("*.part"))
