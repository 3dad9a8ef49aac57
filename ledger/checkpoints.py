"""Checking signed checkpoints against the ledger: the copies it keeps, and one held outside it.

A hash chain cannot tell that its tail was cut off, that an old backup was put back, or that
someone rewrote every entry and recomputed every hash. A checkpoint signed earlier can: the
ledger must still be at least that long, and its root at that size must be the signed root.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable

from .chain import merkle
from .chain.note import Checkpoint, NoteError, VerifierKey, parse_checkpoint, parse_verifier_key, verify_note
from .domain import CheckpointView, SigningKeyView

ORIGIN_PREFIX = "disclosure-ledger/"

RootAt = Callable[[int], bytes]
ConsistencyPath = Callable[[int, int], list[bytes]]


def origin_of(ledger_id: str) -> str:
    return ORIGIN_PREFIX + ledger_id


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found with a checkpoint: the first entry it concerns (if one can be named),
    what it means in words, and the signed notes that prove it."""
    seq: int | None
    what: str
    evidence: tuple[str, ...] = ()
    exact: bool = True  # False: `seq` is only the first entry of the range where the change must be


def open_note(note: str, keys: Iterable[VerifierKey], origin: str) -> Checkpoint:
    """The checkpoint inside a note signed by one of `keys` for this ledger; NoteError says why not."""
    checkpoint = parse_checkpoint(verify_note(note, list(keys)))
    if checkpoint.origin != origin:
        raise NoteError(f"it is a checkpoint of another ledger ({checkpoint.origin[:80]}), not of {origin}")
    return checkpoint


def compare_with_ledger(checkpoint: Checkpoint, label: str, size: int, root_at: RootAt,
                        matched_below: int = 0) -> Finding | None:
    """None when the ledger's first `checkpoint.size` entries have the signed root."""
    if checkpoint.size > size:
        return Finding(size + 1, (
            f"{label} was signed when the ledger had {checkpoint.size:,} entries, but it now has only "
            f"{size:,}: entries {size + 1:,} to {checkpoint.size:,} were removed (the ledger was cut short "
            "or an older backup was put back)"))
    try:
        root = root_at(checkpoint.size)
    except (ValueError, LookupError):
        return Finding(None, f"{label} cannot be compared: the ledger's first {checkpoint.size:,} entries are not all "
                             "there or not readable (see the problems with the entries)", exact=False)
    if root != checkpoint.root:
        return Finding(matched_below + 1, (
            f"{label} does not match the ledger's first {checkpoint.size:,} entries: something in entries "
            f"{matched_below + 1:,} to {checkpoint.size:,} was changed, removed or reordered since it "
            "was signed, even though the hashes were made to agree (the ledger was rewritten)"), exact=False)
    return None


def stored_keys(views: list[SigningKeyView]) -> tuple[list[VerifierKey], list[Finding]]:
    """The verifier keys the ledger keeps; one that no longer reads as a key is a finding."""
    keys: list[VerifierKey] = []
    findings: list[Finding] = []
    for view in views:
        try:
            if not isinstance(view.verifier_key, str):
                raise NoteError("it is not text")
            keys.append(parse_verifier_key(view.verifier_key))
        except NoteError as exc:
            findings.append(Finding(None, f"the signing key {view.key_id} kept in the ledger is not a verifier key "
                                          f"({exc}): it was changed outside the ledger, and what it signed cannot "
                                          "be checked with it"))
    return keys, findings


def _kept_whole(view: CheckpointView) -> bool:
    """The row is of the kinds the ledger writes (a changed row is told, never stops verify)."""
    return (isinstance(view.size, int) and not isinstance(view.size, bool) and view.size >= 0
            and isinstance(view.root, str) and isinstance(view.note, str))


def check_stored(checkpoints: list[CheckpointView], keys: list[VerifierKey], origin: str, size: int,
                 root_at: RootAt, consistency_path: ConsistencyPath) -> list[Finding]:
    """Every stored checkpoint: its signature, that it still matches the ledger, that consecutive
    ones are consistent (RFC 9162 section 2.1.4), and no two sign different roots at one size."""
    findings: list[Finding] = []
    valid: list[tuple[CheckpointView, Checkpoint]] = []
    for view in checkpoints:
        if not _kept_whole(view):
            findings.append(Finding(None, f"checkpoint #{view.id} is not kept as the ledger keeps one: its size, "
                                          "root or note was changed outside the ledger"))
            continue
        label = f"checkpoint #{view.id} ({view.made_at}, {view.size:,} entries)"
        try:
            checkpoint = open_note(view.note, keys, origin)
        except NoteError as exc:
            findings.append(Finding(None, f"{label} is not a valid signed checkpoint: {exc}", (view.note,)))
            continue
        if checkpoint.size != view.size or checkpoint.root.hex() != view.root:
            findings.append(Finding(None, f"{label}: the size or root kept beside it differs from the signed note",
                                    (view.note,)))
            continue
        valid.append((view, checkpoint))

    by_size: dict[int, dict[bytes, CheckpointView]] = defaultdict(dict)
    for view, checkpoint in valid:
        by_size[checkpoint.size].setdefault(checkpoint.root, view)
    for tree_size, roots in sorted(by_size.items()):
        if len(roots) > 1:
            first, second = list(roots.values())[:2]
            findings.append(Finding(None, (
                f"fork: checkpoints #{first.id} and #{second.id} are both validly signed for "
                f"{tree_size:,} entries but with different roots, so two different ledgers were signed; "
                "both notes are the evidence"), (first.note, second.note)))

    matched_below = 0
    previous: Checkpoint | None = None
    for tree_size in sorted(by_size):
        if len(by_size[tree_size]) > 1:
            continue
        view = next(iter(by_size[tree_size].values()))
        checkpoint = Checkpoint(origin, tree_size, bytes.fromhex(view.root))
        label = f"checkpoint #{view.id} ({view.made_at})"
        finding = compare_with_ledger(checkpoint, label, size, root_at, matched_below)
        if finding is not None:
            findings.append(Finding(finding.seq, finding.what, (view.note,), finding.exact))
            continue
        if previous is not None and previous.size > 0:
            try:
                merkle.verify_consistency(previous.size, tree_size, previous.root, checkpoint.root,
                                          consistency_path(previous.size, tree_size))
            except (merkle.ProofError, ValueError, LookupError) as exc:
                findings.append(Finding(previous.size + 1, (
                    f"{label} is not consistent with the checkpoint at {previous.size:,} entries: {exc}"),
                    (view.note,)))
                continue
        matched_below = tree_size
        previous = checkpoint
    return findings


def check_outside(note: str, source: str, keys: list[VerifierKey], origin: str, size: int,
                  root_at: RootAt) -> tuple[Checkpoint | None, list[Finding]]:
    """A checkpoint held outside the ledger (an auditor's copy, an exported file)."""
    label = f"the checkpoint in {source}"
    try:
        checkpoint = open_note(note, keys, origin)
    except NoteError as exc:
        hint = (" (give the auditor's copy of the verifier key with --key)"
                if "no signature on the note is by a known verifier key" in str(exc) else "")
        return None, [Finding(None, f"{label} cannot be trusted: {exc}{hint}")]
    finding = compare_with_ledger(checkpoint, label, size, root_at)
    return checkpoint, ([] if finding is None else [Finding(finding.seq, finding.what, (note,), finding.exact)])
