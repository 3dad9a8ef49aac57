"""The responsible manager's annual review of a period: what was released, to whom, on which
basis; contractors and their standing; exceptions; corrections, voids and erasures; retention;
and the integrity of the ledger. It holds no personal data of data subjects."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Iterator

from ..domain import DisclosureSummary, LedgerChange, Party, ReleaseCounts, ReleaseListing, ReleaseRow
from ..rules.register import CONTRACTOR_KINDS, AssessmentFacts, status
from ..service import ERASURE_REASONS, LedgerService
from .common import MAX_LISTED, bounded, days, generated_line, integrity_section, local_when
from .document import BarChart, Document, Section, Table
from .integrity import Integrity, Progress, integrity, moment_after
from .labels import Names
from .period import Period

CSV_COLUMNS = tuple(f.name for f in fields(ReleaseRow))   # one column per field of a release row
TOP_RECIPIENTS_CHARTED = 15
EXCEPTION_WORDS = {
    "expired": "released to a contractor whose assessment had lapsed",
    "contract_ended": "released after the contract ended",
}


@dataclass(frozen=True, slots=True)
class ContractorStanding:
    party: Party
    status: str                     # at the end of the period (rules.register.STATUSES)
    assessment_seq: int | None
    outcome: str | None
    valid_until: str | None
    contract_ends_on: str | None
    releases: int                   # in the period


@dataclass(frozen=True, slots=True)
class ReleaseException:
    summary: DisclosureSummary
    kind: str                       # override, expired, contract_ended
    detail: str


@dataclass(frozen=True, slots=True)
class AnnualReview:
    """The review's figures and its bounded listings; every row of the period is read again,
    as a stream, only for the CSV and the JSON (`annual_rows`)."""

    period: Period
    generated_at: str
    ledger_id: str
    ledger_name: str
    parties: dict[str, Party]
    counts: ReleaseCounts                           # releases overlapping the period
    first_releases: tuple[DisclosureSummary, ...]   # the first MAX_LISTED active releases, by entry
    government: tuple[DisclosureSummary, ...]       # the first MAX_LISTED to government bodies
    consent: tuple[DisclosureSummary, ...]          # the first MAX_LISTED made on consent
    government_total: int                           # releases to government bodies, all of them
    consent_total: int                              # releases made on consent, all of them
    contractors: tuple[ContractorStanding, ...]
    exceptions: tuple[ReleaseException, ...]
    changes: tuple[LedgerChange, ...]
    retention_ended: ReleaseListing
    retention_ending_next: ReleaseListing
    next_period: Period
    integrity: Integrity

    def counts_as_dict(self) -> dict:
        c = self.counts
        return {
            "releases": c.releases, "voided": c.voided, "statutory": c.statutory, "voluntary": c.voluntary,
            "subjects_named": c.subjects_named, "by_recipient": dict(c.by_recipient), "by_basis": dict(c.by_basis),
            "by_purpose": dict(c.by_purpose), "by_data_item": dict(c.by_data_item),
            "cross_border": {f"{country}:{route}": n for (country, route), n in c.cross_border.items()},
        }

    def as_json(self, retention_ended: ReleaseListing, retention_ending_next: ReleaseListing) -> dict:
        """Everything but the rows (see `annual_json`), with the retention lists given in full."""
        return {
            "report": "annual", "period": self.period.as_dict(), "generated_at": self.generated_at,
            "ledger_id": self.ledger_id, "counts": self.counts_as_dict(),
            "contractors": [{"party_id": c.party.party_id, "name": c.party.name, "status": c.status,
                             "assessment_seq": c.assessment_seq, "outcome": c.outcome,
                             "valid_until": c.valid_until, "contract_ends_on": c.contract_ends_on,
                             "releases": c.releases} for c in self.contractors],
            "exceptions": [{"seq": e.summary.seq, "kind": e.kind, "detail": e.detail} for e in self.exceptions],
            "changes": [{"seq": c.seq, "kind": c.kind, "recorded_at": c.recorded_at, **_change_fields(c)}
                        for c in self.changes],
            "retention_ended": [s.seq for s in retention_ended.rows],
            "retention_ending_next": [s.seq for s in retention_ending_next.rows],
            "integrity": self.integrity.as_dict(),
        }


def annual_rows(service: LedgerService, period: Period) -> Iterator[dict]:
    """One row per release overlapping the period, voided ones too, by entry: the CSV and the
    JSON's `rows`, streamed from the ledger."""
    for r in service.release_rows(period.start, period.end):
        row = {column: getattr(r, column) for column in CSV_COLUMNS}
        row["data_items"] = list(r.data_items)
        yield row


