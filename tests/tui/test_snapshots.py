"""Snapshots of the dashboard on the frozen sample ledger (fixed clock, deterministic salts).

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
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "outcome", None) is not None,
                         timeout=20, message="the verification")
        await pilot.pause()

    assert snap_compare(sample_app, terminal_size=(80, 24), run_before=verified)


def test_help(snap_compare, sample_app):
    async def helped(pilot) -> None:
        await _dashboard_loaded(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(sample_app, terminal_size=(100, 40), run_before=helped)
