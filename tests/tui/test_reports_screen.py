"""The Reports screen: `t` opens it; each report is built in a worker and the screen shows where it
was written; a bad input is said in words, not a traceback."""

from __future__ import annotations

import json

from textual.widgets import Input, Select

from tui_support import screen_text, wait_until


async def _open_reports(pilot):
    await pilot.press("t")
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ReportsScreen", message="reports screen")
    return pilot.app.screen


async def _build(pilot, screen):
    await pilot.press("ctrl+s")
    await wait_until(pilot, lambda: not screen.running and (screen.written or "Not done" in screen_text(pilot.app)),
                     timeout=60, message="the report to be built")


async def test_annual_review_is_built_and_its_path_shown(app_factory, sample_ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(tmp_path / "keys"))
    async with app_factory(sample_ledger).run_test(size=(120, 40)) as pilot:
        screen = await _open_reports(pilot)
        screen.query_one("#report-folder", Input).value = str(tmp_path)
        screen.query_one("#report-period", Input).value = "2026"
        screen.query_one("#report-period-kind", Select).value = "year"
        screen.query_one("#report-format", Select).value = "json"
        await pilot.pause()
        await _build(pilot, screen)
        written = tmp_path / "annual-review-2026.json"
        assert screen.written == [written]
        assert json.loads(written.read_text())["period"]["label"] == "2026"
        assert str(written) in screen_text(pilot.app)


async def test_subject_report_in_japanese_and_a_missing_identifier(app_factory, sample_ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(tmp_path / "keys"))
    async with app_factory(sample_ledger).run_test(size=(120, 40)) as pilot:
        screen = await _open_reports(pilot)
        screen.query_one("#report-folder", Input).value = str(tmp_path)
        screen.query_one("#report-kind", Select).value = "subject"
        await pilot.pause()
        await _build(pilot, screen)
        assert "identifier: is required" in screen_text(pilot.app)
        assert not screen.written
        screen.query_one("#report-identifier", Input).value = "S2024-0908"
        screen.query_one("#report-lang", Select).value = "ja"
        screen.query_one("#report-format", Select).value = "md"
        await pilot.pause()
        await _build(pilot, screen)
        assert screen.written == [tmp_path / "subject-report-S2024-0908-ja.md"]
        assert "個人データの第三者提供記録の開示" in screen.written[0].read_text(encoding="utf-8")


async def test_regulator_package_is_built_as_a_folder_and_a_zip(app_factory, sample_ledger, tmp_path, monkeypatch):
    monkeypatch.setenv("DISCLOSURE_LEDGER_KEYS", str(tmp_path / "keys"))
    async with app_factory(sample_ledger).run_test(size=(120, 40)) as pilot:
        screen = await _open_reports(pilot)
        screen.query_one("#report-folder", Input).value = str(tmp_path)
        screen.query_one("#report-kind", Select).value = "regulator"
        screen.query_one("#report-period", Input).value = ""
        screen.query_one("#report-identifier", Input).value = "S2024-0908"
        await pilot.pause()
        await _build(pilot, screen)
        folder, archive = screen.written
        assert folder.is_dir() and archive.suffix == ".zip" and archive.is_file()
        assert (folder / "entries.jsonl").is_file() and (folder / "README.txt").is_file()
