"""Errors the core raises. The CLI and TUI show their message; none is a traceback."""

from __future__ import annotations

import traceback
from pathlib import Path


class LedgerError(Exception):
    """Base of every error the ledger reports to a person."""

    exit_code = 2


class ValidationError(LedgerError):
    """Input that breaks a rule: names the field, the rule and, where there is one, the article."""

    def __init__(self, field: str, rule: str, article: str | None = None):
        self.field = field
        self.rule = rule
        self.article = article
        where = f" ({article})" if article else ""
        super().__init__(f"{field}: {rule}{where}")


class ValidationErrors(LedgerError):
    """Several validation errors found at once (import files, forms)."""

    def __init__(self, errors: list[ValidationError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


class ReferenceDataError(LedgerError):
    """A file in data/ is malformed: names the file, the entry and the problem."""


class LedgerFileError(LedgerError):
    """The ledger file cannot be opened or written as asked."""


class NotFoundError(LedgerError):
    """A party, entry or subject that the ledger does not hold."""


class IntegrityError(LedgerError):
    """The ledger's own records do not check out."""

    exit_code = 1


def unexpected_error_text(exc: BaseException) -> str:
    """What to tell a person about an error the ledger did not foresee: only its kind and where
    (its message may quote personal data or key material), and what to do. Such errors come from
    a defect, or from query tables changed outside the ledger, which verify tells apart."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" in {Path(frames[-1].filename).name} line {frames[-1].lineno}" if frames else ""
    return (f"unexpected internal error ({type(exc).__name__}{where}); nothing was recorded. "
            "If `disclosure-ledger verify` finds the ledger not intact, its query tables were changed "
            "outside the ledger and `disclosure-ledger rebuild` restores them; if it is intact, "
            "please report this with what you did.")
