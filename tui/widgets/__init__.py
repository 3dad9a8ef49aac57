"""Widgets and wording shared by the screens."""

from .bars import BarChart, BarRow
from .words import entry_kind_words, plural, short_hash, when_local

__all__ = ["BarChart", "BarRow", "entry_kind_words", "plural", "short_hash", "when_local"]
