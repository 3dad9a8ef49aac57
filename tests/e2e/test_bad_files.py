"""Bad files and environments, through the real program: each gets a clear message and exit code,
no traceback, and nothing is written. (Files that are not ledgers at all, other SQLite databases
and empty files are covered in test_cli.py.)"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from ledger.refdata import data_folder
from ledger.service import LedgerService

PARTY = ["party", "add", "--name", "Kyoto Mail KK", "--kind", "third_party", "--country", "JP",
         "--address", "Kyoto", "--representative", "Taro Yamada"]


def run(*argv, env: dict | None = None, preexec=None, user: int | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "ledger.cli", *map(str, argv)], capture_output=True, text=True,
                            env={**os.environ, **(env or {})}, preexec_fn=preexec, user=user, timeout=120)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode != 70, result.stderr  # never "unexpected internal error"
    return result


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def ledger(tmp_path) -> Path:
    path = tmp_path / "ledger.db"
    with LedgerService.open(path, create=True) as service:
        service.register_party({"party_id": "P1", "name": "Partner Books KK", "kind": "third_party",
                                "country": "JP", "address": "Kyoto", "representative": "R"})
    return path


def entries_and_root(path: Path) -> tuple[int, str]:
    with LedgerService.open(path) as service:
        report = service.verify()
        assert report.ok
        return report.size, report.root


def test_a_truncated_ledger_is_reported_as_damaged(ledger):
    data = ledger.read_bytes()
    ledger.write_bytes(data[: len(data) // 2])
    before = fingerprint(ledger)
    result = run("--db", ledger, "verify")
    assert result.returncode in (1, 2)
    assert "damaged" in result.stderr + result.stdout or "malformed" in result.stderr + result.stdout
    assert fingerprint(ledger) == before


def test_text_that_is_not_utf8_in_a_query_table_is_explained_and_verify_says_where(ledger):
    with closing(sqlite3.connect(str(ledger))) as conn:
        conn.execute("UPDATE party SET name = CAST(x'ff41' AS TEXT)")
        conn.commit()
    before = fingerprint(ledger)
    for command in (["party", "list"], ["party", "show", "P1"]):
        result = run("--db", ledger, *command)
        assert result.returncode == 2, result.stderr
        assert "holds text that is not UTF-8" in result.stderr and "nothing was done" in result.stderr
    assert fingerprint(ledger) == before
    result = run("--db", ledger, "verify")  # which logs its result in the file
    assert result.returncode == 1, result.stderr
    assert "the query table 'party' does not match" in result.stdout


def test_a_query_table_value_the_ledger_never_writes_points_to_verify_and_rebuild(tmp_path):
    """Reads trust the query tables' types; a value changed outside the ledger that breaks them is
    an unforeseen error, told by its kind and place, with what tells it from a defect."""
    path = tmp_path / "demo.db"
    assert run("--db", path, "demo").returncode == 0
    with closing(sqlite3.connect(str(path))) as conn:
        conn.execute("UPDATE assessment SET assessed_on = 'not a date'")
        conn.commit()
    result = subprocess.run([sys.executable, "-m", "ledger.cli", "--db", str(path), "vendor", "list"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 70 and "Traceback" not in result.stderr
    assert "unexpected internal error (ValueError in" in result.stderr and "not a date" not in result.stderr
    assert "`disclosure-ledger verify`" in result.stderr and "`disclosure-ledger rebuild` restores them" in result.stderr
    assert run("--db", path, "verify").returncode == 1
    assert run("--db", path, "rebuild").returncode == 0
    assert run("--db", path, "vendor", "list").returncode == 0
    assert run("--db", path, "verify").returncode == 0


def test_a_ledger_filled_with_random_bytes_is_refused(ledger):
    ledger.write_bytes(os.urandom(64 * 1024))
    before = fingerprint(ledger)
    for command in (["list"], PARTY, ["verify"]):
        result = run("--db", ledger, *command)
        assert result.returncode == 2 and "is not a Disclosure Ledger" in result.stderr
    assert fingerprint(ledger) == before


def test_a_ledger_of_a_newer_format_is_refused_untouched(ledger):
    with closing(sqlite3.connect(str(ledger))) as conn:
        conn.execute("PRAGMA user_version = 99")
        conn.commit()
    before = fingerprint(ledger)
    result = run("--db", ledger, *PARTY)
    assert result.returncode == 2 and "newer Disclosure Ledger" in result.stderr and "upgrade" in result.stderr
    assert fingerprint(ledger) == before


def test_a_ledger_kept_busy_by_another_program_is_reported_plainly(ledger):
    holder = sqlite3.connect(str(ledger), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program is in the middle of a write
    try:
        result = run("--db", ledger, *PARTY, env={"DISCLOSURE_LEDGER_BUSY_TIMEOUT": "0.2"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2
    assert "another program kept the ledger busy" in result.stderr and "locked" not in result.stderr
    assert entries_and_root(ledger)[0] == 2


def test_a_full_disk_fails_the_write_cleanly_and_loses_nothing(ledger, tmp_path):
    size, root = entries_and_root(ledger)
    rows = tmp_path / "big.jsonl"
    rows.write_text("".join(
        '{"recipient": "P1", "date": "2026-06-01", "subjects": ["s%d"], "data_items": ["name"], '
        '"purpose": "affiliate_provision_with_consent", "basis": "consent", '
        '"evidence": {"consent_reference": "form %d", "consent_date": "2026-05-01"}}\n' % (i, i)
        for i in range(3000)))
    limit = ledger.stat().st_size + 128 * 1024  # files may not grow past this: the disk is "full"

    def small_disk():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = run("--db", ledger, "import", rows, preexec=small_disk)
    assert result.returncode == 2
    assert "nothing was recorded" in result.stderr or "nothing was imported" in result.stderr
    assert ("disk is full" in result.stderr or "input/output error" in result.stderr), result.stderr
    assert entries_and_root(ledger) == (size, root)


def make_read_only(path: Path) -> bool:
    """chmod for an ordinary user; root writes through modes, so it sets the immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o400)
        return True
    return subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode == 0


