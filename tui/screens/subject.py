"""Data subject lookup: every disclosure about one person, the recipients to notify of a
correction, erasure or stop of use (APPI Art. 35; GDPR Art. 15(1)(c), Art. 19), and the erasure
of the subject (APPI Art. 35; GDPR Art. 17) behind a confirmation that says what is kept and
what is removed.

All ledger work runs in thread workers that open their own service.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from ledger.domain import DisclosureDetail, DisclosureSummary, ErasureResult, RecipientToNotify
from ledger.service import ERASED, ERASURE_REASONS

from ..services import error_text
from .contractors import ScreenCommands

DEFAULT_REASON = "data_subject_request"
DISCLOSURE_COLUMNS = ("Seq", "Date", "Recipient", "Basis", "Record", "Status", "Subject", "Items")


@dataclass(frozen=True)
class SubjectLookup:
    identifier: str
    disclosures: tuple[DisclosureSummary, ...]
    recipients: tuple[RecipientToNotify, ...]


@dataclass(frozen=True)
class SubjectErased:
    result: ErasureResult
    reason: str
    disclosures: tuple[DisclosureDetail, ...]   # the disclosures that named the person, as they read now
    recipients: tuple[RecipientToNotify, ...]   # who received the data: to be told of the erasure
    still_found: int                            # disclosures a new lookup finds (0)


def _days(summary: DisclosureSummary) -> str:
    return summary.first_day if summary.first_day == summary.last_day else f"{summary.first_day}..{summary.last_day}"


def _kind(statutory: bool) -> Text:
    return Text("statutory", style="bold") if statutory else Text("voluntary", style="dim")


def _items(summary: DisclosureSummary) -> str:
    text = ", ".join(summary.data_items)
    return text if len(text) <= 40 else text[:39] + "…"


def _bullets(*lines: str) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, no_wrap=True)
    grid.add_column(ratio=1)
    for line in lines:
        grid.add_row("  •", line)
    return grid


def _recipient(summary: DisclosureSummary) -> str:
    name = summary.recipient_name
    return name if len(name) <= 28 else name[:27] + "…"


def _status(status: str) -> Text:
    return Text(status, style="dim strike" if status == "voided" else "")


class EraseSubjectScreen(ModalScreen[str | None]):
    """Confirm the erasure of a subject; dismisses with the erasure reason, or None."""

    DEFAULT_CSS = """
    EraseSubjectScreen { align: center middle; }
    EraseSubjectScreen > Vertical {
        width: 84; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 0 1;
    }
    EraseSubjectScreen #erase-body { height: auto; max-height: 12; }
    EraseSubjectScreen #erase-reason-label { margin-top: 1; }
    EraseSubjectScreen #erase-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    EraseSubjectScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, lookup: SubjectLookup) -> None:
        super().__init__()
        self.lookup = lookup

    def compose(self) -> ComposeResult:
        lookup = self.lookup
        intro = Text()
        intro.append("Erase the data subject ")
        intro.append(lookup.identifier, style="bold")
        intro.append(f"? It is named in {len(lookup.disclosures)} disclosure(s) to "
                     f"{len(lookup.recipients)} recipient(s).")
        body = Group(
            intro, Text(""),
            Text.assemble(("Kept", "bold green"), " (the ledger stays complete and still verifies):"),
            _bullets("every entry and its hash: the chain and every proof still check out",
                     "the fact that each release happened: recipient, dates, legal basis, data items, "
                     "purpose, statutory or voluntary",
                     "the other people named in the same disclosures"),
            Text.assemble(("Removed for good", "bold red"), " (this cannot be undone):"),
            _bullets("the identifier in every disclosure that names it (it then shows as (erased))",
                     "free text about only this person: the notes, evidence and correction reasons of "
                     "disclosures that name no one else"),
            Text(""),
            Text("An erasure entry is appended with the reason; it holds no personal data. Afterwards, "
                 "tell the recipients listed on the screen (GDPR Art. 19).", style="dim"),
        )
        with Vertical() as box:
            box.border_title = "Erase the data subject"
            with VerticalScroll(id="erase-body"):
                yield Static(body)
            yield Label("Reason for the erasure (kept in the erasure entry):", id="erase-reason-label")
            yield Select([(words, code) for code, words in ERASURE_REASONS.items()], id="erase-reason",
                         value=DEFAULT_REASON, allow_blank=False, prompt="erasure reason")
            with Horizontal(id="erase-buttons"):
                yield Button("Cancel", id="erase-cancel")
                yield Button("Erase for good", id="erase-confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#erase-cancel", Button).focus()

    @on(Button.Pressed, "#erase-confirm")
    def _confirm(self) -> None:
        reason = self.query_one("#erase-reason", Select).value
        self.dismiss(reason if isinstance(reason, str) else DEFAULT_REASON)

    @on(Button.Pressed, "#erase-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SubjectCommands(ScreenCommands):
    def commands(self, screen):
        return [
            ("Subject: look up an identifier", "every disclosure about one person (ctrl+l, then enter)",
             screen.action_focus_lookup),
            ("Subject: erase the subject looked up",
             "delete the identifier and free text about only this person; the entries stay (ctrl+e)",
             screen.action_erase),
        ]


class SubjectScreen(Screen):
    """Look up a person by identifier; see their disclosures and who to notify; erase them."""

    DEFAULT_CSS = """
    SubjectScreen #subject-search { height: auto; padding: 0 1; }
    SubjectScreen #subject-identifier { width: 1fr; }
    SubjectScreen #subject-search Button { margin-left: 1; }
    SubjectScreen #subject-status { height: auto; padding: 0 1; margin-bottom: 1; }
    SubjectScreen #subject-disclosures { height: 2fr; min-height: 4; }
    SubjectScreen #subject-recipients { height: 1fr; min-height: 4; border-top: solid $primary; }
    """

    COMMANDS = Screen.COMMANDS | {SubjectCommands}
    BINDINGS = [
        Binding("ctrl+e", "erase", "Erase subject", priority=True),
        Binding("ctrl+l", "focus_lookup", "Identifier", show=False),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lookup: SubjectLookup | None = None
        self.erased: SubjectErased | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="subject-search"):
            yield Input(id="subject-identifier",
                        placeholder="the exact identifier: student id, e-mail address, ... (enter looks up)")
            yield Button("Look up", id="subject-lookup", variant="primary")
            yield Button("Erase subject…", id="subject-erase", variant="error", disabled=True)
        yield Static("Enter the identifier of a person to see every disclosure about them and the recipients "
                     "to notify of a correction, erasure or stop of use.", id="subject-status")
        yield DataTable(id="subject-disclosures", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="subject-recipients", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        disclosures = self.query_one("#subject-disclosures", DataTable)
        disclosures.add_columns(*DISCLOSURE_COLUMNS)
        disclosures.border_title = "Disclosures about this person"
        recipients = self.query_one("#subject-recipients", DataTable)
        recipients.add_columns("Recipient", "Kind", "Country", "Disclosures", "Record", "Last release")
        recipients.border_title = "Recipients to notify of a correction, erasure or stop of use"
        self.query_one("#subject-identifier", Input).focus()

    # ---- lookup -----------------------------------------------------------------
    def action_focus_lookup(self) -> None:
        self.query_one("#subject-identifier", Input).focus()

    @on(Input.Submitted, "#subject-identifier")
    @on(Button.Pressed, "#subject-lookup")
    def _lookup_asked(self) -> None:
        identifier = self.query_one("#subject-identifier", Input).value.strip()
        if not identifier:
            self.notify("Type the person's identifier first.", severity="warning")
            return
        self.query_one("#subject-status", Static).update(Text("Looking up…", style="dim"))
        self.run_lookup(identifier)

    @work(thread=True, exclusive=True, group="subject")
    def run_lookup(self, identifier: str) -> None:
        try:
            with self.app.ledger.open() as service:
                found = SubjectLookup(identifier, tuple(service.subject_disclosures(identifier)),
                                      tuple(service.recipients_to_notify(identifier)))
        except Exception as exc:  # noqa: BLE001 - a notification, never a traceback
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show_lookup, found)

    def _failed(self, exc: Exception) -> None:
        self.query_one("#subject-status", Static).update(Text(f"Not done: {error_text(exc)}", style="bold red"))
        self.app.report_error(exc)

    def _show_lookup(self, found: SubjectLookup) -> None:
        self.lookup = found
        self.erased = None
        status = Text()
        if not found.disclosures:
            status.append("No disclosure in the ledger names ", style="bold")
            status.append(found.identifier)
            status.append(" (an erased subject is not found either; the lookup needs the exact identifier).")
        else:
            statutory = sum(1 for s in found.disclosures if s.statutory)
            status.append(f"{len(found.disclosures)} disclosure(s) name ", style="bold")
            status.append(found.identifier, style="bold")
            status.append(f" ({statutory} statutory, {len(found.disclosures) - statutory} voluntary), newest first; "
                          f"{len(found.recipients)} recipient(s) to notify. ctrl+e erases the subject.")
        self.query_one("#subject-status", Static).update(status)
        table = self.query_one("#subject-disclosures", DataTable)
        table.clear()
        table.border_title = "Disclosures about this person"
        for s in found.disclosures:
            table.add_row(str(s.seq), _days(s), _recipient(s), s.basis, _kind(s.statutory), _status(s.status),
                          found.identifier, _items(s), key=str(s.seq))
        self._show_recipients(found.recipients,
                              "Recipients to notify of a correction, erasure or stop of use (GDPR Art. 19)")
        self.query_one("#subject-erase", Button).disabled = not found.disclosures

    def _show_recipients(self, recipients: tuple[RecipientToNotify, ...], title: str) -> None:
        table = self.query_one("#subject-recipients", DataTable)
        table.clear()
        table.border_title = title
        for r in recipients:
            seqs = ", ".join(f"#{seq}" for seq in r.disclosures)
            table.add_row(f"{r.party.name} ({r.party.party_id})", r.party.kind, r.party.country,
                          seqs if len(seqs) <= 30 else seqs[:29] + "…", _kind(r.statutory), r.last_day,
                          key=r.party.party_id)

    # ---- erasure ----------------------------------------------------------------
    @on(Button.Pressed, "#subject-erase")
    def _erase_pressed(self) -> None:
        self.action_erase()

    def action_erase(self) -> None:
        found = self.lookup
        if found is None or not found.disclosures:
            self.notify("Look up a subject that the ledger names first; then ctrl+e erases it.",
                        severity="warning")
            return

        def chosen(reason: str | None) -> None:
            if reason is None:
                self.notify("Nothing was erased.")
                return
            self.query_one("#subject-erase", Button).disabled = True
            self.query_one("#subject-status", Static).update(Text("Erasing…", style="bold"))
            self.run_erasure(found, reason)

        self.app.push_screen(EraseSubjectScreen(found), chosen)

    @work(thread=True, exclusive=True, group="subject")
    def run_erasure(self, found: SubjectLookup, reason: str) -> None:
        try:
            with self.app.ledger.open() as service:
                result = service.erase_subject(found.identifier, reason)
                details = tuple(service.disclosure(seq) for seq in result.disclosures)
                still = len(service.subject_disclosures(found.identifier))
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, exc)
            self.app.call_from_thread(self._erase_failed)
            return
        self.app.call_from_thread(self._show_erased, SubjectErased(result, reason, details, found.recipients, still))

    def _erase_failed(self) -> None:
        self.query_one("#subject-erase", Button).disabled = not (self.lookup and self.lookup.disclosures)

    def _show_erased(self, erased: SubjectErased) -> None:
        self.erased = erased
        self.lookup = None
        result = erased.result
        self.query_one("#subject-identifier", Input).value = ""
        self.query_one("#subject-erase", Button).disabled = True
        status = Text()
        status.append(f"Erased: recorded erasure entry {result.seq} ({erased.reason}). ", style="bold green")
        status.append(f"Removed {result.subject_values_removed} identifier value(s) and "
                      f"{result.free_text_values_removed} free-text value(s) from {len(result.disclosures)} "
                      f"disclosure(s). A new lookup finds {erased.still_found} disclosure(s); the entries stay "
                      "and show the person as (erased). Tell the recipients below.")
        self.query_one("#subject-status", Static).update(status)
        table = self.query_one("#subject-disclosures", DataTable)
        table.clear()
        table.border_title = "Disclosures that named the erased person, as they read now"
        for d in erased.disclosures:
            s = d.summary
            gone = sum(1 for subject in d.subjects if subject == ERASED)
            others = len(d.subjects) - gone
            subject = ERASED + (f" +{others} other(s)" if others else "")
            table.add_row(str(s.seq), _days(s), _recipient(s), s.basis, _kind(s.statutory), _status(s.status),
                          Text(subject, style="italic"), _items(s), key=str(s.seq))
        self._show_recipients(erased.recipients, "Recipients to tell of the erasure (GDPR Art. 19; APPI Art. 35)")
        self.notify(f"Erasure entry {result.seq} recorded.", title="Subject erased")


SubjectCommands.screen_type = SubjectScreen
