"""Preparing many disclosures at once: checked, encoded and projected in worker processes on a
multi-core machine, so the one writer only chains, hashes and inserts."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from contextlib import contextmanager
from datetime import date
from typing import Iterator, Mapping

from .chain.encoding import canonical_json
from .domain import DisclosureInput
from .errors import ValidationError, ValidationErrors
from .refdata import ReferenceData
from .rules.disclosure import RecipientFacts, prepare_disclosure
from .storage.db import vault_row
from .storage.projection import recorded_disclosure_rows

PARALLEL_MIN_ROWS = 20_000
CHUNK_ROWS = 2_500
WORKER_NICENESS = 10

# Errors cross the process boundary as (field, rule, article) tuples.
ErrorTuple = tuple[str, str, str | None]

# Inherited by forked workers: (rows, ref, recipients, today, next_seq, recorded_at, recorded_by).
_JOB: tuple | None = None


def _prepare_range(bounds: tuple[int, int]) -> list[tuple[int, tuple | list[ErrorTuple]]]:
    rows, ref, recipients, today, next_seq, recorded_at, recorded_by = _JOB  # type: ignore[misc]
    out: list[tuple[int, tuple | list[ErrorTuple]]] = []
    for index in range(*bounds):
        try:
            inp = DisclosureInput.parse(rows[index])
            recipient = recipients.get(inp.recipient)
            if not isinstance(recipient, RecipientFacts):
                raise ValidationError("recipient", recipient or f"no party '{inp.recipient}'")
            # Every row before this one is written first, so the entry will take seq next_seq + index.
            seq = next_seq + index
            body, sealer = prepare_disclosure(inp, ref, recipient, today, seq)
            row, subjects = recorded_disclosure_rows(seq, body, recorded_at, recorded_by)
            vault = [vault_row(seq, value) for value in sealer.pending]
            # A plain tuple in PreparedDisclosure's field order: it crosses the process boundary faster.
            out.append((index, (seq, canonical_json(body), vault, row, subjects)))
        except ValidationErrors as exc:
            out.append((index, [(e.field, e.rule, e.article) for e in exc.errors]))
        except ValidationError as exc:
            out.append((index, [(exc.field, exc.rule, exc.article)]))
    return out


def _yield_to_the_writer() -> None:
    """Workers run at a lower priority: the one writer is the pipeline's serial stage, and on a
    machine with fewer cores than processes it must not wait for a core behind them."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # a sandbox may refuse it; a worker that raised here would be restarted forever
        pass


def _chunks(rows: int) -> list[tuple[int, int]]:
    """Row ranges [start, end) to prepare: small ones first, so the writer starts early, then
    CHUNK_ROWS at a time."""
    bounds, start, size = [], 0, max(CHUNK_ROWS // 8, 1)
    while start < rows:
        bounds.append((start, min(start + size, rows)))
        start, size = start + size, min(size * 2, CHUNK_ROWS)
    return bounds


def _workers(rows: int) -> int:
    cpus = os.cpu_count() or 1
    if rows < PARALLEL_MIN_ROWS or cpus < 2:
        return 0
    # Forking is only safe from a single-threaded process (no TUI worker threads).
    if threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 0
    return min(cpus, 4)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Bulk work allocates millions of acyclic objects: cyclic GC passes over them are pure cost."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def prepare_chunks(rows: list[Mapping], ref: ReferenceData, recipients: Mapping[str, RecipientFacts | str],
                   today: date, next_seq: int, recorded_at: str, recorded_by: str,
                   ) -> Iterator[tuple[list[tuple], list[tuple[int, ValidationError]]]]:
    """Check, encode and project the rows chunk by chunk, in order: (prepared rows as tuples in
    PreparedDisclosure's field order, problems by row number). Row i becomes entry next_seq + i,
    recorded at `recorded_at` by `recorded_by`.

    With several cores, worker processes prepare later chunks while the caller writes earlier ones."""
    global _JOB
    _JOB = (rows, ref, recipients, today, next_seq, recorded_at, recorded_by)
    chunks = _chunks(len(rows))
    workers = _workers(len(rows))
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_yield_to_the_writer) if workers else None
    try:
        results = pool.imap(_prepare_range, chunks, chunksize=1) if pool else map(_prepare_range, chunks)
        for chunk in results:
            prepared: list[tuple] = []
            problems: list[tuple[int, ValidationError]] = []
            for index, result in chunk:
                if isinstance(result, tuple):
                    prepared.append(result)
                else:
                    problems.extend((index + 1, ValidationError(*error)) for error in result)
            yield prepared, problems
    finally:
        _JOB = None
        if pool is not None:
            pool.terminate()
            pool.join()
