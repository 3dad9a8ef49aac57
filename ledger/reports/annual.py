"""The responsible manager's annual review of a period: what was released, to whom, on which
basis; contractors and their standing; exceptions; corrections, voids and erasures; retention;
and the integrity of the ledger. It holds no personal data of data subjects."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from ..domain import DisclosureFilter, DisclosureSummary, Party
from ..rules.register import CONTRACTOR_KINDS, AssessmentFacts, status
from ..service import ERASURE_REASONS, LedgerService
from .common import bounded, days, generated_line, integrity_section, local_when
from .document import BarChart, Document, Section, Table
from .integrity import ChangeEntry, Integrity, Progress, integrity, scan_entries
from .labels import Names
from .period import Period

CSV_COLUMNS = (
    "seq", "first_day", "last_day", "bulk", "recipient_id", "recipient_name", "recipient_kind", "country",
    "route", "basis", "purpose", "data_items", "subject_count", "statutory", "statutory_ground", "status",
    "version", "retention_until", "assessment_seq", "override", "recorded_at", "recorded_by",
)
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
    period: Period
    generated_at: str
    ledger_id: str
    ledger_name: str
    parties: dict[str, Party]
    disclosures: tuple[DisclosureSummary, ...]      # every release overlapping the period, voided too
    contractors: tuple[ContractorStanding, ...]
    exceptions: tuple[ReleaseException, ...]
    changes: tuple[ChangeEntry, ...]
    retention_ended: tuple[DisclosureSummary, ...]
    retention_ending_next: tuple[DisclosureSummary, ...]
    next_period: Period
    integrity: Integrity

    @property
    def active(self) -> list[DisclosureSummary]:
        return [s for s in self.disclosures if s.status != "voided"]

    def kind_of(self, summary: DisclosureSummary) -> str:
        return self.parties[summary.recipient_id].kind

    def rows(self) -> list[dict]:
        """One row per release in the period: the CSV, and the JSON's `rows`."""
        return [{
            "seq": s.seq, "first_day": s.first_day, "last_day": s.last_day, "bulk": s.bulk,
            "recipient_id": s.recipient_id, "recipient_name": s.recipient_name,
            "recipient_kind": self.kind_of(s), "country": s.country, "route": s.route, "basis": s.basis,
            "purpose": s.purpose, "data_items": list(s.data_items), "subject_count": s.subject_count,
            "statutory": s.statutory, "statutory_ground": s.statutory_ground, "status": s.status,
            "version": s.version, "retention_until": s.retention_until, "assessment_seq": s.assessment_seq,
            "override": s.override, "recorded_at": s.recorded_at, "recorded_by": s.recorded_by,
        } for s in sorted(self.disclosures, key=lambda s: s.seq)]

    def counts(self) -> dict:
        active = self.active
        by = lambda key: dict(sorted(Counter(key(s) for s in active).items(), key=lambda kv: (-kv[1], kv[0])))
        return {
            "releases": len(active), "voided": len(self.disclosures) - len(active),
            "statutory": sum(1 for s in active if s.statutory),
            "voluntary": sum(1 for s in active if not s.statutory),
            "subjects_named": sum(s.subject_count for s in active),
            "by_recipient": by(lambda s: s.recipient_id), "by_basis": by(lambda s: s.basis),
            "by_purpose": by(lambda s: s.purpose),
            "by_data_item": dict(sorted(Counter(i for s in active for i in s.data_items).items(),
                                        key=lambda kv: (-kv[1], kv[0]))),
            "cross_border": by(lambda s: f"{s.country}:{s.route}") if any(s.route for s in active) else {},
        }

    def as_json(self) -> dict:
        counts = self.counts()
        counts["cross_border"] = {k: v for k, v in counts["cross_border"].items()}
        return {
            "report": "annual", "period": self.period.as_dict(), "generated_at": self.generated_at,
            "ledger_id": self.ledger_id, "counts": counts,
            "contractors": [{"party_id": c.party.party_id, "name": c.party.name, "status": c.status,
                             "assessment_seq": c.assessment_seq, "outcome": c.outcome,
                             "valid_until": c.valid_until, "contract_ends_on": c.contract_ends_on,
                             "releases": c.releases} for c in self.contractors],
            "exceptions": [{"seq": e.summary.seq, "kind": e.kind, "detail": e.detail} for e in self.exceptions],
            "changes": [{"seq": c.seq, "kind": c.kind, "recorded_at": c.recorded_at,
                         **_change_fields(c)} for c in self.changes],
            "retention_ended": [s.seq for s in self.retention_ended],
            "retention_ending_next": [s.seq for s in self.retention_ending_next],
            "integrity": self.integrity.as_dict(),
            "rows": self.rows(),
        }


def _change_fields(change: ChangeEntry) -> dict:
    """What a change entry says without its vault values (reasons are kept in the vault)."""
    body = change.body
    if change.kind == "disclosure.corrected":
        return {"disclosure": body["disclosure"], "fields": sorted(body["changes"])}
    if change.kind == "disclosure.voided":
        return {"disclosure": body["disclosure"]}
    return {"reason": body["reason"], "values_erased": len(body["commitments"])}


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


def _exceptions(service: LedgerService, review_active: list[DisclosureSummary],
                contractors: dict[str, ContractorStanding]) -> list[ReleaseException]:
    found: list[ReleaseException] = []
    for s in sorted(review_active, key=lambda s: s.seq):
        if s.override:
            override = (service.entry(s.seq).body.get("gating") or {}).get("override") or {}
            failed = override.get("failed") or "override"
            kind = failed if failed in EXCEPTION_WORDS else "override"
            words = EXCEPTION_WORDS.get(failed, f"forced past the contractor register ({failed})")
            found.append(ReleaseException(s, kind, f"{words}; override recorded with a reason"))
            continue
        standing = contractors.get(s.recipient_id)
        if standing and standing.contract_ends_on and s.last_day > standing.contract_ends_on:
            found.append(ReleaseException(s, "contract_ended",
                                          f"released until {s.last_day}, after the contract ended on "
                                          f"{standing.contract_ends_on}"))
    return found


