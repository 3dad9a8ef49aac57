"""The terminal app's home screen, driven through Textual's Pilot on a real ledger."""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import Static

from ledger.service import LedgerService
from tui.app import make_app


def _text(app, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


@pytest.fixture
def demo_ledger(tmp_path):
    path = tmp_path / "demo.db"
    from ledger.demo import build_demo

    with LedgerService.open(path, create=True, operator="demo") as service:
        build_demo(service)
    return path


async def test_home_shows_the_ledger_and_verifies_it(demo_ledger):
    app = make_app(demo_ledger, create=False)
    async with app.run_test(size=(100, 30)) as pilot:
        summary = _text(app, "#summary")
        entries = app.service.counts()["entries"]
        assert f"{entries:,} entries" in summary
        assert "disclosures" in summary
        assert "not checked" in _text(app, "#integrity")
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "intact" in _text(app, "#integrity")
        assert "NOT" not in _text(app, "#integrity")
    app.service.close()


async def test_home_reports_a_tampered_ledger(demo_ledger):
    conn = sqlite3.connect(demo_ledger)
    conn.execute("DROP TRIGGER entry_append_only_update")
    conn.execute("UPDATE entry SET leaf_hash = zeroblob(32) WHERE seq = 30")
    conn.commit()
    conn.close()
    app = make_app(demo_ledger, create=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("v")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "NOT intact" in _text(app, "#integrity")
    app.service.close()
