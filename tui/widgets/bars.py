"""A horizontal bar chart of counts, drawn with block characters; it fits any width."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class BarRow:
    label: str
    count: int
    tooltip: str | None = None


def bar(value: int, maximum: int, width: int) -> str:
    """`value` of `maximum` as a bar `width` cells wide at most (eighths of a cell)."""
    if maximum <= 0 or width <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value * width * 8 / maximum))
    full, rest = divmod(eighths, 8)
    return "█" * full + (EIGHTHS[rest] if rest else "")


class BarChart(Widget):
    """Labels, bars and counts, one row each; the bars share the width left by labels and counts."""

    DEFAULT_CSS = """
    BarChart {
        height: auto;
        width: 1fr;
    }
    """

    rows: reactive[tuple[BarRow, ...]] = reactive((), layout=True)
    MAX_LABEL = 22

    def __init__(self, rows: Sequence[BarRow] = (), *, empty: str = "nothing yet", **kwargs) -> None:
        super().__init__(**kwargs)
        self.empty = empty
        self.set_reactive(BarChart.rows, tuple(rows))

    def get_content_height(self, container, viewport, width: int) -> int:
        return max(1, len(self.rows))

    def render(self) -> Content:
        rows = self.rows
        if not rows:
            return Content.from_markup("[$text-muted]$empty", empty=self.empty)
        width = self.content_size.width or 40
        label_width = min(self.MAX_LABEL, max(len(r.label) for r in rows))
        count_width = max(len(f"{r.count:,}") for r in rows)
        bar_width = max(1, width - label_width - count_width - 2)
        maximum = max(r.count for r in rows)
        lines = []
        for row in rows:
            label = row.label if len(row.label) <= label_width else row.label[: label_width - 1] + "…"
            drawn = bar(row.count, maximum, bar_width)
            lines.append(Content.assemble(
                (f"{label:<{label_width}} ", ""),
                (drawn, "$accent"),
                (" " * (bar_width - len(drawn)) + f" {row.count:>{count_width},}", "bold"),
            ))
        return Content("\n").join(lines)
