"""Writing a report: Markdown, self-contained HTML and PDF from one Jinja2 template family, and
CSV / JSON of the underlying rows. HTML escapes every value (autoescape); CSV neutralises cells
a spreadsheet would run as formulas."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Mapping, Sequence

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..files import durable_replace
from .charts import bar_chart_svg
from .document import BarChart, Document
from .labels import labels_for
from .safety import csv_cell

FORMATS = ("md", "html", "pdf", "csv", "json")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md_text(value: object) -> str:
    """Text in Markdown, read as text: markup characters escaped, one line."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(value).split()))


def _css_string(value: object) -> str:
    """A value inside a CSS string literal (the PDF page footer)."""
    return re.sub(r'[\\"<>\n\r]', " ", str(value))


def _row_total(chart: BarChart, row: int) -> int:
    return sum(values[row] for _, values in chart.series)


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("ledger.reports", "templates"),
        autoescape=select_autoescape(["html.j2"]) if autoescape else False,
        undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False, keep_trailing_newline=True,
    )
    env.filters.update(svg=bar_chart_svg, md_text=_md_text, md_cell=_md_text, css_string=_css_string,
                       row_total=_row_total)
    return env


_HTML = _environment(autoescape=True)
_MARKDOWN = _environment(autoescape=False)


def markdown(doc: Document) -> str:
    text = _MARKDOWN.get_template("report.md.j2").render(doc=doc, labels=labels_for(doc.lang))
    return re.sub(r"\n{3,}", "\n\n", text)


def html(doc: Document) -> str:
    return _HTML.get_template("report.html.j2").render(doc=doc, labels=labels_for(doc.lang))


def pdf(doc: Document) -> bytes:
    from weasyprint import HTML   # imported when a PDF is asked for: it loads pango

    return HTML(string=html(doc)).write_pdf()


CHUNK_ROWS = 2000    # rows per piece of a streamed CSV or JSON


def csv_chunks(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> Iterator[str]:
    """The CSV in pieces of CHUNK_ROWS rows, header first: rows are read as they are written."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([csv_cell(row.get(column)) for column in columns])
        if n % CHUNK_ROWS == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def csv_text(rows: Iterable[Mapping[str, object]], columns: Sequence[str]) -> str:
    return "".join(csv_chunks(rows, columns))


def json_text(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def json_chunks(head: Mapping[str, object], rows: Iterable[object], key: str = "rows") -> Iterator[str]:
    """json_text of `head` with `key`: [rows] added last, the rows streamed: the same text as
    json_text of the whole dict, without holding the rows."""
    text = json_text({**head, key: []})
    cut = text.rindex(f'"{key}": []')
    yield text[:cut] + json.dumps(key, ensure_ascii=False) + ": ["
    separator = "\n"
    for row in rows:
        item = json.dumps(row, ensure_ascii=False, indent=2, sort_keys=False).replace("\n", "\n    ")
        yield separator + "    " + item
        separator = ",\n"
    yield ("]" if separator == "\n" else "\n  ]") + text[cut + len(f'"{key}": []'):]


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A side file to write a report into, readable by its owner only (a report may hold personal
    data), put in place under `path` only when the block ends without an error: a failure half-way
    leaves no half-written report under the name asked for, and an older file of that name, whatever
    its mode, is replaced rather than written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        yield partial
        durable_replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write(path: Path, content: str | bytes | Iterable[str]) -> Path:
    """Write a report whole or not at all, owner-only (see `written_whole`)."""
    with written_whole(path) as partial:
        if isinstance(content, bytes):
            partial.write_bytes(content)
        else:
            with partial.open("w", encoding="utf-8", newline="") as out:
                out.writelines([content] if isinstance(content, str) else content)
    return path
