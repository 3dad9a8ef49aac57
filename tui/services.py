"""How the terminal app reaches the ledger: through the service API only, one connection per
worker thread (an SQLite connection cannot cross threads)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

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
