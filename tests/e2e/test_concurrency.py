"""Eight writers at once, through the real command line and through the service: every entry
lands exactly once, seq has no gap, the chain verifies, and nobody sees "database is locked".
A writer that cannot get its turn in time says so plainly and writes nothing."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import sqlite3
import time
from collections import Counter

import pytest

from ledger.cli import main
from ledger.service import LedgerService

# The full run (DISCLOSURE_LEDGER_FULL_RUNS=1, see the README's Reliability section) has every
# writer append 500 entries through the command line; by default 150, to keep the suite short.
FULL = os.environ.get("DISCLOSURE_LEDGER_FULL_RUNS") == "1"
WRITERS = 8
EACH = 500
CLI_EACH = EACH if FULL else 150
PARTNER = "P1"


def disclosure(writer: int, i: int) -> dict:
    return {"recipient": PARTNER, "date": "2026-06-01", "subjects": [f"w{writer}-{i}"], "data_items": ["name"],
            "purpose": "affiliate_provision_with_consent", "basis": "consent",
            "evidence": {"consent_reference": f"form w{writer}-{i}", "consent_date": "2026-05-01"}}


def cli_writer(path: str, writer: int, results) -> None:
    problems = []
    for i in range(CLI_EACH):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--db", path, "--operator", f"writer-{writer}", "disclose", "--recipient", PARTNER,
                         "--date", "2026-06-01", "--subject", f"w{writer}-{i}", "--item", "name",
                         "--purpose", "affiliate_provision_with_consent", "--basis", "consent",
                         "--evidence", f"consent_reference=form w{writer}-{i}", "--evidence", "consent_date=2026-05-01"])
        if code != 0 or err.getvalue():
            problems.append((i, code, err.getvalue()))
    results.put((writer, problems))


def service_writer(path: str, writer: int, results) -> None:
    problems = []
    with LedgerService.open(path, operator=f"writer-{writer}") as service:
        for i in range(EACH):
            try:
                service.record_disclosure(disclosure(writer, i))
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                problems.append((i, type(exc).__name__, str(exc)))
    results.put((writer, problems))


@pytest.fixture
def ledger(tmp_path):
    path = tmp_path / "ledger.db"
    with LedgerService.open(path, create=True) as service:
        service.register_party({"party_id": PARTNER, "name": "Partner Books KK", "kind": "third_party",
                                "country": "JP", "address": "Kyoto", "representative": "R"})
    return path


def run_writers(target, path) -> list:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [context.Process(target=target, args=(str(path), w, results)) for w in range(WRITERS)]
    for process in processes:
        process.start()
    found = [results.get(timeout=300) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    return found


def assert_every_entry_once(path, each: int) -> None:
    with LedgerService.open(path) as service:
        report = service.verify()
        assert report.ok, report.as_dict()
        assert report.size == 2 + WRITERS * each
        subjects = Counter()
        for summary in service.disclosures(limit=None):
            detail = service.disclosure(summary.seq)
            subjects.update(detail.subjects)
    assert len(subjects) == WRITERS * each and set(subjects.values()) == {1}
    with contextlib.closing(sqlite3.connect(str(path))) as conn:
        seqs = [row[0] for row in conn.execute("SELECT seq FROM entry ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))


@pytest.mark.timeout(600)
def test_eight_command_line_writers_at_once(ledger):
    found = run_writers(cli_writer, ledger)
    assert [problems for _, problems in found] == [[]] * WRITERS
    assert_every_entry_once(ledger, CLI_EACH)


@pytest.mark.timeout(600)
def test_eight_service_writers_at_once(ledger):
    found = run_writers(service_writer, ledger)
    assert [problems for _, problems in found] == [[]] * WRITERS
    assert_every_entry_once(ledger, EACH)


def test_a_writer_that_waits_too_long_says_so_and_writes_nothing(ledger, monkeypatch, capsys):
    monkeypatch.setenv("DISCLOSURE_LEDGER_BUSY_TIMEOUT", "0.3")
    blocker = sqlite3.connect(str(ledger), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        started = time.monotonic()
        code = main(["--db", str(ledger), "party", "add", "--name", "Late KK", "--kind", "third_party",
                     "--country", "JP", "--address", "Kyoto", "--representative", "R"])
        waited = time.monotonic() - started
        out, err = capsys.readouterr()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert code == 2 and waited >= 0.3
    assert "nothing was recorded: another program kept the ledger busy for more than 0.3 s" in err
    assert "database is locked" not in err and "Traceback" not in err
    with LedgerService.open(ledger) as service:
        assert service.store.size() == 2 and service.verify().ok
