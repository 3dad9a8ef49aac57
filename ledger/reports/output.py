"""Writing a built report in the format asked for, to the path asked for (or a safe default
name in the current folder). Used by the command line and the terminal app alike."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import ValidationError
from . import render
from .document import Document
from .safety import safe_file_name

SUFFIXES = {"md": ".md", "html": ".html", "pdf": ".pdf", "csv": ".csv", "json": ".json"}


def check_format(fmt: str, allowed: Sequence[str] = render.FORMATS) -> str:
    if fmt not in allowed:
        raise ValidationError("format", f"unknown format '{fmt[:20]}'; valid: {', '.join(allowed)}")
    return fmt


def default_path(stem: str, fmt: str, folder: Path | None = None) -> Path:
    """`<folder>/<stem>.<suffix>`, the stem made safe (it may hold a person's identifier)."""
    return (folder or Path.cwd()) / (safe_file_name(stem) + SUFFIXES[fmt])


def output_path(out: str | Path | None, stem: str, fmt: str, folder: Path | None = None) -> Path:
    """Where to write: --out as given (a folder gets the default name inside it), else the default."""
    if out is None or str(out).strip() == "":
        return default_path(stem, fmt, folder)
    path = Path(out).expanduser()
    if path.is_dir():
        return default_path(stem, fmt, path)
    if not path.parent.exists():
        raise ValidationError("out", f"the folder {path.parent} does not exist")
    return path


def write_report(path: Path, fmt: str, document: Callable[[], Document],
                 rows: Callable[[], Iterable[dict]], columns: Sequence[str], data: Callable[[], object],
                 streamed: bool = False) -> Path:
    """Render and write one format; only what that format needs is computed. The CSV is written
    as `rows` yields them; with `streamed`, `data` returns (the JSON without its rows, the rows)
    so that the JSON is written as it is read too."""
    if fmt == "md":
        content: str | bytes | Iterable[str] = render.markdown(document())
    elif fmt == "html":
        content = render.html(document())
    elif fmt == "pdf":
        content = render.pdf(document())
    elif fmt == "csv":
        content = render.csv_chunks(rows(), columns)
    elif streamed:
        content = render.json_chunks(*data())
    else:
        content = render.json_text(data())
    return render.write(path, content)
