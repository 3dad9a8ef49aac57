"""Record a disclosure: a form checked live with the command line's rules, a confirmation of
exactly what will be appended, and the contractor register's refusals with their override."""

from __future__ import annotations

import re
import time
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.selection_list import Selection

from ledger.domain import Party
from ledger.errors import ValidationError, ValidationErrors
from ledger.refdata import ReferenceData
from ledger.rules.disclosure import GateRefused

from ..widgets.record_fields import EvidenceFields, RecipientPicker, error_slot_id
from ..widgets.record_review import (
    ConfirmDisclosureScreen,
    GateRefusedScreen,
    OverrideReasonScreen,
    Review,
    build_review,
)

DEBOUNCE_SECONDS = 0.3
SAFE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
#: Which widget takes the focus for an error in a field (ctrl+g).
FOCUS_FOR = {"recipient": "recipient-search", "date": "date", "last_day": "last_day",
             "subjects": "subjects", "group_description": "group_description", "group_count": "group_count",
             "data_items": "data_items", "purpose": "purpose", "basis": "basis", "route": "route",
             "method": "method", "notes": "notes", "contract_as_record": "contract_as_record"}


def _field_key(field: str) -> str:
    """`subjects[2]` -> `subjects`; `evidence.consent_date` stays itself."""
    return field.split("[")[0]


