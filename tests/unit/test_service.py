"""LedgerService: parties, disclosures, corrections, voids, erasure, reads, import, and what
the leaves may never hold."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest

from ledger import importer
from ledger.chain.encoding import parse_leaf
from ledger.domain import DisclosureFilter
from ledger.errors import NotFoundError, ValidationError, ValidationErrors
from ledger.service import ERASED, ImportRejected, LedgerService

EARLIER = "2026-04-20"
STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")


def consent(recipient, /, **changes) -> dict:
    data = {
        "recipient": getattr(recipient, "party_id", recipient),
        "date": "2026-06-10",
        "subjects": ["KY-STU-2026-0042"],
        "data_items": ["name", "email", "grade_records"],
        "purpose": "affiliate_provision_with_consent",
        "basis": "consent",
        "evidence": {"consent_reference": "Consent form C-0042", "consent_date": EARLIER},
        "method": "sftp",
        "notes": "Sent with the spring term results.",
    }
    data.update(changes)
    return data


def outsourcing(recipient, /, **changes) -> dict:
    data = consent(recipient, basis="outsourcing", purpose="mail_magazine_dm_notifications",
                   evidence={"contract_reference": "DPA-2025-07"})
    data.update(changes)
    return data


def unchanged_after(service: LedgerService, exc_types, fn, *args, **kwargs):
    """Call fn, which must raise one of exc_types, and check the ledger did not change."""
    before = service.counts()
    with pytest.raises(exc_types) as info:
        fn(*args, **kwargs)
    assert service.counts() == before
    return info.value


def fields_of(exc) -> set[str]:
    return {e.field for e in exc.errors} if isinstance(exc, ValidationErrors) else {exc.field}


# ---- parties ------------------------------------------------------------------------------


def test_register_party(fresh_ledger, parties):
    party = fresh_ledger.party(parties.contractor.party_id)
    assert party == parties.contractor
    assert (party.name, party.kind, party.country, party.representative, party.version) == (
        "Kyoto Mail Delivery Co., Ltd.", "contractor", "JP", "Suzuki Ichiro", 1)
    assert party.contact == "privacy@kyoto-mail.example.jp"
    entry = fresh_ledger.entry(party.registered_seq)
    assert entry.kind == "party.registered"
    assert entry.body["party_id"] == party.party_id
    assert len(fresh_ledger.parties()) == 9
    assert fresh_ledger.counts()["parties"] == 9


def test_each_registration_is_one_entry(fresh_ledger):
    before = fresh_ledger.counts()["entries"]
    party = fresh_ledger.register_party({"name": "Gion Printing", "kind": "contractor", "country": "jp",
                                         "address": "Gion, Kyoto", "representative": "Mori Taro"})
    assert fresh_ledger.counts()["entries"] == before + 1 == party.registered_seq
    assert party.country == "JP"


def test_change_party_records_a_new_version(fresh_ledger, parties):
    pid = parties.contractor.party_id
    before = fresh_ledger.counts()["entries"]
    changed = fresh_ledger.change_party(pid, {"address": "7 Horikawa-dori, Kyoto", "representative": "Sato Mai"},
                                        "Moved office; new president")
    assert fresh_ledger.counts()["entries"] == before + 1
    assert changed.version == 2
    assert changed.version_seq == before + 1
    assert (changed.address, changed.representative, changed.name) == (
        "7 Horikawa-dori, Kyoto", "Sato Mai", "Kyoto Mail Delivery Co., Ltd.")
    assert fresh_ledger.party(pid) == changed
    history = fresh_ledger.party_history(pid)
    assert [h.version for h in history] == [1, 2]
    assert history[0].address == parties.contractor.address and history[0].reason is None
    assert history[1].address == "7 Horikawa-dori, Kyoto"
    assert history[1].reason == "Moved office; new president"
    assert fresh_ledger.entry(changed.version_seq).kind == "party.changed"


def test_change_party_by_name(fresh_ledger, parties):
    changed = fresh_ledger.change_party("kyoto mail delivery co., ltd.", {"contact": "dpo@kyoto-mail.example.jp"},
                                        "New contact")
    assert changed.party_id == parties.contractor.party_id and changed.version == 2


@pytest.mark.parametrize("changes", [
    {"address": "12 Karasuma-dori, Shimogyo-ku, Kyoto 600-8008"},
    {"country": "jp"},
    {"name": "  Kyoto Mail Delivery Co., Ltd.  "},
])
def test_a_change_with_no_difference_is_refused(fresh_ledger, parties, changes):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.change_party,
                            parties.contractor.party_id, changes, "No change really")
    assert error.field == "changes"
    assert fresh_ledger.party(parties.contractor.party_id).version == 1


def test_a_change_to_another_partys_name_is_refused(fresh_ledger, parties):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.change_party,
                            parties.contractor.party_id, {"name": parties.affiliate.name}, "rename")
    assert error.field == "name"
    assert parties.affiliate.party_id in error.rule


def test_party_id_cannot_be_changed(fresh_ledger, parties):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.change_party,
                            parties.contractor.party_id, {"party_id": "X1"}, "rename")
    assert error.field == "party_id"


def test_change_needs_a_reason(fresh_ledger, parties):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.change_party,
                            parties.contractor.party_id, {"address": "Elsewhere"}, "  ")
    assert error.field == "reason"


def test_change_of_an_unknown_party_is_refused(fresh_ledger, parties):
    unchanged_after(fresh_ledger, NotFoundError, fresh_ledger.change_party, "P999", {"address": "x"}, "why")
    with pytest.raises(NotFoundError):
        fresh_ledger.party_history("P999")
    with pytest.raises(NotFoundError):
        fresh_ledger.party("P999")


@pytest.mark.parametrize("name", ["Kyoto Mail Delivery Co., Ltd.", "KYOTO MAIL DELIVERY CO., LTD.",
                                  " Kyoto Mail Delivery Co., Ltd. "])
def test_a_duplicate_name_is_refused(fresh_ledger, parties, name):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "name": name, "kind": "contractor", "country": "JP", "address": "Elsewhere", "representative": "X"})
    assert error.field == "name"
    assert parties.contractor.party_id in error.rule


def test_unknown_kind_is_refused_with_the_valid_kinds(fresh_ledger):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "name": "Somebody", "kind": "processor", "country": "JP", "address": "Kyoto", "representative": "X"})
    assert error.field == "kind"
    for kind in fresh_ledger.ref.party_kinds:
        assert kind in error.rule


@pytest.mark.parametrize("country", ["XX", "JPN", "Japan", "U"])
def test_unknown_country_is_refused(fresh_ledger, country):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "name": "Somebody", "kind": "contractor", "country": country, "address": "Kyoto", "representative": "X"})
    assert error.field == "country"
    assert "ISO 3166-1" in error.rule


@pytest.mark.parametrize("kind", ["contractor", "subcontractor", "third_party", "affiliate", "joint_user",
                                  "successor"])
def test_a_company_needs_a_representative(fresh_ledger, kind):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "name": "Somebody", "kind": kind, "country": "JP", "address": "Kyoto"})
    assert error.field == "representative"
    assert error.article == "PPC Rule 20(1)"


def test_a_government_body_needs_no_representative(fresh_ledger, parties):
    assert parties.government.representative is None
    assert parties.government.kind == "government_body"


def test_dropping_the_representative_of_a_company_is_refused(fresh_ledger, parties):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.change_party,
                            parties.third_party.party_id, {"representative": None}, "left")
    assert error.field == "representative"


@pytest.mark.parametrize("missing", ["name", "kind", "country", "address"])
def test_a_party_needs_its_fields(fresh_ledger, missing):
    data = {"name": "Somebody", "kind": "contractor", "country": "JP", "address": "Kyoto", "representative": "X"}
    data[missing] = ""
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, data)
    assert error.field == missing


def test_several_party_errors_are_reported_together(fresh_ledger):
    error = unchanged_after(fresh_ledger, ValidationErrors, fresh_ledger.register_party, {
        "name": "Somebody", "kind": "processor", "country": "XX", "address": ""})
    assert fields_of(error) >= {"kind", "country", "address"}


def test_an_unknown_party_field_is_refused(fresh_ledger):
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "name": "Somebody", "kind": "contractor", "country": "JP", "address": "Kyoto", "representative": "X",
        "ceo": "Y"})
    assert error.field == "ceo"


def test_a_chosen_party_id(fresh_ledger, parties):
    party = fresh_ledger.register_party({"party_id": "tax-office.kyoto", "name": "Kyoto Tax Office",
                                         "kind": "government_body", "country": "JP", "address": "Kyoto"})
    assert party.party_id == "tax-office.kyoto"
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "party_id": "tax-office.kyoto", "name": "Other", "kind": "government_body", "country": "JP",
        "address": "Kyoto"})
    assert error.field == "party_id"
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.register_party, {
        "party_id": "-bad id", "name": "Other", "kind": "government_body", "country": "JP", "address": "Kyoto"})
    assert error.field == "party_id"


# ---- recording and reading back ------------------------------------------------------------------


def test_record_and_read_back(fresh_ledger, parties):
    before = fresh_ledger.counts()
    seq = fresh_ledger.record_disclosure(consent(parties.affiliate, subjects=["KY-STU-0001", "KY-STU-0002"]))
    assert seq == before["entries"] + 1
    assert fresh_ledger.counts()["entries"] == before["entries"] + 1
    assert fresh_ledger.counts()["disclosures"] == before["disclosures"] + 1
    detail = fresh_ledger.disclosure(seq)
    s = detail.summary
    assert (s.seq, s.recipient_id, s.recipient_name) == (seq, parties.affiliate.party_id, parties.affiliate.name)
    assert (s.first_day, s.last_day, s.bulk, s.subject_count) == ("2026-06-10", "2026-06-10", False, 2)
    assert s.data_items == ("name", "email", "grade_records")
    assert (s.purpose, s.basis, s.method, s.country, s.route) == (
        "affiliate_provision_with_consent", "consent", "sftp", "JP", None)
    assert (s.status, s.version, s.statutory) == ("active", 1, True)
    assert s.recorded_by == "Test Operator"
    assert detail.subjects == ("KY-STU-0001", "KY-STU-0002")
    assert dict(detail.evidence) == {"consent_reference": "Consent form C-0042", "consent_date": EARLIER}
    assert detail.notes == "Sent with the spring term results."
    assert detail.group_description is None
    assert dict(detail.route_evidence) == {}
    assert detail.history == ()
    assert detail.entry.seq == seq and detail.entry.kind == "disclosure.recorded"
    assert fresh_ledger.disclosures()[0] == s


def test_a_foreign_disclosure_reads_back_its_route(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(outsourcing(parties.us_contractor, route="equivalent_measures",
                                                     route_evidence={"measures_reference": "SCC 2021/914",
                                                                     "last_checked_on": "2026-01-15"}))
    detail = fresh_ledger.disclosure(seq)
    assert (detail.summary.country, detail.summary.route) == ("US", "equivalent_measures")
    assert dict(detail.route_evidence) == {"measures_reference": "SCC 2021/914", "last_checked_on": "2026-01-15"}


def test_reading_something_that_is_not_a_disclosure(fresh_ledger, parties):
    with pytest.raises(NotFoundError):
        fresh_ledger.disclosure(parties.contractor.registered_seq)
    with pytest.raises(NotFoundError):
        fresh_ledger.disclosure(999)
    with pytest.raises(NotFoundError):
        fresh_ledger.entry(999)


# ---- corrections ---------------------------------------------------------------------------------


def test_correction_is_a_new_entry_and_reads_show_the_current_state(fresh_ledger, parties, clock):
    seq = fresh_ledger.record_disclosure(consent(parties.affiliate))
    original = fresh_ledger.entry(seq)
    clock.advance(hours=2)
    correction = fresh_ledger.correct_disclosure(seq, {"notes": "Sent with the summer term results.",
                                                       "data_items": ["name", "email"]},
                                                 "Wrong term and items in the first entry")
    assert correction == seq + 1
    entry = fresh_ledger.entry(correction)
    assert entry.kind == "disclosure.corrected"
    assert entry.body["disclosure"] == seq
    assert sorted(entry.body["changes"]) == ["data_items", "notes"]
    # the original leaf is never touched
    assert fresh_ledger.entry(seq).leaf == original.leaf
    assert fresh_ledger.entry(seq).leaf_hash == original.leaf_hash
    detail = fresh_ledger.disclosure(seq)
    assert detail.summary.version == 2
    assert detail.summary.data_items == ("name", "email")
    assert detail.notes == "Sent with the summer term results."
    assert detail.subjects == ("KY-STU-2026-0042",)
    assert detail.summary.retention_until == "2029-06-15"
    assert len(detail.history) == 1
    change = detail.history[0]
    assert (change.seq, change.action, change.fields) == (correction, "corrected", ("data_items", "notes"))
    assert change.reason == "Wrong term and items in the first entry"
    assert change.recorded_by == "Test Operator"
    assert change.recorded_at.startswith("2026-06-15T05:00:00")
    # still one disclosure, listed once
    assert fresh_ledger.counts()["disclosures"] == 1
    assert [s.seq for s in fresh_ledger.disclosures()] == [seq]
    assert fresh_ledger.verify().ok


def test_correcting_the_date_keeps_the_retention_from_the_recording_day(fresh_ledger, parties, clock):
    seq = fresh_ledger.record_disclosure(consent(parties.affiliate))
    clock.set("2026-07-01T03:00:00Z")
    fresh_ledger.correct_disclosure(seq, {"date": "2026-06-09"}, "Sent a day earlier")
    detail = fresh_ledger.disclosure(seq)
    assert (detail.summary.first_day, detail.summary.last_day) == ("2026-06-09", "2026-06-09")
    assert detail.summary.retention_until == "2029-06-15"
    assert detail.history[0].fields == ("first_day", "last_day")


def test_correcting_the_basis_changes_the_statutory_decision(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    fresh_ledger.correct_disclosure(seq, {"basis": "law", "evidence": {"statute": "Income Tax Act Art. 225"}},
                                    "It was a statutory request")
    s = fresh_ledger.disclosure(seq).summary
    assert (s.basis, s.statutory, s.statutory_ground) == ("law", False, "basis:law")
    assert "statutory" in fresh_ledger.disclosure(seq).history[0].fields


def test_correcting_the_subjects(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party, subjects=["KY-STU-0001"]))
    fresh_ledger.correct_disclosure(seq, {"subjects": ["KY-STU-0009"]}, "Wrong pupil number")
    assert fresh_ledger.disclosure(seq).subjects == ("KY-STU-0009",)
    assert [s.seq for s in fresh_ledger.subject_disclosures("KY-STU-0009")] == [seq]
    assert fresh_ledger.subject_disclosures("KY-STU-0001") == []
    assert fresh_ledger.verify().ok


def test_correcting_evidence_replaces_it(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    fresh_ledger.correct_disclosure(seq, {"evidence": {"consent_reference": "Consent form C-0043",
                                                       "consent_date": EARLIER}}, "Wrong form number")
    assert fresh_ledger.disclosure(seq).evidence["consent_reference"] == "Consent form C-0043"
    assert fresh_ledger.disclosure(seq).history[0].fields == ("evidence",)
    assert fresh_ledger.verify().ok


def test_correcting_one_evidence_field_by_its_flat_key(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    fresh_ledger.correct_disclosure(seq, {"evidence.consent_reference": "Consent form C-0043",
                                          "method": "api"}, "Wrong form number; sent by API")
    detail = fresh_ledger.disclosure(seq)
    assert detail.summary.method == "api"
    assert detail.evidence["consent_reference"] == "Consent form C-0043"


def test_two_corrections(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    first = fresh_ledger.correct_disclosure(seq, {"method": "encrypted_email"}, "first")
    second = fresh_ledger.correct_disclosure(seq, {"method": "api"}, "second")
    detail = fresh_ledger.disclosure(seq)
    assert detail.summary.version == 3 and detail.summary.method == "api"
    assert [(c.seq, c.reason) for c in detail.history] == [(first, "first"), (second, "second")]


def test_correcting_a_voided_disclosure_is_refused(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    fresh_ledger.void_disclosure(seq, "Recorded twice")
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.correct_disclosure,
                            seq, {"method": "api"}, "too late")
    assert error.field == "disclosure"
    assert "voided" in error.rule


@pytest.mark.parametrize("changes", [
    {"method": "sftp"},
    {"notes": "Sent with the spring term results."},
    {"subjects": ["KY-STU-2026-0042"]},
    {"date": "2026-06-10"},
    {"evidence": {"consent_reference": "Consent form C-0042", "consent_date": EARLIER}},
])
def test_a_correction_that_changes_nothing_is_refused(fresh_ledger, parties, changes):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.correct_disclosure, seq, changes, "why")
    assert error.field == "changes"


def test_an_empty_correction_is_refused(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.correct_disclosure, seq, {}, "why")
    assert error.field == "changes"


def test_a_correction_needs_a_reason(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.correct_disclosure,
                            seq, {"method": "api"}, "")
    assert error.field == "reason"


@pytest.mark.parametrize("changes, field", [
    ({"date": "2026-06-20"}, "date"),
    ({"basis": "outsourcing", "evidence": {"contract_reference": "DPA-1"}}, "basis"),
    ({"purpose": "profiling"}, "purpose"),
    ({"data_items": ["name", "health"], "basis": "opt_out", "evidence": {"ppc_notification": "PPC-1"}},
     "data_items"),
    ({"route": "designated_country"}, "route"),
    ({"subjects": []}, "subjects"),
    ({"notes": "bad\x00text"}, "notes"),
])
def test_a_correction_that_breaks_a_rule_is_refused(fresh_ledger, parties, changes, field):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    error = unchanged_after(fresh_ledger, (ValidationError, ValidationErrors), fresh_ledger.correct_disclosure,
                            seq, changes, "why")
    assert field in fields_of(error)
    detail = fresh_ledger.disclosure(seq)
    assert detail.summary.version == 1 and detail.history == ()


def test_correcting_an_unknown_disclosure(fresh_ledger, parties):
    unchanged_after(fresh_ledger, NotFoundError, fresh_ledger.correct_disclosure, 999, {"method": "api"}, "why")
    unchanged_after(fresh_ledger, NotFoundError, fresh_ledger.correct_disclosure,
                    parties.contractor.registered_seq, {"method": "api"}, "why")


# ---- void -------------------------------------------------------------------------------------------


def test_void(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    original = fresh_ledger.entry(seq).leaf
    void = fresh_ledger.void_disclosure(seq, "Recorded for the wrong company")
    assert void == seq + 1
    entry = fresh_ledger.entry(void)
    assert entry.kind == "disclosure.voided" and entry.body["disclosure"] == seq
    detail = fresh_ledger.disclosure(seq)
    assert detail.summary.status == "voided"
    assert detail.summary.version == 2
    assert [(c.action, c.reason) for c in detail.history] == [("voided", "Recorded for the wrong company")]
    assert fresh_ledger.entry(seq).leaf == original
    assert [s.seq for s in fresh_ledger.disclosures()] == [seq]
    assert fresh_ledger.disclosures(DisclosureFilter(include_voided=False)) == []
    assert fresh_ledger.counts()["voided"] == 1
    assert fresh_ledger.counts()["disclosures"] == 1
    assert fresh_ledger.verify().ok


def test_the_dashboard_lists_only_active_records_whose_retention_ends_soon(fresh_ledger, parties, clock):
    kept = fresh_ledger.record_disclosure(consent(parties.third_party))
    voided = fresh_ledger.record_disclosure(consent(parties.affiliate))
    fresh_ledger.void_disclosure(voided, "Recorded for the wrong company")
    assert fresh_ledger.dashboard().retention_ending == ()  # 2029-06-15 is three years away
    clock.set("2029-04-01T03:00:00Z")
    ending = fresh_ledger.dashboard(retention_within_days=90).retention_ending
    assert [(s.seq, s.retention_until) for s in ending] == [(kept, "2029-06-15")]
    assert fresh_ledger.dashboard(retention_within_days=30).retention_ending == ()


def test_voiding_twice_or_without_reason_is_refused(fresh_ledger, parties):
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.void_disclosure, seq, "")
    assert error.field == "reason"
    fresh_ledger.void_disclosure(seq, "Recorded twice")
    error = unchanged_after(fresh_ledger, ValidationError, fresh_ledger.void_disclosure, seq, "again")
    assert error.field == "disclosure"
    unchanged_after(fresh_ledger, NotFoundError, fresh_ledger.void_disclosure, 999, "no such")


# ---- erasure ----------------------------------------------------------------------------------------


@pytest.fixture
def erasure_ledger(fresh_ledger, parties):
    """Tanaka alone in one disclosure (with notes and a consent reference), with Sato in another."""
    svc = fresh_ledger
    alone = svc.record_disclosure(consent(parties.affiliate, subjects=["tanaka.hanako@example.jp"],
                                          notes="Tanaka asked for the certificate to go to the cram school",
                                          evidence={"consent_reference": "Tanaka consent form 0042",
                                                    "consent_date": EARLIER}))
    shared = svc.record_disclosure(consent(parties.third_party,
                                           subjects=["tanaka.hanako@example.jp", "sato.jiro@example.jp"],
                                           notes="Both pupils' results for the textbook pilot"))
    other = svc.record_disclosure(consent(parties.third_party, subjects=["sato.jiro@example.jp"],
                                          notes="Sato only"))
    svc.correct_disclosure(alone, {"notes": "Tanaka's certificate and report card"}, "Tanaka said it was both")
    return svc, alone, shared, other


def vault_values(service: LedgerService) -> list[str]:
    return [row[0] for row in service.store.conn.execute("SELECT value FROM vault")]


def test_erase_subject(erasure_ledger):
    svc, alone, shared, other = erasure_ledger
    assert "tanaka.hanako@example.jp" in vault_values(svc)
    before = svc.counts()["entries"]
    result = svc.erase_subject("tanaka.hanako@example.jp")
    assert result.seq == before + 1 == svc.counts()["entries"]
    assert result.disclosures == (alone, shared)
    assert result.subject_values_removed == 2
    entry = svc.entry(result.seq)
    assert entry.kind == "subject.erased"
    assert b"tanaka" not in entry.leaf.lower()

    values = vault_values(svc)
    assert not [v for v in values if "tanaka" in v.lower()]
    assert "sato.jiro@example.jp" in values

    # the person shows as erased; the others stay
    assert svc.disclosure(alone).subjects == (ERASED,)
    assert svc.disclosure(shared).subjects == (ERASED, "sato.jiro@example.jp")
    assert svc.disclosure(other).subjects == ("sato.jiro@example.jp",)
    # free text about only that person goes; free text shared with others stays
    assert svc.disclosure(alone).notes == ERASED
    assert svc.disclosure(alone).evidence["consent_reference"] == ERASED
    assert svc.disclosure(alone).evidence["consent_date"] == EARLIER
    assert svc.disclosure(shared).notes == "Both pupils' results for the textbook pilot"
    assert svc.disclosure(shared).evidence["consent_reference"] == "Consent form C-0042"
    assert svc.disclosure(other).notes == "Sato only"
    # the records themselves stay
    assert svc.disclosure(alone).summary.status == "active"
    assert svc.counts()["disclosures"] == 3

    assert svc.subject_disclosures("tanaka.hanako@example.jp") == []
    assert [s.seq for s in svc.subject_disclosures("sato.jiro@example.jp")] == [other, shared]
    report = svc.verify()
    assert report.ok, report.problems


def test_an_erased_correction_reason_shows_as_erased(erasure_ledger):
    svc, alone, _, _ = erasure_ledger
    assert svc.disclosure(alone).history[0].reason == "Tanaka said it was both"
    svc.erase_subject("tanaka.hanako@example.jp")
    assert "Tanaka said it was both" not in vault_values(svc)
    assert svc.disclosure(alone).history[0].reason == ERASED


def test_erasing_an_unknown_subject(erasure_ledger):
    svc, *_ = erasure_ledger
    unchanged_after(svc, NotFoundError, svc.erase_subject, "nobody@example.jp")
    svc.erase_subject("tanaka.hanako@example.jp")
    unchanged_after(svc, NotFoundError, svc.erase_subject, "tanaka.hanako@example.jp")


def test_erasure_needs_a_known_reason(erasure_ledger):
    svc, *_ = erasure_ledger
    error = unchanged_after(svc, ValidationError, svc.erase_subject, "tanaka.hanako@example.jp", "because")
    assert error.field == "reason"
    assert "data_subject_request" in error.rule
    assert "tanaka.hanako@example.jp" in vault_values(svc)


def test_a_disclosure_can_still_be_corrected_after_an_erasure(erasure_ledger):
    svc, alone, shared, _ = erasure_ledger
    svc.erase_subject("tanaka.hanako@example.jp")
    svc.correct_disclosure(shared, {"method": "api"}, "It went by API")
    detail = svc.disclosure(shared)
    assert detail.subjects == (ERASED, "sato.jiro@example.jp")
    assert detail.summary.method == "api"
    assert svc.verify().ok


# ---- who and when -------------------------------------------------------------------------------------


def test_every_entry_records_the_operator_and_utc_time(fresh_ledger, parties, clock):
    clock.set("2026-06-15T14:30:00Z")
    seq = fresh_ledger.record_disclosure(consent(parties.third_party))
    clock.set("2026-06-15T15:30:00Z")
    fresh_ledger.correct_disclosure(seq, {"method": "api"}, "by API")
    fresh_ledger.void_disclosure(seq, "duplicate")
    fresh_ledger.erase_subject("KY-STU-2026-0042")
    for n in range(1, fresh_ledger.counts()["entries"] + 1):
        entry = fresh_ledger.entry(n)
        leaf = parse_leaf(entry.leaf)
        assert entry.recorded_by == leaf["recorded_by"] == "Test Operator"
        assert STAMP.fullmatch(entry.recorded_at), entry.recorded_at
        assert entry.recorded_at == leaf["recorded_at"]
    assert fresh_ledger.entry(1).recorded_at.startswith("2026-06-15T03:00:00")
    assert fresh_ledger.entry(seq).recorded_at.startswith("2026-06-15T14:30:00")
    assert fresh_ledger.entry(seq + 1).recorded_at.startswith("2026-06-15T15:30:00")
    summary = fresh_ledger.disclosure(seq).summary
    assert summary.recorded_at == fresh_ledger.entry(seq).recorded_at
    local = fresh_ledger.local_time(summary.recorded_at)
    assert local.utcoffset() == timedelta(hours=9)
    assert (local.date(), local.hour, local.minute) == (date(2026, 6, 15), 23, 30)
    later = fresh_ledger.local_time(fresh_ledger.entry(seq + 1).recorded_at)
    assert (later.date(), later.hour) == (date(2026, 6, 16), 0)


def test_the_operator_defaults_to_the_configured_name(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("DISCLOSURE_LEDGER_OPERATOR", "  Kimura Responsible Manager ")
    with LedgerService.open(tmp_path / "l.db", create=True, clock=clock) as service:
        assert service.entry(1).recorded_by == "Kimura Responsible Manager"


def test_a_clock_in_another_zone_is_stored_in_utc(tmp_path):
    tokyo = timezone(timedelta(hours=9))
    with LedgerService.open(tmp_path / "l.db", create=True, operator="Op",
                            clock=lambda: datetime(2026, 6, 15, 12, 0, tzinfo=tokyo)) as service:
        assert service.entry(1).recorded_at.startswith("2026-06-15T03:00:00")
        assert service.entry(1).recorded_at.endswith("Z")


# ---- listing, filters and paging ---------------------------------------------------------------------------


@pytest.fixture
def listed(fresh_ledger, parties):
    """Twelve disclosures across May and June, three recipients, three bases."""
    svc = fresh_ledger
    seqs = {}
    plan = [
        ("a1", consent(parties.affiliate, date="2026-05-02", subjects=["KY-0001"])),
        ("c1", outsourcing(parties.contractor, date="2026-05-05", subjects=["KY-0001", "KY-0002"])),
        ("g1", consent(parties.government, date="2026-05-09", subjects=["KY-0003"])),
        ("c2", outsourcing(parties.contractor, date="2026-05-01", last_day="2026-05-31", subjects=None,
                           group_description="All May newsletter readers", group_count=1800)),
        ("a2", consent(parties.affiliate, date="2026-05-28", subjects=["KY-0002"])),
        ("l1", consent(parties.government, basis="law", evidence={"statute": "Income Tax Act Art. 225"},
                       date="2026-06-01", subjects=["KY-0004"])),
        ("a3", consent(parties.affiliate, date="2026-06-02", subjects=["KY-0005"])),
        ("c3", outsourcing(parties.contractor, date="2026-06-03", subjects=["KY-0001"])),
        ("a4", consent(parties.affiliate, date="2026-06-05", subjects=["KY-0006"])),
        ("c4", outsourcing(parties.contractor, date="2026-06-08", subjects=["KY-0007"])),
        ("a5", consent(parties.affiliate, date="2026-06-12", subjects=["KY-0001", "KY-0008"])),
        ("c5", outsourcing(parties.contractor, date="2026-06-14", subjects=["KY-0009"])),
    ]
    for name, data in plan:
        data = {k: x for k, x in data.items() if x is not None}
        seqs[name] = svc.record_disclosure(data)
    return svc, seqs, parties


def listed_seqs(svc, **filters) -> list[int]:
    return [s.seq for s in svc.disclosures(DisclosureFilter(**filters), limit=None)]


def test_list_is_newest_first(listed):
    svc, seqs, _ = listed
    assert listed_seqs(svc) == sorted(seqs.values(), reverse=True)
    assert len(svc.disclosures(limit=5)) == 5


def test_filter_by_period(listed):
    svc, s, _ = listed
    june = listed_seqs(svc, since=date(2026, 6, 1), until=date(2026, 6, 30))
    assert june == sorted([s["l1"], s["a3"], s["c3"], s["a4"], s["c4"], s["a5"], s["c5"]], reverse=True)
    # a bulk record counts in every period it overlaps
    may_end = listed_seqs(svc, since=date(2026, 5, 20), until=date(2026, 5, 31))
    assert may_end == sorted([s["c2"], s["a2"]], reverse=True)
    assert listed_seqs(svc, since=date(2026, 5, 10), until=date(2026, 5, 10)) == [s["c2"]]


def test_filter_by_recipient_id_and_name(listed):
    svc, s, parties = listed
    by_id = listed_seqs(svc, recipient=parties.affiliate.party_id)
    assert by_id == sorted([s["a1"], s["a2"], s["a3"], s["a4"], s["a5"]], reverse=True)
    assert listed_seqs(svc, recipient=parties.affiliate.name) == by_id
    assert listed_seqs(svc, recipient=parties.affiliate.name.lower()) == by_id
    assert listed_seqs(svc, recipient=parties.joint_user.party_id) == []
    with pytest.raises(NotFoundError):
        listed_seqs(svc, recipient="Nobody Inc.")


def test_filter_by_basis(listed):
    svc, s, _ = listed
    assert listed_seqs(svc, basis="law") == [s["l1"]]
    assert len(listed_seqs(svc, basis="outsourcing")) == 5
    with pytest.raises(ValidationError) as info:
        listed_seqs(svc, basis="magic")
    assert info.value.field == "basis" and "consent" in info.value.rule


def test_filter_statutory_only(listed):
    svc, s, _ = listed
    assert listed_seqs(svc, statutory_only=True) == sorted([s["a1"], s["a2"], s["a3"], s["a4"], s["a5"]],
                                                           reverse=True)


def test_filter_by_subject(listed):
    svc, s, _ = listed
    expected = sorted([s["a1"], s["c1"], s["c3"], s["a5"]], reverse=True)
    assert listed_seqs(svc, subject="KY-0001") == expected
    assert [x.seq for x in svc.subject_disclosures("KY-0001")] == expected
    assert listed_seqs(svc, subject="KY-9999") == []


def test_subject_lookup_ignores_surrounding_space(listed):
    svc, s, _ = listed
    assert listed_seqs(svc, subject=" KY-0003 ") == [s["g1"]]
    assert [x.seq for x in svc.subject_disclosures(" KY-0003 ")] == [s["g1"]]


def test_subject_filter_normalises_like_the_stored_identifier(fresh_ledger, parties):
    import unicodedata
    composed = unicodedata.normalize("NFC", "がくせい-0001")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    seq = fresh_ledger.record_disclosure(consent(parties.third_party, subjects=[decomposed]))
    assert fresh_ledger.disclosure(seq).subjects == (composed,)
    assert [x.seq for x in fresh_ledger.subject_disclosures(decomposed)] == [seq]
    assert listed_seqs(fresh_ledger, subject=decomposed) == [seq]


def test_filters_combine(listed):
    svc, s, parties = listed
    assert listed_seqs(svc, subject="KY-0001", recipient=parties.contractor.party_id,
                       since=date(2026, 6, 1)) == [s["c3"]]


def test_keyset_paging(listed):
    svc, seqs, _ = listed
    pages, before = [], None
    while True:
        page = svc.disclosures(limit=5, before_seq=before)
        if not page:
            break
        pages.append([p.seq for p in page])
        before = page[-1].seq
    assert [len(p) for p in pages] == [5, 5, 2]
    flat = [seq for page in pages for seq in page]
    assert flat == sorted(seqs.values(), reverse=True)
    assert len(set(flat)) == len(flat)
    for newer, older in zip(pages, pages[1:]):
        assert min(newer) > max(older)


def test_keyset_paging_with_a_filter(listed):
    svc, s, parties = listed
    first = svc.disclosures(DisclosureFilter(recipient=parties.contractor.party_id), limit=3)
    rest = svc.disclosures(DisclosureFilter(recipient=parties.contractor.party_id), limit=3,
                           before_seq=first[-1].seq)
    assert [x.seq for x in first + rest] == sorted([s["c1"], s["c2"], s["c3"], s["c4"], s["c5"]], reverse=True)


# ---- import ------------------------------------------------------------------------------------------------------


def import_rows(parties) -> list[dict]:
    return [
        consent(parties.affiliate, subjects=["KY-IMP-0001"]),
        # a flat row, as a CSV file gives it
        {"recipient": parties.contractor.name, "date": "2026-06-11", "subjects": "KY-IMP-0002;KY-IMP-0003",
         "data_items": "name;address", "purpose": "mail_magazine_dm_notifications", "basis": "outsourcing",
         "evidence.contract_reference": "DPA-2025-07", "method": "sftp", "notes": ""},
        outsourcing(parties.contractor, date="2026-05-01", last_day="2026-05-31", subjects="",
                    group_description="May newsletter readers", group_count="1800"),
        consent(parties.third_party, subjects=["KY-IMP-0004"]),
    ]


def test_import_all_good_rows(fresh_ledger, parties):
    before = fresh_ledger.counts()
    seqs = fresh_ledger.import_disclosures(import_rows(parties))
    start = before["entries"] + 1
    assert seqs == list(range(start, start + 4))
    assert fresh_ledger.counts()["entries"] == before["entries"] + 4
    assert fresh_ledger.counts()["disclosures"] == before["disclosures"] + 4
    assert fresh_ledger.disclosure(seqs[1]).subjects == ("KY-IMP-0002", "KY-IMP-0003")
    assert fresh_ledger.disclosure(seqs[2]).summary.subject_count == 1800
    assert fresh_ledger.verify().ok


@pytest.mark.parametrize("bad_row, number, field", [
    (1, 2, "purpose"),
    (0, 1, "date"),
    (3, 4, "evidence.consent_reference"),
])
def test_import_with_one_bad_row_writes_nothing(fresh_ledger, parties, bad_row, number, field):
    rows = import_rows(parties)
    if field == "purpose":
        rows[bad_row]["purpose"] = "profiling"
    elif field == "date":
        rows[bad_row]["date"] = "2026-07-01"
    else:
        rows[bad_row]["evidence"] = {"consent_date": EARLIER}
    rejected = unchanged_after(fresh_ledger, ImportRejected, fresh_ledger.import_disclosures, rows,
                               source="june.csv")
    assert rejected.total == 4
    assert [(n, e.field) for n, e in rejected.problems] == [(number, field)]
    assert "june.csv" in str(rejected) and "nothing was imported" in str(rejected)


def test_import_reports_every_bad_row(fresh_ledger, parties):
    rows = import_rows(parties)
    rows[0]["purpose"] = "profiling"
    rows[2]["recipient"] = "Nobody Inc."
    rows[3]["data_items"] = ["name", "health"]
    rows[3]["basis"] = "opt_out"
    rows[3]["evidence"] = {"ppc_notification": "PPC-2024-0001"}
    rejected = unchanged_after(fresh_ledger, ImportRejected, fresh_ledger.import_disclosures, rows)
    found = {(n, e.field) for n, e in rejected.problems}
    assert found == {(1, "purpose"), (3, "recipient"), (4, "data_items")}


def test_import_with_a_malformed_row_writes_nothing(fresh_ledger, parties):
    rows = import_rows(parties) + [{"recipient": parties.affiliate.party_id, "colour": "blue"}]
    rejected = unchanged_after(fresh_ledger, ImportRejected, fresh_ledger.import_disclosures, rows)
    assert {n for n, _ in rejected.problems} == {5}
    assert "colour" in {e.field for _, e in rejected.problems}


def test_import_with_a_row_that_is_not_an_object_writes_nothing(fresh_ledger, parties):
    rows = import_rows(parties) + [["KY-IMP-0009", "name"]]
    rejected = unchanged_after(fresh_ledger, (ImportRejected, AttributeError), fresh_ledger.import_disclosures, rows)
    assert isinstance(rejected, ImportRejected)
    assert [n for n, _ in rejected.problems] == [5]


@pytest.fixture
def worker_processes(monkeypatch) -> list[int]:
    """Imports go through worker processes even for a few rows, in small chunks; the list gets
    how many workers each import used."""
    monkeypatch.setattr(importer, "PARALLEL_MIN_ROWS", 1)
    monkeypatch.setattr(importer, "CHUNK_ROWS", 16)
    monkeypatch.setattr(importer.os, "cpu_count", lambda: 2)
    used: list[int] = []
    count = importer._workers

    def counted(rows: int) -> int:
        used.append(count(rows))
        return used[-1]

    monkeypatch.setattr(importer, "_workers", counted)
    return used


def test_an_import_through_worker_processes_is_written_in_order(fresh_ledger, parties, worker_processes):
    rows = [dict(row, notes=f"row {n + 1}") for n, row in enumerate(import_rows(parties) * 40)]
    before = fresh_ledger.counts()["entries"]
    seqs = fresh_ledger.import_disclosures(rows)
    assert worker_processes and worker_processes[0] >= 2
    assert seqs == list(range(before + 1, before + 161))
    assert [fresh_ledger.disclosure(seqs[n]).notes for n in (0, 17, 159)] == ["row 1", "row 18", "row 160"]
    assert fresh_ledger.disclosure(seqs[158]).summary.subject_count == 1800  # the group row of the last four
    assert fresh_ledger.verify().ok


def test_an_import_through_worker_processes_reports_bad_rows_of_every_chunk(fresh_ledger, parties,
                                                                             worker_processes):
    rows = import_rows(parties) * 40
    rows = [dict(row) for row in rows]
    for n in (2, 70, 160):  # the first, a middle and the last chunk
        rows[n - 1]["purpose"] = "profiling"
    rejected = unchanged_after(fresh_ledger, ImportRejected, fresh_ledger.import_disclosures, rows)
    assert worker_processes and worker_processes[0] >= 2
    assert [(n, e.field) for n, e in rejected.problems] == [(2, "purpose"), (70, "purpose"), (160, "purpose")]


def test_prepared_rows_out_of_order_are_refused_by_the_writer(fresh_ledger, parties, monkeypatch):
    import ledger.service
    real = ledger.service.prepare_chunks

    def skipping(*args, **kwargs):  # the second row claims the seq after its own
        for prepared, problems in real(*args, **kwargs):
            yield [prepared[0], (prepared[1][0] + 1, *prepared[1][1:]), *prepared[2:]], problems

    monkeypatch.setattr(ledger.service, "prepare_chunks", skipping)
    error = unchanged_after(fresh_ledger, ValueError, fresh_ledger.import_disclosures, import_rows(parties))
    assert "out of order" in str(error)
    assert fresh_ledger.verify().ok


# ---- no personal data in the leaves ----------------------------------------------------------------------------------


def test_no_personal_value_appears_in_any_leaf(fresh_ledger, parties):
    svc = fresh_ledger
    secrets_ = [
        "tanaka.hanako@example.jp", "田中花子-0042", "KY-STU-7731", "KY-STU-7732",
        "Consent form signed by Tanaka Hanako's mother", "Hanako broke her arm at the Gion campus",
        "Pupils of Tanaka-sensei's 3rd grade class", "Tanaka-sensei gave the wrong pupil number",
        "Voided because Tanaka's record was entered twice", "Note about 山本太郎 and his grades",
        "The ambulance had already left", "Erasure of Tanaka requested by phone",
    ]
    s1 = svc.record_disclosure(consent(parties.affiliate, subjects=[secrets_[0], secrets_[1]],
                                       notes=secrets_[9],
                                       evidence={"consent_reference": secrets_[4], "consent_date": EARLIER}))
    svc.record_disclosure(consent(parties.third_party, basis="life_body_property",
                                  evidence={"danger": secrets_[5], "consent_impracticable_reason": secrets_[10]},
                                  subjects=[secrets_[2]], data_items=["name", "health"]))
    svc.record_disclosure(outsourcing(parties.contractor, subjects=[], date="2026-06-01", last_day="2026-06-10",
                                      group_description=secrets_[6], group_count=31))
    s4 = svc.record_disclosure(consent(parties.us_contractor, subjects=[secrets_[3]], route="consent_informed",
                                       route_evidence={"information_provided_on": EARLIER}))
    svc.correct_disclosure(s1, {"subjects": [secrets_[0], secrets_[3]]}, secrets_[7])
    svc.void_disclosure(s4, secrets_[8])
    svc.import_disclosures([consent(parties.third_party, subjects=[secrets_[2]], notes=secrets_[11])])
    svc.erase_subject(secrets_[2])
    size = svc.counts()["entries"]
    assert size >= 17
    for seq in range(1, size + 1):
        leaf = svc.entry(seq).leaf
        text = leaf.decode("utf-8")
        for value in secrets_:
            assert value.encode("utf-8") not in leaf, f"entry {seq} holds {value!r}"
            assert value not in text
        for word in ("Tanaka", "Hanako", "田中", "山本"):
            assert word not in text, f"entry {seq} holds {word!r}"
    # the values are still readable where not erased
    assert svc.disclosure(s1).subjects == (secrets_[0], secrets_[3])
    assert svc.disclosure(s1).notes == secrets_[9]
    assert svc.disclosure(s1).evidence["consent_reference"] == secrets_[4]
    assert svc.verify().ok
