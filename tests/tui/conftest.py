"""Fixtures for the terminal app's tests; helpers are in tui_support.py.

- `sample_ledger`: a copy of the sample ledger (ledger/demo.py) built once per session with a
  fixed clock and deterministic salts and ledger id, so its hashes and root are the same on every
  run (the snapshot tests depend on it). Verified once, so the dashboard shows a last check.
- `empty_ledger`: a new ledger holding only its first entry (no parties).
- `app_factory`: `app_factory(path)` -> the app on that ledger, fixed clock, test operator:
  `async with app_factory(sample_ledger).run_test(size=(80, 24)) as pilot: ...`

Never use freezegun's plain `freeze_time` here: it freezes `time.monotonic` and Pilot hangs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_support import FIXED_CLOCK, build_empty, build_sample, copy_ledger, start_app


@pytest.fixture(scope="session")
def _sample_master(tmp_path_factory) -> Path:
    return build_sample(tmp_path_factory.mktemp("tui-sample") / "sample.db")


@pytest.fixture
def sample_ledger(_sample_master, tmp_path) -> Path:
    """A fresh copy of the deterministic sample ledger: a test may change it."""
    return copy_ledger(_sample_master, tmp_path / "ledger.db")


@pytest.fixture
def empty_ledger(tmp_path) -> Path:
    """A new ledger holding only its first entry (no parties, no disclosures)."""
    return build_empty(tmp_path / "ledger.db")


@pytest.fixture
def fixed_clock():
    return FIXED_CLOCK


@pytest.fixture
def app_factory():
    """`app_factory(path)` -> the app on that ledger (fixed clock, test operator)."""
    return start_app
