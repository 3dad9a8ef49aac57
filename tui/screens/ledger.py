"""The ledger browser: every disclosure, newest first, one keyset page at a time, with filters,
a detail pane (current state, history, why statutory, retention, the chain link) and the correct
and void actions.

All database work runs in thread workers that open their own service (an SQLite connection
cannot cross threads) and post typed messages back; widgets never wait on I/O. The table holds
one page only: `service.disclosures(filter, limit=PAGE_SIZE + 1, before_seq=...)` tells whether
an older page exists; the keys of the pages visited are kept so the newer page can be reloaded.
"""

from __future__ import annotations

import gc
import io
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Literal, Mapping, Sequence

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import Resize
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, Footer, Header, Input, Label, Select, Static
from textual.worker import get_current_worker

from ledger import validate as v
from ledger.domain import DisclosureDetail, DisclosureFilter, DisclosureSummary
from ledger.errors import LedgerError, ValidationError, ValidationErrors
from ledger.service import LedgerService

from ..services import LedgerHandle, error_text
from ..widgets.ledger_table import LedgerTable

PAGE_SIZE = 100
WIDE = 150  # from this width on, the detail pane sits beside the table instead of below it

Cursor = Literal["first", "last"] | int


# ---- reading from worker threads -----------------------------------------------------------
class _Reader:
    __slots__ = ("handle", "opener", "service", "busy")

    def __init__(self, handle: LedgerHandle, opener, service: LedgerService) -> None:
        self.handle = handle
        self.opener = opener
        self.service = service
        self.busy = False

    def close(self) -> None:
        try:
            self.opener.__exit__(None, None, None)
        except Exception:
            pass


