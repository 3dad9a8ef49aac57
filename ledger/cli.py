"""The command line: `disclosure-ledger [--db PATH] COMMAND`. It calls the service only."""

from __future__ import annotations

import argparse
import csv
import json
import os
import getpass
import sqlite3
import sys
import textwrap
from dataclasses import asdict
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from . import validate as v
from .domain import DisclosureFilter, DisclosureSummary
from .errors import LedgerError, ValidationError, ValidationErrors, unexpected_error_text
from .backup import backup as backup_ledger, restore as restore_ledger
from .files import durable_replace
from .keys import KEYS_ENV, PASSPHRASE_ENV, passphrase_from_environment
from .paths import DB_ENV, default_ledger_path
from .rules import assessment as assessing
from .rules.disclosure import GateRefused
from .rules.register import CERTIFICATIONS, CONTRACT_CLAUSES, CONTRACTOR_KINDS, STATUSES
from .service import ERASURE_REASONS, MAX_WHOLE, ImportRejected, LedgerService

EXIT_OK, EXIT_INTEGRITY, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70
CHECKPOINT_FILE_LIMIT = 1 << 20  # a checkpoint note is a few hundred bytes; anything this big is not one


class UsageError(LedgerError):
    exit_code = EXIT_USAGE


def _whole_number(text: str) -> int:
    """A number option: a whole number SQLite can hold, never negative."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text[:40]!r}") from None
    if not 0 <= number <= MAX_WHOLE:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_WHOLE:,}")
    return number


class _Once(argparse._StoreAction):
    """An option of a record given twice is ambiguous: refused, not silently the last one."""

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_options_given", set())
        if self.dest in given:
            raise argparse.ArgumentError(self, "is given more than once; give it once")
        given.add(self.dest)
        super().__call__(parser, namespace, values, option_string)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error without exiting the interpreter from deep inside."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")

    def add_argument(self, *names, **kwargs):
        if kwargs.get("type") is int:
            kwargs["type"] = _whole_number
        # The global --db and --operator may be overridden by a later one (as after a shell alias).
        if (kwargs.get("action") is None and names and names[0].startswith("-")
                and names[0] not in ("--db", "--operator")):
            kwargs["action"] = _Once
        return super().add_argument(*names, **kwargs)


# ---- helpers ------------------------------------------------------------------

def _out(text: str = "") -> None:
    print(text)


MAX_MESSAGE = 2000


def _shown(message: object) -> str:
    """A message for stderr: unshowable characters as escapes, and never longer than MAX_MESSAGE
    (an error may quote what was typed)."""
    text = v.UNSHOWABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(message))
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + f"... ({len(text) - MAX_MESSAGE:,} more characters)"


def _err(text: str) -> None:
    print(_shown(text), file=sys.stderr)


def _pairs(field: str, values: Sequence[str] | None) -> dict[str, str]:
    """KEY=VALUE options into a dict."""
    result: dict[str, str] = {}
    for number, item in enumerate(values or (), start=1):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            # The value may be personal data: the message names its position, not its text.
            raise ValidationError(field, f"value {number} is not KEY=VALUE")
        if key.strip() in result:
            raise ValidationError(f"{field}.{key.strip()}", "is given more than once; give it once")
        result[key.strip()] = value
    return result


def _items(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
    return out


class _DuplicateField(ValueError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _unique_fields(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose field names differ: with a name given twice, which value is meant?"""
    found: dict = {}
    for name, value in pairs:
        if name in found:
            raise _DuplicateField(name)
        found[name] = value
    return found


