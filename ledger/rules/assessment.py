"""The rules of a contractor safeguard assessment: pure functions over the reference data.

APPI Art. 25 makes the company supervise its contractors; the PPC general
guideline 3-4-4 has it select them against the safety management measures of
the guideline's annex, put the agreed measures in the contract and check them
regularly (GDPR Art. 28 asks the same of a processor). The questions are the
checklist in ``data/checklist.toml`` (``ref.checklist``); this module checks a
set of answers, scores them, derives the outcome by :data:`OUTCOME_RULE`, and
works out the validity dates. It does no I/O: the service checks that evidence
files exist and writes the entry.

Every item of the checklist must be answered, once, with one of
:data:`ANSWERS`; ``not_applicable`` is the answer for an item that does not
apply (for example the foreign environment items for a contractor that handles
the data only in Japan). A critical item answered ``not_applicable`` needs a
note saying why. :func:`check_answers` returns every problem at once, as
:class:`ledger.errors.ValidationError` naming the field (``answers.<item id>``)
and, where there is one, the APPI provision.

The next-review date: :func:`validity` returns ``valid_until`` (the day
assessed plus the configured number of calendar months) and ``next_review``,
which is ``valid_until`` less a lead time. The service passes
``ref.assessment.expiring_within_days`` as the lead time, so that the review
falls due on the day the assessment enters the default horizon of the due
list; with no lead time, ``next_review`` is ``valid_until``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from ..errors import ValidationError
from ..refdata import ChecklistItem, ReferenceData

__all__ = [
    "ANSWERS",
    "CHECKLIST_FILE",
    "OUTCOMES",
    "OUTCOME_RULE",
    "Answer",
    "EvidenceFile",
    "Outcome",
    "add_months",
    "check_answers",
    "check_conditions",
    "check_dates",
    "check_override",
    "condition_deadline",
    "derive_outcome",
    "score",
    "validity",
]

#: The answers an item can be given.
ANSWERS: tuple[str, ...] = ("met", "partly_met", "not_met", "not_applicable")

#: The outcomes of an assessment.
OUTCOMES: tuple[str, ...] = ("approved", "conditional", "rejected")

#: Where the checklist lives, as shown in messages.
CHECKLIST_FILE = "data/checklist.toml"

#: The rule by which the outcome is derived from the answers, as shown to people.
OUTCOME_RULE = (
    "Every checklist item is answered met, partly met, not met or not applicable. "
    "If any critical item is not met, the contractor is rejected. "
    "Otherwise, if any item is partly met or any non-critical item is not met, the outcome is "
    "conditional: the assessor records the conditions to be fixed and a deadline for them. "
    "Otherwise (every item met or not applicable) the contractor is approved. "
    "An item left unanswered counts as not met. "
    "An assessor may override the derived outcome only with a written reason, which is kept "
    "in the ledger."
)

# Points per unit of weight for each scored answer (not_applicable is not scored).
_POINTS = {"met": 2, "partly_met": 1, "not_met": 0}
_MAX_POINTS = 2

_SHA256 = re.compile(r"[0-9a-f]{64}")
_OVERRIDE_REASON_RULE = "an assessor may override the derived outcome only with a written reason"


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """An evidence file kept in the evidence folder next to the ledger: its name and SHA-256."""

    name: str
    sha256: str  # 64 lower-case hexadecimal digits


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one checklist item, with the assessor's note and evidence files."""

    item_id: str
    answer: str  # one of ANSWERS
    note: str | None = None
    evidence_files: tuple[EvidenceFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    """The derived outcome and why: each reason names an item id and its question."""

    outcome: str  # one of OUTCOMES
    reasons: tuple[str, ...]


# --------------------------------------------------------------------------
# Answers
# --------------------------------------------------------------------------


def _blank(value: str | None) -> bool:
    return value is None or not str(value).strip()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _check_evidence_files(field: str, files: Sequence[EvidenceFile]) -> list[ValidationError]:
    errors: list[ValidationError] = []
    names: set[str] = set()
    for number, file in enumerate(files, start=1):
        where = f"{field}.evidence_files[{number}]"
        name = file.name if isinstance(file.name, str) else ""
        if not name.strip():
            errors.append(ValidationError(where, "needs the file's name"))
        elif "/" in name or "\\" in name or name in (".", ".."):
            errors.append(ValidationError(
                where, f"{_shown(name)} must be a file name in the evidence folder, not a path"))
        elif name in names:
            errors.append(ValidationError(where, f"{_shown(name)} is listed twice"))
        names.add(name)
        if not (isinstance(file.sha256, str) and _SHA256.fullmatch(file.sha256)):
            errors.append(ValidationError(
                where, "sha256 must be the file's SHA-256 as 64 lower-case hexadecimal digits"))
    return errors


def check_answers(answers: Sequence[Answer], ref: ReferenceData) -> list[ValidationError]:
    """Every problem with a set of answers: unknown items, invalid answers, items answered
    twice, items left unanswered (critical or not), a critical item not applicable without a
    note, malformed evidence files. Empty when the answers can be recorded."""
    errors: list[ValidationError] = []
    seen: set[str] = set()
    twice: set[str] = set()
    for given in answers:
        item_id = given.item_id
        field = f"answers.{item_id}"
        item = ref.checklist.get(item_id) if isinstance(item_id, str) else None
        if item is None:
            errors.append(ValidationError(field, f"is not in the checklist ({CHECKLIST_FILE})"))
            continue
        if item_id in seen:
            if item_id not in twice:
                errors.append(ValidationError(field, "is answered twice; give one answer per item"))
                twice.add(item_id)
            continue
        seen.add(item_id)
        if not isinstance(given.answer, str) or given.answer not in ANSWERS:
            errors.append(ValidationError(
                field, f"{_shown(given.answer)} is not an answer; valid: {', '.join(ANSWERS)}"))
        elif item.critical and given.answer == "not_applicable" and _blank(given.note):
            errors.append(ValidationError(
                f"{field}.note",
                "a critical item answered not_applicable needs a note explaining why it does "
                "not apply",
                item.appi,
            ))
        errors.extend(_check_evidence_files(field, given.evidence_files))
    for item_id, item in ref.checklist.items():
        if item_id in seen:
            continue
        if item.critical:
            errors.append(ValidationError(f"answers.{item_id}", "is critical and must be answered",
                                          item.appi))
        else:
            errors.append(ValidationError(
                f"answers.{item_id}",
                "must be answered: every checklist item needs an answer (not_applicable where it "
                "does not apply)",
                item.appi,
            ))
    return errors


def _by_item(answers: Sequence[Answer], ref: ReferenceData) -> dict[str, str]:
    """Item id -> answer for the known items with a valid answer, the first answer winning."""
    found: dict[str, str] = {}
    for given in answers:
        if (
            isinstance(given.item_id, str)
            and given.item_id in ref.checklist
            and given.item_id not in found
            and given.answer in ANSWERS
        ):
            found[given.item_id] = given.answer
    return found


# --------------------------------------------------------------------------
# Score and outcome
# --------------------------------------------------------------------------


def score(answers: Sequence[Answer], ref: ReferenceData) -> int:
    """The score as a whole percentage, 0 to 100, rounded down.

    Each answered item that is not ``not_applicable`` earns its weight times 2 (met),
    1 (partly met) or 0 (not met), out of its weight times 2. 100 when no item is scored
    (every item not applicable). Answers that :func:`check_answers` refuses are ignored.
    """
    earned = possible = 0
    for item_id, answer in _by_item(answers, ref).items():
        if answer == "not_applicable":
            continue
        weight = ref.checklist[item_id].weight
        earned += weight * _POINTS[answer]
        possible += weight * _MAX_POINTS
    if possible == 0:
        return 100
    return earned * 100 // possible


def _reason(item: ChecklistItem, what: str) -> str:
    return f"{item.id} {what}: {item.question}"


def derive_outcome(answers: Sequence[Answer], ref: ReferenceData) -> Outcome:
    """The outcome by :data:`OUTCOME_RULE`, with a reason per item that decided it, in
    checklist order. An unanswered item counts as not met."""
    given = _by_item(answers, ref)
    rejecting: list[str] = []
    conditions: list[str] = []
    for item_id, item in ref.checklist.items():
        answer = given.get(item_id)
        if answer is None:
            what, answer = "not answered (counts as not met)", "not_met"
        else:
            what = answer.replace("_", " ")
        if answer == "not_met" and item.critical:
            rejecting.append(_reason(item, f"{what} (critical)"))
        elif answer in ("not_met", "partly_met"):
            conditions.append(_reason(item, what))
    if rejecting:
        return Outcome("rejected", tuple(rejecting))
    if conditions:
        return Outcome("conditional", tuple(conditions))
    return Outcome("approved", ())


def check_override(derived: Outcome, override_outcome: str | None,
                   override_reason: str | None) -> list[ValidationError]:
    """An override must name a known outcome other than the derived one and come with a
    written reason; a reason without an override outcome is refused too."""
    errors: list[ValidationError] = []
    if _blank(override_outcome):
        if not _blank(override_reason):
            errors.append(ValidationError(
                "override_outcome",
                "an override reason was given without an override outcome: give the outcome "
                f"({', '.join(OUTCOMES)}) or leave the reason out",
            ))
        return errors
    if override_outcome not in OUTCOMES:
        errors.append(ValidationError(
            "override_outcome",
            f"{_shown(override_outcome)} is not an outcome; valid: {', '.join(OUTCOMES)}"))
    elif override_outcome == derived.outcome:
        errors.append(ValidationError(
            "override_outcome",
            f"is the derived outcome ({derived.outcome}) already: an override must change it"))
    if _blank(override_reason):
        errors.append(ValidationError("override_reason", _OVERRIDE_REASON_RULE))
    return errors


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the end of the month
    (31 January + 1 month = 28 or 29 February)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(day.day, last))


