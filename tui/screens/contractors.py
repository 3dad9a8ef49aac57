"""Contractors: the register (APPI Art. 25; GDPR Art. 28) with a status badge per contractor, the
detail of the highlighted one, and the key to its safeguard assessment wizard.

All ledger work runs in thread workers that open their own service (an SQLite connection cannot
cross threads) and hand frozen domain objects back to the screen.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ledger.domain import (
    AssessmentView,
    DisclosureFilter,
    DisclosureSummary,
    DueItem,
    VendorSummary,
)
from ledger.refdata import ReferenceData
from ledger.rules.register import CERTIFICATIONS, CONTRACT_CLAUSES, STATUSES

from ..services import error_text

#: How each register status shows: its words and its colour (the badge).
STATUS_BADGES: dict[str, tuple[str, str]] = {
    "approved": ("approved", "bold black on green"),
    "conditional": ("conditional", "bold black on yellow"),
    "expiring": ("expiring", "bold black on dark_orange"),
    "expired": ("expired", "bold white on red3"),
    "rejected": ("rejected", "bold white on dark_red"),
    "not_assessed": ("not assessed", "bold white on grey35"),
}
assert set(STATUS_BADGES) == set(STATUSES), "every register status needs a badge"

OUTCOME_STYLES = {"approved": "bold green", "conditional": "bold yellow", "rejected": "bold red"}

#: The register table's columns, the most telling first (at 80 columns the rest scroll).
TABLE_COLUMNS = ("Name", "Status", "Valid until", "Contract ends", "Assessed", "Outcome", "Kind", "ID")
# Fixed widths: the table looks the same however far its rows have been measured.
COLUMN_WIDTHS = (24, 13, 11, 13, 10, 11, 13, 22)

#: The latest disclosures the detail lists; received ones are counted up to COUNT_CAP.
SHOWN_DISCLOSURES = 5
COUNT_CAP = 1000


def status_label(status: str) -> str:
    return STATUS_BADGES.get(status, (status.replace("_", " "), ""))[0]


def badge(status: str) -> Text:
    label, style = STATUS_BADGES.get(status, (status.replace("_", " "), "bold"))
    return Text(f" {label} ", style=style)


def outcome_text(outcome: str | None) -> Text:
    if not outcome:
        return Text("-", style="dim")
    return Text(outcome, style=OUTCOME_STYLES.get(outcome, ""))


@dataclass(frozen=True)
class RegisterData:
    """What the register table needs, read in one worker."""

    vendors: tuple[VendorSummary, ...]
    due: tuple[DueItem, ...]
    today: date
    ref: ReferenceData
    operator: str


@dataclass(frozen=True)
class ContractorDetail:
    """What the detail pane needs for one contractor, read in one worker."""

    vendor: VendorSummary
    assessments: tuple[AssessmentView, ...]
    received: tuple[DisclosureSummary, ...]   # newest first, up to COUNT_CAP + 1
    due: tuple[DueItem, ...] = ()
    subcontractors: tuple[VendorSummary, ...] = ()
    works_for: VendorSummary | None = None


def contract_ends(vendor: VendorSummary) -> str:
    reg = vendor.register
    if reg is None:
        return "not registered"
    if reg.contract is None:
        return "no contract"
    return str(reg.contract.get("ends_on") or "open-ended")


class _Detail:
    """Builds the detail pane: headings, aligned label/value rows (long values wrap under their
    value, not under the label), bullet lines."""

    LABEL_WIDTH = 16

    def __init__(self) -> None:
        self.parts: list = []
        self._rows: Table | None = None

    def _grid(self, first: int) -> Table:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=first, no_wrap=True)
        grid.add_column(ratio=1)
        return grid

    def _close(self) -> None:
        if self._rows is not None:
            self.parts.append(self._rows)
            self._rows = None

    def line(self, text: Text | str, style: str = "") -> None:
        self._close()
        self.parts.append(text if isinstance(text, Text) else Text(text, style=style))

    def heading(self, title: str) -> None:
        self.line(Text(""))
        self.line(Text(title, style="bold underline"))

    def field(self, label: str, value: Text | str) -> None:
        if self._rows is None:
            self._rows = self._grid(self.LABEL_WIDTH + 1)
        self._rows.add_row(Text(f" {label}", style="dim"),
                           value if isinstance(value, Text) else Text(str(value)))

    def bullet(self, mark: Text | str, text: Text | str, indent: int = 3) -> None:
        self._close()
        grid = self._grid(indent + len(mark.plain if isinstance(mark, Text) else mark))
        grid.add_row(Text(" " * indent) + (mark if isinstance(mark, Text) else Text(mark)),
                     text if isinstance(text, Text) else Text(text))
        self.parts.append(grid)

    def group(self) -> Group:
        self._close()
        return Group(*self.parts)


def render_detail(detail: ContractorDetail, today: date, ref: ReferenceData) -> Group:
    """The detail pane of one contractor: contract, certifications, subcontracting, equivalent
    measures, what needs attention, the assessment history and the disclosures received."""
    vendor = detail.vendor
    party, reg = vendor.party, vendor.register
    out = _Detail()
    title = Text()
    title.append(party.name, style="bold")
    title.append(f"  ({party.party_id})  ")
    title.append(badge(vendor.status))
    out.line(title)
    country = ref.countries.get(party.country)
    country_name = country.name if country else party.country
    out.field("kind", f"{party.kind}, {country_name}")
    out.field("address", party.address)
    if reg is not None:
        out.field("service", reg.service)
        items = [ref.data_items[i].name if i in ref.data_items else i for i in reg.data_items]
        out.field("data items", ", ".join(items) or "-")

    out.heading("Contract")
    if reg is None:
        out.line(Text(" Nothing in the register yet: record the contract "
                      f"(disclosure-ledger vendor register {party.party_id}).", style="yellow"))
    elif reg.contract is None:
        out.line(Text(" No contract recorded.", style="yellow"))
    else:
        contract = reg.contract
        out.field("reference", str(contract.get("reference") or "-"))
        out.field("signed on", str(contract.get("signed_on") or "-"))
        ends_on = contract.get("ends_on")
        if ends_on and date.fromisoformat(str(ends_on)) < today:
            out.field("ends on", Text(f"{ends_on} (ended)", style="bold red"))
        else:
            out.field("ends on", str(ends_on or "open-ended"))
        clauses = contract.get("clauses") or {}
        for code, words in CONTRACT_CLAUSES.items():
            held = bool(clauses.get(code))
            out.bullet(Text("[x]" if held else "[ ]", style="green" if held else "red"),
                       Text(words, style="" if held else "dim"), indent=2)
        out.field("register", f"version {reg.version} (entry {reg.version_seq})")

    out.heading("Certifications")
    certs = reg.certifications if reg is not None else ()
    if not certs:
        out.line(Text(" none recorded", style="dim"))
    for cert in certs:
        scheme = str(cert.get("scheme"))
        number = f" no. {cert['number']}" if cert.get("number") else ""
        expires = str(cert.get("expires_on") or "")
        when = date.fromisoformat(expires) if expires else None
        if when is not None and when < today:
            state = Text(f"expired on {expires}", style="bold red")
        elif when is not None and when <= today + timedelta(days=ref.assessment.expiring_within_days):
            state = Text(f"expires on {expires} (soon)", style="bold dark_orange")
        else:
            state = Text(f"valid until {expires}")
        out.bullet("-", Text(f"{CERTIFICATIONS.get(scheme, scheme)}{number}: ") + state, indent=1)

    out.heading("Subcontracting")
    if party.kind == "subcontractor":
        boss = detail.works_for
        out.field("works for", f"{boss.party.name} ({boss.party.party_id})" if boss
                  else (reg.works_for if reg and reg.works_for else "-"))
        approved = bool(reg and reg.engagement_approved)
        out.field("engagement", Text("approved" if approved else "NOT approved: no release may go to it",
                                     style="green" if approved else "bold red"))
    if detail.subcontractors:
        out.field("subcontractors", ", ".join(
            f"{s.party.name} ({s.party.party_id}, {status_label(s.status)})" for s in detail.subcontractors))
    elif party.kind != "subcontractor":
        out.line(Text(" no subcontractors in the register", style="dim"))

    if reg is not None and (reg.equivalent_measures or party.country != ref.settings.home_country):
        out.heading("Abroad")
        out.field("country", country_name)
        if reg.equivalent_measures:
            out.field("relies on", "equivalent measures (APPI Art. 28(1); PPC Rule 16), checked about "
                                   "once a year (PPC Rule 18(1))")
            checked = reg.measures_checked_on
            if checked:
                due = date.fromisoformat(checked) + timedelta(days=ref.settings.equivalent_measures_check_days)
                out.field("last check", checked)
                out.field("next check", Text(due.isoformat() + (" (overdue)" if due < today else ""),
                                             style="bold red" if due < today else ""))
        else:
            out.field("relies on", "no equivalent measures recorded")

    if detail.due:
        out.heading("Needs attention")
        for item in detail.due:
            out.bullet(Text(f"{item.due_on or 'now':<10}", style="bold yellow"), item.detail, indent=1)

    out.heading(f"Assessments ({len(detail.assessments)}, newest first)")
    if not detail.assessments:
        out.line(Text(" never assessed: press a to assess it before any release", style="yellow"))
    for a in reversed(detail.assessments):
        head = Text()
        head.append(f" {a.assessed_on}", style="bold")
        head.append(f"  by {a.assessor}  score {a.score}%  derived ")
        head.append(outcome_text(a.derived_outcome))
        head.append("  outcome ")
        head.append(outcome_text(a.outcome))
        head.append(f"  (entry {a.seq})", style="dim")
        out.line(head)
        if a.override_reason:
            out.bullet(Text("override:", style="bold magenta"),
                       f"{a.derived_outcome} -> {a.outcome}: {a.override_reason}", indent=4)
        if a.conditions:
            out.line(Text(f"    conditions, to be met by {a.condition_deadline}:"))
            for condition in a.conditions:
                out.bullet("-", condition, indent=6)
        valid = Text(f"    valid until {a.valid_until}",
                     style="red" if date.fromisoformat(a.valid_until) < today else "")
        out.line(valid + Text(f"; next review {a.next_review}"))

    count = len(detail.received)
    counted = f"more than {COUNT_CAP:,}" if count > COUNT_CAP else f"{count:,}"
    voided = sum(1 for s in detail.received if s.status == "voided")
    out.heading(f"Disclosures received: {counted}" + (f" ({voided} voided)" if voided else "")
                + (f"; the latest {SHOWN_DISCLOSURES}:" if count > SHOWN_DISCLOSURES else ""))
    if not detail.received:
        out.line(Text(" none", style="dim"))
    for s in detail.received[:SHOWN_DISCLOSURES]:
        days = s.first_day if s.first_day == s.last_day else f"{s.first_day}..{s.last_day}"
        row = Text(f" #{s.seq:<6} {days:<22} {s.basis:<18} {'statutory' if s.statutory else 'voluntary':<9} ")
        row.append(s.status, style="dim" if s.status == "voided" else "")
        out.line(row)
    return out.group()


def plain_text(renderable, width: int = 200) -> str:
    """A renderable as plain text (for tests and logs)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


