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
from ledger.rules import assessment as assessing
from ledger.rules.register import CERTIFICATIONS, CONTRACT_CLAUSES, STATUSES, AssessmentFacts, gate, gated, status
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


@pytest.mark.parametrize("today", ["2024-02-29T03:00:00", "2027-01-01T00:30:00", "2030-12-31T14:59:00",
                                   "2026-02-14T15:30:00", "2025-09-29T16:00:00"])
def test_demo_builds_on_awkward_days(tmp_path, today):
    """Month and year ends, a leap day, the UTC/Asia/Tokyo date change, and the days of the
    yearly checks of equivalent measures all produce a valid ledger with every register state."""
    moment = datetime.fromisoformat(today).replace(tzinfo=timezone.utc)
    with LedgerService.open(tmp_path / "l.db", create=True, operator="demo", clock=lambda: moment) as service:
        build_demo(service)
        assert len(service.disclosures(limit=None)) >= 200
        assert max(d.last_day for d in service.disclosures(limit=None)) <= service.today().isoformat()
        assert {v.status for v in service.vendors()} == set(STATUSES)
        assert service.verify().ok


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


# ---- the contractor register (APPI Art. 25) ------------------------------------------------------------------

EXPECTED_STATUS = {
    "rakusai-marking": "approved", "fushimi-scan": "approved", "cumulus-mail": "approved",
    "kitayama-dm": "approved", "pontocho-pay": "conditional", "blueheron-cloud": "conditional",
    "rheinlicht": "expiring", "higashiyama-forensics": "expired", "kiyamachi-support": "rejected",
    "kurama-survey": "not_assessed",
}


@pytest.fixture(scope="module")
def register(demo):
    """The demo's vendors, assessments, due list and the gating of every release, read back once."""
    service, _, disclosures, details = demo
    vendors = {v.party.party_id: v for v in service.vendors()}
    assessments = {pid: service.assessments(pid) for pid in vendors}
    gating = {d.seq: details[d.seq].entry.body["gating"] for d in disclosures}
    return vendors, assessments, service.vendor_due(), gating


def releases_to(disclosures, party_id):
    return [d for d in disclosures if d.recipient_id == party_id and d.status != "voided"]


def test_every_register_state_appears(demo, register):
    vendors, *_ = register
    assert {pid: v.status for pid, v in vendors.items()} == EXPECTED_STATUS
    assert {v.status for v in vendors.values()} == set(STATUSES)
    kinds = Counter(v.party.kind for v in vendors.values())
    assert kinds["subcontractor"] >= 1 and kinds["contractor"] >= 5


def test_register_records_are_realistic(demo, register):
    service, *_ = demo
    vendors, *_ = register
    schemes = set()
    for pid, vendor in vendors.items():
        reg = vendor.register
        assert reg is not None, pid
        assert reg.service and reg.data_items, pid
        contract = reg.contract
        assert contract["reference"] and contract["signed_on"] <= service.today().isoformat(), pid
        assert set(contract["clauses"]) == set(CONTRACT_CLAUSES)
        assert contract["clauses"]["security_measures"] and contract["clauses"]["incident_notification"], pid
        for cert in reg.certifications:
            assert cert["scheme"] in CERTIFICATIONS and date.fromisoformat(cert["expires_on"]), pid
            schemes.add(cert["scheme"])
    assert {"privacymark", "iso27001"} <= schemes
    eu = [v for v in vendors.values() if v.party.country == "DE"]
    assert eu and all(v.register.contract["clauses"]["gdpr_art28"] for v in eu)


def test_every_accepted_release_to_a_contractor_names_the_assessment_that_justifies_it(demo, register):
    service, _, disclosures, _ = demo
    vendors, assessments, _, gating = register
    by_seq = {a.seq: a for views in assessments.values() for a in views}
    checked = 0
    for d in disclosures:
        if not gated(vendors[d.recipient_id].party.kind if d.recipient_id in vendors else "other", d.basis):
            assert gating[d.seq] is None, d.seq
            continue
        if "override" in gating[d.seq]:
            continue
        justifying = by_seq[gating[d.seq]["assessment"]]
        assert justifying.party_id == d.recipient_id
        assert justifying.seq < d.seq  # recorded before the release
        assert justifying.outcome in ("approved", "conditional")
        assert justifying.assessed_on <= d.first_day and d.last_day <= justifying.valid_until, (d.seq, justifying)
        checked += 1
    assert checked >= 150