class Readers:
    """One open service per worker thread, reused for reads.

    Opening a service costs milliseconds and leaves much garbage (its SQLAlchemy engine), which
    brings long garbage-collector pauses; a page move should not pay for it. Each worker thread
    keeps its own service (an SQLite connection stays in the thread that opened it); the
    connection reads in autocommit mode, so every query sees what was committed before it.
    Writes (correct, void) open their own service as usual. A reader is never closed while a
    query runs on it: `close()` closes the idle ones, a busy one closes when its query ends."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[_Reader] = []
        self._closed = False

    @contextmanager
    def open(self, handle: LedgerHandle) -> Iterator[LedgerService]:
        reader: _Reader | None = getattr(self._local, "reader", None)
        stale = None
        with self._lock:
            if self._closed:
                raise RuntimeError("the ledger screen was closed")
            if reader is not None and (reader.handle is not handle or reader not in self._open):
                stale, reader = reader, None
            if reader is not None:
                reader.busy = True
        if stale is not None:
            self._local.reader = None
            self._discard(stale)
        if reader is None:
            opener = handle.open()
            reader = _Reader(handle, opener, opener.__enter__())
            reader.busy = True
            with self._lock:
                self._open.append(reader)
            self._local.reader = reader
        broken = False
        try:
            yield reader.service
        except LedgerError:
            raise  # a refusal (no such entry, a bad filter): the connection is fine
        except BaseException:
            broken = True  # anything else may have left the connection in a bad state
            raise
        finally:
            with self._lock:
                reader.busy = False
                close_now = broken or self._closed
            if close_now:
                self._local.reader = None
                self._discard(reader)

    def _discard(self, reader: _Reader) -> None:
        with self._lock:
            if reader not in self._open:
                return
            self._open.remove(reader)
        reader.close()

    def close(self) -> None:
        """Close the idle readers now and the busy ones when their query ends (the screen goes away)."""
        with self._lock:
            self._closed = True
            idle = [r for r in self._open if not r.busy]
            self._open = [r for r in self._open if r.busy]
        for reader in idle:
            reader.close()


_startup_frozen = False


def freeze_startup_objects() -> None:
    """Once per process, after the first page is on screen: move the objects of start-up (Textual,
    the service's modules, reference data) out of the garbage collector's sight (`gc.freeze`).
    Otherwise every full collection walks them all, a pause of 100 ms and more that lands on a
    page move now and then; after it, a full collection walks only what was made since."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.freeze()


# ---- what the workers hand back -------------------------------------------------------
@dataclass(frozen=True)
class PageRequest:
    token: int
    filters: DisclosureFilter
    index: int                  # 0 = the newest page
    before_seq: int | None      # the keyset: rows with seq < before_seq
    cursor: Cursor = "first"
    keep_seq: int | None = None  # put the cursor back on this disclosure if it is on the page


@dataclass(frozen=True)
class DetailView:
    """A disclosure's detail with everything the pane shows, prepared in the worker."""

    detail: DisclosureDetail
    statutory_reason: str
    retention_reason: str
    recorded_local: str
    history_local: tuple[str, ...]
    gating: Mapping | None
    evidence_fields: tuple[str, ...] = ()        # evidence codes any basis may ask for
    route_evidence_fields: tuple[str, ...] = ()

    @property
    def summary(self) -> DisclosureSummary:
        return self.detail.summary

    @property
    def seq(self) -> int:
        return self.detail.summary.seq

    @property
    def voided(self) -> bool:
        return self.detail.summary.status == "voided"


@dataclass(frozen=True)
class FilterOptions:
    recipients: tuple[tuple[str, str], ...]
    bases: tuple[tuple[str, str], ...]


def _local(service, recorded_at: str) -> str:
    return service.local_time(recorded_at).strftime("%Y-%m-%d %H:%M %Z")


def _current_gating(service, detail: DisclosureDetail) -> Mapping | None:
    """How the contractor register let the release through, as of the latest correction."""
    gating = detail.entry.body.get("gating")
    for change in detail.history:
        if change.action != "voided" and "gating" in change.fields:
            gating = service.entry(change.seq).body.get("changes", {}).get("gating", gating)
    return gating


def load_detail_view(service, seq: int) -> DetailView:
    """Everything the detail pane shows about disclosure `seq` (runs in a worker)."""
    detail = service.disclosure(seq)
    summary = detail.summary
    evidence = dict.fromkeys(f.code for f in service.ref.bases[summary.basis].evidence) \
        if summary.basis in service.ref.bases else {}
    for basis in service.ref.bases.values():
        evidence.update(dict.fromkeys(f.code for f in basis.evidence))
    routes: dict[str, None] = {}
    for route in service.ref.routes.values():
        routes.update(dict.fromkeys(f.code for f in route.evidence))
    return DetailView(
        detail=detail,
        statutory_reason=service.statutory_reason(summary),
        retention_reason=service.retention_reason(summary),
        recorded_local=_local(service, summary.recorded_at),
        history_local=tuple(_local(service, h.recorded_at) for h in detail.history),
        gating=_current_gating(service, detail),
        evidence_fields=tuple(dict.fromkeys([*detail.evidence, *evidence])),
        route_evidence_fields=tuple(dict.fromkeys([*detail.route_evidence, *routes])),
    )


# ---- the detail pane's text ---------------------------------------------------------------
def _period(s: DisclosureSummary) -> str:
    return s.first_day if s.first_day == s.last_day else f"{s.first_day} to {s.last_day}"


def _gating_text(gating: Mapping) -> str:
    if "override" in gating:
        o = gating["override"]
        return (f"OVERRIDE: forced past the register ({o.get('failed')}: {o.get('message')}); "
                f"reason: {o.get('reason')}")
    return f"justified by assessment entry {gating.get('assessment')}"


def _fields(rows: Sequence[tuple[str, str | Text]]) -> Table:
    """Label and value, the value wrapping under itself."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", width=12, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def detail_renderable(view: DetailView) -> Group:
    """The detail pane: current state, why this record, history, chain link."""
    d, s = view.detail, view.summary
    heading = Text()
    heading.append(f"Disclosure {s.seq}", style="bold")
    if view.voided:
        heading.append(" · VOIDED", style="bold red")
    else:
        heading.append(f" · {s.status}")
    heading.append(f" · version {s.version}", style="bold yellow" if s.version > 1 else "")
    subjects = ", ".join(d.subjects) if d.subjects else f"group of {s.subject_count}: {d.group_description or '-'}"
    cross = (f"{s.route}: " + ", ".join(f"{k}={x}" for k, x in d.route_evidence.items())) if s.route else "-"
    state = [
        ("When", _period(s) + (" (bulk record)" if s.bulk else "")),
        ("Recipient", f"{s.recipient_name} ({s.recipient_id}, {s.country})"),
        ("Subjects", subjects),
        ("Data items", ", ".join(s.data_items)),
        ("Purpose", s.purpose),
        ("Basis", s.basis),
        ("Evidence", "; ".join(f"{k}={x}" for k, x in d.evidence.items()) or "-"),
        ("Cross-border", cross),
        ("Method", s.method or "-"),
        ("Notes", d.notes or "-"),
    ]
    if view.gating:
        state.append(("Register", _gating_text(view.gating)))
    state.append(("Recorded", f"{view.recorded_local} by {s.recorded_by}"))
    why = [
        ("Record", Text.assemble(("statutory" if s.statutory else "voluntary", "bold"), ": ", view.statutory_reason)),
        ("Retention", Text.assemble(("kept until ", ""), (s.retention_until, "bold"), ": ", view.retention_reason)),
    ]
    history = [(f"entry {s.seq}", f"recorded {view.recorded_local} by {s.recorded_by}")]
    for change, when in zip(d.history, view.history_local):
        what = Text("voided", style="bold red") if change.action == "voided" else \
            Text(f"corrected {', '.join(change.fields)}", style="yellow")
        history.append((f"entry {change.seq}",
                        Text.assemble(what, f" {when} by {change.recorded_by}; reason: ",
                                      change.reason or "(reason erased)")))
    entry = d.entry
    chain = [
        ("Leaf hash", entry.leaf_hash.hex()),
        ("Prev", entry.prev),
        ("Leaf bytes", Text(entry.leaf.decode("utf-8", errors="replace"), style="dim")),
    ]
    title = "bold underline"
    return Group(
        heading,
        Text("Current state", style=title), _fields(state),
        Text("\nWhy this record", style=title), _fields(why),
        Text("\nHistory", style=title), _fields(history),
        *((Text("no correction or void", style="dim"),) if not d.history else ()),
        Text("\nChain", style=title), _fields(chain),
    )


def renderable_text(renderable, width: int = 200) -> str:
    """Plain text of a renderable (what the pane says, for tests and the clipboard)."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


# ---- correction input, as the command line's --set FIELD=VALUE ----------------------------
CORRECTABLE = (
    "recipient", "date", "last_day", "subjects", "group_description", "group_count", "data_items",
    "purpose", "basis", "route", "method", "notes", "contract_as_record",
)


def current_values(view: DetailView) -> dict[str, str]:
    """The current value of every correctable field, as text to edit."""
    d, s = view.detail, view.summary
    values = {
        "recipient": s.recipient_id, "date": s.first_day, "last_day": s.last_day if s.bulk else "",
        "subjects": "; ".join(d.subjects), "group_description": d.group_description or "",
        "group_count": str(s.subject_count) if s.bulk and not d.subjects else "",
        "data_items": ", ".join(s.data_items), "purpose": s.purpose, "basis": s.basis,
        "route": s.route or "", "method": s.method or "", "notes": d.notes or "",
        "contract_as_record": "true" if s.contract_as_record else "false",
    }
    for key in view.evidence_fields:
        values[f"evidence.{key}"] = d.evidence.get(key, "")
    for key in view.route_evidence_fields:
        values[f"route_evidence.{key}"] = d.route_evidence.get(key, "")
    return values


def correction_changes(pairs: Mapping[str, str], view: DetailView) -> dict[str, object]:
    """FIELD=VALUE pairs into the changes `correct_disclosure` takes (the CLI's --set rules):
    lists split on ';' (data items also on ','), evidence fields merged into the current evidence."""
    changes: dict[str, object] = {}
    for key, value in pairs.items():
        if key == "data_items":
            changes[key] = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        elif key == "subjects":
            changes[key] = [p.strip() for p in value.split(";") if p.strip()]
        elif key.startswith("evidence.") or key.startswith("route_evidence."):
            group, _, name = key.partition(".")
            changes.setdefault(group, {})[name] = value  # type: ignore[index]
        else:
            changes[key] = value
    for group, existing in (("evidence", view.detail.evidence), ("route_evidence", view.detail.route_evidence)):
        if group in changes:
            changes[group] = {**existing, **changes[group]}  # type: ignore[dict-item]
    return changes


def _error_lines(exc: Exception) -> str:
    if isinstance(exc, ValidationErrors):
        return "\n".join(str(e) for e in exc.errors)
    return error_text(exc)


# ---- modal screens ------------------------------------------------------------------------
class ConfirmScreen(ModalScreen[bool]):
    """Says what will be appended, and that the original stays; answers True to go ahead."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-text { height: auto; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("y", "answer(True)", "Append"),
        Binding("escape,n", "answer(False)", "Back"),
    ]

    def __init__(self, title: str, message: Text | str, confirm_label: str):
        super().__init__()
        self.title_text = title
        self.message = message
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.title_text, classes="title")
            yield Static(self.message, id="confirm-text")
            with Horizontal():
                yield Button(f"{self.confirm_label} (y)", variant="warning", id="confirm-yes", compact=True)
                yield Button("Back (esc)", id="confirm-no", compact=True)

    def on_mount(self) -> None:
        self.query_one("#confirm-yes", Button).focus()

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


class _ChangeDialog(ModalScreen[int | None]):
    """Shared by correct and void: review, confirm, append in a worker, errors shown inline."""

    DEFAULT_CSS = """
    _ChangeDialog { align: center middle; }
    _ChangeDialog > Vertical {
        width: 78; max-width: 100%; height: auto; max-height: 100%;
        border: thick $accent; background: $surface; padding: 0 1;
    }
    _ChangeDialog .explain { color: $text-muted; height: auto; margin-bottom: 1; }
    _ChangeDialog .field-label { text-style: bold; }
    _ChangeDialog .row { height: 1; margin-bottom: 1; }
    _ChangeDialog .row Input { width: 1fr; }
    _ChangeDialog #field { width: 30; margin-right: 1; }
    _ChangeDialog #add { margin-left: 1; }
    _ChangeDialog #changes { height: auto; margin-bottom: 1; }
    _ChangeDialog #reason { margin-bottom: 1; }
    _ChangeDialog #dialog-error { height: auto; color: $error; }
    _ChangeDialog .buttons { height: 1; align-horizontal: right; margin-top: 1; }
    _ChangeDialog .buttons Button { margin-left: 1; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "review", "Review"),
    ]

    class Appended(Message):
        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

    class Refused(Message):
        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    def __init__(self, view: DetailView, handle: LedgerHandle):
        super().__init__()
        self.view = view
        self.handle = handle
        self.busy = False

    def show_error(self, message: str) -> None:
        self.query_one("#dialog-error", Static).update(message)

    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#review")
    def _review_pressed(self) -> None:
        self.action_review()

    def action_review(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _start(self, call) -> None:
        """Run `call(service)` in a worker; it returns the new entry's seq."""
        self.busy = True
        self.show_error("Appending…")
        for button in self.query(Button):
            button.disabled = True
        self._append(call)

    @work(thread=True, exclusive=True, group="ledger-change")
    def _append(self, call) -> None:
        try:
            with self.handle.open() as service:
                seq = call(service)
        except Exception as exc:  # every refusal is shown, none is a traceback
            self.post_message(self.Refused(exc))
            return
        self.post_message(self.Appended(seq))

    def on__change_dialog_appended(self, message: Appended) -> None:
        self.busy = False
        self.dismiss(message.seq)

    def on__change_dialog_refused(self, message: Refused) -> None:
        self.busy = False
        for button in self.query(Button):
            button.disabled = False
        self.show_error("Nothing was recorded:\n" + _error_lines(message.error))
        self.app.report_error(message.error)  # type: ignore[attr-defined]


class CorrectScreen(_ChangeDialog):
    """Correct a disclosure: field = value changes and a mandatory reason."""

    def __init__(self, view: DetailView, handle: LedgerHandle):
        super().__init__(view, handle)
        self.current = current_values(view)
        self.pairs: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        seq = self.view.seq
        options = [(name, name) for name in (*CORRECTABLE, *(k for k in self.current if "." in k))]
        with Vertical():
            yield Label(f"Correct disclosure {seq}", classes="title")
            yield Static(
                f"A correction is a new entry appended to the ledger. Entry {seq} stays as it is; "
                "the disclosure's current state and history show the change. Pick a field, type its "
                "new value (lists separated by ';'), add it, and give the reason.", classes="explain")
            yield Label("Field and its new value", classes="field-label")
            with Horizontal(classes="row"):
                yield Select(options, prompt="field to change", id="field", compact=True)
                yield Input(placeholder="new value", id="value", compact=True)
                yield Button("Add", id="add", compact=True)
            yield Static("No change yet.", id="changes")
            yield Label("Reason (required, kept in the ledger)", classes="field-label")
            yield Input(placeholder="why the record was wrong", id="reason", compact=True)
            yield Static("", id="dialog-error")
            with Horizontal(classes="buttons"):
                yield Button("Review (ctrl+s)", variant="primary", id="review", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#field", Select).focus()

    @on(Select.Changed, "#field")
    def _field_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            value_input = self.query_one("#value", Input)
            value_input.value = self.pairs.get(event.value, self.current.get(event.value, ""))
            value_input.focus()

    def _take_pending(self) -> None:
        """The field and value typed but not yet added count as a change."""
        field_select = self.query_one("#field", Select)
        value = self.query_one("#value", Input).value
        if isinstance(field_select.value, str) and value != self.current.get(field_select.value, "") \
                or isinstance(field_select.value, str) and field_select.value in self.pairs:
            self.pairs[field_select.value] = value
        self._show_pairs()

    def _show_pairs(self) -> None:
        if not self.pairs:
            self.query_one("#changes", Static).update("No change yet.")
            return
        text = Text("Changes:\n", style="bold")
        for key, value in self.pairs.items():
            text.append(f"  {key} = ", style="bold")
            text.append(f"{value or '(empty)'}\n")
        self.query_one("#changes", Static).update(text)

    @on(Button.Pressed, "#add")
    @on(Input.Submitted, "#value")
    def _add(self) -> None:
        self._take_pending()
        self.query_one("#field", Select).focus()

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self) -> None:
        self.action_review()

    def action_review(self) -> None:
        if self.busy:
            return
        self._take_pending()
        reason = self.query_one("#reason", Input).value
        problems = []
        if not self.pairs:
            problems.append("changes: name at least one field to correct")
        if not reason.strip():
            problems.append("reason: is required")
        if problems:
            self.show_error("\n".join(problems))
            return
        self.show_error("")
        changes = correction_changes(self.pairs, self.view)
        seq = self.view.seq
        message = Text()
        message.append(f"A new correction entry will be appended to the ledger, naming disclosure {seq}, "
                       "the changed fields and your reason. ")
        message.append(f"The original entry {seq} stays in the ledger unchanged", style="bold")
        message.append(f"; the disclosure becomes version {self.view.summary.version + 1}. "
                       "An appended entry cannot be edited or removed.\n\n")
        for key, value in self.pairs.items():
            message.append(f"  {key} = ", style="bold")
            message.append(f"{value or '(empty)'}\n")
        message.append("  reason: ", style="bold")
        message.append(reason.strip())

        def go(yes: bool | None) -> None:
            if yes:
                self._start(lambda service: service.correct_disclosure(seq, changes, reason))

        self.app.push_screen(ConfirmScreen(f"Append a correction of disclosure {seq}?", message,
                                           "Append correction"), go)


class VoidScreen(_ChangeDialog):
    """Void a disclosure: the reason, then a confirmation."""

    def compose(self) -> ComposeResult:
        seq = self.view.seq
        with Vertical():
            yield Label(f"Void disclosure {seq}", classes="title")
            yield Static(
                f"Voiding appends a new entry that marks disclosure {seq} as void. Entry {seq} stays in "
                "the ledger and its history; it is listed as voided from now on.", classes="explain")
            yield Label("Reason (required, kept in the ledger)", classes="field-label")
            yield Input(placeholder="why the release is void", id="reason", compact=True)
            yield Static("", id="dialog-error")
            with Horizontal(classes="buttons"):
                yield Button("Review (ctrl+s)", variant="error", id="review", compact=True)
                yield Button("Cancel (esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#reason", Input).focus()

    @on(Input.Submitted, "#reason")
    def _reason_submitted(self) -> None:
        self.action_review()

    def action_review(self) -> None:
        if self.busy:
            return
        reason = self.query_one("#reason", Input).value
        if not reason.strip():
            self.show_error("reason: is required")
            return
        self.show_error("")
        seq = self.view.seq
        message = Text()
        message.append(f"A new void entry will be appended to the ledger, naming disclosure {seq} and your reason. ")
        message.append(f"The original entry {seq} stays in the ledger unchanged", style="bold")
        message.append(" and is listed as voided. An appended entry cannot be edited or removed.\n\n")
        message.append("  reason: ", style="bold")
        message.append(reason.strip())

        def go(yes: bool | None) -> None:
            if yes:
                self._start(lambda service: service.void_disclosure(seq, reason))

        self.app.push_screen(ConfirmScreen(f"Void disclosure {seq}?", message, "Append void"), go)


# ---- the command palette ------------------------------------------------------------------
class LedgerCommands(Provider):
    """The ledger browser's actions in the command palette (ctrl+p), with their keys."""

    def _commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        screen = self.screen
        if not isinstance(screen, LedgerScreen):
            return []
        return [
            ("Ledger: older page", "the next page of older disclosures (n)", screen.action_older),
            ("Ledger: newer page", "the previous page of newer disclosures (p)", screen.action_newer),
            ("Ledger: newest page", "back to the newest disclosures (g)", screen.action_newest),
            ("Ledger: filter", "search text, period, recipient, basis, statutory only, data subject (/)",
             screen.action_focus_filter),
            ("Ledger: clear filters", "show every disclosure again (ctrl+r)", screen.action_clear_filters),
            ("Ledger: correct the highlighted disclosure", "append a correction; the original stays (e)",
             screen.action_correct),
            ("Ledger: void the highlighted disclosure", "append a void; the original stays (x)",
             screen.action_void),
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)


# ---- the screen ---------------------------------------------------------------------------
class LedgerScreen(Screen):
    """Every disclosure, newest first, in keyset pages; filters; the detail of the highlighted one."""

    DEFAULT_CSS = """
    LedgerScreen #filters { height: auto; padding: 0 1; }
    LedgerScreen .filter-row { height: 1; }
    LedgerScreen .filter-row > * { margin-right: 1; }
    LedgerScreen #f-text { width: 2fr; }
    LedgerScreen #f-since, LedgerScreen #f-until { width: 17; }
    LedgerScreen #f-recipient, LedgerScreen #f-basis { width: 1fr; }
    LedgerScreen #f-subject { width: 1fr; }
    LedgerScreen #f-statutory { width: auto; margin-right: 0; }
    LedgerScreen #ledger-status { height: 1; padding: 0 1; color: $text-muted; background: $boost; }
    LedgerScreen #ledger-body { height: 1fr; layout: vertical; }
    LedgerScreen #ledger-body.wide { layout: horizontal; }
    LedgerScreen LedgerTable { height: 1fr; }
    LedgerScreen #ledger-body.wide LedgerTable { width: 78; height: 100%; }
    LedgerScreen #detail-pane { height: 1fr; border-top: solid $primary; }
    LedgerScreen #ledger-body.wide #detail-pane { width: 1fr; height: 100%; border-top: none; border-left: solid $primary; }
    LedgerScreen #detail-pane:focus-within { border-top: solid $accent; }
    LedgerScreen #ledger-body.wide #detail-pane:focus-within { border-left: solid $accent; }
    LedgerScreen #detail { height: 1fr; padding: 0 1; }
    LedgerScreen #detail-actions { height: 1; padding: 0 1; }
    LedgerScreen #detail-actions Button { margin-right: 1; }
    LedgerScreen #detail-hint { width: 1fr; color: $text-muted; }
    """

    COMMANDS = Screen.COMMANDS | {LedgerCommands}
    BINDINGS = [
        Binding("n", "older", "Older page"),
        Binding("p", "newer", "Newer page"),
        Binding("g", "newest", "Newest", show=False),
        Binding("slash", "focus_filter", "Filter"),
        Binding("ctrl+r", "clear_filters", "Clear filters"),
        Binding("e", "correct", "Correct"),
        Binding("x", "void", "Void"),
        Binding("escape", "focus_table", "Table", show=False),
    ]

    class PageLoaded(Message):
        def __init__(self, request: PageRequest, rows: Sequence[DisclosureSummary], has_older: bool) -> None:
            super().__init__()
            self.request = request
            self.rows = rows
            self.has_older = has_older

    class DetailLoaded(Message):
        def __init__(self, token: int, view: DetailView) -> None:
            super().__init__()
            self.token = token
            self.view = view

    class OptionsLoaded(Message):
        def __init__(self, options: FilterOptions) -> None:
            super().__init__()
            self.options = options

    class LoadFailed(Message):
        def __init__(self, token: int | None, error: Exception, what: str) -> None:
            super().__init__()
            self.token = token
            self.error = error
            self.what = what

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.filters = DisclosureFilter()
        self.page_index = 0
        self.page_keys: list[int | None] = [None]
        self.fetching = False
        self.pages_shown = 0         # counts every page put in the table (tests and the bench wait on it)
        self.detail: DetailView | None = None
        self._token = 0
        self._detail_token = 0
        self._detail_seq: int | None = None
        self._started = False
        self._readers = Readers()
        self._bindings_state: tuple | None = None
        self._wanted: tuple | None = None

    @property
    def detail_plain(self) -> str:
        """The detail pane as plain text."""
        return renderable_text(self.query_one("#detail-body", Static).content)

    # ---- layout -------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="filters"):
            with Horizontal(classes="filter-row"):
                yield Input(placeholder="/ search: recipient, basis, purpose, item, entry",
                            id="f-text", compact=True)
                yield Input(placeholder="since YYYY-MM-DD", id="f-since", compact=True)
                yield Input(placeholder="until YYYY-MM-DD", id="f-until", compact=True)
            with Horizontal(classes="filter-row"):
                yield Select([], prompt="any recipient", id="f-recipient", compact=True)
                yield Select([], prompt="any basis", id="f-basis", compact=True)
                yield Input(placeholder="data subject id", id="f-subject", compact=True)
                yield Checkbox("statutory only", id="f-statutory", compact=True)
        yield Static("Loading…", id="ledger-status")
        with Horizontal(id="ledger-body"):
            yield LedgerTable(id="ledger-table")
            with Vertical(id="detail-pane"):
                with Horizontal(id="detail-actions"):
                    yield Button("Correct (e)", id="detail-correct", compact=True, disabled=True)
                    yield Button("Void (x)", id="detail-void", variant="error", compact=True, disabled=True)
                    yield Static("a new entry; the original stays", id="detail-hint")
                with VerticalScroll(id="detail"):
                    yield Static("No disclosure selected.", id="detail-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(LedgerTable).focus()
        self._lay_out(self.app.size.width)

    def on_unmount(self) -> None:
        self._readers.close()

    def on_resize(self, event: Resize) -> None:
        self._lay_out(event.size.width)

    def _lay_out(self, width: int) -> None:
        self.query_one("#ledger-body").set_class(width >= WIDE, "wide")

    def on_screen_resume(self) -> None:
        """First show: load the filter choices and the newest page. Later: refresh in place (another
        screen may have recorded something)."""
        if not self._started:
            self._started = True
            self._load_options(self._handle)
            self._request_page(0, None)
        elif not self.fetching:
            self.reload(keep_seq=self.detail.seq if self.detail else None)

    @property
    def _handle(self) -> LedgerHandle:
        return self.app.ledger  # type: ignore[attr-defined]

    @property
    def table(self) -> LedgerTable:
        return self.query_one(LedgerTable)

    # ---- pages ----------------------------------------------------------------------------
    def _request_page(self, index: int, before_seq: int | None, cursor: Cursor = "first",
                      keep_seq: int | None = None) -> None:
        wanted = (self.filters, index, before_seq, cursor, keep_seq)
        if self.fetching and wanted == self._wanted:
            return  # the same page is on its way (a held key): let it arrive
        self._wanted = wanted
        self._token += 1
        self.fetching = True
        self._set_status("Searching…" if self._filter_words() else "Loading…")
        self._load_page(self._handle, PageRequest(self._token, self.filters, index, before_seq, cursor, keep_seq))

    def reload(self, keep_seq: int | None = None) -> None:
        """Reload the page in view (after a change), keeping the cursor where it was."""
        before = self.page_keys[self.page_index] if self.page_index < len(self.page_keys) else None
        self._request_page(self.page_index, before, self.table.cursor_row, keep_seq)

    @work(thread=True, exclusive=True, group="ledger-page")
    def _load_page(self, handle: LedgerHandle, request: PageRequest) -> None:
        worker = get_current_worker()
        try:
            with self._readers.open(handle) as service:
                rows = service.disclosures(request.filters, limit=PAGE_SIZE + 1, before_seq=request.before_seq)
        except Exception as exc:  # every refusal is shown, none is a traceback
            self.post_message(self.LoadFailed(request.token, exc, "page"))
            return
        if not worker.is_cancelled:
            self.post_message(self.PageLoaded(request, rows[:PAGE_SIZE], len(rows) > PAGE_SIZE))

    def on_ledger_screen_page_loaded(self, message: PageLoaded) -> None:
        request = message.request
        if request.token != self._token:
            return  # a newer request (page move or filter) took over
        self.fetching = False
        self.page_index = request.index
        del self.page_keys[request.index:]
        self.page_keys.extend([None] * (request.index - len(self.page_keys)))
        self.page_keys.append(request.before_seq)
        rows = list(message.rows)
        if request.keep_seq is not None and any(r.seq == request.keep_seq for r in rows):
            cursor = next(i for i, r in enumerate(rows) if r.seq == request.keep_seq)
        elif request.cursor == "last":
            cursor = len(rows) - 1
        elif request.cursor == "first":
            cursor = 0
        else:
            cursor = int(request.cursor)
        table = self.table
        table.show_page(rows, has_older=message.has_older, has_newer=request.index > 0, cursor=cursor)
        self.pages_shown += 1
        freeze_startup_objects()
        self._show_status()
        self._refresh_keys()
        current = table.current
        if current is None:
            self._clear_detail()
        else:
            # the page paints first; the detail's worker then does not compete with that paint
            self.call_after_refresh(self._want_detail, current.seq, request.keep_seq is not None)

    def _show_status(self) -> None:
        rows = self.table.rows_shown
        filtered = self._filter_words()
        where = f" · filtered: {filtered}" if filtered else ""
        if not rows:
            self._set_status(("No disclosure matches these filters" if filtered else "No disclosure yet")
                             + where + (" · ctrl+r clears" if filtered else ""))
            return
        more = []
        if self.page_index > 0:
            more.append("newer: p")
        more.append("older: n" if self.table.has_older else "end of the ledger")
        self._set_status(f"Page {self.page_index + 1} · entries {rows[0].seq}–{rows[-1].seq} · newest first"
                         + where + " · " + ", ".join(more))

    def _set_status(self, text: str) -> None:
        self.query_one("#ledger-status", Static).update(text)

    def _filter_words(self) -> str:
        f = self.filters
        words = []
        if f.text:
            words.append(f"text '{f.text}'")
        if f.since:
            words.append(f"since {f.since}")
        if f.until:
            words.append(f"until {f.until}")
        if f.recipient:
            words.append(f"recipient {f.recipient}")
        if f.basis:
            words.append(f"basis {f.basis}")
        if f.subject:
            words.append(f"subject {f.subject}")
        if f.statutory_only:
            words.append("statutory only")
        return ", ".join(words)

    def on_ledger_table_page_wanted(self, message: LedgerTable.PageWanted) -> None:
        if message.direction == "older":
            self.action_older()
        else:
            self.action_newer(cursor="last")

    def action_older(self) -> None:
        rows = self.table.rows_shown
        # a page move supersedes any page still loading (a reload, the previous press)
        if not self.table.has_older or not rows:
            return
        self._request_page(self.page_index + 1, rows[-1].seq, "first")

    def action_newer(self, cursor: Cursor = "first") -> None:
        if self.page_index == 0:
            return
        self._request_page(self.page_index - 1, self.page_keys[self.page_index - 1], cursor)

    def action_newest(self) -> None:
        self._request_page(0, None)

    def _refresh_keys(self) -> None:
        """Redraw the footer only when a key's availability changed (a redraw rebuilds it)."""
        state = (self.table.has_older, self.page_index > 0, self.detail is not None and not self.detail.voided)
        if state != self._bindings_state:
            self._bindings_state = state
            self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if not self.is_mounted:
            return True
        if action == "older":
            return True if self.table.has_older else None
        if action == "newer":
            return True if self.page_index > 0 else None
        if action in ("correct", "void"):
            return True if self.detail is not None and not self.detail.voided else None
        return True

    # ---- detail ----------------------------------------------------------------------------
    @on(LedgerTable.RowHighlighted)
    def _row_highlighted(self, event: LedgerTable.RowHighlighted) -> None:
        current = self.table.current
        if current is not None:
            self._want_detail(current.seq)

    def on_ledger_table_detail_wanted(self) -> None:
        self.query_one("#detail").focus()

    def _want_detail(self, seq: int, force: bool = False) -> None:
        if seq == self._detail_seq and not force:
            return
        self._detail_seq = seq
        self._detail_token += 1
        self._load_detail(self._handle, seq, self._detail_token)

    @work(thread=True, exclusive=True, group="ledger-detail")
    def _load_detail(self, handle: LedgerHandle, seq: int, token: int) -> None:
        worker = get_current_worker()
        try:
            with self._readers.open(handle) as service:
                view = load_detail_view(service, seq)
        except Exception as exc:
            self.post_message(self.LoadFailed(token, exc, "detail"))
            return
        if not worker.is_cancelled:
            self.post_message(self.DetailLoaded(token, view))

    def on_ledger_screen_detail_loaded(self, message: DetailLoaded) -> None:
        if message.token != self._detail_token:
            return
        self.detail = message.view
        self.query_one("#detail-body", Static).update(detail_renderable(message.view))
        voided = message.view.voided
        self.query_one("#detail-correct", Button).disabled = voided
        self.query_one("#detail-void", Button).disabled = voided
        self.table.update_row(message.view.summary)
        self._refresh_keys()

    def _clear_detail(self) -> None:
        self.detail = None
        self._detail_seq = None
        self._detail_token += 1
        self.query_one("#detail-body", Static).update("No disclosure selected.")
        self.query_one("#detail-correct", Button).disabled = True
        self.query_one("#detail-void", Button).disabled = True
        self._refresh_keys()

    def on_ledger_screen_load_failed(self, message: LoadFailed) -> None:
        if message.what == "page" and message.token == self._token:
            self.fetching = False
            self._show_status()
        self.app.report_error(message.error)  # type: ignore[attr-defined]

    # ---- filters ---------------------------------------------------------------------------
    @work(thread=True, group="ledger-options")
    def _load_options(self, handle: LedgerHandle) -> None:
        try:
            with self._readers.open(handle) as service:
                recipients = tuple((f"{p.name} ({p.party_id})", p.party_id) for p in service.parties())
                bases = tuple((code, code) for code in service.ref.bases)
        except Exception as exc:
            self.post_message(self.LoadFailed(None, exc, "options"))
            return
        self.post_message(self.OptionsLoaded(FilterOptions(recipients, bases)))

    def on_ledger_screen_options_loaded(self, message: OptionsLoaded) -> None:
        for selector, options in (("#f-recipient", message.options.recipients),
                                  ("#f-basis", message.options.bases)):
            select = self.query_one(selector, Select)
            chosen = select.value
            select.set_options(options)
            if isinstance(chosen, str) and any(value == chosen for _, value in options):
                select.value = chosen

    def read_filters(self) -> DisclosureFilter:
        """The filter bar as a DisclosureFilter; a bad date raises ValidationError naming the field."""
        def text_of(selector: str) -> str | None:
            return self.query_one(selector, Input).value.strip() or None

        def choice(selector: str) -> str | None:
            value = self.query_one(selector, Select).value
            return value if isinstance(value, str) else None

        since = v.iso_date("since", text_of("#f-since"), required=False)
        until = v.iso_date("until", text_of("#f-until"), required=False)
        if since and until and until < since:
            raise ValidationError("until", f"{until} is before since {since}")
        return DisclosureFilter(
            since=since, until=until, recipient=choice("#f-recipient"), basis=choice("#f-basis"),
            statutory_only=self.query_one("#f-statutory", Checkbox).value,
            subject=text_of("#f-subject"), text=text_of("#f-text"),
        )

    def apply_filters(self, *, force: bool = False) -> None:
        """Read the filter bar and load the first page that matches it (in a worker)."""
        try:
            filters = self.read_filters()
        except ValidationError as exc:
            for name in ("since", "until"):
                self.query_one(f"#f-{name}", Input).set_class(exc.field == name, "-invalid")
            self.app.report_error(exc)  # type: ignore[attr-defined]
            return
        for name in ("since", "until"):
            self.query_one(f"#f-{name}", Input).remove_class("-invalid")
        if filters == self.filters and not force:
            return
        self.filters = filters
        self.page_keys = [None]
        self._request_page(0, None)

    @on(Input.Submitted, "#filters Input")
    def _filter_submitted(self) -> None:
        self.apply_filters(force=True)

    @on(Select.Changed, "#filters Select")
    @on(Checkbox.Changed, "#filters Checkbox")
    def _filter_changed(self) -> None:
        if self._started:
            self.apply_filters()

    def action_focus_filter(self) -> None:
        self.query_one("#f-text", Input).focus()

    def action_clear_filters(self) -> None:
        with self.prevent(Select.Changed, Checkbox.Changed):
            for widget in self.query("#filters Input").results(Input):
                widget.value = ""
                widget.remove_class("-invalid")
            for select in self.query("#filters Select").results(Select):
                select.clear()
            self.query_one("#f-statutory", Checkbox).value = False
        self.apply_filters()
        self.table.focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    # ---- correct and void -----------------------------------------------------------------
    @on(Button.Pressed, "#detail-correct")
    def action_correct(self) -> None:
        view = self.detail
        if view is None or view.voided:
            return
        self.app.push_screen(CorrectScreen(view, self._handle), self._changed("correction"))

    @on(Button.Pressed, "#detail-void")
    def action_void(self) -> None:
        view = self.detail
        if view is None or view.voided:
            return
        self.app.push_screen(VoidScreen(view, self._handle), self._changed("void"))

    def _changed(self, what: str):
        seq = self.detail.seq if self.detail else None

        def done(new_seq: int | None) -> None:
            if new_seq is None:
                return
            self.notify(f"Recorded {what} entry {new_seq} of disclosure {seq}; entry {seq} stays in the ledger.",
                        title="Appended")
            self.reload(keep_seq=seq)

        return done
