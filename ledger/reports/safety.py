"""What keeps a report's output safe to open: spreadsheet formulas neutralised, file names that
cannot name another folder, and output paths that stay inside the folder they belong to."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ..errors import ValidationError

# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_NAME = 100


def csv_cell(value: object) -> str:
    """A value as a CSV cell; one a spreadsheet would run as a formula is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, tuple)):
        text = ";".join(str(item) for item in value)
    else:
        text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_file_name(name: str, *, fallback: str = "report") -> str:
    """A file name made of letters, digits, '.', '_' and '-': no folder, no hidden file, no
    control or reserved characters, at most MAX_NAME characters."""
    text = unicodedata.normalize("NFKC", name)
    text = re.sub(r"[^\w.-]+", "_", text, flags=re.ASCII).strip("._-")
    text = re.sub(r"\.{2,}", ".", text)
    return text[:MAX_NAME].rstrip("._-") or fallback


def inside(folder: Path, name: str) -> Path:
    """`folder / name` after making `name` a safe file name; refused if it still leaves the folder."""
    target = (folder / safe_file_name(name)).resolve()
    if target.parent != folder.resolve():
        raise ValidationError("out", f"the file {name!r} would be written outside {folder}")
    return target
