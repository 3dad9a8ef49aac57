"""Reference data in data/: the shipped files, and how malformed files are reported."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import MappingProxyType

import pytest

from ledger.errors import ReferenceDataError
from ledger.refdata import (
    BASIS_CATEGORIES,
    FILES,
    ReferenceData,
    clear_cache,
    data_folder,
    load_reference_data,
)

REPO_DATA = Path(__file__).resolve().parents[2] / "data"

BASES = [
    "consent",
    "law",
    "life_body_property",
    "public_health_children",
    "government_cooperation",
    "academic_teaching",
    "academic_research",
    "academic_recipient",
    "opt_out",
    "outsourcing",
    "business_succession",
    "joint_use",
]

# basis -> (category, APPI provision it must cite, GDPR provision it must cite,
#           evidence as (code, kind, personal))
BASIS_FACTS = {
    "consent": (
        "consent",
        "Art. 27(1)",
        "Art. 6(1)(a)",
        [("consent_reference", "text", True), ("consent_date", "date", False)],
    ),
    "law": ("exception", "Art. 27(1)(i)", "Art. 6(1)(c)", [("statute", "text", False)]),
    "life_body_property": (
        "exception",
        "Art. 27(1)(ii)",
        "Art. 6(1)(d)",
        [("danger", "text", True), ("consent_impracticable_reason", "text", True)],
    ),
    "public_health_children": (
        "exception",
        "Art. 27(1)(iii)",
        "Art. 6(1)(d)",
        [("public_need", "text", True), ("consent_impracticable_reason", "text", True)],
    ),
    "government_cooperation": (
        "exception",
        "Art. 27(1)(iv)",
        "Art. 6(1)(c)",
        [("agency", "text", False), ("request_reference", "text", False)],
    ),
    "academic_teaching": (
        "exception",
        "Art. 27(1)(v)",
        "Art. 89",
        [("research_purpose", "text", False)],
    ),
    "academic_research": (
        "exception",
        "Art. 27(1)(vi)",
        "Art. 89",
        [("research_purpose", "text", False)],
    ),
    "academic_recipient": (
        "exception",
        "Art. 27(1)(vii)",
        "Art. 89",
        [("research_purpose", "text", False)],
    ),
    "opt_out": ("opt_out", "Art. 27(2)", "Art. 6(1)(f)", [("ppc_notification", "text", False)]),
    "outsourcing": (
        "outsourcing",
        "Art. 27(5)(i)",
        "Art. 28",
        [("contract_reference", "text", False)],
    ),
    "business_succession": (
        "succession",
        "Art. 27(5)(ii)",
        "Art. 6(1)(f)",
        [("succession_reference", "text", False)],
    ),
    "joint_use": (
        "joint_use",
        "Art. 27(5)(iii)",
        "Art. 26",
        [("published_notice", "text", False)],
    ),
}

PURPOSES = [
    "business_communication",
    "mail_magazine_dm_notifications",
    "service_provision_improvement_marketing",
    "affiliate_provision_with_consent",
    "terms_violation_investigation",
]

PARTY_KINDS = [
    "contractor",
    "subcontractor",
    "third_party",
    "affiliate",
    "joint_user",
    "successor",
    "government_body",
]

DESIGNATED = set(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
    " IS LI NO GB".split()
)

CARE_REQUIRED = {
    "health",
    "disability",
    "race",
    "creed",
    "social_status",
    "criminal_record",
    "crime_victim",
}


@pytest.fixture(scope="module")
def ref() -> ReferenceData:
    return load_reference_data(REPO_DATA)


# ---------------------------------------------------------------- shipped --


def test_bases_are_exactly_the_listed_ones_in_order(ref: ReferenceData) -> None:
    assert list(ref.bases) == BASES


@pytest.mark.parametrize("code", BASES)
def test_basis_category_citations_and_evidence(ref: ReferenceData, code: str) -> None:
    category, appi, gdpr, evidence = BASIS_FACTS[code]
    basis = ref.bases[code]
    assert basis.code == code
    assert basis.category == category
    assert appi in basis.appi
    assert gdpr in basis.gdpr
    assert [(e.code, e.kind, e.personal) for e in basis.evidence] == evidence
    assert all(e.label.strip() and e.help.strip() for e in basis.evidence)
    assert basis.name_ja.strip() and basis.summary.strip()
    assert "Art. 29" in basis.statutory_reason


def test_only_consent_and_opt_out_are_statutory(ref: ReferenceData) -> None:
    statutory = {code for code, basis in ref.bases.items() if basis.statutory_record}
    assert statutory == {"consent", "opt_out"}


def test_opt_out_refuses_care_required_data_and_bulk_records(ref: ReferenceData) -> None:
    opt_out = ref.bases["opt_out"]
    assert opt_out.care_required_allowed is False
    assert opt_out.bulk_allowed is False
    others = [b for code, b in ref.bases.items() if code != "opt_out"]
    assert all(b.care_required_allowed and b.bulk_allowed for b in others)


def test_outsourcing_is_limited_to_contractors(ref: ReferenceData) -> None:
    assert ref.bases["outsourcing"].allowed_recipient_kinds == ("contractor", "subcontractor")
    assert ref.bases["consent"].allowed_recipient_kinds == ()


def test_routes(ref: ReferenceData) -> None:
    routes = ref.routes
    assert list(routes) == [
        "consent_informed",
        "equivalent_measures",
        "designated_country",
        "exception",
    ]
    assert routes["consent_informed"].requires_basis_categories == ("consent",)
    assert [(e.code, e.kind) for e in routes["consent_informed"].evidence] == [
        ("information_provided_on", "date")
    ]
    assert routes["equivalent_measures"].requires_equivalent_measures is True
    assert [(e.code, e.kind) for e in routes["equivalent_measures"].evidence] == [
        ("measures_reference", "text"),
        ("last_checked_on", "date"),
    ]
    assert routes["designated_country"].requires_designated_country is True
    assert routes["designated_country"].evidence == ()
    assert routes["exception"].requires_basis_categories == ("exception",)
    assert sum(r.requires_designated_country for r in routes.values()) == 1
    assert sum(r.requires_equivalent_measures for r in routes.values()) == 1
    for route in routes.values():
        assert set(route.requires_basis_categories) <= set(BASIS_CATEGORIES)
        assert "Art. 28" in route.appi


def test_methods(ref: ReferenceData) -> None:
    assert list(ref.methods) == [
        "sftp",
        "api",
        "encrypted_email",
        "email",
        "portal_upload",
        "physical_media",
        "paper",
        "in_person",
        "other",
    ]


def test_purposes_are_the_privacy_policy_ones(ref: ReferenceData) -> None:
    assert list(ref.purposes) == PURPOSES
    assert all(p.name_ja.strip() and p.summary.strip() for p in ref.purposes.values())


def test_party_kinds_and_only_government_body_is_government(ref: ReferenceData) -> None:
    assert list(ref.party_kinds) == PARTY_KINDS
    government = [code for code, kind in ref.party_kinds.items() if kind.government]
    assert government == ["government_body"]


def test_data_items(ref: ReferenceData) -> None:
    required = {
        "name", "address", "email", "phone", "date_of_birth", "gender", "student_id",
        "school_name", "guardian_contact", "learning_records", "grade_records",
        "payment_card", "bank_account", "purchase_history", "cookie_id", "device_id",
        "ip_address", "photo", "voice_recording",
    }  # fmt: skip
    assert required | CARE_REQUIRED <= set(ref.data_items)
    for code in CARE_REQUIRED:
        assert ref.data_items[code].care_required, code
    for code in required:
        assert not ref.data_items[code].care_required, code
        assert not ref.data_items[code].gdpr_special, code
    assert ref.data_items["health"].gdpr_special
    assert ref.data_items["race"].gdpr_special
    assert not ref.data_items["criminal_record"].gdpr_special  # GDPR Art. 10, not Art. 9


def test_countries(ref: ReferenceData) -> None:
    countries = ref.countries
    assert len(countries) == 249
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in countries)
    assert {code for code, c in countries.items() if c.designated} == DESIGNATED
    assert countries["JP"].designated is False
    for code in ("DE", "FR", "GB", "NO"):
        assert countries[code].designated is True, code
    assert countries["US"].designated is False
    assert countries["JP"].name == "Japan"


def test_settings(ref: ReferenceData) -> None:
    s = ref.settings
    assert (s.home_country, s.timezone) == ("JP", "Asia/Tokyo")
    assert s.retention_years == 3
    assert s.contract_record_retention_years == 1
    assert s.assessment_validity_months == 12
    assert s.fiscal_year_start_month == 4
    assert s.equivalent_measures_check_days == 365


def test_reference_data_is_read_only(ref: ReferenceData) -> None:
    assert isinstance(ref.bases, MappingProxyType)
    with pytest.raises(TypeError):
        ref.bases["x"] = ref.bases["law"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        ref.bases["law"].statutory_record = True  # type: ignore[misc]


def test_load_is_cached_per_folder() -> None:
    assert load_reference_data(REPO_DATA) is load_reference_data(str(REPO_DATA))


def test_data_folder_uses_environment_override(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DISCLOSURE_LEDGER_DATA", str(tmp_path))
    assert data_folder() == tmp_path
    monkeypatch.delenv("DISCLOSURE_LEDGER_DATA")
    folder = data_folder()
    assert folder.name in ("data", "_data")
    assert (folder / "legal_bases.toml").is_file()


def test_default_folder_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCLOSURE_LEDGER_DATA", raising=False)
    assert list(load_reference_data().bases) == BASES


# ------------------------------------------------------------- malformed --


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(REPO_DATA, folder)
    return folder


def edit(path: Path, old: str, new: str, *, after: str = "") -> None:
    """Replace the first ``old`` that follows ``after`` in ``path``."""
    text = path.read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")


def fails(folder: Path, *fragments: str) -> str:
    with pytest.raises(ReferenceDataError) as caught:
        load_reference_data(folder)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    return message


# (file, text to find after, old text, new text, fragments the message must hold)
MALFORMATIONS = {
    "toml_syntax": (
        "legal_bases.toml",
        'code = "law"',
        'name = "Required by law"',
        'name = "Required by law',
        ["legal_bases.toml", "not valid TOML", "line"],
    ),
    "missing_key": (
        "legal_bases.toml",
        'code = "law"',
        "statutory_record = false\n",
        "",
        ["legal_bases.toml: basis[2] (code 'law')", "missing required key 'statutory_record'"],
    ),
    "wrong_type_bool": (
        "legal_bases.toml",
        'code = "law"',
        "statutory_record = false",
        'statutory_record = "no"',
        ["legal_bases.toml: basis[2] (code 'law')", "statutory_record must be true or false"],
    ),
    "wrong_type_text": (
        "purposes.toml",
        'code = "business_communication"',
        'name = "Business-related communication"',
        "name = 42",
        ["purposes.toml: purpose[1]", "name must be a text string"],
    ),
    "empty_text": (
        "party_kinds.toml",
        'code = "affiliate"',
        'name = "Affiliated business or organisation"',
        'name = "  "',
        ["party_kinds.toml: kind[4] (code 'affiliate')", "name must not be empty"],
    ),
    "wrong_type_list": (
        "legal_bases.toml",
        'code = "outsourcing"',
        'allowed_recipient_kinds = ["contractor", "subcontractor"]',
        'allowed_recipient_kinds = "contractor"',
        [
            "legal_bases.toml: basis[10] (code 'outsourcing')",
            "allowed_recipient_kinds must be a list",
        ],
    ),
    "unknown_key": (
        "party_kinds.toml",
        'code = "contractor"',
        "government = false\n",
        "government = false\ngovernmental = false\n",
        ["party_kinds.toml: kind[1] (code 'contractor')", "unknown key 'governmental'"],
    ),
    "unknown_top_level_key": (
        "data_items.toml",
        "",
        "[[item]]",
        "version = 2\n\n[[item]]",
        ["data_items.toml", "unknown key 'version' at top level"],
    ),
    "duplicate_code": (
        "purposes.toml",
        "",
        'code = "mail_magazine_dm_notifications"',
        'code = "business_communication"',
        ["purposes.toml: purpose[2] (code 'business_communication')", "duplicate code"],
    ),
    "bad_code": (
        "data_items.toml",
        "",
        'code = "date_of_birth"',
        'code = "Date of birth"',
        ["data_items.toml: item[", "code 'Date of birth' is not valid"],
    ),
    "bad_country_code": (
        "countries.toml",
        "",
        'code = "JP"',
        'code = "jp"',
        ["countries.toml: country[", "code 'jp' is not valid", "ISO 3166-1"],
    ),
    "duplicate_country": (
        "countries.toml",
        "",
        'code = "US"',
        'code = "JP"',
        ["countries.toml: country[", "duplicate code 'JP'"],
    ),
    "evidence_kind": (
        "legal_bases.toml",
        'code = "consent_date"',
        'kind = "date"',
        'kind = "number"',
        [
            "legal_bases.toml: basis[1] (code 'consent'), evidence[2] (code 'consent_date')",
            "kind must be 'text' or 'date'",
        ],
    ),
    "evidence_missing_key": (
        "legal_bases.toml",
        'code = "statute"',
        "personal = false\n",
        "",
        ["basis[2] (code 'law'), evidence[1] (code 'statute')", "missing required key 'personal'"],
    ),
    "duplicate_evidence": (
        "legal_bases.toml",
        'code = "consent_date"',
        'code = "consent_date"',
        'code = "consent_reference"',
        ["basis[1] (code 'consent'), evidence[2]", "duplicate code 'consent_reference'"],
    ),
    "unknown_recipient_kind": (
        "legal_bases.toml",
        'code = "outsourcing"',
        '"subcontractor"]',
        '"vendor"]',
        ["basis[10] (code 'outsourcing')", "unknown party kind 'vendor'"],
    ),
    "unknown_basis_category": (
        "legal_bases.toml",
        'code = "joint_use"',
        'category = "joint_use"',
        'category = "sharing"',
        ["basis[12] (code 'joint_use')", "category must be one of", "'sharing'"],
    ),
    "unknown_route_category": (
        "legal_bases.toml",
        "[[route]]",
        'requires_basis_categories = ["consent"]',
        'requires_basis_categories = ["agreement"]',
        ["legal_bases.toml: route[1] (code 'consent_informed')", "unknown category 'agreement'"],
    ),
    "misspelt_table": (
        "purposes.toml",
        "",
        "[[purpose]]",
        "[[purpose_of_use]]",
        ["purposes.toml", "unknown key 'purpose_of_use'"],
    ),
    "timezone": (
        "settings.toml",
        "",
        'timezone = "Asia/Tokyo"',
        'timezone = "Asia/Kyoto"',
        ["settings.toml", "timezone 'Asia/Kyoto' is not a known time zone"],
    ),
    "fiscal_month": (
        "settings.toml",
        "",
        "fiscal_year_start_month = 4",
        "fiscal_year_start_month = 13",
        ["settings.toml", "fiscal_year_start_month must be from 1 to 12, not 13"],
    ),
    "home_country": (
        "settings.toml",
        "",
        'home_country = "JP"',
        'home_country = "XX"',
        ["settings.toml", "home_country 'XX' is not a country code in countries.toml"],
    ),
    "retention_below_statute": (
        "settings.toml",
        "",
        "retention_years = 3",
        "retention_years = 1",
        ["settings.toml", "retention_years must be from 3", "PPC Rule 21"],
    ),
    "setting_wrong_type": (
        "settings.toml",
        "",
        "assessment_validity_months = 12",
        'assessment_validity_months = "12"',
        ["settings.toml", "assessment_validity_months must be a whole number"],
    ),
    "setting_bool_is_not_int": (
        "settings.toml",
        "",
        "equivalent_measures_check_days = 365",
        "equivalent_measures_check_days = true",
        ["settings.toml", "equivalent_measures_check_days must be a whole number"],
    ),
    "setting_missing": (
        "settings.toml",
        "",
        "retention_years = 3\n",
        "",
        ["settings.toml", "missing required key 'retention_years'"],
    ),
}


@pytest.mark.parametrize("case", list(MALFORMATIONS))
def test_malformed_file_is_reported(data: Path, case: str) -> None:
    file, after, old, new, fragments = MALFORMATIONS[case]
    edit(data / file, old, new, after=after)
    message = fails(data, *fragments)
    assert message.startswith(file), message


@pytest.mark.parametrize("file", FILES)
def test_missing_file(data: Path, file: str) -> None:
    (data / file).unlink()
    message = fails(data, file, "file not found")
    assert message.startswith(file)


def test_missing_folder(tmp_path: Path) -> None:
    fails(tmp_path / "nowhere", "reference data folder not found")


def test_syntax_error_names_the_line(data: Path) -> None:
    path = data / "settings.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.startswith("timezone"))
    lines[number - 1] = "timezone = Asia/Tokyo"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    fails(data, "settings.toml: not valid TOML", f"line {number}")


def test_empty_array_of_tables(data: Path) -> None:
    (data / "purposes.toml").write_text("purpose = []\n", encoding="utf-8")
    fails(data, "purposes.toml", "has no [[purpose]] entries")


def test_absent_array_of_tables(data: Path) -> None:
    (data / "party_kinds.toml").write_text("# nothing\n", encoding="utf-8")
    fails(data, "party_kinds.toml", "missing [[kind]] tables")


def test_entry_that_is_not_a_table(data: Path) -> None:
    (data / "party_kinds.toml").write_text('kind = ["contractor"]\n', encoding="utf-8")
    fails(data, "party_kinds.toml: kind[1]", "must be a table")


def test_invalid_utf8(data: Path) -> None:
    (data / "data_items.toml").write_bytes(b'[[item]]\ncode = "\xff"\n')
    fails(data, "data_items.toml", "UTF-8")


def test_a_fixed_file_loads_again(data: Path) -> None:
    path = data / "settings.toml"
    good = path.read_text(encoding="utf-8")
    edit(path, "fiscal_year_start_month = 4", "fiscal_year_start_month = 0")
    fails(data, "fiscal_year_start_month")
    path.write_text(good, encoding="utf-8")
    assert load_reference_data(data).settings.fiscal_year_start_month == 4


@pytest.mark.parametrize("file", FILES)
def test_truncated_file_never_escapes_as_a_raw_exception(data: Path, file: str) -> None:
    path = data / file
    text = path.read_text(encoding="utf-8")
    failures = 0
    for cut in range(0, len(text), len(text) // 9 + 1):
        path.write_text(text[:cut], encoding="utf-8")
        clear_cache()
        try:
            load_reference_data(data)
        except ReferenceDataError as exc:
            assert file in str(exc), str(exc)  # the file, or a file that refers to it
            failures += 1
    assert failures > 0


# -------------------------------------------------------------- checklist --

CHECKLIST_AREAS = [
    "basic_policy",
    "handling_rules",
    "organisational",
    "personnel",
    "physical",
    "technical",
    "foreign_environment",
    "contract_terms",
]

# The id prefix of each area's items.
AREA_PREFIX = {
    "basic_policy": "BP",
    "handling_rules": "HR",
    "organisational": "OR",
    "personnel": "PS",
    "physical": "PH",
    "technical": "TS",
    "foreign_environment": "FE",
    "contract_terms": "CT",
}

CRITICAL_ITEMS = {"OR-03", "PS-01", "TS-01", "CT-01", "CT-02", "CT-03", "CT-04", "CT-06"}


def test_checklist_areas(ref: ReferenceData) -> None:
    assert list(ref.checklist_areas) == CHECKLIST_AREAS
    for code, area in ref.checklist_areas.items():
        assert area.code == code
        assert area.name.strip() and area.name_ja.strip()
        assert "3-4-4" in area.guideline, code
    assert "annex 10-7" in ref.checklist_areas["foreign_environment"].guideline
    assert "Art. 28(3)" in ref.checklist_areas["contract_terms"].guideline


def test_checklist_items(ref: ReferenceData) -> None:
    items = ref.checklist
    assert isinstance(items, MappingProxyType)
    assert 25 <= len(items) <= 40
    for item_id, item in items.items():
        assert item.id == item_id
        assert re.fullmatch(r"[A-Z]{2}-\d{2}", item_id)
        assert item_id.startswith(AREA_PREFIX[item.area] + "-"), item_id
        assert 1 <= item.weight <= 5
        assert item.question.endswith("?"), item_id
        assert "APPI" in item.appi or "PPC" in item.appi, item_id
        assert item.gdpr.startswith("GDPR"), item_id
    assert {item.area for item in items.values()} == set(CHECKLIST_AREAS)
    assert {i for i, item in items.items() if item.critical} == CRITICAL_ITEMS
    assert all(items[i].weight == 5 for i in CRITICAL_ITEMS)


def test_contract_terms_cover_gdpr_art_28_3(ref: ReferenceData) -> None:
    cited = " ".join(i.gdpr for i in ref.checklist.values() if i.area == "contract_terms")
    for point in ("28(3)(a)", "28(3)(c)", "28(3)(d)", "28(3)(e)", "28(3)(f)", "28(3)(g)",
                  "28(3)(h)", "28(2)", "28(4)"):
        assert point in cited, point
    assert "28(3)(b)" in ref.checklist["PS-01"].gdpr  # staff confidentiality


def test_assessment_settings(ref: ReferenceData) -> None:
    assert ref.assessment.condition_deadline_days == 90
    assert ref.assessment.expiring_within_days == 30


# (text to find after, old text, new text, fragments the message must hold)
CHECKLIST_MALFORMATIONS = {
    "unknown_area": (
        'id = "PH-01"',
        'area = "physical"',
        'area = "physcal"',
        ["checklist.toml: item[", "(id 'PH-01')", "unknown area 'physcal'", "physical"],
    ),
    "duplicate_id": (
        "",
        'id = "BP-02"',
        'id = "BP-01"',
        ["checklist.toml: item[2] (id 'BP-01')", "duplicate id 'BP-01' (also item[1])"],
    ),
    "bad_id": (
        "",
        'id = "TS-03"',
        'id = "TS-3"',
        ["checklist.toml: item[", "id 'TS-3' is not valid", "like 'TS-03'"],
    ),
    "lower_case_id": (
        "",
        'id = "TS-03"',
        'id = "ts-03"',
        ["checklist.toml: item[", "id 'ts-03' is not valid"],
    ),
    "id_not_text": (
        "",
        'id = "BP-01"',
        "id = 1",
        ["checklist.toml: item[1]", "id must be a text string"],
    ),
    "weight_too_high": (
        'id = "TS-01"',
        "weight = 5",
        "weight = 6",
        ["checklist.toml: item[", "(id 'TS-01')", "weight must be from 1 to 5, not 6"],
    ),
    "weight_zero": (
        'id = "BP-02"',
        "weight = 2",
        "weight = 0",
        ["checklist.toml: item[2] (id 'BP-02')", "weight must be from 1 to 5, not 0"],
    ),
    "weight_text": (
        'id = "BP-02"',
        "weight = 2",
        'weight = "2"',
        ["checklist.toml: item[2] (id 'BP-02')", "weight must be a whole number"],
    ),
    "weight_fraction": (
        'id = "BP-02"',
        "weight = 2",
        "weight = 2.5",
        ["checklist.toml: item[2] (id 'BP-02')", "weight must be a whole number"],
    ),
    "critical_not_bool": (
        'id = "BP-01"',
        "critical = false",
        'critical = "no"',
        ["checklist.toml: item[1] (id 'BP-01')", "critical must be true or false"],
    ),
    "item_missing_key": (
        'id = "BP-01"',
        'gdpr = "GDPR Art. 24(2)"\n',
        "",
        ["checklist.toml: item[1] (id 'BP-01')", "missing required key 'gdpr'"],
    ),
    "item_missing_id": (
        "",
        'id = "BP-01"\n',
        "",
        ["checklist.toml: item[1]", "missing required key 'id'"],
    ),
    "empty_question": (
        'id = "BP-01"',
        'question = "Has the contractor adopted a written basic policy on the protection of '
        "personal data that covers compliance with the law, its security measures and a "
        'contact point for questions and complaints?"',
        'question = "  "',
        ["checklist.toml: item[1] (id 'BP-01')", "question must not be empty"],
    ),
    "item_unknown_key": (
        'id = "BP-01"',
        "critical = false\n",
        "critical = false\nmandatory = true\n",
        ["checklist.toml: item[1] (id 'BP-01')", "unknown key 'mandatory'"],
    ),
    "area_missing_key": (
        'code = "personnel"',
        'guideline = "PPC general guideline 3-4-4; annex 10-4"\n',
        "",
        ["checklist.toml: area[4] (code 'personnel')", "missing required key 'guideline'"],
    ),
    "area_bad_code": (
        "",
        'code = "basic_policy"',
        'code = "Basic policy"',
        ["checklist.toml: area[1]", "code 'Basic policy' is not valid"],
    ),
    "area_duplicate_code": (
        "",
        'code = "handling_rules"',
        'code = "basic_policy"',
        ["checklist.toml: area[2] (code 'basic_policy')", "duplicate code"],
    ),
    "area_without_items": (
        "",
        '[[area]]\ncode = "contract_terms"',
        '[[area]]\ncode = "privacy_by_design"\nname = "Privacy by design"\nname_ja = "x"\n'
        'guideline = "GDPR Art. 25"\n\n[[area]]\ncode = "contract_terms"',
        [
            "checklist.toml: area[8] (code 'privacy_by_design')",
            "has no [[item]] entries: every area needs at least one item",
        ],
    ),
    "missing_assessment_table": (
        "",
        "[assessment]\ncondition_deadline_days = 90\nexpiring_within_days = 30\n",
        "",
        ["checklist.toml", "missing [assessment] table"],
    ),
    "assessment_out_of_range": (
        "",
        "condition_deadline_days = 90",
        "condition_deadline_days = 0",
        ["checklist.toml: [assessment]", "condition_deadline_days must be from 1 to 366, not 0"],
    ),
    "assessment_wrong_type": (
        "",
        "expiring_within_days = 30",
        'expiring_within_days = "30"',
        ["checklist.toml: [assessment]", "expiring_within_days must be a whole number"],
    ),
    "assessment_missing_key": (
        "",
        "expiring_within_days = 30\n",
        "",
        ["checklist.toml: [assessment]", "missing required key 'expiring_within_days'"],
    ),
    "assessment_duplicates_a_setting": (
        "",
        "expiring_within_days = 30\n",
        "expiring_within_days = 30\nvalidity_months = 12\n",
        ["checklist.toml: [assessment]", "unknown key 'validity_months'"],
    ),
    "misspelt_item_table": (
        "",
        '[[item]]\nid = "BP-01"',
        '[[question]]\nid = "BP-01"',
        ["checklist.toml", "unknown key 'question' at top level"],
    ),
}


@pytest.mark.parametrize("case", list(CHECKLIST_MALFORMATIONS))
def test_malformed_checklist_is_reported(data: Path, case: str) -> None:
    after, old, new, fragments = CHECKLIST_MALFORMATIONS[case]
    edit(data / "checklist.toml", old, new, after=after)
    message = fails(data, *fragments)
    assert message.startswith("checklist.toml"), message


_CHECKLIST_HEAD = """
[assessment]
condition_deadline_days = 90
expiring_within_days = 30

