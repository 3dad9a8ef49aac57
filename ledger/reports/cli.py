"""`disclosure-ledger report annual|regulator|subject`: the command line of the reports. Heavy
modules (Jinja2, WeasyPrint) load only when a report is written."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

FORMAT_HELP = "md, html, pdf, csv or json (default: md)"


def _progress(args) -> Callable[[str], None] | None:
    """Progress on stderr, for a person watching a terminal."""
    if not sys.stderr.isatty():
        return None

    def say(message: str) -> None:
        print(f"\r\033[K  {message}", end="", file=sys.stderr, flush=True)
    return say


def _done(progress, written: list[Path]) -> None:
    if progress is not None:
        print("\r\033[K", end="", file=sys.stderr)
    for path in written:
        print(f"Wrote {path}")


def _period(args, service, required: bool = True):
    from .period import choose
    return choose(year=args.year, fiscal=args.fiscal_year, since=args.since, until=args.until,
                  start_month=service.ref.settings.fiscal_year_start_month, required=required)


def cmd_report_annual(args, service) -> int:
    from .annual import write_annual

    progress = _progress(args)
    written = write_annual(service, _period(args, service), args.format, args.out, verify=not args.no_verify,
                           progress=progress)
    _done(progress, [written])
    return 0


def cmd_report_subject(args, service) -> int:
    from .subject import write_subject

    written = write_subject(service, args.identifier, args.format, args.out, lang=args.lang,
                            erasure_seq=args.erasure)
    _done(None, [written])
    return 0


def cmd_report_regulator(args, service) -> int:
    from .regulator import RegulatorQuery, write_package

    query = RegulatorQuery.from_options(
        service, period=_period(args, service, required=False), recipient=args.recipient, basis=args.basis,
        subject=args.subject, item=args.item, country=args.country, reveal=tuple(args.reveal or ()))
    progress = _progress(args)
    package = write_package(service, query, Path(args.out).expanduser() if args.out else None,
                            verify=not args.no_verify, progress=progress)
    _done(progress, [package.folder, package.zip_path])
    if package.checkpoint is None:
        print("note: no signed checkpoint: the proofs are against the current root only; make a signing key "
              "with `disclosure-ledger key init` so the recipient can check them", file=sys.stderr)
    return 0


def add_report_commands(sub, command: Callable) -> None:
    """The `report` command group, registered on the main parser's subcommands."""
    from ..cli import _Parser

    report = sub.add_parser(
        "report", help="Write the annual review, a regulator's query package or a data subject's report.",
        description="Reports for people to read, sign and send: the annual review of a period, the package "
                    "for a regulator's query (with proofs and a standalone verifier), and the answer to a "
                    "data subject's request (APPI Art. 33(5); GDPR Art. 15(1)(c), Art. 19).")
    report_sub = report.add_subparsers(dest="report_command", metavar="KIND", parser_class=_Parser, required=True)

    def period_options(p, required_text: str) -> None:
        p.add_argument("--year", metavar="YYYY", help="a calendar year")
        p.add_argument("--fiscal-year", metavar="YYYY", help="the fiscal year starting in YYYY "
                       "(fiscal_year_start_month in data/settings.toml; April by default)")
        p.add_argument("--from", dest="since", metavar="DATE", help="first day, YYYY-MM-DD (with --until)")
        p.add_argument("--until", metavar="DATE", help="last day, YYYY-MM-DD (with --from)")
        p.set_defaults(period_help=required_text)

    p = command("annual", "The annual review of a period: releases by recipient, basis, purpose and item; "
                "cross-border; government bodies; consent; contractors; exceptions; corrections, voids and "
                "erasures; retention; integrity; charts.", cmd_report_annual, parent=report_sub)
    period_options(p, "required")
    p.add_argument("--format", default="md", help=FORMAT_HELP)
    p.add_argument("--out", metavar="PATH", help="the file to write (default: annual-review-<period>.<format> "
                   "in the current folder; a folder: that name inside it)")
    p.add_argument("--no-verify", action="store_true", help="report the last logged verification instead of "
                   "verifying the ledger now")

    p = command("subject", "A data subject's report: the statutory records about the person, the voluntary "
                "ones, and the recipients to notify of a correction, erasure or stop of use.",
                cmd_report_subject, parent=report_sub)
    p.add_argument("identifier", help="the person's identifier as recorded")
    p.add_argument("--lang", default="en", help="en (default) or ja")
    p.add_argument("--erasure", type=int, metavar="SEQ", help="the subject.erased entry of a person whose "
                   "identifier was erased: the report says so and lists the records it was removed from")
    p.add_argument("--format", default="md", help=FORMAT_HELP)
    p.add_argument("--out", metavar="PATH", help="the file to write (default: subject-report-<identifier>-"
                   "<lang>.<format> in the current folder; a folder: that name inside it)")

    p = command("regulator", "A package for a regulator's query: a folder and a zip with a summary (HTML and "
                "PDF), entries.jsonl, an inclusion proof of each entry against a signed checkpoint, the "
                "checkpoint, the verifier key, the standalone verifier and a README.",
                cmd_report_regulator, parent=report_sub)
    period_options(p, "optional")
    p.add_argument("--recipient", help="party id or exact name")
    p.add_argument("--basis", help="legal basis code")
    p.add_argument("--subject", help="a person's identifier: only the disclosures naming them")
    p.add_argument("--item", help="a data item code")
    p.add_argument("--country", help="the recipient's country (ISO 3166-1 alpha-2)")
    p.add_argument("--reveal", action="append", choices=["subjects", "evidence", "notes"],
                   help="vault values to include for the matching entries (repeat); with --subject, that "
                        "person's identifier is always included, and no one else's unless asked")
    p.add_argument("--out", metavar="FOLDER", help="the package folder to create (default: "
                   "regulator-package-<date> in the current folder); the zip is written next to it")
    p.add_argument("--no-verify", action="store_true", help="report the last logged verification instead of "
                   "verifying the ledger now")