def validity(assessed_on: date, months: int, review_lead_days: int = 0) -> tuple[date, date]:
    """``(valid_until, next_review)`` of an assessment made on ``assessed_on``.

    ``valid_until`` is ``assessed_on`` plus ``months`` calendar months (day clamped to the
    month's end: 2026-08-31 + 6 months = 2027-02-28). ``next_review`` is ``valid_until``
    less ``review_lead_days`` (the service passes ``ref.assessment.expiring_within_days``),
    never before ``assessed_on``; with no lead time it is ``valid_until``.
    """
    if months < 1:
        raise ValueError(f"an assessment is valid for at least 1 month, not {months}")
    if review_lead_days < 0:
        raise ValueError(f"the review lead time cannot be negative ({review_lead_days})")
    valid_until = add_months(assessed_on, months)
    next_review = max(valid_until - timedelta(days=review_lead_days), assessed_on)
    return valid_until, next_review


def condition_deadline(assessed_on: date, ref: ReferenceData) -> date:
    """The default deadline for the conditions of a conditional outcome:
    ``ref.assessment.condition_deadline_days`` after the day assessed."""
    return assessed_on + timedelta(days=ref.assessment.condition_deadline_days)


def check_dates(assessed_on: date, valid_until: date, today: date) -> list[ValidationError]:
    """The day assessed is not in the future; the validity ends on or after the day assessed
    and is not already over (``valid_until`` may be today)."""
    errors: list[ValidationError] = []
    if assessed_on > today:
        errors.append(ValidationError(
            "assessed_on",
            f"{assessed_on.isoformat()} is in the future (today is {today.isoformat()}): "
            "record an assessment once it has been made",
        ))
    if valid_until < assessed_on:
        errors.append(ValidationError(
            "valid_until",
            f"{valid_until.isoformat()} is before the day assessed ({assessed_on.isoformat()})",
        ))
    elif valid_until < today:
        errors.append(ValidationError(
            "valid_until",
            f"a validity in the past ({valid_until.isoformat()}, today is {today.isoformat()}) "
            "cannot justify a release: the assessment has to be redone",
            "APPI Art. 25",
        ))
    return errors


