"""Field-level checks shared by every way input arrives (CLI options, JSON, CSV, the TUI)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from .errors import ValidationError, ValidationErrors

MAX_TEXT = 2000
MAX_SHORT = 200
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE_NUMBER = re.compile(r"[+-]?\d{1,12}")
# C0 and C1 controls (tab and newline allowed in multi-line text); a single line also refuses
# the Unicode line and paragraph separators.
_CONTROLS = "\x00-\x1f\x7f-\x9f"
_LINE_SEPARATORS = "\u2028\u2029"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_SINGLE_LINE = re.compile(f"[{_CONTROLS}{_LINE_SEPARATORS}]")
# Invisible format characters (Unicode category Cf) that can hide or reorder what a record shows,
# such as U+202E RIGHT-TO-LEFT OVERRIDE or U+200B ZERO WIDTH SPACE. Only U+200C and U+200D
# (zero width non-joiner and joiner) are allowed: Persian, Indic scripts and emoji need them.
_INVISIBLES = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f")
_INVISIBLE = re.compile(f"[{_INVISIBLES}]")
# What a message must not print as is (it would act on the terminal or hide text): every character
# text fields refuse, and lone surrogates.
UNSHOWABLE = re.compile(f"[{_CONTROLS}{_LINE_SEPARATORS}{_INVISIBLES}\ud800-\udfff]")


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, '')}".rstrip()


def text(field: str, value: object, *, required: bool = True, max_len: int = MAX_SHORT,
         multiline: bool = False) -> str | None:
    """A clean string: NFC, trimmed, valid Unicode, no control characters, bounded length."""
    if type(value) is str and value.isascii() and value.isprintable():
        # Fast path: printable ASCII is already NFC and free of control characters.
        value = value.strip()
        if not value:
            if required:
                raise ValidationError(field, "is required")
            return None
        if len(value) > max_len:
            raise ValidationError(field, f"is too long ({len(value)} characters; at most {max_len})")
        return value
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, "is required")
        return None
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "contains characters that are not valid Unicode") from None
    value = unicodedata.normalize("NFC", value.strip())
    pattern = _CONTROL if multiline else _CONTROL_SINGLE_LINE
    found = pattern.search(value)
    if found:
        raise ValidationError(field, f"must not contain control characters (found {_code_point(found.group())})")
    found = _INVISIBLE.search(value)
    if found:
        raise ValidationError(field, f"must not contain invisible formatting characters, which can hide or "
                                     f"reorder text (found {_code_point(found.group())})")
    if len(value) > max_len:
        raise ValidationError(field, f"is too long ({len(value)} characters; at most {max_len})")
    return value


def iso_date(field: str, value: object, *, required: bool = True) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, "is required (a date as YYYY-MM-DD)")
        return None
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValidationError(field, "must be a date as YYYY-MM-DD")
    try:
        if not _ISO_DATE.fullmatch(value.strip()):
            raise ValueError
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(field, f"'{value[:40]}' is not a date as YYYY-MM-DD") from None


def count(field: str, value: object, *, required: bool = True, maximum: int = 100_000_000) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, "is required (a whole number)")
        return None
    if isinstance(value, bool):
        raise ValidationError(field, "must be a whole number")
    if isinstance(value, str):
        if not _WHOLE_NUMBER.fullmatch(value.strip()):
            raise ValidationError(field, f"'{value[:40]}' is not a whole number")
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValidationError(field, "must be a whole number")
    if value < 1:
        raise ValidationError(field, "must be at least 1")
    if value > maximum:
        raise ValidationError(field, f"must be at most {maximum:,}")
    return value


def flag(field: str, value: object) -> bool:
    if value is None or value == "":
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "y"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("false", "no", "0", "n"):
        return False
    raise ValidationError(field, "must be true or false")


def text_list(field: str, value: object, *, max_items: int = 10_000, max_len: int = MAX_SHORT) -> tuple[str, ...]:
    """A list given as a JSON array or as text separated by ';' (or ',' when no ';')."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        sep = ";" if ";" in value else ","
        value = [part for part in value.split(sep)]
    if not isinstance(value, (list, tuple)):
        raise ValidationError(field, "must be a list")
    if len(value) > max_items:
        raise ValidationError(field, f"has too many values ({len(value):,}; at most {max_items:,})")
    items = []
    for i, item in enumerate(value):
        cleaned = text(f"{field}[{i + 1}]", item, required=False, max_len=max_len)
        if cleaned is not None:
            items.append(cleaned)
    return tuple(items)


def known_code(field: str, value: str, valid: "dict | list | tuple", what: str) -> str:
    if value not in valid:
        choices = ", ".join(valid)
        raise ValidationError(field, f"unknown {what} '{value[:60]}'; valid: {choices}")
    return value


def raise_all(errors: list[ValidationError]) -> None:
    """Report every problem found at once; nothing is written."""
    if errors:
        raise errors[0] if len(errors) == 1 else ValidationErrors(errors)


class Checks:
    """Runs field checks and collects their errors instead of stopping at the first one."""

    def __init__(self) -> None:
        self.errors: list[ValidationError] = []

    def __call__(self, check, *args, **kwargs):
        """The check's result, or None after recording its error."""
        try:
            return check(*args, **kwargs)
        except ValidationError as exc:
            self.errors.append(exc)
            return None

    def raise_all(self) -> None:
        raise_all(self.errors)