def make_writable(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)
    path.chmod(0o600)


def test_a_read_only_ledger_can_be_read_but_not_written(ledger):
    size, root = entries_and_root(ledger)
    if not make_read_only(ledger):
        pytest.skip("cannot make a file read-only for root here (no chattr)")
    try:
        before = fingerprint(ledger)
        listed = run("--db", ledger, "party", "list")
        assert listed.returncode == 0 and "Partner Books KK" in listed.stdout
        written = run("--db", ledger, *PARTY)
        assert written.returncode == 2 and "read-only" in written.stderr, written.stderr
        assert fingerprint(ledger) == before
    finally:
        make_writable(ledger)
    assert entries_and_root(ledger) == (size, root)


def test_a_missing_or_unsafe_or_damaged_key_file_is_explained(ledger, private_key_folder):
    with LedgerService.open(ledger) as service:
        key = service.create_signing_key()
        path = service.keys.path_for(service.ledger_id(), key.key_id)
    pem = path.read_bytes()

    path.unlink()
    result = run("--db", ledger, "checkpoint")
    assert result.returncode == 2 and "signing key file is missing" in result.stderr

    path.write_bytes(pem)
    path.chmod(0o644)
    result = run("--db", ledger, "checkpoint")
    assert result.returncode == 2 and "chmod 600" in result.stderr
    assert pem.decode().splitlines()[1] not in result.stderr  # never the key itself

    path.chmod(0o600)
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    result = run("--db", ledger, "checkpoint")
    assert result.returncode == 2 and "the key file is damaged" in result.stderr
    with LedgerService.open(ledger) as service:
        assert service.checkpoints() == []


def test_a_corrupted_reference_data_file_is_named_and_nothing_is_written(ledger, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(data_folder(), data)
    (data / "legal_bases.toml").write_text("[[basis]]\ncode = \"consent\"\nthis is not toml = = =\n")
    before = fingerprint(ledger)
    result = run("--db", ledger, *PARTY, env={"DISCLOSURE_LEDGER_DATA": str(data)})
    assert result.returncode == 2 and "legal_bases.toml" in result.stderr
    assert fingerprint(ledger) == before
