"""Frozen domain types: what callers hand the service, and what it hands back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from . import validate as v
from .errors import ValidationError, ValidationErrors
from .validate import raise_all

PARTY_FIELDS = ("party_id", "name", "kind", "country", "address", "representative", "contact")


@dataclass(frozen=True, slots=True)
class PartyInput:
    name: str
    kind: str
    country: str
    address: str
    representative: str | None = None
    contact: str | None = None
    party_id: str | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> "PartyInput":
        unknown = set(data) - set(PARTY_FIELDS)
        if unknown:
            raise ValidationError(sorted(unknown)[0], f"is not a party field; fields: {', '.join(PARTY_FIELDS)}")
        return cls(**{k: data.get(k) for k in PARTY_FIELDS})  # type: ignore[arg-type]


DISCLOSURE_FIELDS = (
    "recipient", "date", "first_day", "last_day", "subjects", "group_description", "group_count",
    "data_items", "purpose", "basis", "evidence", "route", "route_evidence", "method", "notes",
    "contract_as_record", "override_reason",
)
_DISCLOSURE_FIELD_SET = frozenset(DISCLOSURE_FIELDS)


@dataclass(frozen=True, slots=True)
class DisclosureInput:
    """A release as a person describes it; the rules turn it into an entry body."""

    recipient: str
    first_day: date
    last_day: date | None = None
    subjects: tuple[str, ...] = ()
    group_description: str | None = None
    group_count: int | None = None
    data_items: tuple[str, ...] = ()
    purpose: str = ""
    basis: str = ""
    evidence: Mapping[str, str] = field(default_factory=dict)
    route: str | None = None
    route_evidence: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None
    notes: str | None = None
    contract_as_record: bool = False
    override_reason: str | None = None   # forces a release the contractor register refuses

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> "DisclosureInput":
        """Parse a JSON object or a CSV row; `evidence.X` / `route_evidence.X` keys are accepted flat."""
        errors: list[ValidationError] = []
        if not isinstance(data, Mapping):
            raise ValidationError("disclosure", "must be an object of field: value")
        flat: dict[str, dict[str, object]] = {"evidence": {}, "route_evidence": {}}
        plain: dict[str, object] = {}
        for key, value in data.items():
            if key in _DISCLOSURE_FIELD_SET:
                plain[key] = value
            elif not isinstance(key, str):
                errors.append(ValidationError(str(key), "is not a field name"))
            elif key.startswith("evidence.") or key.startswith("route_evidence."):
                group, _, name = key.partition(".")
                if value not in (None, ""):
                    flat[group][name] = value
            else:
                errors.append(ValidationError(key, f"is not a disclosure field; fields: {', '.join(DISCLOSURE_FIELDS)}"))
        merged: dict[str, dict[str, object]] = {}
        for name in ("evidence", "route_evidence"):
            given = plain.get(name)
            merged[name] = {}
            if given not in (None, ""):
                if not isinstance(given, Mapping):
                    errors.append(ValidationError(name, "must be an object of field: value"))
                else:
                    merged[name].update(given)
                    # The same field in the object and as a flat `evidence.X` key: which is meant?
                    errors.extend(ValidationError(f"{name}.{key}", f"is given twice (in {name} and as "
                                                  f"{name}.{key}); give it once")
                                  for key in flat[name] if given.get(key) not in (None, ""))
            merged[name].update(flat[name])
        if plain.get("date") not in (None, "") and plain.get("first_day") not in (None, ""):
            errors.append(ValidationError("date", "give either date or first_day, not both"))
        if plain.get("first_day") in (None, ""):
            plain["first_day"] = plain.get("date")
        plain.update(merged)
        result = {}
        for name, label, check in _DISCLOSURE_CHECKS:
            try:
                result[name] = check(label, plain.get(name))
            except ValidationError as exc:
                errors.append(exc)
            except ValidationErrors as exc:
                errors.extend(exc.errors)
        if errors:
            raise_all(errors)
        return cls(**result)  # type: ignore[arg-type]


    def as_mapping(self) -> dict[str, object]:
        """The fields as `from_mapping` takes them (to re-check a typed input)."""
        return {
            "recipient": self.recipient, "first_day": self.first_day, "last_day": self.last_day,
            "subjects": list(self.subjects), "group_description": self.group_description,
            "group_count": self.group_count, "data_items": list(self.data_items), "purpose": self.purpose,
            "basis": self.basis, "evidence": dict(self.evidence), "route": self.route,
            "route_evidence": dict(self.route_evidence), "method": self.method, "notes": self.notes,
            "contract_as_record": self.contract_as_record, "override_reason": self.override_reason,
        }

    @classmethod
    def parse(cls, data: "DisclosureInput | Mapping[str, object]") -> "DisclosureInput":
        """Every way a disclosure arrives goes through the same field checks."""
        return cls.from_mapping(data.as_mapping() if isinstance(data, DisclosureInput) else data)


def _text_map(name: str, data: Mapping[str, object]) -> dict[str, str]:
    """An object of text fields (evidence); raises every bad field at once."""
    out: dict[str, str] = {}
    errors: list[ValidationError] = []
    for key, value in data.items():
        if not isinstance(key, str):
            errors.append(ValidationError(name, "field names must be text"))
            continue
        if isinstance(value, date):
            value = value.isoformat()
        try:
            cleaned = v.text(f"{name}.{key}", value, required=False, max_len=v.MAX_TEXT, multiline=True)
        except ValidationError as exc:
            errors.append(exc)
            continue
        if cleaned is not None:
            out[key] = cleaned
    if errors:
        raise ValidationErrors(errors)
    return out


_optional_text = partial(v.text, required=False)
_optional_long_text = partial(v.text, required=False, max_len=v.MAX_TEXT, multiline=True)
# Each field of a disclosure in the order its errors are told: (attribute, the field an error
# names, its check). A check returns the clean value or raises.
_DISCLOSURE_CHECKS = (
    ("recipient", "recipient", v.text),
    ("first_day", "date", v.iso_date),
    ("last_day", "last_day", partial(v.iso_date, required=False)),
    ("subjects", "subjects", v.text_list),
    ("group_description", "group_description", partial(v.text, required=False, max_len=v.MAX_TEXT)),
    ("group_count", "group_count", partial(v.count, required=False)),
    ("data_items", "data_items", v.text_list),
    ("purpose", "purpose", v.text),
    ("basis", "basis", v.text),
    ("evidence", "evidence", _text_map),
    ("route", "route", _optional_text),
    ("route_evidence", "route_evidence", _text_map),
    ("method", "method", _optional_text),
    ("notes", "notes", _optional_long_text),
    ("contract_as_record", "contract_as_record", v.flag),
    ("override_reason", "override_reason", _optional_long_text),
)


@dataclass(frozen=True, slots=True)
class Party:
    party_id: str
    name: str
    kind: str
    country: str
    address: str
    representative: str | None
    contact: str | None
    registered_seq: int
    version_seq: int
    version: int


@dataclass(frozen=True, slots=True)
class PartyVersion:
    seq: int
    version: int
    name: str
    kind: str
    country: str
    address: str
    representative: str | None
    contact: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class DisclosureSummary:
    """One row of the ledger's disclosure list: the current state."""

    seq: int
    recipient_id: str
    recipient_name: str
    first_day: str
    last_day: str
    bulk: bool
    subject_count: int
    data_items: tuple[str, ...]
    purpose: str
    basis: str
    country: str
    route: str | None
    method: str | None
    statutory: bool
    statutory_ground: str
    contract_as_record: bool
    retention_until: str
    status: str
    version: int
    recorded_at: str
    recorded_by: str
    assessment_seq: int | None = None   # the assessment that justified a release to a contractor
    override: bool = False              # forced past the contractor register with a reason


