"""A data subject's report: the statutory records about one person with the items PPC Rule 20
names, the voluntary records apart, and the recipients to tell of a correction, erasure or stop
of use. Only this person's identifier appears; no evidence, notes or other people's data."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain import CheckpointView, DisclosureSummary, Party, RecipientToNotify
from ..errors import ValidationError
from ..service import ERASURE_REASONS, LedgerService
from .common import days, generated_line, local_when
from .document import Document, Section, Table
from .integrity import current_checkpoint
from .labels import ERASURE_REASONS_JA, Names, check_language, labels_for

CSV_COLUMNS = ("seq", "record", "first_day", "last_day", "recipient_id", "recipient_name", "recipient_address",
               "recipient_representative", "recipient_country", "basis", "purpose", "data_items")


@dataclass(frozen=True, slots=True)
class Erasure:
    seq: int
    recorded_at: str
    reason: str
    disclosures: tuple[int, ...]     # the disclosures whose identifier was erased


@dataclass(frozen=True, slots=True)
class SubjectReport:
    identifier: str
    lang: str
    generated_at: str
    statutory: tuple[DisclosureSummary, ...]
    voluntary: tuple[DisclosureSummary, ...]
    parties: dict[str, Party]
    recipients: tuple[RecipientToNotify, ...]
    erasure: Erasure | None
    size: int
    checkpoint: CheckpointView | None

    def rows(self) -> list[dict]:
        out = []
        for record, found in (("statutory", self.statutory), ("voluntary", self.voluntary)):
            for s in found:
                party = self.parties[s.recipient_id]
                out.append({"seq": s.seq, "record": record, "first_day": s.first_day, "last_day": s.last_day,
                            "recipient_id": party.party_id, "recipient_name": party.name,
                            "recipient_address": party.address, "recipient_representative": party.representative,
                            "recipient_country": party.country, "basis": s.basis, "purpose": s.purpose,
                            "data_items": list(s.data_items)})
        return out

    def as_json(self) -> dict:
        return {
            "report": "subject", "identifier": self.identifier, "lang": self.lang,
            "generated_at": self.generated_at,
            "erasure": None if self.erasure is None else {
                "seq": self.erasure.seq, "recorded_at": self.erasure.recorded_at, "reason": self.erasure.reason,
                "disclosures": list(self.erasure.disclosures)},
            "records": self.rows(),
            "recipients_to_notify": [{"party_id": r.party.party_id, "name": r.party.name,
                                      "address": r.party.address, "disclosures": list(r.disclosures),
                                      "statutory": r.statutory, "last_day": r.last_day} for r in self.recipients],
            "checkpoint": None if self.checkpoint is None else {"size": self.checkpoint.size,
                                                                "root": self.checkpoint.root},
        }


def _erasure(service: LedgerService, seq: int) -> Erasure:
    entry = service.entry(seq)
    if entry.kind != "subject.erased":
        raise ValidationError("erasure", f"entry {seq} is a {entry.kind} entry, not a subject.erased entry")
    needles = [c.encode("ascii") for c in entry.body["commitments"]]
    named: set[int] = set()
    # The erased commitments stay in the leaves: find the disclosures (or corrections) holding them.
    for found_seq, leaf, _ in service.store.iter_entries():
        if found_seq >= seq:
            break
        if any(needle in leaf for needle in needles):
            body = service.entry(found_seq).body
            if service.entry(found_seq).kind == "disclosure.recorded":
                named.add(found_seq)
            elif "disclosure" in body:
                named.add(body["disclosure"])
    return Erasure(seq, entry.recorded_at, entry.body["reason"], tuple(sorted(named)))


def build_subject(service: LedgerService, identifier: str, *, lang: str = "en",
                  erasure_seq: int | None = None) -> SubjectReport:
    from .. import validate as v

    identifier = v.text("identifier", identifier)
    lang = check_language(lang)
    erasure = _erasure(service, erasure_seq) if erasure_seq is not None else None
    if erasure is not None:
        found = [service.disclosure(seq).summary for seq in erasure.disclosures]
    else:
        found = service.subject_disclosures(identifier)
    found = sorted((s for s in found if s.status != "voided"), key=lambda s: s.seq)
    if erasure is not None:
        recipients: dict[str, list[DisclosureSummary]] = {}
        for s in found:
            recipients.setdefault(s.recipient_id, []).append(s)
        notify = tuple(RecipientToNotify(service.party(pid), tuple(s.seq for s in group),
                                         any(s.statutory for s in group), max(s.last_day for s in group))
                       for pid, group in recipients.items())
    else:
        notify = tuple(service.recipients_to_notify(identifier))
    parties = {p.party_id: p for p in service.parties()}
    return SubjectReport(
        identifier=identifier, lang=lang, generated_at=local_when(service, service.now()),
        statutory=tuple(s for s in found if s.statutory), voluntary=tuple(s for s in found if not s.statutory),
        parties=parties, recipients=notify, erasure=erasure, size=service.store.size(),
        checkpoint=current_checkpoint(service))


def subject_document(service: LedgerService, report: SubjectReport) -> Document:
    t = labels_for(report.lang)
    names = Names(service.ref, report.lang)
    sections: list[Section] = []
    intro = [t["subject_intro"].format(identifier=report.identifier)]
    if report.erasure is not None:
        e = report.erasure
        reason = (ERASURE_REASONS_JA.get(e.reason, e.reason) if report.lang == "ja"
                  else ERASURE_REASONS.get(e.reason, e.reason))
        sections.append(Section(t["erased_title"], (
            t["erased_text"].format(when=local_when(service, e.recorded_at), seq=e.seq, reason=reason),)))
    elif not report.statutory and not report.voluntary:
        intro.append(t["not_found_text"].format(identifier=report.identifier))

    def party_of(s: DisclosureSummary) -> Party:
        return report.parties[s.recipient_id]

    statutory_rows = tuple(
        (str(s.seq), days(s), party_of(s).name, party_of(s).address, party_of(s).representative or "-",
         names.items(s.data_items), names.basis(s.basis),
         t["yes"] if service.ref.bases[s.basis].category == "consent" else t["no"])
        for s in report.statutory)
    sections.append(Section(t["statutory_title"], (t["statutory_intro"],), tables=(Table(
        (t["seq"], t["date_of_provision"], t["recipient"], t["address"], t["representative"], t["data_items"],
         t["basis"], t["consent"]), statutory_rows, empty=t["none"]),)))
    voluntary_rows = tuple(
        (str(s.seq), days(s), party_of(s).name, names.kind(party_of(s).kind), names.items(s.data_items),
         names.basis(s.basis), names.purpose(s.purpose))
        for s in report.voluntary)
    sections.append(Section(t["voluntary_title"], (t["voluntary_intro"],), tables=(Table(
        (t["seq"], t["date_of_provision"], t["recipient"], t["kind"], t["data_items"], t["basis"], t["purpose"]),
        voluntary_rows, empty=t["none"]),)))
    notify_rows = tuple(
        (r.party.name, r.party.address, names.country(r.party.country), ", ".join(str(n) for n in r.disclosures),
         r.last_day, t["statutory"] if r.statutory else t["voluntary"])
        for r in report.recipients)
    sections.append(Section(t["notify_title"], (t["notify_intro"],), tables=(Table(
        (t["recipient"], t["address"], t["country"], t["disclosures"], t["last_release"], t["record"]),
        notify_rows, empty=t["none"]),)))

    facts = ((t["subject"], report.identifier), (t["generated_at"], report.generated_at),
             (t["ledger_id"], service.ledger_id()))
    document = Document(t["subject_title"], report.lang, facts, tuple(sections),
                        generated_line(service, report.size, report.checkpoint, report.lang),
                        contents_label=t["contents"])
    if intro:
        first = Section(t["about"], tuple(intro))
        document = Document(document.title, document.lang, document.facts, (first, *document.sections),
                            document.generated_line, document.contents_label)
    return document


def write_subject(service: LedgerService, identifier: str, fmt: str, out=None, *, lang: str = "en",
                  erasure_seq: int | None = None):
    """Build a data subject's report and write it in `fmt` to `out` (default: a safe name in the
    current folder); returns the path written."""
    from .output import check_format, output_path, write_report

    fmt = check_format(fmt)
    report = build_subject(service, identifier, lang=lang, erasure_seq=erasure_seq)
    path = output_path(out, f"subject-report-{report.identifier}-{report.lang}", fmt)
    return write_report(path, fmt, lambda: subject_document(service, report), report.rows, CSV_COLUMNS,
                        report.as_json)
