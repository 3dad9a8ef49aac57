"""The sample ledger (`disclosure-ledger demo`): what it holds, read back through the service API."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from ledger.cli import main
from ledger.demo import build_demo, load_demo_source, plan_demo
from ledger.errors import LedgerFileError
from ledger.refdata import load_reference_data
from ledger.service import ERASED, LedgerService

STUDENT_ID = re.compile(r"S\d{4}-\d{4}")
EMAIL = re.compile(r"[a-z]+\.[a-z]+@example\.jp")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "ledger.db"
    service = LedgerService.open(path, create=True, operator="demo")
    summary = build_demo(service)
    disclosures = service.disclosures(limit=None)
    details = {d.seq: service.disclosure(d.seq) for d in disclosures}
    yield service, summary, disclosures, details
    service.close()


def test_summary_is_one_line_with_the_counts(demo):
    service, summary, disclosures, _ = demo
    counts = service.counts()
    assert "\n" not in summary
    assert "Kamo River Learning" in summary
    assert f"{counts['entries']:,} entries" in summary
    assert f"{counts['parties']} parties" in summary
    assert f"{len(disclosures)} disclosures" in summary
    for word in ("correction", "void", "erasure"):
        assert word in summary


def test_every_legal_basis_is_used_with_its_evidence(demo):
    service, _, disclosures, details = demo
    by_basis = Counter(d.basis for d in disclosures)
    assert set(by_basis) == set(service.ref.bases), by_basis
    assert len(disclosures) >= 200
    for d in disclosures:
        evidence = details[d.seq].evidence
        required = {f.code for f in service.ref.bases[d.basis].evidence}
        assert set(evidence) == required, (d.seq, d.basis, evidence)
        assert all(evidence.values()), (d.seq, evidence)


def test_parties_cover_every_kind_the_brief_names(demo):
    service, _, disclosures, _ = demo
    parties = service.parties()
    assert len(parties) >= 8
    kinds = Counter(p.kind for p in parties)
    for kind in ("contractor", "subcontractor", "affiliate", "joint_user", "successor", "government_body"):
        assert kinds[kind] >= 1, kind

    abroad = {p.party_id: p for p in parties if p.country != "JP"}
    foreign_contractors = [p for p in abroad.values() if p.kind == "contractor"]
    assert foreign_contractors
    routes = {(d.recipient_id, d.route) for d in disclosures if d.recipient_id in abroad}
    assert any(abroad[r].kind == "contractor" and abroad[r].country == "US" and route == "equivalent_measures"
               for r, route in routes)
    designated = [r for r, route in routes if route == "designated_country"]
    assert designated and all(service.ref.countries[abroad[r].country].designated for r in designated)
    assert {route for _, route in routes} == set(service.ref.routes)

    government = {p.party_id for p in parties if p.kind == "government_body"}
    to_government = [d for d in disclosures if d.recipient_id in government]
    assert {"law", "government_cooperation"} <= {d.basis for d in to_government}
    assert not any(d.statutory for d in to_government)  # APPI Art. 16(2): voluntary records

    affiliates = {p.party_id for p in parties if p.kind == "affiliate"}
    assert any(d.recipient_id in affiliates and d.basis == "consent"
               and d.purpose == "affiliate_provision_with_consent" for d in disclosures)
    assert any(p.version > 1 for p in parties)  # a party change
    changed = next(p for p in parties if p.version > 1)
    assert len(service.party_history(changed.party_id)) == changed.version


def test_bulk_and_identified_records_with_reused_subjects(demo):
    service, _, disclosures, details = demo
    bulk = [d for d in disclosures if d.bulk]
    assert len(bulk) >= 26
    assert all(details[d.seq].group_description and not details[d.seq].subjects for d in bulk)
    monthly = [d for d in bulk if d.recipient_id == "rakusai-marking"]
    assert len(monthly) >= 24
    named = Counter(s for d in details.values() for s in d.subjects if s != ERASED)
    assert any(STUDENT_ID.fullmatch(s) for s in named)
    assert any(EMAIL.fullmatch(s) for s in named)
    assert max(named.values()) >= 2  # the same people appear in several disclosures
    assert not any(d.bulk for d in disclosures if d.basis == "opt_out")  # PPC Rule 19(2)


def test_dates_are_past_and_spread_over_about_26_months(demo):
    service, _, disclosures, _ = demo
    today = service.today()
    firsts = [date.fromisoformat(d.first_day) for d in disclosures]
    lasts = [date.fromisoformat(d.last_day) for d in disclosures]
    assert max(lasts) <= today
    assert today - timedelta(days=27 * 31) <= min(firsts) <= today - timedelta(days=24 * 30)
    assert len({(f.year, f.month) for f in firsts}) >= 24


def test_correction_void_and_erasure(demo):
    service, _, disclosures, details = demo
    corrected = [d for d in disclosures if d.status == "active" and d.version > 1]
    assert corrected
    assert all(any(h.action == "corrected" and h.reason for h in details[d.seq].history) for d in corrected)
    voided = [d for d in disclosures if d.status == "voided"]
    assert len(voided) >= 1
    erased = [d for d in details.values() if ERASED in d.subjects]
    assert erased
    # Free text about only that person went with the identifier.
    assert any(ERASED in d.evidence.values() for d in erased)
    assert service.subject_disclosures("S2024-0137") == []
    kinds = Counter(service.entry(seq).kind for seq in range(1, service.counts()["entries"] + 1))
    assert kinds["subject.erased"] == 1 and kinds["disclosure.corrected"] >= 1 and kinds["disclosure.voided"] >= 1


def test_the_demo_ledger_verifies(demo):
    service, *_ = demo
    report = service.verify()
    assert report.ok, report.problems


def test_plan_is_deterministic_and_relative_to_today():
    spec = load_demo_source()
    day = date(2027, 3, 31)
    assert plan_demo(spec, day) == plan_demo(spec, day)
    later = plan_demo(spec, day + timedelta(days=40))
    assert later.rows != plan_demo(spec, day).rows
    for row in later.rows:
        assert row["first_day"] <= (day + timedelta(days=40)).isoformat()


@pytest.mark.parametrize("today", ["2024-02-29T03:00:00", "2027-01-01T00:30:00", "2030-12-31T14:59:00"])
def test_demo_builds_on_awkward_days(tmp_path, today):
    """Month and year ends, a leap day, and the UTC/Asia/Tokyo date change all produce a valid ledger."""
    moment = datetime.fromisoformat(today).replace(tzinfo=timezone.utc)
    with LedgerService.open(tmp_path / "l.db", create=True, operator="demo", clock=lambda: moment) as service:
        build_demo(service)
        assert len(service.disclosures(limit=None)) >= 200
        assert max(d.last_day for d in service.disclosures(limit=None)) <= service.today().isoformat()


def test_demo_refuses_a_ledger_that_already_holds_records(demo):
    service, *_ = demo
    before = service.counts()["entries"]
    with pytest.raises(LedgerFileError, match="already holds records"):
        build_demo(service)
    assert service.counts()["entries"] == before


def test_the_demo_command(tmp_path, capsys):
    path = tmp_path / "demo.db"
    assert main(["--db", str(path), "demo"]) == 0
    out = capsys.readouterr().out
    assert "Sample ledger written to" in out and "disclosures" in out
    with LedgerService.open(path, operator="test") as service:
        size = service.counts()["entries"]
        assert size > 200
        assert service.verify().ok

    assert main(["--db", str(path), "demo"]) == 2
    assert "already exists" in capsys.readouterr().err
    with LedgerService.open(path, operator="test") as service:
        assert service.counts()["entries"] == size
    assert main(["--db", str(path), "verify"]) == 0


def test_demo_source_uses_only_known_codes():
    ref = load_reference_data()
    spec = load_demo_source()
    for template in spec["template"]:
        assert template["basis"] in ref.bases, template["key"]
        assert template["purpose"] in ref.purposes, template["key"]
        assert set(template["data_items"]) <= set(ref.data_items), template["key"]
        assert template.get("method") is None or template["method"] in ref.methods
    for party in spec["party"]:
        assert party["kind"] in ref.party_kinds and party["country"] in ref.countries
