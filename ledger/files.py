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
    sync_folder(final.parent)


def sync_folder(folder: Path) -> None:
    """Make the names created, renamed or removed in `folder` durable."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
