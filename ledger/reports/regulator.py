"""The package for a regulator's query: the matching entries with their leaf bytes, an inclusion
proof of each against a signed checkpoint, the checkpoint, the verifier key, the standalone
verifier and a README, as a folder and a zip. Nothing outside the filter is revealed: the proofs
stand in for every other entry, and vault values appear only where the query asks for them."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .. import standalone_verifier, validate as v
from ..domain import CheckpointView, DisclosureFilter, DisclosureSummary
from ..errors import ValidationError
from ..service import LedgerService
from ..storage import queries
from . import render
from .common import bounded, days, generated_line, integrity_section, local_when
from .document import Document, Section
from .integrity import Integrity, Progress, integrity
from .labels import Names
from .period import Period
from .safety import inside, safe_file_name

REVEALABLE = ("subjects", "evidence", "notes")
VERIFIER_NAME = "standalone_verifier.py"


@dataclass(frozen=True, slots=True)
class RegulatorQuery:
    period: Period | None = None
    recipient: str | None = None       # party id
    basis: str | None = None
    subject: str | None = None
    item: str | None = None
    country: str | None = None
    reveal: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, service: LedgerService, *, period: Period | None = None, recipient: str | None = None,
                     basis: str | None = None, subject: str | None = None, item: str | None = None,
                     country: str | None = None, reveal: Iterable[str] = ()) -> "RegulatorQuery":
        ref = service.ref
        recipient_id = service.resolve_party(v.text("recipient", recipient)).party_id if recipient else None
        if basis is not None:
            v.known_code("basis", basis, list(ref.bases), "legal basis")
        if item is not None:
            v.known_code("item", item, list(ref.data_items), "data item")
        if country is not None:
            country = country.strip().upper()
            if country not in ref.countries:
                raise ValidationError("country", f"'{country[:20]}' is not an ISO 3166-1 alpha-2 country code")
        for what in reveal:
            v.known_code("reveal", what, list(REVEALABLE), "vault value kind")
        return cls(period, recipient_id, basis, v.text("subject", subject, required=False), item, country,
                   tuple(dict.fromkeys(reveal)))

    def describe(self) -> list[tuple[str, str]]:
        parts = [("Period", self.period.label if self.period else "all"),
                 ("Recipient", self.recipient or "any"), ("Legal basis", self.basis or "any"),
                 ("Data subject", self.subject or "any"), ("Data item", self.item or "any"),
                 ("Country", self.country or "any"),
                 ("Vault values included", ", ".join(self.reveal) or ("the data subject's identifier"
                                                                       if self.subject else "none"))]
        return parts

    def as_dict(self) -> dict:
        return {"period": self.period.as_dict() if self.period else None, "recipient": self.recipient,
                "basis": self.basis, "subject": self.subject, "item": self.item, "country": self.country,
                "reveal": list(self.reveal)}


@dataclass(frozen=True, slots=True)
class PackagedEntry:
    seq: int
    kind: str
    why: str                           # which matching disclosure it belongs to, or what it is
    proof: dict                        # the inclusion proof record (with the leaf)
    fields: dict
    vault: tuple[dict, ...]


@dataclass
class Package:
    folder: Path
    zip_path: Path
    query: RegulatorQuery
    disclosures: list[DisclosureSummary]
    entries: list[PackagedEntry]
    checkpoint: CheckpointView | None
    verifier_key: str | None
    tree_size: int
    integrity: Integrity | None = None
    files: list[str] = field(default_factory=list)


def matching_disclosures(service: LedgerService, query: RegulatorQuery) -> list[DisclosureSummary]:
    found = service.disclosures(DisclosureFilter(
        since=query.period.start if query.period else None, until=query.period.end if query.period else None,
        recipient=query.recipient, basis=query.basis, subject=query.subject), limit=None)
    return sorted((s for s in found
                   if (query.item is None or query.item in s.data_items)
                   and (query.country is None or s.country == query.country)), key=lambda s: s.seq)


def _revealed(service: LedgerService, query: RegulatorQuery, seqs: list[int]) -> dict[int, list[dict]]:
    """The vault values the query asks for, by entry: salt and value, so that the recipient can
    check SHA-256(salt || value) against the commitment in the leaf."""
    def wanted(row) -> bool:
        if row.field == "subject":
            return "subjects" in query.reveal or (query.subject is not None and row.value == query.subject)
        if row.field.startswith(("evidence.", "route_evidence.")):
            return "evidence" in query.reveal
        return row.field == "notes" and "notes" in query.reveal

    if not (query.reveal or query.subject):
        return {}
    # The service has no read of salts; the storage layer's query is used as is.
    with service.store.session() as session:
        rows = queries.vault_rows_of_entries(session, seqs)
    out: dict[int, list[dict]] = {}
    for row in rows:
        if wanted(row):
            out.setdefault(row.entry_seq, []).append({
                "commitment": row.commitment, "field": row.field, "salt": row.salt.hex(), "value": row.value})
    for values in out.values():
        values.sort(key=lambda item: (item["field"], item["commitment"]))
    return out


def _entry_seqs(service: LedgerService, disclosures: list[DisclosureSummary]) -> dict[int, str]:
    """Every entry the package proves, with why: entry 1 (it names the ledger), each recipient's
    registration and changes, each matching disclosure and its corrections and void."""
    why: dict[int, str] = {1: "the ledger's first entry (names the ledger)"}
    for party_id in sorted({s.recipient_id for s in disclosures}):
        for version in service.party_history(party_id):
            why.setdefault(version.seq, f"recipient {party_id}, version {version.version}")
    for s in disclosures:
        why[s.seq] = f"disclosure {s.seq}"
        for change in service.disclosure(s.seq).history:
            why[change.seq] = f"{change.action} of disclosure {s.seq}"
    return dict(sorted(why.items()))


def _checkpoint_for(service: LedgerService, needed_size: int) -> CheckpointView | None:
    """A checkpoint covering every entry of the package: signed now when a key is at hand, else the
    latest one, if it is big enough."""
    if service.can_sign():
        return service.make_checkpoint("report")
    latest = service.latest_checkpoint()
    return latest if latest is not None and latest.size >= needed_size else None


def default_folder(service: LedgerService) -> Path:
    return Path.cwd() / safe_file_name(f"regulator-package-{service.today().isoformat()}")


def build_package(service: LedgerService, query: RegulatorQuery, folder: Path, *, verify: bool = True,
                  progress: Progress | None = None) -> Package:
    say = progress or (lambda message: None)
    say("selecting the entries")
    disclosures = matching_disclosures(service, query)
    why = _entry_seqs(service, disclosures)
    checkpoint = _checkpoint_for(service, max(why))
    size = checkpoint.size if checkpoint else service.store.size()
    key = None
    if checkpoint is not None:
        key = next((k.verifier_key for k in service.signing_keys() if k.key_id == checkpoint.key_id), None)
    vault = _revealed(service, query, list(why))
    entries = []
    for number, (seq, reason) in enumerate(why.items(), start=1):
        if number % 500 == 0:
            say(f"proving entry {number:,} of {len(why):,}")
        proof = service.inclusion_proof(seq, size)
        proof["checkpoint"] = checkpoint.note if checkpoint else None
        view = service.entry(seq)
        entries.append(PackagedEntry(seq, view.kind, reason, proof, json.loads(view.leaf), tuple(vault.get(seq, ()))))
    found = integrity(service, verify=verify, size_at_period_end=None, progress=say, sign=False)
    return Package(folder, folder.with_name(folder.name + ".zip"), query, disclosures, entries, checkpoint, key,
                   size, found)


# ---- the summary -----------------------------------------------------------------------------

def package_document(service: LedgerService, package: Package) -> Document:
    names = Names(service.ref)
    checkpoint = package.checkpoint
    sections = [
        Section("The query", ("This package answers a query for the records below. It holds only the entries "
                              "that match, with a proof that each is in the ledger; the other entries are "
                              "represented by the hashes in the proofs and reveal nothing.",),
                facts=tuple(package.query.describe())),
        Section("What the package holds", facts=(
            ("Matching disclosures", f"{len(package.disclosures):,}"),
            ("Entries proved", f"{len(package.entries):,} (the disclosures, their corrections and voids, "
                               "their recipients' registrations, and entry 1)"),
            ("Tree size of the proofs", f"{package.tree_size:,}"),
            ("Checkpoint", f"size {checkpoint.size:,}, root {checkpoint.root}, key {checkpoint.key_id}"
             if checkpoint else "none: the ledger has no signing key, so the proofs are against an unsigned root"),
            ("Verifier key", package.verifier_key or "none"))),
        Section("Matching disclosures", tables=(bounded(
            ("Entry", "Date", "Recipient", "Country", "Legal basis", "Data items", "Persons", "Record", "Status"),
            [(str(s.seq), days(s), f"{s.recipient_name} ({s.recipient_id})", s.country, names.basis(s.basis),
              names.items(s.data_items), f"{s.subject_count:,}", "statutory" if s.statutory else "voluntary",
              s.status) for s in package.disclosures],
            empty="No disclosure matches the query.", where_all="entries.jsonl"),)),
        Section("Entries and proofs", tables=(bounded(
            ("Entry", "Kind", "Why", "Leaf hash", "Vault values"),
            [(str(e.seq), e.kind, e.why, e.proof["leaf_hash"][:16] + "…", str(len(e.vault)))
             for e in package.entries], where_all="entries.jsonl"),)),
    ]
    if package.integrity is not None:
        sections.append(integrity_section(service, package.integrity))
    facts = (("Ledger", service.path.name), ("Ledger id", service.ledger_id()),
             ("Generated at", local_when(service, service.now())),
             ("Checkpoint", f"size {checkpoint.size:,}, root {checkpoint.root}" if checkpoint else "none"))
    return Document("Records for a regulator's query", "en", facts, tuple(sections),
                    generated_line(service, service.store.size(), checkpoint))


def readme_text(service: LedgerService, package: Package) -> str:
    checkpoint = package.checkpoint
    lines = [
        "Disclosure Ledger: records for a regulator's query",
        "=" * 50,
        "",
        f"Ledger id: {service.ledger_id()}",
        f"Generated: {local_when(service, service.now())}",
        "Query: " + "; ".join(f"{label}: {value}" for label, value in package.query.describe()),
        f"Matching disclosures: {len(package.disclosures)}; entries proved: {len(package.entries)}",
        "",
        "Files",
        "-----",
        "summary.html, summary.pdf  the summary of this package, for reading",
        "entries.jsonl              one line per entry: its leaf bytes (base64, `leaf`), their hash",
        "                           (`leaf_hash`), the decoded leaf (`fields`), the vault values the",
        "                           query asked for (`vault`), and its RFC 9162 inclusion proof",
        "                           (`leaf_index`, `tree_size`, `audit_path`, `root`)",
        "proofs/<seq>.json          the same inclusion proofs, one file per entry",
        "checkpoint.txt             the signed checkpoint (C2SP tlog-checkpoint, signed note, Ed25519)",
        "verifier-key.txt           the ledger's verifier key <name>+<key id>+<base64 key>",
        f"{VERIFIER_NAME:<27}a verifier of its own: Python 3.8+ and the `cryptography` package only",
        "",
        "How to check everything",
        "-----------------------",
    ]
    if checkpoint is None:
        lines += [
            "This ledger had no signing key when the package was made, so there is no signed checkpoint.",
            f"The proofs are against the root of the first {package.tree_size} entries:",
            f"  {service.root_at(package.tree_size)}",
            "Ask the company for this root through another channel (for example a signed letter) before",
            "relying on the proofs.",
        ]
    else:
        lines += [
            "1. Compare the verifier key in verifier-key.txt with the key the company gave you before (for",
            "   example in its annual review or a letter). If it differs, stop: the package is not trustworthy.",
            "2. Run the verifier on the entries (it checks the checkpoint's signature, each leaf's hash and",
            "   each inclusion proof, and prints every entry it verified):",
            "",
            f"     python3 {VERIFIER_NAME} --checkpoint checkpoint.txt --key verifier-key.txt entries.jsonl",
            "",
            "   It ends with `all N proofs verify against the checkpoint: OK` and exit status 0; otherwise",
            "   it names the entry that fails and exits with status 1.",
            f"3. The checkpoint signs a ledger of {checkpoint.size} entries with root {checkpoint.root}.",
            "   Keep it: a later checkpoint can be proved consistent with it (`disclosure-ledger proof",
            "   consistency`), so the ledger cannot later be shortened or rewritten unnoticed.",
        ]
    lines += [
        "",
        "Reading an entry",
        "----------------",
        "Trust what the verifier prints (decoded from the verified leaf bytes); `fields` in entries.jsonl is a",
        "copy for convenience. The format is described in FORMAT.md of Disclosure Ledger: leaves are RFC 8785",
        "canonical JSON; personal data is never in a leaf, only a salted commitment {\"commitment\": hex}.",
        "",
        "Vault values",
        "------------",
        "Where `vault` lists a value, check that it is the one committed to in the leaf:",
        "  SHA-256(bytes.fromhex(salt) + value.encode('utf-8')).hexdigest() == commitment",
        "for example:",
        "  python3 -c \"import hashlib,json,sys; [print(v['commitment'] == hashlib.sha256(bytes.fromhex(v['salt'])"
        " + v['value'].encode()).hexdigest(), v['field']) for line in open('entries.jsonl') for v in"
        " json.loads(line)['vault']]\"",
        "No other vault value is included: commitments without a value cannot be tested against a guess,",
        "because their salt stays with the company.",
        "",
    ]
    return "\n".join(lines)


def write_package(service: LedgerService, query: RegulatorQuery, folder: Path | None = None, *,
                  verify: bool = True, progress: Progress | None = None) -> Package:
    folder = (folder or default_folder(service)).expanduser()
    if folder.name in ("", ".", ".."):  # `.`, `..` or `/`: no new folder is named
        raise ValidationError("out", "name the new package folder (for example --out pkg), not . or .. or /")
    folder = folder.with_name(safe_file_name(folder.name, fallback="regulator-package"))
    if folder.exists() and any(folder.iterdir()):
        raise ValidationError("out", f"{folder} already exists and is not empty; choose a new folder")
    if not folder.parent.is_dir():
        raise ValidationError("out", f"the folder {folder.parent} does not exist")
    package = build_package(service, query, folder, verify=verify, progress=progress)
    say = progress or (lambda message: None)
    folder.mkdir(mode=0o700, exist_ok=True)  # the package may hold personal data
    files: dict[str, str | bytes] = {}
    files["entries.jsonl"] = "".join(
        json.dumps({**e.proof, "kind": e.kind, "why": e.why, "fields": e.fields, "vault": list(e.vault)},
                   ensure_ascii=False, sort_keys=True) + "\n" for e in package.entries)
    for e in package.entries:
        files[f"proofs/{e.seq}.json"] = json.dumps(e.proof, indent=2, sort_keys=True) + "\n"
    if package.checkpoint is not None:
        files["checkpoint.txt"] = package.checkpoint.note
        files["verifier-key.txt"] = (package.verifier_key or "") + "\n"
    files[VERIFIER_NAME] = Path(standalone_verifier.__file__).read_text(encoding="utf-8")
    files["README.txt"] = readme_text(service, package)
    say("writing the summary")
    document = package_document(service, package)
    files["summary.html"] = render.html(document)
    files["summary.pdf"] = render.pdf(document)
    for name, content in files.items():
        sub, _, base = name.rpartition("/")
        target = inside(folder / sub if sub else folder, base)
        render.write(target, content)
    package.files = sorted(files)
    if package.checkpoint is not None:
        service.record_checkpoint_export(package.checkpoint, str(folder))
    say("writing the zip")
    _zip(folder, package.zip_path)
    return package


def _zip(folder: Path, target: Path) -> None:
    """A zip whose names all sit under the package folder's name (no absolute or parent paths)."""
    with render.written_whole(target) as partial, \
            zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")


def commitment_holds(entry: dict) -> bool:
    """Whether every revealed vault value of an entries.jsonl line matches its commitment."""
    return all(hashlib.sha256(bytes.fromhex(item["salt"]) + item["value"].encode("utf-8")).hexdigest()
               == item["commitment"] for item in entry.get("vault", ()))