def build_annual(service: LedgerService, period: Period, *, verify: bool = True,
                 progress: Progress | None = None) -> AnnualReview:
    say = progress or (lambda message: None)
    say("reading the disclosures")
    everything = service.disclosures(DisclosureFilter(), limit=None)
    start, end = period.start.isoformat(), period.end.isoformat()
    in_period = tuple(s for s in everything if s.last_day >= start and s.first_day <= end)
    following = period.next()
    retention_ended = tuple(s for s in everything if start <= s.retention_until <= end and s.status != "voided")
    ending_next = tuple(s for s in everything if following.start.isoformat() <= s.retention_until
                        <= following.end.isoformat() and s.status != "voided")
    say("reading the entries of the period")
    scan = scan_entries(service, period.start, period.end)
    parties = {p.party_id: p for p in service.parties()}
    say("reading the contractor register")
    releases = Counter(s.recipient_id for s in in_period if s.status != "voided")
    contractors = {p.party_id: _standing(service, p, period.end, releases[p.party_id])
                   for p in parties.values() if p.kind in CONTRACTOR_KINDS}
    active = [s for s in in_period if s.status != "voided"]
    exceptions = _exceptions(service, active, contractors)
    found = integrity(service, verify=verify, size_at_period_end=scan.size_at_end, progress=say)
    return AnnualReview(
        period=period, generated_at=local_when(service, service.now()), ledger_id=service.ledger_id(),
        ledger_name=service.path.name, parties=parties,
        disclosures=tuple(sorted(in_period, key=lambda s: s.seq)),
        contractors=tuple(contractors.values()), exceptions=tuple(exceptions), changes=scan.changes,
        retention_ended=tuple(sorted(retention_ended, key=lambda s: (s.retention_until, s.seq))),
        retention_ending_next=tuple(sorted(ending_next, key=lambda s: (s.retention_until, s.seq))),
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


def _release_rows(review: AnnualReview, summaries, names: Names) -> list[tuple[str, ...]]:
    return [(str(s.seq), days(s), f"{s.recipient_name} ({s.recipient_id})", names.basis(s.basis),
             names.items(s.data_items), f"{s.subject_count:,}", "statutory" if s.statutory else "voluntary")
            for s in summaries]


RELEASE_HEADERS = ("Entry", "Date", "Recipient", "Legal basis", "Data items", "Persons", "Record")


def annual_document(service: LedgerService, review: AnnualReview) -> Document:
    names = Names(service.ref)
    counts = review.counts()
    active = review.active
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
    per_month = {(m, b): 0 for m in months for b in bases}
    for s in active:
        key = (s.first_day[:7], s.basis)
        if key in per_month:
            per_month[key] += 1
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
        statutory = sum(1 for s in active if s.recipient_id == party_id and s.statutory)
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

    cross = Counter((s.country, s.route) for s in active if s.route)
    sections.append(Section("Cross-border releases (APPI Art. 28)", tables=(Table(
        ("Country", "Route", "Releases"),
        tuple((names.country(c), names.route(r), f"{n:,}") for (c, r), n in sorted(cross.items(), key=lambda kv: (-kv[1], kv[0]))),
        empty="No release went to a recipient abroad."),)))

    government = [s for s in active if service.ref.party_kinds[review.kind_of(s)].government]
    sections.append(Section("Releases to government bodies", (
        "Each release to a national or local government body, one by one (APPI Art. 16(2): no statutory "
        "record is required, but the ledger keeps one).",),
        tables=(bounded(RELEASE_HEADERS, _release_rows(review, government, names),
                        empty="No release went to a government body."),)))

    consent = [s for s in active if service.ref.bases[s.basis].category == "consent"]
    sections.append(Section("Consent-based releases", (
        "Releases made with the person's consent (APPI Art. 27(1), Art. 28(1); GDPR Art. 6(1)(a)).",),
        tables=(bounded(RELEASE_HEADERS, _release_rows(review, consent, names),
                        empty="No release was made on consent."),)))

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
                          e.detail) for e in review.exceptions], empty="No exception in the period."),)))

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
        tables=(bounded(("Entry", "Recorded", "By", "What"), change_rows, empty="No change was recorded."),)))

    retention_headers = ("Entry", "Date", "Recipient", "Kept until", "Record")
    def retention_rows(found):
        return [(str(s.seq), days(s), f"{s.recipient_name} ({s.recipient_id})", s.retention_until,
                 "statutory" if s.statutory else "voluntary") for s in found]
    sections.append(Section("Retention (PPC Rule 21)", (
        f"Records whose retention period ended in the period ({len(review.retention_ended):,}) may now be "
        f"erased; those ending in the next period, {review.next_period.label} ({len(review.retention_ending_next):,}), "
        "are listed after them.",),
        tables=(bounded(retention_headers, retention_rows(review.retention_ended),
                        empty="No retention period ended in the period."),
                bounded(retention_headers, retention_rows(review.retention_ending_next),
                        empty="No retention period ends in the next period."))))

    sections.append(integrity_section(service, review.integrity, review.period.label))

    listing = sorted(active, key=lambda s: s.seq)
    sections.append(Section("Releases in the period", tables=(
        bounded(RELEASE_HEADERS, _release_rows(review, listing, names), empty="No release in the period."),)))

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
    return write_report(path, fmt, lambda: annual_document(service, review), review.rows, CSV_COLUMNS,
                        review.as_json)
