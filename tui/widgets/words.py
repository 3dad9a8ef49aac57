"""Plain words for what the ledger holds: counts, entry kinds, times."""

from __future__ import annotations

from datetime import datetime

KIND_WORDS = {
    "ledger.created": "ledger created",
    "party.registered": "party registered",
    "party.changed": "party changed",
    "disclosure.recorded": "disclosure recorded",
    "disclosure.corrected": "disclosure corrected",
    "disclosure.voided": "disclosure voided",
    "subject.erased": "data subject erased",
    "contractor.recorded": "contractor register updated",
    "assessment.recorded": "assessment recorded",
}


def plural(count: int, word: str, many: str | None = None) -> str:
    """`1 entry`, `1,234 entries`."""
    return f"{count:,} {word if count == 1 else (many or word + 's')}"


def entry_kind_words(kind: str) -> str:
    """An entry kind in words: 'disclosure.voided' -> 'disclosure voided'."""
    return KIND_WORDS.get(kind, kind.replace(".", " ").replace("_", " "))


def when_local(moment: datetime) -> str:
    """A local time as the manager reads it: '2026-06-15 12:00 JST'."""
    zone = moment.tzname() or ""
    return f"{moment:%Y-%m-%d %H:%M} {zone}".rstrip()


def short_hash(hex_digest: str, length: int = 16) -> str:
    return hex_digest if len(hex_digest) <= length else hex_digest[:length] + "…"
