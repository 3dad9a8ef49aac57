"""The legal-basis rules, through the service: every rule accepted and refused.

Each refusal must name the field (and, where the law has one, the article), and must
leave the ledger exactly as it was.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from freezegun import freeze_time

from ledger.domain import DisclosureFilter, DisclosureInput
from ledger.errors import ValidationError, ValidationErrors
from ledger.refdata import load_reference_data
from ledger.rules.disclosure import GOVERNMENT_REASON
from ledger.service import LedgerService

REF = load_reference_data()
BASES = list(REF.bases.values())
CARE_REQUIRED = [code for code, item in REF.data_items.items() if item.care_required]
VOLUNTARY_BASES = [b for b in BASES if b.category not in ("consent", "opt_out")]

PROVIDED_ON = "2026-06-10"     # five days before the default clock (2026-06-15T03:00Z)
EARLIER = "2026-05-20"         # a consent, information or check date before the provision

# A recipient of a fitting kind for each basis; any other basis goes to the domestic third party.
RECIPIENT_FOR_BASIS = {
    "outsourcing": "contractor",
    "business_succession": "successor",
    "joint_use": "joint_user",
    "government_cooperation": "government",
    "law": "government",
}


# ---- helpers ------------------------------------------------------------------------

DROP = object()  # in `disclosure(...)`: leave this field out


def evidence_for(fields) -> dict[str, str]:
    return {ev.code: (EARLIER if ev.kind == "date" else f"REF-{ev.code}-117") for ev in fields}


def disclosure(recipient, /, **changes) -> dict:
    """A valid consent-based release to `recipient` (a Party or a party id), changed by `changes`."""
    data = {
        "recipient": getattr(recipient, "party_id", recipient),
        "date": PROVIDED_ON,
        "subjects": ["KY-STU-2026-0042"],
        "data_items": ["name", "email", "grade_records"],
        "purpose": "affiliate_provision_with_consent",
        "basis": "consent",
        "evidence": {"consent_reference": "Consent form C-0042", "consent_date": EARLIER},
        "method": "sftp",
        "notes": "Sent with the spring term results.",
    }
    for key, value in changes.items():
        if value is DROP:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def with_basis(recipient, code: str, /, **changes) -> dict:
    basis = REF.bases[code]
    return disclosure(recipient, basis=code, evidence=evidence_for(basis.evidence), **changes)


def errors_of(exc: BaseException) -> list[ValidationError]:
    return list(exc.errors) if isinstance(exc, ValidationErrors) else [exc]


def refused(service: LedgerService, data, field: str) -> ValidationError:
    """Recording `data` is refused with an error naming `field`, and the ledger is unchanged."""
    before = service.counts()
    entries_before = service.counts()["entries"]
    with pytest.raises((ValidationError, ValidationErrors)) as info:
        service.record_disclosure(data)
    assert service.counts()["entries"] == entries_before
    assert service.counts() == before
    errors = errors_of(info.value)
    named = [e for e in errors if e.field == field]
    assert named, f"no error names {field!r}; got {[str(e) for e in errors]}"
    assert named[0].rule, "a refusal must say why"
    assert field in str(info.value)
    return named[0]


def accepted(service: LedgerService, data):
    seq = service.record_disclosure(data)
    summary = service.disclosure(seq).summary
    assert summary.seq == seq
    return summary


# ---- evidence per basis -----------------------------------------------------------------


@pytest.mark.parametrize("basis", BASES, ids=lambda b: b.code)
def test_every_basis_requires_evidence_fields(basis):
    assert basis.evidence, f"basis {basis.code} lists no evidence fields"


@pytest.mark.parametrize("basis", BASES, ids=lambda b: b.code)
def test_evidence_all_present_is_accepted(fresh_ledger, parties, basis):
    recipient = getattr(parties, RECIPIENT_FOR_BASIS.get(basis.code, "third_party"))
    summary = accepted(fresh_ledger, with_basis(recipient, basis.code))
    assert summary.basis == basis.code
    detail = fresh_ledger.disclosure(summary.seq)
    assert dict(detail.evidence) == evidence_for(basis.evidence)


@pytest.mark.parametrize(
    "basis, code",
    [(b, ev.code) for b in BASES for ev in b.evidence],
    ids=[f"{b.code}-{ev.code}" for b in BASES for ev in b.evidence],
)
def test_missing_evidence_field_is_refused(fresh_ledger, parties, basis, code):
    recipient = getattr(parties, RECIPIENT_FOR_BASIS.get(basis.code, "third_party"))
    evidence = evidence_for(basis.evidence)
    del evidence[code]
    error = refused(fresh_ledger, disclosure(recipient, basis=basis.code, evidence=evidence), f"evidence.{code}")
    assert "required" in error.rule
    assert error.article == basis.appi
    assert error.article in str(error)


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_evidence_counts_as_missing(fresh_ledger, parties, blank):
    data = disclosure(parties.third_party, evidence={"consent_reference": blank, "consent_date": EARLIER})
    refused(fresh_ledger, data, "evidence.consent_reference")


def test_evidence_a_basis_does_not_take_is_refused_with_the_fields_it_takes(fresh_ledger, parties):
    data = disclosure(parties.third_party, evidence={
        "consent_reference": "Consent form C-0042", "consent_date": EARLIER, "statute": "Tax Act Art. 1"})
    error = refused(fresh_ledger, data, "evidence.statute")
    assert "consent_date" in error.rule and "consent_reference" in error.rule


def test_flat_evidence_keys_are_accepted(fresh_ledger, parties):
    data = disclosure(parties.third_party, evidence=DROP)
    data["evidence.consent_reference"] = "Consent form C-0042"
    data["evidence.consent_date"] = EARLIER
    summary = accepted(fresh_ledger, data)
    assert fresh_ledger.disclosure(summary.seq).evidence["consent_date"] == EARLIER


@pytest.mark.parametrize("value", ["2026-13-01", "1 June 2026", "2026/06/01"])
def test_a_malformed_evidence_date_is_refused(fresh_ledger, parties, value):
    data = disclosure(parties.third_party, evidence={"consent_reference": "C-0042", "consent_date": value})
    error = refused(fresh_ledger, data, "evidence.consent_date")
    assert "YYYY-MM-DD" in error.rule


@pytest.mark.parametrize("value", ["20260601", "2026-W22-1", "2026W221"])
def test_an_evidence_date_not_written_yyyy_mm_dd_is_refused(fresh_ledger, parties, value):
    data = disclosure(parties.third_party, evidence={"consent_reference": "C-0042", "consent_date": value})
    error = refused(fresh_ledger, data, "evidence.consent_date")
    assert "YYYY-MM-DD" in error.rule


def test_consent_obtained_after_the_provision_is_refused(fresh_ledger, parties):
    data = disclosure(parties.third_party, evidence={"consent_reference": "C-0042", "consent_date": "2026-06-11"})
    error = refused(fresh_ledger, data, "evidence.consent_date")
    assert error.article == REF.bases["consent"].appi


def test_consent_on_the_day_of_the_provision_is_accepted(fresh_ledger, parties):
    accepted(fresh_ledger, disclosure(parties.third_party,
                                      evidence={"consent_reference": "C-0042", "consent_date": PROVIDED_ON}))


# ---- unknown codes ------------------------------------------------------------------------


@pytest.mark.parametrize("field, bad, valid", [
    ("basis", "implied_consent", list(REF.bases)),
    ("purpose", "profiling", list(REF.purposes)),
    ("data_items", ["name", "shoe_size"], list(REF.data_items)),
    ("method", "carrier_pigeon", list(REF.methods)),
])
def test_unknown_code_is_refused_with_the_valid_ones(fresh_ledger, parties, field, bad, valid):
    error = refused(fresh_ledger, disclosure(parties.third_party, **{field: bad}), field)
    assert "unknown" in error.rule
    for code in valid:
        assert code in error.rule, f"{code} missing from {error.rule!r}"


def test_unknown_route_is_refused_with_the_valid_ones(fresh_ledger, parties):
    data = with_basis(parties.us_contractor, "outsourcing", route="binding_corporate_rules")
    error = refused(fresh_ledger, data, "route")
    assert "unknown" in error.rule
    for code in REF.routes:
        assert code in error.rule


def test_unknown_recipient_is_refused_naming_the_registered_ones(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure("P999"), "recipient")
    assert parties.contractor.party_id in error.rule


def test_recipient_by_name_is_accepted(fresh_ledger, parties):
    summary = accepted(fresh_ledger, disclosure(parties.affiliate.name.upper()))
    assert summary.recipient_id == parties.affiliate.party_id


def test_no_data_items_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, data_items=[]), "data_items")
    assert error.article == "PPC Rule 20(1)"


def test_a_data_item_listed_twice_is_refused(fresh_ledger, parties):
    refused(fresh_ledger, disclosure(parties.third_party, data_items=["name", "name"]), "data_items")


# ---- statutory record or voluntary --------------------------------------------------------


@pytest.mark.parametrize("recipient", ["third_party", "affiliate"])
@pytest.mark.parametrize("code", ["consent", "opt_out"])
def test_consent_and_opt_out_to_a_non_government_party_are_statutory(fresh_ledger, parties, code, recipient):
    data = with_basis(getattr(parties, recipient), code, data_items=["name", "email"])
    summary = accepted(fresh_ledger, data)
    assert summary.statutory is True
    assert summary.statutory_ground == f"basis:{code}"
    reason = fresh_ledger.statutory_reason(summary)
    assert reason == REF.bases[code].statutory_reason
    assert "Art. 29(1)" in reason
    assert fresh_ledger.entry(summary.seq).body["statutory"] == {"required": True, "ground": f"basis:{code}"}


def test_consent_to_a_foreign_party_is_statutory(fresh_ledger, parties):
    data = disclosure(parties.de_third_party, route="designated_country")
    summary = accepted(fresh_ledger, data)
    assert summary.statutory is True
    assert "Art. 29(1)" in fresh_ledger.statutory_reason(summary)


@pytest.mark.parametrize("code", ["consent", "opt_out"])
def test_consent_or_opt_out_to_a_government_body_is_voluntary(fresh_ledger, parties, code):
    summary = accepted(fresh_ledger, with_basis(parties.government, code, data_items=["name"]))
    assert summary.statutory is False
    assert summary.statutory_ground == "recipient:government"
    reason = fresh_ledger.statutory_reason(summary)
    assert reason == GOVERNMENT_REASON
    assert "Art. 16(2)" in reason and "voluntary" in reason


@pytest.mark.parametrize("basis", VOLUNTARY_BASES, ids=lambda b: b.code)
def test_art_27_1_exceptions_and_27_5_cases_are_voluntary(fresh_ledger, parties, basis):
    recipient = getattr(parties, RECIPIENT_FOR_BASIS.get(basis.code, "third_party"))
    summary = accepted(fresh_ledger, with_basis(recipient, basis.code))
    assert summary.statutory is False
    assert summary.statutory_ground == f"basis:{basis.code}"
    reason = fresh_ledger.statutory_reason(summary)
    assert reason == basis.statutory_reason
    assert reason.startswith("No statutory record")
    assert "voluntary" in reason
    article = "Art. 27(5)" if basis.category in ("outsourcing", "succession", "joint_use") else "Art. 27(1)("
    assert article in reason


def test_every_exception_and_art_27_5_case_is_covered():
    categories = {b.category for b in VOLUNTARY_BASES}
    assert categories == {"exception", "outsourcing", "succession", "joint_use"}
    assert len([b for b in VOLUNTARY_BASES if b.category == "exception"]) == 7


def test_statutory_only_the_statutory_ones_are_listed(fresh_ledger, parties):
    statutory = accepted(fresh_ledger, disclosure(parties.third_party)).seq
    accepted(fresh_ledger, with_basis(parties.contractor, "outsourcing"))
    accepted(fresh_ledger, disclosure(parties.government))
    assert [s.seq for s in fresh_ledger.disclosures(DisclosureFilter(statutory_only=True))] == [statutory]


# ---- retention (PPC Rule 21) ---------------------------------------------------------------


def test_retention_is_three_years_from_the_day_of_recording(fresh_ledger, parties):
    summary = accepted(fresh_ledger, disclosure(parties.third_party))
    assert summary.retention_until == "2029-06-15"
    assert "Rule 21" in fresh_ledger.retention_reason(summary)
    assert fresh_ledger.entry(summary.seq).body["retention_until"] == "2029-06-15"


def test_retention_under_freezegun_with_the_system_clock(tmp_path):
    with freeze_time("2026-06-15T03:00:00Z"):
        with LedgerService.open(tmp_path / "frozen.db", create=True, operator="Frozen") as service:
            party = service.register_party({"name": "Heian Textbook Publishers Inc.", "kind": "third_party",
                                            "country": "JP", "address": "Kyoto", "representative": "Watanabe"})
            summary = accepted(service, disclosure(party))
            assert summary.retention_until == "2029-06-15"
            assert summary.recorded_at.startswith("2026-06-15T03:00:00")
            refused(service, disclosure(party, date="2026-06-16"), "date")


def test_retention_counts_from_the_recording_day_in_tokyo(fresh_ledger, parties, clock):
    clock.set("2026-06-15T16:00:00Z")  # 01:00 on 16 June in Tokyo
    summary = accepted(fresh_ledger, disclosure(parties.third_party))
    assert summary.retention_until == "2029-06-16"


def test_bulk_record_is_kept_three_years_after_the_last_provision(fresh_ledger, parties):
    data = disclosure(parties.contractor, basis="outsourcing", evidence={"contract_reference": "DPA-2025-07"},
                      date="2026-05-01", last_day="2026-05-31")
    summary = accepted(fresh_ledger, data)
    assert summary.bulk is True
    assert (summary.first_day, summary.last_day) == ("2026-05-01", "2026-05-31")
    assert summary.retention_until == "2029-05-31"
    assert "last provision" in fresh_ledger.retention_reason(summary)


def test_contract_as_record_is_kept_one_year_after_the_last_provision(fresh_ledger, parties):
    single = accepted(fresh_ledger, disclosure(parties.third_party, contract_as_record=True))
    assert single.contract_as_record is True
    assert single.retention_until == "2027-06-10"
    bulk = accepted(fresh_ledger, disclosure(parties.third_party, contract_as_record=True,
                                             date="2026-05-20", last_day="2026-05-31"))
    assert bulk.retention_until == "2027-05-31"
    assert "1 year" in fresh_ledger.retention_reason(bulk)


def test_recorded_on_29_february_is_kept_until_28_february(fresh_ledger, parties, clock):
    clock.set("2028-02-29T03:00:00Z")
    summary = accepted(fresh_ledger, disclosure(parties.third_party, date="2028-02-29"))
    assert summary.retention_until == "2031-02-28"


def test_bulk_ending_on_29_february(fresh_ledger, parties, clock):
    clock.set("2028-03-02T03:00:00Z")
    summary = accepted(fresh_ledger, with_basis(parties.contractor, "outsourcing",
                                                date="2028-02-01", last_day="2028-02-29"))
    assert summary.retention_until == "2031-02-28"


# ---- cross-border (APPI Art. 28) ------------------------------------------------------------


def test_recipient_abroad_without_a_route_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, with_basis(parties.us_contractor, "outsourcing"), "route")
    assert "Art. 28(1)" in error.article
    for code in REF.routes:
        assert code in error.rule


def test_consent_informed_with_consent_is_accepted(fresh_ledger, parties):
    data = disclosure(parties.us_contractor, route="consent_informed",
                      route_evidence={"information_provided_on": EARLIER})
    summary = accepted(fresh_ledger, data)
    assert (summary.route, summary.country, summary.statutory) == ("consent_informed", "US", True)
    assert fresh_ledger.entry(summary.seq).body["cross_border"]["country"] == "US"


def test_consent_informed_needs_a_consent_basis(fresh_ledger, parties):
    data = with_basis(parties.us_contractor, "outsourcing", route="consent_informed",
                      route_evidence={"information_provided_on": EARLIER})
    error = refused(fresh_ledger, data, "route")
    assert error.article == REF.routes["consent_informed"].appi
    assert "consent" in error.rule


def test_consent_informed_needs_the_day_the_person_was_informed(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.us_contractor, route="consent_informed"),
                    "route_evidence.information_provided_on")
    assert error.article == REF.routes["consent_informed"].appi


def test_designated_country_is_refused_for_the_us(fresh_ledger, parties):
    error = refused(fresh_ledger, with_basis(parties.us_contractor, "outsourcing", route="designated_country"),
                    "route")
    assert "US" in error.rule and "designated" in error.rule
    assert error.article == REF.routes["designated_country"].appi


def test_designated_country_is_accepted_for_germany(fresh_ledger, parties):
    assert REF.countries["DE"].designated and not REF.countries["US"].designated
    summary = accepted(fresh_ledger, disclosure(parties.de_third_party, route="designated_country"))
    assert (summary.route, summary.country) == ("designated_country", "DE")


def test_equivalent_measures_with_evidence_is_accepted(fresh_ledger, parties):
    data = with_basis(parties.us_contractor, "outsourcing", route="equivalent_measures",
                      route_evidence=evidence_for(REF.routes["equivalent_measures"].evidence))
    summary = accepted(fresh_ledger, data)
    assert summary.route == "equivalent_measures"
    assert fresh_ledger.disclosure(summary.seq).route_evidence["last_checked_on"] == EARLIER


@pytest.mark.parametrize("code", [ev.code for ev in REF.routes["equivalent_measures"].evidence])
def test_equivalent_measures_evidence_is_required(fresh_ledger, parties, code):
    evidence = evidence_for(REF.routes["equivalent_measures"].evidence)
    del evidence[code]
    data = with_basis(parties.us_contractor, "outsourcing", route="equivalent_measures", route_evidence=evidence)
    error = refused(fresh_ledger, data, f"route_evidence.{code}")
    assert error.article == REF.routes["equivalent_measures"].appi


def test_equivalent_measures_checked_more_than_a_year_before_is_refused(fresh_ledger, parties):
    data = with_basis(parties.us_contractor, "outsourcing", route="equivalent_measures",
                      route_evidence={"measures_reference": "SCC 2024", "last_checked_on": "2025-06-09"})
    error = refused(fresh_ledger, data, "route_evidence.last_checked_on")
    assert error.article == "PPC Rule 18(1)"
    data["route_evidence"]["last_checked_on"] = "2025-06-10"  # exactly 365 days before
    accepted(fresh_ledger, data)


def test_exception_route_needs_an_exception_basis(fresh_ledger, parties):
    accepted(fresh_ledger, with_basis(parties.us_contractor, "law", route="exception"))
    error = refused(fresh_ledger, disclosure(parties.us_contractor, route="exception"), "route")
    assert error.article == REF.routes["exception"].appi


def test_a_route_for_a_domestic_recipient_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, route="designated_country"), "route")
    assert "abroad" in error.rule
    refused(fresh_ledger, disclosure(parties.third_party, route_evidence={"information_provided_on": EARLIER}),
            "route_evidence")


# ---- special care-required information (APPI Art. 27(2) proviso) ------------------------------


def test_some_items_are_care_required():
    assert "health" in CARE_REQUIRED and "name" not in CARE_REQUIRED


@pytest.mark.parametrize("item", CARE_REQUIRED)
def test_care_required_items_never_go_by_opt_out(fresh_ledger, parties, item):
    error = refused(fresh_ledger, with_basis(parties.third_party, "opt_out", data_items=["name", item]),
                    "data_items")
    assert item in error.rule
    assert error.article == "APPI Art. 27(2) proviso"


def test_care_required_items_may_go_by_consent(fresh_ledger, parties):
    summary = accepted(fresh_ledger, disclosure(parties.third_party, data_items=["name", "health", "disability"]))
    assert summary.data_items == ("name", "health", "disability")


def test_opt_out_of_ordinary_items_is_accepted(fresh_ledger, parties):
    summary = accepted(fresh_ledger, with_basis(parties.third_party, "opt_out", data_items=["name", "address"]))
    assert summary.basis == "opt_out" and summary.statutory


# ---- bulk records and outsourcing ------------------------------------------------------------


def test_opt_out_cannot_be_a_bulk_record(fresh_ledger, parties):
    data = with_basis(parties.third_party, "opt_out", data_items=["name"], date="2026-05-01", last_day="2026-05-31")
    error = refused(fresh_ledger, data, "last_day")
    assert error.article == "PPC Rule 19(2)"


def test_opt_out_to_a_described_group_is_refused(fresh_ledger, parties):
    data = with_basis(parties.third_party, "opt_out", data_items=["name"], subjects=DROP,
                      group_description="Spring applicants", group_count=120)
    refused(fresh_ledger, data, "last_day")


@pytest.mark.parametrize("kind", ["contractor", "subcontractor"])
def test_outsourcing_to_a_contractor_or_subcontractor_is_accepted(fresh_ledger, parties, kind):
    summary = accepted(fresh_ledger, with_basis(getattr(parties, kind), "outsourcing"))
    assert summary.basis == "outsourcing"


@pytest.mark.parametrize("kind", ["third_party", "affiliate", "government", "joint_user", "successor"])
def test_outsourcing_to_any_other_party_is_refused(fresh_ledger, parties, kind):
    error = refused(fresh_ledger, with_basis(getattr(parties, kind), "outsourcing"), "basis")
    assert "contractor or subcontractor" in error.rule
    assert error.article == REF.bases["outsourcing"].appi


# ---- dates ------------------------------------------------------------------------------------


def test_a_disclosure_date_in_the_future_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, date="2026-06-16"), "date")
    assert "future" in error.rule


def test_a_disclosure_today_is_accepted(fresh_ledger, parties):
    accepted(fresh_ledger, disclosure(parties.third_party, date="2026-06-15"))


def test_a_last_day_in_the_future_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, date="2026-06-01", last_day="2026-06-30"),
                    "last_day")
    assert "future" in error.rule


def test_a_bulk_record_up_to_today_is_accepted(fresh_ledger, parties):
    accepted(fresh_ledger, disclosure(parties.third_party, date="2026-06-01", last_day="2026-06-15"))


def test_the_future_is_judged_in_tokyo_after_midnight_there(fresh_ledger, parties, clock):
    clock.set("2026-06-15T16:00:00Z")  # already 01:00 on 16 June in Tokyo
    assert fresh_ledger.today() == date(2026, 6, 16)
    accepted(fresh_ledger, disclosure(parties.third_party, date="2026-06-16"))
    accepted(fresh_ledger, disclosure(parties.third_party, date="2026-06-10", last_day="2026-06-16"))


def test_the_future_is_judged_in_tokyo_before_midnight_there(fresh_ledger, parties, clock):
    clock.set("2026-06-15T14:00:00Z")  # 23:00 on 15 June in Tokyo
    assert fresh_ledger.today() == date(2026, 6, 15)
    refused(fresh_ledger, disclosure(parties.third_party, date="2026-06-16"), "date")
    refused(fresh_ledger, disclosure(parties.third_party, date="2026-06-10", last_day="2026-06-16"), "last_day")


def test_freezegun_moves_the_future_line(tmp_path):
    with freeze_time(datetime(2026, 6, 15, 14, 59, 59, tzinfo=timezone.utc)) as frozen:
        with LedgerService.open(tmp_path / "frozen.db", create=True, operator="Frozen") as service:
            party = service.register_party({"name": "Heian Textbook Publishers Inc.", "kind": "third_party",
                                            "country": "JP", "address": "Kyoto", "representative": "Watanabe"})
            refused(service, disclosure(party, date="2026-06-16"), "date")
            frozen.tick(1.0)  # 15:00:00Z is midnight in Tokyo
            accepted(service, disclosure(party, date="2026-06-16"))


def test_last_day_before_the_first_day_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, date="2026-06-10", last_day="2026-06-09"),
                    "last_day")
    assert "before" in error.rule


@pytest.mark.parametrize("value", ["2026-02-30", "10/06/2026", "2026-6-1", "tomorrow"])
def test_a_malformed_date_is_refused(fresh_ledger, parties, value):
    error = refused(fresh_ledger, disclosure(parties.third_party, date=value), "date")
    assert "YYYY-MM-DD" in error.rule


def test_date_and_first_day_together_are_refused(fresh_ledger, parties):
    refused(fresh_ledger, disclosure(parties.third_party, first_day="2026-06-09"), "date")


def test_no_date_is_refused(fresh_ledger, parties):
    refused(fresh_ledger, disclosure(parties.third_party, date=DROP), "date")


# ---- subjects ------------------------------------------------------------------------------------


def test_no_subjects_is_refused(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, subjects=[]), "subjects")
    assert "Art. 29(1)" in error.article


def test_identified_subjects_and_a_group_together_are_refused(fresh_ledger, parties):
    data = disclosure(parties.third_party, date="2026-06-01", last_day="2026-06-10",
                      group_description="Grade 3 pupils of the Kyoto branch", group_count=42)
    error = refused(fresh_ledger, data, "subjects")
    assert "not both" in error.rule


def test_a_described_group_with_count_and_last_day_is_accepted(fresh_ledger, parties):
    data = disclosure(parties.third_party, subjects=DROP, date="2026-06-01", last_day="2026-06-10",
                      group_description="Grade 3 pupils of the Kyoto branch", group_count="42")
    summary = accepted(fresh_ledger, data)
    assert (summary.bulk, summary.subject_count) == (True, 42)
    assert fresh_ledger.disclosure(summary.seq).group_description == "Grade 3 pupils of the Kyoto branch"


@pytest.mark.parametrize("missing, field", [
    ("group_description", "group_description"),
    ("group_count", "group_count"),
    ("last_day", "last_day"),
])
def test_a_group_needs_description_count_and_last_day(fresh_ledger, parties, missing, field):
    data = disclosure(parties.third_party, subjects=DROP, date="2026-06-01", last_day="2026-06-10",
                      group_description="Grade 3 pupils of the Kyoto branch", group_count=42)
    data[missing] = None
    refused(fresh_ledger, data, field)


@pytest.mark.parametrize("count", [0, -3, "many", 1.5, True])
def test_a_group_count_must_be_a_positive_whole_number(fresh_ledger, parties, count):
    data = disclosure(parties.third_party, subjects=DROP, date="2026-06-01", last_day="2026-06-10",
                      group_description="Grade 3 pupils", group_count=count)
    refused(fresh_ledger, data, "group_count")


@pytest.mark.parametrize("subjects", [
    ["KY-STU-0001", "KY-STU-0002", "KY-STU-0001"],
    ["KY-STU-0001", " KY-STU-0001 "],
    "KY-STU-0001;KY-STU-0001",
])
def test_a_subject_listed_twice_is_refused(fresh_ledger, parties, subjects):
    error = refused(fresh_ledger, disclosure(parties.third_party, subjects=subjects), "subjects")
    assert "KY-STU-0001" in error.rule and "twice" in error.rule


def test_subjects_separated_by_semicolons_are_accepted(fresh_ledger, parties):
    summary = accepted(fresh_ledger, disclosure(parties.third_party, subjects="KY-STU-0001; KY-STU-0002"))
    assert fresh_ledger.disclosure(summary.seq).subjects == ("KY-STU-0001", "KY-STU-0002")


# ---- bad text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, field", [
    ({"notes": "Sent\x00 twice"}, "notes"),
    ({"notes": "\x1b[2J cleared the screen"}, "notes"),
    ({"notes": "x" * 2001}, "notes"),
    ({"notes": "lone \ud800 surrogate"}, "notes"),
    ({"subjects": ["KY-STU-0001", "KY\x07STU"]}, "subjects[2]"),
    ({"subjects": ["K" * 201]}, "subjects[1]"),
    ({"subjects": ["KY-\udfff"]}, "subjects[1]"),
    ({"purpose": "business_communication\n"}, None),  # trailing whitespace is trimmed, not refused
    ({"purpose": "business\ncommunication"}, "purpose"),
    ({"recipient": "P001\x1b"}, "recipient"),
    ({"recipient": "P" * 201}, "recipient"),
    ({"method": "sftp\x00"}, "method"),
    ({"evidence": {"consent_reference": "C-\x0c0042", "consent_date": EARLIER}}, "evidence.consent_reference"),
    ({"evidence": {"consent_reference": "C-\ud83d", "consent_date": EARLIER}}, "evidence.consent_reference"),
    ({"evidence": {"consent_reference": "C" * 2001, "consent_date": EARLIER}}, "evidence.consent_reference"),
    ({"subjects": DROP, "date": "2026-06-01", "last_day": "2026-06-10", "group_count": 3,
      "group_description": "g" * 2001}, "group_description"),
])
def test_bad_text_is_refused_naming_the_field(fresh_ledger, parties, changes, field):
    data = disclosure(parties.third_party, **changes)
    if field is None:
        accepted(fresh_ledger, data)
        return
    error = refused(fresh_ledger, data, field)
    assert any(word in error.rule for word in ("control", "too long", "Unicode"))


@pytest.mark.parametrize("value", [42, ["a"], {"a": 1}])
def test_text_fields_must_be_text(fresh_ledger, parties, value):
    refused(fresh_ledger, disclosure(parties.third_party, notes=value), "notes")


def test_an_unknown_field_is_refused_with_the_fields(fresh_ledger, parties):
    error = refused(fresh_ledger, disclosure(parties.third_party, recipent="P001"), "recipent")
    assert "recipient" in error.rule


def test_notes_may_hold_newlines_and_tabs(fresh_ledger, parties):
    summary = accepted(fresh_ledger, disclosure(parties.third_party, notes="Line one\n\tLine two"))
    assert fresh_ledger.disclosure(summary.seq).notes == "Line one\n\tLine two"


def test_check_disclosure_reports_without_writing(fresh_ledger, parties):
    before = fresh_ledger.counts()
    assert fresh_ledger.check_disclosure(disclosure(parties.third_party)) == []
    errors = fresh_ledger.check_disclosure(disclosure(parties.third_party, date="2026-07-01", purpose="x"))
    assert {e.field for e in errors} >= {"date", "purpose"}
    assert fresh_ledger.counts() == before


def test_several_refusals_are_reported_at_once(fresh_ledger, parties):
    before = fresh_ledger.counts()["entries"]
    with pytest.raises(ValidationErrors) as info:
        fresh_ledger.record_disclosure(disclosure(parties.third_party, date="2026-07-01", purpose="x",
                                                  data_items=["shoe_size"]))
    assert {e.field for e in info.value.errors} >= {"date", "purpose", "data_items"}
    assert fresh_ledger.counts()["entries"] == before


@pytest.mark.parametrize("changes, field", [
    ({"notes": "Sent\x00 twice"}, "notes"),
    ({"subjects": ("KY\x07STU",)}, "subjects[1]"),
    ({"notes": "x" * 2001}, "notes"),
    ({"notes": "lone \ud800 surrogate"}, "notes"),
])
def test_bad_text_in_a_typed_input_is_refused(fresh_ledger, parties, changes, field):
    fields = dict(recipient=parties.third_party.party_id, first_day=date(2026, 6, 10),
                  subjects=("KY-STU-0001",), data_items=("name",), purpose="business_communication",
                  basis="law", evidence={"statute": "Income Tax Act Art. 225"})
    fields.update(changes)
    refused(fresh_ledger, DisclosureInput(**fields), field)
