"""The contractor register, safeguard assessments and the release gate, through the service
(APPI Art. 25; PPC general guideline 3-4-4; GDPR Art. 28).

The ledger's clock stands at 2026-06-15 12:00 in Tokyo (tests/conftest.py). An assessment whose
validity has ended, or whose conditions are overdue, is recorded with the clock moved back to when
it was made (the service refuses a validity already in the past), then the clock is put back.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from freezegun import freeze_time

from ledger.chain.encoding import parse_leaf
from ledger.errors import ValidationError, ValidationErrors
from ledger.rules.disclosure import GateRefused, RecipientFacts
from ledger.rules.register import GATE_ARTICLE, AssessmentFacts, gate, gated
from ledger.service import ImportRejected, LedgerService
from ledger.storage import queries

TODAY = date(2026, 6, 15)
CLAUSES = ["security_measures", "audit_rights", "subcontracting_approval", "incident_notification",
           "return_or_deletion"]


# ---- helpers --------------------------------------------------------------------------------------------------

def new_party(service: LedgerService, name: str, kind: str = "contractor", country: str = "JP") -> str:
    return service.register_party({"name": name, "kind": kind, "country": country,
                                   "address": f"1 {name} Street, Kyoto", "representative": "Sato Hanako"}).party_id


def register(service: LedgerService, party_id: str, **fields) -> None:
    record = {"service": "mailing on the company's behalf", "data_items": ["name", "email"],
              "contract": {"reference": f"C-{party_id}", "signed_on": "2024-01-01", "clauses": CLAUSES}}
    record.update(fields)
    service.record_contractor(party_id, record)


def assess(service: LedgerService, party_id: str, assessed_on: str = "2026-01-10", **extra):
    """Record an assessment; answers default to all met, `answers` (item id -> answer) changes some."""
    changed = extra.pop("answers", {})
    answers = [{"item": item, "answer": changed.get(item, "met"), "note": "checked on site"}
               for item in service.ref.checklist]
    return service.record_assessment(party_id, {"assessor": "Imade Chiaki", "assessed_on": assessed_on,
                                                "answers": answers, **extra})


def assess_back_then(service: LedgerService, clock, party_id: str, assessed_on: str, **extra):
    """An assessment recorded on the day it was made, long ago (so its dates may since have passed)."""
    now = clock()
    clock.set(f"{assessed_on}T03:00:00Z")
    try:
        return assess(service, party_id, assessed_on, **extra)
    finally:
        clock.set(now)


def all_met_answers(service: LedgerService) -> list[dict]:
    """An answer for every checklist item, all met (like tests/conftest.py's helper of that name)."""
    return [{"item": item, "answer": "met", "note": "checked on site"} for item in service.ref.checklist]


def release(recipient: str, day: str = "2026-06-01", **fields) -> dict:
    row = {"recipient": recipient, "date": day, "subjects": ["student-1"], "data_items": ["name", "email"],
           "purpose": "business_communication", "basis": "outsourcing",
           "evidence": {"contract_reference": "C-1"}, "method": "sftp"}
    row.update(fields)
    return row


def entries(service: LedgerService) -> int:
    return service.counts()["entries"]


def refused(service: LedgerService, data: dict, failed: str, *, also: tuple[str, ...] = ()) -> GateRefused:
    """The gate refuses `data` naming `failed`, says what to do, and nothing is written."""
    before = entries(service)
    with pytest.raises(GateRefused) as caught:
        service.record_disclosure(data)
    exc = caught.value
    assert exc.failed == failed
    assert exc.field == "recipient" and exc.article == GATE_ARTICLE
    assert "force it with an override and a reason" in str(exc)
    for words in also:
        assert words in str(exc), str(exc)
    assert entries(service) == before
    return exc


def fields_of(exc: Exception) -> list[str]:
    if isinstance(exc, ValidationErrors):
        return [e.field for e in exc.errors]
    return [exc.field]


def gating_of(service: LedgerService, seq: int) -> dict | None:
    return parse_leaf(service.store.entry(seq).leaf)["body"]["gating"]


def row_of(service: LedgerService, seq: int):
    with service.store.session() as session:
        row, _ = queries.disclosure(session, seq)
    return row


@pytest.fixture
def svc(fresh_ledger, parties) -> LedgerService:
    """The fixture ledger: P001 (contractor), P002 (subcontractor) and P006 (US contractor) approved."""
    return fresh_ledger


# ---- the gate refuses each failing case ------------------------------------------------------------------------

def test_no_assessment(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    exc = refused(svc, release(pid), "no_assessment", also=("no safeguard assessment", f"vendor assess {pid}"))
    assert pid in str(exc)
    assert svc.verify().ok


def test_no_register_record(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    assess(svc, pid)
    refused(svc, release(pid), "not_registered", also=("no contract in the register", "record it first"))


def test_expired_the_validity_ended_before_the_release(svc, clock):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    old = assess_back_then(svc, clock, pid, "2024-01-05")
    assert old.valid_until == "2025-01-05"
    refused(svc, release(pid, "2026-06-01"), "expired",
            also=("valid until 2025-01-05", "reassess it", f"entry {old.seq}"))
    # A release inside the validity, recorded today, is justified by it.
    seq = svc.record_disclosure(release(pid, "2024-06-01"))
    assert gating_of(svc, seq) == {"assessment": old.seq}
    # So is a bulk record that ends on the last valid day, but not one day later.
    refused(svc, release(pid, "2024-12-01", last_day="2025-01-06", subjects=[], group_description="all members",
                         group_count=10), "expired")
    assert svc.verify().ok


def test_rejected(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    rejection = assess(svc, pid, "2026-05-01", answers={"TS-01": "not_met"})
    assert rejection.outcome == "rejected"
    refused(svc, release(pid, "2026-06-01"), "rejected",
            also=(f"entry {rejection.seq}", "do not release to it", "reassess it"))


def test_a_rejection_ends_an_earlier_approval_but_keeps_the_releases_before_it(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    approval = assess(svc, pid, "2026-01-10")
    before_rejection = svc.record_disclosure(release(pid, "2026-03-01"))
    rejection = assess(svc, pid, "2026-05-01", answers={"TS-01": "not_met"})
    # The approval is still valid until 2027, but the rejection made since ends it.
    refused(svc, release(pid, "2026-06-01"), "rejected", also=(f"entry {rejection.seq}",))
    refused(svc, release(pid, "2026-04-20", last_day="2026-05-10", subjects=[], group_description="all members",
                         group_count=10), "rejected")
    # A release before the rejection, recorded after it, is still justified by the approval.
    late_record = svc.record_disclosure(release(pid, "2026-04-01"))
    assert gating_of(svc, before_rejection) == gating_of(svc, late_record) == {"assessment": approval.seq}
    # Reassessed and approved once fixed: releases may go again.
    again = assess(svc, pid, "2026-06-10")
    assert gating_of(svc, svc.record_disclosure(release(pid, "2026-06-12"))) == {"assessment": again.seq}
    assert svc.verify().ok


def test_an_assessment_recorded_after_a_disclosure_cannot_justify_it(svc):
    """Correcting an earlier disclosure to a contractor whose only assessment was recorded later is refused,
    even though that assessment (back-dated) covers the release date."""
    first = svc.record_disclosure(release("P001", "2026-03-01"))
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    later = assess(svc, pid, "2026-01-10")
    before = entries(svc)
    with pytest.raises(GateRefused) as caught:
        svc.correct_disclosure(first, {"recipient": pid}, "sent by the other mailing house")
    assert caught.value.failed == "assessed_after"
    assert f"entry {later.seq}" in str(caught.value)
    assert "cannot justify a release recorded before it" in str(caught.value)
    assert entries(svc) == before
    # A new release to it is fine: the assessment was recorded before.
    assert gating_of(svc, svc.record_disclosure(release(pid, "2026-03-01"))) == {"assessment": later.seq}
    assert svc.verify().ok


def test_the_recipients_kept_gate_answers_are_the_pure_gates():
    """The answers a recipient keeps for an import are per pair of dates, and never stand for a
    release recorded before one of its assessments."""
    facts = RecipientFacts("P001", "contractor", "JP", {"engagement_approved": True, "contract": {}},
                           (AssessmentFacts(20, date(2026, 1, 1), "approved", date(2027, 1, 1), None),))
    inside, outside = (date(2026, 3, 1), date(2026, 3, 1)), (date(2027, 3, 1), date(2027, 3, 1))
    for recorded_before in (30, 31, 10, 31):
        for first, last in (inside, outside, inside):
            assert facts.gate(first, last, recorded_before) == gate(
                "P001", "contractor", first, last, facts.register, facts.assessments, recorded_before)
    assert facts.gate(*inside, 10).failed == "assessed_after"
    assert facts.gate(*inside, 31).ok and facts.gate(*outside, 31).failed == "expired"


def test_assessed_after_in_the_pure_gate():
    facts = [AssessmentFacts(20, date(2026, 1, 1), "approved", date(2027, 1, 1), None)]
    register_record = {"engagement_approved": False, "contract": {"ends_on": None}}
    result = gate("P9", "contractor", date(2026, 3, 1), date(2026, 3, 1), register_record, facts, recorded_before=15)
    assert (result.ok, result.failed) == (False, "assessed_after")
    assert gate("P9", "contractor", date(2026, 3, 1), date(2026, 3, 1), register_record, facts, 21).assessment_seq == 20


def test_a_release_dated_before_the_assessment_is_not_covered(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    assess(svc, pid, "2026-05-01")
    refused(svc, release(pid, "2026-04-30"), "not_covered", also=("covers 2026-04-30..2026-04-30",))


def test_subcontractor_not_approved(svc, parties):
    pid = new_party(svc, "Uji Scanning K.K.", kind="subcontractor")
    register(svc, pid, works_for=parties.contractor.party_id, engagement_approved=False)
    assess(svc, pid)
    refused(svc, release(pid), "subcontractor_not_approved",
            also=("subcontractor", "has not been approved", "approve it in the register first"))
    register(svc, pid, works_for=parties.contractor.party_id, engagement_approved=True,
             reason="engagement approved in writing")
    assert svc.record_disclosure(release(pid))


def test_contract_ended(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid, contract={"reference": "C-9", "signed_on": "2025-07-01", "ends_on": "2026-03-31",
                                 "clauses": CLAUSES})
    assess(svc, pid, "2025-07-01")
    refused(svc, release(pid, "2026-06-01"), "contract_ended",
            also=("ended on 2026-03-31", "renew it", "record the new contract"))
    assert svc.record_disclosure(release(pid, "2026-03-31"))  # the last day of the contract


def test_check_disclosure_reports_the_refusal_without_writing(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    before = entries(svc)
    problems = svc.check_disclosure(release(pid))
    assert len(problems) == 1 and isinstance(problems[0], GateRefused) and problems[0].failed == "no_assessment"
    assert svc.check_disclosure(release("P001")) == []
    assert entries(svc) == before


# ---- what is gated -------------------------------------------------------------------------------------------

def test_a_contractor_is_gated_on_any_basis(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    consent = release(pid, basis="consent", purpose="affiliate_provision_with_consent",
                      evidence={"consent_reference": "form 7", "consent_date": "2026-05-01"})
    refused(svc, consent, "no_assessment")


def test_outsourcing_is_gated_and_only_for_contractors(svc, parties):
    assert gated("contractor", "consent") and gated("subcontractor", "law")
    assert gated("third_party", "outsourcing")  # any outsourcing release passes the gate
    assert not gated("third_party", "consent")
    before = entries(svc)
    with pytest.raises(ValidationError) as caught:
        svc.record_disclosure(release(parties.third_party.party_id))
    assert caught.value.field == "basis" and "only for a contractor or subcontractor" in caught.value.rule
    assert entries(svc) == before


def test_a_release_to_a_third_party_records_no_gating(svc, parties):
    seq = svc.record_disclosure(release(parties.third_party.party_id, basis="consent",
                                        purpose="affiliate_provision_with_consent",
                                        evidence={"consent_reference": "form 7", "consent_date": "2026-05-01"}))
    assert gating_of(svc, seq) is None
    row = row_of(svc, seq)
    assert row.assessment_seq is None and not row.override


# ---- accepted and forced releases ----------------------------------------------------------------------------

def test_an_accepted_release_records_the_justifying_assessment(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    old = assess(svc, pid, "2025-09-01")
    newer = assess(svc, pid, "2026-05-01")
    seq = svc.record_disclosure(release(pid, "2026-06-01"))
    assert gating_of(svc, seq) == {"assessment": newer.seq}  # the latest that covers it
    assert svc.disclosure(seq).entry.body["gating"] == {"assessment": newer.seq}
    row = row_of(svc, seq)
    assert row.assessment_seq == newer.seq and not row.override
    # A release only the older one covers names it.
    assert gating_of(svc, svc.record_disclosure(release(pid, "2026-02-01"))) == {"assessment": old.seq}


def test_a_conditional_assessment_opens_the_gate(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    conditional = assess(svc, pid, "2026-05-01", answers={"TS-05": "partly_met"})
    assert conditional.outcome == "conditional"
    seq = svc.record_disclosure(release(pid))
    assert gating_of(svc, seq) == {"assessment": conditional.seq}


def test_a_forced_release_is_recorded_with_its_override(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    reason = "Urgent mailing about a class cancellation; the assessment is booked for next week"
    seq = svc.record_disclosure(release(pid, override_reason=reason))
    gating = gating_of(svc, seq)
    assert set(gating) == {"override"}
    assert gating["override"]["reason"] == reason
    assert gating["override"]["failed"] == "no_assessment"
    assert "no safeguard assessment" in gating["override"]["message"]
    row = row_of(svc, seq)
    assert row.override and row.assessment_seq is None
    due = [i for i in svc.vendor_due() if i.kind == "override"]
    assert [(i.seq, i.party_id) for i in due] == [(seq, pid)]
    # A voided forced release is no longer listed.
    svc.void_disclosure(seq, "entered twice")
    assert not [i for i in svc.vendor_due() if i.kind == "override"]
    assert svc.verify().ok


@pytest.mark.parametrize("blank", ["", "   "])
def test_an_override_needs_a_written_reason(svc, blank):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    refused(svc, release(pid, override_reason=blank), "no_assessment")


def test_an_override_when_the_gate_passes_is_refused(svc, parties):
    before = entries(svc)
    with pytest.raises(ValidationError) as caught:
        svc.record_disclosure(release("P001", override_reason="just in case"))
    assert caught.value.field == "override_reason" and "is not needed" in caught.value.rule
    with pytest.raises(ValidationError) as caught:
        svc.record_disclosure(release(parties.third_party.party_id, basis="consent",
                                      purpose="affiliate_provision_with_consent", override_reason="just in case",
                                      evidence={"consent_reference": "form 7", "consent_date": "2026-05-01"}))
    assert caught.value.field == "override_reason"
    assert entries(svc) == before


# ---- imports ---------------------------------------------------------------------------------------------------

def test_imports_are_gated_the_same_way(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    rows = [release("P001", "2026-05-01"), release(pid, "2026-05-02"), release("P001", "2026-05-03")]
    before = entries(svc)
    with pytest.raises(ImportRejected) as caught:
        svc.import_disclosures(rows, source="batch.csv")
    assert [(n, e.field) for n, e in caught.value.problems] == [(2, "recipient")]
    assert "no safeguard assessment" in caught.value.problems[0][1].rule
    assert entries(svc) == before

    rows[1]["override_reason"] = "Mailing house engaged in a hurry; assessment booked"
    seqs = svc.import_disclosures(rows, source="batch.csv")
    approval = svc.assessments("P001")[-1].seq
    assert [gating_of(svc, s) for s in (seqs[0], seqs[2])] == [{"assessment": approval}] * 2
    assert gating_of(svc, seqs[1])["override"]["failed"] == "no_assessment"
    assert svc.verify().ok


def test_an_import_counts_only_assessments_recorded_before_it(svc, clock):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid)
    old = assess_back_then(svc, clock, pid, "2024-01-05")
    rows = [release(pid, "2024-03-01"), release(pid, "2026-06-01")]
    with pytest.raises(ImportRejected) as caught:
        svc.import_disclosures(rows)
    assert [n for n, _ in caught.value.problems] == [2]
    assert "valid until 2025-01-05" in caught.value.problems[0][1].rule
    assert svc.import_disclosures(rows[:1]) and gating_of(svc, entries(svc)) == {"assessment": old.seq}


# ---- assessments: the outcome rule through the service ----------------------------------------------------------

@pytest.mark.parametrize("answers, outcome", [
    ({}, "approved"),
    ({"FE-01": "not_applicable", "FE-02": "not_applicable"}, "approved"),
    ({"TS-05": "partly_met"}, "conditional"),        # non-critical partly met
    ({"TS-05": "not_met"}, "conditional"),           # non-critical not met
    ({"TS-01": "partly_met"}, "conditional"),        # critical partly met
    ({"TS-01": "not_met"}, "rejected"),              # critical not met
    ({"TS-01": "not_met", "TS-05": "partly_met"}, "rejected"),
])
def test_the_outcome_is_derived_on_every_branch(svc, answers, outcome):
    pid = new_party(svc, "Gion Mailing K.K.")
    view = assess(svc, pid, "2026-06-01", answers=answers)
    assert view.outcome == view.derived_outcome == outcome
    assert view.override_reason is None
    assert bool(view.reasons) == (outcome != "approved")
    decisive = {item for item, a in answers.items()
                if a == "not_met" and svc.ref.checklist[item].critical
                or outcome == "conditional" and a in ("partly_met", "not_met")}
    assert {reason.split()[0] for reason in view.reasons} == decisive
    body = svc.entry(view.seq).body
    assert body["outcome"] == outcome and body["override"] is None
    assert 0 <= body["score"] <= 100 and (body["score"] == 100) == (outcome == "approved")
    assert svc.assessments(pid)[-1] == view


def test_a_critical_item_not_applicable_needs_a_note(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    answers = all_met_answers(svc)
    for answer in answers:
        if answer["item"] == "CT-03":
            answer.update(answer="not_applicable", note=None)
    before = entries(svc)
    with pytest.raises(ValidationError) as caught:
        svc.record_assessment(pid, {"assessed_on": "2026-06-01", "answers": answers})
    assert caught.value.field == "answers.CT-03.note"
    assert entries(svc) == before


def test_an_override_of_the_outcome_is_kept_with_its_reason(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    reason = "The missing restore test was run on 2026-06-03; report attached to the file"
    view = assess(svc, pid, "2026-06-01", answers={"TS-05": "partly_met"}, override_outcome="approved",
                  override_reason=reason)
    assert (view.derived_outcome, view.outcome, view.override_reason) == ("conditional", "approved", reason)
    assert not view.conditions and view.condition_deadline is None
    assert svc.entry(view.seq).body["override"] == {"reason": reason}
    assert svc.vendors()[-1].status == "approved"


@pytest.mark.parametrize("override, field", [
    ({"override_outcome": "approved"}, "override_reason"),
    ({"override_outcome": "approved", "override_reason": "  "}, "override_reason"),
    ({"override_reason": "we trust them"}, "override_outcome"),
    ({"override_outcome": "conditional", "override_reason": "same as derived"}, "override_outcome"),
    ({"override_outcome": "maybe", "override_reason": "unsure"}, "override_outcome"),
])
def test_an_override_only_with_a_reason_and_a_different_outcome(svc, override, field):
    pid = new_party(svc, "Gion Mailing K.K.")
    before = entries(svc)
    with pytest.raises((ValidationError, ValidationErrors)) as caught:
        assess(svc, pid, "2026-06-01", answers={"TS-05": "partly_met"}, **override)
    assert field in fields_of(caught.value)
    assert entries(svc) == before


def test_conditions_default_to_the_derived_reasons_and_the_deadline_to_the_checklist(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    view = assess(svc, pid, "2026-06-01", answers={"TS-05": "partly_met", "PS-02": "not_met"})
    assert view.outcome == "conditional"
    assert view.conditions == view.reasons and len(view.conditions) == 2
    days = svc.ref.assessment.condition_deadline_days
    assert view.condition_deadline == (date(2026, 6, 1) + timedelta(days=days)).isoformat()
    given = assess(svc, pid, "2026-06-10", answers={"TS-05": "partly_met"},
                   conditions=["Run a restore test and send the report"], condition_deadline="2026-07-31")
    assert given.conditions == ("Run a restore test and send the report",)
    assert given.condition_deadline == "2026-07-31"


def test_conditions_on_an_approved_outcome_or_a_past_deadline_are_refused(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    before = entries(svc)
    with pytest.raises(ValidationError) as caught:
        assess(svc, pid, "2026-06-01", conditions=["something"])
    assert caught.value.field == "conditions"
    with pytest.raises(ValidationError) as caught:
        assess(svc, pid, "2026-06-01", answers={"TS-05": "partly_met"}, condition_deadline="2026-06-14")
    assert caught.value.field == "condition_deadline" and "in the past" in caught.value.rule
    assert entries(svc) == before


# ---- validity and next review ---------------------------------------------------------------------------------

@pytest.mark.parametrize("now, valid_until, next_review", [
    ("2026-03-31 03:00:00", "2027-03-31", "2027-03-01"),
    ("2026-08-31 03:00:00", "2027-08-31", "2027-08-01"),
    ("2024-02-29 03:00:00", "2025-02-28", "2025-01-29"),
    ("2026-12-31 16:00:00", "2028-01-01", "2027-12-02"),  # already 1 January 2027 in Tokyo
])
def test_validity_and_next_review_with_freezegun(tmp_path, now, valid_until, next_review):
    with freeze_time(now):
        with LedgerService.open(tmp_path / "frozen.db", create=True, operator="t") as service:
            pid = new_party(service, "Gion Mailing K.K.")
            view = service.record_assessment(pid, {"answers": all_met_answers(service)})  # assessed today
            assert view.assessed_on == service.today().isoformat()
            assert (view.valid_until, view.next_review) == (valid_until, next_review)
            assert service.vendors()[0].status == "approved"


def test_an_explicit_validity_moves_the_next_review(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    view = assess(svc, pid, "2026-06-01", valid_until="2026-12-31")
    lead = svc.ref.assessment.expiring_within_days
    assert view.valid_until == "2026-12-31"
    assert view.next_review == (date(2026, 12, 31) - timedelta(days=lead)).isoformat()
    short = assess(svc, pid, "2026-06-10", valid_until="2026-06-20")
    assert short.next_review == "2026-06-10"  # never before the day assessed


def test_the_status_follows_the_clock(svc, clock):
    pid = new_party(svc, "Gion Mailing K.K.")
    assess(svc, pid, "2026-06-01")  # valid until 2027-06-01

    def status() -> str:
        return next(v.status for v in svc.vendors() if v.party.party_id == pid)

    assert status() == "approved"
    clock.set("2027-05-02T03:00:00Z")   # 30 days before the end
    assert status() == "expiring"
    clock.set("2027-06-01T03:00:00Z")   # the last valid day
    assert status() == "expiring"
    clock.set("2027-06-02T03:00:00Z")
    assert status() == "expired"
    assert any(i.kind == "assessment_overdue" and i.party_id == pid for i in svc.vendor_due())


# ---- evidence files -----------------------------------------------------------------------------------------------

def test_an_evidence_file_is_hashed_and_kept_by_its_sha256(svc, tmp_path):
    pid = new_party(svc, "Gion Mailing K.K.")
    content = b"%PDF-1.7 penetration test summary, Gion Mailing, May 2026\n"
    source = tmp_path / "pentest-2026-05.pdf"
    source.write_bytes(content)
    digest = hashlib.sha256(content).hexdigest()
    answers = all_met_answers(svc)
    answers[0]["evidence_files"] = [str(source)]
    view = svc.record_assessment(pid, {"assessed_on": "2026-06-01", "answers": answers})
    body = svc.entry(view.seq).body
    assert body["answers"][0]["evidence_files"] == [{"name": "pentest-2026-05.pdf", "sha256": digest}]
    assert view.answers[0]["evidence_files"] == [{"name": "pentest-2026-05.pdf", "sha256": digest}]
    kept = svc.evidence_folder / digest
    assert kept.read_bytes() == content
    assert svc.evidence_folder == svc.path.with_name(svc.path.name + ".evidence")
    assert all(f.name == digest for f in svc.evidence_folder.iterdir())
    assert svc.verify().ok


# ---- the due list ---------------------------------------------------------------------------------------------

@pytest.fixture
def due_ledger(svc, clock, parties):
    """A ledger with one contractor in every case the due list reports; returns party ids by case."""
    ids = {}
    ids["expiring"] = pid = new_party(svc, "Expiring Mail K.K.")
    register(svc, pid)
    assess(svc, pid, "2026-06-01", valid_until="2026-06-25")

    ids["overdue"] = pid = new_party(svc, "Overdue Print K.K.")
    register(svc, pid)
    assess_back_then(svc, clock, pid, "2025-05-01")   # valid until 2026-05-01

    ids["conditions"] = pid = new_party(svc, "Late Fix K.K.")
    register(svc, pid)
    assess_back_then(svc, clock, pid, "2026-01-10", answers={"TS-05": "partly_met"},
                     conditions=["Send the restore test report"], condition_deadline="2026-03-31")

    ids["certification"] = pid = new_party(svc, "Cert Lapse K.K.")
    register(svc, pid, certifications=[{"scheme": "privacymark", "number": "1234(01)", "expires_on": "2026-07-01"},
                                       {"scheme": "iso27001", "expires_on": "2026-05-31"},
                                       {"scheme": "soc2", "expires_on": "2027-12-31"}])
    assess(svc, pid)

    ids["foreign"] = pid = new_party(svc, "Harbor Data Inc.", country="US")
    register(svc, pid, equivalent_measures=True, measures_checked_on="2025-06-30")  # next check 2026-06-30
    assess(svc, pid)

    ids["contract"] = pid = new_party(svc, "Ended Post K.K.")
    register(svc, pid)
    assess(svc, pid)
    svc.record_disclosure(release(pid, "2026-06-05"))
    register(svc, pid, contract={"reference": "C-E", "signed_on": "2024-01-01", "ends_on": "2026-05-31",
                                 "clauses": CLAUSES}, reason="the contract ended on 31 May; recorded late")

    ids["override"] = pid = new_party(svc, "Forced Survey K.K.")
    register(svc, pid)
    ids["forced_seq"] = svc.record_disclosure(release(pid, override_reason="urgent survey; assessment booked"))

    ids["rejected"] = pid = new_party(svc, "Shared Login Support K.K.")
    register(svc, pid)
    assess(svc, pid, answers={"TS-01": "not_met"})
    return ids


def test_the_due_list_on_a_ledger_with_every_case(svc, due_ledger, parties):
    ids = due_ledger
    due = svc.vendor_due()
    found = {(i.kind, i.party_id) for i in due}
    expected = {
        ("assessment_expiring", ids["expiring"]), ("assessment_overdue", ids["overdue"]),
        ("conditions_overdue", ids["conditions"]), ("certification_expiring", ids["certification"]),
        ("equivalent_measures_check", ids["foreign"]), ("contract_ended", ids["contract"]),
        ("override", ids["override"]), ("not_assessed", ids["override"]), ("rejected", ids["rejected"]),
        # the fixture's US contractor, whose measures were last checked in 2019
        ("equivalent_measures_check", parties.us_contractor.party_id),
    }
    assert found == expected, found ^ expected
    by_kind = {(i.kind, i.party_id): i for i in due}
    assert by_kind[("assessment_expiring", ids["expiring"])].due_on == "2026-06-25"
    assert by_kind[("assessment_overdue", ids["overdue"])].due_on == "2026-05-01"
    conditions = by_kind[("conditions_overdue", ids["conditions"])]
    assert conditions.due_on == "2026-03-31" and "Send the restore test report" in conditions.detail
    certs = sorted((i.due_on, i.detail) for i in due if i.kind == "certification_expiring")
    assert [d for d, _ in certs] == ["2026-05-31", "2026-07-01"]
    assert "expired on 2026-05-31" in certs[0][1] and "expires on 2026-07-01" in certs[1][1]
    assert by_kind[("equivalent_measures_check", ids["foreign"])].due_on == "2026-06-30"
    ended = by_kind[("contract_ended", ids["contract"])]
    assert ended.due_on == "2026-05-31" and "releases continued until 2026-06-05" in ended.detail
    assert by_kind[("override", ids["override"])].seq == ids["forced_seq"]
    assert all(i.detail and i.party_name for i in due)
    statuses = {v.party.party_id: v.status for v in svc.vendors()}
    assert statuses[ids["expiring"]] == "expiring" and statuses[ids["overdue"]] == "expired"
    assert statuses[ids["conditions"]] == "conditional" and statuses[ids["rejected"]] == "rejected"
    assert statuses[ids["override"]] == "not_assessed" and statuses["P001"] == "approved"
    assert svc.verify().ok


def test_the_due_list_horizon(svc, due_ledger):
    ids = due_ledger
    near = {(i.kind, i.party_id) for i in svc.vendor_due(within_days=5)}
    assert ("assessment_expiring", ids["expiring"]) not in near           # 10 days away
    assert ("equivalent_measures_check", ids["foreign"]) not in near      # 15 days away
    assert ("certification_expiring", ids["certification"]) in near       # one has expired
    assert ("assessment_overdue", ids["overdue"]) in near
    far = {(i.kind, i.party_id) for i in svc.vendor_due(within_days=800)}
    assert ("certification_expiring", "P001") not in far  # no certification on file
    with pytest.raises(ValidationError) as caught:
        svc.vendor_due(within_days=-1)
    assert caught.value.field == "within"


# ---- register validation -------------------------------------------------------------------------------------

def _refused_register(service, party_id, record) -> list[str]:
    before = entries(service)
    with pytest.raises((ValidationError, ValidationErrors)) as caught:
        service.record_contractor(party_id, record)
    assert entries(service) == before
    return fields_of(caught.value)


def base_record(**fields) -> dict:
    record = {"service": "mailing", "data_items": ["name"],
              "contract": {"reference": "C-1", "signed_on": "2025-01-01", "clauses": ["security_measures"]}}
    record.update(fields)
    return record


def test_register_validation(svc, parties):
    pid = new_party(svc, "Gion Mailing K.K.")
    sub = new_party(svc, "Uji Scanning K.K.", kind="subcontractor")
    assert _refused_register(svc, pid, base_record(contract={"reference": "C-1", "signed_on": "2025-01-01",
                                                             "clauses": ["security_measures", "free_lunch"]})) \
        == ["contract.clauses.free_lunch"]
    assert _refused_register(svc, pid, base_record(certifications=[{"scheme": "iso9001", "expires_on": "2027-01-01"}])) \
        == ["certifications[1].scheme"]
    assert _refused_register(svc, sub, base_record()) == ["works_for"]
    assert _refused_register(svc, sub, base_record(works_for=parties.third_party.party_id)) == ["works_for"]
    assert _refused_register(svc, sub, base_record(works_for="P999")) == ["works_for"]
    assert _refused_register(svc, pid, base_record(works_for="P001")) == ["works_for"]
    assert _refused_register(svc, pid, base_record(data_items=["shoe_size"])) == ["data_items"]
    assert _refused_register(svc, pid, base_record(equivalent_measures=True)) == ["measures_checked_on"]
    assert _refused_register(svc, pid, base_record(colour="blue")) == ["colour"]
    assert _refused_register(svc, pid, base_record(contract={"reference": "C-1", "signed_on": "2026-07-01"})) \
        == ["contract.signed_on"]
    assert _refused_register(svc, parties.third_party.party_id, base_record()) == ["party"]
    # Several problems are reported together.
    assert set(_refused_register(svc, sub, base_record(data_items=["shoe_size"], colour="blue"))) \
        == {"colour", "data_items", "works_for"}
    record = svc.record_contractor(sub, base_record(works_for="P001", engagement_approved=True))
    assert (record.works_for, record.engagement_approved, record.version) == ("P001", True, 1)
    assert svc.verify().ok


def test_a_register_record_reads_back_and_keeps_its_versions(svc):
    pid = new_party(svc, "Gion Mailing K.K.")
    register(svc, pid, certifications=[{"scheme": "privacymark", "number": "1(01)", "expires_on": "2027-03-31"}])
    register(svc, pid, reason="contract renewed", contract={"reference": "C-2", "signed_on": "2026-04-01",
                                                            "ends_on": "2028-03-31", "clauses": CLAUSES[:2]})
    record = svc.contractor(pid)
    assert record.version == 2 and record.contract["reference"] == "C-2"
    assert record.contract["clauses"]["audit_rights"] and not record.contract["clauses"]["incident_notification"]
    assert record.certifications == ()
    assert svc.entry(record.version_seq).body["reason"] == "contract renewed"


# ---- bad assessment input ------------------------------------------------------------------------------------

def _refused_assessment(service, party_id, data) -> Exception:
    before = entries(service)
    with pytest.raises((ValidationError, ValidationErrors)) as caught:
        service.record_assessment(party_id, data)
    assert entries(service) == before
    assert not service.evidence_folder.exists()
    return caught.value


def test_bad_assessment_input_changes_nothing(svc, tmp_path, parties):
    pid = new_party(svc, "Gion Mailing K.K.")
    answers = all_met_answers(svc)

    unknown = _refused_assessment(svc, pid, {"answers": answers + [{"item": "XX-99", "answer": "met"}]})
    assert fields_of(unknown) == ["answers.XX-99"] and "not in the checklist" in str(unknown)

    missing = _refused_assessment(svc, pid, {"answers": [a for a in answers if a["item"] != "OR-03"]})
    assert fields_of(missing) == ["answers.OR-03"] and "critical and must be answered" in str(missing)

    past = _refused_assessment(svc, pid, {"assessed_on": "2025-01-01", "valid_until": "2026-06-14",
                                          "answers": answers})
    assert fields_of(past) == ["valid_until"] and "in the past" in str(past)

    old = _refused_assessment(svc, pid, {"assessed_on": "2025-01-01", "answers": answers})  # default validity
    assert fields_of(old) == ["valid_until"]

    with_file = [dict(a) for a in answers]
    with_file[0]["evidence_files"] = [str(tmp_path / "no-such-report.pdf")]
    nofile = _refused_assessment(svc, pid, {"answers": with_file})
    assert fields_of(nofile) == [f"answers.{answers[0]['item']}.evidence_files"]
    assert "does not exist" in str(nofile) and "no-such-report.pdf" in str(nofile)

    bad_answer = _refused_assessment(svc, pid, {"answers": [dict(a, answer="yes") if a["item"] == "TS-02" else a
                                                            for a in answers]})
    assert fields_of(bad_answer) == ["answers.TS-02"]

    future = _refused_assessment(svc, pid, {"assessed_on": "2026-06-16", "answers": answers})
    assert fields_of(future) == ["assessed_on"]

    assert fields_of(_refused_assessment(svc, pid, {"answers": answers, "score": 100})) == ["score"]
    assert fields_of(_refused_assessment(svc, parties.third_party.party_id, {"answers": answers})) == ["party"]

    several = _refused_assessment(svc, pid, {"assessed_on": "2026-13-01", "answers": answers[1:]})
    assert {"assessed_on", f"answers.{answers[0]['item']}"} <= set(fields_of(several))
    assert svc.assessments(pid) == []
    assert svc.verify().ok
