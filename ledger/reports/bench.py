"""How long the annual review takes on a big ledger: `python -m ledger.reports.bench --db LEDGER
[--year YYYY] [--runs N] [--verify]` writes the review of the year (default: the busiest calendar
year) as HTML, PDF and CSV into a temporary folder, as `report annual --format ...` does, N times
each, and prints the median seconds of each format, the peak memory while writing it, and the
seconds spent counting and listing the year's releases (the review before it is laid out). Without --verify it
reports the last logged verification (`--no-verify`), so the figures are the review's own work.
(`python -m tui.bench --entries 1000000 --db FILE` builds a 1,000,000-entry ledger to run it on.)"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from ..bench import peak_memory_mb, reset_peak_memory
from ..service import LedgerService
from .annual import build_annual, write_annual
from .period import calendar_year

FORMATS = ("csv", "html", "pdf")  # the PDF last: its memory, kept by the process, would count in the others


def busiest_year(service: LedgerService) -> int:
    """The calendar year in which the most releases began (this year when there are none)."""
    per_year: Counter[int] = Counter()
    for (month, _), count in service.release_counts(date.min, date.max).per_month_by_basis.items():
        per_year[int(month[:4])] += count
    return max(per_year, key=lambda y: (per_year[y], y)) if per_year else service.today().year


def run(db: Path, year: int | None = None, runs: int = 1, verify: bool = False) -> dict[str, object]:
    if runs < 1:
        raise ValueError("runs must be at least 1")
    figures: dict[str, object] = {}
    with LedgerService.open(db) as service:
        year = year or busiest_year(service)
        period = calendar_year(year)
        counts = service.release_counts(period.start, period.end)
        figures.update(entries=service.store.size(), year=year, releases_in_year=counts.releases + counts.voided)
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            build_annual(service, period, verify=False)
            times.append(time.perf_counter() - began)
        figures["assemble_s"] = statistics.median(times)
        with tempfile.TemporaryDirectory() as folder:
            for fmt in FORMATS:
                times = []
                reset_peak_memory()
                for _ in range(runs):
                    began = time.perf_counter()
                    written = write_annual(service, period, fmt, Path(folder) / f"review.{fmt}", verify=verify)
                    times.append(time.perf_counter() - began)
                figures[f"{fmt}_s"] = statistics.median(times)
                figures[f"{fmt}_bytes"] = written.stat().st_size
                figures[f"{fmt}_peak_mb"] = round(peak_memory_mb(), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--year", type=int)
    parser.add_argument("--runs", type=int, default=1, choices=range(1, 101), metavar="N",
                        help="runs of each format, 1 to 100; the median is printed")
    parser.add_argument("--verify", action="store_true", help="verify the whole ledger in each run, as "
                        "`report annual` does without --no-verify")
    args = parser.parse_args()
    for name, value in run(args.db, args.year, args.runs, args.verify).items():
        print(f"{name:18} {value:,.2f}" if isinstance(value, float) else f"{name:18} {value}")


if __name__ == "__main__":
    main()
