"""Where the default ledger lives."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

DB_ENV = "DISCLOSURE_LEDGER_DB"


def default_ledger_path() -> Path:
    """$DISCLOSURE_LEDGER_DB, else ledger.db in the user's data directory."""
    configured = os.environ.get(DB_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path(user_data_dir("disclosure-ledger", appauthor=False)) / "ledger.db"
