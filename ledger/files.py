"""Files written beside the ledger (reports, backups, notes, evidence copies): whole and durable."""

from __future__ import annotations

import os
from pathlib import Path


def durable_replace(partial: Path, final: Path) -> None:
    """Put a fully written side file in place under `final`: its bytes reach the disk first, then
    the rename, then the folder's entry, so a crash leaves the old file or the new one, never an
    empty or half-written one."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(partial, final)
    folder = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
