"""The home screen: how big the ledger is, whether it is intact, this year's releases, and what
needs attention. On a new ledger it explains the first steps and offers the sample ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Static

from ..services import LedgerHandle
from ..widgets import BarChart, BarRow, entry_kind_words, plural, short_hash, when_local

# Register items that are already late (red) rather than coming up (yellow).
LATE_KINDS = {"not_assessed", "rejected", "assessment_overdue", "conditions_overdue", "contract_ended", "override"}
ATTENTION_WORDS = {
    "not_assessed": "Not assessed",
    "rejected": "Rejected",
    "assessment_overdue": "Assessment overdue",
    "assessment_expiring": "Assessment expiring",
    "conditions_overdue": "Conditions overdue",
    "certification_expiring": "Certification",
    "equivalent_measures_check": "Yearly check abroad",
    "contract_ended": "Contract ended",
    "override": "Override",
}
MAX_ATTENTION = 100
STATUTORY_HELP = ("Statutory: the law requires this record (APPI Art. 29-30, PPC Rules 18-21). "
                  "Voluntary: kept by choice, as good practice.")


def sample_path_for(path: Path) -> Path:
    """The sample ledger's file: next to the user's ledger, never the ledger itself."""
    return path.with_name(f"{path.stem}-sample{path.suffix or '.db'}")


@dataclass(frozen=True)
class AttentionLine:
    late: bool
    label: str
    who: str
    due_on: str | None
    detail: str


@dataclass(frozen=True)
class DashboardView:
    """What the dashboard shows, read in a worker and handed to the screen."""

    path: str
    size: int
    disclosures: int
    voided: int
    parties: int
    last_seq: int | None
    last_kind: str | None
    last_when: str | None
    last_who: str | None
    verified_when: str | None
    verified_ok: bool | None
    verified_size: int | None
    verified_root: str | None
    first_bad_seq: int | None
    problems: int
    year: int
    by_basis: tuple[BarRow, ...]
    statutory: int
    voluntary: int
    attention: tuple[AttentionLine, ...]

    @property
    def is_new(self) -> bool:
        return self.size <= 1


def basis_label(code: str, name: str | None) -> str:
    if name and len(name) <= BarChart.MAX_LABEL:
        return name
    return code.replace("_", " ").capitalize()


def read_dashboard(service) -> DashboardView:
    """Everything the dashboard shows, from service calls only (runs in a worker thread)."""
    board = service.dashboard()
    counts = service.counts()
    last = board.last_entry
    check = board.last_verification
    bases = service.ref.bases
    rows = tuple(sorted(
        (BarRow(basis_label(code, getattr(bases.get(code), "name", None)), count,
                getattr(bases.get(code), "name", code))
         for code, count in board.by_basis.items() if count),
        key=lambda r: (-r.count, r.label)))
    attention = [AttentionLine(item.kind in LATE_KINDS, ATTENTION_WORDS.get(item.kind, item.kind.replace("_", " ")),
                               item.party_name, item.due_on, item.detail)
                 for item in board.attention]
    for summary in board.retention_ending:
        attention.append(AttentionLine(
            False, "Retention ending", summary.recipient_name, summary.retention_until,
            f"the record of disclosure {summary.seq} is kept until {summary.retention_until}; "
            "after that its personal data may be erased"))
    attention.sort(key=lambda a: (not a.late, a.due_on or ""))
    return DashboardView(
        path=str(service.path), size=board.size, disclosures=counts.get("disclosures", 0),
        voided=counts.get("voided", 0), parties=counts.get("parties", 0),
        last_seq=last.seq if last else None, last_kind=last.kind if last else None,
        last_when=when_local(service.local_time(last.recorded_at)) if last else None,
        last_who=last.recorded_by if last else None,
        verified_when=when_local(service.local_time(check.verified_at)) if check else None,
        verified_ok=check.ok if check else None, verified_size=check.size if check else None,
        verified_root=check.root if check else None, first_bad_seq=check.first_bad_seq if check else None,
        problems=check.problems if check else 0,
        year=board.year, by_basis=rows, statutory=board.statutory, voluntary=board.voluntary,
        attention=tuple(attention),
    )


def open_sample(handle: LedgerHandle) -> Path:
    """Write the sample ledger into its own new file, or reuse the one written before.
    The user's ledger is never written to. Runs in a worker thread."""
    from ledger.demo import build_demo

    target = sample_path_for(handle.path)
    if target.exists():
        with LedgerHandle(target, operator=handle.operator, clock=handle.clock).open() as service:
            if service.counts()["entries"] > 1:
                return target  # the sample written before
        target.unlink()  # a ledger with nothing in it: write the sample afresh
    partial = target.with_name(target.name + ".partial")
    for leftover in (partial, partial.with_name(partial.name + "-wal"), partial.with_name(partial.name + "-shm")):
        if leftover.exists():
            leftover.unlink()
    scratch = LedgerHandle(partial, operator=handle.operator, clock=handle.clock)
    scratch.create()
    with scratch.open() as service:
        build_demo(service)
    os.replace(partial, target)  # whole or not at all: a half-written sample is never reused
    return target