def _parse_json(text: str, where: str) -> object:
    """JSON with unique field names; any problem is a UsageError naming `where`."""
    try:
        return json.loads(text, object_pairs_hook=_unique_fields)
    except _DuplicateField as exc:
        raise UsageError(f"{where}: the field '{exc.name}' is given twice; give it once") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise UsageError(f"{where}: is not valid JSON here (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise UsageError(f"{where}: is not valid JSON here ({exc})") from None


def _read_json_file(path: str) -> object:
    return _parse_json(_read_text_file(path, "file"), path)


def _local(service: LedgerService, recorded_at: str) -> str:
    return service.local_time(recorded_at).strftime("%Y-%m-%d %H:%M:%S %Z")


def _summary_dict(s: DisclosureSummary) -> dict:
    data = asdict(s)
    data["data_items"] = list(s.data_items)
    return data


def _period(s: DisclosureSummary) -> str:
    return f"{s.first_day}..{s.last_day}" if s.bulk else s.first_day


def _print_table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    _out("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for row in rows:
        _out("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _print_summaries(summaries: list[DisclosureSummary]) -> None:
    if not summaries:
        _out("No disclosures match.")
        return
    rows = [[str(s.seq), _period(s), f"{s.recipient_name} ({s.recipient_id})", s.basis,
             "statutory" if s.statutory else "voluntary", str(s.subject_count), ",".join(s.data_items),
             s.status + (f" v{s.version}" if s.version > 1 else "")] for s in summaries]
    _print_table(rows, ["SEQ", "DATE", "RECIPIENT", "BASIS", "RECORD", "SUBJECTS", "ITEMS", "STATUS"])


# ---- commands -------------------------------------------------------------------

def cmd_init(args, service: LedgerService) -> int:
    _out(f"Ledger ready at {service.path}")
    _out(f"ledger id {service.ledger_id()}, {service.counts()['entries']} entries")
    return EXIT_OK


def cmd_demo(args, service: LedgerService) -> int:
    from .demo import build_demo
    summary = build_demo(service)
    _out(f"Sample ledger written to {service.path}: {summary}")
    return EXIT_OK


def cmd_party_add(args, service: LedgerService) -> int:
    party = service.register_party({
        "party_id": args.id, "name": args.name, "kind": args.kind, "country": args.country,
        "address": args.address, "representative": args.representative, "contact": args.contact,
    })
    _out(f"Registered party {party.party_id}: {party.name} ({party.kind}, {party.country}) as entry {party.registered_seq}")
    return EXIT_OK


def cmd_party_change(args, service: LedgerService) -> int:
    changes = {k: getattr(args, k) for k in ("name", "kind", "country", "address", "representative", "contact")
               if getattr(args, k) is not None}
    if not changes:
        raise ValidationError("changes", "give at least one of --name, --kind, --country, --address, --representative, --contact")
    party = service.change_party(args.party, changes, args.reason)
    _out(f"Party {party.party_id} is now at version {party.version} (entry {party.version_seq})")
    return EXIT_OK


def cmd_party_list(args, service: LedgerService) -> int:
    parties = service.parties()
    if args.json:
        _out(json.dumps([asdict(p) for p in parties], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not parties:
        _out("No parties yet: add one with `disclosure-ledger party add --help`.")
        return EXIT_OK
    _print_table([[p.party_id, p.name, p.kind, p.country, str(p.version)] for p in parties],
                 ["ID", "NAME", "KIND", "COUNTRY", "VERSION"])
    return EXIT_OK


def cmd_party_show(args, service: LedgerService) -> int:
    party = service.resolve_party(args.party)
    history = service.party_history(party.party_id)
    if args.json:
        _out(json.dumps({"party": asdict(party), "history": [asdict(h) for h in history]},
                        ensure_ascii=False, indent=2))
        return EXIT_OK
    for label, value in (("id", party.party_id), ("name", party.name), ("kind", party.kind),
                         ("country", party.country), ("address", party.address),
                         ("representative", party.representative or "-"), ("contact", party.contact or "-"),
                         ("version", party.version)):
        _out(f"{label:15} {value}")
    _out("")
    _out("History:")
    for h in history:
        _out(f"  v{h.version} entry {h.seq}: {h.name}, {h.kind}, {h.country}, {h.address}"
             + (f" (reason: {h.reason})" if h.reason else ""))
    return EXIT_OK


def _disclosure_fields(args) -> dict:
    data = {
        "recipient": args.recipient, "date": args.date, "last_day": args.last_day,
        "subjects": list(args.subject or ()), "group_description": args.group_description,
        "group_count": args.group_count, "data_items": _items(args.item), "purpose": args.purpose,
        "basis": args.basis, "evidence": _pairs("evidence", args.evidence), "route": args.route,
        "route_evidence": _pairs("route_evidence", args.route_evidence), "method": args.method,
        "notes": args.notes, "contract_as_record": args.contract_as_record,
        "override_reason": args.override_reason,
    }
    return data


def _describe_recorded(service: LedgerService, seq: int) -> None:
    detail = service.disclosure(seq)
    s = detail.summary
    _out(f"Recorded entry {seq}: {_period(s)} to {s.recipient_name} ({s.recipient_id}), basis {s.basis}")
    _out(f"  {'statutory' if s.statutory else 'voluntary'} record: {service.statutory_reason(s)}")
    _out(f"  kept until {s.retention_until}: {service.retention_reason(s)}")


def cmd_disclose(args, service: LedgerService) -> int:
    if args.from_json:
        data = _read_json_file(args.from_json)
        if not isinstance(data, dict):
            raise UsageError(f"{args.from_json}: must hold one JSON object (use `import` for many)")
        if args.override_reason is not None:
            if data.get("override_reason") not in (None, "", args.override_reason):
                raise UsageError(f"{args.from_json} gives an override_reason already; leave out --override-reason")
            data["override_reason"] = args.override_reason
    else:
        data = _disclosure_fields(args)
    seq = service.record_disclosure(data)
    _describe_recorded(service, seq)
    return EXIT_OK


def cmd_correct(args, service: LedgerService) -> int:
    changes: dict[str, object] = {}
    for key, value in _pairs("set", args.set).items():
        if key in ("subjects", "data_items"):
            changes[key] = _items([value]) if key == "data_items" else [s.strip() for s in value.split(";") if s.strip()]
        else:  # `evidence.X` keys go as they are: the service keeps the other evidence fields
            changes[key] = value
    seq = service.correct_disclosure(args.seq, changes, args.reason)
    _out(f"Recorded correction entry {seq} of disclosure {args.seq} ({', '.join(sorted(changes))})")
    return EXIT_OK


def cmd_void(args, service: LedgerService) -> int:
    seq = service.void_disclosure(args.seq, args.reason)
    _out(f"Recorded void entry {seq}: disclosure {args.seq} is void (it stays in the ledger and its history)")
    return EXIT_OK


def _filters(args) -> DisclosureFilter:
    return DisclosureFilter(
        since=v.iso_date("since", args.since, required=False),
        until=v.iso_date("until", args.until, required=False),
        recipient=args.recipient, basis=args.basis, statutory_only=args.statutory,
        subject=args.subject,
    )


def _emit_summaries(args, summaries: list[DisclosureSummary]) -> None:
    if args.json:
        _out(json.dumps([_summary_dict(s) for s in summaries], ensure_ascii=False, indent=2))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        fields = list(_summary_dict(summaries[0]).keys()) if summaries else list(DisclosureSummary.__dataclass_fields__)
        writer.writerow(fields)
        for s in summaries:
            row = _summary_dict(s)
            row["data_items"] = ";".join(row["data_items"])
            writer.writerow([row[f] for f in fields])
    else:
        _print_summaries(summaries)


def cmd_list(args, service: LedgerService) -> int:
    summaries = service.disclosures(_filters(args), limit=args.limit, before_seq=args.before)
    _emit_summaries(args, summaries)
    return EXIT_OK


def cmd_show(args, service: LedgerService) -> int:
    entry = service.entry(args.seq)
    if entry.kind != "disclosure.recorded":
        if args.json:
            _out(json.dumps({"seq": entry.seq, "kind": entry.kind, "leaf": entry.leaf.decode("utf-8"),
                             "leaf_hash": entry.leaf_hash.hex(), "prev": entry.prev}, ensure_ascii=False, indent=2))
        else:
            _out(f"entry {entry.seq}: {entry.kind}, recorded {_local(service, entry.recorded_at)} by {entry.recorded_by}")
            _out(f"leaf hash  {entry.leaf_hash.hex()}")
            _out(f"prev       {entry.prev}")
            _out(f"leaf       {entry.leaf.decode('utf-8')}")
        return EXIT_OK
    d = service.disclosure(args.seq)
    s = d.summary
    gating = _current_gating(service, d)
    if args.json:
        _out(json.dumps({
            "current": _summary_dict(s), "subjects": list(d.subjects), "group_description": d.group_description,
            "evidence": dict(d.evidence), "route_evidence": dict(d.route_evidence), "notes": d.notes,
            "statutory_reason": service.statutory_reason(s), "retention_reason": service.retention_reason(s),
            "gating": gating,
            "history": [asdict(h) for h in d.history], "leaf": entry.leaf.decode("utf-8"),
            "leaf_hash": entry.leaf_hash.hex(), "prev": entry.prev,
        }, ensure_ascii=False, indent=2))
        return EXIT_OK
    _out(f"Disclosure {s.seq} ({s.status}, version {s.version})")
    rows = [
        ("when", _period(s) + (" (bulk record)" if s.bulk else "")),
        ("recipient", f"{s.recipient_name} ({s.recipient_id}, {s.country})"),
        ("subjects", ", ".join(d.subjects) if d.subjects else f"group of {s.subject_count}: {d.group_description}"),
        ("data items", ", ".join(s.data_items)),
        ("purpose", s.purpose),
        ("basis", s.basis),
        ("evidence", ", ".join(f"{k}={x}" for k, x in d.evidence.items()) or "-"),
        ("cross-border", f"{s.route} " + ", ".join(f"{k}={x}" for k, x in d.route_evidence.items()) if s.route else "-"),
        ("method", s.method or "-"),
        ("notes", d.notes or "-"),
        ("record", ("statutory: " if s.statutory else "voluntary: ") + service.statutory_reason(s)),
        ("retention", f"until {s.retention_until}: {service.retention_reason(s)}"),
        *((("register", _gating_text(gating)),) if gating else ()),
        ("recorded", f"{_local(service, s.recorded_at)} by {s.recorded_by}"),
    ]
    for label, value in rows:
        _out(f"  {label:13} {value}")
    _out("")
    _out("History:")
    _out(f"  entry {s.seq}: recorded {_local(service, s.recorded_at)} by {s.recorded_by}")
    for h in d.history:
        what = "voided" if h.action == "voided" else f"corrected {', '.join(h.fields)}"
        _out(f"  entry {h.seq}: {what} {_local(service, h.recorded_at)} by {h.recorded_by}: {h.reason or '(reason erased)'}")
    _out("")
    _out(f"leaf hash  {entry.leaf_hash.hex()}")
    _out(f"prev       {entry.prev}")
    _out(f"leaf       {entry.leaf.decode('utf-8')}")
    return EXIT_OK


def _current_gating(service: LedgerService, detail) -> dict | None:
    """How the contractor register let the release through: the justifying assessment, or the override."""
    gating = detail.entry.body.get("gating")
    for change in detail.history:
        if change.action != "voided" and "gating" in change.fields:
            gating = service.entry(change.seq).body.get("changes", {}).get("gating", gating)
    return gating


def _gating_text(gating: dict) -> str:
    if "override" in gating:
        o = gating["override"]
        return f"OVERRIDE: forced past the register ({o.get('failed')}: {o.get('message')}); reason: {o.get('reason')}"
    return f"justified by assessment entry {gating.get('assessment')}"


def cmd_subject(args, service: LedgerService) -> int:
    summaries = service.subject_disclosures(args.identifier)
    if not summaries and not (args.json or args.csv):
        _out(f"No disclosure in the ledger names '{args.identifier}'.")
        return EXIT_OK
    _emit_summaries(args, summaries)
    return EXIT_OK


def cmd_erase_subject(args, service: LedgerService) -> int:
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("erase-subject removes personal data for good: confirm with --yes")
        count = len(service.subject_disclosures(args.identifier))
        answer = input(f"Erase '{args.identifier}' from {count} disclosure(s)? The entries stay and still verify; "
                       "the identifier and free text about only this person are deleted. Type 'erase' to confirm: ")
        if answer.strip() != "erase":
            _out("Nothing erased.")
            return EXIT_OK
    result = service.erase_subject(args.identifier, args.reason)
    _out(f"Recorded erasure entry {result.seq}: removed {result.subject_values_removed} identifier value(s) and "
         f"{result.free_text_values_removed} free-text value(s) from {len(result.disclosures)} disclosure(s)")
    if result.recipients:
        _out("Recipients to tell of the erasure (GDPR Art. 19; APPI Art. 35):")
        for recipient in result.recipients:
            seqs = ", ".join(str(seq) for seq in recipient.disclosures)
            _out(f"  {recipient.party.name} ({recipient.party.party_id}): disclosures {seqs}")
    return EXIT_OK


def _import_rows(path: str, fmt: str | None) -> list[dict]:
    file_path = Path(path)
    if fmt is None:
        fmt = "csv" if file_path.suffix.lower() == ".csv" else "jsonl"
    try:
        raw = file_path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    if fmt == "jsonl":
        rows = []
        for number, line in enumerate(raw.decode("utf-8", errors="strict").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = _parse_json(line, f"{path}: line {number}")
            except UsageError as exc:
                raise UsageError(f"{exc}; nothing was imported") from None
            if not isinstance(row, dict):
                raise UsageError(f"{path}: line {number} is not a JSON object; nothing was imported")
            rows.append(row)
        return rows
    import io
    try:
        records = csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""))
        header = next(records, None) or []
        if len(set(header)) < len(header):
            twice = next(name for name in header if header.count(name) > 1)
            raise UsageError(f"{path}: the column '{twice}' is given twice; give it once; nothing was imported")
        rows = []
        for values in records:
            if not values:
                continue  # a blank line
            if len(values) > len(header):
                # The values may be personal data: the message counts them, it does not show them.
                raise UsageError(f"{path}: row {len(rows) + 1} has {len(values)} values but the header names "
                                 f"{len(header)} columns; nothing was imported")
            rows.append(dict(zip(header, values)))
        return rows
    except (ValueError, csv.Error) as exc:
        raise UsageError(f"{path}: is not a readable CSV file ({exc}); nothing was imported") from None


def cmd_import(args, service: LedgerService) -> int:
    try:
        rows = _import_rows(args.file, args.format)
    except UnicodeDecodeError:
        raise UsageError(f"{args.file}: is not UTF-8 text; nothing was imported") from None
    if not rows:
        raise UsageError(f"{args.file}: holds no rows; nothing was imported")
    try:
        seqs = service.import_disclosures(
            rows, source=args.file,
            progress=lambda n: print(f"  checked and written {n:,} of {len(rows):,}", file=sys.stderr))
    except ImportRejected as exc:
        _err(f"error: {exc}")
        for number, problem in exc.problems[:200]:
            _err(f"  row {number}: {problem}")
        if len(exc.problems) > 200:
            print(f"  ... and {len(exc.problems) - 200} more", file=sys.stderr)
        return EXIT_USAGE
    _out(f"Imported {len(seqs):,} disclosures as entries {seqs[0]} to {seqs[-1]}")
    return EXIT_OK


def cmd_verify(args, service: LedgerService) -> int:
    against = None
    if args.against is not None:
        against = _read_text_file(args.against, "checkpoint file", limit=CHECKPOINT_FILE_LIMIT)
    progress = None
    if not args.json and sys.stderr.isatty():
        progress = lambda done, total: print(f"\r  verified {done:,} of {total:,} entries", end="", file=sys.stderr)
    report = service.verify(progress=progress, against=against, against_source=args.against or "",
                            trusted_keys=args.key or ())
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        _out(json.dumps(report.as_dict(), indent=2))
        return EXIT_OK if report.ok else EXIT_INTEGRITY
    checked = f"; {report.checkpoints_checked} stored checkpoint(s) check out" if report.checkpoints_checked else ""
    if report.ok:
        _out(f"Intact: {report.size:,} entries, every hash, link and query table checks out{checked}.")
        if report.against is not None:
            _out(f"It still holds the {report.against['size']:,} entries signed in {args.against}, unchanged.")
        _out(f"root {report.root}")
    else:
        first = f"the first bad entry is {report.first_bad_seq}" if report.first_bad_seq else "see below"
        _out(f"NOT intact: {len(report.problems)} problem(s); {first}.")
        for p in report.problems:
            _out(f"  - {p.what}")
            for note in p.evidence:
                _out(textwrap.indent(note.rstrip("\n"), "      | "))
        _out(f"({report.size:,} entries read; root of what is there: {report.root})")
    return EXIT_OK if report.ok else EXIT_INTEGRITY


def _read_text_file(path: str, what: str, limit: int | None = None) -> str:
    """A UTF-8 text file given on the command line (at most `limit` bytes), or a UsageError saying why not."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read() if limit is None else handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{path}: the {what} cannot be read ({exc.strerror})") from None
    if limit is not None and len(raw) > limit:
        raise UsageError(f"{path}: the {what} is larger than {limit:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: the {what} is not UTF-8 text") from None


# ---- key and checkpoint: signed C2SP checkpoints ------------------------------------------------

def _ask_passphrase() -> bytes | None:
    """The signing key's passphrase: from the environment, else typed at a terminal."""
    from_env = passphrase_from_environment()
    if from_env is not None or not _stdin_is_terminal():
        return from_env
    return getpass.getpass("Passphrase of the signing key: ").encode("utf-8") or None


def _new_passphrase(args) -> bytes | None:
    if not args.passphrase:
        return None
    from_env = passphrase_from_environment()
    if from_env is not None:
        return from_env
    if not _stdin_is_terminal():
        raise UsageError(f"--passphrase: type it at a terminal, or set {PASSPHRASE_ENV}")
    first = getpass.getpass("New passphrase for the signing key: ")
    if getpass.getpass("The same passphrase again: ") != first:
        raise UsageError("passphrase: the two passphrases differ; no key was made")
    return first.encode("utf-8")


def _print_key(service: LedgerService, key) -> None:
    _out(key.verifier_key)
    print(f"  key id {key.key_id}, made {key.created_at} by {key.created_by}; private key in "
          f"{service.keys.path_for(service.ledger_id(), key.key_id)} (keep it and back it up; never share it)",
          file=sys.stderr)


def cmd_key_init(args, service: LedgerService) -> int:
    key = service.create_signing_key(_new_passphrase(args))
    print("Made the ledger's signing key. Give this verifier key to your auditor:", file=sys.stderr)
    _print_key(service, key)
    return EXIT_OK


def cmd_key_rotate(args, service: LedgerService) -> int:
    key = service.create_signing_key(_new_passphrase(args), rotate=True)
    print("Made a new signing key; checkpoints signed before still verify with the old verifier key. "
          "Give this new verifier key to your auditor:", file=sys.stderr)
    _print_key(service, key)
    return EXIT_OK


def cmd_key_show(args, service: LedgerService) -> int:
    keys = service.signing_keys()
    if not keys:
        raise UsageError("this ledger has no signing key yet; make one with `disclosure-ledger key init`")
    if args.all:
        for key in keys:
            _out(f"{key.verifier_key}  {'current' if key.current else 'retired'}  made {key.created_at}")
        return EXIT_OK
    _print_key(service, keys[-1])
    return EXIT_OK


def cmd_checkpoint(args, service: LedgerService) -> int:
    checkpoint = service.make_checkpoint("manual")
    print(f"checkpoint #{checkpoint.id}: {checkpoint.size:,} entries, made {checkpoint.made_at}", file=sys.stderr)
    _out(checkpoint.note.rstrip("\n"))
    return EXIT_OK


def cmd_checkpoint_export(args, service: LedgerService) -> int:
    checkpoint = service.make_checkpoint("export") if service.can_sign() else service.latest_checkpoint()
    if checkpoint is None:
        raise UsageError("there is no checkpoint to export; make a signing key with `key init`, then `checkpoint`")
    if checkpoint.size < service.store.size():
        print(f"note: the signing key is locked, so the latest checkpoint ({checkpoint.size:,} of "
              f"{service.store.size():,} entries) was exported", file=sys.stderr)
    _write_atomically(Path(args.out), checkpoint.note.encode("utf-8"))
    service.record_checkpoint_export(checkpoint, str(Path(args.out).resolve()))
    _out(f"Wrote checkpoint #{checkpoint.id} ({checkpoint.size:,} entries) to {args.out}. Hand it to your auditor "
         "with the verifier key (`key show`); `verify --against` checks the ledger against it.")
    return EXIT_OK


def cmd_checkpoint_list(args, service: LedgerService) -> int:
    checkpoints = service.checkpoints()
    rows = [[str(c.id), f"{c.size:,}", c.made_at, c.reason, c.key_id, c.root[:16]] for c in checkpoints]
    if args.json:
        _out(json.dumps([asdict(c) for c in checkpoints], indent=2))
    elif rows:
        _print_table(rows, ["#", "entries", "made at", "reason", "key", "root"])
    else:
        _out("No checkpoints yet.")
    return EXIT_OK


def cmd_backup(args, service: LedgerService) -> int:
    print("copying and verifying the copy…", file=sys.stderr)
    result = backup_ledger(service, args.out)
    _out(f"Backed up {result.size:,} entries to {result.path}; the copy verifies (root {result.root}).")
    return EXIT_OK


def cmd_restore(args, service: None) -> int:
    result = restore_ledger(args.db_path, Path(args.backup), operator=args.operator, force=args.force,
                            reason=args.reason)
    if result.replaced_kept_at is not None:
        _out(f"The ledger it replaced is kept as {result.replaced_kept_at}.")
    if result.forced_past:
        _out(f"Forced past: {result.forced_past} (logged with your reason).")
    _out(f"Restored {result.size:,} entries from {args.backup} into {result.path}; they verify (root {result.root}).")
    return EXIT_OK


def _check_out(path: Path) -> None:
    """--out names a file that can be written: said before any work is done."""
    if path.is_dir():
        raise UsageError(f"--out {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise UsageError(f"--out {path}: the folder {path.parent} does not exist")
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"--out {path}: the folder {path.parent} cannot be written to")


def _write_atomically(path: Path, data: bytes) -> None:
    """Write a new file whole or not at all: a temporary file beside it, then a rename."""
    _check_out(path)
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_bytes(data)
        durable_replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise UsageError(f"--out {path}: cannot be written ({exc.strerror})") from None


def cmd_rebuild(args, service: LedgerService) -> int:
    count = service.rebuild()
    _out(f"Rebuilt the query tables from {count:,} entries.")
    return EXIT_OK


def cmd_bench(args, service: LedgerService | None) -> int:
    from .bench import run_bench
    out = Path(args.out).expanduser() if args.out else None
    if out is not None:
        _check_out(out)  # before minutes of work, not after
    figures = run_bench(entries=args.entries)
    if out is not None:
        _write_atomically(out, (json.dumps(figures, indent=2) + "\n").encode("utf-8"))
    return EXIT_OK


BENCH_MAX_ENTRIES = 10_000_000


def _bench_entries(text: str) -> int:
    number = _whole_number(text)
    if not 1 <= number <= BENCH_MAX_ENTRIES:
        raise argparse.ArgumentTypeError(f"must be from 1 to {BENCH_MAX_ENTRIES:,} (each entry takes about "
                                         "1.5 KB of disk in the temporary folder)")
    return number


def cmd_tui(args, service: LedgerService | None) -> int:
    if args.open_app is None:
        raise UsageError("the terminal app is not part of this installation; use the commands (see --help)")
    return args.open_app(args.db_path)


# ---- proof: RFC 9162 inclusion and consistency proofs --------------------------------------------

def cmd_proof_inclusion(args, service: LedgerService) -> int:
    proof = service.inclusion_proof(args.seq, args.size)
    if proof["checkpoint"] is None and proof["tree_size"] == service.store.size() and service.can_sign():
        service.make_checkpoint("proof")
        proof = service.inclusion_proof(args.seq, args.size)
    if proof["checkpoint"] is None:
        print(f"note: no signed checkpoint at size {proof['tree_size']:,}; ask for --size of a checkpoint "
              "(`checkpoint list`) or make one with `checkpoint`", file=sys.stderr)
    _out(json.dumps(proof, indent=2))
    return EXIT_OK


def cmd_proof_consistency(args, service: LedgerService) -> int:
    _out(json.dumps(service.consistency_proof(args.from_size, args.to_size), indent=2))
    return EXIT_OK


# ---- vendor: the contractor register and its assessments (APPI Art. 25) --------------------------

ANSWER_WORDS = {
    "m": "met", "met": "met", "y": "met", "yes": "met",
    "p": "partly_met", "partly": "partly_met", "partly_met": "partly_met", "partly met": "partly_met",
    "n": "not_met", "no": "not_met", "not_met": "not_met", "not met": "not_met",
    "na": "not_applicable", "n/a": "not_applicable", "not_applicable": "not_applicable",
    "not applicable": "not_applicable",
}
SHOWN_DISCLOSURES = 5


class AssessmentAborted(Exception):
    """The assessor stopped the interactive assessment: nothing is recorded."""


def _stdin_is_terminal() -> bool:
    """Whether a person can answer prompts (tests replace this)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _wrap(text: str, indent: str = "  ", width: int = 100) -> str:
    hanging = indent + "  " if text.startswith("- ") else indent
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=hanging)


def _contractor_party(service: LedgerService, ref: str):
    party = service.resolve_party(ref)
    if party.kind not in CONTRACTOR_KINDS:
        raise ValidationError("party", f"{party.party_id} ({party.name}) is a {party.kind}; the register holds "
                                       f"only contractors and subcontractors (change its kind with `party change`)")
    return party


def _party_label(service: LedgerService, party_id: str | None) -> str:
    if not party_id:
        return "-"
    try:
        return f"{party_id} ({service.party(party_id).name})"
    except LedgerError:
        return party_id


def _certificate(text: str) -> dict:
    """SCHEME:EXPIRES_ON[:NUMBER] into a register certification."""
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0].strip() or not parts[1].strip():
        raise ValidationError("certifications", f"'{text}' is not SCHEME:EXPIRES_ON[:NUMBER] "
                                                f"(schemes: {', '.join(CERTIFICATIONS)})")
    cert = {"scheme": parts[0].strip().lower(), "expires_on": parts[1].strip()}
    if len(parts) == 3 and parts[2].strip():
        cert["number"] = parts[2].strip()
    return cert


_REGISTER_OPTIONS = ("service", "item", "contract_ref", "signed_on", "ends_on", "clause", "cert", "works_for",
                     "engagement_approved", "equivalent_measures", "measures_checked_on")


def _register_fields(args, service: LedgerService) -> dict:
    data: dict[str, object] = {"service": args.service, "data_items": _items(args.item)}
    if args.contract_ref or args.signed_on or args.ends_on or args.clause:
        data["contract"] = {"reference": args.contract_ref, "signed_on": args.signed_on,
                            "ends_on": args.ends_on, "clauses": _items(args.clause)}
    if args.cert:
        data["certifications"] = [_certificate(c) for c in args.cert]
    if args.works_for:
        try:  # by id or exact name; an unknown one is left for the register to refuse by name
            data["works_for"] = service.resolve_party(args.works_for).party_id
        except LedgerError:
            data["works_for"] = args.works_for
    data["engagement_approved"] = args.engagement_approved
    data["equivalent_measures"] = args.equivalent_measures
    if args.measures_checked_on:
        data["measures_checked_on"] = args.measures_checked_on
    return data


def cmd_vendor_register(args, service: LedgerService) -> int:
    party = _contractor_party(service, args.party)
    if args.from_json:
        given = [f"--{o.replace('_', '-')}" for o in _REGISTER_OPTIONS if getattr(args, o)]
        if given:
            raise UsageError(f"give the record either with --from-json or with options, not both ({', '.join(given)})")
        data = _read_json_file(args.from_json)
        if not isinstance(data, dict):
            raise UsageError(f"{args.from_json}: must hold one JSON object (the register record)")
        if args.reason is not None:
            if data.get("reason") not in (None, "", args.reason):
                raise UsageError(f"{args.from_json} gives a reason already; leave out --reason")
            data["reason"] = args.reason
    else:
        data = _register_fields(args, service)
        if args.reason is not None:
            data["reason"] = args.reason
    record = service.record_contractor(party.party_id, data)
    _out(f"Recorded register version {record.version} of {party.party_id} ({party.name}) as entry {record.version_seq}")
    _print_register(service, record)
    return EXIT_OK


def _print_register(service: LedgerService, record) -> None:
    today = service.today()
    horizon = today + timedelta(days=service.ref.assessment.expiring_within_days)
    _out(f"  {'service':15} {record.service}")
    _out(f"  {'data items':15} {', '.join(record.data_items) or '-'}")
    contract = record.contract
    if contract is None:
        _out(f"  {'contract':15} none recorded")
    else:
        ends = contract.get("ends_on")
        if ends is None:
            ending = "no end date"
        else:
            ending = f"ends {ends}" + (" (ENDED)" if date.fromisoformat(ends) < today else "")
        _out(f"  {'contract':15} {contract.get('reference')}, signed {contract.get('signed_on')}, {ending}")
        for clause, description in CONTRACT_CLAUSES.items():
            mark = "x" if (contract.get("clauses") or {}).get(clause) else " "
            _out(f"  {'':15} [{mark}] {clause}: {description}")
    if not record.certifications:
        _out(f"  {'certifications':15} none")
    for number, cert in enumerate(record.certifications):
        expires = date.fromisoformat(str(cert["expires_on"]))
        note = " (EXPIRED)" if expires < today else " (expiring soon)" if expires <= horizon else ""
        label = "certifications" if number == 0 else ""
        scheme = CERTIFICATIONS.get(str(cert["scheme"]), str(cert["scheme"]))
        numbered = f" no. {cert['number']}" if cert.get("number") else ""
        _out(f"  {label:15} {scheme}{numbered}, expires {cert['expires_on']}{note}")
    if record.works_for:
        approved = "engagement approved" if record.engagement_approved else "engagement NOT approved"
        _out(f"  {'subcontracting':15} works for {_party_label(service, record.works_for)}; {approved}")
    if record.equivalent_measures:
        checked = date.fromisoformat(record.measures_checked_on)
        due = checked + timedelta(days=service.ref.settings.equivalent_measures_check_days)
        _out(f"  {'equivalent':15} relies on equivalent measures (PPC Rule 18); last checked "
             f"{record.measures_checked_on}, next check due {due.isoformat()}" + (" (OVERDUE)" if due < today else ""))
    else:
        _out(f"  {'equivalent':15} does not rely on equivalent measures")


def _vendor_status(service: LedgerService, party_id: str):
    for vendor in service.vendors():
        if vendor.party.party_id == party_id:
            return vendor
    raise ValidationError("party", f"{party_id} is not a contractor or subcontractor")


def _assessment_brief(a) -> dict:
    return {"seq": a.seq, "assessed_on": a.assessed_on, "assessor": a.assessor, "score": a.score,
            "derived_outcome": a.derived_outcome, "outcome": a.outcome, "override_reason": a.override_reason,
            "conditions": list(a.conditions), "condition_deadline": a.condition_deadline,
            "valid_until": a.valid_until, "next_review": a.next_review}


def cmd_vendor_list(args, service: LedgerService) -> int:
    vendors = service.vendors()
    if args.json:
        _out(json.dumps([{
            "party_id": x.party.party_id, "name": x.party.name, "kind": x.party.kind, "country": x.party.country,
            "status": x.status,
            "latest_assessment": _assessment_brief(x.latest_assessment) if x.latest_assessment else None,
            "registered": x.register is not None,
            "contract_ends_on": (x.register.contract or {}).get("ends_on") if x.register else None,
            "works_for": x.register.works_for if x.register else None,
        } for x in vendors], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not vendors:
        _out("No contractors or subcontractors yet: register one with "
             "`disclosure-ledger party add --kind contractor ...`, then `vendor register` and `vendor assess`.")
        return EXIT_OK
    rows = []
    for x in vendors:
        a, reg = x.latest_assessment, x.register
        if reg is None:
            contract = "not registered"
        elif reg.contract is None:
            contract = "no contract"
        else:
            contract = reg.contract.get("ends_on") or "open-ended"
        rows.append([x.party.party_id, x.party.name, x.party.kind, x.party.country, x.status,
                     a.assessed_on if a else "-", a.outcome if a else "-", a.valid_until if a else "-", contract])
    _print_table(rows, ["ID", "NAME", "KIND", "COUNTRY", "STATUS", "ASSESSED", "OUTCOME", "VALID UNTIL", "CONTRACT ENDS"])
    return EXIT_OK


def cmd_vendor_show(args, service: LedgerService) -> int:
    party = _contractor_party(service, args.party)
    vendor = _vendor_status(service, party.party_id)
    record = vendor.register
    assessments = service.assessments(party.party_id)
    received = service.disclosures(DisclosureFilter(recipient=party.party_id), limit=None)
    voided = sum(1 for s in received if s.status == "voided")
    due = [d for d in service.vendor_due() if d.party_id == party.party_id]
    subcontractors = [x.party for x in service.vendors()
                      if x.register is not None and x.register.works_for == party.party_id]
    if args.json:
        _out(json.dumps({
            "party": asdict(party), "status": vendor.status,
            "register": asdict(record) if record else None,
            "assessments": [asdict(a) for a in assessments],
            "disclosures": {"count": len(received), "voided": voided,
                            "latest": [_summary_dict(s) for s in received[:SHOWN_DISCLOSURES]]},
            "subcontractors": [p.party_id for p in subcontractors],
            "due": [asdict(d) for d in due],
        }, ensure_ascii=False, indent=2))
        return EXIT_OK
    _out(f"{party.name} ({party.party_id}): {party.kind}, {party.country}; status {vendor.status.upper()}")
    _out(f"  {'address':15} {party.address}")
    _out(f"  {'representative':15} {party.representative or '-'}")
    _out(f"  {'contact':15} {party.contact or '-'}")
    if subcontractors:
        _out(f"  {'subcontractors':15} " + ", ".join(f"{p.party_id} ({p.name})" for p in subcontractors))
    _out("")
    if record is None:
        _out(f"Register: nothing recorded yet (disclosure-ledger vendor register {party.party_id} --help)")
    else:
        _out(f"Register (version {record.version}, entry {record.version_seq}):")
        _print_register(service, record)
    _out("")
    if not assessments:
        _out(f"Assessments: none yet (disclosure-ledger vendor assess {party.party_id})")
    else:
        _out(f"Assessments ({len(assessments)}, oldest first):")
        for a in assessments:
            _out(f"  entry {a.seq}: assessed {a.assessed_on} by {a.assessor}: {a.outcome.upper()} (score {a.score}%)")
            if a.override_reason:
                _out(f"    {'derived':13} {a.derived_outcome}; OVERRIDDEN to {a.outcome}: {a.override_reason}")
            else:
                _out(f"    {'derived':13} {a.derived_outcome}")
            if a.conditions:
                _out(f"    {'conditions':13} to be met by {a.condition_deadline}:")
                for condition in a.conditions:
                    _out(_wrap(f"- {condition}", indent="      "))
            elif a.reasons and a.outcome != a.derived_outcome:
                _out(f"    {'why derived':13} " + "; ".join(a.reasons))
            _out(f"    {'valid until':13} {a.valid_until} (next review {a.next_review})")
            _out(f"    {'recorded':13} {_local(service, a.recorded_at)} by {a.recorded_by}")
    _out("")
    if not received:
        _out("Received: no disclosures yet.")
    else:
        _out(f"Received: {len(received)} disclosure(s)" + (f", {voided} voided" if voided else "")
             + (f"; the latest {SHOWN_DISCLOSURES}:" if len(received) > SHOWN_DISCLOSURES else ":"))
        _print_summaries(received[:SHOWN_DISCLOSURES])
    if due:
        _out("")
        _out("Needs attention:")
        for d in due:
            _out(f"  {d.due_on or 'now':10}  {d.kind}: {d.detail}")
    return EXIT_OK


def cmd_vendor_due(args, service: LedgerService) -> int:
    items = service.vendor_due(args.within)
    within = service.ref.assessment.expiring_within_days if args.within is None else args.within
    items = sorted(items, key=lambda d: (d.due_on or "", d.party_id, d.kind))
    if args.json:
        _out(json.dumps([asdict(d) for d in items], ensure_ascii=False, indent=2))
        return EXIT_OK
    today = service.today().isoformat()
    if not items:
        _out(f"Nothing needs attention within {within} days (today is {today}).")
        return EXIT_OK
    _out(f"{len(items)} item(s) need attention within {within} days (today is {today}), by due date:")
    # For these kinds the date is a deadline ahead; the others already say what is late.
    deadlines = ("assessment_expiring", "certification_expiring", "equivalent_measures_check")
    rows = [[d.due_on or "now", d.kind + (" (OVERDUE)" if d.kind in deadlines and d.due_on and d.due_on < today else ""),
             f"{d.party_name} ({d.party_id})", d.detail] for d in items]
    _print_table(rows, ["DUE", "KIND", "PARTY", "DETAIL"])
    return EXIT_OK


def _evidence_relative_to(data: dict, folder: Path) -> None:
    """Evidence paths in an assessment file are taken from the file's folder and must stay inside
    it: a file from someone else must not make the ledger copy the operator's other files."""
    answers = data.get("answers")
    if not isinstance(answers, list):
        return
    for answer in answers:
        if isinstance(answer, dict) and isinstance(answer.get("evidence_files"), list):
            field = f"answers.{answer.get('item')}.evidence_files"
            answer["evidence_files"] = [_evidence_inside(folder, p, field) if isinstance(p, str) and p.strip()
                                        else p for p in answer["evidence_files"]]


def _evidence_inside(folder: Path, text: str, field: str) -> str:
    """`text` as a path inside `folder`: no absolute path, no '..' or link leading out of it."""
    path = Path(v.text(field, text, max_len=4096))
    if path.is_absolute() or text.strip().startswith("~"):
        raise ValidationError(field, "must be a path relative to the assessment file's folder, not an absolute one")
    try:
        inside = (folder / path).resolve().is_relative_to(folder.resolve())
    except (OSError, ValueError, RuntimeError):  # RuntimeError: a loop of links (Python < 3.13)
        inside = False
    if not inside:
        raise ValidationError(field, "must stay inside the assessment file's folder (no '..' or link leading out)")
    return str(folder / path)


def cmd_vendor_assess(args, service: LedgerService) -> int:
    party = _contractor_party(service, args.party)
    if args.assessed_on is not None:  # checked before any question is asked
        day = v.iso_date("assessed_on", args.assessed_on)
        if day > service.today():
            raise ValidationError("assessed_on", f"{day} is in the future (today is {service.today()}): "
                                                 "record an assessment once it has been made")
    if args.from_json:
        data = _read_json_file(args.from_json)
        if not isinstance(data, dict):
            raise UsageError(f"{args.from_json}: must hold one JSON object (the assessment)")
        for key, value in (("assessor", args.assessor), ("assessed_on", args.assessed_on)):
            if value is None:
                continue
            if data.get(key) not in (None, "", value):
                raise UsageError(f"{args.from_json} gives {key} already ({data[key]!r}); leave out "
                                 f"--{key.replace('_', '-')} or make them agree")
            data[key] = value
        _evidence_relative_to(data, Path(args.from_json).expanduser().resolve().parent)
    else:
        if not _stdin_is_terminal():
            raise UsageError("vendor assess asks its questions on a terminal, and standard input is not one: "
                             "give the answers with --from-json FILE (see `vendor assess --help`)")
        try:
            data = AssessmentPrompter(service, party, assessor=args.assessor, assessed_on=args.assessed_on).run()
        except AssessmentAborted as stop:
            _out(f"{stop} Nothing was recorded.")
            return EXIT_OK
    view = service.record_assessment(party.party_id, data)
    _out(f"Recorded assessment entry {view.seq} of {party.party_id} ({party.name}): {view.outcome.upper()} "
         f"(score {view.score}%)")
    if view.override_reason:
        _out(f"  derived outcome {view.derived_outcome}, overridden: {view.override_reason}")
    if view.conditions:
        _out(f"  conditions to be met by {view.condition_deadline}:")
        for condition in view.conditions:
            _out(_wrap(f"- {condition}", indent="    "))
    _out(f"  valid until {view.valid_until}; next review {view.next_review}")
    _out(f"  status now: {_vendor_status(service, party.party_id).status}")
    return EXIT_OK


class AssessmentPrompter:
    """The interactive assessment: the checklist area by area, then the outcome, the override,
    the conditions, the validity and a final confirmation. Reads through `ask` (default: the
    built-in input(), looked up when called, so tests can replace it) and prints through `say`.
    `run()` returns the object for LedgerService.record_assessment; it records nothing itself."""

    def __init__(self, service: LedgerService, party, *, assessor: str | None = None,
                 assessed_on: str | None = None, ask: Callable[[str], str] | None = None,
                 say: Callable[[str], None] = _out):
        self.service = service
        self.ref = service.ref
        self.party = party
        self.assessor = assessor
        self.assessed_on = assessed_on
        self._ask = ask
        self.say = say
        self.today = service.today()

    # -- reading ----------------------------------------------------------------
    def ask(self, prompt: str) -> str:
        try:
            answer = self._ask(prompt) if self._ask is not None else input(prompt)
        except EOFError:
            raise UsageError("the input ended before the assessment was complete; nothing was recorded") from None
        return answer.strip()

    def ask_yes(self, prompt: str, default: bool = False) -> bool:
        while True:
            answer = self.ask(f"{prompt} [{'Y/n' if default else 'y/N'}]: ").lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            self.say("    please answer y or n")

    def ask_date(self, field: str, prompt: str, default: date | None, *, not_before: date | None = None,
                 not_after: date | None = None) -> date:
        while True:
            shown = f" [{default.isoformat()}]" if default else ""
            answer = self.ask(f"{prompt}{shown}: ")
            if not answer and default is not None:
                return default
            try:
                day = v.iso_date(field, answer)
            except ValidationError as exc:
                self.say(f"    {exc}")
                continue
            if not_before is not None and day < not_before:
                self.say(f"    {field}: {day} is before {not_before}")
            elif not_after is not None and day > not_after:
                self.say(f"    {field}: {day} is after {not_after} (today is {self.today})")
            else:
                return day

    def ask_text(self, field: str, prompt: str, *, required: bool = False, default: str | None = None) -> str | None:
        while True:
            shown = f" [{default}]" if default else ""
            answer = self.ask(f"{prompt}{shown}: ") or default
            try:
                cleaned = v.text(field, answer, required=required, max_len=v.MAX_TEXT)
            except ValidationError as exc:
                self.say(f"    {exc}")
                continue
            return cleaned

    # -- the steps --------------------------------------------------------------
    def run(self) -> dict:
        party, ref = self.party, self.ref
        self.say(f"Safeguard assessment of {party.name} ({party.party_id}, {party.kind}, {party.country})")
        self.say(_wrap(f"{len(ref.checklist)} checklist items from {assessing.CHECKLIST_FILE}. Answer each with "
                       "m (met), p (partly met), n (not met) or na (not applicable); q stops without recording. "
                       "A critical item answered 'na' needs a note.", indent=""))
        self.say("")
        assessor = self.ask_text("assessor", "Assessor", required=True, default=self.assessor or self.service.operator)
        if self.assessed_on:
            assessed_on = v.iso_date("assessed_on", self.assessed_on)
        else:
            assessed_on = self.ask_date("assessed_on", "Day assessed (YYYY-MM-DD)", self.today, not_after=self.today)
        answers = self.ask_answers()
        collected = [assessing.Answer(a["item"], a["answer"], a["note"]) for a in answers]
        derived = assessing.derive_outcome(collected, ref)
        self.say("")
        self.say(f"Score: {assessing.score(collected, ref)}%")
        self.say(f"Derived outcome: {derived.outcome.upper()}")
        for reason in derived.reasons:
            self.say(_wrap(f"- {reason}", indent="    "))
        self.say("The rule:")
        self.say(_wrap(assessing.OUTCOME_RULE, indent="    "))
        override_outcome = override_reason = None
        if self.ask_yes("Override the derived outcome?"):
            choices = [o for o in assessing.OUTCOMES if o != derived.outcome]
            while override_outcome is None:
                answer = self.ask(f"  Outcome instead of {derived.outcome} ({' / '.join(choices)}): ").lower()
                if answer in choices:
                    override_outcome = answer
                else:
                    self.say(f"    choose one of: {', '.join(choices)}")
            override_reason = self.ask_text("override_reason", "  Reason for the override (required; it is kept "
                                            "in the ledger)", required=True)
        outcome = override_outcome or derived.outcome
        conditions: list[str] = []
        deadline = None
        if outcome == "conditional":
            conditions, deadline = self.ask_conditions(derived, assessed_on)
        default_until, _ = assessing.validity(assessed_on, ref.settings.assessment_validity_months,
                                              ref.assessment.expiring_within_days)
        valid_until = self.ask_date("valid_until", "Valid until", default_until,
                                    not_before=max(self.today, assessed_on))
        self.say("")
        self.say("To be recorded:")
        self.say(f"  {party.party_id} assessed {assessed_on} by {assessor}: {outcome.upper()}"
                 + (f" (derived {derived.outcome}, overridden: {override_reason})" if override_outcome else ""))
        if conditions:
            self.say(f"  {len(conditions)} condition(s) to be met by {deadline}")
        self.say(f"  valid until {valid_until}")
        files = sum(len(a["evidence_files"]) for a in answers)
        if files:
            self.say(f"  {files} evidence file(s), copied into the evidence folder next to the ledger")
        if not self.ask_yes("Record this assessment? It is appended to the ledger and cannot be edited "
                            "afterwards (a later assessment can supersede it)."):
            raise AssessmentAborted("Not confirmed.")
        data: dict[str, object] = {"assessor": assessor, "assessed_on": assessed_on.isoformat(), "answers": answers}
        if override_outcome:
            data.update(override_outcome=override_outcome, override_reason=override_reason)
        if outcome == "conditional":
            data.update(conditions=conditions, condition_deadline=deadline.isoformat())
        if valid_until != default_until:
            data["valid_until"] = valid_until.isoformat()
        return data

    def ask_answers(self) -> list[dict]:
        answers: list[dict] = []
        for code, area in self.ref.checklist_areas.items():
            items = [item for item in self.ref.checklist.values() if item.area == code]
            if not items:
                continue
            self.say("")
            self.say(f"== {area.name} ({area.name_ja}) ==")
            self.say(f"   {area.guideline}")
            for item in items:
                answers.append(self.ask_item(item))
        return answers

    def ask_item(self, item) -> dict:
        self.say("")
        self.say(_wrap(f"{item.id}{' [CRITICAL]' if item.critical else ''} {item.question}", indent="  "))
        self.say(_wrap(f"refs: {item.appi}" + (f"; {item.gdpr}" if item.gdpr else ""), indent="    "))
        while True:
            raw = self.ask(f"  {item.id} answer (m/p/n/na, q to stop): ").lower()
            if raw in ("q", "quit"):
                raise AssessmentAborted("Stopped.")
            if raw in ANSWER_WORDS:
                answer = ANSWER_WORDS[raw]
                break
            self.say("    answer m (met), p (partly met), n (not met) or na (not applicable)")
        required = item.critical and answer == "not_applicable"
        note = self.ask_text(f"answers.{item.id}.note",
                             "  note, why it does not apply (required)" if required else "  note (optional)",
                             required=required)
        files: list[str] = []
        while True:
            raw = self.ask("  evidence files (optional; separate several with ';'): ")
            paths = [p.strip() for p in raw.split(";") if p.strip()]
            missing = [p for p in paths if not Path(p).expanduser().is_file()]
            if not missing:
                files = [str(Path(p).expanduser().resolve()) for p in paths]
                break
            self.say(f"    no such file: {', '.join(missing)}; give existing files, or leave it empty")
        return {"item": item.id, "answer": answer, "note": note, "evidence_files": files}

    def ask_conditions(self, derived, assessed_on: date) -> tuple[list[str], date]:
        conditions = list(derived.reasons)
        if conditions:
            self.say("Conditions the contractor must meet (by default, what the checklist found):")
            for condition in conditions:
                self.say(_wrap(f"- {condition}", indent="    "))
        if not conditions or not self.ask_yes("Keep these conditions?", default=True):
            conditions = []
            self.say("Type the conditions, one per line; an empty line ends the list.")
            while True:
                line = self.ask("  condition: ")
                if line:
                    conditions.append(line)
                elif conditions:
                    break
                else:
                    self.say("    a conditional outcome needs at least one condition")
        deadline = self.ask_date("condition_deadline", "Deadline for the conditions",
                                 assessing.condition_deadline(assessed_on, self.ref), not_before=self.today)
        return conditions, deadline


# ---- parser ---------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="disclosure-ledger",
        description="An append-only, hash-chained ledger of every release of personal data "
                    "to contractors and third parties (APPI Art. 29; GDPR Art. 30). "
                    "With no command, opens the terminal app.",
    )
    parser.add_argument("--db", metavar="PATH", help=f"the ledger file (default: ${DB_ENV}, else ledger.db in the user data folder)")
    parser.add_argument("--operator", metavar="NAME", help="who is recording (default: $DISCLOSURE_LEDGER_OPERATOR, else the login name)")
    parser.add_argument("--version", action="version", version=f"disclosure-ledger {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str, fn: Callable, parent=sub, opens: str = "existing"):
        p = parent.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn, opens=opens)
        return p

    command("init", "Create a new ledger file (or confirm an existing one).", cmd_init, opens="create")
    command("demo", "Write a realistic sample ledger into a new file (never into an existing ledger).", cmd_demo, opens="new")

    party = sub.add_parser("party", help="Register, change, list and show recipients.", description="Recipients of personal data.")
    party_sub = party.add_subparsers(dest="party_command", metavar="ACTION", parser_class=_Parser, required=True)
    p = command("add", "Register a party (a recipient).", cmd_party_add, parent=party_sub)
    p.add_argument("--name", required=True)
    p.add_argument("--kind", required=True, help="contractor, subcontractor, third_party, affiliate, joint_user, successor, government_body")
    p.add_argument("--country", required=True, help="ISO 3166-1 alpha-2 code, e.g. JP, US, DE")
    p.add_argument("--address", required=True)
    p.add_argument("--representative", help="the representative's name (required for a company)")
    p.add_argument("--contact")
    p.add_argument("--id", help="a short id (default: P001, P002, ...)")
    p = command("change", "Record a new version of a party (history is kept).", cmd_party_change, parent=party_sub)
    p.add_argument("party", help="party id or exact name")
    for name in ("name", "kind", "country", "address", "representative", "contact"):
        p.add_argument(f"--{name}")
    p.add_argument("--reason", required=True)
    p = command("list", "List the parties.", cmd_party_list, parent=party_sub)
    p.add_argument("--json", action="store_true")
    p = command("show", "Show a party and its history.", cmd_party_show, parent=party_sub)
    p.add_argument("party", help="party id or exact name")
    p.add_argument("--json", action="store_true")

    p = command("disclose", "Record a release of personal data.", cmd_disclose)
    p.add_argument("--from-json", metavar="FILE", help="read the disclosure from a JSON object instead of options")
    p.add_argument("--recipient", help="party id or exact name")
    p.add_argument("--date", help="date of provision, YYYY-MM-DD (first day of a bulk record)")
    p.add_argument("--last-day", help="last day of a bulk record of continuous provision")
    p.add_argument("--subject", action="append", help="an identifier of a person (repeat for several)")
    p.add_argument("--group-description", help="for a bulk record: the group of persons")
    p.add_argument("--group-count", help="for a bulk record: how many persons")
    p.add_argument("--item", action="append", help="data item code(s), comma-separated or repeated")
    p.add_argument("--purpose", help="purpose of use code")
    p.add_argument("--basis", help="legal basis code")
    p.add_argument("--evidence", action="append", metavar="FIELD=VALUE", help="evidence the basis requires (repeat)")
    p.add_argument("--route", help="for a recipient abroad: the APPI Art. 28 route")
    p.add_argument("--route-evidence", action="append", metavar="FIELD=VALUE", help="evidence the route requires (repeat)")
    p.add_argument("--method", help="method of transfer code")
    p.add_argument("--notes")
    p.add_argument("--contract-as-record", action="store_true", help="a contract with the person serves as the record (1-year retention)")
    p.add_argument("--override-reason", metavar="TEXT",
                   help="force a release to a contractor that the register refuses (no valid assessment, "
                        "subcontracting not approved, contract ended); the reason is kept in the entry and "
                        "the release is listed as an exception by `vendor due`")

    p = command("correct", "Record a correction of a disclosure (a new entry; the original stays).", cmd_correct)
    p.add_argument("seq", type=int)
    p.add_argument("--set", action="append", required=True, metavar="FIELD=VALUE",
                   help="a corrected field, e.g. data_items=name;email or evidence.statute=... (repeat)")
    p.add_argument("--reason", required=True)
    p = command("void", "Record that a disclosure is void (a new entry; the original stays).", cmd_void)
    p.add_argument("seq", type=int)
    p.add_argument("--reason", required=True)

    def add_output(p):
        group = p.add_mutually_exclusive_group()
        group.add_argument("--json", action="store_true", help="print JSON")
        group.add_argument("--csv", action="store_true", help="print CSV")

    p = command("list", "List disclosures, newest first.", cmd_list)
    p.add_argument("--since", help="provided on or after YYYY-MM-DD")
    p.add_argument("--until", help="provided on or before YYYY-MM-DD")
    p.add_argument("--recipient", help="party id or exact name")
    p.add_argument("--basis", help="legal basis code")
    p.add_argument("--statutory", action="store_true", help="statutory records only")
    p.add_argument("--subject", help="only disclosures naming this person")
    p.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")
    p.add_argument("--before", type=int, metavar="SEQ", help="the page before this seq")
    add_output(p)

    p = command("show", "Show an entry: current state, history, leaf bytes, hash and chain link.", cmd_show)
    p.add_argument("seq", type=int)
    p.add_argument("--json", action="store_true")
    p = command("subject", "Every disclosure about one person.", cmd_subject)
    p.add_argument("identifier")
    add_output(p)
    p = command("erase-subject", "Erase a person's identifier and free text from the vault (an erasure entry is appended).", cmd_erase_subject)
    p.add_argument("identifier")
    p.add_argument("--reason", default="data_subject_request", choices=list(ERASURE_REASONS))
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p = command("import", "Import disclosures from CSV or JSON Lines: all or nothing.", cmd_import)
    p.add_argument("file")
    p.add_argument("--format", choices=["csv", "jsonl"], help="default: by the file's extension")
    p = command("verify", "Check every hash, chain link, query table, vault value and stored checkpoint; "
                "exit 1 if anything is wrong.", cmd_verify)
    p.add_argument("--json", action="store_true")
    p.add_argument("--against", metavar="FILE", help="a checkpoint note kept outside the ledger (from "
                   "`checkpoint export`): the ledger must still hold exactly what it signed, which detects "
                   "a cut-short, rolled-back or rewritten ledger")
    p.add_argument("--key", action="append", metavar="VERIFIER_KEY", help="also trust this verifier key "
                   "(the auditor's copy from `key show`; repeat for several)")

    p = command("backup", "Copy the ledger to a new file (consistent while others record) and verify the copy.",
                cmd_backup)
    p.add_argument("--out", required=True, metavar="FILE", help="the new file (never overwritten)")
    p = command("restore", "Put a backup in place of the ledger; the replaced file is kept beside it. Refuses a "
                "backup older than the latest checkpoint that left the ledger, unless forced with a reason.",
                cmd_restore, opens="none")
    p.add_argument("backup", metavar="FILE", help="the backup file")
    p.add_argument("--force", action="store_true", help="restore even so (needs --reason)")
    p.add_argument("--reason", metavar="TEXT", help="why the restore is forced; kept in the ledger's restore log")

    key = sub.add_parser("key", help="The Ed25519 key that signs checkpoints.",
                         description="The Ed25519 key that signs checkpoints. Its private half is a file "
                         f"readable only by you, outside the ledger (folder: ${KEYS_ENV}, else your configuration "
                         "folder); only the public verifier key is kept in the ledger.")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", parser_class=_Parser, required=True)
    p = command("init", "Make the ledger's signing key and print its verifier key.", cmd_key_init, parent=key_sub)
    p.add_argument("--passphrase", action="store_true", help=f"protect the key file with a passphrase "
                   f"(typed twice, or taken from ${PASSPHRASE_ENV})")
    p = command("show", "Print the verifier key of the current signing key.", cmd_key_show, parent=key_sub)
    p.add_argument("--all", action="store_true", help="every key the ledger has had, oldest first")
    p = command("rotate", "Make a new signing key; checkpoints signed with the old one still verify.",
                cmd_key_rotate, parent=key_sub)
    p.add_argument("--passphrase", action="store_true", help="protect the new key file with a passphrase")

    p = command("checkpoint", "Sign the ledger's current size and root (a C2SP tlog-checkpoint note), keep it "
                "and print it.", cmd_checkpoint)
    checkpoint_sub = p.add_subparsers(dest="checkpoint_command", metavar="ACTION", parser_class=_Parser)
    p = command("export", "Write the latest signed checkpoint to a file to hand to an auditor.",
                cmd_checkpoint_export, parent=checkpoint_sub)
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write the note to")
    p = command("list", "List the checkpoints the ledger keeps.", cmd_checkpoint_list, parent=checkpoint_sub)
    p.add_argument("--json", action="store_true")
    command("rebuild", "Rebuild the query tables from the entries.", cmd_rebuild)
    p = command("bench", "Time every operation on a temporary ledger of N disclosures, next to raw SQLite, "
                "raw hashing and pymerkle.", cmd_bench, opens="none")
    p.add_argument("--entries", type=_bench_entries, default=100_000, metavar="N",
                   help=f"disclosures to import, 1 to {BENCH_MAX_ENTRIES:,} (default 100,000)")
    p.add_argument("--out", metavar="FILE.json", help="also write the figures as JSON")
    command("tui", "Open the terminal app (the default with no command).", cmd_tui, opens="none")

    vendor = sub.add_parser(
        "vendor", help="The contractor register and its safeguard assessments (APPI Art. 25; GDPR Art. 28).",
        description="The contractor register: contracts, certifications, subcontracting, and the safeguard "
                    "assessments that a release to a contractor needs (APPI Art. 25; PPC general guideline "
                    "3-4-4; GDPR Art. 28). Statuses: " + ", ".join(STATUSES) + ".")
    vendor_sub = vendor.add_subparsers(dest="vendor_command", metavar="ACTION", parser_class=_Parser, required=True)
    p = command("register", "Record a new version of a contractor's register record: the whole record, "
                "from options or --from-json FILE (fields not given are recorded as empty).",
                cmd_vendor_register, parent=vendor_sub)
    p.add_argument("party", metavar="PARTY", help="party id or exact name (a contractor or subcontractor)")
    p.add_argument("--from-json", metavar="FILE", help="read the record from a JSON object (fields: service, "
                   "data_items, contract {reference, signed_on, ends_on, clauses}, certifications "
                   "[{scheme, expires_on, number}], works_for, engagement_approved, equivalent_measures, "
                   "measures_checked_on, reason) instead of options")
    p.add_argument("--service", help="the service the contractor provides")
    p.add_argument("--item", action="append", help="data item code(s) it handles, comma-separated or repeated")
    p.add_argument("--contract-ref", metavar="REF", help="the contract's reference")
    p.add_argument("--signed-on", metavar="DATE", help="the day the contract was signed, YYYY-MM-DD")
    p.add_argument("--ends-on", metavar="DATE", help="the day the contract ends, YYYY-MM-DD (none: open-ended)")
    p.add_argument("--clause", action="append", metavar="NAME",
                   help="a clause the contract holds (repeat): " + ", ".join(CONTRACT_CLAUSES))
    p.add_argument("--cert", action="append", metavar="SCHEME:EXPIRES_ON[:NUMBER]",
                   help="a certification (repeat); schemes: " + ", ".join(CERTIFICATIONS))
    p.add_argument("--works-for", metavar="PARTY", help="for a subcontractor: the contractor it works for")
    p.add_argument("--engagement-approved", action="store_true", help="for a subcontractor: its engagement was approved")
    p.add_argument("--equivalent-measures", action="store_true",
                   help="a recipient abroad that relies on equivalent measures (checked about once a year, PPC Rule 18)")
    p.add_argument("--measures-checked-on", metavar="DATE", help="the day its equivalent measures were last checked")
    p.add_argument("--reason", help="why this version is recorded")
    p = command("list", "Every contractor and subcontractor with its status and latest assessment.",
                cmd_vendor_list, parent=vendor_sub)
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("show", "A contractor: contract, certifications, subcontracting, assessment history, what it received.",
                cmd_vendor_show, parent=vendor_sub)
    p.add_argument("party", metavar="PARTY", help="party id or exact name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p = command("assess", "Record a safeguard assessment: interactive prompts through the checklist, "
                "or --from-json FILE. The entry cannot be edited afterwards.", cmd_vendor_assess, parent=vendor_sub)
    p.add_argument("party", metavar="PARTY", help="party id or exact name")
    p.add_argument("--from-json", metavar="FILE", help="read the assessment from a JSON object (fields: assessor, "
                   "assessed_on, answers [{item, answer, note, evidence_files}], override_outcome, "
                   "override_reason, conditions, condition_deadline, valid_until); evidence paths are taken "
                   "from the file's folder and must stay inside it")
    p.add_argument("--assessor", metavar="NAME", help="who assessed (default: the operator)")
    p.add_argument("--assessed-on", metavar="DATE", help="the day assessed, YYYY-MM-DD (default: today)")
    p = command("due", "What needs attention: assessments expiring or overdue, conditions past their deadline, "
                "certifications expiring, yearly checks abroad, releases after a contract ended, overrides.",
                cmd_vendor_due, parent=vendor_sub)
    p.add_argument("--within", type=int, metavar="DAYS", help="horizon in days (default: expiring_within_days "
                   "in data/checklist.toml)")
    p.add_argument("--json", action="store_true", help="print JSON")

    proof = sub.add_parser(
        "proof", help="RFC 9162 Merkle proofs: that an entry is in the ledger, that an older ledger is a prefix of it.",
        description="RFC 9162 Merkle proofs over the entries, printed as JSON (hashes in lowercase hex).")
    proof_sub = proof.add_subparsers(dest="proof_command", metavar="KIND", parser_class=_Parser, required=True)
    p = command("inclusion", "Prove that entry SEQ is in the ledger (at size M, default: its current size), "
                "without revealing the other entries.", cmd_proof_inclusion, parent=proof_sub)
    p.add_argument("--seq", type=int, required=True, metavar="N", help="the entry to prove")
    p.add_argument("--size", type=int, metavar="M", help="the tree size to prove it in (default: the ledger's size)")
    p = command("consistency", "Prove that the ledger at size M is a prefix of the ledger at size N "
                "(default: its current size): nothing was rewritten or removed.", cmd_proof_consistency, parent=proof_sub)
    p.add_argument("--from", dest="from_size", type=int, required=True, metavar="M", help="the older size")
    p.add_argument("--to", dest="to_size", type=int, metavar="N", help="the newer size (default: the ledger's size)")

    from .reports.cli import add_report_commands
    add_report_commands(sub, command)
    return parser


def main(argv: Sequence[str] | None = None, open_app: Callable[[Path], int] | None = None) -> int:
    """Run one command. `open_app` opens the terminal app (the core does not import it)."""
    try:
        return _run(argv, open_app)
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `head`) went away: stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


def _run(argv: Sequence[str] | None, open_app: Callable[[Path], int] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        args.open_app = open_app
        args.db_path = Path(args.db).expanduser() if args.db else default_ledger_path()
        if args.command is None:
            args.func, args.opens = cmd_tui, "none"
        if args.opens == "none":
            return args.func(args, None)
        if args.opens == "new":
            if args.db_path.exists() and args.db_path.stat().st_size > 0:
                raise UsageError(f"{args.db_path}: already exists; `demo` writes only into a new file (choose one with --db)")
        create = args.opens in ("create", "new")
        if create and args.db is None and DB_ENV not in os.environ:
            args.db_path.parent.mkdir(parents=True, exist_ok=True)  # the default ledger's folder
        service = LedgerService.open(args.db_path, create=create, operator=args.operator,
                                     passphrase=_ask_passphrase)
        try:
            return args.func(args, service)
        finally:
            for notice in service.notices:
                _err(f"note: {notice}")
            service.close()
    except ValidationErrors as exc:
        for error in exc.errors:
            _err(f"error: {error}")
        print("nothing was recorded", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        _err(f"error: {exc}")
        if isinstance(exc, GateRefused):
            print("to force it, run the same command again with --override-reason TEXT (the release is then "
                  "listed as an exception)", file=sys.stderr)
        print("nothing was recorded", file=sys.stderr)
        return EXIT_USAGE
    except LedgerError as exc:
        _err(f"error: {exc}")
        return exc.exit_code
    except sqlite3.Error as exc:
        _err(f"error: the ledger file could not be used ({exc}); nothing was recorded")
        return EXIT_USAGE
    except BrokenPipeError:
        raise
    except OSError as exc:
        _err(f"error: {exc.filename or ''}: {exc.strerror or exc}")
        return EXIT_USAGE
    except Exception as exc:  # a defect or a tampered query table: the transaction was rolled back
        print(f"error: {unexpected_error_text(exc)}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