@dataclass(frozen=True, slots=True)
class EntryView:
    seq: int
    leaf: bytes
    leaf_hash: bytes
    kind: str
    prev: str
    recorded_at: str
    recorded_by: str
    body: dict


@dataclass(frozen=True, slots=True)
class DisclosureChange:
    seq: int
    action: str
    fields: tuple[str, ...]
    reason: str | None
    recorded_at: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class DisclosureDetail:
    """A disclosure's current state with personal values opened from the vault, and its history."""

    summary: DisclosureSummary
    subjects: tuple[str, ...]          # identifiers, or "(erased)" for an erased subject
    group_description: str | None
    evidence: Mapping[str, str]
    route_evidence: Mapping[str, str]
    notes: str | None
    history: tuple[DisclosureChange, ...]
    entry: EntryView


@dataclass(frozen=True, slots=True)
class ErasureResult:
    seq: int
    subject_values_removed: int
    free_text_values_removed: int
    disclosures: tuple[int, ...]
    recipients: tuple["RecipientToNotify", ...] = ()   # to tell of the erasure (GDPR Art. 19)


@dataclass(frozen=True, slots=True)
class DisclosureFilter:
    since: date | None = None
    until: date | None = None
    recipient: str | None = None
    basis: str | None = None
    statutory_only: bool = False
    subject: str | None = None
    include_voided: bool = True
    text: str | None = None          # matched against recipient, basis, purpose, items and seq


@dataclass(frozen=True, slots=True)
class ContractorRecord:
    """A contractor's current register record (APPI Art. 25): contract, certifications, subcontracting."""

    party_id: str
    service: str
    data_items: tuple[str, ...]
    contract: Mapping[str, object] | None
    certifications: tuple[Mapping[str, object], ...]
    works_for: str | None
    engagement_approved: bool
    equivalent_measures: bool
    measures_checked_on: str | None
    version: int
    version_seq: int


