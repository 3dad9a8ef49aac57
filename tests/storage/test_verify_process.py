"""verify's content check in a forked process (as on a large ledger): it finds what the thread
finds, and a write that lands before the process reads leaves the work to the caller."""

from __future__ import annotations

import pytest

from ledger import verify
from ledger.storage import checks

from .attacks import raw_sql, report_of


@pytest.fixture
def forked(monkeypatch):
    monkeypatch.setattr(verify._ContentPass, "PROCESS_MIN_ENTRIES", 0)
    monkeypatch.setattr(verify._ContentPass, "CHUNK", 4)  # several chunks, taken by both processes
    real_start, started = verify._ContentPass.start, []

    def start(self):
        real_start(self)
        started.append(self._process is not None)

    monkeypatch.setattr(verify._ContentPass, "start", start)
    yield
    assert started and all(started), "the content check did not run in a process"


def test_an_intact_ledger_verifies_with_the_check_in_a_process(sample_ledger, forked):
    report = report_of(sample_ledger.path)
    assert report.ok, report.as_dict()
    assert report.size == sample_ledger.size


@pytest.mark.parametrize("statement, seq", [
    ("UPDATE disclosure SET purpose = 'marketing' WHERE seq = 14", 14),
    ("UPDATE disclosure_subject SET commitment = zeroblob(32) WHERE disclosure_seq = 14", 14),
    ("INSERT INTO disclosure_subject (disclosure_seq, position, commitment) VALUES (4000, 0, zeroblob(32))", 4000),
])
def test_a_changed_query_table_is_found_by_the_process(sample_ledger, forked, statement, seq):
    raw_sql(sample_ledger.path, statement)
    report = report_of(sample_ledger.path)
    assert not report.ok
    assert any(p.seq == seq or (seq > sample_ledger.size and "disclosure_subject" in p.what)
               for p in report.problems), report.as_dict()


def test_a_snapshot_moved_before_the_process_read_is_checked_by_the_caller(sample_ledger, forked, monkeypatch):
    real_open = checks.open_reader
    opened = []

    def open_reader(path):
        opened.append(path)
        conn = real_open(path)
        if len(opened) > 2:  # the process's own connection (in the process): it sees another last entry
            monkeypatch.setattr(checks, "last_seq", lambda conn: -1)
        return conn

    monkeypatch.setattr(checks, "open_reader", open_reader)
    raw_sql(sample_ledger.path, "UPDATE disclosure SET basis = 'consent' WHERE seq = 14")
    # Found only by the whole-table checks, which the caller must then run itself.
    raw_sql(sample_ledger.path, "INSERT INTO vault (entry_seq, commitment, field, salt, value) "
                                "VALUES (99999, zeroblob(32), 'subject', zeroblob(16), 'S-X')")
    report = report_of(sample_ledger.path)
    assert report.first_bad_seq == 14, report.as_dict()
    assert any("that no entry of the ledger commits to" in p.what for p in report.problems), report.as_dict()
