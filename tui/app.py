"""The terminal app. Home screen: what the ledger holds, its integrity, and what to run."""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Header, Static

from ledger.errors import LedgerError
from ledger.service import LedgerService

GETTING_STARTED = """\
[b]Record from the command line[/b] (the full terminal app builds on the same commands):
  disclosure-ledger party add --help        register a recipient
  disclosure-ledger disclose --help         record a release of personal data
  disclosure-ledger list                    browse the ledger, newest first
  disclosure-ledger subject IDENTIFIER      every disclosure about one person
  disclosure-ledger verify                  prove nothing was changed, removed or reordered
  disclosure-ledger --db sample.db demo     write a sample ledger into a new file
"""


class LedgerApp(App):
    """Opens one ledger through the service API."""

    TITLE = "Disclosure Ledger"
    CSS = """
    #summary { padding: 1 2; }
    #integrity { padding: 0 2; }
    #help { padding: 1 2; color: $text-muted; }
    """
    BINDINGS = [("v", "verify", "Verify"), ("q", "quit", "Quit")]

    def __init__(self, service: LedgerService):
        super().__init__()
        self.service = service

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static(self._summary(), id="summary")
            yield Static("Integrity: not checked in this session (press v to verify).", id="integrity")
            yield Static(GETTING_STARTED, id="help")
        yield Footer()

    def _summary(self) -> str:
        counts = self.service.counts()
        latest = self.service.entry(counts["entries"])
        when = self.service.local_time(latest.recorded_at).strftime("%Y-%m-%d %H:%M %Z")
        return (
            f"[b]Ledger[/b] {self.service.path}\n"
            f"{counts['entries']:,} entries · {counts['parties']:,} parties · "
            f"{counts['disclosures']:,} disclosures ({counts['voided']:,} voided)\n"
            f"Last entry: #{latest.seq} {latest.kind}, {when} by {latest.recorded_by}"
        )

    def action_verify(self) -> None:
        self.query_one("#integrity", Static).update("Integrity: verifying…")
        self._verify()

    @work(thread=True, exclusive=True, group="verify")
    def _verify(self) -> None:
        report = self.service.verify()
        if report.ok:
            text = f"Integrity: [green]intact[/green], {report.size:,} entries, root {report.root[:16]}…"
        else:
            text = (f"Integrity: [red]NOT intact[/red], first bad entry {report.first_bad_seq}: "
                    f"{report.problems[0].what}")
        self.call_from_thread(self.query_one("#integrity", Static).update, text)


def make_app(db_path: Path | str, *, create: bool = True) -> LedgerApp:
    """App factory: tests start it on fixture ledgers."""
    return LedgerApp(LedgerService.open(Path(db_path), create=create))


def run_app(db_path: Path) -> int:
    db_path = Path(db_path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        app = make_app(db_path)
    except (LedgerError, OSError) as exc:
        print(f"error: {exc}")
        return 2
    try:
        app.run()
    finally:
        app.service.close()
    return 0
