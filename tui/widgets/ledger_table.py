"""The ledger browser's table: one keyset page of disclosures at a time.

Textual's DataTable has no lazy loading, so the table never holds more than one page (see
DESIGN.md section 3, "Big lists"). When the cursor would leave the page at either edge, the table
asks its screen for the neighbouring page with a `PageWanted` message instead of moving; the screen
loads that page in a worker and hands the rows back through `show_page`.
"""

from __future__ import annotations

from typing import Literal, Sequence

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from ledger.domain import DisclosureSummary

Direction = Literal["older", "newer"]

RECIPIENT_WIDTH = 20
BASIS_WIDTH = 16
# Fixed widths: the layout does not depend on which page is shown (nor on when DataTable gets
# round to measuring its cells), and 76 columns fit an 80-column terminal.
COLUMNS = (
    ("seq", "Entry", 7),
    ("date", "Date", 11),
    ("recipient", "Recipient", RECIPIENT_WIDTH),
    ("basis", "Basis", BASIS_WIDTH),
    ("record", "Rec", 4),
    ("status", "Status", 6),
)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def row_cells(s: DisclosureSummary) -> tuple[Text, ...]:
    """The cells of one disclosure: short enough for an 80-column terminal."""
    voided = s.status == "voided"
    style = "dim strike" if voided else ""
    date = s.first_day + ("+" if s.last_day != s.first_day else " ")
    if voided:
        status = Text("voided", style="bold red")
    elif s.version > 1:
        status = Text(f"v{s.version}", style="yellow")
    else:
        status = Text("")
    return (
        Text(str(s.seq), style=style, justify="right"),
        Text(date, style=style),
        Text(_cut(s.recipient_name, RECIPIENT_WIDTH), style=style),
        Text(_cut(s.basis, BASIS_WIDTH), style=style),
        Text("stat" if s.statutory else "vol", style=style or ("bold" if s.statutory else "")),
        status,
    )


class LedgerTable(DataTable):
    """A DataTable of one page of disclosures, keyed by seq; moving past an edge asks for a page."""

    class PageWanted(Message):
        """The cursor wants to leave the page: load the older or the newer neighbour."""

        def __init__(self, table: "LedgerTable", direction: Direction) -> None:
            super().__init__()
            self.table = table
            self.direction: Direction = direction

        @property
        def control(self) -> "LedgerTable":
            return self.table

    class DetailWanted(Message):
        """Enter on a row: look at its detail."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_shown: list[DisclosureSummary] = []
        self.has_older = False
        self.has_newer = False

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, key=key, width=width)

    # ---- data ------------------------------------------------------------------
    def show_page(self, rows: Sequence[DisclosureSummary], *, has_older: bool, has_newer: bool,
                  cursor: int = 0) -> None:
        """Replace the rows by one page; put the cursor on row `cursor` (clamped)."""
        self.has_older = has_older
        self.has_newer = has_newer
        if list(rows) == self.rows_shown:
            if rows:
                self.move_cursor(row=max(0, min(cursor, len(rows) - 1)))
            return
        self.rows_shown = list(rows)
        self.clear()
        for summary in rows:
            self.add_row(*row_cells(summary), key=str(summary.seq))
        if rows:
            self.move_cursor(row=max(0, min(cursor, len(rows) - 1)), animate=False)

    def update_row(self, summary: DisclosureSummary) -> None:
        """Redraw one row after a correction or void, if it is on this page."""
        for index, shown in enumerate(self.rows_shown):
            if shown.seq == summary.seq:
                if shown == summary:
                    return
                self.rows_shown[index] = summary
                for (key, _, _), cell in zip(COLUMNS, row_cells(summary)):
                    self.update_cell(str(summary.seq), key, cell)
                return

    @property
    def current(self) -> DisclosureSummary | None:
        """The disclosure under the cursor."""
        if not self.rows_shown or not (0 <= self.cursor_row < len(self.rows_shown)):
            return None
        return self.rows_shown[self.cursor_row]

    def index_of(self, seq: int) -> int | None:
        for index, shown in enumerate(self.rows_shown):
            if shown.seq == seq:
                return index
        return None

    def action_select_cursor(self) -> None:
        super().action_select_cursor()
        self.post_message(self.DetailWanted())

    # ---- moving past an edge asks for the neighbouring page -----------------------
    def _at_top(self) -> bool:
        return self.cursor_row <= 0

    def _at_bottom(self) -> bool:
        return self.cursor_row >= self.row_count - 1

    def action_cursor_down(self) -> None:
        if self.row_count and self._at_bottom() and self.has_older:
            self.post_message(self.PageWanted(self, "older"))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.row_count and self._at_top() and self.has_newer:
            self.post_message(self.PageWanted(self, "newer"))
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.row_count and self._at_bottom() and self.has_older:
            self.post_message(self.PageWanted(self, "older"))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.row_count and self._at_top() and self.has_newer:
            self.post_message(self.PageWanted(self, "newer"))
            return
        super().action_page_up()
