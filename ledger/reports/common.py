"""Pieces every report shares: when and from what it was made, the integrity section, bounded
listings, and the name of a party."""

from __future__ import annotations

from datetime import datetime

from ..domain import CheckpointView, DisclosureSummary
from ..service import LedgerService
from .document import Section, Table
from .integrity import Integrity
from .labels import labels_for

MAX_LISTED = 200     # rows of a listing in Markdown, HTML and PDF; every row is in the CSV


def local_when(service: LedgerService, moment: datetime | str) -> str:
    """A moment as the manager reads it: '2026-06-15 12:00 JST'."""
    if isinstance(moment, str):
        local = service.local_time(moment)
    else:
        local = moment.astimezone(service.zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


def days(summary: DisclosureSummary) -> str:
    return f"{summary.first_day}..{summary.last_day}" if summary.bulk else summary.first_day


def checkpoint_phrase(checkpoint: CheckpointView | None, lang: str = "en") -> str:
    labels = labels_for(lang)
    if checkpoint is None:
        return labels["no_checkpoint_line"]
    return labels["checkpoint_line"].format(size=f"{checkpoint.size:,}", root=checkpoint.root[:16] + "…")


def generated_line(service: LedgerService, size: int, checkpoint: CheckpointView | None, lang: str = "en") -> str:
    return labels_for(lang)["generated_line"].format(
        when=local_when(service, service.now()), ledger=service.ledger_id()[:12], size=f"{size:,}",
        checkpoint=checkpoint_phrase(checkpoint, lang))


def bounded(headers: tuple[str, ...], rows: list[tuple[str, ...]], *, empty: str = "None.",
            limit: int = MAX_LISTED, where_all: str = "the CSV", total: int | None = None) -> Table:
    """A listing cut at `limit` rows, saying where the rest is. `total`: how many rows the whole
    listing has when only its first rows were read."""
    total = len(rows) if total is None else total
    rows = rows[:limit]
    note = None
    if total > len(rows):
        note = f"The first {len(rows):,} of {total:,} rows; all of them are in {where_all}."
    return Table(headers, tuple(rows), empty=empty, note=note)


def integrity_section(service: LedgerService, found: Integrity, period_label: str | None = None) -> Section:
    """The verification result and the signed checkpoints, in words, with the notes verbatim."""
    paragraphs: list[str] = []
    v = found.verification
    if v is None:
        paragraphs.append("The ledger has never been verified, and this report did not verify it.")
    elif v.ok:
        paragraphs.append(f"Verified {local_when(service, v.checked_at)}"
                          + ("" if v.fresh else " (the last logged verification; not re-run for this report)")
                          + f": intact. All {v.size:,} entries are exactly as written; the query tables and "
                          "the vault agree with them.")
    else:
        paragraphs.append(f"Verified {local_when(service, v.checked_at)}: NOT intact. "
                          f"{len(v.problems) or 'Some'} problem(s); the first bad entry is {v.first_bad_seq}. "
                          "Do not rely on this report until this is understood.")
    facts = [("Entries now", f"{found.size:,}"), ("Root now (RFC 9162)", found.root)]
    if found.size_at_period_end is not None:
        facts.append((f"Entries at the end of {period_label or 'the period'}", f"{found.size_at_period_end:,}"))
    blocks: list[str] = []
    for label, checkpoint in (("end of the period", found.checkpoint_at_period_end),
                              ("report time", found.checkpoint_now)):
        if label == "end of the period" and found.size_at_period_end is None:
            continue
        if checkpoint is None:
            paragraphs.append(f"Signed checkpoint at the {label}: none. "
                              + ("No signing key has been made for this ledger (disclosure-ledger key init), "
                                 "so nothing outside the ledger can show it was not shortened or rolled back."
                                 if not found.verifier_keys else
                                 "No checkpoint was signed by then."))
            continue
        paragraphs.append(f"Signed checkpoint at the {label}: size {checkpoint.size:,}, root {checkpoint.root}, "
                          f"signed {local_when(service, checkpoint.made_at)} with key {checkpoint.key_id}.")
        blocks.append(checkpoint.note.rstrip("\n"))
    if found.verifier_keys:
        facts.append(("Verifier key (current)", found.verifier_keys[-1]))
    return Section("Integrity", tuple(paragraphs), tuple(facts),
                   preformatted="\n\n".join(blocks) or None)
