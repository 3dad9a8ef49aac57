"""Errors the core raises. The CLI and TUI show their message; none is a traceback."""

from __future__ import annotations


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
