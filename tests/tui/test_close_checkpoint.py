"""The checkpoint the terminal app signs as it closes (data/settings.toml
`checkpoint_when_app_closes`), on the user's own ledger, only when it grew."""

from __future__ import annotations

from ledger.service import LedgerService
from tui.app import close_checkpoint
from tui.services import LedgerHandle


def test_closing_signs_a_checkpoint_only_when_the_ledger_grew(tmp_path):
    path = tmp_path / "ledger.db"
    handle = LedgerHandle(path, operator="tui-test")
    handle.create()
    assert close_checkpoint(handle) == []  # no key yet: checkpoints are opt-in
    with LedgerService.open(path) as service:
        service.create_signing_key()
        service.register_party({"name": "Kyoto Mail KK", "kind": "third_party", "country": "JP",
                                "address": "Kyoto", "representative": "R"})
    lines = close_checkpoint(handle)
    assert len(lines) == 1 and lines[0].startswith("Signed checkpoint #1 of 2 entries")
    with LedgerService.open(path) as service:
        [made] = service.checkpoints()
        assert (made.size, made.reason) == (2, "app-closed")
    assert close_checkpoint(handle) == []


def test_closing_with_a_locked_key_says_why_no_checkpoint_was_made(tmp_path):
    path = tmp_path / "ledger.db"
    handle = LedgerHandle(path, operator="tui-test")
    handle.create()
    with LedgerService.open(path, passphrase=lambda: None) as service:
        service.create_signing_key(b"correct horse battery")
    lines = close_checkpoint(handle)
    assert len(lines) == 1 and "no automatic checkpoint was made" in lines[0] and "passphrase" in lines[0]
