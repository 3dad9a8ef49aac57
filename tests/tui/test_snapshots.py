"""Snapshots of the dashboard, the record form and the contractors screen on the frozen sample
ledger (fixed clock, deterministic salts).

Regenerate with `python3 -m uv run pytest tests/tui/test_snapshots.py --snapshot-update` (with uv:
pip and uv resolve pytest-textual-snapshot differently and their files do not interchange), look
at the report, and commit tests/tui/__snapshots__/.
"""

from __future__ import annotations

import pytest

from tui_support import start_app, wait_until


@pytest.fixture
def sample_app(sample_ledger, monkeypatch):
    # A relative path, so the header shows `ledger.db` and not the temporary folder.
    monkeypatch.chdir(sample_ledger.parent)
    return start_app(sample_ledger.name)


async def _dashboard_loaded(pilot) -> None:
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "view", None) is not None,
                     message="the dashboard's figures")
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_dashboard(snap_compare, sample_app, size):
    assert snap_compare(sample_app, terminal_size=size, run_before=_dashboard_loaded)


def test_dashboard_light_theme(snap_compare, sample_app):
    async def light(pilot) -> None:
        await _dashboard_loaded(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()

    assert snap_compare(sample_app, terminal_size=(80, 24), run_before=light)


def test_integrity_result(snap_compare, sample_app):
    async def verified(pilot) -> None:
        await _dashboard_loaded(pilot)
        await pilot.press("i", "v")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "outcome", None) is not None and _idle(pilot),
                         timeout=20, message="the verification and every worker after it")
        await pilot.pause()

    assert snap_compare(sample_app, terminal_size=(80, 24), run_before=verified)


def test_help(snap_compare, sample_app):
    async def helped(pilot) -> None:
        await _dashboard_loaded(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(sample_app, terminal_size=(100, 40), run_before=helped)


def _idle(pilot) -> bool:
    """No worker of the app still pending or running."""
    return not any(worker.state.name in ("PENDING", "RUNNING") for worker in pilot.app.workers)


# ---- the record form ----------------------------------------------------------------------------
async def _form_settled(pilot) -> None:
    """The record screen's register loaded and its live check run (it waits for a pause in typing)."""
    from tui.screens.record import RecordScreen

    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RecordScreen) and pilot.app.screen.ref is not None,
                     message="the record form's register")
    screen = pilot.app.screen
    await wait_until(pilot, lambda: screen._check_timer is None and screen.errors and _idle(pilot),
                     message="the form's live check")
    _steady_cursor(pilot)
    await pilot.pause()


def _steady_cursor(pilot) -> None:
    """Stop the text cursors blinking (shown steadily in the focused field), or the snapshot
    depends on when in the blink it is taken."""
    from textual.widgets import Input, TextArea

    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, (Input, TextArea)):
            widget.cursor_blink = False


async def _empty_form(pilot) -> None:
    await _dashboard_loaded(pilot)
    await pilot.press("r")
    await _form_settled(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_record_form_empty(snap_compare, sample_app, size):
    assert snap_compare(sample_app, terminal_size=size, run_before=_empty_form)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_record_form_with_a_basis(snap_compare, sample_app, size):
    async def consent_chosen(pilot) -> None:
        await _empty_form(pilot)
        screen = pilot.app.screen
        screen.query_one("#basis").focus()
        await pilot.press("enter", *"cons", "enter")  # open the list, type to search, pick
        await wait_until(pilot, lambda: screen.query("#evidence-consent_reference"),
                         message="the consent basis's evidence fields")
        await pilot.press("tab")  # into the first evidence field: the form scrolls to show it
        await wait_until(pilot, lambda: pilot.app.focused is not None
                         and pilot.app.focused.id == "evidence-consent_reference",
                         message="the focus on the first evidence field")
        await _form_settled(pilot)
        assert screen.query_one("#basis").value == "consent"

    assert snap_compare(sample_app, terminal_size=size, run_before=consent_chosen)


# ---- the contractors screen ---------------------------------------------------------------------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_contractors(snap_compare, sample_app, size):
    async def register_loaded(pilot) -> None:
        from tui.screens.contractors import ContractorsScreen

        await _dashboard_loaded(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, ContractorsScreen)
                         and pilot.app.screen.register_data is not None, message="the contractor register")
        screen = pilot.app.screen
        first = screen.register_data.vendors[0].party.party_id
        await wait_until(pilot, lambda: screen.detail is not None and screen.detail.vendor.party.party_id == first,
                         message="the first contractor's detail")
        await wait_until(pilot, lambda: _idle(pilot), message="every worker to end")
        await pilot.pause()

    assert snap_compare(sample_app, terminal_size=size, run_before=register_loaded)
