"""What a report says, independent of its format: a title, facts about it, and sections of
paragraphs, tables and charts. The Markdown, HTML and PDF renderers read the same document."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "None."             # said instead of an empty table
    note: str | None = None          # e.g. "the first 500 of 12,000 rows; all of them are in the CSV"


@dataclass(frozen=True, slots=True)
class BarChart:
    """Labelled bars, one series (per recipient) or stacked series (per month by basis)."""

    title: str
    categories: tuple[str, ...]
    series: tuple[tuple[str, tuple[int, ...]], ...]   # (series name, one value per category)


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()    # label: value lines
    tables: tuple[Table, ...] = ()
    charts: tuple[BarChart, ...] = ()
    preformatted: str | None = None            # e.g. a signed checkpoint note, shown verbatim

    @property
    def anchor(self) -> str:
        return slug(self.title)


@dataclass(frozen=True, slots=True)
class Document:
    title: str
    lang: str                                   # "en" or "ja"
    facts: tuple[tuple[str, str], ...]          # shown under the title: period, ledger, generated at
    sections: tuple[Section, ...]
    generated_line: str                         # the page footer of the PDF
    contents_label: str = "Contents"
    extra: dict = field(default_factory=dict)


def slug(text: str) -> str:
    """An HTML id for a heading (ASCII; other characters are dropped, so each id gets a number)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
