"""The dashboard (home screen) on the sample ledger and on a new, empty ledger."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Footer, Header

from tui.screens.dashboard import DashboardScreen, sample_path_for

from tui_support import read_service, screen_text, start_app, wait_until


async def _loaded(pilot) -> DashboardScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    await wait_until(pilot, lambda: screen.view is not None, message="the dashboard's figures")
    await pilot.pause()
    return screen


async def test_dashboard_shows_the_sample_ledgers_figures(sample_ledger):
    with read_service(sample_ledger) as service:
        board = service.dashboard()
        counts = service.counts()
    app = start_app(sample_ledger)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot)
        text = screen_text(app)
        assert screen.query(Header) and screen.query(Footer)
        assert f"{board.size:,} entries in the chain" in text
        assert f"{counts['disclosures']:,} disclosures, {counts['parties']:,} parties" in text
        assert f"Last entry: #{board.last_entry.seq}" in text
        assert "✔ Intact" in text and "2026-06-15 12:00 JST" in text
        total = board.statutory + board.voluntary
        assert f"Releases in {board.year}: {total:,}" in text
        assert f"{board.statutory:,} statutory · {board.voluntary:,} voluntary" in text
        chart = {row.tooltip: row.count for row in screen.view.by_basis}
        with read_service(sample_ledger) as service:
            names = {code: service.ref.bases[code].name for code in board.by_basis}
        assert chart == {names[code]: count for code, count in board.by_basis.items()}
        attention = len(board.attention) + len(board.retention_ending)
        assert f"Needs attention: {attention}" in text
        shown = [line for line in screen.view.attention]
        assert {a.detail for a in shown} >= {item.detail for item in board.attention}
        assert any(item.party_name in text for item in board.attention)


async def test_dashboard_fits_80x24(sample_ledger):
    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        lines = screen_text(app).splitlines()
        assert len(lines) == 24
        text = "\n".join(lines)
        for title in ("Ledger", "Integrity", "Releases in", "Needs attention"):
            assert title in text
        assert "f1 Help" in lines[-1]


async def test_an_empty_ledger_explains_the_first_steps_and_opens_the_sample_apart(empty_ledger):
    with read_service(empty_ledger) as service:
        before = service.counts()["entries"]
    app = start_app(empty_ledger)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _loaded(pilot)
        text = screen_text(app)
        assert "This ledger is new" in text
        assert "disclosure-ledger party add" in text
        assert "disclosure-ledger verify" in text
        sample = sample_path_for(empty_ledger)
        assert sample.name in text and not sample.exists()
        await pilot.press("i")  # a screen of another mode, made before the switch
        await wait_until(pilot, lambda: "has not been verified yet" in screen_text(app), message="integrity")
        first_integrity = app.screen
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen is screen, message="the dashboard")

        await pilot.press("o")
        await wait_until(pilot, lambda: app.sample_open and screen.view is not None and not screen.view.is_new,
                         timeout=20, message="the sample ledger")
        await pilot.pause()
        assert sample.exists() and sample != empty_ledger
        assert app.ledger.path == sample
        assert "SAMPLE" in app.title and "not yours" in app.sub_title
        assert app.has_class("-sample")
        assert "Releases in" in screen_text(app)
        await pilot.press("i")  # other screens are made anew, on the sample
        await wait_until(pilot, lambda: "Last check" in screen_text(app) or "not been verified" in screen_text(app),
                         message="integrity on the sample")
        assert app.screen is not first_integrity
        await pilot.press("v")
        await wait_until(pilot, lambda: app.screen.outcome is not None, timeout=20, message="verification")
        assert app.screen.outcome.size > 1
        await pilot.press("d")
        await wait_until(pilot, lambda: app.screen is screen, message="the dashboard")

        await pilot.press("b")  # back to the user's own ledger
        await wait_until(pilot, lambda: not app.sample_open and screen.view is not None and screen.view.is_new,
                         message="the user's ledger again")
        assert app.ledger.path == empty_ledger
    with read_service(empty_ledger) as service:
        assert service.counts()["entries"] == before == 1
        assert service.parties() == []
    with read_service(sample) as service:
        assert service.counts()["disclosures"] > 0


async def test_the_sample_written_before_is_reused(empty_ledger):
    app = start_app(empty_ledger)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _loaded(pilot)
        await pilot.click("#open-sample")  # the mouse works too
        await wait_until(pilot, lambda: app.sample_open, timeout=20, message="the sample ledger")
    sample = sample_path_for(empty_ledger)
    stamp = sample.stat().st_mtime_ns
    size = sample.stat().st_size
    app = start_app(empty_ledger)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("o")
        await wait_until(pilot, lambda: app.sample_open and not screen.view.is_new, timeout=20,
                         message="the sample ledger")
    assert sample.stat().st_size == size and sample.stat().st_mtime_ns == stamp
    assert not list(Path(empty_ledger).parent.glob("*.partial"))


async def test_dashboard_verify_key_runs_the_verification(sample_ledger):
    app = start_app(sample_ledger)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: getattr(app.screen, "outcome", None) is not None,
                         message="the verification")
        assert app.current_mode == "integrity"
        assert app.screen.outcome.ok


async def test_ctrl_t_toggles_the_theme(sample_ledger):
    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        first, dark = app.theme, app.current_theme.dark
        await pilot.press("ctrl+t")
        assert app.theme != first and app.current_theme.dark is not dark
        assert "Releases in" in screen_text(app)  # still drawn in the other theme
        await pilot.press("ctrl+t")
        assert app.theme == first and app.current_theme.dark is dark


async def test_command_palette_offers_go_to_ledger(sample_ledger):
    from textual.command import CommandPalette

    app = start_app(sample_ledger)
    async with app.run_test(size=(100, 30)) as pilot:
        await _loaded(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), message="the command palette")
        await pilot.press(*"go to ledger")
        await wait_until(pilot, lambda: "Go to Ledger" in screen_text(app), message="'Go to Ledger'")
        commands = [command.title for command in app.get_system_commands(app.screen)]
        assert "Go to Ledger" in commands and "Verify the ledger" in commands
        await pilot.press("escape")
        await pilot.press("ctrl+p")  # the palette's "Verify the ledger" runs the verification
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), message="the command palette")
        await pilot.press(*"verify the ledger")
        await wait_until(pilot, lambda: "Verify the ledger" in screen_text(app), message="'Verify the ledger'")
        await pilot.press("enter")
        await wait_until(pilot, lambda: getattr(app.screen, "outcome", None) is not None, timeout=20,
                         message="the verification")
        assert app.current_mode == "integrity" and app.screen.outcome.ok


async def test_help_opens_with_f1_and_question_mark_and_lists_bindings(sample_ledger):
    from tui.screens.help import HelpScreen

    app = start_app(sample_ledger)
    async with app.run_test(size=(100, 40)) as pilot:
        await _loaded(pilot)
        for key, close in (("f1", "escape"), ("question_mark", "q"), ("f1", "f1")):
            await pilot.press(key)
            await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), message="the help screen")
            await pilot.pause()
            text = screen_text(app)
            assert "On this screen (Dashboard)" in text and "Everywhere" in text
            for words in ("Verify", "Refresh", "Help", "Quit", "Ledger: every entry", "Integrity"):
                assert words in text, words
            keys = [(line.keys, line.description) for _, lines in app.screen.sections for line in lines]
            described = {k for k, _ in keys}
            for expected in ("d", "l", "r", "c", "s", "i", "q", "f1 / ?", "^t", "^p", "v", "f5 / g"):
                assert expected in described, expected
            await pilot.press(close)
            await wait_until(pilot, lambda: isinstance(app.screen, DashboardScreen), message="help closed")
        assert app.is_running  # q closed the help, not the app


async def test_service_errors_become_notifications(tmp_path, sample_ledger):
    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot)
        sample_ledger.unlink()  # the file goes away under the app
        Path(tmp_path / "ledger.db").write_bytes(b"not a ledger at all" * 100)
        screen.view = None
        await pilot.press("f5")
        await wait_until(pilot, lambda: any(n.severity == "error" for n in app._notifications),
                         message="an error notification")
        assert app.is_running


async def test_an_unforeseen_error_is_told_by_its_kind_never_its_message(sample_ledger):
    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        try:
            raise KeyError("S2022-0088 hanako@example.jp")  # as a tampered query table could make one
        except KeyError as exc:
            app.report_error(exc)
        await pilot.pause()
        told = [n.message for n in app._notifications if n.severity == "error"]
        assert len(told) == 1 and "unexpected internal error (KeyError in test_dashboard.py line" in told[0]
        assert "S2022-0088" not in told[0] and "`disclosure-ledger verify`" in told[0]


async def test_every_screen_has_a_header_and_a_footer_in_both_themes(sample_ledger):
    """Each mode's screen opens at 80x24 without an error, with a header and a footer."""
    from tui.app import LedgerApp

    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await _loaded(pilot)
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            for mode in LedgerApp.MODES:
                await app.switch_mode(mode)
                await pilot.pause()
                screen = app.screen
                assert screen.query(Header), f"{mode} has no header"
                assert screen.query(Footer), f"{mode} has no footer"
                assert app.is_running
        assert not [n for n in app._notifications if n.severity == "error"]


def test_the_app_shows_the_ledgers_words_a_files_reason_or_only_an_unforeseen_errors_kind():
    from ledger.errors import NotFoundError
    from tui.services import error_text

    assert error_text(NotFoundError("entry 9 is not a disclosure")) == "entry 9 is not a disclosure"
    assert error_text(PermissionError(13, "Permission denied", "/srv/out/annual.pdf")) == \
        "/srv/out/annual.pdf: Permission denied"
    try:
        raise ValueError("S2022-0088 hanako@example.jp")
    except ValueError as exc:
        told = error_text(exc)
    assert told.startswith("unexpected internal error (ValueError in test_dashboard.py line") and "S2022" not in told
