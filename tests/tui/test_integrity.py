"""The integrity screen: the full verification in a worker, told in plain words."""

from __future__ import annotations

import sqlite3

from textual.widgets import Footer, Header, ProgressBar

from tui.screens.integrity import IntegrityScreen

from tui_support import read_service, screen_text, start_app, wait_until

TAMPERED_SEQ = 5


def tamper(path, seq: int = TAMPERED_SEQ) -> None:
    """What an attacker with the file could do: drop the append-only trigger, change a hash."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER entry_append_only_update")
        conn.execute("UPDATE entry SET leaf_hash = ? WHERE seq = ?", (bytes(32), seq))
        conn.commit()
    finally:
        conn.close()


async def _verify(pilot) -> IntegrityScreen:
    await pilot.press("i")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, IntegrityScreen), message="the integrity screen")
    screen = pilot.app.screen
    assert screen.query(Header) and screen.query(Footer)
    await pilot.press("v")
    await wait_until(pilot, lambda: screen.outcome is not None, timeout=20, message="the verification")
    await pilot.pause()
    return screen


async def test_the_sample_ledger_is_intact(sample_ledger):
    with read_service(sample_ledger) as service:
        size = service.counts()["entries"]
    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _verify(pilot)
        text = screen_text(app)
        assert "✔ Intact" in text
        assert f"Every one of the {size:,} entries is exactly as it was written" in text
        assert screen.outcome.ok and screen.outcome.size == size
        assert screen.outcome.root[:16] in text
        assert "Checked 2026-06-15 12:00 JST" in text
        assert not screen.query_one(ProgressBar).display  # hidden again when done
    with read_service(sample_ledger) as service:
        last = service.last_verification()
        assert last.ok and last.size == size and last.root == screen.outcome.root


async def test_a_tampered_ledger_is_not_intact_and_names_the_entry(sample_ledger):
    tamper(sample_ledger)
    app = start_app(sample_ledger)
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await _verify(pilot)
        text = screen_text(app)
        assert "✘ NOT intact" in text
        assert f"the first bad entry is #{TAMPERED_SEQ}" in text
        assert screen.outcome.first_bad_seq == TAMPERED_SEQ
        assert f"Entry {TAMPERED_SEQ}:" in text
        problems = dict(screen.outcome.problems)
        assert TAMPERED_SEQ in problems and problems[TAMPERED_SEQ] in " ".join(text.split())
        await pilot.press("d")  # the dashboard tells it too
        await wait_until(pilot, lambda: getattr(app.screen, "view", None) is not None
                         and app.screen.view.verified_ok is False, message="the dashboard")
        await pilot.pause()
        assert "✘ NOT intact" in screen_text(app)
        assert f"first bad entry: #{TAMPERED_SEQ}" in screen_text(app)


async def test_the_progress_bar_moves_and_the_screen_stays_responsive(sample_ledger, monkeypatch):
    """A slow verification: the bar shows progress, the app keeps answering keys, escape stops it."""
    import threading

    import ledger.verify
    from ledger.service import LedgerService

    monkeypatch.setattr(ledger.verify, "PROGRESS_EVERY", 50)
    release = threading.Event()
    real_verify = LedgerService.verify

    def slow_verify(self, progress=None):
        def paced(done, total):
            progress(done, total)
            release.wait(5)
        return real_verify(self, progress=paced)

    monkeypatch.setattr(LedgerService, "verify", slow_verify)
    app = start_app(sample_ledger)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, IntegrityScreen), message="integrity")
        screen = app.screen
        await pilot.press("v")
        bar = screen.query_one(ProgressBar)
        await wait_until(pilot, lambda: bar.display and (bar.progress or 0) > 0, message="progress")
        assert screen.running and "Checked" in screen_text(app)
        await pilot.press("escape")
        release.set()
        await wait_until(pilot, lambda: not screen.running, message="the stop")
        assert screen.outcome is None
        assert "Stopped" in screen_text(app)


async def test_the_checkpoint_panel_says_how_to_make_a_key_when_there_is_none(sample_ledger):
    app = start_app(sample_ledger)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("i")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "signing", None) is not None,
                         message="the signing state")
        screen = pilot.app.screen
        assert screen.signing.verifier_key is None and not screen.signing.can_sign
        assert "No signing key yet" in screen_text(app) and "key init" in screen_text(app)
        assert not screen.check_action("checkpoint", ())  # nothing to sign with


async def test_k_signs_a_checkpoint_and_the_panel_shows_it(sample_ledger):
    with read_service(sample_ledger) as service:
        key = service.create_signing_key()
        size = service.counts()["entries"]
    app = start_app(sample_ledger)
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("i")
        await wait_until(pilot, lambda: getattr(pilot.app.screen, "signing", None) is not None,
                         message="the signing state")
        screen = pilot.app.screen
        assert key.verifier_key in screen_text(app) and "No checkpoint yet" in screen_text(app)
        await pilot.press("k")
        await wait_until(pilot, lambda: screen.signing.latest is not None, message="the checkpoint")
        await pilot.pause()
        assert f"Latest checkpoint #1: {size:,} entries" in screen_text(app) and "up to date" in screen_text(app)
    with read_service(sample_ledger) as service:
        [made] = service.checkpoints()
        assert made.size == size and made.reason == "manual"
        assert service.verify().ok
