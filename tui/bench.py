"""How fast the ledger browser answers on a big ledger: `python3 -m tui.bench --entries N [--db FILE]`.

Builds (or reuses) a ledger of N disclosures with the core benchmark's synthetic generator
(`ledger.bench`), then drives the real app headless with `App.run_test` and prints:

- first screen: from starting the app in the ledger mode to its first page on screen, and from
  pressing `l` on the dashboard to the ledger's first page;
- moving a page: from pressing `n` (older), `p` (newer) or the cursor crossing the page edge to
  the new page on screen;
- a filter answer: from pressing enter in the filter bar (or choosing a select) to the matching
  rows on screen, for each kind of filter;
- the detail pane: from a row highlighted to its detail shown.

Targets (issue 4) on 1,000,000 entries: first screen within 2 s, a page within 100 ms, a filter
within 500 ms. Figures, not asserts: the machine decides what is fast. Building 1,000,000 entries
takes minutes; pass `--db FILE` to keep the file and reuse it next time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from ledger.bench import _PARTIES, _clock, _register_parties, synthetic_rows
from ledger.service import LedgerService

from .app import LedgerApp, make_app

CHUNK = 100_000
TARGETS_MS = {"first screen": 2000, "page": 100, "filter": 500}


def _say(line: str) -> None:
    print(line, flush=True)


# ---- the ledger -------------------------------------------------------------------------------
def build_ledger(path: Path | str, entries: int, say: Callable[[str], None] = _say) -> int:
    """A ledger at `path` with at least `entries` disclosures: reused if it has them, else topped up
    (imports of CHUNK rows each, through `service.import_disclosures`). Returns the disclosure count."""
    path = Path(path)
    service = LedgerService.open(path, create=not path.exists(), operator="bench", clock=_clock)
    try:
        have = service.counts()["disclosures"]
        if have >= entries:
            say(f"reusing {path}: {have:,} disclosures")
            return have
        bench_parties = [p for p in service.parties() if p.name.startswith("Bench Party ")]
        if bench_parties:
            parties = [(p.party_id, p.country, _PARTIES[i % len(_PARTIES)][2])
                       for i, p in enumerate(sorted(bench_parties, key=lambda p: p.name))]
        else:
            parties = _register_parties(service, 50)
        started = time.perf_counter()
        done = have
        while done < entries:
            chunk = min(CHUNK, entries - done)
            service.import_disclosures(synthetic_rows(parties, chunk, seed=done + 1), source="bench")
            done += chunk
            elapsed = time.perf_counter() - started
            say(f"  built {done:>10,} disclosures  ({elapsed:6.1f} s)")
        return done
    finally:
        service.close()


# ---- the app --------------------------------------------------------------------------------
class _LedgerFirst(LedgerApp):
    """The app opening straight on the ledger browser (its CSS found next to tui/app.py)."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))
    DEFAULT_MODE = "ledger"


async def _until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the screen did not answer in time")
        await asyncio.sleep(0.0005)


async def _painted(pilot) -> None:
    """Every pending message handled, then the screen composed into lines (what a paint costs)."""
    await pilot._wait_for_screen()
    pilot.app.screen._compositor.render_strips()


def _key(app, key: str) -> None:
    """A key as the terminal sends it (Pilot's `press` also waits for the process to go idle,
    which would count its own waiting into the figures)."""
    from textual import events

    app.post_message(events.Key(key, key if len(key) == 1 else None))


async def _page_shown(pilot, screen, shown_before: int) -> None:
    await _until(lambda: screen.pages_shown > shown_before and not screen.fetching)
    await _painted(pilot)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


