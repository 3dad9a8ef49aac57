"""The record screen's dialogs: what will be appended (confirmation), a refusal by the
contractor register, and the written reason an override needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static, TextArea

from ledger.domain import DisclosureInput
from ledger.rules.disclosure import GateRefused, retention, statutory_decision, statutory_reason
from ledger.rules.register import GATE_ARTICLE, gated

if TYPE_CHECKING:
    from ledger.service import LedgerService

VAULT = " (vault)"
APPEND_ONLY = (
    "It cannot be edited afterwards: only corrected or voided by a new entry, and this one stays in "
    "the chain. (vault): personal values, kept in the erasable vault."
)
#: What the terminal app offers for each refusal, besides the message's own advice.
GATE_HINTS: Mapping[str, str] = {
    "no_assessment": "Assess the contractor first: Contractors screen (key c), then its assessment wizard.",
    "assessed_after": "Record the release with a date on or after the assessment, or assess the contractor again.",
    "rejected": "Do not release to it. Once it has fixed what failed, reassess it on the Contractors screen (key c).",
    "expired": "Reassess the contractor on the Contractors screen (key c) before releasing.",
    "not_covered": "Check the release's dates against the contractor's assessments (Contractors screen, key c).",
    "not_registered": "Record the contract in the register first (disclosure-ledger vendor register).",
    "subcontractor_not_approved": "Approve the subcontractor's engagement in the register first.",
    "contract_ended": "Renew the contract and record the new one in the register before releasing.",
}


@dataclass(frozen=True)
class Review:
    """What will be appended, row by row, for the confirmation screen."""

    rows: tuple[tuple[str, Text], ...]
    refusal: GateRefused | None          # the contractor register refuses this release
    recipient: str

    def text(self) -> str:
        """The rows as plain text (for tests and logs)."""
        return "\n".join(f"{label}: {value.plain}" for label, value in self.rows)


def _named(mapping, code: str | None) -> str:
    if code is None:
        return "not given"
    found = mapping.get(code)
    return f"{found.name} ({code})" if found is not None else code


def build_review(service: LedgerService, values: Mapping[str, object],
                 refusal: GateRefused | None = None) -> Review:
    """Describe, field by field, the entry that `values` would append (call from a worker; the
    values have passed `service.check_disclosure`, except perhaps for the gate)."""
    ref = service.ref
    inp = DisclosureInput.parse(values)
    party = service.resolve_party(inp.recipient)
    home = ref.settings.home_country
    kind = ref.party_kinds.get(party.kind)
    basis = ref.bases[inp.basis]
    rows: list[tuple[str, Text]] = []

    def row(label: str, *parts) -> None:
        rows.append((label, Text.assemble(*parts)))

    country = ref.countries[party.country].name if party.country in ref.countries else party.country
    row("Entry", ("disclosure.recorded", "bold"), f" — the next entry of {service.path.name}")
    row("Recipient", (f"{party.party_id} {party.name}", "bold"),
        f"\n{kind.name if kind else party.kind}, {country} ({party.country})")
    if inp.last_day is not None:
        row("Provided", f"{inp.first_day.isoformat()} to {inp.last_day.isoformat()}",
            ("\nbulk record of a continuous or repeated provision (PPC Rule 19(2))", "dim"))
    else:
        row("Provided on", inp.first_day.isoformat())
    if inp.subjects:
        row("Data subjects", f"{len(inp.subjects)} identified: ", "; ".join(inp.subjects), (VAULT, "dim"))
    else:
        row("Data subjects", f"a group of {inp.group_count:,}: ", inp.group_description or "", (VAULT, "dim"))
    items = Text()
    for index, code in enumerate(inp.data_items):
        item = ref.data_items.get(code)
        if index:
            items.append(", ")
        items.append(_named(ref.data_items, code))
        if item is not None and item.care_required:
            items.append(" care-required", style="bold yellow")
    rows.append(("Data items", items))
    row("Purpose", _named(ref.purposes, inp.purpose))
    row("Legal basis", (f"{basis.name} ({basis.code})", "bold"), f"\n{basis.appi}\n{basis.gdpr}")
    evidence = Text()
    for index, ev in enumerate(basis.evidence):
        if index:
            evidence.append("\n")
        evidence.append(f"{ev.label}: ", style="bold")
        evidence.append(str(inp.evidence.get(ev.code, "")))
        if ev.personal:
            evidence.append(VAULT, style="dim")
    rows.append(("Evidence", evidence if basis.evidence else Text("none required for this basis", style="dim")))
    if party.country != home and inp.route is not None:
        route = ref.routes[inp.route]
        cross = Text.assemble(f"to {country} ({party.country}) by ", (f"{route.name} ({route.code})", "bold"),
                              f"\n{route.appi}\n{route.gdpr}")
        for ev in route.evidence:
            cross.append(f"\n{ev.label}: ", style="bold")
            cross.append(str(inp.route_evidence.get(ev.code, "")))
            if ev.personal:
                cross.append(VAULT, style="dim")
        rows.append(("Cross-border", cross))
    else:
        row("Cross-border", (f"none: the recipient is in {ref.countries[home].name if home in ref.countries else home}", "dim"))
    row("Method", _named(ref.methods, inp.method))
    row("Notes", *((inp.notes, (VAULT, "dim")) if inp.notes else (("none", "dim"),)))
    row("Contract as record", "yes: the contract serves as the record" if inp.contract_as_record else "no")
    required, ground = statutory_decision(basis, party.kind, ref)
    row("Record", ("statutory" if required else "voluntary", "bold"), " — ", statutory_reason(ground, ref))
    until, why = retention(service.today(), inp.first_day, inp.last_day, inp.contract_as_record, ref)
    row("Kept until", (until.isoformat(), "bold"), " — ", why)
    if refusal is not None:
        row("Contractor register", ("REFUSED: ", "bold red"), refusal.rule.removeprefix("refused: "),
            f" ({refusal.article})" if refusal.article else "",
            ("\nConfirming will explain the refusal and offer an override with a written reason.", "yellow"))
    elif gated(party.kind, basis.code):
        row("Contractor register", ("passes", "bold green"),
            f": an approved or conditional assessment of {party.party_id} covers this release ({GATE_ARTICLE})")
    else:
        row("Contractor register", ("not checked", "dim"), " — the recipient is not a contractor")
    stamp = service.now().astimezone(service.zone).strftime("%Y-%m-%d %H:%M")
    row("Recorded by", service.operator, f" on {stamp} ({ref.settings.timezone})")
    return Review(tuple(rows), refusal, f"{party.party_id} {party.name}")


def review_table(review: Review) -> Table:
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="bold", width=19, no_wrap=True)
    table.add_column(ratio=1)
    for label, value in review.rows:
        table.add_row(label, value)
    return table


DIALOG_CSS = """
{name} {{ align: center middle; }}
{name} > #dialog {{
    width: 100%; max-width: 110; height: auto; max-height: 100%;
    border: thick $warning; background: $surface; padding: 0 1;
}}
{name} #dialog-title {{ text-style: bold; width: 100%; }}
{name} .dialog-body {{ height: auto; max-height: 1fr; }}
{name} .warning {{ color: $warning; height: auto; margin: 1 0 0 0; }}
{name} .dialog-error {{ color: $error; height: auto; }}
{name} .dialog-buttons {{ height: auto; align: right middle; margin: 1 0 0 0; }}
{name} .dialog-buttons > Button {{ margin: 0 0 0 2; }}
"""


class ConfirmDisclosureScreen(ModalScreen[bool]):
    """Shows exactly what will be appended; True appends it."""

    DEFAULT_CSS = DIALOG_CSS.format(name="ConfirmDisclosureScreen") + """
    ConfirmDisclosureScreen > #dialog { height: 100%; max-height: 48; }
    ConfirmDisclosureScreen .dialog-body { height: 1fr; max-height: 100%; }
    ConfirmDisclosureScreen .warning { margin: 0; text-style: bold; }
    ConfirmDisclosureScreen .dialog-buttons { margin: 0; }
    """
    BINDINGS = [
        Binding("y", "append", "Append", tooltip="Append this disclosure to the ledger, for good"),
        Binding("escape,n", "back", "Back", tooltip="Back to the form: nothing is appended"),
    ]

    def __init__(self, review: Review) -> None:
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label("Append this disclosure to the ledger?", id="dialog-title")
            with VerticalScroll(classes="dialog-body", id="review-body"):
                yield Static(review_table(self.review), id="review-rows")
            yield Static(APPEND_ONLY, classes="warning", id="append-only")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Back to the form (esc)", id="back", compact=True)
                yield Button("Append to the ledger (y)", id="append", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#review-body").focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "append")

    def action_back(self) -> None:
        self.dismiss(False)

    def action_append(self) -> None:
        self.dismiss(True)


class GateRefusedScreen(ModalScreen[bool]):
    """The contractor register refused the release: what failed, what to do, and the override."""

    DEFAULT_CSS = DIALOG_CSS.format(name="GateRefusedScreen").replace("$warning", "$error")
    BINDINGS = [
        Binding("o", "override", "Override…", tooltip="Record it anyway, with a written reason"),
        Binding("escape,n", "back", "Back", tooltip="Back to the form: nothing is appended"),
    ]

    def __init__(self, refusal: GateRefused, recipient: str) -> None:
        super().__init__()
        self.refusal = refusal
        self.recipient = recipient

    def compose(self) -> ComposeResult:
        refusal = self.refusal
        explained = Text.assemble(
            ("What failed: ", "bold"), (refusal.failed or "the register check", "bold red"), "\n",
            refusal.rule.removeprefix("refused: "), f" ({refusal.article})" if refusal.article else "", "\n\n",
            ("What to do: ", "bold"), GATE_HINTS.get(refusal.failed, "fix the register first."), "\n\n",
            ("Or override: ", "bold"),
            "record the release anyway with a written reason. The reason is kept in the entry "
            "(gating.override) and the release is listed under \"needs attention\" until it is dealt with.")
        with Vertical(id="dialog"):
            yield Label(f"Refused: the contractor register does not justify a release to {self.recipient}",
                        id="dialog-title")
            with VerticalScroll(classes="dialog-body"):
                yield Static(explained, id="refusal-text")
            yield Static("Nothing was appended.", classes="warning")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Back to the form", id="back", compact=True)
                yield Button("Override with a reason… (o)", id="override", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "override")

    def action_back(self) -> None:
        self.dismiss(False)

    def action_override(self) -> None:
        self.dismiss(True)


class OverrideReasonScreen(ModalScreen[str | None]):
    """Asks for the written reason of an override; an empty reason is refused."""

    DEFAULT_CSS = DIALOG_CSS.format(name="OverrideReasonScreen").replace("$warning", "$error") + """
    OverrideReasonScreen #override-reason { height: 6; }
    """
    BINDINGS = [
        Binding("ctrl+s", "submit", "Record with override", tooltip="Append the release with this reason"),
        Binding("escape", "cancel", "Cancel", tooltip="Nothing is appended"),
    ]

    def __init__(self, refusal: GateRefused, recipient: str) -> None:
        super().__init__()
        self.refusal = refusal
        self.recipient = recipient

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"Override the register for {self.recipient}", id="dialog-title")
            yield Static(Text.assemble(
                "Why must this release go although the register refuses it (", (self.refusal.failed or "", "bold"),
                ")? The reason is written into the entry for good and shown to anyone who reviews it."))
            yield TextArea(id="override-reason")
            yield Static("", classes="dialog-error", id="override-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="cancel", compact=True)
                yield Button("Record with this override (ctrl+s)", id="submit", variant="error", compact=True)

    def on_mount(self) -> None:
        self.query_one("#override-reason", TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_submit(self) -> None:
        reason = self.query_one("#override-reason", TextArea).text.strip()
        if not reason:
            message = "override_reason: is required: write why the release must go despite the refusal"
            self.query_one("#override-error", Static).update(message)
            self.notify(message, title="Not done", severity="error")
            self.query_one("#override-reason", TextArea).focus()
            return
        self.dismiss(reason)
