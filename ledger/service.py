"""LedgerService: the one API that the command line and the terminal app call."""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import re
import secrets
import shutil
from collections import Counter
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from . import validate as v
from .validate import Checks, raise_all
from .chain.encoding import parse_leaf
from .domain import (
    CheckpointView,
    SigningKeyView,
    RecipientToNotify,
    Dashboard,
    Verification,
    AssessmentView,
    ContractorRecord,
    DueItem,
    VendorSummary,
    DisclosureChange,
    DisclosureDetail,
    DisclosureFilter,
    DisclosureInput,
    DisclosureSummary,
    EntryView,
    ErasureResult,
    ExceptionalRelease,
    LedgerChange,
    ReleaseCounts,
    ReleaseListing,
    ReleaseRow,
    Party,
    PartyInput,
    PartyVersion,
)
from .errors import IntegrityError, LedgerError, LedgerFileError, NotFoundError, ValidationError, ValidationErrors
from .files import durable_replace
from .refdata import ReferenceData, load_reference_data
from .importer import paused_gc, prepare_chunks
from .rules import assessment as assessing
from .rules.disclosure import (
    RecipientFacts,
    gating_decision,
    check_disclosure,
    disclosure_body,
    prepare_disclosure,
    retention,
    statutory_reason,
)
from . import checkpoints as checking
from .chain import merkle
from .chain.note import Checkpoint, NoteError, parse_verifier_key, sign_note
from .keys import KeyFolder, KeyUnavailable, PassphraseSource, default_key_folder, passphrase_from_environment
from .storage import guards, queries, tree
from .storage.db import Store, WriteTransaction
from .rules.register import CONTRACTOR_KINDS, AssessmentFacts, check_register, status
from .vault import Sealer, commitments_in

LEDGER_FORMAT = "disclosure-ledger/1"
RECORDED_AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # when an entry was recorded: UTC, to the microsecond
ERASURE_REASONS = {
    "data_subject_request": "the person asked for erasure (APPI Art. 35; GDPR Art. 17)",
    "consent_withdrawn": "the person withdrew consent (GDPR Art. 17(1)(b))",
    "retention_ended": "the retention period ended (PPC Rule 21)",
    "unlawful_processing": "the data was handled unlawfully (APPI Art. 35(1); GDPR Art. 17(1)(d))",
}
PARTY_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
ERASED = "(erased)"
MAX_WHOLE = 2**63 - 1        # the largest integer SQLite stores
MAX_WITHIN_DAYS = 100 * 366  # a horizon for what is due: beyond it dates run past year 9999
DASHBOARD_RETENTION_ROWS = 50  # retention endings the home screen lists, soonest first

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def default_operator() -> str:
    configured = os.environ.get("DISCLOSURE_LEDGER_OPERATOR")
    if configured and configured.strip():
        return configured.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


class ImportRejected(LedgerError):
    """An import with bad rows: nothing was written. `problems` lists (row number, error)."""

    def __init__(self, source: str, problems: list[tuple[int, ValidationError]], total: int):
        self.source = source
        self.problems = problems
        self.total = total
        rows = len({number for number, _ in problems})
        super().__init__(
            f"{source}: {rows} of {total} rows are invalid ({len(problems)} problems); nothing was imported"
        )