class DashboardScreen(Screen):
    """Home: ledger size and last entry, integrity, this year's releases, what needs attention."""

    AUTO_FOCUS = "#attention-panel"

    BINDINGS = [
        Binding("f5,g", "refresh", "Refresh", show=False),
        Binding("v", "verify", "Verify", tooltip="Run the full verification now (on the Integrity screen)"),
        Binding("o", "sample", "Open sample", tooltip="Open the sample ledger, a separate file (offered on a new ledger)"),
        Binding("b", "back_home", "Back to my ledger", tooltip="Close the sample ledger and show yours again"),
    ]

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view: DashboardView | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="dashboard"):
            with Horizontal(id="dash-top", classes="dash-row"):
                with Vertical(id="ledger-panel", classes="panel") as panel:
                    panel.border_title = "Ledger"
                    yield Static("Loading…", id="ledger-info")
                with Vertical(id="integrity-panel", classes="panel") as panel:
                    panel.border_title = "Integrity"
                    yield Static("Loading…", id="integrity-info")
            with Horizontal(id="dash-bottom", classes="dash-row"):
                with VerticalScroll(id="releases-panel", classes="panel") as panel:
                    panel.border_title = "Releases this year"
                    panel.tooltip = STATUTORY_HELP
                    yield Static("", id="statutory-split")
                    yield BarChart(id="basis-chart", empty="no releases recorded this year")
                with VerticalScroll(id="attention-panel", classes="panel") as panel:
                    panel.border_title = "Needs attention"
                    yield Vertical(id="attention-list")
            with VerticalScroll(id="welcome", classes="panel") as panel:
                panel.border_title = "Getting started"
                yield Static("", id="welcome-text")
                yield Button("Open the sample ledger (o)", id="open-sample", variant="primary")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#welcome").display = False

    def on_screen_resume(self) -> None:
        self.load()

    # ---- loading ---------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="dashboard")
    def load(self) -> None:
        handle = self.app.ledger
        try:
            with handle.open() as service:
                view = read_dashboard(service)
        except Exception as exc:  # noqa: BLE001 - every service error becomes a notification
            self.app.call_from_thread(self.app.report_error, exc)
            return
        self.app.call_from_thread(self.show, view, handle)

    def show(self, view: DashboardView, handle: LedgerHandle | None = None) -> None:
        if handle is not None and handle is not self.app.ledger:
            return  # read from the ledger shown before a switch: a newer load is on its way
        self.view = view
        self.query_one("#ledger-info", Static).update(self._ledger_text(view))
        self.query_one("#integrity-info", Static).update(self._integrity_text(view))
        self.query_one("#dash-bottom").display = not view.is_new
        self.query_one("#welcome").display = view.is_new
        if view.is_new:
            self.query_one("#welcome-text", Static).update(self._welcome_text(view))
        else:
            releases = self.query_one("#releases-panel")
            total = view.statutory + view.voluntary
            releases.border_title = f"Releases in {view.year}: {total:,}"
            self.query_one("#statutory-split", Static).update(Content.from_markup(
                "[b]$statutory[/b] statutory · [b]$voluntary[/b] voluntary",
                statutory=f"{view.statutory:,}", voluntary=f"{view.voluntary:,}"))
            self.query_one("#basis-chart", BarChart).rows = view.by_basis
            attention = self.query_one("#attention-panel")
            attention.border_title = f"Needs attention: {len(view.attention)}"
            self._show_attention(view)
            focused = self.focused
            if focused is None or not focused.display or focused.id == "open-sample":
                self.query_one("#attention-panel").focus()
        self.refresh_bindings()

    # ---- wording ---------------------------------------------------------------------
    @staticmethod
    def _ledger_text(view: DashboardView) -> Content:
        lines = [
            Content.from_markup("[b]$n[/b] in the chain", n=plural(view.size, "entry", "entries")),
            Content.from_markup("$d, $p", d=plural(view.disclosures, "disclosure"),
                                p=plural(view.parties, "party", "parties")),
        ]
        if view.last_seq is not None:
            lines.append(Content.from_markup("Last entry: [b]#$seq[/b] $kind", seq=str(view.last_seq),
                                             kind=entry_kind_words(view.last_kind or "")))
            lines.append(Content.from_markup("[$text-muted]$when, $who", when=view.last_when or "",
                                             who=view.last_who or ""))
        return Content("\n").join(lines)

    @staticmethod
    def _integrity_text(view: DashboardView) -> Content:
        if view.verified_ok is None:
            return Content.from_markup(
                "[$warning b]Not verified yet[/]\nNo full check has been run on this ledger.\n"
                "Press [b]v[/b] to check every entry now.")
        added = view.size - (view.verified_size or 0)
        since = (f"\n[$warning]{plural(added, 'entry', 'entries')} added since[/]" if added > 0 else "")
        if view.verified_ok:
            head = Content.from_markup("[$success b]✔ Intact[/] · $when", when=view.verified_when or "")
            body = Content.from_markup("all $n as written" + since,
                                       n=plural(view.verified_size or 0, "entry", "entries"))
        else:
            head = Content.from_markup("[$error b]✘ NOT intact[/] · $when", when=view.verified_when or "")
            where = (f"first bad entry: #{view.first_bad_seq}" if view.first_bad_seq is not None
                     else "a problem outside the entries")
            body = Content.from_markup("$where ($problems)" + since, where=where,
                                       problems=plural(view.problems, "problem"))
        root = Content.from_markup("[$text-muted]root $root", root=short_hash(view.verified_root or ""))
        return Content("\n").join([head, body, root])

    def _show_attention(self, view: DashboardView) -> None:
        """One block per item: what and when on the first line, who and the detail indented below."""
        container = self.query_one("#attention-list", Vertical)
        with self.app.batch_update():
            container.remove_children()
            if not view.attention:
                container.mount(Static(Content.from_markup(
                    "[$success]Nothing needs attention.[/]\nNo assessment, certification, condition or "
                    "retention date is due."), classes="attention-none"))
                return
            blocks = []
            for item in view.attention[:MAX_ATTENTION]:
                style = "$error" if item.late else "$warning"
                mark = "●" if item.late else "○"
                due = f" {item.due_on}" if item.due_on else ""
                blocks.append(Static(Content.assemble((f"{mark} {item.label}", f"bold {style}"), (due, style)),
                                     classes="attention-head"))
                blocks.append(Static(Content.assemble((item.who, "bold"), f": {item.detail}"),
                                     classes="attention-detail"))
            hidden = len(view.attention) - MAX_ATTENTION
            if hidden > 0:
                blocks.append(Static(f"… and {hidden:,} more", classes="attention-head muted"))
            container.mount_all(blocks)

    def _welcome_text(self, view: DashboardView) -> Content:
        sample = sample_path_for(Path(view.path)).name
        return Content.from_markup(
            "[b]This ledger is new:[/b] it holds only its first entry. Three steps:\n"
            "[b]1.[/b] Register the parties you give personal data to:\n"
            "   [$text-muted]disclosure-ledger party add --name … --kind contractor --country JP …[/]\n"
            "   contractors also need a register record and an assessment (key [b]c[/b])\n"
            "[b]2.[/b] Record a disclosure: key [b]r[/b], or [$text-muted]disclosure-ledger disclose …[/]\n"
            "[b]3.[/b] Verify the chain: key [b]i[/b] then [b]v[/b], or [$text-muted]disclosure-ledger verify[/]\n"
            "To look around first, open the [b]sample ledger[/b]: a separate file ($sample) "
            "next to yours; your ledger is not touched.",
            sample=sample)

    # ---- actions ---------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "sample":
            return self.view is not None and self.view.is_new and not getattr(self.app, "sample_open", False)
        if action == "back_home":
            return bool(getattr(self.app, "sample_open", False))
        return True

    def action_refresh(self) -> None:
        self.load()

    async def action_verify(self) -> None:
        await self.app.action_verify_now()

    @on(Button.Pressed, "#open-sample")
    def _pressed_sample(self) -> None:
        self.action_sample()

    def action_sample(self) -> None:
        self.query_one("#open-sample", Button).disabled = True
        self.notify("Writing the sample ledger into its own file…", timeout=3)
        self._write_sample()

    @work(thread=True, exclusive=True, group="sample")
    def _write_sample(self) -> None:
        handle: LedgerHandle = self.app.ledger
        try:
            target = open_sample(handle)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.app.report_error, exc)
            self.app.call_from_thread(self._enable_sample_button)
            return
        self.app.call_from_thread(self._switch_to_sample, handle, target)

    def _enable_sample_button(self) -> None:
        self.query_one("#open-sample", Button).disabled = False

    def _switch_to_sample(self, home: LedgerHandle, target: Path) -> None:
        self._enable_sample_button()
        self.app.open_ledger(LedgerHandle(target, operator=home.operator, clock=home.clock), sample=True)
        self.notify(f"The sample ledger is open ({target.name}). Your ledger was not changed; "
                    "press b to go back to it.", title="Sample ledger", timeout=8)
        self.load()

    def action_back_home(self) -> None:
        self.app.close_sample()
        self.load()
