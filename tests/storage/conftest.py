"""A small, realistic ledger built once through the service; each test gets its own copy
to attack with raw SQL behind the service's back."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ledger.service import LedgerService

FIXED_NOW = datetime(2024, 6, 1, 3, 0, tzinfo=timezone.utc)


@dataclass
class SampleLedger:
    path: Path
    size: int
    parties: dict[str, int] = field(default_factory=dict)     # party id -> registered seq
    disclosures: list[int] = field(default_factory=list)      # seqs of disclosure.recorded
    outsourcing: list[int] = field(default_factory=list)      # uncorrected outsourcing disclosures
    corrected: int = 0            # a disclosure with a correction
    correction_seq: int = 0
    voided: int = 0
    void_seq: int = 0
    erased_disclosure: int = 0    # the disclosure that named the erased subject
    erasure_seq: int = 0
    erased_vault_rows: list[tuple] = field(default_factory=list)  # the rows the erasure deleted
    party_change_seq: int = 0


def _build(path: Path) -> SampleLedger:
    svc = LedgerService.open(path, create=True, operator="tamper-test", clock=lambda: FIXED_NOW)
    info = SampleLedger(path=path, size=0)
    try:
        for spec in (
            {"party_id": "P001", "name": "Kyoto Mail Services KK", "kind": "contractor", "country": "JP",
             "address": "1 Karasuma, Kyoto", "representative": "Taro Yamada"},
            {"party_id": "P002", "name": "Partner Books KK", "kind": "third_party", "country": "JP",
             "address": "2 Shijo, Kyoto", "representative": "Hanako Sato"},
            {"party_id": "P003", "name": "Kyoto City Board of Education", "kind": "government_body",
             "country": "JP", "address": "Kyoto City Hall"},
            {"party_id": "P004", "name": "Cloud Analytics Inc", "kind": "contractor", "country": "US",
             "address": "1 Market St, San Francisco", "representative": "Jane Doe"},
        ):
            info.parties[spec["party_id"]] = svc.register_party(spec).registered_seq
        for i in range(20):
            day = f"2024-05-{i + 1:02d}"
            if i % 4 == 0:
                data = {"recipient": "P001", "date": day, "subjects": [f"student-{i}", f"student-{i + 100}"],
                        "data_items": ["name", "email"], "purpose": "business_communication",
                        "basis": "outsourcing", "evidence": {"contract_reference": f"C-{i}"}, "method": "sftp",
                        "override_reason": "assessment on paper, not yet in the register"}
            elif i % 4 == 1:
                data = {"recipient": "P002", "date": day, "subjects": [f"student-{i}"], "data_items": ["name"],
                        "purpose": "affiliate_provision_with_consent", "basis": "consent",
                        "evidence": {"consent_reference": f"form {i}", "consent_date": "2024-04-01"},
                        "notes": "asked by phone"}
            elif i % 4 == 2:
                data = {"recipient": "P003", "date": day, "subjects": [f"student-{i}"],
                        "data_items": ["name", "address"], "purpose": "terms_violation_investigation",
                        "basis": "law", "evidence": {"statute": "School Education Act Art. 1"}}
            else:
                data = {"recipient": "P004", "date": "2024-05-01", "last_day": "2024-05-31",
                        "group_description": "all students of the summer course", "group_count": 120,
                        "data_items": ["cookie_id"], "purpose": "service_provision_improvement_marketing",
                        "basis": "outsourcing", "evidence": {"contract_reference": "DPA-1"},
                        "route": "equivalent_measures",
                        "route_evidence": {"measures_reference": "SCC 2021", "last_checked_on": "2024-04-01"},
                        "override_reason": "assessment on paper, not yet in the register"}
            seq = svc.record_disclosure(data)
            info.disclosures.append(seq)
            if i % 4 == 0:
                info.outsourcing.append(seq)
        info.corrected = info.disclosures[1]
        info.correction_seq = svc.correct_disclosure(info.corrected, {"data_items": ["name", "email"]},
                                                     "the e-mail address was sent too")
        info.voided = info.disclosures[2]
        info.void_seq = svc.void_disclosure(info.voided, "recorded twice by mistake")
        info.erased_disclosure = info.disclosures[5]
        with closing(sqlite3.connect(str(path))) as raw:
            info.erased_vault_rows = raw.execute(
                "SELECT commitment, entry_seq, field, salt, value FROM vault WHERE entry_seq = ?",
                (info.erased_disclosure,)).fetchall()
        erasure = svc.erase_subject("student-5")
        assert erasure.disclosures == (info.erased_disclosure,)
        info.erasure_seq = erasure.seq
        info.party_change_seq = svc.change_party("P002", {"address": "3 Gojo, Kyoto"}, "moved office").version_seq
        info.size = svc.store.size()
        report = svc.verify()
        assert report.ok, report.as_dict()
    finally:
        svc.close()
    for suffix in ("-wal", "-shm"):
        assert not Path(f"{path}{suffix}").exists(), "the ledger was not closed cleanly"
    return info


@pytest.fixture(scope="session")
def sample_ledger_template(tmp_path_factory) -> SampleLedger:
    return _build(tmp_path_factory.mktemp("tamper-template") / "template.db")


@pytest.fixture
def sample_ledger(sample_ledger_template, tmp_path) -> SampleLedger:
    """A private copy of the sample ledger, closed, ready to be attacked."""
    path = tmp_path / "ledger.db"
    shutil.copyfile(sample_ledger_template.path, path)
    copy = SampleLedger(**{**sample_ledger_template.__dict__, "path": path})
    return copy