class ScreenCommands(Provider):
    """A screen's actions in the command palette (ctrl+p), with their keys in the help text.
    Subclasses set `screen_type` and list `(name, help, callback)` in `commands`."""

    screen_type: type[Screen] = Screen

    def commands(self, screen) -> list[tuple[str, str, Callable[[], object]]]:
        return []

    def _listed(self) -> list[tuple[str, str, Callable[[], object]]]:
        screen = self.screen
        return self.commands(screen) if isinstance(screen, self.screen_type) else []

    async def discover(self) -> Hits:
        for name, help_text, callback in self._listed():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._listed():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


class ContractorCommands(ScreenCommands):
    def commands(self, screen):
        return [
            ("Contractors: assess the highlighted contractor",
             "walk the safeguard checklist and record an assessment (a)", screen.action_assess),
            ("Contractors: refresh the register", "read the register again (f5)", screen.action_refresh),
        ]


class ContractorsScreen(Screen):
    """The contractor register: badges, detail, and `a` to assess the highlighted contractor."""

    DEFAULT_CSS = """
    ContractorsScreen #contractors-table {
        height: auto;
        max-height: 45%;
    }
    ContractorsScreen #detail-pane {
        height: 1fr;
        border-top: solid $primary;
        padding: 0 1;
    }
    """

    COMMANDS = Screen.COMMANDS | {ContractorCommands}
    BINDINGS = [
        Binding("a", "assess", "Assess"),
        Binding("f5", "refresh", "Refresh"),
    ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.register_data: RegisterData | None = None   # the table's data, once read
        self._current: str | None = None                  # party id of the highlighted contractor
        self.detail: ContractorDetail | None = None       # the detail pane's data, once read

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="contractors-table", cursor_type="row", zebra_stripes=True)
        with VerticalScroll(id="detail-pane"):
            yield Static("Loading the register...", id="contractor-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#contractors-table", DataTable)
        for label, width in zip(TABLE_COLUMNS, COLUMN_WIDTHS):
            table.add_column(label, width=width)

    def on_screen_resume(self) -> None:
        self.action_refresh()

    # ---- data -----------------------------------------------------------------
    def action_refresh(self) -> None:
        self.load_register()

    @work(thread=True, exclusive=True, group="contractors-register")
    def load_register(self) -> None:
        try:
            with self.app.ledger.open() as service:
                data = RegisterData(tuple(service.vendors()), tuple(service.vendor_due()),
                                    service.today(), service.ref, service.operator)
        except Exception as exc:  # noqa: BLE001 - shown as a notification, never a traceback
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._show_register, data)

    def _failed(self, exc: Exception) -> None:
        if self.register_data is None:
            self.query_one("#contractor-detail", Static).update(
                Text(f"The register could not be read: {error_text(exc)}", style="bold red"))
        self.app.report_error(exc)

    def _show_register(self, data: RegisterData) -> None:
        self.register_data = data
        table = self.query_one("#contractors-table", DataTable)
        keep = self._current
        table.clear()
        for vendor in data.vendors:
            a = vendor.latest_assessment
            ends = contract_ends(vendor)
            ended = ends[:4].isdigit() and date.fromisoformat(ends) < data.today
            fits = COLUMN_WIDTHS[0]  # a longer name ends in "…" inside its column, not cut at its edge
            name = vendor.party.name if len(vendor.party.name) <= fits else vendor.party.name[:fits - 1] + "…"
            table.add_row(
                name, badge(vendor.status),
                Text(a.valid_until, style="red" if date.fromisoformat(a.valid_until) < data.today else "")
                if a else "-",
                Text(ends, style="bold red" if ended else ""),
                a.assessed_on if a else "-", outcome_text(a.outcome if a else None),
                vendor.party.kind, vendor.party.party_id,
                key=vendor.party.party_id,
            )
        self.query_one("#detail-pane").border_title = (
            f"Contractor register: {len(data.vendors)} contractor(s) · today {data.today.isoformat()}")
        if not data.vendors:
            self._current = None
            self.query_one("#contractor-detail", Static).update(Text(
                "No contractors or subcontractors in the register yet.\n\n"
                "Register one from the command line: `disclosure-ledger party add --kind contractor ...`, "
                "then `disclosure-ledger vendor register ID`; then assess it here (key a)."))
            return
        ids = [v.party.party_id for v in data.vendors]
        row = ids.index(keep) if keep in ids else 0
        table.move_cursor(row=row)
        self._current = ids[row]
        self.load_detail(ids[row])

    @on(DataTable.RowHighlighted, "#contractors-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        party_id = event.row_key.value
        if party_id is None:
            return
        if party_id == self._current and self.detail is not None \
                and self.detail.vendor.party.party_id == party_id:
            return
        self._current = party_id
        self.load_detail(party_id)

    def vendor(self, party_id: str | None) -> VendorSummary | None:
        if self.register_data is None or party_id is None:
            return None
        return next((v for v in self.register_data.vendors if v.party.party_id == party_id), None)

    @work(thread=True, exclusive=True, group="contractors-detail")
    def load_detail(self, party_id: str) -> None:
        data = self.register_data
        vendor = self.vendor(party_id)
        if data is None or vendor is None:
            return
        try:
            with self.app.ledger.open() as service:
                assessments = tuple(service.assessments(party_id))
                received = tuple(service.disclosures(DisclosureFilter(recipient=party_id), limit=COUNT_CAP + 1))
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, exc)
            return
        works_for = vendor.register.works_for if vendor.register else None
        detail = ContractorDetail(
            vendor, assessments, received,
            due=tuple(d for d in data.due if d.party_id == party_id),
            subcontractors=tuple(v for v in data.vendors
                                 if v.register is not None and v.register.works_for == party_id),
            works_for=self.vendor(works_for),
        )
        self.app.call_from_thread(self._show_detail, detail)

    def _show_detail(self, detail: ContractorDetail) -> None:
        if detail.vendor.party.party_id != self._current or self.register_data is None:
            return  # the highlight moved on while this was read
        self.detail = detail
        self.query_one("#contractor-detail", Static).update(render_detail(detail, self.register_data.today, self.register_data.ref))

    # ---- actions ----------------------------------------------------------------
    def action_assess(self) -> None:
        from .assessment import AssessmentWizard

        vendor = self.vendor(self._current)
        if vendor is None or self.register_data is None:
            self.notify("Highlight a contractor first.", severity="warning")
            return
        latest = vendor.latest_assessment
        wizard = AssessmentWizard(vendor.party, self.register_data.ref, self.register_data.today, self.register_data.operator,
                                  previous=latest)
        self.app.push_screen(wizard, self._assessed)

    def _assessed(self, view: AssessmentView | None) -> None:
        """Back from the wizard; the screen reloads itself when it resumes."""
        if view is not None:
            self.detail = None
            self.notify(f"Recorded assessment entry {view.seq}: {view.outcome.upper()} (score {view.score}%)",
                        title="Assessment recorded")



ContractorCommands.screen_type = ContractorsScreen
