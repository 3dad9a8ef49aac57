"""Form pieces of the record screen: the recipient picker and a block of evidence inputs."""

from __future__ import annotations

from typing import Iterable, Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from ledger.domain import Party
from ledger.refdata import EvidenceField, ReferenceData

#: How each register status reads as a badge, and its style.
BADGES: Mapping[str, tuple[str, str]] = {
    "approved": ("approved", "bold green"),
    "conditional": ("conditional", "bold yellow"),
    "expiring": ("expiring", "bold yellow"),
    "expired": ("expired", "bold red"),
    "rejected": ("rejected", "bold red"),
    "not_assessed": ("not assessed", "bold red"),
}
MAX_MATCHES = 50


def badge(status: str | None) -> Text:
    if status is None:
        return Text("")
    words, style = BADGES.get(status, (status, "bold"))
    return Text(f"[{words}]", style=style)


def error_slot_id(field: str) -> str:
    """The id of the Static that shows the errors of `field` (`evidence.x` -> `err-evidence-x`)."""
    return "err-" + field.split("[")[0].replace(".", "-")


class RecipientPicker(Vertical):
    """Search the registered parties by name or id as you type; Enter or a click picks one.

    Each match shows the kind, the country and, for a contractor, its assessment badge."""

    DEFAULT_CSS = """
    RecipientPicker { height: auto; }
    RecipientPicker > OptionList { height: auto; max-height: 6; border: none; padding: 0; }
    RecipientPicker > #recipient-detail { height: auto; padding: 0 0 0 2; }
    """

    BINDINGS = [Binding("down", "to_options", "Matches", show=False,
                        tooltip="Move from the search box to the matching parties")]

    class Chosen(Message):
        """The chosen recipient changed (None: nothing chosen)."""

        def __init__(self, picker: "RecipientPicker", party: Party | None) -> None:
            super().__init__()
            self.picker = picker
            self.party = party

        @property
        def control(self) -> "RecipientPicker":
            return self.picker

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._parties: list[Party] = []
        self._status: dict[str, str] = {}
        self._ref: ReferenceData | None = None
        self._chosen: Party | None = None
        self._shown_text: str | None = None   # the input text that belongs to the chosen party

    def compose(self) -> ComposeResult:
        yield Input(placeholder="type a name or id, e.g. P001; Enter picks the highlighted one",
                    id="recipient-search", compact=True)
        yield OptionList(id="recipient-options")
        yield Static("", id="recipient-detail")

    # ---- data --------------------------------------------------------------------
    def set_parties(self, parties: Iterable[Party], status: Mapping[str, str], ref: ReferenceData) -> None:
        self._parties = list(parties)
        self._status = dict(status)
        self._ref = ref
        if self._chosen is not None:
            again = next((p for p in self._parties if p.party_id == self._chosen.party_id), None)
            self._chosen = again
            if again is None:
                self._shown_text = None
                self.post_message(self.Chosen(self, None))
        self._refilter()
        self._show_detail()

    @property
    def chosen(self) -> Party | None:
        return self._chosen

    @property
    def text(self) -> str:
        return self.query_one("#recipient-search", Input).value.strip()

    def status_of(self, party_id: str) -> str | None:
        return self._status.get(party_id)

    def matches(self, query: str) -> list[Party]:
        query = query.strip().casefold()
        if not query:
            return self._parties[:MAX_MATCHES]
        found = [p for p in self._parties
                 if query in p.party_id.casefold() or query in p.name.casefold()]
        # Exact and prefix matches first.
        found.sort(key=lambda p: (p.party_id.casefold() != query and p.name.casefold() != query,
                                  not (p.party_id.casefold().startswith(query) or p.name.casefold().startswith(query))))
        return found[:MAX_MATCHES]

    def choose(self, party: Party | None, *, shown_text: str | None = None) -> None:
        """Pick `party` (None clears the choice); the search box shows its name."""
        changed = (party.party_id if party else None) != (self._chosen.party_id if self._chosen else None)
        self._chosen = party
        search = self.query_one("#recipient-search", Input)
        if party is not None:
            self._shown_text = shown_text if shown_text is not None else party.name
            if search.value != self._shown_text:
                with self.prevent(Input.Changed):
                    search.value = self._shown_text
        else:
            self._shown_text = None
        self._refilter()
        self._show_detail()
        if changed:
            self.post_message(self.Chosen(self, party))

    def clear(self) -> None:
        with self.prevent(Input.Changed):
            self.query_one("#recipient-search", Input).value = ""
        self.choose(None)

    # ---- rendering ------------------------------------------------------------------
    def describe(self, party: Party) -> Text:
        """One line: id, name, kind, country and (for a contractor) the badge."""
        ref = self._ref
        kind = ref.party_kinds[party.kind].name if ref and party.kind in ref.party_kinds else party.kind
        line = Text.assemble((party.party_id, "bold"), " ", party.name, (f" · {kind} · {party.country}", "dim"))
        status = self._status.get(party.party_id)
        if status is not None:
            line.append(" ")
            line.append_text(badge(status))
        return line

    def _refilter(self) -> None:
        options = self.query_one("#recipient-options", OptionList)
        options.clear_options()
        if self._chosen is not None:
            options.display = False
            return
        found = self.matches(self.text)
        options.add_options([Option(self.describe(p), id=p.party_id) for p in found])
        options.display = bool(found)
        if found:
            options.highlighted = 0

    def _show_detail(self) -> None:
        detail = self.query_one("#recipient-detail", Static)
        party, ref = self._chosen, self._ref
        if not self._parties:
            detail.update(Text("No party is registered yet: register recipients first "
                               "(disclosure-ledger party add).", style="italic"))
            return
        if party is None:
            typed = self.text
            found = len(self.matches(typed)) if typed else len(self._parties)
            hint = f"{found} match{'es' if found != 1 else ''}" if typed else f"{len(self._parties)} registered parties"
            detail.update(Text(f"No recipient chosen ({hint}).", style="dim"))
            return
        country = ref.countries[party.country].name if ref and party.country in ref.countries else party.country
        home = ref.settings.home_country if ref else party.country
        kind = ref.party_kinds[party.kind] if ref and party.kind in ref.party_kinds else None
        line = Text.assemble(("→ ", "bold"), (party.party_id, "bold"), " ", (party.name, "bold"), "\n",
                             kind.name if kind else party.kind, " · ", f"{country} ({party.country})")
        if party.country != home:
            line.append(" · abroad", style="bold yellow")
        if kind is not None and kind.government:
            line.append(" · government body (APPI Art. 16(2))", style="dim")
        status = self._status.get(party.party_id)
        if status is not None:
            line.append(" · ")
            line.append_text(badge(status))
            if status in ("expired", "rejected", "not_assessed"):
                line.append("\nThe contractor register will refuse a release to it unless you override.",
                            style="yellow")
        detail.update(line)

    # ---- events --------------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "recipient-search":
            return
        value = event.value.strip()
        if self._chosen is not None and event.value == self._shown_text:
            return
        exact = [p for p in self._parties
                 if value and (p.party_id.casefold() == value.casefold() or p.name.casefold() == value.casefold())]
        if len(exact) == 1:
            self.choose(exact[0], shown_text=event.value)
            return
        self.choose(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "recipient-search":
            return
        event.stop()
        options = self.query_one("#recipient-options", OptionList)
        if self._chosen is None and options.option_count:
            index = options.highlighted if options.highlighted is not None else 0
            self._choose_id(options.get_option_at_index(index).id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose_id(event.option.id)
        self.query_one("#recipient-search", Input).focus()

    def action_to_options(self) -> None:
        options = self.query_one("#recipient-options", OptionList)
        if options.display and options.option_count:
            options.focus()

    def _choose_id(self, party_id: str | None) -> None:
        party = next((p for p in self._parties if p.party_id == party_id), None)
        if party is not None:
            self.choose(party)


class EvidenceFields(Vertical):
    """One labelled input per evidence field of a basis or a route; typed values are kept
    when the basis changes and comes back."""

    DEFAULT_CSS = """
    EvidenceFields { height: auto; }
    EvidenceFields > .evidence-label { padding: 0 0 0 1; text-style: bold; }
    EvidenceFields > Input { margin: 0 0 0 1; }
    EvidenceFields > .evidence-help { padding: 0 0 0 2; color: $text-muted; }
    EvidenceFields > .field-error { padding: 0 0 0 2; color: $error; }
    """

    def __init__(self, group: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.group = group              # "evidence" or "route_evidence"
        self.fields: tuple[EvidenceField, ...] = ()
        self._kept: dict[str, str] = {}

    def input_id(self, code: str) -> str:
        return f"{self.group}-{code}"

    async def show(self, fields: tuple[EvidenceField, ...]) -> None:
        """Render one input per field (label, YYYY-MM-DD for a date, help, error slot)."""
        self._remember()
        self.fields = tuple(fields)
        await self.remove_children()
        widgets = []
        for ev in self.fields:
            kind = " (date, YYYY-MM-DD)" if ev.kind == "date" else ""
            vault = " · personal: kept in the erasable vault" if ev.personal else ""
            widgets.append(Label(f"{ev.label}{kind}", classes="evidence-label"))
            widgets.append(Input(self._kept.get(ev.code, ""), id=self.input_id(ev.code), compact=True,
                                 placeholder="YYYY-MM-DD" if ev.kind == "date" else ""))
            widgets.append(Static(Text(ev.help + vault), classes="evidence-help"))
            error = Static("", id=error_slot_id(f"{self.group}.{ev.code}"), classes="field-error")
            error.display = False
            widgets.append(error)
        if widgets:
            await self.mount_all(widgets)

    def _remember(self) -> None:
        for ev in self.fields:
            try:
                self._kept[ev.code] = self.query_one(f"#{self.input_id(ev.code)}", Input).value
            except Exception:
                pass

    def values(self) -> dict[str, str]:
        result = {}
        for ev in self.fields:
            value = self.query_one(f"#{self.input_id(ev.code)}", Input).value.strip()
            if value:
                result[ev.code] = value
        return result

    def code_of(self, input_id: str | None) -> str | None:
        prefix = f"{self.group}-"
        if input_id and input_id.startswith(prefix):
            code = input_id[len(prefix):]
            if any(ev.code == code for ev in self.fields):
                return code
        return None

    async def reset(self) -> None:
        self._kept.clear()
        self.fields = ()
        await self.remove_children()
