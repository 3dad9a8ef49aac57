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


def fields_in(body: object) -> dict[str, str | None]:
    """commitment -> the vault field it was sealed as, from where a decoded body holds it (a
    correction's `changes` hold body fields as a disclosure does); None where no value is sealed.
    The names are those the sealing in rules/disclosure.py and the service's reasons give."""
    found: dict[str, str | None] = {}
    stack: list[tuple[object, tuple[str, ...]]] = [(body, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            digest = item.get("commitment")
            if isinstance(digest, str) and len(item) == 1:
                found[digest] = _field_at(path[1:] if path[:1] == ("changes",) else path)
            else:
                stack.extend((value, (*path, str(key))) for key, value in item.items())
        elif isinstance(item, list):
            stack.extend((value, path) for value in item)
    return found


def _field_at(path: tuple[str, ...]) -> str | None:
    match path:
        case ("subjects", "identified"):
            return "subject"
        case ("subjects", "group", "description"):
            return "group_description"
        case ("evidence", code):
            return f"evidence.{code}"
        case ("cross_border", "evidence", code):
            return f"route_evidence.{code}"
        case ("notes",) | ("reason",):
            return path[0]
    return None