class LedgerService:
    def __init__(self, store: Store, ref: ReferenceData, operator: str, clock: Clock,
                 key_folder: Path | None = None, passphrase: PassphraseSource | None = None):
        self.store = store
        self.ref = ref
        self.operator = operator
        self.clock = clock
        self.zone = ZoneInfo(ref.settings.timezone)
        self.keys = KeyFolder(key_folder or default_key_folder())
        self.passphrase = passphrase or passphrase_from_environment
        self._signer = None  # (key id, private key), unlocked once per session
        self._ledger_id: str | None = None
        self.notices: list[str] = []  # what an automatic checkpoint could not do, for the caller to show
        self._facts: dict[str, RecipientFacts] = {}  # recipients' facts for appends, read at size _facts_at
        self._facts_at = -1

    # ---- lifecycle ----------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str, *, create: bool = False, operator: str | None = None,
             clock: Clock | None = None, ref: ReferenceData | None = None, key_folder: Path | None = None,
             passphrase: PassphraseSource | None = None) -> "LedgerService":
        ref = ref or load_reference_data()
        store = Store.open(Path(path), create=create)
        service = cls(store, ref, v.text("operator", operator or default_operator()), clock or system_clock,
                      key_folder, passphrase)
        if store.size() == 0:
            service._create_ledger()
        return service

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "LedgerService":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def path(self) -> Path:
        return self.store.path

    def _create_ledger(self) -> None:
        with self._writing() as tx:
            if tx.size == 0:
                self._append(tx, "ledger.created", {
                    "ledger_id": secrets.token_hex(16),
                    "format": LEDGER_FORMAT,
                    "home_country": self.ref.settings.home_country,
                    "timezone": self.ref.settings.timezone,
                })

    def ledger_id(self) -> str:
        if self._ledger_id is not None:
            return self._ledger_id  # entry 1 never changes: read it once
        entry = self.store.entry(1)
        if entry is None:
            raise NotFoundError("the ledger has no first entry")
        try:
            self._ledger_id = parse_leaf(entry.leaf)["body"]["ledger_id"]
            return self._ledger_id
        except (ValueError, KeyError, TypeError):
            raise IntegrityError("the ledger's first entry is damaged: its ledger id cannot be read") from None

    # ---- time ----------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock().astimezone(timezone.utc)

    def today(self) -> date:
        """Today in the company's time zone: disclosure dates are calendar dates there."""
        return self.now().astimezone(self.zone).date()

    def local_time(self, recorded_at: str) -> datetime:
        return datetime.fromisoformat(recorded_at.replace("Z", "+00:00")).astimezone(self.zone)

    def _stamp(self) -> str:
        return self.now().strftime(RECORDED_AT_FORMAT)

    @contextmanager
    def _writing(self) -> Iterator[WriteTransaction]:
        """One write transaction; once committed, an automatic checkpoint if the ledger grew past
        a multiple of `checkpoint_every_entries`."""
        with self.store.transaction() as tx:
            before = tx.size
            yield tx
            after = tx.size
        every = self.ref.settings.checkpoint_every_entries
        if every and after // every > before // every:
            self._checkpoint_quietly("auto")

    def _append(self, tx: WriteTransaction, kind: str, body: dict, sealer: Sealer | None = None):
        return tx.append(kind, body, self._stamp(), self.operator, sealer.pending if sealer else ())

    # ---- parties -------------------------------------------------------------
    def _checked_party(self, data: PartyInput, *, party_id: str, current_id: str | None) -> dict:
        attempt = Checks()
        errors = attempt.errors

        name = attempt(v.text, "name", data.name)
        kind = attempt(v.text, "kind", data.kind)
        country = attempt(v.text, "country", data.country)
        address = attempt(v.text, "address", data.address, max_len=v.MAX_TEXT)
        representative = attempt(v.text, "representative", data.representative, required=False)
        contact = attempt(v.text, "contact", data.contact, required=False, max_len=v.MAX_TEXT)
        if kind is not None and kind not in self.ref.party_kinds:
            errors.append(ValidationError("kind", f"unknown party kind '{kind[:40]}'; valid: {', '.join(self.ref.party_kinds)}"))
        if country is not None:
            country = country.upper()
            if country not in self.ref.countries:
                errors.append(ValidationError("country", f"'{country[:40]}' is not an ISO 3166-1 alpha-2 country code"))
        if (kind in self.ref.party_kinds and not self.ref.party_kinds[kind].government
                and representative is None):
            errors.append(ValidationError("representative", "is required for a company (the representative's name is a record item)", "PPC Rule 20(1)"))
        if name is not None:
            with self.store.session() as session:
                same = queries.party_by_name(session, name)
            if same is not None and same.party_id != current_id:
                errors.append(ValidationError("name", f"is already the name of party {same.party_id}"))
        if errors:
            raise_all(errors)
        return {"party_id": party_id, "name": name, "kind": kind, "country": country,
                "address": address, "representative": representative, "contact": contact}

    def register_party(self, data: PartyInput | Mapping) -> Party:
        if not isinstance(data, PartyInput):
            data = PartyInput.from_mapping(data)
        with self._writing() as tx:
            with self.store.session() as session:
                existing = {p.party_id for p in queries.parties(session)}
            if data.party_id is not None:
                party_id = v.text("party_id", data.party_id)
                if not PARTY_ID_PATTERN.fullmatch(party_id):
                    raise ValidationError("party_id", "use 1-40 letters, digits, '.', '_' or '-', starting with a letter or digit")
                if party_id in existing:
                    raise ValidationError("party_id", f"'{party_id}' is already registered")
            else:
                number = len(existing) + 1
                while f"P{number:03d}" in existing:
                    number += 1
                party_id = f"P{number:03d}"
            body = self._checked_party(data, party_id=party_id, current_id=None)
            self._append(tx, "party.registered", body)
        return self.party(party_id)

    def change_party(self, party_ref: str, changes: Mapping[str, object], reason: str) -> Party:
        """Record a new version of a party; earlier versions stay in its history."""
        reason = v.text("reason", reason, max_len=v.MAX_TEXT)
        if "party_id" in changes:
            raise ValidationError("party_id", "cannot be changed; register a new party instead")
        with self._writing() as tx:
            current = self.resolve_party(party_ref)
            merged = {f: getattr(current, f) for f in ("name", "kind", "country", "address", "representative", "contact")}
            merged.update(changes)
            body = self._checked_party(PartyInput.from_mapping(merged), party_id=current.party_id,
                                       current_id=current.party_id)
            if all(body[f] == getattr(current, f) for f in body):
                raise ValidationError("changes", "change nothing: every field already has that value")
            body["reason"] = reason
            self._append(tx, "party.changed", body)
        return self.party(current.party_id)

    def parties(self) -> list[Party]:
        with self.store.session() as session:
            return [_party(r) for r in queries.parties(session)]

    def party(self, party_id: str) -> Party:
        with self.store.session() as session:
            row = queries.party(session, party_id)
        if row is None:
            raise NotFoundError(f"no party with id '{party_id}'")
        return _party(row)

    def resolve_party(self, ref: str) -> Party:
        """A party by id, or by its exact name (case-insensitive)."""
        with self.store.session() as session:
            row = queries.party(session, ref) or queries.party_by_name(session, ref)
            if row is None:
                known = ", ".join(f"{p.party_id} ({p.name})" for p in queries.parties(session)[:20])
                raise NotFoundError(f"no party '{ref}' (by id or name); registered: {known or 'none yet'}")
            return _party(row)

    def party_history(self, party_id: str) -> list[PartyVersion]:
        with self.store.session() as session:
            rows = queries.party_versions(session, party_id)
        if not rows:
            raise NotFoundError(f"no party with id '{party_id}'")
        return [PartyVersion(r.seq, r.version, r.name, r.kind, r.country, r.address,
                             r.representative, r.contact, r.reason) for r in rows]

    # ---- disclosures -----------------------------------------------------------
    def _recipient_facts(self, ref: str) -> RecipientFacts:
        try:
            party = self.resolve_party(ref)
        except NotFoundError as exc:
            raise ValidationError("recipient", str(exc)) from None
        if party.kind not in CONTRACTOR_KINDS:
            return RecipientFacts(party.party_id, party.kind, party.country)
        with self.store.session() as session:
            row = queries.contractor(session, party.party_id)
            assessed = tuple(_assessment_facts(a) for a in queries.assessments(session, party.party_id))
        register = None if row is None else {
            "engagement_approved": bool(row.engagement_approved),
            "contract": {"ends_on": row.contract_ends_on},
        }
        return RecipientFacts(party.party_id, party.kind, party.country, register, assessed)

    def _facts_for(self, tx: WriteTransaction, ref: str) -> RecipientFacts:
        """A recipient's facts for an append, read once and kept: only party, contractor and
        assessment entries change them, so they hold while every entry after `_facts_at` is a
        disclosure this service recorded (any other entry, or another writer's, moves the head)."""
        if tx.size != self._facts_at:
            self._facts.clear()
            self._facts_at = tx.size
        facts = self._facts.get(ref)
        if facts is None:
            facts = self._facts[ref] = self._recipient_facts(ref)
        return facts

    def _recipients_named_in(self, rows: list) -> dict[str, RecipientFacts | str]:
        """Each distinct recipient of an import, resolved once: its facts, or why it is unknown."""
        resolved: dict[str, RecipientFacts | str] = {}
        named = (row.get("recipient") for row in rows if type(row) is dict or isinstance(row, Mapping))
        for name in {name for name in named if isinstance(name, str)}:
            try:
                key = v.text("recipient", name)
            except ValidationError:
                continue
            if key is not None and key not in resolved:
                try:
                    resolved[key] = self._recipient_facts(key)
                except ValidationError as exc:
                    resolved[key] = exc.rule
        return resolved

    def check_disclosure(self, data: DisclosureInput | Mapping) -> list[ValidationError]:
        """The refusals recording this would meet, without recording it (for live form validation)."""
        try:
            inp = DisclosureInput.parse(data)
            recipient = self._recipient_facts(inp.recipient)
        except ValidationErrors as exc:
            return list(exc.errors)
        except ValidationError as exc:
            return [exc]
        errors = check_disclosure(inp, self.ref, recipient, self.today())
        if not errors:
            try:
                gating_decision(inp, recipient, self.store.size() + 1)
            except ValidationError as exc:
                errors.append(exc)
        return errors

    def record_disclosure(self, data: DisclosureInput | Mapping) -> int:
        """Append one disclosure; returns its seq. Refused input raises and writes nothing."""
        inp = DisclosureInput.parse(data)
        with self._writing() as tx:
            recipient = self._facts_for(tx, inp.recipient)
            body, sealer = prepare_disclosure(inp, self.ref, recipient, self.today(), tx.size + 1)
            seq, _, _ = self._append(tx, "disclosure.recorded", body, sealer)
        self._facts_at = seq  # a disclosure changes no recipient's facts
        return seq

    def import_disclosures(self, rows: Iterable[Mapping], source: str = "import",
                           progress: Callable[[int], None] | None = None) -> list[int]:
        """All or nothing: every row is checked first; one bad row and nothing is written."""
        rows = list(rows)
        problems: list[tuple[int, ValidationError]] = []
        seqs: list[int] = []
        with paused_gc(), self._writing() as tx:
            today = self.today()
            stamp = self._stamp()
            recipients = self._recipients_named_in(rows)
            for prepared, chunk_problems in prepare_chunks(rows, self.ref, recipients, today, tx.size + 1,
                                                           stamp, self.operator):
                problems.extend(chunk_problems)
                if problems:  # keep checking to report every bad row; write nothing more
                    continue
                seqs.extend(tx.append_recorded(prepared, stamp, self.operator))
                if progress is not None:
                    progress(len(seqs))
            if problems:  # leaving the transaction by an exception rolls every row back
                raise ImportRejected(source, problems, len(rows))
        return seqs

    def _disclosure_state(self, seq: int) -> tuple[dict, dict, str, list[int]]:
        """The current body of disclosure `seq` (corrections applied), its first leaf, its status,
        and the seqs of its entries (the disclosure and every correction or void)."""
        seq = _whole("seq", seq)
        with self.store.session() as session:
            found = queries.disclosure(session, seq)
            if found is None:
                raise NotFoundError(f"entry {seq} is not a disclosure")
            changes = queries.disclosure_changes(session, seq)
        seqs = [seq, *[c.seq for c in changes]]
        entries = self.store.entries(seqs)
        first = parse_leaf(entries[0].leaf)
        body = dict(first["body"])
        for entry in entries[1:]:
            leaf = parse_leaf(entry.leaf)
            if leaf["kind"] == "disclosure.corrected":
                body.update(leaf["body"]["changes"])
        return body, first, found[0].status, seqs

    def _open_values(self, value: object, vault: Mapping[str, str]) -> object:
        """A body value with every commitment replaced by its vault plaintext (or a mark when erased)."""
        if isinstance(value, dict):
            if set(value) == {"commitment"}:
                return vault.get(value["commitment"], f"{ERASED}:{value['commitment']}")
            return {k: self._open_values(x, vault) for k, x in value.items()}
        if isinstance(value, list):
            return [self._open_values(x, vault) for x in value]
        return value

    def _vault_for(self, entry_seqs: list[int]) -> dict[str, str]:
        with self.store.session() as session:
            return queries.vault_values(session, entry_seqs)

    def _input_from_body(self, body: dict, vault: Mapping[str, str]) -> dict:
        opened = self._open_values(body, vault)
        subjects = opened["subjects"]
        cross = opened["cross_border"] or {}
        return {
            "recipient": opened["recipient"],
            "first_day": opened["first_day"],
            "last_day": opened["last_day"] if opened["bulk"] else None,
            "subjects": subjects.get("identified", []),
            "group_description": subjects.get("group", {}).get("description"),
            "group_count": subjects.get("group", {}).get("count"),
            "data_items": opened["data_items"],
            "purpose": opened["purpose"],
            "basis": opened["basis"],
            "evidence": opened["evidence"],
            "route": cross.get("route"),
            "route_evidence": cross.get("evidence", {}),
            "method": opened["method"],
            "notes": opened["notes"],
            "contract_as_record": opened["contract_as_record"],
        }

    def correct_disclosure(self, seq: int, changes: Mapping[str, object], reason: str) -> int:
        """Append a correction naming disclosure `seq`, the changed fields and the reason."""
        reason = v.text("reason", reason, max_len=v.MAX_TEXT, multiline=True)
        if not changes:
            raise ValidationError("changes", "name at least one field to correct")
        with self._writing() as tx:
            body, first, status, seqs = self._disclosure_state(seq)
            if status == "voided":
                raise ValidationError("disclosure", f"entry {seq} was voided and cannot be corrected")
            vault = self._vault_for(seqs)
            current = self._input_from_body(body, vault)
            merged = dict(current)
            if "date" in changes:
                changes = {("first_day" if k == "date" else k): x for k, x in changes.items()}
            merged.update(changes)
            for key in changes:  # only a change can name one field of a group
                group, dot, name = key.partition(".") if isinstance(key, str) else ("", "", "")
                if dot and group in ("evidence", "route_evidence") and group not in changes:
                    # `evidence.X` changes one field of the recorded evidence; the others stay.
                    value = merged.pop(key)
                    if value not in (None, ""):
                        merged[group] = {**(merged[group] or {}), name: value}
            inp = DisclosureInput.from_mapping(merged)
            recorded_day = self.local_time(first["recorded_at"]).date()
            recipient = self._recipient_facts(inp.recipient)
            errors = check_disclosure(inp, self.ref, recipient, self.today())
            if errors:
                raise_all(errors)
            sealer = Sealer()
            new_body = disclosure_body(inp, self.ref, recipient, recorded_day, sealer)
            regate = any(new_body[k] != body.get(k) for k in ("recipient", "first_day", "last_day", "basis"))
            # A correction is judged as of the release: only assessments recorded before it count.
            new_body["gating"] = (gating_decision(replace(inp, override_reason=None), recipient, seq)
                                  if regate else body.get("gating"))
            changed = {}
            for key, value in new_body.items():
                if self._open_values(value, {**vault, **{p.commitment: p.value for p in sealer.pending}}) \
                        != self._open_values(body.get(key), vault):
                    changed[key] = value
            if not changed:
                raise ValidationError("changes", "change nothing: the disclosure already says that")
            kept = set(commitments_in(changed))
            sealer.pending = [p for p in sealer.pending if p.commitment in kept]
            correction = {"disclosure": seq, "changes": changed,
                          "reason": sealer.seal("reason", reason)}
            new_seq, _, _ = self._append(tx, "disclosure.corrected", correction, sealer)
        return new_seq

    def void_disclosure(self, seq: int, reason: str) -> int:
        reason = v.text("reason", reason, max_len=v.MAX_TEXT, multiline=True)
        with self._writing() as tx:
            status = self._disclosure_state(seq)[2]
            if status == "voided":
                raise ValidationError("disclosure", f"entry {seq} is already voided")
            sealer = Sealer()
            body = {"disclosure": seq, "reason": sealer.seal("reason", reason)}
            new_seq, _, _ = self._append(tx, "disclosure.voided", body, sealer)
        return new_seq

    # ---- erasure ---------------------------------------------------------------
    def erase_subject(self, identifier: str, reason: str = "data_subject_request") -> ErasureResult:
        """Delete a person's vault values and append an erasure entry that holds no personal data."""
        identifier = v.text("identifier", identifier)
        v.known_code("reason", reason, list(ERASURE_REASONS), "erasure reason")
        recipients = tuple(self.recipients_to_notify(identifier))  # told after the identifier is gone
        with self._writing() as tx:
            with self.store.session() as session:
                subject = queries.subject_values(session, identifier)
                if not subject:
                    raise NotFoundError("no disclosure in the ledger names that subject "
                                        "(or the subject was already erased)")
                erased_ids = {commitment for _, commitment in subject}
                touched = queries.disclosure_seqs_naming(session, identifier)
                # Free text about only this person goes too: notes, evidence, reasons.
                sole = [seq for seq in touched
                        if set(queries.subjects_of(session, seq)) <= erased_ids]
                related = sole + [c.seq for seq in sole for c in queries.disclosure_changes(session, seq)]
                free_text = [(row.entry_seq, row.commitment)
                             for row in queries.vault_rows_of_entries(session, related)
                             if row.field != "subject"]
            removed = sorted(set(subject) | set(free_text))
            seq, _, _ = self._append(tx, "subject.erased", {
                "reason": reason, "commitments": sorted({c for _, c in removed})})
            tx.delete_vault_values(removed)
        return ErasureResult(seq, len(subject), len(free_text), tuple(touched), recipients)

    # ---- reads -------------------------------------------------------------------
    def disclosures(self, filters: DisclosureFilter = DisclosureFilter(), *, limit: int | None = 200,
                    before_seq: int | None = None) -> list[DisclosureSummary]:
        """Newest first; page with `before_seq` = the last seq of the previous page."""
        recipient = v.text("recipient", filters.recipient, required=False)
        recipient_id = self.resolve_party(recipient).party_id if recipient else None
        if filters.basis is not None:
            v.known_code("basis", v.text("basis", filters.basis), list(self.ref.bases), "legal basis")
        filters = replace(filters, since=v.iso_date("since", filters.since, required=False),
                          until=v.iso_date("until", filters.until, required=False))
        limit = None if limit is None else _whole("limit", limit)
        before_seq = None if before_seq is None else _whole("before_seq", before_seq)
        text = self._text_match(v.text("text", filters.text, required=False))
        if text is not None and text.empty:
            return []
        with self.store.session() as session:
            subject = v.text("subject", filters.subject) if filters.subject is not None else None
            rows = queries.disclosures(
                session, since=filters.since, until=filters.until, recipient_id=recipient_id,
                basis=filters.basis, statutory_only=filters.statutory_only,
                include_voided=filters.include_voided, subject=subject,
                text=text, before_seq=before_seq, limit=limit,
            )
            return [_summary(row, name) for row, name in rows]

    def _text_match(self, text: str | None) -> queries.TextMatch | None:
        """Free text matched, case-insensitively, against recipients' names and ids and the codes
        and names of bases, purposes, countries and data items."""
        if text is None:
            return None
        needle = text.casefold()

        def hits(mapping) -> tuple[str, ...]:
            return tuple(code for code, entry in mapping.items()
                         if needle in code.casefold() or needle in entry.name.casefold())

        recipients = tuple(p.party_id for p in self.parties()
                           if needle in p.party_id.casefold() or needle in p.name.casefold())
        return queries.TextMatch(recipients, hits(self.ref.bases), hits(self.ref.purposes),
                                 hits(self.ref.countries), hits(self.ref.data_items),
                                 int(text) if text.isdigit() else None)

    def subject_disclosures(self, identifier: str) -> list[DisclosureSummary]:
        """Every disclosure naming this person, newest first."""
        identifier = v.text("identifier", identifier)
        return self.disclosures(DisclosureFilter(subject=identifier), limit=None)

    def disclosure_count(self, party_ref: str) -> int:
        """How many disclosures a party received (voided ones included)."""
        party = self.resolve_party(party_ref)
        with self.store.session() as session:
            return queries.disclosure_count(session, party.party_id)

    def recipients_to_notify(self, identifier: str) -> list[RecipientToNotify]:
        """Who received this person's data (active disclosures), to be told of a correction,
        erasure or stop of use (GDPR Art. 19; APPI Art. 35)."""
        by_party: dict[str, list[DisclosureSummary]] = {}
        for summary in self.subject_disclosures(identifier):
            if summary.status != "voided":
                by_party.setdefault(summary.recipient_id, []).append(summary)
        return [RecipientToNotify(self.party(party_id), tuple(s.seq for s in found),
                                  any(s.statutory for s in found), max(s.last_day for s in found))
                for party_id, found in by_party.items()]

    def entry(self, seq: int) -> EntryView:
        stored = self.store.entry(_whole("seq", seq))
        if stored is None:
            raise NotFoundError(f"no entry {seq}; the ledger has {self.store.size()} entries")
        leaf = parse_leaf(stored.leaf)
        return EntryView(stored.seq, stored.leaf, stored.leaf_hash, leaf["kind"], leaf["prev"],
                         leaf["recorded_at"], leaf["recorded_by"], leaf["body"])

    def disclosure(self, seq: int) -> DisclosureDetail:
        body, _, _, seqs = self._disclosure_state(seq)
        with self.store.session() as session:
            row, name = queries.disclosure(session, seq)
            changes = queries.disclosure_changes(session, seq)
        vault = self._vault_for(seqs)
        opened = self._input_from_body(body, vault)
        history = []
        for change in changes:
            leaf = parse_leaf(self.store.entry(change.seq).leaf)
            history.append(DisclosureChange(
                change.seq, change.action, tuple(change.fields.split(",")),
                vault.get(change.reason_commitment, ERASED), leaf["recorded_at"], leaf["recorded_by"]))
        def shown(value):
            return ERASED if isinstance(value, str) and value.startswith(ERASED) else value
        return DisclosureDetail(
            summary=_summary(row, name),
            subjects=tuple(shown(s) for s in opened["subjects"]),
            group_description=shown(opened["group_description"]),
            evidence={k: shown(x) for k, x in opened["evidence"].items()},
            route_evidence={k: shown(x) for k, x in opened["route_evidence"].items()},
            notes=shown(opened["notes"]),
            history=tuple(history),
            entry=self.entry(seq),
        )

    def statutory_reason(self, summary: DisclosureSummary) -> str:
        """Why the record is statutory or voluntary, in words."""
        return statutory_reason(summary.statutory_ground, self.ref)

    def retention_reason(self, summary: DisclosureSummary) -> str:
        """Why the record is kept until its retention date (PPC Rule 21)."""
        first = date.fromisoformat(summary.first_day)
        last = date.fromisoformat(summary.last_day) if summary.bulk else None
        _, reason = retention(self.local_time(summary.recorded_at).date(), first, last,
                              summary.contract_as_record, self.ref)
        return reason

    def counts(self) -> dict[str, int]:
        with self.store.session() as session:
            result = queries.counts(session)
        result["entries"] = self.store.size()
        return result

    # ---- contractor register (APPI Art. 25) -----------------------------------------------
    @property
    def evidence_folder(self) -> Path:
        """Evidence files of assessments, named by their SHA-256, next to the ledger file."""
        return self.path.with_name(self.path.name + ".evidence")

    def _contractor_party(self, party_ref: str) -> Party:
        party = self.resolve_party(party_ref)
        if party.kind not in CONTRACTOR_KINDS:
            raise ValidationError("party", f"{party.party_id} is a {party.kind}; the register holds contractors and subcontractors")
        return party

    def record_contractor(self, party_ref: str, data: Mapping[str, object]) -> ContractorRecord:
        """Record a new version of a contractor's register record (contract, certifications, ...)."""
        if not isinstance(data, Mapping):
            raise ValidationError("register", "must be an object of field: value")
        with self._writing() as tx:
            party = self._contractor_party(party_ref)
            contractors = [p.party_id for p in self.parties() if p.kind == "contractor"]
            body, errors = check_register(data, self.ref, party.kind, contractors, self.today())
            reason = None
            try:
                reason = v.text("reason", data.get("reason"), required=False, max_len=v.MAX_TEXT)
            except ValidationError as exc:
                errors.append(exc)
            if errors:
                raise_all(errors)
            self._append(tx, "contractor.recorded", {"party_id": party.party_id, **body, "reason": reason})
        return self.contractor(party.party_id)

    def contractor(self, party_id: str) -> ContractorRecord | None:
        with self.store.session() as session:
            row = queries.contractor(session, party_id)
        if row is None:
            return None
        contract = None
        if row.contract_reference is not None:
            contract = {"reference": row.contract_reference, "signed_on": row.contract_signed_on,
                        "ends_on": row.contract_ends_on, "clauses": json.loads(row.contract_clauses)}
        return ContractorRecord(row.party_id, row.service, tuple(json.loads(row.data_items)), contract,
                                tuple(json.loads(row.certifications)), row.works_for,
                                bool(row.engagement_approved), bool(row.equivalent_measures),
                                row.measures_checked_on, row.version, row.version_seq)

    def _evidence_file(self, field: str, path_text: object) -> assessing.EvidenceFile:
        path = Path(v.text(field, path_text, max_len=4096)).expanduser()
        try:
            if not path.is_file():
                raise ValidationError(field, f"the evidence file {path} does not exist")
            data = path.read_bytes()
        except OSError as exc:
            raise ValidationError(field, f"the evidence file {path} cannot be read ({exc.strerror})") from None
        return assessing.EvidenceFile(path.name, hashlib.sha256(data).hexdigest())

    def record_assessment(self, party_ref: str, data: Mapping[str, object]) -> AssessmentView:
        """Record a safeguard assessment: answers per checklist item, the derived outcome (or an
        override with its reason), conditions and deadline, validity and next review."""
        if not isinstance(data, Mapping):
            raise ValidationError("assessment", "must be an object of field: value")
        allowed = {"assessor", "assessed_on", "answers", "override_outcome", "override_reason",
                   "conditions", "condition_deadline", "valid_until"}
        attempt = Checks()
        errors = attempt.errors
        for key in data:
            if key not in allowed:
                errors.append(ValidationError(str(key), f"is not an assessment field; fields: {', '.join(sorted(allowed))}"))

        today = self.today()
        assessor = attempt(v.text, "assessor", data.get("assessor") or self.operator)
        assessed_on = attempt(v.iso_date, "assessed_on", data.get("assessed_on") or today.isoformat())
        answers: list[assessing.Answer] = []
        sources: dict[str, Path] = {}
        raw_answers = data.get("answers")
        if not isinstance(raw_answers, list):
            errors.append(ValidationError("answers", "must be a list of {item, answer, note, evidence_files}"))
            raw_answers = []
        for number, raw in enumerate(raw_answers, start=1):
            if not isinstance(raw, Mapping):
                errors.append(ValidationError(f"answers[{number}]", "must be an object with item and answer"))
                continue
            item = attempt(v.text, f"answers[{number}].item", raw.get("item")) or ""
            files = []
            paths = raw.get("evidence_files") or []
            if not isinstance(paths, (list, tuple)):
                errors.append(ValidationError(f"answers.{item}.evidence_files", "must be a list of file paths"))
                paths = []
            for path_text in paths:
                found = attempt(self._evidence_file, f"answers.{item}.evidence_files", path_text)
                if found is not None:
                    files.append(found)
                    sources[found.sha256] = Path(str(path_text)).expanduser()
            answers.append(assessing.Answer(
                item, attempt(v.text, f"answers.{item}.answer", raw.get("answer")) or "",
                attempt(v.text, f"answers.{item}.note", raw.get("note"), required=False, max_len=v.MAX_TEXT, multiline=True),
                tuple(files)))
        errors.extend(assessing.check_answers(answers, self.ref))
        override_outcome = attempt(v.text, "override_outcome", data.get("override_outcome"), required=False)
        override_reason = attempt(v.text, "override_reason", data.get("override_reason"), required=False,
                                  max_len=v.MAX_TEXT, multiline=True)
        conditions = [c for c in (attempt(v.text_list, "conditions", data.get("conditions"), max_len=v.MAX_TEXT) or ())]
        deadline = attempt(v.iso_date, "condition_deadline", data.get("condition_deadline"), required=False)
        valid_until = attempt(v.iso_date, "valid_until", data.get("valid_until"), required=False)
        for name, day in (("assessed_on", assessed_on), ("condition_deadline", deadline), ("valid_until", valid_until)):
            if day is not None and not date(1900, 1, 1) <= day <= date(9000, 12, 31):
                # Reviews and deadlines are computed from these: keep them far from year 1 and 9999.
                errors.append(ValidationError(name, f"{day} is not between 1900-01-01 and 9000-12-31"))
        if errors:
            raise_all(errors)
        derived = assessing.derive_outcome(answers, self.ref)
        errors.extend(assessing.check_override(derived, override_outcome, override_reason))
        outcome = override_outcome or derived.outcome
        default_until, next_review = assessing.validity(
            assessed_on, self.ref.settings.assessment_validity_months, self.ref.assessment.expiring_within_days)
        if valid_until is None:
            valid_until = default_until
        else:
            next_review = max(valid_until - timedelta(days=self.ref.assessment.expiring_within_days), assessed_on)
        if outcome == "conditional":
            conditions = conditions or list(derived.reasons)
            deadline = deadline or assessing.condition_deadline(assessed_on, self.ref)
        errors.extend(assessing.check_dates(assessed_on, valid_until, today))
        errors.extend(assessing.check_conditions(outcome, conditions, deadline, today))
        if errors:
            raise_all(errors)
        body = {
            "assessor": assessor, "assessed_on": assessed_on.isoformat(),
            "answers": [{"item": a.item_id, "answer": a.answer, "note": a.note,
                         "evidence_files": [{"name": f.name, "sha256": f.sha256} for f in a.evidence_files]}
                        for a in answers],
            "score": assessing.score(answers, self.ref), "derived_outcome": derived.outcome,
            "reasons": list(derived.reasons), "outcome": outcome,
            "override": {"reason": override_reason} if override_outcome else None,
            "conditions": conditions, "condition_deadline": deadline.isoformat() if deadline else None,
            "valid_until": valid_until.isoformat(), "next_review": next_review.isoformat(),
        }
        with self._writing() as tx:
            party = self._contractor_party(party_ref)
            body["party_id"] = party.party_id
            self._keep_evidence(sources)
            seq, _, _ = self._append(tx, "assessment.recorded", body)
        return self._assessment_view(self.entry(seq))

    def _keep_evidence(self, sources: Mapping[str, Path]) -> None:
        """Copy evidence files into the evidence folder, named by SHA-256 (so no name can escape it)."""
        if not sources:
            return
        folder = self.evidence_folder
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            raise LedgerFileError(f"{folder}: the evidence folder must be a folder next to the ledger, "
                                  "not a link or a file; nothing was recorded")
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # evidence may hold personal data: the owner's only
        for digest, source in sources.items():
            target = folder / digest
            if target.is_file() and not target.is_symlink():
                continue
            # A new owner-only file, never through a link, renamed into place once whole.
            partial = folder / f".{digest}.{secrets.token_hex(4)}.part"
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            try:
                with os.fdopen(fd, "wb") as out, open(source, "rb") as data:
                    shutil.copyfileobj(data, out)
                durable_replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)

    def _assessment_view(self, entry: EntryView) -> AssessmentView:
        b = entry.body
        return AssessmentView(
            entry.seq, b["party_id"], b["assessor"], b["assessed_on"], b["score"], b["derived_outcome"],
            b["outcome"], (b["override"] or {}).get("reason"), tuple(b["reasons"]), tuple(b["conditions"]),
            b["condition_deadline"], b["valid_until"], b["next_review"], tuple(b["answers"]),
            entry.recorded_at, entry.recorded_by)

    def assessments(self, party_ref: str) -> list[AssessmentView]:
        party = self.resolve_party(party_ref)
        with self.store.session() as session:
            seqs = [a.seq for a in queries.assessments(session, party.party_id)]
        return [self._assessment_view(self.entry(seq)) for seq in seqs]

    def vendors(self) -> list[VendorSummary]:
        """Every contractor and subcontractor with its status badge."""
        today = self.today()
        result = []
        for party in self.parties():
            if party.kind not in CONTRACTOR_KINDS:
                continue
            with self.store.session() as session:
                rows = queries.assessments(session, party.party_id)
            facts = [_assessment_facts(a) for a in rows]
            latest = self._assessment_view(self.entry(rows[-1].seq)) if rows else None
            result.append(VendorSummary(party, status(facts, today, self.ref.assessment.expiring_within_days),
                                        latest, self.contractor(party.party_id)))
        return result

    def vendor_due(self, within_days: int | None = None) -> list[DueItem]:
        """What needs attention: assessments expiring or overdue, conditions past their deadline,
        certifications expiring, yearly checks of foreign recipients, releases after a contract
        ended, and releases made under an override."""
        within = self.ref.assessment.expiring_within_days if within_days is None else within_days
        within = _whole("within", within, MAX_WITHIN_DAYS, " of days")
        today = self.today()
        horizon = today + timedelta(days=within)
        due: list[DueItem] = []
        for vendor in self.vendors():
            p, latest, reg = vendor.party, vendor.latest_assessment, vendor.register
            if latest is None:
                due.append(DueItem("not_assessed", p.party_id, p.name, None, "never assessed: assess it before any release"))
            elif latest.outcome == "rejected":
                due.append(DueItem("rejected", p.party_id, p.name, latest.assessed_on,
                                   f"rejected by assessment {latest.seq}: no release may go to it", latest.seq))
            elif date.fromisoformat(latest.valid_until) < today:
                due.append(DueItem("assessment_overdue", p.party_id, p.name, latest.valid_until,
                                   f"assessment {latest.seq} expired on {latest.valid_until}: reassess", latest.seq))
            elif date.fromisoformat(latest.valid_until) <= horizon:
                due.append(DueItem("assessment_expiring", p.party_id, p.name, latest.valid_until,
                                   f"assessment {latest.seq} expires on {latest.valid_until}", latest.seq))
            if (latest is not None and latest.outcome == "conditional" and latest.condition_deadline
                    and date.fromisoformat(latest.condition_deadline) < today):
                due.append(DueItem("conditions_overdue", p.party_id, p.name, latest.condition_deadline,
                                   f"conditions of assessment {latest.seq} were due on {latest.condition_deadline}: "
                                   + "; ".join(latest.conditions), latest.seq))
            if reg is None:
                continue
            for cert in reg.certifications:
                expires = date.fromisoformat(str(cert["expires_on"]))
                if expires <= horizon:
                    word = "expired" if expires < today else "expires"
                    due.append(DueItem("certification_expiring", p.party_id, p.name, cert["expires_on"],
                                       f"{cert['scheme']} certification {word} on {cert['expires_on']}", reg.version_seq))
            if reg.equivalent_measures:
                checked = date.fromisoformat(reg.measures_checked_on)
                next_check = checked + timedelta(days=self.ref.settings.equivalent_measures_check_days)
                if next_check <= horizon:
                    due.append(DueItem("equivalent_measures_check", p.party_id, p.name, next_check.isoformat(),
                                       f"yearly check of its equivalent measures is due (last checked {reg.measures_checked_on}; PPC Rule 18(1))",
                                       reg.version_seq))
            ends_on = (reg.contract or {}).get("ends_on")
            if ends_on:
                with self.store.session() as session:
                    last = queries.latest_release(session, p.party_id)
                if last is not None and last > ends_on:
                    due.append(DueItem("contract_ended", p.party_id, p.name, ends_on,
                                       f"the contract ended on {ends_on} but releases continued until {last}", reg.version_seq))
        with self.store.session() as session:
            for row, name in queries.overridden_disclosures(session):
                due.append(DueItem("override", row.recipient_id, name, row.last_day,
                                   f"disclosure {row.seq} was forced past the register with an override", row.seq))
        return due

    # ---- integrity -------------------------------------------------------------------
    def verify(self, progress: Callable[[int, int], None] | None = None, *,
               against: str | None = None, against_source: str = "the checkpoint given",
               trusted_keys: Iterable[str] = ()):
        """Check the whole ledger and every checkpoint it keeps; with `against` (a signed note held
        outside the ledger) also that the ledger still holds what that checkpoint signed. Keys in
        `trusted_keys` (verifier key strings) are trusted beside the ledger's own. The result is
        logged for the dashboard (not as an entry)."""
        from .verify import verify_ledger
        try:
            keys, findings = checking.stored_keys(self.signing_keys())
        except LedgerFileError as exc:  # a key row changed outside the ledger into unreadable text
            keys, findings = [], [checking.Finding(None, f"the signing keys kept in the ledger cannot be read: {exc}")]
        keys += [_parse_key(text) for text in trusted_keys]
        report = verify_ledger(self.store, progress=progress)
        try:
            origin = self.origin()
        except LedgerError:  # entry 1 is damaged (verify says so): trust the name the keys were made for
            origin = keys[0].name if keys else ""
        size = self.store.size()
        root_at = lambda n: tree.root_at(self.store.conn, n)  # noqa: E731
        try:
            stored = self.checkpoints()
        except LedgerFileError as exc:
            stored = []
            findings.append(checking.Finding(None, f"the checkpoints kept in the ledger cannot be read: {exc}"))
        findings += checking.check_stored(stored, keys, origin, size, root_at, self._consistency_path)
        report.checkpoints_checked = len(stored)
        if against is not None:
            checkpoint, more = checking.check_outside(against, against_source, keys, origin, size, root_at)
            findings += more
            report.against = None if checkpoint is None else {
                "source": against_source, "size": checkpoint.size, "root": checkpoint.root.hex(), "ok": not more}
        located = report.first_bad_seq is not None
        for finding in findings:
            # a checkpoint that no longer matches only bounds where the change is; an entry the
            # chain pass already named is the better place to point at
            seq = None if located and not finding.exact else finding.seq
            report.add(seq, finding.what, finding.evidence)
        for name, table, how in guards.missing_or_altered(self.store.conn):
            report.add(None, f"the safeguard {name}, which keeps the {table} table append-only, was {how}: "
                             "someone who had the file switched it off (the hashes above still show what changed)")
        try:
            with self.store.transaction() as tx:
                tx.log_verification(self._stamp(), report.ok, report.size, report.root,
                                    report.first_bad_seq, len(report.problems))
        except LedgerFileError:
            pass  # a read-only or busy file still verifies; only the log entry is skipped
        return report

    def last_verification(self) -> Verification | None:
        with self.store.session() as session:
            row = queries.last_verification(session)
        if row is None:
            return None
        return Verification(row.verified_at, bool(row.ok), row.size, row.root, row.first_bad_seq, row.problems)

    def dashboard(self, retention_within_days: int = 90) -> Dashboard:
        """The home screen's figures: size, last entry, last verification, this year's releases by
        basis and statutory or voluntary, and what needs attention."""
        today = self.today()
        year_start = date(today.year, 1, 1)
        size = self.store.size()
        with self.store.session() as session:
            by_basis = queries.disclosure_counts_since(session, year_start)
            ending = queries.retention_between(session, today, today + timedelta(days=retention_within_days),
                                               limit=DASHBOARD_RETENTION_ROWS)
        counts: dict[str, int] = {}
        statutory = voluntary = 0
        for basis, is_statutory, count in by_basis:
            counts[basis] = counts.get(basis, 0) + count
            if is_statutory:
                statutory += count
            else:
                voluntary += count
        return Dashboard(
            size=size, last_entry=self.entry(size) if size else None, last_verification=self.last_verification(),
            year=today.year, by_basis=counts, statutory=statutory, voluntary=voluntary,
            attention=tuple(self.vendor_due()),
            retention_ending=tuple(_summary(row, name) for row, name in ending))

    # ---- signing keys and checkpoints (C2SP signed-note / tlog-checkpoint) ----------------
    def origin(self) -> str:
        """The checkpoint origin line: `disclosure-ledger/<ledger id>`; also the signer's name."""
        return checking.origin_of(self.ledger_id())

    def signing_keys(self) -> list[SigningKeyView]:
        with self.store.session() as session:
            rows = queries.signing_keys(session)
        return [SigningKeyView(r.key_id, r.verifier_key, r.created_at, r.created_by, i == len(rows) - 1)
                for i, r in enumerate(rows)]

    def verifier_keys(self) -> list[str]:
        """The C2SP verifier key strings of every signing key, oldest first, the current one last."""
        return [k.verifier_key for k in self.signing_keys()]

    def create_signing_key(self, passphrase: bytes | None = None, *, rotate: bool = False) -> SigningKeyView:
        """A new Ed25519 key in the key folder (owner-only file), its public half kept in the ledger.
        The first key comes from `key init`; `key rotate` makes the next, and the old one keeps
        verifying the checkpoints it signed."""
        existing = self.signing_keys()
        if existing and not rotate:
            raise KeyUnavailable(
                f"this ledger already has a signing key ({existing[-1].key_id}); `key show` prints it, "
                "`key rotate` replaces it")
        if rotate and not existing:
            raise KeyUnavailable("this ledger has no signing key to rotate; make one with `key init`")
        public = self.keys.create(self.ledger_id(), self.origin(), passphrase)
        with self.store.transaction() as tx:
            tx.add_signing_key(public.key_id.hex(), str(public), self._stamp(), self.operator)
        self._signer = None
        return self.signing_keys()[-1]

    def _unlocked_signer(self):
        keys = self.signing_keys()
        if not keys:
            raise KeyUnavailable("this ledger has no signing key yet; make one with `disclosure-ledger key init`")
        current = keys[-1]
        if self._signer is None or self._signer[0] != current.key_id:
            public = _parse_key(current.verifier_key)
            private = self.keys.load(self.ledger_id(), public, self.passphrase)
            self._signer = (current.key_id, private)
        return self._signer

    def can_sign(self) -> bool:
        """Whether a checkpoint can be signed now without asking anyone anything."""
        try:
            keys = self.signing_keys()
            if not keys:
                return False
            if self._signer is not None and self._signer[0] == keys[-1].key_id:
                return True
            if self.keys.is_encrypted(self.ledger_id(), keys[-1].key_id):
                return passphrase_from_environment() is not None
            return True
        except KeyUnavailable:
            return False

    def make_checkpoint(self, reason: str = "manual") -> CheckpointView:
        """Sign the ledger's current size and root. If the latest checkpoint already signs this size
        with the current key, that one is returned instead of a duplicate."""
        key_id, private = self._unlocked_signer()
        with self.store.transaction() as tx:
            size = tx.size
            with self.store.session() as session:
                same = queries.checkpoint_at(session, size)
            if same is not None and same.key_id == key_id:
                return _checkpoint_view(same)
            root = tree.root_at(self.store.conn, size)
            note = sign_note(Checkpoint(self.origin(), size, root).body(), self.origin(), private)
            made_at = self._stamp()
            checkpoint_id = tx.add_checkpoint(size, root, key_id, note, made_at, reason)
        return CheckpointView(checkpoint_id, size, root.hex(), note, key_id, made_at, reason)

    def _checkpoint_quietly(self, reason: str) -> CheckpointView | None:
        """An automatic checkpoint: skipped, with a notice, when it cannot be signed unattended."""
        if not self.signing_keys():
            return None  # no key made yet: checkpoints are opt-in through `key init`
        try:
            return self.make_checkpoint(reason)
        except LedgerError as exc:
            self.notices.append(f"no automatic checkpoint was made: {exc}")
            return None

    def checkpoint_on_close(self) -> CheckpointView | None:
        """The checkpoint the terminal app makes when it closes, if configured and the ledger grew."""
        if not self.ref.settings.checkpoint_when_app_closes:
            return None
        latest = self.latest_checkpoint()
        if latest is not None and latest.size == self.store.size():
            return None
        return self._checkpoint_quietly("app-closed")

    def checkpoints(self) -> list[CheckpointView]:
        with self.store.session() as session:
            return [_checkpoint_view(row) for row in queries.checkpoints(session)]

    def latest_checkpoint(self, max_size: int | None = None) -> CheckpointView | None:
        with self.store.session() as session:
            row = queries.latest_checkpoint(session, max_size)
        return None if row is None else _checkpoint_view(row)

    def record_checkpoint_export(self, checkpoint: CheckpointView, destination: str) -> None:
        """Note that `checkpoint` left the ledger (to a file, an auditor, a report): a restore must
        not go back behind it."""
        with self.store.transaction() as tx:
            tx.log_checkpoint_export(checkpoint.id, self._stamp(), destination)

    def latest_exported_checkpoint(self) -> CheckpointView | None:
        with self.store.session() as session:
            found = queries.latest_export(session)
        return None if found is None else _checkpoint_view(found[1])

    def _consistency_path(self, first: int, second: int) -> list[bytes]:
        return merkle.consistency_proof(first, second, tree.SubtreeRoots(self.store.conn, second))

    # ---- report aggregates ------------------------------------------------------------------
    # The annual review's figures, counted and grouped in SQL; listings come back bounded, and
    # every row of a period only as a stream.
    def release_counts(self, since: date, until: date) -> ReleaseCounts:
        """The releases overlapping [since, until] counted by recipient, basis, purpose, data item,
        record kind, transfer and month: two passes over the table, however many releases."""
        releases = voided = statutory = subjects = 0
        by: dict[str, Counter] = {name: Counter() for name in (
            "recipient", "statutory_recipient", "basis", "purpose", "item", "cross_border", "month")}
        with self.store.session() as session:
            tallies = queries.release_tallies(session, since, until)
            items = queries.release_item_tallies(session, since, until)
        for month, is_voided, recipient, basis, purpose, is_statutory, country, route, count, named in tallies:
            if is_voided:
                voided += count
                continue
            releases += count
            subjects += named or 0
            by["recipient"][recipient] += count
            by["basis"][basis] += count
            by["purpose"][purpose] += count
            by["month"][(month, basis)] += count
            if is_statutory:
                statutory += count
                by["statutory_recipient"][recipient] += count
            if route:
                by["cross_border"][(country, route)] += count
        for text, count in items:
            for item in json.loads(text):
                by["item"][item] += count

        def ordered(counter: Counter) -> dict:
            return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))

        return ReleaseCounts(releases, voided, statutory, subjects, ordered(by["recipient"]),
                             ordered(by["statutory_recipient"]), ordered(by["basis"]), ordered(by["purpose"]),
                             ordered(by["item"]), ordered(by["cross_border"]), dict(sorted(by["month"].items())))

    def releases_in_period(self, since: date, until: date, *, recipients: Iterable[str] | None = None,
                           bases: Iterable[str] | None = None, limit: int | None = 200) -> list[DisclosureSummary]:
        """The first `limit` active releases overlapping the period, oldest entry first; only to
        these recipients or on these bases when given (their totals are in `release_counts`)."""
        with self.store.session() as session:
            rows = queries.releases_in_period(
                session, since, until, recipient_ids=None if recipients is None else sorted(recipients),
                bases=None if bases is None else sorted(bases), limit=limit)
            return [_summary(row, name) for row, name in rows]

    def government_bodies(self) -> list[str]:
        """The party ids of national or local government bodies (APPI Art. 16(2))."""
        return [p.party_id for p in self.parties() if self.ref.party_kinds[p.kind].government]

    def consent_bases(self) -> list[str]:
        """The legal bases that rest on the person's consent."""
        return [code for code, basis in self.ref.bases.items() if basis.category == "consent"]

    def government_releases(self, since: date, until: date, *, limit: int | None = 200) -> list[DisclosureSummary]:
        """Releases of the period to government bodies."""
        return self.releases_in_period(since, until, recipients=self.government_bodies(), limit=limit)

    def consent_releases(self, since: date, until: date, *, limit: int | None = 200) -> list[DisclosureSummary]:
        """Releases of the period made on the person's consent."""
        return self.releases_in_period(since, until, bases=self.consent_bases(), limit=limit)

    def release_exceptions(self, since: date, until: date) -> list[ExceptionalRelease]:
        """Active releases of the period forced past the contractor register (with the check they
        were forced past), and those that ran past the end of the recipient's contract."""
        with self.store.session() as session:
            overridden = queries.overridden_in_period(session, since, until)
            late = queries.released_after_contract_end(session, since, until)
            found = [ExceptionalRelease(_summary(row, name), "contract_ended", None, ends_on)
                     for row, name, ends_on in late]
            overridden_summaries = [(row.seq, _summary(row, name)) for row, name in overridden]
        leaves = {e.seq: parse_leaf(e.leaf) for e in self.store.entries([seq for seq, _ in overridden_summaries])}
        for seq, summary in overridden_summaries:
            gating = leaves[seq]["body"].get("gating") or {}
            failed = (gating.get("override") or {}).get("failed") or "override"
            found.append(ExceptionalRelease(summary, "override", failed, None))
        return sorted(found, key=lambda e: e.summary.seq)

    def retention_ending_between(self, start: date, end: date, *, limit: int | None = 200) -> ReleaseListing:
        """Active records whose retention period ends in [start, end] (PPC Rule 21), by that
        date: the first `limit` of them and how many there are."""
        with self.store.session() as session:
            rows = queries.retention_between(session, start, end, limit)
            total = queries.retention_count(session, start, end) if limit is not None else len(rows)
            return ReleaseListing(total, tuple(_summary(row, name) for row, name in rows))

    def size_at(self, moment: str) -> int:
        """How many entries had been recorded before `moment` (a recorded_at string, UTC): a
        binary search over the entries, which are appended in time order (a ledger written with
        its clock set back, like the demo's backdated story, gets one of its boundaries)."""
        low, high = 0, self.store.size()
        while low < high:
            middle = (low + high + 1) // 2
            if parse_leaf(self.store.entry(middle).leaf)["recorded_at"] < moment:
                low = middle
            else:
                high = middle - 1
        return low

    def changes_recorded(self, begins: str, ends: str) -> list[LedgerChange]:
        """The corrections, voids and erasures recorded in [begins, ends) (recorded_at strings,
        UTC). Such entries are few, so their times are read from their leaves."""
        with self.store.session() as session:
            corrections = queries.all_disclosure_changes(session)
            erasures = queries.all_erasures(session)
        found: list[tuple[int, str, int | None, tuple[str, ...], str | None, int]] = [
            (c.seq, f"disclosure.{c.action}", c.disclosure_seq,
             tuple(c.fields.split(",")) if c.action == "corrected" else (), None, 0) for c in corrections]
        found += [(e.seq, "subject.erased", None, (), e.reason, e.commitment_count) for e in erasures]
        leaves = {e.seq: parse_leaf(e.leaf) for e in self.store.entries([item[0] for item in found])}
        changes = []
        for seq, kind, disclosure, fields, reason, erased in sorted(found):
            leaf = leaves[seq]
            if not begins <= leaf["recorded_at"] < ends:
                continue
            changes.append(LedgerChange(seq, kind, leaf["recorded_at"], leaf["recorded_by"], disclosure, fields,
                                        reason, erased))
        return changes

    def release_rows(self, since: date, until: date, *, page: int = 5000) -> Iterator[ReleaseRow]:
        """Every release overlapping the period, voided ones too, oldest entry first, read a page
        at a time (constant memory however long the period)."""
        after = 0
        while True:
            with self.store.session() as session:
                rows = queries.release_rows_after(session, since, until, after, page)
            for (seq, first, last, bulk, recipient, name, kind, country, route, basis, purpose, items, named,
                 statutory, ground, state, version, retention_until, assessment, override, at, by) in rows:
                yield ReleaseRow(seq, first, last, bool(bulk), recipient, name, kind, country, route, basis, purpose,
                                 tuple(json.loads(items)), named, bool(statutory), ground, state, version,
                                 retention_until, assessment, bool(override), at, by)
            if len(rows) < page:
                return
            after = rows[-1][0]

    # ---- proofs (RFC 9162 section 2.1) ----------------------------------------------------
    def _tree_size(self, field: str, value: object, *, low: int, size: int | None = None) -> int:
        """An integer size or seq in [low, size] (size: the ledger's), or a ValidationError naming it."""
        current = self.store.size() if size is None else size
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(field, f"must be a whole number, not {value!r}"[:120])
        if not low <= value <= current:
            whole = "the ledger has" if size is None else "the tree size asked is"
            raise ValidationError(field, f"must be between {low} and {current} ({whole} {current} entries), not {value}")
        return value

    def root_at(self, size: int) -> str:
        """The RFC 9162 root (lowercase hex) of the ledger's first `size` entries."""
        size = self._tree_size("size", size, low=0)
        return tree.root_at(self.store.conn, size).hex()

    def inclusion_proof(self, seq: int, size: int | None = None) -> dict:
        """Proof that entry `seq` is leaf seq - 1 of the tree of the first `size` entries
        (default: all). Checked by ledger.chain.merkle.verify_inclusion against `root`."""
        size = self._tree_size("size", self.store.size() if size is None else size, low=1)
        seq = self._tree_size("seq", seq, low=1, size=size)
        entry = self.store.entry(seq)
        if entry is None:
            raise NotFoundError(f"no entry {seq}; the ledger has {self.store.size()} entries")
        nodes = tree.SubtreeRoots(self.store.conn, size)
        path = merkle.inclusion_proof(seq - 1, size, nodes)
        return {
            "seq": seq, "leaf_index": seq - 1, "tree_size": size,
            "leaf": base64.b64encode(entry.leaf).decode("ascii"), "leaf_hash": entry.leaf_hash.hex(),
            "audit_path": [h.hex() for h in path], "root": nodes(0, size).hex(),
            "checkpoint": self._checkpoint_note_at(size),
        }

    def _checkpoint_note_at(self, size: int) -> str | None:
        with self.store.session() as session:
            row = queries.checkpoint_at(session, size)
        return None if row is None else row.note

    def consistency_proof(self, first_size: int, second_size: int | None = None) -> dict:
        """Proof that the tree of the first `first_size` entries is a prefix of the tree of the
        first `second_size` (default: all). Checked by ledger.chain.merkle.verify_consistency."""
        second = self._tree_size("second_size", self.store.size() if second_size is None else second_size, low=1)
        first = self._tree_size("first_size", first_size, low=1, size=second)
        nodes = tree.SubtreeRoots(self.store.conn, second)
        path = merkle.consistency_proof(first, second, nodes)
        return {
            "first_size": first, "second_size": second,
            "first_root": nodes(0, first).hex(), "second_root": nodes(0, second).hex(),
            "path": [h.hex() for h in path],
        }

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Re-derive every query table and the stored Merkle tree nodes from the entries, in one transaction."""
        from .verify import rebuild_projections
        return rebuild_projections(self.store, progress=progress)


def _whole(field: str, value: object, maximum: int = MAX_WHOLE, unit: str = "") -> int:
    """An entry number, size or count from a caller: a whole number SQLite can hold (or `maximum`)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise ValidationError(field, f"must be a whole number{unit} from 0 to {maximum:,}")
    return value