@dataclass(frozen=True, slots=True)
class AssessmentView:
    seq: int
    party_id: str
    assessor: str
    assessed_on: str
    score: int
    derived_outcome: str
    outcome: str
    override_reason: str | None
    reasons: tuple[str, ...]
    conditions: tuple[str, ...]
    condition_deadline: str | None
    valid_until: str
    next_review: str
    answers: tuple[Mapping[str, object], ...]
    recorded_at: str
    recorded_by: str


@dataclass(frozen=True, slots=True)
class VendorSummary:
    party: Party
    status: str
    latest_assessment: AssessmentView | None
    register: ContractorRecord | None


@dataclass(frozen=True, slots=True)
class DueItem:
    """Something in the register that needs the manager's attention."""

    kind: str
    party_id: str
    party_name: str
    due_on: str | None
    detail: str
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    verified_at: str
    ok: bool
    size: int
    root: str
    first_bad_seq: int | None
    problems: int


@dataclass(frozen=True, slots=True)
class Dashboard:
    size: int
    last_entry: EntryView | None
    last_verification: Verification | None
    year: int
    by_basis: Mapping[str, int]
    statutory: int
    voluntary: int
    attention: tuple[DueItem, ...]
    retention_ending: tuple[DisclosureSummary, ...]


@dataclass(frozen=True, slots=True)
class RecipientToNotify:
    """A recipient that received a person's data: to be told of a correction, erasure or stop of
    use (GDPR Art. 19; APPI Art. 35)."""

    party: Party
    disclosures: tuple[int, ...]
    statutory: bool
    last_day: str


@dataclass(frozen=True, slots=True)
class SigningKeyView:
    """The public half of a checkpoint signing key; its private half lives in a file outside the ledger."""
    key_id: str  # 8 lowercase hex digits, as in the note's signature line
    verifier_key: str  # C2SP verifier key string: <name>+<key id>+<base64(0x01 || public key)>
    created_at: str
    created_by: str
    current: bool


@dataclass(frozen=True, slots=True)
class CheckpointView:
    """A signed C2SP tlog-checkpoint of the ledger at `size` entries."""
    id: int
    size: int
    root: str | None  # lowercase hex RFC 9162 root of the first `size` entries; None if not stored as 32 bytes
    note: str  # the signed note: checkpoint body, blank line, signature line
    key_id: str
    made_at: str
    reason: str  # manual, auto, tui-close, proof, report, ...


# ---- report aggregates -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReleaseCounts:
    """The releases overlapping a period, counted. Voided releases count only in `voided`; each
    mapping but the per-month one (in month order) is ordered by count, largest first, then by key."""

    releases: int
    voided: int
    statutory: int
    subjects_named: int                               # persons named, summed over releases
    by_recipient: Mapping[str, int]
    statutory_by_recipient: Mapping[str, int]
    by_basis: Mapping[str, int]
    by_purpose: Mapping[str, int]
    by_data_item: Mapping[str, int]                   # a release holding several items counts for each
    cross_border: Mapping[tuple[str, str], int]       # (country, route) of releases with a transfer route
    per_month_by_basis: Mapping[tuple[str, str], int]  # ("YYYY-MM" of the first day, basis)

    @property
    def voluntary(self) -> int:
        return self.releases - self.statutory


@dataclass(frozen=True, slots=True)
class ReleaseListing:
    """The first rows of a listing, and how many rows it has in all."""

    total: int
    rows: tuple[DisclosureSummary, ...]


@dataclass(frozen=True, slots=True)
class ExceptionalRelease:
    """A release of a period forced past the contractor register, or made after a contract ended."""

    summary: DisclosureSummary
    kind: str                        # "override" or "contract_ended"
    failed_check: str | None         # override: the register check it was forced past
    contract_ends_on: str | None     # contract_ended: the end of the contract in the register


@dataclass(frozen=True, slots=True)
class LedgerChange:
    """A correction, void or erasure entry, without its vault values (the reasons stay there)."""

    seq: int
    kind: str                        # disclosure.corrected, disclosure.voided or subject.erased
    recorded_at: str
    recorded_by: str
    disclosure: int | None           # the corrected or voided disclosure
    fields: tuple[str, ...]          # the corrected fields, sorted
    erasure_reason: str | None
    values_erased: int


@dataclass(frozen=True, slots=True)
class ReleaseRow:
    """A disclosure's current state as one flat row, with its recipient's name and kind: light
    enough to stream every release of a period."""

    seq: int
    first_day: str
    last_day: str
    bulk: bool
    recipient_id: str
    recipient_name: str
    recipient_kind: str
    country: str
    route: str | None
    basis: str
    purpose: str
    data_items: tuple[str, ...]
    subject_count: int
    statutory: bool
    statutory_ground: str
    status: str
    version: int
    retention_until: str
    assessment_seq: int | None
    override: bool
    recorded_at: str
    recorded_by: str