def check_conditions(outcome: str, conditions: Sequence[str], deadline: date | None,
                     today: date) -> list[ValidationError]:
    """A conditional outcome needs at least one condition and a deadline that is not in the
    past; an approved or rejected outcome takes neither."""
    errors: list[ValidationError] = []
    if outcome not in OUTCOMES:
        return [ValidationError("outcome",
                                f"{_shown(outcome)} is not an outcome; valid: {', '.join(OUTCOMES)}")]
    if outcome != "conditional":
        an = "an" if outcome.startswith("a") else "a"
        if conditions:
            errors.append(ValidationError(
                "conditions", f"{an} {outcome} outcome takes no conditions: only a conditional one does"))
        if deadline is not None:
            errors.append(ValidationError(
                "condition_deadline",
                f"{an} {outcome} outcome takes no deadline: only a conditional one does"))
        return errors
    if not conditions:
        errors.append(ValidationError(
            "conditions",
            "a conditional outcome needs at least one condition the contractor must meet"))
    for number, condition in enumerate(conditions, start=1):
        if _blank(condition):
            errors.append(ValidationError(f"conditions[{number}]", "must not be empty"))
    if deadline is None:
        errors.append(ValidationError(
            "condition_deadline", "a conditional outcome needs a deadline for its conditions"))
    elif deadline < today:
        errors.append(ValidationError(
            "condition_deadline",
            f"{deadline.isoformat()} is in the past (today is {today.isoformat()})"))
    return errors
