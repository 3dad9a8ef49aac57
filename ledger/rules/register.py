"""The contractor register and the gate it puts on releases (APPI Art. 25; GDPR Art. 28).

Pure functions: the service hands in the register record and the assessments, these say
whether a release may go, which assessment justifies it, or which check failed and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping, Sequence

from .. import validate as v
from ..errors import ValidationError
from ..refdata import ReferenceData
from ..validate import Checks

GATE_ARTICLE = "APPI Art. 25; PPC general guideline 3-4-4"
CONTRACTOR_KINDS = ("contractor", "subcontractor")
CERTIFICATIONS = {
    "privacymark": "PrivacyMark (JIS Q 15001)",
    "iso27001": "ISO/IEC 27001",
    "iso27701": "ISO/IEC 27701",
    "soc2": "SOC 2",
}
CONTRACT_CLAUSES = {
    "security_measures": "the agreed security measures",
    "audit_rights": "the right to audit",
    "subcontracting_approval": "prior approval of subcontracting",
    "incident_notification": "notification of incidents",
    "return_or_deletion": "return or deletion of the data at the end",
    "gdpr_art28": "the GDPR Art. 28(3) points (for EU data)",
}
STATUSES = ("approved", "conditional", "expiring", "expired", "rejected", "not_assessed")
REGISTER_FIELDS = ("service", "data_items", "contract", "certifications", "works_for",
                   "engagement_approved", "equivalent_measures", "measures_checked_on", "reason")


@dataclass(frozen=True, slots=True)
class AssessmentFacts:
    """What the gate and the due list need of an assessment."""

    seq: int
    assessed_on: date
    outcome: str
    valid_until: date
    condition_deadline: date | None


@dataclass(frozen=True, slots=True)
class GateResult:
    assessment_seq: int | None      # the assessment that justifies the release
    failed: str | None = None       # the code of the failed check
    message: str | None = None      # which check failed and what to do

    @property
    def ok(self) -> bool:
        return self.failed is None


def gated(recipient_kind: str, basis: str) -> bool:
    """Releases to a contractor, and any release on the outsourcing basis, pass the gate."""
    return recipient_kind in CONTRACTOR_KINDS or basis == "outsourcing"


def gate(party_id: str, recipient_kind: str, first_day: date, last_day: date,
         register: Mapping | None, assessments: Sequence[AssessmentFacts], recorded_before: int) -> GateResult:
    """Check a release against the register. Only assessments recorded before `recorded_before`
    (the release's own seq) count, so a back-dated assessment cannot justify it after the fact."""
    earlier = [a for a in assessments if a.seq < recorded_before]
    later = [a for a in assessments if a.seq >= recorded_before]
    if not earlier:
        if later:
            return GateResult(None, "assessed_after", f"{party_id}'s assessment (entry {later[0].seq}) was recorded "
                              "after this release; an assessment cannot justify a release recorded before it")
        return GateResult(None, "no_assessment", f"{party_id} has no safeguard assessment: assess it first "
                          f"(disclosure-ledger vendor assess {party_id})")
    candidates = [a for a in earlier if a.outcome in ("approved", "conditional")
                  and a.assessed_on <= first_day and last_day <= a.valid_until]
    # A rejection made by the release's last day overrides every assessment made before it.
    rejections = [a for a in earlier if a.outcome == "rejected" and a.assessed_on <= last_day]
    covering = [a for a in candidates
                if not any((r.assessed_on, r.seq) > (a.assessed_on, a.seq) for r in rejections)]
    if not covering:
        latest = max(earlier, key=lambda a: a.seq)
        if latest.outcome == "rejected" or candidates:
            rejecting = latest if latest.outcome == "rejected" else max(rejections, key=lambda a: (a.assessed_on, a.seq))
            return GateResult(None, "rejected", f"{party_id}'s assessment (entry {rejecting.seq}, made on "
                              f"{rejecting.assessed_on}) rejected it: do not release to it, or reassess it once it "
                              "has fixed what failed")
        if latest.valid_until < last_day:
            return GateResult(None, "expired", f"{party_id}'s assessment (entry {latest.seq}) was valid until "
                              f"{latest.valid_until}, before this release: reassess it "
                              f"(disclosure-ledger vendor assess {party_id})")
        return GateResult(None, "not_covered", f"no approved or conditional assessment of {party_id} covers "
                          f"{first_day}..{last_day} (the latest, entry {latest.seq}, was made on {latest.assessed_on})")
    if register is None:
        return GateResult(None, "not_registered", f"{party_id} has no contract in the register: record it first "
                          f"(disclosure-ledger vendor register {party_id})")
    if recipient_kind == "subcontractor" and not register.get("engagement_approved"):
        return GateResult(None, "subcontractor_not_approved", f"{party_id} is a subcontractor whose engagement "
                          "has not been approved: approve it in the register first")
    ends_on = (register.get("contract") or {}).get("ends_on")
    if ends_on is not None and date.fromisoformat(ends_on) < last_day:
        return GateResult(None, "contract_ended", f"the contract with {party_id} ended on {ends_on}: renew it "
                          "and record the new contract in the register before releasing")
    return GateResult(max(covering, key=lambda a: a.seq).seq)


def status(assessments: Sequence[AssessmentFacts], today: date, expiring_within_days: int) -> str:
    """The register badge: the latest assessment's standing today."""
    if not assessments:
        return "not_assessed"
    latest = max(assessments, key=lambda a: a.seq)
    if latest.outcome == "rejected":
        return "rejected"
    if latest.valid_until < today:
        return "expired"
    if latest.valid_until <= today + timedelta(days=expiring_within_days):
        return "expiring"
    return latest.outcome


def check_register(data: Mapping[str, object], ref: ReferenceData, kind: str, known_contractors: Sequence[str],
                   today: date) -> tuple[dict, list[ValidationError]]:
    """Validate a register record; returns the entry body fields and the refusals."""
    attempt = Checks()
    errors = attempt.errors

    for key in data:
        if key not in REGISTER_FIELDS:
            errors.append(ValidationError(str(key), f"is not a register field; fields: {', '.join(REGISTER_FIELDS)}"))
    service = attempt(v.text, "service", data.get("service"), max_len=v.MAX_TEXT)
    items = attempt(v.text_list, "data_items", data.get("data_items")) or ()
    for item in items:
        if item not in ref.data_items:
            errors.append(ValidationError("data_items", f"unknown data item '{item[:40]}'; valid: {', '.join(ref.data_items)}"))
    contract_in = data.get("contract") or {}
    contract = None
    if not isinstance(contract_in, Mapping):
        errors.append(ValidationError("contract", "must be an object"))
    elif contract_in:
        unknown = set(contract_in) - {"reference", "signed_on", "ends_on", "clauses"}
        for key in sorted(unknown):
            errors.append(ValidationError(f"contract.{key}", "is not a contract field; fields: reference, signed_on, ends_on, clauses"))
        signed = attempt(v.iso_date, "contract.signed_on", contract_in.get("signed_on"))
        ends = attempt(v.iso_date, "contract.ends_on", contract_in.get("ends_on"), required=False)
        if signed and ends and ends < signed:
            errors.append(ValidationError("contract.ends_on", f"{ends} is before the contract was signed ({signed})"))
        if signed and signed > today:
            errors.append(ValidationError("contract.signed_on", f"{signed} is in the future"))
        clauses_in = contract_in.get("clauses") or {}
        clauses = {}
        if isinstance(clauses_in, (list, tuple)):
            clauses_in = {c: True for c in clauses_in}
        if not isinstance(clauses_in, Mapping):
            errors.append(ValidationError("contract.clauses", "must list the clauses the contract holds"))
            clauses_in = {}
        for key, value in clauses_in.items():
            if key not in CONTRACT_CLAUSES:
                errors.append(ValidationError(f"contract.clauses.{key}", f"unknown clause; valid: {', '.join(CONTRACT_CLAUSES)}"))
            else:
                clauses[key] = attempt(v.flag, f"contract.clauses.{key}", value) or False
        contract = {
            "reference": attempt(v.text, "contract.reference", contract_in.get("reference")),
            "signed_on": signed.isoformat() if signed else None,
            "ends_on": ends.isoformat() if ends else None,
            "clauses": {c: clauses.get(c, False) for c in CONTRACT_CLAUSES},
        }
    certs_in = data.get("certifications") or []
    certifications = []
    if not isinstance(certs_in, (list, tuple)):
        errors.append(ValidationError("certifications", "must be a list of {scheme, expires_on}"))
        certs_in = []
    for number, cert in enumerate(certs_in, start=1):
        field = f"certifications[{number}]"
        if not isinstance(cert, Mapping):
            errors.append(ValidationError(field, "must be an object with scheme and expires_on"))
            continue
        scheme = attempt(v.text, f"{field}.scheme", cert.get("scheme"))
        if scheme is not None and scheme not in CERTIFICATIONS:
            errors.append(ValidationError(f"{field}.scheme", f"unknown certification '{scheme[:40]}'; valid: {', '.join(CERTIFICATIONS)}"))
        expires = attempt(v.iso_date, f"{field}.expires_on", cert.get("expires_on"))
        certifications.append({"scheme": scheme, "number": attempt(v.text, f"{field}.number", cert.get("number"), required=False),
                               "expires_on": expires.isoformat() if expires else None})
    works_for = attempt(v.text, "works_for", data.get("works_for"), required=False)
    if kind == "subcontractor":
        if works_for is None:
            errors.append(ValidationError("works_for", "a subcontractor must name the contractor it works for", GATE_ARTICLE))
        elif works_for not in known_contractors:
            errors.append(ValidationError("works_for", f"'{works_for}' is not a registered contractor"))
    elif works_for is not None:
        errors.append(ValidationError("works_for", "only a subcontractor works for another contractor"))
    approved = attempt(v.flag, "engagement_approved", data.get("engagement_approved")) or False
    equivalent = attempt(v.flag, "equivalent_measures", data.get("equivalent_measures")) or False
    checked = attempt(v.iso_date, "measures_checked_on", data.get("measures_checked_on"), required=False)
    if equivalent and checked is None:
        errors.append(ValidationError("measures_checked_on", "a recipient relying on equivalent measures needs the date they were last checked", "PPC Rule 18(1)"))
    if checked and checked > today:
        errors.append(ValidationError("measures_checked_on", f"{checked} is in the future"))
    body = {
        "service": service, "data_items": list(items), "contract": contract,
        "certifications": certifications, "works_for": works_for,
        "engagement_approved": approved, "equivalent_measures": equivalent,
        "measures_checked_on": checked.isoformat() if checked else None,
    }
    return body, errors