[[area]]
code = "technical"
name = "Technical"
name_ja = "技術的安全管理措置"
guideline = "PPC general guideline 3-4-4; annex 10-6"
"""

_ONE_ITEM = """
[[item]]
id = "TS-01"
area = "technical"
question = "Is access limited?"
weight = 5
critical = true
appi = "APPI Art. 23"
gdpr = "GDPR Art. 32"
"""


def test_a_minimal_checklist_loads(data: Path) -> None:
    (data / "checklist.toml").write_text(_CHECKLIST_HEAD + _ONE_ITEM, encoding="utf-8")
    ref = load_reference_data(data)
    assert list(ref.checklist) == ["TS-01"]
    assert ref.checklist["TS-01"].critical is True
    assert list(ref.checklist_areas) == ["technical"]


@pytest.mark.parametrize(
    ("tail", "fragments"),
    [
        ("", ["checklist.toml", "missing [[item]] tables"]),
        ("item = []\n", ["checklist.toml", "has no [[item]] entries"]),
        ('item = "TS-01"\n', ["checklist.toml", "item must be a list of [[item]] tables"]),
        ('item = ["TS-01"]\n', ["checklist.toml: item[1]", "must be a table"]),
    ],
)
def test_checklist_items_missing_or_not_tables(
    data: Path, tail: str, fragments: list[str]
) -> None:
    # `item = ...` must come before the [assessment] table to be a top-level key.
    (data / "checklist.toml").write_text(tail + _CHECKLIST_HEAD, encoding="utf-8")
    fails(data, *fragments)


def test_checklist_without_areas(data: Path) -> None:
    text = "[assessment]\ncondition_deadline_days = 90\nexpiring_within_days = 30\n" + _ONE_ITEM
    (data / "checklist.toml").write_text(text, encoding="utf-8")
    fails(data, "checklist.toml", "missing [[area]] tables")


def test_assessment_that_is_not_a_table(data: Path) -> None:
    areas = _CHECKLIST_HEAD[_CHECKLIST_HEAD.index("[[area]]") :]
    (data / "checklist.toml").write_text("assessment = 90\n" + areas + _ONE_ITEM, encoding="utf-8")
    fails(data, "checklist.toml: [assessment]", "must be a table, not 90")