def test_the_approved_and_conditional_contractors(demo, register):
    service, *_ = demo
    vendors, assessments, due, _ = register
    approved = vendors["rakusai-marking"].latest_assessment
    assert approved.outcome == approved.derived_outcome == "approved" and not approved.conditions
    assert len(assessments["rakusai-marking"]) >= 3  # yearly reviews over the whole history
    today = service.today().isoformat()
    for pid in ("pontocho-pay", "blueheron-cloud"):
        latest = vendors[pid].latest_assessment
        assert latest.outcome == "conditional" and latest.conditions and latest.condition_deadline, pid
        assert latest.reasons  # the items partly met
    assert vendors["pontocho-pay"].latest_assessment.condition_deadline >= today
    overdue = vendors["blueheron-cloud"].latest_assessment
    assert overdue.condition_deadline < today
    assert any(i.kind == "conditions_overdue" and i.party_id == "blueheron-cloud" and i.seq == overdue.seq
               for i in due)
    # the assessor's override of a derived outcome, with its reason
    overridden = [a for views in assessments.values() for a in views if a.outcome != a.derived_outcome]
    assert overridden and all(a.override_reason for a in overridden)


def test_the_expired_contractor_received_releases_only_inside_its_validity(demo, register):
    service, _, disclosures, _ = demo
    vendors, assessments, due, gating = register
    latest = vendors["higashiyama-forensics"].latest_assessment
    assert latest.valid_until < service.today().isoformat()
    received = releases_to(disclosures, "higashiyama-forensics")
    assert received
    for d in received:
        assert latest.assessed_on <= d.first_day and d.last_day <= latest.valid_until
        assert gating[d.seq] == {"assessment": latest.seq}
    assert any(i.kind == "assessment_overdue" and i.party_id == "higashiyama-forensics" for i in due)


def test_the_rejected_contractor_received_nothing_after_the_rejection(demo, register):
    _, _, disclosures, _ = demo
    vendors, assessments, due, gating = register
    rejected = vendors["kiyamachi-support"].latest_assessment
    assert rejected.outcome == rejected.derived_outcome == "rejected"
    assert any("critical" in r for r in rejected.reasons)
    assert not rejected.conditions and rejected.condition_deadline is None
    received = releases_to(disclosures, "kiyamachi-support")
    assert len(received) >= 20  # before the rejection, under the earlier approvals
    assert all(d.last_day < rejected.assessed_on for d in received)
    earlier = {a.seq for a in assessments["kiyamachi-support"] if a.outcome == "approved"}
    assert {gating[d.seq]["assessment"] for d in received} <= earlier
    assert any(i.kind == "rejected" and i.party_id == "kiyamachi-support" for i in due)


def test_the_foreign_contractor_on_equivalent_measures(demo, register):
    service, _, disclosures, details = demo
    vendors, _, due, _ = register
    today = service.today()
    limit = service.ref.settings.equivalent_measures_check_days
    on_measures = [v for v in vendors.values() if v.register.equivalent_measures]
    assert on_measures and all(v.party.country != "JP" for v in on_measures)
    for vendor in on_measures:
        reg = vendor.register
        checked = date.fromisoformat(reg.measures_checked_on)
        assert checked <= today and (today - checked).days <= limit
        assert reg.version >= 2  # a new register version at each yearly check
        received = releases_to(disclosures, vendor.party.party_id)
        assert received and all(d.route == "equivalent_measures" for d in received)
        for d in received:
            last_check = date.fromisoformat(details[d.seq].route_evidence["last_checked_on"])
            assert 0 <= (date.fromisoformat(d.first_day) - last_check).days <= limit
        expected_due = checked + timedelta(days=limit) <= today + timedelta(days=service.ref.assessment.expiring_within_days)
        listed = any(i.kind == "equivalent_measures_check" and i.party_id == vendor.party.party_id for i in due)
        assert listed == expected_due


def test_the_subcontractor_has_its_engagement_approved(demo, register):
    _, _, disclosures, _ = demo
    vendors, _, _, gating = register
    subcontractors = [v for v in vendors.values() if v.party.kind == "subcontractor"]
    assert subcontractors
    for sub in subcontractors:
        assert sub.register.engagement_approved
        assert vendors[sub.register.works_for].party.kind == "contractor"
        received = releases_to(disclosures, sub.party.party_id)
        assert len(received) >= 24 and all("assessment" in gating[d.seq] for d in received)


def test_the_contract_that_ended(demo, register):
    service, _, disclosures, _ = demo
    vendors, _, due, _ = register
    ended = [v for v in vendors.values() if (v.register.contract or {}).get("ends_on")]
    assert [v.party.party_id for v in ended] == ["kitayama-dm"]
    ends_on = ended[0].register.contract["ends_on"]
    assert ends_on < service.today().isoformat()
    received = releases_to(disclosures, "kitayama-dm")
    assert received and all(d.last_day <= ends_on for d in received)
    assert not any(i.kind == "contract_ended" for i in due)  # no release after the end


