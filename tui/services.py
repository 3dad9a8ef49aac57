"""How the terminal app reaches the ledger: through the service API only, one connection per
worker thread (an SQLite connection cannot cross threads)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from ledger.errors import LedgerError, unexpected_error_text
from ledger.service import LedgerService


class LedgerHandle:
    """Where the ledger is and who records; opens a service for one unit of work."""

    def __init__(self, path: Path | str, *, operator: str | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.path = Path(path)
        self.operator = operator
        self.clock = clock

    @contextmanager
    def open(self) -> Iterator[LedgerService]:
        service = LedgerService.open(self.path, operator=self.operator, clock=self.clock)
        try:
            yield service
        finally:
            service.close()

    def create(self) -> None:
        """Create the ledger file on first use."""
        service = LedgerService.open(self.path, create=True, operator=self.operator, clock=self.clock)
        service.close()


def error_text(error: BaseException) -> str:
    """What the app shows of an error: the ledger's own words, a file's name and what the system
    said of it, or, for an error the ledger did not foresee, only its kind and place (its message
    may quote personal data)."""
    if isinstance(error, LedgerError):
        return str(error)
    if isinstance(error, OSError) and error.strerror:
        return f"{error.filename}: {error.strerror}" if error.filename else error.strerror
    return unexpected_error_text(error)