def _parse_key(text: str):
    try:
        return parse_verifier_key(text)
    except NoteError as exc:
        raise ValidationError("key", str(exc)) from None


def _checkpoint_view(row) -> CheckpointView:
    root = row.root.hex() if isinstance(row.root, bytes) else None  # None: changed outside the ledger
    return CheckpointView(row.id, row.size, root, row.note, row.key_id, row.made_at, row.reason)


def _party(row) -> Party:
    return Party(row.party_id, row.name, row.kind, row.country, row.address, row.representative,
                 row.contact, row.registered_seq, row.version_seq, row.version)


def _summary(row, name: str) -> DisclosureSummary:
    return DisclosureSummary(
        seq=row.seq, recipient_id=row.recipient_id, recipient_name=name, first_day=row.first_day,
        last_day=row.last_day, bulk=bool(row.bulk), subject_count=row.subject_count,
        data_items=tuple(json.loads(row.data_items)), purpose=row.purpose,
        basis=row.basis, country=row.country, route=row.route, method=row.method,
        statutory=bool(row.statutory), statutory_ground=row.statutory_ground,
        contract_as_record=bool(row.contract_as_record),
        retention_until=row.retention_until, status=row.status, version=row.version,
        recorded_at=row.recorded_at, recorded_by=row.recorded_by,
        assessment_seq=row.assessment_seq, override=bool(row.override),
    )


def _assessment_facts(row) -> AssessmentFacts:
    return AssessmentFacts(row.seq, date.fromisoformat(row.assessed_on), row.outcome,
                           date.fromisoformat(row.valid_until),
                           date.fromisoformat(row.condition_deadline) if row.condition_deadline else None)
