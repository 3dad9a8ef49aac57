"""The terminal app: one keyboard-driven Textual UI over the service API."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ledger.errors import LedgerError

from .services import LedgerHandle

SCREENS_HELP = (
    ("d", "Dashboard", "ledger size, integrity, this year's releases, what needs attention"),
    ("l", "Ledger", "every entry, newest first, with filters and the detail of each"),
    ("r", "Record", "record a release of personal data"),
    ("c", "Contractors", "the register, status badges, assessments"),
    ("s", "Subject", "every disclosure about one person; recipients to notify; erasure"),
    ("i", "Integrity", "verify every hash, link and query table"),
)


class LedgerApp(App):
    """Disclosure Ledger. Every screen reaches the ledger through `self.ledger`."""

    TITLE = "Disclosure Ledger"
    CSS_PATH = "app.tcss"
    MODES = {
        "dashboard": "tui.screens.dashboard:DashboardScreen",
        "ledger": "tui.screens.ledger:LedgerScreen",
        "record": "tui.screens.record:RecordScreen",
        "contractors": "tui.screens.contractors:ContractorsScreen",
        "subject": "tui.screens.subject:SubjectScreen",
        "integrity": "tui.screens.integrity:IntegrityScreen",
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        Binding("d", "switch_mode('dashboard')", "Dashboard"),
        Binding("l", "switch_mode('ledger')", "Ledger"),
        Binding("r", "switch_mode('record')", "Record"),
        Binding("c", "switch_mode('contractors')", "Contractors"),
        Binding("s", "switch_mode('subject')", "Subject"),
        Binding("i", "switch_mode('integrity')", "Integrity"),
        Binding("f1,question_mark", "help", "Help"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, ledger: LedgerHandle):
        super().__init__()
        self.ledger = ledger
        self.sub_title = str(ledger.path)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, title, help_text in SCREENS_HELP:
            yield SystemCommand(f"Go to {title}", f"{help_text} (key {key})",
                                lambda mode=title.lower(): self.switch_mode(mode))
        yield SystemCommand("Verify the ledger", "check every hash, link and query table",
                            lambda: self.switch_mode("integrity"))
        yield SystemCommand("Toggle light / dark theme", "ctrl+t", self.action_toggle_theme)
        yield SystemCommand("Help", "every key binding (F1 or ?)", self.action_help)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def report_error(self, error: Exception) -> None:
        """Errors from the service become notifications, never a traceback."""
        message = str(error) if isinstance(error, LedgerError) else f"{type(error).__name__}: {error}"
        self.notify(message, title="Not done", severity="error", timeout=8)


def make_app(db_path: Path | str, *, create: bool = True, operator: str | None = None,
             clock: Callable[[], datetime] | None = None) -> LedgerApp:
    """App factory: tests start it on fixture ledgers with a fixed clock."""
    handle = LedgerHandle(db_path, operator=operator, clock=clock)
    if create:
        handle.create()
    else:
        with handle.open():
            pass  # refuse a missing or foreign file before the screen opens
    return LedgerApp(handle)


def run_app(db_path: Path) -> int:
    db_path = Path(db_path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        app = make_app(db_path)
    except (LedgerError, OSError) as exc:
        print(f"error: {exc}")
        return 2
    app.run()
    return 0
