"""The terminal app: one keyboard-driven Textual UI over the service API."""

from __future__ import annotations

import importlib
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ledger.errors import LedgerError

from .services import LedgerHandle, error_text

SCREENS_HELP = (
    ("d", "Dashboard", "ledger size, integrity, this year's releases, what needs attention"),
    ("l", "Ledger", "every entry, newest first, with filters and the detail of each"),
    ("r", "Record", "record a release of personal data"),
    ("c", "Contractors", "the register, status badges, assessments"),
    ("s", "Subject", "every disclosure about one person; recipients to notify; erasure"),
    ("i", "Integrity", "verify every hash, link and query table"),
    ("t", "Reports", "the annual review, a data subject's report, a regulator's query package"),
)


def lazy_screen(path: str) -> Callable[[], Screen]:
    """A mode's screen, imported when first shown ("module:Class"; Textual's MODES take a
    screen class or factory, not an import path)."""

    def factory() -> Screen:
        module_name, _, class_name = path.partition(":")
        return getattr(importlib.import_module(module_name), class_name)()

    factory.__qualname__ = factory.__name__ = path.rpartition(":")[2]
    return factory


class LedgerApp(App):
    """Disclosure Ledger. Every screen reaches the ledger through `self.ledger`."""

    TITLE = "Disclosure Ledger"
    CSS_PATH = "app.tcss"
    MODES = {
        "dashboard": lazy_screen("tui.screens.dashboard:DashboardScreen"),
        "ledger": lazy_screen("tui.screens.ledger:LedgerScreen"),
        "record": lazy_screen("tui.screens.record:RecordScreen"),
        "contractors": lazy_screen("tui.screens.contractors:ContractorsScreen"),
        "subject": lazy_screen("tui.screens.subject:SubjectScreen"),
        "integrity": lazy_screen("tui.screens.integrity:IntegrityScreen"),
        "reports": lazy_screen("tui.screens.reports:ReportsScreen"),
    }
    DEFAULT_MODE = "dashboard"
    BINDINGS = [
        # Help and Quit first: on a narrow terminal the footer shows what comes first.
        Binding("f1,question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("d", "switch_mode('dashboard')", "Home", tooltip="The dashboard"),
        Binding("l", "switch_mode('ledger')", "Ledger"),
        Binding("r", "switch_mode('record')", "Record"),
        Binding("c", "switch_mode('contractors')", "Contractors"),
        Binding("s", "switch_mode('subject')", "Subject"),
        Binding("i", "switch_mode('integrity')", "Integrity"),
        Binding("t", "switch_mode('reports')", "Reports", show=False),
        Binding("ctrl+t", "toggle_theme", "Light / dark theme", show=False),
    ]

    def __init__(self, ledger: LedgerHandle):
        super().__init__()
        self.ledger = ledger
        self.home_ledger = ledger      # the user's own ledger, while the sample is open
        self.sample_open = False
        self.sub_title = str(ledger.path)

    def open_ledger(self, handle: LedgerHandle, *, sample: bool = False) -> None:
        """Point every screen at another ledger file (the sample ledger, or back to the user's).
        Screens of other modes are rebuilt when next shown; the current one reloads itself."""
        self.ledger = handle
        self.sample_open = sample
        self.title = "SAMPLE LEDGER" if sample else self.TITLE
        self.sub_title = (f"{handle.path.name} · not yours (b: back)" if sample
                          else str(handle.path))
        self.set_class(sample, "-sample")
        for mode, screen in self.MODES.items():
            if mode != self.current_mode:
                self.remove_mode(mode)
                self.add_mode(mode, screen)
        self.refresh_bindings()

    def close_sample(self) -> None:
        """Back to the user's own ledger."""
        if self.sample_open:
            self.open_ledger(self.home_ledger)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, title, help_text in SCREENS_HELP:
            yield SystemCommand(f"Go to {title}", f"{help_text} (key {key})",
                                lambda mode=title.lower(): self.switch_mode(mode))
        yield SystemCommand("Verify the ledger", "check every hash, link and query table now",
                            self.action_verify_now)
        yield SystemCommand("Toggle light / dark theme", "ctrl+t", self.action_toggle_theme)
        yield SystemCommand("Help", "every key binding (F1 or ?)", self.action_help)

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    async def action_verify_now(self) -> None:
        """Open the integrity screen and start the full verification."""
        await self.switch_mode("integrity")
        verify = getattr(self.screen, "action_verify", None)
        if verify is not None:
            verify()

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"

    def report_error(self, error: Exception) -> None:
        """Errors from the service become notifications, never a traceback."""
        self.notify(error_text(error), title="Not done", severity="error", timeout=8)


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
    for line in close_checkpoint(app.home_ledger):
        print(line)
    return 0


def close_checkpoint(handle: LedgerHandle) -> list[str]:
    """Sign a checkpoint as the app closes, if data/settings.toml asks for it and the ledger grew;
    what happened, as lines to print once the screen is gone."""
    try:
        with handle.open() as service:
            made = service.checkpoint_on_close()
            lines = [f"note: {notice}" for notice in service.notices]
    except LedgerError as exc:
        return [f"note: no checkpoint was made on closing: {exc}"]
    if made is not None:
        lines.append(f"Signed checkpoint #{made.id} of {made.size:,} entries (`disclosure-ledger checkpoint "
                     "export --out FILE` hands it to your auditor).")
    return lines
