"""Preparing many disclosures at once: checked and encoded in worker processes on a
multi-core machine, so the one writer only hashes and inserts."""

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
from .storage.db import PendingVaultValue

PARALLEL_MIN_ROWS = 20_000
CHUNK_ROWS = 2_500

Prepared = tuple[bytes, list[PendingVaultValue]]
# Errors cross the process boundary as (field, rule, article) tuples.
ErrorTuple = tuple[str, str, str | None]

_JOB: tuple | None = None  # inherited by forked workers: (rows, ref, recipients, today, next_seq)


def _prepare_range(bounds: tuple[int, int]) -> list[tuple[int, Prepared | list[ErrorTuple]]]:
    rows, ref, recipients, today, next_seq = _JOB  # type: ignore[misc]
    out: list[tuple[int, Prepared | list[ErrorTuple]]] = []
    for index in range(*bounds):
        try:
            inp = DisclosureInput.parse(rows[index])
            recipient = recipients.get(inp.recipient)
            if not isinstance(recipient, RecipientFacts):
                raise ValidationError("recipient", recipient or f"no party '{inp.recipient}'")
            body, sealer = prepare_disclosure(inp, ref, recipient, today, next_seq + index)
            out.append((index, (canonical_json(body), sealer.pending)))
        except ValidationErrors as exc:
            out.append((index, [(e.field, e.rule, e.article) for e in exc.errors]))
        except ValidationError as exc:
            out.append((index, [(exc.field, exc.rule, exc.article)]))
    return out


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
                   today: date, next_seq: int) -> Iterator[tuple[list[Prepared], list[tuple[int, ValidationError]]]]:
    """Check and encode the rows chunk by chunk, in order: (prepared rows, problems by row number).

    With several cores, worker processes prepare later chunks while the caller writes earlier ones."""
    global _JOB
    _JOB = (rows, ref, recipients, today, next_seq)
    chunks = [(start, min(start + CHUNK_ROWS, len(rows))) for start in range(0, len(rows), CHUNK_ROWS)]
    workers = _workers(len(rows))
    pool = multiprocessing.get_context("fork").Pool(workers) if workers else None
    try:
        results = pool.imap(_prepare_range, chunks, chunksize=1) if pool else map(_prepare_range, chunks)
        for chunk in results:
            prepared: list[Prepared] = []
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
