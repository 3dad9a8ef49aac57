"""The legal-basis rules for a disclosure: pure functions over the reference data.

Each refusal names the field and cites the article; the decisions (statutory
record or not, retention date) come with their reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from ..domain import DisclosureInput
from ..errors import ValidationError
from ..validate import iso_date, raise_all
from ..refdata import EvidenceField, LegalBasis, ReferenceData
from ..vault import Sealer
from .register import GATE_ARTICLE, AssessmentFacts, GateResult, gate, gated

GOVERNMENT_REASON = (
    "The recipient is a national or local government body, which is not a third party for "
    "record-keeping (APPI Art. 29(1) with Art. 16(2)): kept as a voluntary record."
)
BULK_ARTICLE = "PPC Rule 19(2)"


@dataclass(frozen=True, slots=True)
class RecipientFacts:
    party_id: str
    kind: str
    country: str
    register: Mapping | None = None                 # the contractor register record, for the gate
    assessments: tuple[AssessmentFacts, ...] = ()   # the contractor's assessments, for the gate
    # The gate's answers by (first day, last day) for releases recorded after every assessment:
    # an import asks the same question for many rows.
    gate_answers: dict = field(default_factory=dict, compare=False, repr=False)

    def gate(self, first_day: date, last_day: date, recorded_before: int) -> GateResult:
        # Kept only when every assessment precedes the release: then `recorded_before` changes nothing.
        kept = all(a.seq < recorded_before for a in self.assessments)
        answer = self.gate_answers.get((first_day, last_day)) if kept else None
        if answer is None:
            answer = gate(self.party_id, self.kind, first_day, last_day, self.register, self.assessments,
                          recorded_before)
            if kept:
                self.gate_answers[(first_day, last_day)] = answer
        return answer


class GateRefused(ValidationError):
    """The contractor register does not justify the release; an override with a reason can force it."""

    def __init__(self, failed: str, message: str):
        self.failed = failed
        super().__init__("recipient", f"refused: {message}; or force it with an override and a reason", GATE_ARTICLE)


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without it
        return day.replace(year=day.year + years, day=28)


def retention(recorded_day: date, first_day: date, last_day: date | None,
              contract_as_record: bool, ref: ReferenceData) -> tuple[date, str]:
    """PPC Rule 21: how long the record must be kept, and why."""
    settings = ref.settings
    last = last_day or first_day
    if contract_as_record:
        years = settings.contract_record_retention_years
        return add_years(last, years), f"{years} year(s) after the last provision, a contract serving as the record (PPC Rule 21(1)(i))"
    if last_day is not None:
        years = settings.retention_years
        return add_years(last, years), f"{years} years after the last provision of a bulk record (PPC Rule 21(1)(ii))"
    years = settings.retention_years
    return add_years(recorded_day, years), f"{years} years from the day the record was made (PPC Rule 21(1)(iii))"


def statutory_decision(basis: LegalBasis, recipient_kind: str, ref: ReferenceData) -> tuple[bool, str]:
    """Whether APPI Art. 29 requires this record, and the ground as a short code
    (`basis:<code>` or `recipient:government`) that `statutory_reason` explains."""
    if basis.statutory_record and ref.party_kinds[recipient_kind].government:
        return False, "recipient:government"
    return basis.statutory_record, f"basis:{basis.code}"


def statutory_reason(ground: str, ref: ReferenceData) -> str:
    """The words for a statutory-record ground recorded in an entry."""
    if ground == "recipient:government":
        return GOVERNMENT_REASON
    basis = ref.bases.get(ground.removeprefix("basis:"))
    return basis.statutory_reason if basis else ground


def _check_evidence(field: str, fields: tuple[EvidenceField, ...], given: dict, provided_on: date,
                    owner: str, article: str, errors: list[ValidationError]) -> dict[str, date]:
    """Required evidence present; dated evidence (consent, information, checks) precedes the release."""
    dates: dict[str, date] = {}
    codes = {f.code for f in fields}
    for key in given:
        if key not in codes:
            valid = ", ".join(sorted(codes)) or "none"
            errors.append(ValidationError(f"{field}.{key}", f"is not evidence for {owner}; it takes: {valid}"))
    for ev in fields:
        value = given.get(ev.code)
        if value is None:
            errors.append(ValidationError(f"{field}.{ev.code}", f"is required for {owner} ({ev.label})", article))
        elif ev.kind == "date":
            try:
                day = iso_date(f"{field}.{ev.code}", value)
            except ValidationError:
                # Evidence is kept in the vault: the message must not quote the value.
                errors.append(ValidationError(f"{field}.{ev.code}", "is not a date as YYYY-MM-DD"))
                continue
            if day > provided_on:
                errors.append(ValidationError(f"{field}.{ev.code}", f"{day} is after the provision on {provided_on}: the {ev.label.lower()} must come first", article))
            dates[ev.code] = day
    return dates


def check_disclosure(inp: DisclosureInput, ref: ReferenceData, recipient: RecipientFacts,
                     today: date) -> list[ValidationError]:
    """Every rule a disclosure must satisfy; an empty list means it may be recorded."""
    errors: list[ValidationError] = []
    if inp.first_day > today:
        errors.append(ValidationError("date", f"{inp.first_day} is in the future; record a release once it has happened"))
    if inp.last_day is not None:
        if inp.last_day < inp.first_day:
            errors.append(ValidationError("last_day", f"{inp.last_day} is before the first day {inp.first_day}"))
        elif inp.last_day > today:
            errors.append(ValidationError("last_day", f"{inp.last_day} is in the future; record the provision up to today"))

    group = inp.group_description is not None or inp.group_count is not None
    if inp.subjects and group:
        errors.append(ValidationError("subjects", "give identified subjects or a described group, not both"))
    elif not inp.subjects and not group:
        errors.append(ValidationError("subjects", "is required: one or more identifiers, or group_description with group_count for a bulk record", "APPI Art. 29(1), PPC Rule 20"))
    elif group:
        if inp.group_description is None:
            errors.append(ValidationError("group_description", "is required for a group of subjects"))
        if inp.group_count is None:
            errors.append(ValidationError("group_count", "is required for a group of subjects"))
        if inp.last_day is None:
            errors.append(ValidationError("last_day", "a described group is recorded as a bulk record: give first and last day", BULK_ARTICLE))
    if len(set(inp.subjects)) != len(inp.subjects):
        seen: set[str] = set()
        twice = next(s for s in inp.subjects if s in seen or seen.add(s))
        errors.append(ValidationError("subjects", f"'{twice[:40]}' is listed twice"))

    if not inp.data_items:
        errors.append(ValidationError("data_items", "is required: the items of personal data provided", "PPC Rule 20(1)"))
    for item in inp.data_items:
        if item not in ref.data_items:
            errors.append(ValidationError("data_items", f"unknown data item '{item[:40]}'; valid: {', '.join(ref.data_items)}"))
    if len(set(inp.data_items)) != len(inp.data_items):
        errors.append(ValidationError("data_items", "lists an item twice"))

    if inp.purpose not in ref.purposes:
        errors.append(ValidationError("purpose", f"unknown purpose '{inp.purpose[:40]}'; valid: {', '.join(ref.purposes)}"))
    if inp.method is not None and inp.method not in ref.methods:
        errors.append(ValidationError("method", f"unknown method '{inp.method[:40]}'; valid: {', '.join(ref.methods)}"))

    basis = ref.bases.get(inp.basis)
    if basis is None:
        errors.append(ValidationError("basis", f"unknown legal basis '{inp.basis[:40]}'; valid: {', '.join(ref.bases)}"))
        return errors

    if basis.allowed_recipient_kinds and recipient.kind not in basis.allowed_recipient_kinds:
        kinds = " or ".join(basis.allowed_recipient_kinds)
        errors.append(ValidationError("basis", f"{basis.name} is only for a {kinds}; {recipient.party_id} is a {recipient.kind}", basis.appi))
    if inp.last_day is not None and not basis.bulk_allowed:
        errors.append(ValidationError("last_day", f"a bulk record is not allowed for {basis.name}; record each provision with its date", BULK_ARTICLE))
    if not basis.care_required_allowed:
        for item in inp.data_items:
            found = ref.data_items.get(item)
            if found is not None and found.care_required:
                errors.append(ValidationError("data_items", f"'{item}' is special care-required information and can never be provided by {basis.name}", "APPI Art. 27(2) proviso"))
    _check_evidence("evidence", basis.evidence, dict(inp.evidence), inp.first_day, f"basis {basis.code}", basis.appi, errors)

    abroad = recipient.country != ref.settings.home_country
    if not abroad:
        if inp.route is not None:
            errors.append(ValidationError("route", f"is only for a recipient abroad; {recipient.party_id} is in {recipient.country}"))
        if inp.route_evidence:
            errors.append(ValidationError("route_evidence", f"is only for a recipient abroad; {recipient.party_id} is in {recipient.country}"))
        return errors
    if inp.route is None:
        errors.append(ValidationError("route", f"{recipient.party_id} is in {recipient.country}: provision abroad needs one of the routes {', '.join(ref.routes)}", "APPI Art. 28(1)"))
        return errors
    route = ref.routes.get(inp.route)
    if route is None:
        errors.append(ValidationError("route", f"unknown cross-border route '{inp.route[:40]}'; valid: {', '.join(ref.routes)}"))
        return errors
    if route.requires_basis_categories and basis.category not in route.requires_basis_categories:
        errors.append(ValidationError("route", f"{route.name} needs a basis of category {' or '.join(route.requires_basis_categories)}; basis {basis.code} is {basis.category}", route.appi))
    if route.requires_designated_country and not ref.countries[recipient.country].designated:
        errors.append(ValidationError("route", f"{recipient.country} is not a country designated by the PPC", route.appi))
    dates = _check_evidence("route_evidence", route.evidence, dict(inp.route_evidence), inp.first_day,
                            f"route {route.code}", route.appi, errors)
    if route.requires_equivalent_measures:
        limit = ref.settings.equivalent_measures_check_days
        for code, day in dates.items():
            if (inp.first_day - day).days > limit:
                errors.append(ValidationError(
                    f"route_evidence.{code}",
                    f"the recipient's measures were last checked on {day}, more than {limit} days before the provision: check them again first",
                    "PPC Rule 18(1)"))
    return errors


def _evidence_body(fields: tuple[EvidenceField, ...], given: dict, prefix: str, sealer: Sealer) -> dict:
    body = {}
    for ev in fields:
        value = given[ev.code]
        body[ev.code] = sealer.seal(f"{prefix}.{ev.code}", value) if ev.personal else value
    return body


def disclosure_body(inp: DisclosureInput, ref: ReferenceData, recipient: RecipientFacts,
                    recorded_day: date, sealer: Sealer) -> dict:
    """The entry body of a checked disclosure; personal values are sealed into the vault."""
    basis = ref.bases[inp.basis]
    if inp.subjects:
        subjects = {"identified": [sealer.seal("subject", s) for s in inp.subjects]}
    else:
        subjects = {"group": {"count": inp.group_count,
                              "description": sealer.seal("group_description", inp.group_description)}}
    cross_border = None
    if inp.route is not None:
        route = ref.routes[inp.route]
        cross_border = {
            "country": recipient.country,
            "route": route.code,
            "evidence": _evidence_body(route.evidence, dict(inp.route_evidence), "route_evidence", sealer),
        }
    required, reason = statutory_decision(basis, recipient.kind, ref)
    until, _ = retention(recorded_day, inp.first_day, inp.last_day, inp.contract_as_record, ref)
    return {
        "recipient": recipient.party_id,
        "recipient_country": recipient.country,
        "first_day": inp.first_day.isoformat(),
        "last_day": (inp.last_day or inp.first_day).isoformat(),
        "bulk": inp.last_day is not None,
        "subjects": subjects,
        "data_items": list(inp.data_items),
        "purpose": inp.purpose,
        "basis": basis.code,
        "evidence": _evidence_body(basis.evidence, dict(inp.evidence), "evidence", sealer),
        "cross_border": cross_border,
        "method": inp.method,
        "notes": sealer.seal_optional("notes", inp.notes),
        "contract_as_record": inp.contract_as_record,
        "statutory": {"required": required, "ground": reason},
        "retention_until": until.isoformat(),
        "gating": None,
    }


def gating_decision(inp: DisclosureInput, recipient: RecipientFacts, recorded_before: int) -> dict | None:
    """The body's `gating`: the assessment that justifies a release to a contractor, or the override
    that forced it. Raises GateRefused when the register refuses and no override was given."""
    if not gated(recipient.kind, inp.basis):
        if inp.override_reason is not None:
            raise ValidationError("override_reason", "only a release the contractor register refuses can be overridden")
        return None
    result = recipient.gate(inp.first_day, inp.last_day or inp.first_day, recorded_before)
    if result.ok:
        if inp.override_reason is not None:
            raise ValidationError("override_reason", f"is not needed: assessment entry {result.assessment_seq} justifies this release")
        return {"assessment": result.assessment_seq}
    if inp.override_reason is None:
        raise GateRefused(result.failed, result.message)
    return {"override": {"failed": result.failed, "message": result.message, "reason": inp.override_reason}}


def prepare_disclosure(inp: DisclosureInput, ref: ReferenceData, recipient: RecipientFacts,
                       today: date, recorded_before: int) -> tuple[dict, Sealer]:
    """Check a disclosure (rules, then the contractor gate) and build its entry body; raises the
    refusals it meets. `recorded_before` is the seq the entry will take."""
    errors = check_disclosure(inp, ref, recipient, today)
    if errors:
        raise_all(errors)
    gating = gating_decision(inp, recipient, recorded_before)
    sealer = Sealer()
    body = disclosure_body(inp, ref, recipient, today, sealer)
    body["gating"] = gating
    return body, sealer
