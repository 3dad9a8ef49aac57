"""Sealing personal values: the leaf gets a salted commitment, the vault keeps salt and value."""

from __future__ import annotations

from .chain.encoding import commitment, new_salt
from .storage.db import PendingVaultValue


class Sealer:
    """Collects the vault rows that one entry's body commits to."""

    def __init__(self) -> None:
        self.pending: list[PendingVaultValue] = []

    def seal(self, field: str, value: str) -> dict:
        salt = new_salt()
        digest = commitment(salt, value)
        self.pending.append(PendingVaultValue(digest, field, salt, value))
        return {"commitment": digest}

    def seal_optional(self, field: str, value: str | None) -> dict | None:
        return None if value is None else self.seal(field, value)


def commitments_in(value: object) -> list[str]:
    """Every commitment a decoded leaf body holds, in document order."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            digest = item.get("commitment")
            if isinstance(digest, str) and len(item) == 1:
                found.append(digest)
            else:
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found
