"""Charts as inline SVG, written here: no script, so the HTML stays one self-contained file and
WeasyPrint draws the same chart in the PDF. Every label is escaped."""

from __future__ import annotations

from markupsafe import Markup, escape

from .document import BarChart

PALETTE = ("#3366aa", "#dd8833", "#44aa77", "#cc4455", "#8866bb", "#999933", "#55aacc", "#aa7755",
           "#777777", "#cc66aa", "#66bb44", "#335577")
WIDTH = 640
LABEL_WIDTH = 190
ROW_HEIGHT = 18
BAR_HEIGHT = 12
LEGEND_ROW = 16
MAX_LABEL = 28


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def bar_chart_svg(chart: BarChart) -> Markup:
    """Horizontal bars, one row per category, the series stacked left to right, with a legend
    when there is more than one series, and the total at the end of each bar."""
    totals = [sum(values[i] for _, values in chart.series) for i in range(len(chart.categories))]
    largest = max(totals, default=0) or 1
    plot = WIDTH - LABEL_WIDTH - 60
    legend_rows = (len(chart.series) + 2) // 3 if len(chart.series) > 1 else 0
    height = 8 + len(chart.categories) * ROW_HEIGHT + legend_rows * LEGEND_ROW + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" '
             f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
             f"<title>{escape(chart.title)}</title>"]
    for row, category in enumerate(chart.categories):
        y = 8 + row * ROW_HEIGHT
        parts.append(f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 2}" text-anchor="end">'
                     f"{escape(_short(category))}</text>")
        x = float(LABEL_WIDTH)
        for number, (name, values) in enumerate(chart.series):
            if values[row] <= 0:
                continue
            width = plot * values[row] / largest
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{max(width, 0.5):.1f}" height="{BAR_HEIGHT}" '
                         f'fill="{PALETTE[number % len(PALETTE)]}"><title>{escape(name)}: {values[row]:,}'
                         f"</title></rect>")
            x += width
        parts.append(f'<text x="{x + 4:.1f}" y="{y + BAR_HEIGHT - 2}">{totals[row]:,}</text>')
    if legend_rows:
        top = 8 + len(chart.categories) * ROW_HEIGHT + 4
        for number, (name, _) in enumerate(chart.series):
            x = 10 + (number % 3) * (WIDTH // 3)
            y = top + (number // 3) * LEGEND_ROW
            parts.append(f'<rect x="{x}" y="{y}" width="10" height="10" fill="{PALETTE[number % len(PALETTE)]}"/>'
                         f'<text x="{x + 14}" y="{y + 9}">{escape(_short(name))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