class RecordScreen(Screen):
    """The form of a release of personal data (issue 4, point 3)."""

    TITLE = "Record a disclosure"
    AUTO_FOCUS = "#recipient-search"
    debounce = DEBOUNCE_SECONDS    # seconds of quiet typing before the live check runs
    BINDINGS = [
        Binding("ctrl+s", "review", "Review", tooltip="Check the form and show exactly what will be appended"),
        Binding("ctrl+g", "first_error", "Go to error", tooltip="Move to the first field with a problem"),
        Binding("ctrl+n", "clear_form", "Clear form", tooltip="Empty every field and start again"),
        Binding("q", "quit_guarded", "Quit", tooltip="Quit; asks again while the form holds unsaved input"),
        Binding("escape", "leave_field", "Leave the field", show=False,
                tooltip="Take the focus off the field, so the one-key commands (q, d, l, ...) work again"),
    ]
    DEFAULT_CSS = """
    RecordScreen #record-form { height: 1fr; padding: 0 1; }
    RecordScreen .section {
        height: auto; margin: 1 0 0 0; padding: 0 1;
        border-top: solid $primary; border-title-color: $primary; border-title-style: bold;
    }
    RecordScreen .form-label { padding: 0 0 0 0; text-style: bold; }
    RecordScreen .help { color: $text-muted; height: auto; }
    RecordScreen .row { height: auto; }
    RecordScreen #identified, RecordScreen #group { height: auto; }
    RecordScreen .row > .row-label { width: 16; text-style: bold; }
    RecordScreen .row > Input { width: 1fr; }
    RecordScreen .row > Select { width: 1fr; }
    RecordScreen .field-error { color: $error; height: auto; padding: 0 0 0 1; }
    RecordScreen .info { height: auto; padding: 0 0 0 1; }
    RecordScreen #data_items { height: auto; max-height: 9; }
    RecordScreen #subjects { height: 5; }
    RecordScreen #notes { height: 5; }
    RecordScreen #subjects-mode { width: 100%; height: auto; layout: horizontal; border: none; padding: 0; }
    RecordScreen #subjects-mode > RadioButton { width: auto; margin: 0 2 0 0; }
    RecordScreen #errors-panel { height: auto; margin: 1 0 0 0; padding: 0 1; border: round $error; }
    RecordScreen #form-buttons { height: auto; margin: 1 0 1 0; }
    RecordScreen #form-buttons > Button { margin: 0 2 0 0; }
    RecordScreen #form-status { height: 1; padding: 0 1; background: $panel; }
    RecordScreen #form-status.-problems { color: $error; }
    RecordScreen #form-status.-ready { color: $success; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.ref: ReferenceData | None = None
        self.today: str | None = None
        self.errors: list[ValidationError] = []
        self.last_seq: int | None = None          # the seq of the last disclosure this form recorded
        self.busy = False                          # a review or a write is under way
        self._touched: set[str] = set()
        self._show_all = False
        self._generation = 0
        self._check_timer: Timer | None = None
        self._filled = False
        self._quit_asked_at: float | None = None

    # ---- layout ----------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="record-form"):
            yield Static(Text.assemble(
                ("Record a release of personal data. ", "bold"),
                "Checked as you type with the command line's rules; ctrl+s reviews what will be appended."),
                classes="help")
            with Vertical(classes="section", id="section-recipient") as section:
                section.border_title = "Recipient"
                yield RecipientPicker(id="recipient")
                yield self._slot("recipient")
            with Vertical(classes="section", id="section-basis") as section:
                section.border_title = "Legal basis"
                yield Select([], prompt="Choose the legal basis", id="basis", compact=True)
                yield Static("", classes="info", id="basis-info")
                yield self._slot("basis")
                yield EvidenceFields("evidence", id="evidence-fields")
                yield self._slot("evidence")
            with Vertical(classes="section", id="section-items") as section:
                section.border_title = "Data items (space toggles)"
                yield SelectionList[str](id="data_items")
                yield self._slot("data_items")
            with Vertical(classes="section", id="section-subjects") as section:
                section.border_title = "Data subjects"
                with RadioSet(id="subjects-mode"):
                    yield RadioButton("Identified persons", value=True, id="mode-identified")
                    yield RadioButton("A described group (bulk record)", id="mode-group")
                with Vertical(id="identified"):
                    yield Label("Identifiers: one per line, or separated by ;", classes="help")
                    yield TextArea(id="subjects")
                with Vertical(id="group"):
                    with Horizontal(classes="row"):
                        yield Label("Description", classes="row-label")
                        yield Input(placeholder="who they are, e.g. pupils of class 3-B",
                                    id="group_description", compact=True)
                    yield self._slot("group_description")
                    with Horizontal(classes="row"):
                        yield Label("How many", classes="row-label")
                        yield Input(placeholder="number of persons", id="group_count", type="integer",
                                    compact=True)
                    yield self._slot("group_count")
                    yield Static("A group is a bulk record: give the first and the last day below.",
                                 classes="help")
                yield self._slot("subjects")
            with Vertical(classes="section", id="section-when") as section:
                section.border_title = "When"
                with Horizontal(classes="row"):
                    yield Label("Date", classes="row-label")
                    yield Input(placeholder="YYYY-MM-DD (first day of a bulk record)", id="date", compact=True)
                yield self._slot("date")
                with Horizontal(classes="row"):
                    yield Label("Last day", classes="row-label")
                    yield Input(placeholder="YYYY-MM-DD, only for a bulk record", id="last_day", compact=True)
                yield self._slot("last_day")
            with Vertical(classes="section", id="cross-border") as section:
                section.border_title = "Cross-border (APPI Art. 28)"
                yield Static("", classes="info", id="abroad-info")
                yield Select([], prompt="Choose the cross-border route", id="route", compact=True)
                yield Static("", classes="info", id="route-info")
                yield self._slot("route")
                yield EvidenceFields("route_evidence", id="route-evidence-fields")
                yield self._slot("route_evidence")
            with Vertical(classes="section", id="section-other") as section:
                section.border_title = "Purpose, method, notes"
                with Horizontal(classes="row"):
                    yield Label("Purpose", classes="row-label")
                    yield Select([], prompt="Choose the purpose of use", id="purpose", compact=True)
                yield self._slot("purpose")
                with Horizontal(classes="row"):
                    yield Label("Method", classes="row-label")
                    yield Select([], prompt="How it was handed over (optional)", id="method", compact=True)
                yield self._slot("method")
                yield Label("Notes (optional, kept in the erasable vault)", classes="form-label")
                yield TextArea(id="notes")
                yield self._slot("notes")
                yield Checkbox("The contract serves as the record", id="contract_as_record")
                yield Static("", classes="help", id="contract-help")
                yield self._slot("contract_as_record")
                yield self._slot("override_reason")
            yield Static("", id="errors-panel")
            with Horizontal(id="form-buttons"):
                yield Button("Review (ctrl+s)", id="review", variant="primary", compact=True)
                yield Button("Clear (ctrl+n)", id="clear", compact=True)
        yield Static("Loading the register…", id="form-status")
        yield Footer()

    @staticmethod
    def _slot(field: str) -> Static:
        slot = Static("", id=error_slot_id(field), classes="field-error")
        slot.display = False
        return slot

    def on_mount(self) -> None:
        self.query_one("#record-form", VerticalScroll).can_focus = False  # tab goes field to field
        self.query_one("#group").display = False
        self.query_one("#cross-border").display = False
        self.query_one("#errors-panel").display = False

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # The data items list starts on its first item, so space ticks it at once.
        if isinstance(event.widget, SelectionList) and event.widget.highlighted is None \
                and event.widget.option_count:
            event.widget.highlighted = 0

    def on_screen_resume(self) -> None:
        self._load()

    # ---- loading ----------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="record-load")
    def _load(self) -> None:
        try:
            with self.app.ledger.open() as service:
                parties = service.parties()
                status = {v.party.party_id: v.status for v in service.vendors()}
                ref = service.ref
                today = service.today().isoformat()
        except Exception as exc:  # noqa: BLE001 - every error becomes a notification
            self._from_thread(self.app.report_error, exc)
            return
        self._from_thread(self._loaded, parties, status, ref, today)

    def _from_thread(self, callback, *args) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:
            pass  # the app is closing

    def _loaded(self, parties: list[Party], status: dict[str, str], ref: ReferenceData, today: str) -> None:
        self.ref, self.today = ref, today
        picker = self.query_one(RecipientPicker)
        if not self._filled:
            self._filled = True
            with self.prevent(Select.Changed, Input.Changed, SelectionList.SelectedChanged):
                self.query_one("#basis", Select).set_options(
                    [(f"{b.name} ({b.code})", b.code) for b in ref.bases.values()])
                self.query_one("#route", Select).set_options(
                    [(f"{r.name} ({r.code})", r.code) for r in ref.routes.values()])
                self.query_one("#purpose", Select).set_options(
                    [(f"{p.name} ({p.code})", p.code) for p in ref.purposes.values()])
                self.query_one("#method", Select).set_options(
                    [(m.name, m.code) for m in ref.methods.values()])
                items = self.query_one("#data_items", SelectionList)
                items.clear_options()
                items.add_options([Selection(self._item_label(code), code) for code in ref.data_items])
                self.query_one("#date", Input).value = today
            years = ref.settings.contract_record_retention_years
            self.query_one("#contract-help", Static).update(
                f"Tick when the contract itself records the provision: the record is then kept "
                f"{years} year(s) after the last provision (PPC Rule 21(1)(i)) instead of "
                f"{ref.settings.retention_years} years.")
        picker.set_parties(parties, status, ref)
        self._update_abroad(picker.chosen)
        self._schedule_check()

    def _item_label(self, code: str) -> Text:
        item = self.ref.data_items[code]
        label = Text(f"{item.name} ({code})")
        if item.care_required:
            label.append("  care-required, APPI Art. 2(3)", style="bold yellow")
        return label

    # ---- reading the form --------------------------------------------------------------
    def _abroad(self) -> bool:
        party = self.query_one(RecipientPicker).chosen
        return bool(party and self.ref and party.country != self.ref.settings.home_country)

    def _group_mode(self) -> bool:
        return self.query_one("#mode-group", RadioButton).value

    @staticmethod
    def _select_value(select: Select) -> str | None:
        value = select.value
        return None if value is Select.NULL else str(value)

    def form_values(self) -> dict[str, Any]:
        """The form as the mapping `check_disclosure` and `record_disclosure` take."""
        picker = self.query_one(RecipientPicker)
        text = lambda wid: self.query_one(f"#{wid}", Input).value.strip() or None  # noqa: E731
        values: dict[str, Any] = {
            "recipient": picker.chosen.party_id if picker.chosen else (picker.text or None),
            "date": text("date"),
            "last_day": text("last_day"),
            "data_items": list(self.query_one("#data_items", SelectionList).selected),
            "purpose": self._select_value(self.query_one("#purpose", Select)),
            "basis": self._select_value(self.query_one("#basis", Select)),
            "evidence": self.query_one("#evidence-fields", EvidenceFields).values(),
            "method": self._select_value(self.query_one("#method", Select)),
            "notes": self.query_one("#notes", TextArea).text.strip() or None,
            "contract_as_record": self.query_one("#contract_as_record", Checkbox).value,
        }
        if self._group_mode():
            values["group_description"] = text("group_description")
            values["group_count"] = text("group_count")
        else:
            raw = self.query_one("#subjects", TextArea).text.replace(";", "\n")
            values["subjects"] = [line.strip() for line in raw.splitlines() if line.strip()]
        if self._abroad():
            values["route"] = self._select_value(self.query_one("#route", Select))
            values["route_evidence"] = self.query_one("#route-evidence-fields", EvidenceFields).values()
        return values

    # ---- reacting to edits ---------------------------------------------------------------
    def _touch(self, field: str | None) -> None:
        if field:
            self._touched.add(field)
        self._schedule_check()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        wid = event.input.id
        evidence = self.query_one("#evidence-fields", EvidenceFields).code_of(wid)
        route_evidence = self.query_one("#route-evidence-fields", EvidenceFields).code_of(wid)
        if wid == "recipient-search":
            self._touch("recipient")
        elif evidence:
            self._touch(f"evidence.{evidence}")
        elif route_evidence:
            self._touch(f"route_evidence.{route_evidence}")
        else:
            self._touch(wid)

    @on(RecipientPicker.Chosen)
    def _recipient_chosen(self, event: RecipientPicker.Chosen) -> None:
        self._update_abroad(event.party)
        self._touch("recipient")

    @on(Select.Changed)
    async def _select_changed(self, event: Select.Changed) -> None:
        wid = event.select.id
        if wid == "basis":
            await self._show_basis(self._select_value(event.select))
        elif wid == "route":
            await self._show_route(self._select_value(event.select))
        self._touch(wid)

    @on(SelectionList.SelectedChanged)
    def _items_changed(self, event: SelectionList.SelectedChanged) -> None:
        self._touch("data_items")

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        self._touch(event.text_area.id)

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        self._touch("contract_as_record")

    @on(RadioSet.Changed)
    def _mode_changed(self, event: RadioSet.Changed) -> None:
        group = self._group_mode()
        self.query_one("#group").display = group
        self.query_one("#identified").display = not group
        self._schedule_check()

    @on(Button.Pressed, "#review")
    def _review_pressed(self) -> None:
        self.action_review()

    @on(Button.Pressed, "#clear")
    async def _clear_pressed(self) -> None:
        await self.action_clear_form()

    async def _show_basis(self, code: str | None) -> None:
        info = self.query_one("#basis-info", Static)
        fields = self.query_one("#evidence-fields", EvidenceFields)
        basis = self.ref.bases.get(code) if (self.ref and code) else None
        if basis is None:
            info.update("")
            await fields.show(())
            return
        text = Text.assemble((basis.summary, "italic"), "\n", ("Article: ", "bold"), basis.appi, "\n",
                             ("GDPR: ", "bold"), basis.gdpr.removeprefix("GDPR "))
        record = "statutory (APPI Art. 29)" if basis.statutory_record else "voluntary (no statutory record)"
        text.append(f"\nRecord: {record}")
        if basis.allowed_recipient_kinds:
            text.append(f" · only for a {' or '.join(basis.allowed_recipient_kinds)}")
        if not basis.bulk_allowed:
            text.append(" · no bulk record: one entry per provision")
        if not basis.care_required_allowed:
            text.append(" · never care-required items")
        text.append("\nEvidence required now: ", style="bold")
        text.append(", ".join(ev.label for ev in basis.evidence) or "none")
        info.update(text)
        await fields.show(basis.evidence)

    async def _show_route(self, code: str | None) -> None:
        info = self.query_one("#route-info", Static)
        fields = self.query_one("#route-evidence-fields", EvidenceFields)
        route = self.ref.routes.get(code) if (self.ref and code) else None
        if route is None:
            info.update("")
            await fields.show(())
            return
        text = Text.assemble((route.summary, "italic"), "\n", ("Article: ", "bold"), route.appi, "\n",
                             ("GDPR: ", "bold"), route.gdpr.removeprefix("GDPR "))
        if route.requires_basis_categories:
            text.append(f"\nOnly with a basis of category {' or '.join(route.requires_basis_categories)}.")
        text.append("\nEvidence required now: ", style="bold")
        text.append(", ".join(ev.label for ev in route.evidence) or "none")
        info.update(text)
        await fields.show(route.evidence)

    def _update_abroad(self, party: Party | None) -> None:
        section = self.query_one("#cross-border")
        abroad = self._abroad()
        section.display = abroad
        if not abroad or party is None or self.ref is None:
            return
        ref = self.ref
        country = ref.countries.get(party.country)
        home = ref.countries.get(ref.settings.home_country)
        text = Text.assemble(
            f"{party.name} is in {country.name if country else party.country} ({party.country}), outside "
            f"{home.name if home else ref.settings.home_country}: a provision abroad needs one of these routes.")
        if country is not None and country.designated:
            text.append(f"\n{country.name} is designated by the PPC (PPC Rule 15): the designated_country route applies.",
                        style="green")
        self.query_one("#abroad-info", Static).update(text)

    # ---- live validation ---------------------------------------------------------------------
    def _schedule_check(self) -> None:
        if self.ref is None:
            return
        if self._check_timer is not None:
            self._check_timer.stop()
        self._check_timer = self.set_timer(self.debounce, self._start_check)

    def _start_check(self) -> None:
        self._check_timer = None
        self._generation += 1
        self._check(self.form_values(), self._generation)

    @work(thread=True, exclusive=True, group="record-check")
    def _check(self, values: dict[str, Any], generation: int) -> None:
        try:
            with self.app.ledger.open() as service:
                errors = service.check_disclosure(values)
        except Exception as exc:  # noqa: BLE001
            self._from_thread(self.app.report_error, exc)
            return
        self._from_thread(self._show_errors, errors, generation)

    def _slot_for(self, field: str) -> Static | None:
        key = _field_key(field)
        for candidate in (key, key.split(".")[0]):
            slot_id = error_slot_id(candidate)
            if not SAFE_ID.fullmatch(slot_id):
                continue
            found = self.query(f"#{slot_id}")
            if found:
                return found.first(Static)
        return None

    def _is_touched(self, field: str) -> bool:
        key = _field_key(field)
        return self._show_all or key in self._touched or key.split(".")[0] in self._touched

    def _show_errors(self, errors: list[ValidationError], generation: int | None = None) -> None:
        if generation is not None and generation != self._generation:
            return  # an older check finished after a newer one began
        self.errors = list(errors)
        slots: dict[Static, list[Text]] = {}
        for slot in self.query(".field-error").results(Static):
            slots[slot] = []
        lines: list[Text] = []
        for error in errors:
            line = self._error_text(error)
            lines.append(line)
            slot = self._slot_for(error.field)
            if slot is not None and self._is_touched(error.field):
                slots.setdefault(slot, []).append(line)
        for slot, found in slots.items():
            slot.update(Text("\n").join(found) if found else "")
            slot.display = bool(found)
        panel = self.query_one("#errors-panel", Static)
        blocking = [e for e in errors if not isinstance(e, GateRefused)]
        panel.display = bool(errors) and (self._show_all or bool(self._touched))
        if errors:
            title = Text(f"{len(blocking)} problem{'s' if len(blocking) != 1 else ''} to fix before review"
                         if blocking else "The contractor register refuses this release", style="bold")
            panel.update(Text("\n").join([title, *lines]))
        status = self.query_one("#form-status", Static)
        fresh = not self._touched and not self._show_all
        status.set_class(bool(blocking) and not fresh, "-problems")
        status.set_class(not errors, "-ready")
        if fresh and blocking:
            status.update("New record: start with the recipient; each field is checked as you fill it in.")
        elif not errors:
            status.update("Ready: ctrl+s to review what will be appended.")
        elif blocking:
            fields = list(dict.fromkeys(_field_key(e.field) for e in blocking))
            more = f" and {len(fields) - 1} more" if len(fields) > 1 else ""
            status.update(Text(f"{len(blocking)} to fix: {fields[0]}{more} (ctrl+g goes there)"))
        else:
            status.update("The register refuses this release: ctrl+s reviews it and offers an override.")

    @staticmethod
    def _error_text(error: ValidationError) -> Text:
        line = Text("✗ ", style="bold red" if isinstance(error, GateRefused) else "bold")
        line.append(f"{error.field}: {error.rule}")
        if error.article:
            line.append(f" ({error.article})", style="italic")
        return line

    def action_first_error(self) -> None:
        if not self.errors:
            self.notify("No problem to go to: the form checks out.")
            return
        self._show_all = True
        self._show_errors(self.errors)
        field = _field_key(self.errors[0].field)
        group, _, code = field.partition(".")
        if group in ("evidence", "route_evidence") and code:
            target = f"#{group}-{code}"
        elif field == "subjects" and self._group_mode():
            target = "#group_description"
        else:
            target = f"#{FOCUS_FOR.get(field, 'recipient-search')}"
        found = self.query(target)
        if found:
            widget: Widget = found.first()
            widget.focus()
            widget.scroll_visible()

    # ---- review, confirm, record ---------------------------------------------------------------
    def action_review(self) -> None:
        if self.busy:
            self.notify("A review or a write is already under way.")
            return
        if self.ref is None:
            self.notify("Still loading the register; try again in a moment.")
            return
        if self._check_timer is not None:
            self._check_timer.stop()
            self._check_timer = None
        self._generation += 1
        self._show_all = True
        self.busy = True
        self._review(self.form_values(), self._generation)

    @work(thread=True, exclusive=True, group="record-review")
    def _review(self, values: dict[str, Any], generation: int) -> None:
        try:
            with self.app.ledger.open() as service:
                errors = service.check_disclosure(values)
                refusals = [e for e in errors if isinstance(e, GateRefused)]
                review = None
                if len(refusals) == len(errors):
                    review = build_review(service, values, refusals[0] if refusals else None)
        except Exception as exc:  # noqa: BLE001
            self._from_thread(self._review_failed, exc)
            return
        self._from_thread(self._reviewed, values, errors, review, generation)

    def _review_failed(self, exc: Exception) -> None:
        self.busy = False
        self.app.report_error(exc)

    def _reviewed(self, values: dict[str, Any], errors: list[ValidationError], review: Review | None,
                  generation: int) -> None:
        self._show_errors(errors, generation)
        if review is None:
            self.busy = False
            blocking = [e for e in errors if not isinstance(e, GateRefused)]
            self.notify(f"{len(blocking)} problem{'s' if len(blocking) != 1 else ''} to fix first: "
                        + "; ".join(str(e) for e in blocking[:3]) + ("; …" if len(blocking) > 3 else ""),
                        title="Not ready to append", severity="error", timeout=8)
            return

        def decided(confirmed: bool | None) -> None:
            if confirmed:
                self._record(values, None, review)
            else:
                self.busy = False

        self.app.push_screen(ConfirmDisclosureScreen(review), decided)

    @work(thread=True, exclusive=True, group="record-write")
    def _record(self, values: dict[str, Any], override_reason: str | None, review: Review) -> None:
        payload = dict(values)
        if override_reason is not None:
            payload["override_reason"] = override_reason
        try:
            with self.app.ledger.open() as service:
                seq = service.record_disclosure(payload)
        except GateRefused as exc:
            self._from_thread(self._gate_refused, values, exc, review)
            return
        except (ValidationError, ValidationErrors) as exc:
            self._from_thread(self._record_refused, exc)
            return
        except Exception as exc:  # noqa: BLE001
            self._from_thread(self._review_failed, exc)
            return
        self._from_thread(self._recorded, seq, override_reason)

    def _gate_refused(self, values: dict[str, Any], refusal: GateRefused, review: Review) -> None:
        def reason_given(reason: str | None) -> None:
            if reason:
                self._record(values, reason, review)
            else:
                self.busy = False
                self.notify("Nothing was appended.", title="Override cancelled")

        def decided(override: bool | None) -> None:
            if override:
                self.app.push_screen(OverrideReasonScreen(refusal, review.recipient), reason_given)
            else:
                self.busy = False

        self.app.push_screen(GateRefusedScreen(refusal, review.recipient), decided)

    def _record_refused(self, exc: ValidationError | ValidationErrors) -> None:
        self.busy = False
        errors = list(exc.errors) if isinstance(exc, ValidationErrors) else [exc]
        self._show_all = True
        self._generation += 1
        self._show_errors(errors)
        self.app.report_error(exc)

    async def _recorded(self, seq: int, override_reason: str | None) -> None:
        self.busy = False
        self.last_seq = seq
        forced = " with an override" if override_reason else ""
        # Cleared first: once the message shows, the form is ready for the next release.
        await self.action_clear_form()
        self.notify(f"Disclosure recorded{forced} as entry {seq}. It cannot be edited: correct or void it "
                    "from the ledger browser (key l).", title=f"Entry {seq} appended", timeout=8)

    def action_leave_field(self) -> None:
        """Escape: no field has the focus, so q, d, l, ... are commands again, not typed text."""
        self.set_focus(None)

    def action_quit_guarded(self) -> None:
        """q quits, but a half-filled form is not thrown away on one stray key."""
        now = time.monotonic()
        if not self._touched or (self._quit_asked_at is not None and now - self._quit_asked_at < 3):
            self.app.exit()
            return
        self._quit_asked_at = now
        self.notify("The form holds input that is not recorded. Press q again to quit anyway.",
                    title="Quit?", severity="warning", timeout=3)

    # ---- clearing ------------------------------------------------------------------------------
    async def action_clear_form(self) -> None:
        """Empty every field (the date goes back to today)."""
        with self.prevent(Input.Changed, Select.Changed, SelectionList.SelectedChanged, TextArea.Changed,
                          Checkbox.Changed):
            self.query_one(RecipientPicker).clear()
            for wid in ("last_day", "group_description", "group_count"):
                self.query_one(f"#{wid}", Input).value = ""
            self.query_one("#date", Input).value = self.today or ""
            for wid in ("basis", "route", "purpose", "method"):
                self.query_one(f"#{wid}", Select).clear()
            self.query_one("#data_items", SelectionList).deselect_all()
            self.query_one("#subjects", TextArea).clear()
            self.query_one("#notes", TextArea).clear()
            self.query_one("#contract_as_record", Checkbox).value = False
        self.query_one("#mode-identified", RadioButton).value = True
        await self.query_one("#evidence-fields", EvidenceFields).reset()
        await self.query_one("#route-evidence-fields", EvidenceFields).reset()
        self.query_one("#basis-info", Static).update("")
        self.query_one("#route-info", Static).update("")
        self._update_abroad(None)
        self._touched.clear()
        self._show_all = False
        self._generation += 1
        self._show_errors([])
        self.query_one("#errors-panel").display = False
        self.query_one("#record-form", VerticalScroll).scroll_home(animate=False)
        self.query_one("#recipient-search", Input).focus()
        self._schedule_check()