def test_one_release_was_forced_with_an_override(demo, register):
    _, _, disclosures, _ = demo
    vendors, _, due, gating = register
    forced = {seq: g["override"] for seq, g in gating.items() if g and "override" in g}
    assert len(forced) == 1
    (seq, override), = forced.items()
    assert override["reason"] and override["failed"] == "no_assessment" and override["message"]
    assert [i.seq for i in due if i.kind == "override"] == [seq]
    assert vendors["kurama-survey"].latest_assessment is None


def test_the_due_list_has_something_of_every_kind_the_sample_holds(register):
    vendors, _, due, _ = register
    kinds = {i.kind for i in due}
    assert {"not_assessed", "rejected", "assessment_overdue", "assessment_expiring", "conditions_overdue",
            "certification_expiring", "override"} <= kinds
    assert all(i.party_id in vendors and i.detail for i in due)


def test_assessments_answer_every_checklist_item_and_were_recorded_on_their_day(demo, register):
    service, *_ = demo
    _, assessments, _, _ = register
    checklist = list(service.ref.checklist)
    views = [a for found in assessments.values() for a in found]
    assert len(views) >= 20
    for a in views:
        assert [answer["item"] for answer in a.answers] == checklist
        assert all(answer["note"] for answer in a.answers)
        assert service.local_time(a.recorded_at).date().isoformat() == a.assessed_on
        assert a.next_review <= a.valid_until


def test_the_demo_ledger_with_its_register_verifies(demo):
    service, *_ = demo
    kinds = Counter(service.entry(seq).kind for seq in range(1, service.counts()["entries"] + 1))
    assert kinds["assessment.recorded"] >= 20 and kinds["contractor.recorded"] >= 10
    report = service.verify()
    assert report.ok, report.problems


def _planned_facts(plan, ref):
    """The register and assessments of a plan as the gate sees them (seq = order recorded)."""
    registers: dict[str, dict] = {}
    assessed: dict[str, list[AssessmentFacts]] = {}
    checklist = list(ref.checklist)
    for seq, event in enumerate(plan.history, start=1):
        if event.kind == "register":
            registers[event.party] = dict(event.data)
            continue
        data = event.assessment_input(checklist)
        answers = [assessing.Answer(a["item"], a["answer"], a["note"]) for a in data["answers"]]
        outcome = data.get("override_outcome") or assessing.derive_outcome(answers, ref).outcome
        day = date.fromisoformat(data["assessed_on"])
        until, _ = assessing.validity(day, ref.settings.assessment_validity_months)
        assessed.setdefault(event.party, []).append(AssessmentFacts(seq, day, outcome, until, None))
    return registers, assessed


@pytest.mark.parametrize("year", [2025, 2026, 2028])
def test_the_planned_register_covers_every_release_on_every_day_of_a_year(year):
    """Without writing a ledger: on each day of a year, every planned release to a contractor passes the
    gate (or carries an override), and every contractor is in its planned state."""
    ref = load_reference_data()
    spec = load_demo_source()
    kinds = {p["id"]: p["kind"] for p in spec["party"]}
    for offset in range(366):
        today = date(year, 1, 1) + timedelta(days=offset)
        plan = plan_demo(spec, today)
        registers, assessed = _planned_facts(plan, ref)
        for number, row in enumerate(plan.rows):
            if not gated(kinds[row["recipient"]], row["basis"]):
                continue
            first = date.fromisoformat(row["first_day"])
            last = date.fromisoformat(row.get("last_day", row["first_day"]))
            result = gate(row["recipient"], kinds[row["recipient"]], first, last, registers.get(row["recipient"]),
                          assessed.get(row["recipient"], ()), len(plan.history) + 1 + number)
            assert result.ok != ("override_reason" in row), (today, plan.row_keys[number], result)
        states = {pid: status(assessed.get(pid, ()), today, ref.assessment.expiring_within_days)
                  for pid in EXPECTED_STATUS}
        assert states == EXPECTED_STATUS, today


def test_demo_register_source_uses_only_known_codes():
    ref = load_reference_data()
    spec = load_demo_source()
    contractors = {p["id"] for p in spec["party"] if p["kind"] in ("contractor", "subcontractor")}
    for entry in spec["register"]:
        assert entry["party"] in contractors
        assert set(entry["data_items"]) <= set(ref.data_items), entry["party"]
        assert set(entry["contract"]["clauses"]) <= set(CONTRACT_CLAUSES), entry["party"]
        assert {c["scheme"] for c in entry.get("certifications", [])} <= set(CERTIFICATIONS), entry["party"]
    for entry in spec["assessment"]:
        assert entry["party"] in contractors
        listed = [i for key in ("partly_met", "not_met", "not_applicable") for i in entry.get(key, [])]
        assert set(listed) | set(entry.get("notes", {})) <= set(ref.checklist), entry["party"]
