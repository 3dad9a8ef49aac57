"""The sample ledger: a fictional Kyoto education-technology company's releases of personal data.

The source is data, not code: ``data/demo.toml`` lists the parties, the
contractor register, the safeguard assessments and templates for the
disclosures (see the comment at its top). :func:`plan_demo` turns that file
into concrete records, deterministically (``random.Random`` with the file's
seed) and relative to a given "today", so every date is in the past and the
history spans roughly the last ``months`` months.

:func:`build_demo` writes the plan through the service API only. First the
register history (APPI Art. 25), in date order, each entry recorded with the
service's clock set to its own day: an assessment whose validity has since
ended, or whose conditions are now overdue, can only have been recorded while
it was current, and the release gate counts only assessments recorded before a
release. Then the other parties, one all-or-nothing import of the disclosures
(each one passing the gate, or forced with an override and a reason), and the
later events a real ledger has (party changes, corrections, a void, an
erasure).
"""

from __future__ import annotations

import calendar
import random
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import ledger

from .errors import LedgerError, LedgerFileError, ReferenceDataError
from .refdata import data_folder
from .rules.register import CONTRACTOR_KINDS

DEMO_FILE = "demo.toml"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
SCHEDULES = ("monthly", "quarterly", "yearly", "random", "once")
SNAPS = ("month", "quarter")
HISTORY_HOUR = 9   # local time at which a back-dated register entry is recorded
ANSWER_LISTS = ("partly_met", "not_met", "not_applicable")
ASSESSMENT_KEYS = {"party", "days_ago", "snap", "assessor", "note", "notes", *ANSWER_LISTS, "conditions",
                   "condition_deadline_days", "override_outcome", "override_reason"}
REGISTER_KEYS = {"party", "days_ago", "service", "data_items", "contract", "certifications", "works_for",
                 "engagement_approved", "equivalent_measures", "measures_check", "yearly_reason", "reason"}


# ---- the source file ------------------------------------------------------------------

def demo_source_path() -> Path:
    """``demo.toml`` in the reference data folder; else the one shipped with the code."""
    candidates = [
        data_folder() / DEMO_FILE,
        Path(ledger.__file__).parent / "_data" / DEMO_FILE,
        Path(__file__).resolve().parent.parent / "data" / DEMO_FILE,
    ]
    for path in candidates:
        if path.is_file():
            return path
    raise ReferenceDataError(f"{DEMO_FILE}: the sample ledger's source was not found (looked in "
                             + ", ".join(str(p.parent) for p in candidates) + ")")


def load_demo_source(path: Path | str | None = None) -> dict[str, Any]:
    path = Path(path) if path is not None else demo_source_path()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"{path.name}: is not valid TOML ({exc})") from None


# ---- the plan ---------------------------------------------------------------------------

@dataclass
class DemoPlan:
    """Everything the sample ledger will record, in order; pure data."""

    company: str
    parties: list[dict[str, Any]]
    rows: list[dict[str, Any]]              # disclosures, oldest first
    row_keys: list[str]                     # the template each row came from
    history: list["HistoryEvent"] = field(default_factory=list)  # register and assessments, by day
    party_changes: list[dict[str, Any]] = field(default_factory=list)
    corrections: list[dict[str, Any]] = field(default_factory=list)
    voids: list[dict[str, Any]] = field(default_factory=list)
    erasures: list[dict[str, Any]] = field(default_factory=list)

    def row_index(self, key: str) -> int:
        """The row of a `once` template."""
        found = [i for i, k in enumerate(self.row_keys) if k == key]
        if len(found) != 1:
            raise ReferenceDataError(f"{DEMO_FILE}: '{key}' must name one `once` template (found {len(found)} records)")
        return found[0]


@dataclass(frozen=True)
class HistoryEvent:
    """A register record or an assessment, recorded on `day` before the disclosures."""

    day: date
    kind: str                   # "register" or "assessment"
    party: str
    data: Mapping[str, Any]     # the service's input; for an assessment, answers and notes by item
    where: str                  # which entry of demo.toml, for messages

    def assessment_input(self, checklist: Sequence[str]) -> dict[str, Any]:
        """The input of `record_assessment`: an answer, with its note, for every checklist item."""
        data = dict(self.data)
        given: Mapping[str, str] = data.pop("answers")
        notes: Mapping[str, str] = data.pop("notes")
        unknown = sorted((set(given) | set(notes)) - {"*", "*not_applicable"} - set(checklist))
        if unknown:
            raise _problem(self.where, f"{', '.join(unknown)} is not in the checklist")
        answers = []
        for item in checklist:
            answer = given.get(item, "met")
            note = notes.get(item) or notes.get("*not_applicable" if answer == "not_applicable" else "*")
            answers.append({"item": item, "answer": answer, "note": note})
        return {**data, "answers": answers}


