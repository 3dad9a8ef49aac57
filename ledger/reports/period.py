"""The period a report covers: a calendar year, a fiscal year, or two dates (both days included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from .. import validate as v
from ..errors import ValidationError

MIN_YEAR, MAX_YEAR = 1900, 9998


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    label: str          # "2026", "FY2026 (2026-04-01..2027-03-31)", "2026-01-01..2026-06-30"

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    def next(self) -> "Period":
        """The period of the same length that follows (for "retention ending next period")."""
        length = self.end - self.start
        start = self.end + timedelta(days=1)
        return Period(start, start + length, f"{start.isoformat()}..{(start + length).isoformat()}")

    def as_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def _year(field: str, value: object) -> int:
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise ValidationError(field, f"'{value[:20]}' is not a year such as 2026")
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_YEAR <= value <= MAX_YEAR:
        raise ValidationError(field, f"must be a year between {MIN_YEAR} and {MAX_YEAR}")
    return value


def calendar_year(year: object) -> Period:
    y = _year("year", year)
    return Period(date(y, 1, 1), date(y, 12, 31), str(y))


def fiscal_year(year: object, start_month: int) -> Period:
    """The fiscal year named by the calendar year it starts in (FY2026 with April: 2026-04-01..2027-03-31)."""
    y = _year("fiscal_year", year)
    start = date(y, start_month, 1)
    end = date(y + 1, start_month, 1) - timedelta(days=1) if start_month > 1 else date(y, 12, 31)
    return Period(start, end, f"FY{y} ({start.isoformat()}..{end.isoformat()})")


def between(since: object, until: object) -> Period:
    start = v.iso_date("from", since)
    end = v.iso_date("until", until)
    if end < start:
        raise ValidationError("until", f"must be on or after --from ({start.isoformat()})")
    return Period(start, end, f"{start.isoformat()}..{end.isoformat()}")


def choose(*, year: object = None, fiscal: object = None, since: object = None, until: object = None,
           start_month: int = 4, required: bool = True) -> Period | None:
    """Exactly one way of naming the period: a year, a fiscal year, or --from and --until."""
    given = [name for name, value in (("year", year), ("fiscal_year", fiscal)) if value is not None]
    if since is not None or until is not None:
        given.append("from/until")
    if len(given) > 1:
        raise ValidationError("period", f"give one of --year, --fiscal-year or --from/--until, not {' and '.join(given)}")
    if year is not None:
        return calendar_year(year)
    if fiscal is not None:
        return fiscal_year(fiscal, start_month)
    if since is not None or until is not None:
        if since is None:
            raise ValidationError("from", "is required with --until (a date as YYYY-MM-DD)")
        if until is None:
            raise ValidationError("until", "is required with --from (a date as YYYY-MM-DD)")
        return between(since, until)
    if required:
        raise ValidationError("period", "give --year YYYY, --fiscal-year YYYY or --from DATE --until DATE")
    return None