def annual_json(service: LedgerService, review: AnnualReview) -> tuple[dict, Iterator[dict]]:
    """The JSON document without its rows, and the rows to stream after it under `rows`."""
    following = review.next_period
    head = review.as_json(
        service.retention_ending_between(review.period.start, review.period.end, limit=None),
        service.retention_ending_between(following.start, following.end, limit=None))
    return head, annual_rows(service, review.period)


def _change_fields(change: LedgerChange) -> dict:
    """What a change entry says without its vault values (reasons are kept in the vault)."""
    if change.kind == "disclosure.corrected":
        return {"disclosure": change.disclosure, "fields": list(change.fields)}
    if change.kind == "disclosure.voided":
        return {"disclosure": change.disclosure}
    return {"reason": change.erasure_reason, "values_erased": change.values_erased}


def _standing(service: LedgerService, party: Party, end: date, releases: int) -> ContractorStanding:
    """A contractor's standing on the last day of the period: only assessments made by then count."""
    known = [a for a in service.assessments(party.party_id) if date.fromisoformat(a.assessed_on) <= end]
    facts = [AssessmentFacts(a.seq, date.fromisoformat(a.assessed_on), a.outcome, date.fromisoformat(a.valid_until),
                             date.fromisoformat(a.condition_deadline) if a.condition_deadline else None)
             for a in known]
    latest = max(known, key=lambda a: a.seq) if known else None
    register = service.contractor(party.party_id)
    ends_on = (register.contract or {}).get("ends_on") if register else None
    return ContractorStanding(party, status(facts, end, service.ref.assessment.expiring_within_days),
                              latest.seq if latest else None, latest.outcome if latest else None,
                              latest.valid_until if latest else None, ends_on, releases)


def _exceptions(service: LedgerService, period: Period) -> list[ReleaseException]:
    found: list[ReleaseException] = []
    for e in service.release_exceptions(period.start, period.end):
        s = e.summary
        if e.kind == "override":
            kind = e.failed_check if e.failed_check in EXCEPTION_WORDS else "override"
            words = EXCEPTION_WORDS.get(e.failed_check, f"forced past the contractor register ({e.failed_check})")
            found.append(ReleaseException(s, kind, f"{words}; override recorded with a reason"))
        else:
            found.append(ReleaseException(s, "contract_ended", f"released until {s.last_day}, after the contract "
                                                                f"ended on {e.contract_ends_on}"))
    return found


def build_annual(service: LedgerService, period: Period, *, verify: bool = True,
                 progress: Progress | None = None) -> AnnualReview:
    say = progress or (lambda message: None)
    start, end = period.start, period.end
    say("counting the releases of the period")
    counts = service.release_counts(start, end)
    say("listing releases, exceptions, changes and retention")
    following = period.next()
    begins, ends = moment_after(service, start - timedelta(days=1)), moment_after(service, end)
    parties = {p.party_id: p for p in service.parties()}
    say("reading the contractor register")
    contractors = tuple(_standing(service, p, end, counts.by_recipient.get(p.party_id, 0))
                        for p in parties.values() if p.kind in CONTRACTOR_KINDS)
    found = integrity(service, verify=verify, size_at_period_end=service.size_at(ends), progress=say)
    return AnnualReview(
        period=period, generated_at=local_when(service, service.now()), ledger_id=service.ledger_id(),
        ledger_name=service.path.name, parties=parties, counts=counts,
        first_releases=tuple(service.releases_in_period(start, end, limit=MAX_LISTED)),
        government=tuple(service.government_releases(start, end, limit=MAX_LISTED)),
        consent=tuple(service.consent_releases(start, end, limit=MAX_LISTED)),
        government_total=sum(counts.by_recipient.get(p, 0) for p in service.government_bodies()),
        consent_total=sum(counts.by_basis.get(b, 0) for b in service.consent_bases()),
        contractors=contractors, exceptions=tuple(_exceptions(service, period)),
        changes=tuple(service.changes_recorded(begins, ends)),
        retention_ended=service.retention_ending_between(start, end, limit=MAX_LISTED),
        retention_ending_next=service.retention_ending_between(following.start, following.end, limit=MAX_LISTED),
        next_period=following, integrity=found)


# ---- the document ----------------------------------------------------------------------------