def _problem(where: str, what: str) -> ReferenceDataError:
    return ReferenceDataError(f"{DEMO_FILE}: {where}: {what}")


def _add_months(day: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(first: date) -> date:
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def _window_start(today: date, months: int) -> date:
    return _add_months(today.replace(day=1), -months)


def _periods(template: Mapping[str, Any], today: date, months: int,
             rng: random.Random) -> Iterator[tuple[date, date | None]]:
    """(first day, last day or None) of each record a template produces; never after today."""
    key = template["key"]
    schedule = template.get("schedule")
    start = _window_start(today, int(template.get("months", months)))
    if schedule == "monthly":
        first = start
        while _month_end(first) < today:
            yield first, _month_end(first)
            first = _add_months(first, 1)
    elif schedule == "quarterly":
        first = date(start.year, (start.month - 1) // 3 * 3 + 1, 1)
        if first < start:
            first = _add_months(first, 3)
        while _month_end(_add_months(first, 2)) < today:
            yield first, _month_end(_add_months(first, 2))
            first = _add_months(first, 3)
    elif schedule == "yearly":
        month, day = int(template["month"]), int(template["day"])
        for year in range(start.year, today.year + 1):
            when = date(year, month, day)
            if start <= when < today:
                yield when, when
    elif schedule == "random":
        low, high = template.get("within_days", (1, (today - start).days))
        if not 1 <= low <= high:
            raise _problem(f"template '{key}'", "within_days must be [fewest, most] days ago, at least 1")
        for _ in range(int(template["count"])):
            yield today - timedelta(days=rng.randint(low, high)), None
    elif schedule == "once":
        first = today - timedelta(days=int(template["days_ago"]))
        span = template.get("span_days")
        yield first, (None if span is None else min(first + timedelta(days=int(span)), today))
    else:
        raise _problem(f"template '{key}'", f"schedule must be one of {', '.join(SCHEDULES)}")


def _pools(spec: Mapping[str, Any], today: date, rng: random.Random) -> dict[str, list[str]]:
    names = spec.get("names", {})
    pools: dict[str, list[str]] = {}
    for name, pool in spec.get("pools", {}).items():
        members = list(pool.get("fixed", []))
        seen = set(members)
        size = int(pool["size"])
        kind = pool.get("kind")
        if kind == "student_ids":
            years = list(range(today.year - int(pool.get("years_back", 3)), today.year + 1))
            make = lambda: f"S{rng.choice(years)}-{rng.randint(1, 999):04d}"  # noqa: E731
        elif kind == "emails":
            given, family, domain = names["given"], names["family"], pool["domain"]
            if size > len(given) * len(family):
                raise _problem(f"pool '{name}'", "is larger than the names can make")
            make = lambda: f"{rng.choice(given)}.{rng.choice(family)}@{domain}"  # noqa: E731
        else:
            raise _problem(f"pool '{name}'", "kind must be student_ids or emails")
        while len(members) < size:
            value = make()
            if value not in seen:
                seen.add(value)
                members.append(value)
        pools[name] = members
    return pools


def _enrolled_by(identifier: str, day: date) -> bool:
    """A student id names its enrolment year (S2024-0137): not in a record before that year."""
    if len(identifier) > 5 and identifier[0] == "S" and identifier[1:5].isdigit():
        return int(identifier[1:5]) <= day.year
    return True


def _last_check(month_day: str, day: date) -> date:
    """The latest yearly check on MM-DD that is on or before `day`."""
    month, dom = (int(x) for x in month_day.split("-"))
    checked = date(day.year, month, dom)
    return checked if checked <= day else date(day.year - 1, month, dom)


def _days_ago(today: date, value: Any, where: str, key: str = "days_ago") -> date:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _problem(where, f"{key} must be a whole number of days")
    return today - timedelta(days=value)


def _snapped(day: date, snap: str | None, where: str) -> date:
    """The first day of the month or calendar quarter of `day` (or `day` itself)."""
    if snap is None:
        return day
    if snap == "month":
        return day.replace(day=1)
    if snap == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise _problem(where, f"snap must be one of {', '.join(SNAPS)}")


def _yearly_days(month_day: str, after: date, until: date, where: str) -> list[date]:
    """Every MM-DD after `after` and up to `until`."""
    try:
        month, dom = (int(x) for x in month_day.split("-"))
        days = [date(year, month, dom) for year in range(after.year, until.year + 1)]
    except ValueError:
        raise _problem(where, f"measures_check must be \"MM-DD\" (got {month_day!r})") from None
    return [d for d in days if after < d <= until]


def _register_events(entries: Sequence[Mapping[str, Any]], today: date,
                     contractors: Mapping[str, str]) -> list[HistoryEvent]:
    events = []
    for number, entry in enumerate(entries, start=1):
        where = f"register[{number}] ({entry.get('party')})"
        unknown = set(entry) - REGISTER_KEYS
        if unknown:
            raise _problem(where, f"unknown key(s) {', '.join(sorted(unknown))}")
        if entry.get("party") not in contractors:
            raise _problem(where, "party must be a contractor or subcontractor of the file")
        day = _days_ago(today, entry.get("days_ago"), where)
        data = {k: x for k, x in entry.items() if k in ("service", "data_items", "works_for", "engagement_approved",
                                                        "equivalent_measures", "reason")}
        contract = dict(entry.get("contract") or {})
        if contract:
            contract["signed_on"] = _days_ago(today, contract.pop("signed_days_ago", None), where,
                                              "contract.signed_days_ago").isoformat()
            if "ends_days_ago" in contract:
                contract["ends_on"] = _days_ago(today, contract.pop("ends_days_ago"), where,
                                                "contract.ends_days_ago").isoformat()
            data["contract"] = contract
        certifications = []
        for cert in entry.get("certifications", []):
            cert = dict(cert)
            days = cert.pop("expires_in_days", None)
            if not isinstance(days, int) or isinstance(days, bool):
                raise _problem(where, "certifications.expires_in_days must be a whole number of days")
            certifications.append({**cert, "expires_on": (today + timedelta(days=days)).isoformat()})
        data["certifications"] = certifications
        check = entry.get("measures_check")
        if check is not None:
            data["measures_checked_on"] = _last_check(check, day).isoformat()
        events.append(HistoryEvent(day, "register", entry["party"], data, where))
        if check is not None:  # a new version on each yearly check of the equivalent measures
            reason = entry.get("yearly_reason") or "Yearly check of the equivalent measures (PPC Rule 18(1))"
            for checked in _yearly_days(check, day, today, where):
                events.append(HistoryEvent(checked, "register", entry["party"],
                                           {**data, "measures_checked_on": checked.isoformat(), "reason": reason},
                                           f"{where}, yearly check of {checked}"))
    return events


def _assessment_events(entries: Sequence[Mapping[str, Any]], defaults: Mapping[str, Any], today: date,
                       contractors: Mapping[str, str]) -> list[HistoryEvent]:
    events = []
    for number, entry in enumerate(entries, start=1):
        where = f"assessment[{number}] ({entry.get('party')})"
        unknown = set(entry) - ASSESSMENT_KEYS
        if unknown:
            raise _problem(where, f"unknown key(s) {', '.join(sorted(unknown))}")
        if entry.get("party") not in contractors:
            raise _problem(where, "party must be a contractor or subcontractor of the file")
        day = _snapped(_days_ago(today, entry.get("days_ago"), where), entry.get("snap"), where)
        answers: dict[str, str] = {}
        for answer in ANSWER_LISTS:
            for item in entry.get(answer, []):
                if item in answers:
                    raise _problem(where, f"{item} is listed under both {answers[item]} and {answer}")
                answers[item] = answer
        notes = {"*": entry.get("note", defaults.get("note")),
                 "*not_applicable": defaults.get("not_applicable_note", defaults.get("note")),
                 **entry.get("notes", {})}
        data: dict[str, Any] = {"assessor": entry.get("assessor", defaults.get("assessor")),
                                "assessed_on": day.isoformat(), "answers": answers, "notes": notes}
        for key in ("conditions", "override_outcome", "override_reason"):
            if key in entry:
                data[key] = entry[key]
        if "condition_deadline_days" in entry:
            data["condition_deadline"] = (day + timedelta(days=int(entry["condition_deadline_days"]))).isoformat()
        events.append(HistoryEvent(day, "assessment", entry["party"], data, where))
    return events


def _fill(value: Any, context: Mapping[str, Any], where: str) -> Any:
    if isinstance(value, str):
        try:
            return value.format_map(context)
        except (KeyError, ValueError, IndexError) as exc:
            raise _problem(where, f"cannot fill in '{value[:60]}' ({exc!r})") from None
    if isinstance(value, list):
        return [_fill(x, context, where) for x in value]
    if isinstance(value, dict):
        return {k: _fill(x, context, where) for k, x in value.items()}
    return value


def _quarter_label(first: date) -> str:
    last = _add_months(first, 2)
    return f"{MONTHS[first.month - 1]}-{MONTHS[last.month - 1]} {first.year}"


def plan_demo(spec: Mapping[str, Any], today: date) -> DemoPlan:
    """The sample ledger's records for `today`: the same spec and day give the same plan."""
    company = spec.get("company", {})
    rng = random.Random(int(company.get("seed", 0)))
    months = int(company.get("months", 26))
    pools = _pools(spec, today, rng)

    parties = []
    for number, party in enumerate(spec.get("party", []), start=1):
        data = dict(party)
        if "id" not in data:
            raise _problem(f"party[{number}]", "needs an id")
        data["party_id"] = data.pop("id")
        parties.append(data)
    party_ids = {p["party_id"] for p in parties}

    generated: list[tuple[str, str, int, dict[str, Any]]] = []  # (first day, last day, order, row)
    keys_seen: set[str] = set()
    for template in spec.get("template", []):
        key = template.get("key")
        if not key or key in keys_seen:
            raise _problem("template", f"needs a unique key (got {key!r})")
        keys_seen.add(key)
        where = f"template '{key}'"
        if template.get("recipient") not in party_ids:
            raise _problem(where, f"recipient '{template.get('recipient')}' is not a party of the file")
        bulk = "group" in template
        for n, (first, last) in enumerate(_periods(template, today, months, rng), start=1):
            if bulk and last is None:
                raise _problem(where, "a group is a bulk record: use a periodic schedule or span_days")
            consent = first - timedelta(days=rng.randint(3, 60))
            context = {
                "n": n, "year": first.year, "prev_year": first.year - 1,
                "month_label": f"{MONTHS[first.month - 1]} {first.year}",
                "quarter_label": _quarter_label(first),
                "first_day": first.isoformat(), "last_day": (last or first).isoformat(),
                "ref": f"{rng.randint(1, 9999):04d}",
                "consent_date": consent.isoformat(),
                "info_date": (consent - timedelta(days=rng.randint(0, 5))).isoformat(),
            }
            if "annual_check" in template:
                context["checked_on"] = _last_check(template["annual_check"], first).isoformat()
            row: dict[str, Any] = {
                "recipient": template["recipient"],
                "first_day": first.isoformat(),
                "data_items": list(template["data_items"]),
                "purpose": template["purpose"],
                "basis": template["basis"],
                "evidence": _fill(dict(template.get("evidence", {})), context, where),
                "method": template.get("method"),
                "contract_as_record": bool(template.get("contract_as_record", False)),
            }
            if last is not None:
                row["last_day"] = last.isoformat()
            if bulk:
                count = template["group_count"]
                row["group_description"] = _fill(template["group"], context, where)
                row["group_count"] = rng.randint(*count) if isinstance(count, list) else int(count)
            elif "subjects" in template:
                row["subjects"] = list(template["subjects"])
            else:
                pool = pools.get(template.get("pool", ""))
                if pool is None:
                    raise _problem(where, f"pool '{template.get('pool')}' is not defined")
                eligible = [s for s in pool if _enrolled_by(s, first)]
                low, high = template.get("subjects_per", (1, 1))
                row["subjects"] = rng.sample(eligible, min(rng.randint(low, high), len(eligible)))
            if "route" in template:
                row["route"] = template["route"]
                row["route_evidence"] = _fill(dict(template.get("route_evidence", {})), context, where)
            if "notes" in template:
                row["notes"] = _fill(template["notes"], context, where)
            if "override_reason" in template:
                row["override_reason"] = _fill(template["override_reason"], context, where)
            generated.append((row["first_day"], row.get("last_day", row["first_day"]), len(generated), row | {"_key": key}))

    generated.sort(key=lambda g: g[:3])
    rows, row_keys = [], []
    for *_, row in generated:
        row_keys.append(row.pop("_key"))
        rows.append(row)
    contractors = {p["party_id"]: p["kind"] for p in parties if p.get("kind") in CONTRACTOR_KINDS}
    history = (_register_events(spec.get("register", []), today, contractors)
               + _assessment_events(spec.get("assessment", []), spec.get("assessment_defaults", {}), today, contractors))
    history.sort(key=lambda e: e.day)  # stable: on one day, register records first, then file order
    if history and history[-1].day > today:
        raise _problem(history[-1].where, "is in the future")
    plan = DemoPlan(
        company=str(company.get("name", "the sample company")),
        parties=parties, rows=rows, row_keys=row_keys, history=history,
        party_changes=[dict(c) for c in spec.get("party_change", [])],
        corrections=[dict(c) for c in spec.get("correction", [])],
        voids=[dict(c) for c in spec.get("void", [])],
        erasures=[dict(c) for c in spec.get("erasure", [])],
    )
    for change in plan.corrections + plan.voids:
        plan.row_index(change["key"])  # every referenced record exists
    return plan


# ---- writing it -------------------------------------------------------------------------

def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


@contextmanager
def _clock_on(service, day: date) -> Iterator[None]:
    """Record entries as on `day` (at HISTORY_HOUR there, never later than the real now)."""
    real = service.clock
    moment = datetime.combine(day, time(HISTORY_HOUR), tzinfo=service.zone).astimezone(timezone.utc)
    fixed = min(moment, real())
    service.clock = lambda: fixed
    try:
        yield
    finally:
        service.clock = real


def build_demo(service, source: Path | str | None = None) -> str:
    """Write the sample ledger into an empty ledger through the service; return a one-line summary."""
    from .service import ImportRejected

    if service.counts()["entries"] > 1:
        raise LedgerFileError(f"{service.path}: already holds records; the sample ledger is written only into a new one")
    plan = plan_demo(load_demo_source(source), service.today())

    parties = {p["party_id"]: p for p in plan.parties}
    registered: set[str] = set()

    def register(party_id: str) -> None:
        if party_id not in registered:
            service.register_party(parties[party_id])
            registered.add(party_id)

    for event in plan.history:
        with _clock_on(service, event.day):
            try:
                register(event.party)
                if event.kind == "register":
                    service.record_contractor(event.party, event.data)
                else:
                    service.record_assessment(event.party, event.assessment_input(list(service.ref.checklist)))
            except ReferenceDataError:
                raise
            except LedgerError as exc:
                raise ReferenceDataError(f"{DEMO_FILE}: {event.where}: {exc}") from None
    for party_id in parties:
        register(party_id)
    try:
        seqs = service.import_disclosures(plan.rows, source="demo")
    except ImportRejected as exc:
        details = "; ".join(f"template '{plan.row_keys[n - 1]}': {problem}" for n, problem in exc.problems[:5])
        raise ReferenceDataError(f"{DEMO_FILE}: {len(exc.problems)} generated record(s) were refused: {details}") from None

    for change in plan.party_changes:
        service.change_party(change["party"], change["changes"], change["reason"])
    for correction in plan.corrections:
        seq = seqs[plan.row_index(correction["key"])]
        service.correct_disclosure(seq, correction["changes"], correction["reason"])
    for void in plan.voids:
        seq = seqs[plan.row_index(void["key"])]
        service.void_disclosure(seq, void["reason"])
    for erasure in plan.erasures:
        service.erase_subject(erasure["subject"], erasure.get("reason", "data_subject_request"))

    counts = service.counts()
    assessments = sum(1 for e in plan.history if e.kind == "assessment")
    contractors = len({e.party for e in plan.history})
    return (f"{plan.company}: {_plural(counts['entries'], 'entry', 'entries')}, "
            f"{_plural(counts['parties'], 'party', 'parties')} "
            f"({_plural(len(plan.party_changes), 'change')}), "
            f"{_plural(contractors, 'contractor')} in the register with {_plural(assessments, 'assessment')}, "
            f"{_plural(counts['disclosures'], 'disclosure')}, "
            f"{_plural(len(plan.corrections), 'correction')}, "
            f"{_plural(counts['voided'], 'void')}, "
            f"{_plural(len(plan.erasures), 'erasure')}")
