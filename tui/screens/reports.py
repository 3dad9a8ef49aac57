"""Reports: build the annual review, a data subject's report or a regulator's query package, in a
worker with its own connection, and show where it was written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, Static

from ..services import error_text

KINDS = (("Annual review", "annual"), ("Data subject's report", "subject"),
         ("Regulator's query package", "regulator"))
PERIOD_KINDS = (("Calendar year", "year"), ("Fiscal year", "fiscal"))
FORMATS = (("Markdown", "md"), ("HTML", "html"), ("PDF", "pdf"), ("CSV", "csv"), ("JSON", "json"))
LANGUAGES = (("English", "en"), ("日本語 (Japanese)", "ja"))
EXPLANATION = {
    "annual": "The annual review of a period: releases by recipient, basis, purpose and item, cross-border "
              "releases, government bodies, consent, contractors, exceptions, changes, retention and integrity.",
    "subject": "The answer to a person who asks who received their data: the statutory records, the voluntary "
               "ones, and the recipients to notify. Only this person's identifier appears.",
    "regulator": "A folder and a zip for a regulator: the matching entries with proofs against a signed "
                 "checkpoint, the verifier key, a standalone verifier and a README. The period and the "
                 "identifier narrow it; leave them empty for everything.",
}


@dataclass(frozen=True)
class ReportRequest:
    kind: str
    period_kind: str
    period: str
    identifier: str
    lang: str
    fmt: str
    folder: str


class ReportsScreen(Screen):
    """Choose a report, build it in the background, see where it went."""

    DEFAULT_CSS = """
    ReportsScreen #reports-form { height: auto; padding: 0 1; }
    ReportsScreen .report-row { height: auto; margin-bottom: 1; }
    ReportsScreen .report-row Label { width: 16; padding-top: 1; }
    ReportsScreen .report-row Select { width: 1fr; }
    ReportsScreen .report-row Input { width: 1fr; }
    ReportsScreen #report-explain { padding: 0 1; margin-bottom: 1; }
    ReportsScreen #report-status { padding: 0 1; height: auto; }
    """
    BINDINGS = [Binding("ctrl+s", "build", "Build report", priority=True)]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.running = False
        self.written: list[Path] = []

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="reports-form"):
            with Horizontal(classes="report-row"):
                yield Label("Report")
                yield Select(KINDS, value="annual", allow_blank=False, id="report-kind")
            yield Static(EXPLANATION["annual"], id="report-explain", classes="muted")
            with Horizontal(classes="report-row"):
                yield Label("Period")
                yield Select(PERIOD_KINDS, value="fiscal", allow_blank=False, id="report-period-kind")
                yield Input(placeholder="year, e.g. 2026", id="report-period", restrict=r"\d{0,4}")
            with Horizontal(classes="report-row", id="report-identifier-row"):
                yield Label("Identifier")
                yield Input(placeholder="the person's exact identifier", id="report-identifier")
            with Horizontal(classes="report-row"):
                yield Label("Format")
                yield Select(FORMATS, value="html", allow_blank=False, id="report-format")
                yield Select(LANGUAGES, value="en", allow_blank=False, id="report-lang")
            with Horizontal(classes="report-row"):
                yield Label("Write into")
                yield Input(str(Path.cwd()), id="report-folder")
            with Vertical(classes="report-row"):
                yield Button("Build report (ctrl+s)", id="report-build", variant="primary")
            yield Static("", id="report-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#report-period", Input).value = str(self._today_year())
        self._show_fields("annual")

    def _today_year(self) -> int:
        clock = self.app.ledger.clock
        from datetime import datetime, timezone
        return (clock() if clock else datetime.now(timezone.utc)).year

    @on(Select.Changed, "#report-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        self._show_fields(str(event.value))

    def _show_fields(self, kind: str) -> None:
        self.query_one("#report-explain", Static).update(EXPLANATION[kind])
        self.query_one("#report-identifier-row").display = kind in ("subject", "regulator")
        self.query_one("#report-lang").display = kind == "subject"
        self.query_one("#report-format").display = kind != "regulator"

    def _request(self) -> ReportRequest:
        return ReportRequest(
            kind=str(self.query_one("#report-kind", Select).value),
            period_kind=str(self.query_one("#report-period-kind", Select).value),
            period=self.query_one("#report-period", Input).value.strip(),
            identifier=self.query_one("#report-identifier", Input).value.strip(),
            lang=str(self.query_one("#report-lang", Select).value),
            fmt=str(self.query_one("#report-format", Select).value),
            folder=self.query_one("#report-folder", Input).value.strip(),
        )

    @on(Button.Pressed, "#report-build")
    def _pressed(self) -> None:
        self.action_build()

    def action_build(self) -> None:
        if self.running:
            return
        self.running = True
        self.query_one("#report-build", Button).disabled = True
        self._status(Text("Building…", style="dim"))
        self.build(self._request())

    def _status(self, text: Text | str) -> None:
        self.query_one("#report-status", Static).update(text)

    @work(thread=True, exclusive=True, group="report")
    def build(self, request: ReportRequest) -> None:
        from ledger.errors import ValidationError
        from ledger.reports.period import choose

        def progress(message: str) -> None:
            self.app.call_from_thread(self._status, Text(message + "…", style="dim"))

        try:
            folder = Path(request.folder or ".").expanduser()
            if not folder.is_dir():
                raise ValidationError("folder", f"{folder} is not a folder")
            with self.app.ledger.open() as service:
                start_month = service.ref.settings.fiscal_year_start_month
                year = request.period or None
                period = choose(year=year if request.period_kind == "year" else None,
                                fiscal=year if request.period_kind == "fiscal" else None,
                                start_month=start_month, required=request.kind == "annual")
                if request.kind == "annual":
                    from ledger.reports.annual import write_annual
                    written = [write_annual(service, period, request.fmt, folder, progress=progress)]
                elif request.kind == "subject":
                    from ledger.reports.subject import write_subject
                    if not request.identifier:
                        raise ValidationError("identifier", "is required for a data subject's report")
                    written = [write_subject(service, request.identifier, request.fmt, folder, lang=request.lang)]
                else:
                    from ledger.reports.regulator import RegulatorQuery, default_folder, write_package
                    query = RegulatorQuery.from_options(service, period=period, subject=request.identifier or None)
                    target = folder / default_folder(service).name
                    package = write_package(service, query, target, progress=progress)
                    written = [package.folder, package.zip_path]
        except Exception as exc:  # noqa: BLE001 - shown as a notification, never a traceback
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._done, written)

    def _failed(self, exc: Exception) -> None:
        self.running = False
        self.query_one("#report-build", Button).disabled = False
        self._status(Text(f"Not done: {error_text(exc)}", style="bold red"))
        self.app.report_error(exc)

    def _done(self, written: list[Path]) -> None:
        self.running = False
        self.written = written
        self.query_one("#report-build", Button).disabled = False
        text = Text("Written:\n", style="bold")
        for path in written:
            text.append(f"  {path}\n", style="")
        self._status(text)
        self.app.notify(f"Written: {written[0]}", title="Report ready")