async def measure(path: Path | str, *, size: tuple[int, int] = (120, 40), pages: int = 10,
                  subject: str | None = None, say: Callable[[str], None] = _say) -> dict[str, object]:
    """Drive the app on the ledger at `path` and time what the person waits for (milliseconds)."""
    from textual.widgets import Input, Select

    from .screens.ledger import PAGE_SIZE, LedgerScreen

    results: dict[str, object] = {}
    handle = make_app(path, create=False, clock=_clock, operator="bench").ledger

    # first screen: start the app on the ledger browser
    app = _LedgerFirst(handle)
    started = time.perf_counter()
    async with app.run_test(size=size) as pilot:
        await _until(lambda: isinstance(app.screen, LedgerScreen))
        screen = app.screen
        await _page_shown(pilot, screen, 0)
        results["first_screen_ms"] = _ms(time.perf_counter() - started)
        await _until(lambda: screen.detail is not None)
        results["first_detail_ms"] = _ms(time.perf_counter() - started)

        # moving a page: n (older), p (newer), and the cursor crossing the page's edge
        older, newer, edge, detail = [], [], [], []
        for _ in range(pages):
            if not screen.table.has_older:
                break  # a small ledger: no older page left
            shown = screen.pages_shown
            t0 = time.perf_counter()
            _key(app, "n")
            await _page_shown(pilot, screen, shown)
            older.append(time.perf_counter() - t0)
            seq = screen.table.current.seq
            await _until(lambda: screen.detail is not None and screen.detail.seq == seq)
            detail.append(time.perf_counter() - t0)
        for _ in range(max(1, len(older) // 2)):
            if screen.page_index == 0:
                break
            shown = screen.pages_shown
            t0 = time.perf_counter()
            _key(app, "p")
            await _page_shown(pilot, screen, shown)
            newer.append(time.perf_counter() - t0)
        for _ in range(max(1, len(older) // 2)):
            if not screen.table.has_older:
                break
            screen.table.move_cursor(row=screen.table.row_count - 1)
            await pilot._wait_for_screen()
            shown = screen.pages_shown
            t0 = time.perf_counter()
            _key(app, "down")
            await _page_shown(pilot, screen, shown)
            edge.append(time.perf_counter() - t0)
        moves = sorted(older + newer + edge)
        if not (older and newer and edge):
            raise SystemExit("the ledger is too small to time page moves: give --entries 1000 or more")
        results.update(
            page_older_median_ms=_ms(statistics.median(older)), page_newer_median_ms=_ms(statistics.median(newer)),
            page_edge_median_ms=_ms(statistics.median(edge)),
            page_p90_ms=_ms(moves[min(len(moves) - 1, int(len(moves) * 0.9))]), page_max_ms=_ms(moves[-1]),
            page_with_detail_median_ms=_ms(statistics.median(detail)),
            page_all_ms=[_ms(m) for m in older + newer + edge],
        )
        say(f"timed {len(older) + len(newer) + len(edge)} page moves of {PAGE_SIZE} rows (reached page {screen.page_index + 1})")

        # filters: each from the first page, from enter (or a choice) to the rows on screen
        if subject is None:
            with handle.open() as service:
                found = service.disclosure(service.disclosures(limit=1)[0].seq)
                subject = next((s for s in found.subjects if s != "(erased)"), None)
        _key(app, "g")  # back to the newest page
        await _until(lambda: not screen.fetching and screen.page_index == 0)
        await _painted(pilot)
        party = next(iter(screen.table.rows_shown)).recipient_id if screen.table.rows_shown else None

        async def typed(selector: str, text: str) -> float:
            widget = screen.query_one(selector, Input)
            widget.value = text
            widget.focus()
            await pilot._wait_for_screen()
            shown = screen.pages_shown
            t0 = time.perf_counter()
            _key(app, "enter")
            await _page_shown(pilot, screen, shown)
            return time.perf_counter() - t0

        async def chosen(selector: str, value: str) -> float:
            shown = screen.pages_shown
            t0 = time.perf_counter()
            screen.query_one(selector, Select).value = value
            await _page_shown(pilot, screen, shown)
            return time.perf_counter() - t0

        async def clear() -> None:
            shown = screen.pages_shown
            screen.table.focus()
            await pilot._wait_for_screen()
            _key(app, "ctrl+r")
            await _until(lambda: screen.pages_shown > shown and not screen.fetching)

        await _until(lambda: len(screen.query_one("#f-basis", Select)._options) > 1)
        filters: dict[str, float] = {}
        filters["basis=law"] = await chosen("#f-basis", "law"); await clear()
        if party:
            filters[f"recipient={party}"] = await chosen("#f-recipient", party); await clear()
        shown = screen.pages_shown
        t0 = time.perf_counter()
        screen.query_one("#f-statutory").toggle()
        await _page_shown(pilot, screen, shown)
        filters["statutory only"] = time.perf_counter() - t0; await clear()
        filters["text 'Bench Party 007'"] = await typed("#f-text", "Bench Party 007"); await clear()
        filters["text 'grade_records'"] = await typed("#f-text", "grade_records"); await clear()
        if subject:
            filters[f"subject {subject}"] = await typed("#f-subject", subject); await clear()
        screen.query_one("#f-until", Input).value = "2024-06-30"
        filters["one month (since, until)"] = await typed("#f-since", "2024-06-01"); await clear()
        filters["text matching nothing"] = await typed("#f-text", "no such text anywhere")
        rows_for_worst = screen.table.row_count
        await clear()
        results["filters_ms"] = {name: _ms(value) for name, value in filters.items()}
        results["filter_worst_case_rows"] = rows_for_worst

    # first screen the way a person gets there: the dashboard, then `l`
    app = make_app(path, create=False, clock=_clock, operator="bench")
    async with app.run_test(size=size) as pilot:
        await pilot._wait_for_screen()
        t0 = time.perf_counter()
        _key(app, "l")
        await _until(lambda: isinstance(app.screen, LedgerScreen))
        await _page_shown(pilot, app.screen, 0)
        results["dashboard_to_ledger_ms"] = _ms(time.perf_counter() - t0)
    return results


def report(entries: int, results: dict[str, object], say: Callable[[str], None] = _say) -> None:
    def verdict(value: float, target: float) -> str:
        return "ok" if value <= target else "OVER TARGET"

    first, page, filt = TARGETS_MS["first screen"], TARGETS_MS["page"], TARGETS_MS["filter"]
    say(f"ledger browser on {entries:,} disclosures (targets: first screen {first} ms, page {page} ms, "
        f"filter {filt} ms)")
    say(f"  first screen (app start)        {results['first_screen_ms']:>8} ms  {verdict(results['first_screen_ms'], first)}")
    say(f"  first screen (dashboard, l)     {results['dashboard_to_ledger_ms']:>8} ms  "
        f"{verdict(results['dashboard_to_ledger_ms'], first)}")
    say(f"  first detail (app start)        {results['first_detail_ms']:>8} ms")
    say(f"  page older (n), median          {results['page_older_median_ms']:>8} ms  {verdict(results['page_older_median_ms'], page)}")
    say(f"  page newer (p), median          {results['page_newer_median_ms']:>8} ms  {verdict(results['page_newer_median_ms'], page)}")
    say(f"  page by cursor edge, median     {results['page_edge_median_ms']:>8} ms  {verdict(results['page_edge_median_ms'], page)}")
    say(f"  page, 90th percentile           {results['page_p90_ms']:>8} ms  {verdict(results['page_p90_ms'], page)}")
    say(f"  page, slowest                   {results['page_max_ms']:>8} ms  {verdict(results['page_max_ms'], page)}")
    say(f"  page + its detail, median       {results['page_with_detail_median_ms']:>8} ms")
    for name, value in results["filters_ms"].items():  # type: ignore[union-attr]
        say(f"  filter {name:<24} {value:>8} ms  {verdict(value, filt)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tui.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000, help="disclosures in the ledger (default 100,000)")
    parser.add_argument("--db", metavar="FILE", help="build the ledger here, or reuse it if it has enough entries")
    parser.add_argument("--pages", type=int, default=10,
                        help="older-page moves to time, then half as many newer and edge moves (default 10)")
    parser.add_argument("--size", default="120x40", help="terminal size WxH (default 120x40)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    width, _, height = args.size.partition("x")
    with tempfile.TemporaryDirectory(prefix="disclosure-ledger-tui-bench-") as folder:
        path = Path(args.db) if args.db else Path(folder) / "bench.db"
        started = time.perf_counter()
        count = build_ledger(path, args.entries)
        _say(f"ledger ready in {time.perf_counter() - started:.1f} s: {path}")
        results = asyncio.run(measure(path, size=(int(width), int(height)), pages=args.pages))
        results["disclosures"] = count
        report(count, results)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
