"""The command line: `disclosure-ledger [--db PATH] COMMAND`. It calls the service only."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sqlite3
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Sequence

from . import __version__
from . import validate as v
from .domain import DisclosureFilter, DisclosureSummary
from .errors import LedgerError, ValidationError, ValidationErrors
from .paths import DB_ENV, default_ledger_path
from .service import ERASURE_REASONS, ImportRejected, LedgerService

EXIT_OK, EXIT_INTEGRITY, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 70


class UsageError(LedgerError):
    exit_code = EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error without exiting the interpreter from deep inside."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (see --help)")


# ---- helpers ------------------------------------------------------------------

def _out(text: str = "") -> None:
    print(text)


def _pairs(field: str, values: Sequence[str] | None) -> dict[str, str]:
    """KEY=VALUE options into a dict."""
    result: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValidationError(field, f"'{item}' is not KEY=VALUE")
        result[key.strip()] = value
    return result


def _items(values: Sequence[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.replace(";", ",").split(",") if part.strip())
    return out


def _read_json_file(path: str) -> object:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: is not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None


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
        elif key.startswith("evidence.") or key.startswith("route_evidence."):
            group, _, name = key.partition(".")
            changes.setdefault(group, {})[name] = value  # type: ignore[index]
        else:
            changes[key] = value
    if "evidence" in changes or "route_evidence" in changes:
        current = service.disclosure(args.seq)
        for group, existing in (("evidence", current.evidence), ("route_evidence", current.route_evidence)):
            if group in changes:
                changes[group] = {**existing, **changes[group]}  # type: ignore[dict-item]
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
    if args.json:
        _out(json.dumps({
            "current": _summary_dict(s), "subjects": list(d.subjects), "group_description": d.group_description,
            "evidence": dict(d.evidence), "route_evidence": dict(d.route_evidence), "notes": d.notes,
            "statutory_reason": service.statutory_reason(s), "retention_reason": service.retention_reason(s),
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
    return EXIT_OK


def _import_rows(path: str, fmt: str | None) -> list[dict]:
    from sqlite_utils.utils import Format, rows_from_file

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
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{path}: line {number} is not valid JSON ({exc.msg}); nothing was imported") from None
            if not isinstance(row, dict):
                raise UsageError(f"{path}: line {number} is not a JSON object; nothing was imported")
            rows.append(row)
        return rows
    import io
    try:
        reader, _ = rows_from_file(io.BytesIO(raw), format=Format.CSV, encoding="utf-8-sig")
        return [dict(r) for r in reader]
    except (UnicodeDecodeError, ValueError, csv.Error) as exc:
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
        print(f"error: {exc}", file=sys.stderr)
        for number, problem in exc.problems[:200]:
            print(f"  row {number}: {problem}", file=sys.stderr)
        if len(exc.problems) > 200:
            print(f"  ... and {len(exc.problems) - 200} more", file=sys.stderr)
        return EXIT_USAGE
    _out(f"Imported {len(seqs):,} disclosures as entries {seqs[0]} to {seqs[-1]}")
    return EXIT_OK


def cmd_verify(args, service: LedgerService) -> int:
    progress = None
    if not args.json and sys.stderr.isatty():
        progress = lambda done, total: print(f"\r  verified {done:,} of {total:,} entries", end="", file=sys.stderr)
    report = service.verify(progress=progress)
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        _out(json.dumps(report.as_dict(), indent=2))
    elif report.ok:
        _out(f"Intact: {report.size:,} entries, every hash, link and query table checks out.")
        _out(f"root {report.root}")
    else:
        _out(f"NOT intact: {len(report.problems)} problem(s); the first bad entry is {report.first_bad_seq}.")
        for p in report.problems:
            _out(f"  - {p.what}")
        _out(f"({report.size:,} entries read; root of what is there: {report.root})")
    return EXIT_OK if report.ok else EXIT_INTEGRITY


def cmd_rebuild(args, service: LedgerService) -> int:
    count = service.rebuild()
    _out(f"Rebuilt the query tables from {count:,} entries.")
    return EXIT_OK


def cmd_bench(args, service: LedgerService | None) -> int:
    from .bench import run_bench
    return run_bench(entries=args.entries, verify_sizes=args.verify, out=args.out)


def cmd_tui(args, service: LedgerService | None) -> int:
    if args.open_app is None:
        raise UsageError("the terminal app is not part of this installation; use the commands (see --help)")
    return args.open_app(args.db_path)


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
    p = command("verify", "Check every hash, chain link, query table and vault value; exit 1 if anything is wrong.", cmd_verify)
    p.add_argument("--json", action="store_true")
    command("rebuild", "Rebuild the query tables from the entries.", cmd_rebuild)
    p = command("bench", "Measure import, append and verify speed on a temporary ledger.", cmd_bench, opens="none")
    p.add_argument("--entries", type=int, default=100_000, help="disclosures to import (default 100000)")
    p.add_argument("--verify", type=int, action="append", metavar="N", help="also verify a ledger of N entries (repeat)")
    p.add_argument("--out", metavar="FILE.json")
    command("tui", "Open the terminal app (the default with no command).", cmd_tui, opens="none")
    return parser


def main(argv: Sequence[str] | None = None, open_app: Callable[[Path], int] | None = None) -> int:
    """Run one command. `open_app` opens the terminal app (the core does not import it)."""
    try:
        return _run(argv, open_app)
    except KeyboardInterrupt:
        print("interrupted; nothing half-written was kept", file=sys.stderr)
        return 130
    except BrokenPipeError:
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
        service = LedgerService.open(args.db_path, create=create, operator=args.operator)
        try:
            return args.func(args, service)
        finally:
            service.close()
    except ValidationErrors as exc:
        for error in exc.errors:
            print(f"error: {error}", file=sys.stderr)
        print("nothing was recorded", file=sys.stderr)
        return EXIT_USAGE
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("nothing was recorded", file=sys.stderr)
        return EXIT_USAGE
    except LedgerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except sqlite3.Error as exc:
        print(f"error: the ledger file could not be used ({exc}); nothing was recorded", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"error: {exc.filename or ''}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a defect: say so plainly; the transaction was rolled back
        print(f"error: unexpected internal error ({type(exc).__name__}: {exc}); nothing was recorded. "
              "Please report this with the command you ran.", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
