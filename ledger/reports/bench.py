"""How long the annual review takes on a big ledger: `python -m ledger.reports.bench --db LEDGER
[--year YYYY]` builds it and writes HTML and PDF into a temporary folder, and prints the figures.
(`python -m tui.bench --entries 1000000 --db FILE` builds a 1,000,000-entry ledger to run it on.)"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ..service import LedgerService
from .annual import annual_document, build_annual
from .period import calendar_year
from . import render


def run(db: Path, year: int | None = None) -> dict[str, float]:
    figures: dict[str, float] = {}
    with LedgerService.open(db) as service:
        first = service.disclosures(limit=1)
        year = year or (int(first[0].first_day[:4]) if first else service.today().year)
        started = time.perf_counter()
        review = build_annual(service, calendar_year(year), verify=False)
        figures["assemble_s"] = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder:
            for fmt, writer in (("html", render.html), ("pdf", render.pdf)):
                began = time.perf_counter()
                render.write(Path(folder) / f"review.{fmt}", writer(annual_document(service, review)))
                figures[f"{fmt}_s"] = time.perf_counter() - began
        figures["entries"] = service.store.size()
        figures["releases_in_year"] = len(review.disclosures)
        figures["year"] = year
    figures["html_total_s"] = figures["assemble_s"] + figures["html_s"]
    figures["pdf_total_s"] = figures["assemble_s"] + figures["pdf_s"]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--year", type=int)
    args = parser.parse_args()
    for name, value in run(args.db, args.year).items():
        print(f"{name:18} {value:,.2f}" if isinstance(value, float) else f"{name:18} {value}")


if __name__ == "__main__":
    main()
