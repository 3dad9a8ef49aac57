"""Helpers for the terminal app's tests (imported by conftest.py and the test modules:
`from tui_support import start_app, wait_until, screen_text, ...`).

Never use freezegun's plain `freeze_time` in TUI tests: it freezes `time.monotonic` and Pilot
hangs. The app takes a clock instead (`FIXED_CLOCK`).
"""

from __future__ import annotations

import hashlib
import itertools
import shutil
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pytest

FIXED_NOW = datetime(2026, 6, 15, 3, 0, tzinfo=timezone.utc)  # 12:00 in Tokyo
OPERATOR = "Test Operator"
SAMPLE_LEDGER_ID = "5a4d" * 8


def FIXED_CLOCK() -> datetime:
    """The clock every TUI test runs on: 2026-06-15 03:00 UTC."""
    return FIXED_NOW


@contextmanager
def deterministic_ids(seed: str = "tui-tests") -> Iterator[None]:
    """Salts and ledger ids from a counter, so the same appends give the same hashes."""
    import ledger.service
    import ledger.vault

    counter = itertools.count()

    def new_salt() -> bytes:
        return hashlib.sha256(f"{seed}:{next(counter)}".encode()).digest()[:16]

    def token_hex(nbytes: int | None = 32) -> str:
        return (SAMPLE_LEDGER_ID * 4)[: 2 * (nbytes or 32)]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ledger.vault, "new_salt", new_salt)
        mp.setattr(ledger.service.secrets, "token_hex", token_hex)
        yield


def build_sample(path: Path, *, verify: bool = True) -> Path:
    """Write the sample ledger into a new file at `path`, deterministically (and verify it once,
    so the dashboard has a last verification to show)."""
    from ledger.demo import build_demo
    from ledger.service import LedgerService

    with deterministic_ids():
        service = LedgerService.open(path, create=True, operator=OPERATOR, clock=FIXED_CLOCK)
        try:
            build_demo(service)
            if verify:
                service.verify()
        finally:
            service.close()
    return path


def build_empty(path: Path) -> Path:
    """A new ledger holding only its first entry."""
    from ledger.service import LedgerService

    with deterministic_ids("empty"):
        LedgerService.open(path, create=True, operator=OPERATOR, clock=FIXED_CLOCK).close()
    return path


def copy_ledger(source: Path, target: Path) -> Path:
    """Copy a closed ledger file (and a WAL sidecar, should one be left)."""
    shutil.copyfile(source, target)
    for suffix in ("-wal", "-shm"):
        side = source.with_name(source.name + suffix)
        if side.exists():
            shutil.copyfile(side, target.with_name(target.name + suffix))
    return target


def start_app(path: Path | str, **kwargs):
    """The app on an existing ledger, with the fixed clock and the test operator.
    Use: `async with start_app(path).run_test(size=(80, 24)) as pilot:`."""
    from tui.app import make_app

    kwargs.setdefault("clock", FIXED_CLOCK)
    kwargs.setdefault("operator", OPERATOR)
    return make_app(path, create=False, **kwargs)


def read_service(path: Path | str):
    """A service on `path` with the fixed clock, for a test to read what a screen should show.
    Use it as a context manager."""
    from ledger.service import LedgerService

    return LedgerService.open(path, operator=OPERATOR, clock=FIXED_CLOCK)


async def wait_until(pilot, condition: Callable[[], object], timeout: float = 10.0,
                     message: str = "condition") -> None:
    """Let the app run until `condition()` is true (workers are threads: poll, never sleep blindly)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await pilot.pause(0.05)


async def wait_for_text(pilot, text: str, timeout: float = 10.0) -> str:
    """Wait until `text` shows on the screen; returns the screen's text."""
    await wait_until(pilot, lambda: text in screen_text(pilot.app), timeout, repr(text))
    return screen_text(pilot.app)


def screen_text(app) -> str:
    """What the terminal shows of the current screen (and the screens under a modal), as lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text.rstrip() for strip in strips)


__all__ = ["FIXED_NOW", "FIXED_CLOCK", "OPERATOR", "deterministic_ids", "build_sample", "build_empty",
           "copy_ledger", "start_app", "read_service", "wait_until", "wait_for_text", "screen_text"]
