"""Backups and restores of a ledger file.

A backup is SQLite's online backup of the whole file (a consistent snapshot while others append),
written beside its destination, verified, then renamed into place, readable by the owner only.
A restore never deletes anything: the file it replaces is kept beside it. It refuses a backup
that is older than (or differs from) the latest checkpoint that left the ledger, since a
regulator or auditor may hold that checkpoint, unless forced with a reason, which is logged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from . import validate as v
from .files import durable_replace
from .errors import IntegrityError, LedgerError, LedgerFileError
from .service import LedgerService
from .storage.db import copy_database


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    root: str


@dataclass(frozen=True, slots=True)
class RestoreResult:
    path: Path
    size: int
    root: str
    replaced_kept_at: Path | None
    forced_past: str | None  # what the restore was forced past, if it was


class RestoreRefused(LedgerError):
    """The backup would take the ledger behind what has been shown to others."""


def _new_private_file(path: Path) -> None:
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise LedgerFileError(f"{path}: already exists; a backup never overwrites a file, choose a new name") from None
    except OSError as exc:
        raise LedgerFileError(f"{path}: cannot be written ({exc.strerror})") from None


def _discard(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def backup(service: LedgerService, out: Path | str) -> BackupResult:
    """Copy the ledger to the new file `out` and verify the copy; raises IntegrityError (the copy
    is kept, as evidence) when the copy does not verify."""
    out = Path(out)
    if out.exists():
        raise LedgerFileError(f"{out}: already exists; a backup never overwrites a file, choose a new name")
    if not out.parent.is_dir():
        raise LedgerFileError(f"{out}: the folder {out.parent} does not exist")
    temporary = out.with_name(f".{out.name}.part")
    _discard(temporary)
    _new_private_file(temporary)
    try:
        service.store.backup_to(temporary)
        with LedgerService.open(temporary, operator=service.operator, clock=service.clock, ref=service.ref) as copy:
            copy.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            copy.store.conn.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            report = copy.verify()
    except BaseException:
        _discard(temporary)
        raise
    durable_replace(temporary, out)
    if not report.ok:
        raise IntegrityError(f"{out}: the backup was written but does not verify: "
                             f"{report.problems[0].what} (the first bad entry is {report.first_bad_seq})")
    return BackupResult(out, report.size, report.root)


def _replaced_state(target: Path, operator: str, ref) -> tuple[LedgerService | None, str | None]:
    """The ledger being replaced, if it can still be opened (else why not)."""
    if not target.exists() or target.stat().st_size == 0:
        return None, None
    try:
        return LedgerService.open(target, operator=operator, ref=ref), None
    except LedgerError as exc:
        return None, str(exc)


def restore(target: Path | str, source: Path | str, *, operator: str | None = None, clock=None,
            force: bool = False, reason: str | None = None) -> RestoreResult:
    """Put the backup `source` in place of the ledger `target`, keeping the replaced file beside it."""
    target, source = Path(target), Path(source)
    if force:
        reason = v.text("reason", reason)  # forcing is a decision someone answers for
    elif reason is not None:
        raise LedgerFileError("--reason: goes with --force (a restore that needs no forcing needs no reason)")
    if not source.is_file():
        raise LedgerFileError(f"{source}: no such backup file")
    if source.resolve() == target.resolve():
        raise LedgerFileError(f"{source}: is the ledger itself; give a backup file")
    temporary = target.with_name(f".{target.name}.restoring")
    _discard(temporary)
    _new_private_file(temporary)
    try:
        copy_database(source, temporary)
        copy = LedgerService.open(temporary, operator=operator, clock=clock)
    except BaseException:
        _discard(temporary)
        raise
    try:
        report = copy.verify()
        size, root = report.size, report.root
        current, unreadable = _replaced_state(target, copy.operator, copy.ref)
        carried_keys = []  # the replaced ledger's signing keys, if it is the same ledger
        refusals = []
        if not report.ok:
            refusals.append(f"the backup does not verify: {report.problems[0].what}")
        replaced = None
        if current is not None:
            with current:
                replaced_size, replaced_root = current.store.size(), current.root_at(current.store.size())
                exported = current.latest_exported_checkpoint()
                same_ledger = current.ledger_id() == copy.ledger_id()
                carried_keys = current.signing_keys() if same_ledger else []
            replaced = (replaced_size, replaced_root)
            if not same_ledger:
                refusals.append("the backup is of another ledger (its ledger id differs)")
            elif exported is not None and (size < exported.size or copy.root_at(exported.size) != exported.root):
                refusals.append(
                    f"checkpoint #{exported.id} of {exported.size:,} entries has left the ledger (exported, "
                    f"handed to an auditor or in a report), and the backup "
                    + (f"has only {size:,} entries" if size < exported.size else "differs from it"))
            elif size < replaced_size:
                refusals.append(f"the ledger has {replaced_size - size:,} entries more than the backup")
        elif unreadable is not None:
            refusals.append(f"the ledger in place cannot be read, so what it showed others is unknown ({unreadable})")
        if refusals and not force:
            raise RestoreRefused(
                f"{source}: not restored: {'; '.join(refusals)}. Nothing was changed. If this is what you "
                "mean to do, run it again with --force --reason TEXT (the reason is logged in the ledger)")
        kept_at = None
        if target.exists():
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            kept_at = target.with_name(f"{target.name}.replaced-{stamp}")
        known = {key.key_id for key in copy.signing_keys()}
        with copy.store.transaction() as tx:
            for key in carried_keys:
                if key.key_id not in known:  # the same ledger's keys: its checkpoints stay checkable
                    tx.add_signing_key(key.key_id, key.verifier_key, key.created_at, key.created_by)
            tx.log_restore(copy._stamp(), copy.operator, str(source.resolve()), size, root,
                           None if replaced is None else (*replaced, str(kept_at)),
                           reason if refusals else None, "; ".join(refusals) or None)
        copy.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except BaseException:
        copy.close()
        _discard(temporary)
        raise
    copy.close()
    if kept_at is not None:
        for suffix in ("-wal", "-shm"):
            if Path(f"{target}{suffix}").exists():
                os.replace(f"{target}{suffix}", f"{kept_at}{suffix}")
        os.replace(target, kept_at)
    durable_replace(temporary, target)
    return RestoreResult(target, size, root, kept_at, "; ".join(refusals) or None)
