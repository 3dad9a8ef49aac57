"""The ledger browser (issue 4, point 2), driven with Pilot on the sample ledger.

The screen pages from the database by keyset (one page in the table, never everything), filters in
a worker, shows the highlighted disclosure's detail (current state, history, why statutory,
retention, leaf bytes, hash and prev), and reaches correct and void from the detail pane.
What the screen shows is compared with what the service returns for the same question.
"""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import Input, Select, Static

from ledger.domain import DisclosureFilter
from tui.screens.ledger import (
    PAGE_SIZE,
    ConfirmScreen,
    CorrectScreen,
    LedgerScreen,
    VoidScreen,
    correction_changes,
)
from tui.widgets.ledger_table import LedgerTable
from tui_support import read_service as service_on
from tui_support import start_app, wait_until


async def until(pilot, condition, what: str, timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (database work is in thread workers)."""
    await wait_until(pilot, condition, timeout=timeout, message=what)


async def open_browser(app, pilot) -> LedgerScreen:
    """From the dashboard, `l` opens the ledger browser; wait for its first page and detail."""
    await pilot.press("l")
    await until(pilot, lambda: isinstance(app.screen, LedgerScreen), "the ledger screen")
    screen = app.screen
    await until(pilot, lambda: screen.pages_shown > 0 and screen.detail is not None, "the first page")
    return screen


async def settled(pilot, screen: LedgerScreen, shown_before: int) -> None:
    """Wait for the next page (after a page move or a filter) and its detail."""
    await until(pilot, lambda: screen.pages_shown > shown_before and not screen.fetching, "the page")
    current = screen.table.current
    if current is not None:
        await until(pilot, lambda: screen.detail is not None and screen.detail.seq == screen.table.current.seq,
                    "the detail of the highlighted row")


def seqs(screen: LedgerScreen) -> list[int]:
    return [row.seq for row in screen.table.rows_shown]


def expected(path, filters: DisclosureFilter = DisclosureFilter(), before_seq: int | None = None) -> list[int]:
    with service_on(path) as service:
        return [s.seq for s in service.disclosures(filters, limit=PAGE_SIZE, before_seq=before_seq)]


def error_notes(app) -> list[str]:
    return [n.message for n in app._notifications if n.severity == "error"]


# ---- pages ------------------------------------------------------------------------------------
async def test_first_page_is_the_newest_and_only_one_page(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        total = len(service.disclosures(limit=None))
        newest = service.disclosures(limit=1)[0].seq
    assert total > PAGE_SIZE  # the sample ledger has more than one page
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        table = screen.query_one(LedgerTable)
        assert table.row_count == PAGE_SIZE  # one page, not the whole ledger
        assert seqs(screen) == expected(sample_ledger)
        assert seqs(screen)[0] == newest
        assert seqs(screen) == sorted(seqs(screen), reverse=True)
        assert table.has_older and screen.page_index == 0
        assert screen.detail.seq == newest  # the highlighted row's detail
        status = str(screen.query_one("#ledger-status", Static).content)
        assert "Page 1" in status and "older: n" in status


async def test_pages_move_by_keyset_without_overlap(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        total = len(service.disclosures(limit=None))
    app = app_factory(sample_ledger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_browser(app, pilot)
        first = seqs(screen)
        seen = list(first)
        while screen.table.has_older:
            shown = screen.pages_shown
            last = seqs(screen)[-1]
            await pilot.press("n")
            await settled(pilot, screen, shown)
            page = seqs(screen)
            assert page == expected(sample_ledger, before_seq=last)
            assert not set(page) & set(seen)  # no overlap with any earlier page
            assert page[0] < last
            seen.extend(page)
        assert len(seen) == total and screen.table.row_count == total % PAGE_SIZE
        assert "end of the ledger" in str(screen.query_one("#ledger-status", Static).content)
        # back to newer pages with p, to the newest with g
        shown = screen.pages_shown
        await pilot.press("p")
        await settled(pilot, screen, shown)
        assert seqs(screen) == seen[2 * PAGE_SIZE: 3 * PAGE_SIZE]
        shown = screen.pages_shown
        await pilot.press("g")
        await settled(pilot, screen, shown)
        assert seqs(screen) == first and screen.page_index == 0


async def test_cursor_past_the_edge_loads_the_neighbouring_page(sample_ledger, app_factory):
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        table = screen.table
        first = seqs(screen)
        table.move_cursor(row=PAGE_SIZE - 1)
        await pilot.pause()
        shown = screen.pages_shown
        await pilot.press("down")
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger, before_seq=first[-1])
        assert table.cursor_row == 0 and screen.detail.seq == seqs(screen)[0]
        shown = screen.pages_shown
        await pilot.press("up")
        await settled(pilot, screen, shown)
        assert seqs(screen) == first
        assert table.cursor_row == PAGE_SIZE - 1 and screen.detail.seq == first[-1]


async def test_clicking_a_row_shows_its_detail(sample_ledger, app_factory):
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        await pilot.click(LedgerTable, offset=(4, 3))  # the header, then rows 0, 1, 2
        await until(pilot, lambda: screen.detail.seq == seqs(screen)[2], "the clicked row's detail")
        assert screen.table.cursor_row == 2


# ---- filters ------------------------------------------------------------------------------------
async def _type_filter(pilot, screen: LedgerScreen, selector: str, text: str) -> None:
    shown = screen.pages_shown
    screen.query_one(selector, Input).focus()
    await pilot.press(*text)
    await pilot.press("enter")
    await settled(pilot, screen, shown)


async def test_filters_narrow_the_rows_to_what_the_service_returns(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        subject = next(d for d in (service.disclosure(s.seq) for s in service.disclosures(limit=20))
                       if d.subjects and d.subjects[0] != "(erased)").subjects[0]
    app = app_factory(sample_ledger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_browser(app, pilot)

        await _type_filter(pilot, screen, "#f-text", "Demachi")
        assert seqs(screen) == expected(sample_ledger, DisclosureFilter(text="Demachi"))
        assert 0 < len(seqs(screen)) < PAGE_SIZE

        # the basis select applies at once, together with the text
        await until(pilot, lambda: len(screen.query_one("#f-basis", Select)._options) > 1, "the basis choices")
        shown = screen.pages_shown
        screen.query_one("#f-basis", Select).value = "consent"
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger, DisclosureFilter(text="Demachi", basis="consent"))

        # ctrl+r clears every filter: the first page again
        shown = screen.pages_shown
        screen.table.focus()
        await pilot.press("ctrl+r")
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger)

        shown = screen.pages_shown
        screen.query_one("#f-basis", Select).value = "law"
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger, DisclosureFilter(basis="law"))
        assert {r.basis for r in screen.table.rows_shown} == {"law"}
        await pilot.press("ctrl+r")

        # statutory only: click the checkbox
        await until(pilot, lambda: screen.filters == DisclosureFilter() and not screen.fetching, "cleared filters")
        shown = screen.pages_shown
        await pilot.click("#f-statutory")
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger, DisclosureFilter(statutory_only=True))
        assert all(r.statutory for r in screen.table.rows_shown)
        await pilot.click("#f-statutory")
        await until(pilot, lambda: not screen.filters.statutory_only and not screen.fetching, "statutory off")

        await _type_filter(pilot, screen, "#f-subject", subject)
        assert seqs(screen) == expected(sample_ledger, DisclosureFilter(subject=subject))
        assert seqs(screen)

        # a period and a recipient
        await pilot.press("ctrl+r")
        await until(pilot, lambda: screen.filters == DisclosureFilter() and not screen.fetching, "cleared filters")
        await _type_filter(pilot, screen, "#f-since", "2026-01-01")
        await _type_filter(pilot, screen, "#f-until", "2026-03-31")
        period = DisclosureFilter(since=date(2026, 1, 1), until=date(2026, 3, 31))
        assert seqs(screen) == expected(sample_ledger, period)
        recipient = screen.table.rows_shown[0].recipient_id
        shown = screen.pages_shown
        screen.query_one("#f-recipient", Select).value = recipient
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger, DisclosureFilter(
            since=date(2026, 1, 1), until=date(2026, 3, 31), recipient=recipient))


async def test_a_filter_that_matches_nothing_and_a_bad_date(sample_ledger, app_factory):
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        first = seqs(screen)
        await _type_filter(pilot, screen, "#f-text", "no-such-recipient-anywhere")
        assert seqs(screen) == [] and screen.detail is None
        assert "No disclosure matches" in str(screen.query_one("#ledger-status", Static).content)
        await pilot.press("ctrl+a", "ctrl+k")  # empty the text filter again
        shown = screen.pages_shown
        await pilot.press("enter")
        await settled(pilot, screen, shown)
        assert seqs(screen) == first

        screen.query_one("#f-since", Input).focus()
        await pilot.press(*"2026-13-01", "enter")
        await pilot.pause()
        assert any("since" in m for m in error_notes(app))
        assert seqs(screen) == first  # the bad filter was not applied
        assert screen.query_one("#f-since", Input).has_class("-invalid")


# ---- the detail pane ------------------------------------------------------------------------------
async def test_detail_shows_state_chain_link_history_and_reasons(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        corrected = next(s for s in service.disclosures(limit=None) if s.version > 1 and s.status != "voided")
        detail = service.disclosure(corrected.seq)
        statutory = service.statutory_reason(corrected)
        retention = service.retention_reason(corrected)
    app = app_factory(sample_ledger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_browser(app, pilot)
        screen.table.move_cursor(row=screen.table.index_of(corrected.seq))
        await until(pilot, lambda: screen.detail.seq == corrected.seq, "the corrected disclosure's detail")
        text = " ".join(screen.detail_plain.split())
        assert f"Disclosure {corrected.seq}" in text and f"version {corrected.version}" in text
        assert detail.entry.leaf_hash.hex() in screen.detail_plain.replace("\n", "").replace(" ", "")
        assert detail.entry.prev in screen.detail_plain.replace("\n", "").replace(" ", "")
        assert "Leaf bytes" in text
        for change in detail.history:
            assert f"entry {change.seq}" in text
            assert " ".join(change.reason.split()) in text
            assert f"corrected {', '.join(change.fields)}" in text
        assert " ".join(statutory.split()) in text
        assert " ".join(retention.split()) in text and corrected.retention_until in text
        assert ("statutory" if corrected.statutory else "voluntary") in text


async def test_a_voided_disclosure_cannot_be_corrected_or_voided_again(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        voided = next(s for s in service.disclosures(limit=None) if s.status == "voided")
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        screen.table.move_cursor(row=screen.table.index_of(voided.seq))
        await until(pilot, lambda: screen.detail.seq == voided.seq, "the voided disclosure")
        assert "VOIDED" in screen.detail_plain and "voided" in screen.detail_plain
        assert screen.check_action("correct", ()) is None and screen.check_action("void", ()) is None
        await pilot.press("x")
        await pilot.press("e")
        await pilot.pause()
        assert app.screen is screen


# ---- correct and void --------------------------------------------------------------------------
async def test_correct_from_the_detail_pane_appends_a_correction(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        before = service.counts()["entries"]
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        seq = screen.detail.seq
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, CorrectScreen), "the correction dialog")
        dialog = app.screen
        dialog.query_one("#field", Select).value = "notes"
        await until(pilot, lambda: dialog.query_one("#value", Input).has_focus, "the value input")
        value = dialog.query_one("#value", Input)
        assert value.value == (screen.detail.detail.notes or "")  # the current value, to edit
        value.value = ""
        await pilot.press(*"Sent by courier, not by post", "enter")
        assert "notes = Sent by courier, not by post" in str(dialog.query_one("#changes", Static).content)
        dialog.query_one("#reason", Input).focus()
        await pilot.press(*"typo in the notes", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        confirm_text = str(app.screen.query_one("#confirm-text", Static).content)
        assert "new correction entry will be appended" in confirm_text
        assert f"original entry {seq} stays" in confirm_text
        with service_on(sample_ledger) as service:
            assert service.counts()["entries"] == before  # nothing appended before the confirmation
        await pilot.press("y")
        await until(pilot, lambda: app.screen is screen, "back on the ledger screen")
        await until(pilot, lambda: screen.detail.summary.version == 2, "version 2 in the detail")
        text = " ".join(screen.detail_plain.split())
        assert f"Disclosure {seq}" in text and "version 2" in text
        assert "corrected notes" in text and "typo in the notes" in text
        assert "Sent by courier, not by post" in text
        assert screen.table.current.seq == seq and screen.table.current.version == 2
        assert any("correction" in n.message for n in app._notifications)
    with service_on(sample_ledger) as service:
        assert service.counts()["entries"] == before + 1
        assert service.disclosure(seq).notes == "Sent by courier, not by post"
        assert service.verify().ok


async def test_void_from_the_detail_pane_appends_a_void(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        before = service.counts()["entries"]
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        screen.table.move_cursor(row=1)
        await until(pilot, lambda: screen.detail.seq == seqs(screen)[1], "the second row's detail")
        seq = screen.detail.seq
        await pilot.click("#detail-void")  # the detail pane's button (x does the same)
        await until(pilot, lambda: isinstance(app.screen, VoidScreen), "the void dialog")
        await pilot.press(*"recorded twice by mistake", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        confirm_text = str(app.screen.query_one("#confirm-text", Static).content)
        assert "new void entry will be appended" in confirm_text and f"original entry {seq} stays" in confirm_text
        await pilot.click("#confirm-yes")
        await until(pilot, lambda: app.screen is screen and screen.detail.voided, "the voided detail")
        text = " ".join(screen.detail_plain.split())
        assert "VOIDED" in text and "recorded twice by mistake" in text
        assert screen.table.rows_shown[1].status == "voided"
        assert screen.check_action("void", ()) is None
    with service_on(sample_ledger) as service:
        assert service.counts()["entries"] == before + 1
        assert service.disclosure(seq).summary.status == "voided"
        assert service.verify().ok


async def test_a_bad_correction_shows_the_error_and_appends_nothing(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        before = service.counts()["entries"]
        root_before = service.verify().root
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, CorrectScreen), "the correction dialog")
        dialog = app.screen
        # no reason: refused before anything is asked
        dialog.query_one("#field", Select).value = "date"
        await until(pilot, lambda: dialog.query_one("#value", Input).has_focus, "the value input")
        dialog.query_one("#value", Input).value = "2026-13-45"
        await pilot.press("ctrl+s")
        assert "reason: is required" in str(dialog.query_one("#dialog-error", Static).content)
        assert app.screen is dialog
        dialog.query_one("#reason", Input).value = "wrong day"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is dialog and not dialog.busy
                    and "Nothing was recorded" in str(dialog.query_one("#dialog-error", Static).content),
                    "the refusal")
        error = str(dialog.query_one("#dialog-error", Static).content)
        assert "date" in error and "YYYY-MM-DD" in error  # names the field and the rule
        assert any("date" in m for m in error_notes(app))
        # the dialog stays open to fix the value; escape leaves it
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, "back on the ledger screen")
        assert screen.detail.summary.version == 1
    with service_on(sample_ledger) as service:
        assert service.counts()["entries"] == before
        assert service.verify().root == root_before


async def test_a_correction_the_rules_refuse_names_the_field(sample_ledger, app_factory):
    with service_on(sample_ledger) as service:
        before = service.counts()["entries"]
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, CorrectScreen), "the correction dialog")
        dialog = app.screen
        dialog.query_one("#field", Select).value = "basis"
        await until(pilot, lambda: dialog.query_one("#value", Input).has_focus, "the value input")
        dialog.query_one("#value", Input).value = "no_such_basis"
        dialog.query_one("#reason", Input).value = "wrong basis"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: "Nothing was recorded" in str(dialog.query_one("#dialog-error", Static).content),
                    "the refusal")
        assert "basis" in str(dialog.query_one("#dialog-error", Static).content)
    with service_on(sample_ledger) as service:
        assert service.counts()["entries"] == before


def test_correction_changes_follow_the_command_line(sample_ledger):
    """`field=value` pairs become the changes `correct_disclosure` takes, as `correct --set` does."""
    from tui.screens.ledger import load_detail_view

    with service_on(sample_ledger) as service:
        seq = service.disclosures(limit=1)[0].seq
        view = load_detail_view(service, seq)
    changes = correction_changes({"data_items": "name; email", "subjects": "a@example.jp; b@example.jp",
                                  "evidence.extra": "X-1", "notes": ""}, view)
    assert changes["data_items"] == ["name", "email"]
    assert changes["subjects"] == ["a@example.jp", "b@example.jp"]
    assert changes["evidence"] == {**view.detail.evidence, "extra": "X-1"}
    assert changes["notes"] == ""


@pytest.mark.parametrize("size", [(80, 24), (160, 45)])
async def test_layout_fits_small_and_wide_terminals(sample_ledger, app_factory, size):
    app = app_factory(sample_ledger)
    async with app.run_test(size=size) as pilot:
        screen = await open_browser(app, pilot)
        body = screen.query_one("#ledger-body")
        assert body.has_class("wide") == (size[0] >= 150)
        table, pane = screen.query_one(LedgerTable), screen.query_one("#detail-pane")
        assert table.region.height >= 5 and pane.region.height >= 5
        assert pane.region.right <= size[0] and table.region.right <= size[0]


async def test_the_command_palette_reaches_the_browser_actions(sample_ledger, app_factory):
    app = app_factory(sample_ledger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_browser(app, pilot)
        first = seqs(screen)
        shown = screen.pages_shown
        await pilot.press("ctrl+p")
        await pilot.press(*"older page")
        await until(pilot, lambda: "Ledger: older page" in str(app.screen.query_one("CommandList").get_option_at_index(0).prompt),
                    "the command in the palette")
        await pilot.press("enter")
        await settled(pilot, screen, shown)
        assert seqs(screen) == expected(sample_ledger, before_seq=first[-1])


async def test_coming_back_to_the_browser_shows_what_changed_meanwhile(sample_ledger, app_factory):
    app = app_factory(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_browser(app, pilot)
        seq = seqs(screen)[0]
        await pilot.press("d")
        await until(pilot, lambda: app.screen is not screen, "another screen")
        with service_on(sample_ledger) as service:  # recorded elsewhere (another screen, the CLI)
            service.void_disclosure(seq, "voided from the command line")
        shown = screen.pages_shown
        await pilot.press("l")
        await until(pilot, lambda: app.screen is screen and screen.pages_shown > shown and not screen.fetching,
                    "the page reloaded")
        assert screen.table.rows_shown[0].status == "voided"
        await until(pilot, lambda: screen.detail.voided, "the detail reloaded")


# ---- snapshots (pytest-textual-snapshot; regenerate with --snapshot-update, see test_snapshots.py) ----
async def _browser_loaded(pilot) -> None:
    await open_browser(pilot.app, pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_browser_snapshot(snap_compare, sample_ledger, monkeypatch, size):
    monkeypatch.chdir(sample_ledger.parent)  # the header shows `ledger.db`, not the temporary folder
    assert snap_compare(start_app(sample_ledger.name), terminal_size=size, run_before=_browser_loaded)


def test_correction_dialog_snapshot(snap_compare, sample_ledger, monkeypatch):
    monkeypatch.chdir(sample_ledger.parent)

    async def correcting(pilot) -> None:
        await _browser_loaded(pilot)
        await pilot.press("e")
        await until(pilot, lambda: isinstance(pilot.app.screen, CorrectScreen), "the correction dialog")
        pilot.app.screen.query_one("#field", Select).value = "notes"
        await pilot.pause()

    assert snap_compare(start_app(sample_ledger.name), terminal_size=(80, 24), run_before=correcting)


# ---- the benchmark runs (its figures are printed by `python3 -m tui.bench`, not asserted) -------
async def test_the_browser_benchmark_runs_on_a_small_ledger(tmp_path):
    from tui.bench import build_ledger, measure, report

    path = tmp_path / "bench.db"
    lines: list[str] = []
    assert build_ledger(path, 1_200, say=lines.append) == 1_200
    assert build_ledger(path, 1_000, say=lines.append) == 1_200  # reused, not rebuilt
    assert "reusing" in lines[-1]
    results = await measure(path, pages=2, say=lines.append)
    for key in ("first_screen_ms", "dashboard_to_ledger_ms", "page_older_median_ms", "page_newer_median_ms",
                "page_edge_median_ms", "page_max_ms"):
        assert results[key] > 0
    assert len(results["filters_ms"]) >= 7 and all(v > 0 for v in results["filters_ms"].values())
    assert results["filter_worst_case_rows"] == 0
    report(1_200, results, say=lines.append)
    assert any("first screen" in line for line in lines)