def _months(period: Period) -> list[str]:
    months, day = [], period.start.replace(day=1)
    while day <= period.end:
        months.append(f"{day.year:04d}-{day.month:02d}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _count_table(first: str, counts: dict[str, int], name, total: int) -> Table:
    rows = [(name(code), f"{count:,}", f"{100 * count / total:.1f}%" if total else "-")
            for code, count in counts.items()]
    return Table((first, "Releases", "Share"), tuple(rows))


def _release_rows(summaries, names: Names) -> list[tuple[str, ...]]:
    return [(str(s.seq), days(s), f"{s.recipient_name} ({s.recipient_id})", names.basis(s.basis),
             names.items(s.data_items), f"{s.subject_count:,}", "statutory" if s.statutory else "voluntary")
            for s in summaries]


RELEASE_HEADERS = ("Entry", "Date", "Recipient", "Legal basis", "Data items", "Persons", "Record")


def annual_document(service: LedgerService, review: AnnualReview) -> Document:
    names = Names(service.ref)
    counts = review.counts_as_dict()
    total = counts["releases"]
    sections: list[Section] = []

    sections.append(Section("Summary", (
        f"In {review.period.label}, {total:,} releases of personal data were recorded "
        f"({counts['statutory']:,} statutory records under APPI Art. 29, {counts['voluntary']:,} kept voluntarily), "
        f"naming {counts['subjects_named']:,} persons in all. {counts['voided']:,} further records of the period "
        "were voided and are not counted.",
        "A statutory record is one APPI Art. 29 and PPC Rule 20 require (a provision to a third party "
        "with consent or by opt-out); the others (contractors, exceptions, government bodies, joint use, "
        "succession) are kept voluntarily. Only statutory records fall under a person's right to see them "
        "(APPI Art. 33(5)).",
    ), facts=(("Releases", f"{total:,}"), ("Statutory records", f"{counts['statutory']:,}"),
              ("Voluntary records", f"{counts['voluntary']:,}"), ("Voided", f"{counts['voided']:,}"),
              ("Recipients", f"{len(counts['by_recipient']):,}"),
              ("Contractors in the register", f"{len(review.contractors):,}"),
              ("Exceptions", f"{len(review.exceptions):,}"))))

    months = _months(review.period)
    bases = list(counts["by_basis"])
    per_month = {(m, b): review.counts.per_month_by_basis.get((m, b), 0) for m in months for b in bases}
    top = list(counts["by_recipient"].items())[:TOP_RECIPIENTS_CHARTED]
    charts = []
    if total:
        charts = [
            BarChart("Releases per month, by legal basis", tuple(months),
                     tuple((names.basis(b), tuple(per_month[(m, b)] for m in months)) for b in bases)),
            BarChart("Releases per recipient" + (f" (the {len(top)} largest)" if len(counts["by_recipient"]) > len(top) else ""),
                     tuple(review.parties[p].name for p, _ in top), (("Releases", tuple(n for _, n in top)),)),
        ]
    sections.append(Section("Charts", charts=tuple(charts),
                            paragraphs=() if charts else ("No releases in the period.",)))

    recipient_rows = []
    for party_id, count in counts["by_recipient"].items():
        party = review.parties[party_id]
        statutory = review.counts.statutory_by_recipient.get(party_id, 0)
        recipient_rows.append((f"{party.name} ({party_id})", names.kind(party.kind), names.country(party.country),
                               f"{count:,}", f"{statutory:,}"))
    sections.append(Section("Releases by recipient", tables=(
        Table(("Recipient", "Kind", "Country", "Releases", "Statutory"), tuple(recipient_rows)),)))
    sections.append(Section("Releases by legal basis", tables=(
        _count_table("Legal basis", counts["by_basis"], names.basis, total),)))
    sections.append(Section("Releases by purpose of use", tables=(
        _count_table("Purpose", counts["by_purpose"], names.purpose, total),)))
    sections.append(Section("Releases by data item", (
        "A release usually holds several items, so these counts add up to more than the releases.",),
        tables=(_count_table("Data item", counts["by_data_item"], names.item, total),)))

    sections.append(Section("Cross-border releases (APPI Art. 28)", tables=(Table(
        ("Country", "Route", "Releases"),
        tuple((names.country(c), names.route(r), f"{n:,}") for (c, r), n in review.counts.cross_border.items()),
        empty="No release went to a recipient abroad."),)))

    sections.append(Section("Releases to government bodies", (
        "Each release to a national or local government body, one by one (APPI Art. 16(2): no statutory "
        "record is required, but the ledger keeps one).",),
        tables=(bounded(RELEASE_HEADERS, _release_rows(review.government, names),
                        total=review.government_total, empty="No release went to a government body."),)))

    sections.append(Section("Consent-based releases", (
        "Releases made with the person's consent (APPI Art. 27(1), Art. 28(1); GDPR Art. 6(1)(a)).",),
        tables=(bounded(RELEASE_HEADERS, _release_rows(review.consent, names),
                        total=review.consent_total, empty="No release was made on consent."),)))

    sections.append(Section(f"Contractors at the end of the period ({review.period.end.isoformat()})", (
        "Each contractor's standing on the last day of the period: only assessments made by then count (APPI Art. 25; PPC general guideline 3-4-4).",),
        tables=(Table(("Contractor", "Kind", "Status", "Latest assessment", "Valid until", "Contract ends",
                       "Releases in the period"),
                      tuple((f"{c.party.name} ({c.party.party_id})", names.kind(c.party.kind), c.status,
                             f"entry {c.assessment_seq}: {c.outcome}" if c.assessment_seq else "none",
                             c.valid_until or "-", c.contract_ends_on or "open-ended", f"{c.releases:,}")
                            for c in review.contractors),
                      empty="No contractor is in the register."),)))

    sections.append(Section("Exceptions", (
        "Releases forced past the contractor register with an override (each with its reason in the entry), "
        "to a contractor whose assessment had lapsed, or after a contract ended.",),
        tables=(bounded(("Entry", "Date", "Recipient", "What"),
                        [(str(e.summary.seq), days(e.summary), f"{e.summary.recipient_name} ({e.summary.recipient_id})",
                          e.detail) for e in review.exceptions], where_all="the JSON", empty="No exception in the period."),)))

    change_rows = []
    for c in review.changes:
        fields = _change_fields(c)
        if c.kind == "disclosure.corrected":
            what = f"correction of entry {fields['disclosure']}: {', '.join(fields['fields'])}"
        elif c.kind == "disclosure.voided":
            what = f"entry {fields['disclosure']} voided"
        else:
            what = (f"a data subject erased ({ERASURE_REASONS.get(fields['reason'], fields['reason'])}); "
                    f"{fields['values_erased']} value(s) removed from the vault")
        change_rows.append((str(c.seq), local_when(service, c.recorded_at), c.recorded_by, what))
    sections.append(Section("Corrections, voids and erasures", (
        "Changes recorded in the period. Each is a new entry; the original stays. Reasons are kept in the "
        "vault and are not repeated here.",),
        tables=(bounded(("Entry", "Recorded", "By", "What"), change_rows, where_all="the JSON",
                        empty="No change was recorded."),)))

    retention_headers = ("Entry", "Date", "Recipient", "Kept until", "Record")
    def retention_rows(found):
        return [(str(s.seq), days(s), f"{s.recipient_name} ({s.recipient_id})", s.retention_until,
                 "statutory" if s.statutory else "voluntary") for s in found]
    sections.append(Section("Retention (PPC Rule 21)", (
        f"Records whose retention period ended in the period ({review.retention_ended.total:,}) may now be "
        f"erased; those ending in the next period, {review.next_period.label} ({review.retention_ending_next.total:,}), "
        "are listed after them.",),
        tables=(bounded(retention_headers, retention_rows(review.retention_ended.rows),
                        total=review.retention_ended.total, where_all="the JSON", empty="No retention period ended in the period."),
                bounded(retention_headers, retention_rows(review.retention_ending_next.rows),
                        total=review.retention_ending_next.total, where_all="the JSON",
                        empty="No retention period ends in the next period."))))

    sections.append(integrity_section(service, review.integrity, review.period.label))

    sections.append(Section("Releases in the period", tables=(
        bounded(RELEASE_HEADERS, _release_rows(review.first_releases, names), total=total,
                empty="No release in the period."),)))

    checkpoint = review.integrity.checkpoint_now
    facts = (("Period", review.period.label), ("Ledger", review.ledger_name), ("Ledger id", review.ledger_id),
             ("Entries", f"{review.integrity.size:,}"), ("Generated at", review.generated_at),
             ("Checkpoint", f"size {checkpoint.size:,}, root {checkpoint.root}" if checkpoint else "none"))
    return Document(f"Annual review of disclosures: {review.period.label}", "en", facts, tuple(sections),
                    generated_line(service, review.integrity.size, checkpoint))


def write_annual(service: LedgerService, period: Period, fmt: str, out=None, *, verify: bool = True,
                 progress: Progress | None = None):
    """Build the annual review and write it in `fmt` to `out` (default: a safe name in the current
    folder); returns the path written."""
    from .output import check_format, output_path, write_report

    fmt = check_format(fmt)
    path = output_path(out, f"annual-review-{period.label.split(' ')[0]}", fmt)
    review = build_annual(service, period, verify=verify, progress=progress)
    if progress:
        progress(f"writing {fmt.upper()}")
    return write_report(path, fmt, lambda: annual_document(service, review), lambda: annual_rows(service, period),
                        CSV_COLUMNS, lambda: annual_json(service, review), streamed=True)
