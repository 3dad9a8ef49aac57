"""The safeguard assessment wizard (APPI Art. 25; PPC general guideline 3-4-4; GDPR Art. 28).

Pushed over the contractors screen for one contractor. It walks the checklist of
``data/checklist.toml`` one area per page (each item: answer met / partly met / not met / not
applicable, and a note), then a summary page shows the score and the outcome the stated rule
derives, with its reasons, before anything is recorded. The assessor may override the outcome
only with a written reason, and sets the conditions and their deadline of a conditional outcome,
the day assessed and the assessor's name. A final confirmation says that the entry cannot be
edited afterwards; the assessment is then recorded through ``service.record_assessment`` in a
worker. Errors from the service are shown naming the field, and nothing is recorded.

The live checks on the summary page are the rule functions the service itself applies
(``ledger.rules.assessment``), so what the page says is what the ledger will decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
    TextArea,
)

from ledger import validate as v
from ledger.domain import AssessmentView, Party
from ledger.errors import LedgerError, ValidationError, ValidationErrors
from ledger.refdata import ChecklistItem, ReferenceData
from ledger.rules.assessment import (
    ANSWERS,
    OUTCOME_RULE,
    OUTCOMES,
    Answer,
    Outcome,
    check_answers,
    check_conditions,
    check_dates,
    check_override,
    condition_deadline,
    derive_outcome,
    score,
    validity,
)

from ..services import error_text

from .contractors import ScreenCommands

ANSWER_LABELS = {"met": "met", "partly_met": "partly met", "not_met": "not met",
                 "not_applicable": "not applicable"}
assert tuple(ANSWER_LABELS) == ANSWERS, "every answer needs a label, in order"

OUTCOME_STYLES = {"approved": "bold green", "conditional": "bold yellow", "rejected": "bold red"}
SUMMARY = "summary"


def _errors_of(exc: Exception) -> list[Exception]:
    return list(exc.errors) if isinstance(exc, ValidationErrors) else [exc]


def error_lines(errors: list[Exception]) -> Text:
    out = Text()
    for error in errors:
        out.append("  • ", style="bold red")
        if isinstance(error, ValidationError):
            out.append(error.field, style="bold")
            out.append(f": {error.rule}")
            if error.article:
                out.append(f" ({error.article})", style="dim")
        else:
            out.append(error_text(error))
        out.append("\n")
    return out


class SteadyFooter(Footer):
    """A footer that is rebuilt only when the keys it shows change. Textual's footer rebuilds
    itself on every focus change; in the wizard focus moves with every answer, and the rebuild
    was most of the time a key press took."""

    _shown: tuple | None = None

    def bindings_changed(self, screen) -> None:
        shown = tuple((key, b.description, enabled, b.action)
                      for key, (_, b, enabled, _) in screen.active_bindings.items() if b.show)
        if shown == self._shown and self._bindings_ready:
            return
        self._shown = shown
        super().bindings_changed(screen)


# ---------------------------------------------------------------------------
# One checklist item
# ---------------------------------------------------------------------------


class AnswerSet(RadioSet):
    """The four answers of an item, in a row; keys 1-4 answer and move to the next item."""

    BINDINGS = [
        Binding("1", "answer(0)", "Met"),
        Binding("2", "answer(1)", "Partly"),
        Binding("3", "answer(2)", "Not met"),
        Binding("4", "answer(3)", "N/A"),
    ]

    def __init__(self, item_id: str, pressed: str | None = None, **kwargs) -> None:
        buttons = [RadioButton(ANSWER_LABELS[a], a == pressed, id=f"{item_id}-{a}") for a in ANSWERS]
        super().__init__(*buttons, compact=True, **kwargs)
        self.item_id = item_id

    def action_answer(self, index: int) -> None:
        self.query(RadioButton)[index].value = True
        item = self.parent
        if isinstance(item, ItemAnswer):
            item.set_answer(ANSWERS[index], by_key=True)


class ItemAnswer(Vertical):
    """A checklist item: id, CRITICAL mark, question, references, the answer and a note.
    Every change is reported to the wizard at once (`AssessmentWizard.answers` / `.notes`), so
    the answers outlive the page's widgets."""

    DEFAULT_CSS = """
    ItemAnswer {
        height: auto;
        margin: 0 0 1 0;
        padding: 0 1;
    }
    ItemAnswer.answered { background: $success 10%; }
    ItemAnswer AnswerSet { layout: horizontal; width: 100%; height: auto; }
    ItemAnswer AnswerSet RadioButton { width: auto; margin-right: 2; }
    """

    def __init__(self, item: ChecklistItem, answer: str | None = None, note: str | None = None) -> None:
        super().__init__(id=f"item-{item.id}", classes="critical" if item.critical else "")
        self.item = item
        self.answer = answer if answer in ANSWERS else None
        self._note = note or ""

    def compose(self) -> ComposeResult:
        item = self.item
        label = Text()
        label.append(item.id, style="bold")
        if item.critical:
            label.append("  CRITICAL", style="bold red")
        label.append(f"  weight {item.weight}\n", style="dim")
        label.append(item.question + "\n")
        label.append(item.appi, style="italic cyan")
        if item.gdpr:
            label.append(f"; {item.gdpr}", style="italic dim")
        yield Static(label, classes="question")
        yield AnswerSet(item.id, self.answer, id=f"answer-{item.id}")
        yield Input(self._note, id=f"note-{item.id}", compact=True,
                    placeholder="note: the evidence seen (required for a critical item not applicable)")

    def on_mount(self) -> None:
        self.set_class(self.answer is not None, "answered")

    @property
    def note(self) -> str | None:
        return self.query_one(f"#note-{self.item.id}", Input).value.strip() or None

    def set_answer(self, answer: str, *, by_key: bool = False) -> None:
        self.answer = answer
        self.set_class(True, "answered")
        screen = self.screen
        if isinstance(screen, AssessmentWizard):
            screen.answered(self, by_key=by_key)

    @on(RadioSet.Changed)
    def _changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        pressed = event.pressed.id or ""
        answer = pressed[len(self.item.id) + 1:]
        if answer in ANSWERS and answer != self.answer:
            self.set_answer(answer)

    @on(Input.Changed)
    def _noted(self, event: Input.Changed) -> None:
        event.stop()
        screen = self.screen
        if isinstance(screen, AssessmentWizard):
            screen.notes[self.item.id] = event.value


# ---------------------------------------------------------------------------
# Confirmation
# ---------------------------------------------------------------------------


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question over the current screen; escape is no."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $warning; background: $surface; padding: 0 1;
    }
    ConfirmScreen #confirm-body { height: auto; max-height: 16; }
    ConfirmScreen #confirm-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "answer(False)", "Cancel")]

    def __init__(self, title: str, body: Text | str, yes: str, no: str = "Cancel",
                 yes_variant: str = "primary") -> None:
        super().__init__()
        self._title, self._body, self._yes, self._no, self._variant = title, body, yes, no, yes_variant

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self._title
            with VerticalScroll(id="confirm-body"):
                yield Static(self._body)
            with Horizontal(id="confirm-buttons"):
                yield Button(self._no, id="confirm-no")
                yield Button(self._yes, id="confirm-yes", variant=self._variant)

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)


# ---------------------------------------------------------------------------
# The wizard
# ---------------------------------------------------------------------------


@dataclass
class Draft:
    """The assessment as the wizard would record it, with every problem the rules find."""

    answers: list[Answer]
    derived: Outcome
    score: int
    outcome: str
    overridden: bool
    data: dict
    problems: list[Exception] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)
    assessed_on: date | None = None
    valid_until: date | None = None
    next_review: date | None = None
    conditions: list[str] = field(default_factory=list)
    deadline: date | None = None


class WizardCommands(ScreenCommands):
    def commands(self, screen):
        return [
            ("Assessment: next page", "the next area of the checklist, then the summary (ctrl+n)",
             screen.action_next_page),
            ("Assessment: previous page", "back one area (ctrl+b)", screen.action_previous_page),
            ("Assessment: record…", "check, confirm and record the assessment (ctrl+r)", screen.action_record),
            ("Assessment: cancel", "leave the wizard; nothing is recorded (escape)", screen.action_cancel),
        ]


class AssessmentWizard(Screen[AssessmentView | None]):
    """Assess one contractor against the checklist; dismisses with the recorded assessment,
    or None when cancelled.

    One area page is mounted at a time (the answers live in `answers` and `notes`), so the
    screen stays small and quick however long the checklist grows."""

    DEFAULT_CSS = """
    AssessmentWizard #wizard-title { height: 2; padding: 0 1; background: $boost; }
    AssessmentWizard #pages { height: 1fr; }
    AssessmentWizard .page { padding: 0 1; }
    AssessmentWizard .area-heading { margin: 1 0; }
    AssessmentWizard #wizard-buttons { height: auto; align-horizontal: right; padding: 0 1; }
    AssessmentWizard #wizard-buttons Button { margin-left: 1; }
    AssessmentWizard .field-row { height: auto; margin-bottom: 1; }
    AssessmentWizard .field-row Label { width: 22; padding-top: 1; }
    AssessmentWizard .field-row Input, AssessmentWizard .field-row Select { width: 1fr; }
    AssessmentWizard #outcome-rule { border: round $panel; padding: 0 1; margin: 1 0; color: $text-muted; }
    AssessmentWizard #conditions { height: 8; }
    AssessmentWizard #conditions-box { height: auto; }
    AssessmentWizard #problems { margin: 1 0; }
    """

    COMMANDS = Screen.COMMANDS | {WizardCommands}
    BINDINGS = [
        Binding("ctrl+n", "next_page", "Next", priority=True),
        Binding("ctrl+b", "previous_page", "Back", priority=True),
        Binding("ctrl+r", "record", "Record…", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, party: Party, ref: ReferenceData, today: date, operator: str,
                 previous: AssessmentView | None = None) -> None:
        super().__init__()
        self.party = party
        self.ref = ref
        self.today = today
        self.operator = operator
        self.previous = previous
        self.areas = [area for area in ref.checklist_areas.values()
                      if any(i.area == area.code for i in ref.checklist.values())]
        self.pages = [area.code for area in self.areas] + [SUMMARY]
        self.page = 0
        self.answers: dict[str, str] = {}   # item id -> one of ANSWERS
        self.notes: dict[str, str] = {}     # item id -> note as typed
        self._prefilled_conditions: str | None = None
        self._prefilled_deadline: str | None = None
        self._recording = False
        self.draft: Draft | None = None

    # ---- layout -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="wizard-title")
        with ContentSwitcher(id="pages", initial="area-page"):
            yield VerticalScroll(id="area-page", classes="page")
            with VerticalScroll(id="summary-page", classes="page"):
                yield Static(id="outcome-panel")
                rule = Static(OUTCOME_RULE, id="outcome-rule")
                rule.border_title = "The outcome rule"
                yield rule
                with Horizontal(classes="field-row"):
                    yield Label("Override outcome")
                    yield Select([(f"{o} (override)", o) for o in OUTCOMES], id="override-outcome",
                                 prompt="no override: keep the derived outcome")
                with Horizontal(classes="field-row"):
                    yield Label("Override reason")
                    yield Input(id="override-reason",
                                placeholder="required for an override: why the derived outcome is wrong")
                with Vertical(id="conditions-box"):
                    yield Label("Conditions the contractor must meet, one per line "
                                "(prefilled with the derived reasons):")
                    yield TextArea(id="conditions", soft_wrap=True)
                    with Horizontal(classes="field-row"):
                        yield Label("Conditions deadline")
                        yield Input(id="condition-deadline", placeholder="YYYY-MM-DD")
                with Horizontal(classes="field-row"):
                    yield Label("Assessed on")
                    yield Input(self.today.isoformat(), id="assessed-on", placeholder="YYYY-MM-DD")
                with Horizontal(classes="field-row"):
                    yield Label("Assessor")
                    yield Input(self.operator, id="assessor")
                with Horizontal(classes="field-row"):
                    yield Label("Valid until")
                    yield Input(id="valid-until", placeholder=(
                        f"YYYY-MM-DD; default {self.ref.settings.assessment_validity_months} months "
                        "after the day assessed"))
                yield Static(id="recorded-as")
                yield Static(id="problems")
        with Horizontal(id="wizard-buttons"):
            yield Button("Cancel", id="wizard-cancel")
            yield Button("Back", id="wizard-back")
            yield Button("Next", id="wizard-next", variant="primary")
            yield Button("Record assessment…", id="wizard-record", variant="success")
        yield SteadyFooter()

    async def on_mount(self) -> None:
        self.title = f"Assess {self.party.name}"
        await self._show_page(0)

    def _area_widgets(self, area) -> list:
        heading = Text()
        heading.append(area.name, style="bold")
        heading.append(f"  {area.name_ja}\n", style="dim")
        heading.append(area.guideline, style="italic cyan")
        heading.append("\nAnswer each item: 1 met, 2 partly met, 3 not met, 4 not applicable (or arrows and "
                       "space); tab reaches the note. ctrl+n next page, ctrl+b back.", style="dim")
        widgets: list = [Static(heading, classes="area-heading")]
        for item in self.ref.checklist.values():
            if item.area == area.code:
                widgets.append(ItemAnswer(item, self.answers.get(item.id), self.notes.get(item.id)))
        return widgets

    # ---- navigation -------------------------------------------------------------
    @property
    def on_summary(self) -> bool:
        return self.pages[self.page] == SUMMARY

    def page_items(self) -> list[ItemAnswer]:
        """The item widgets of the page shown (none on the summary)."""
        return list(self.query_one("#area-page").query(ItemAnswer))

    async def _show_page(self, number: int) -> None:
        self.page = max(0, min(number, len(self.pages) - 1))
        switcher = self.query_one("#pages", ContentSwitcher)
        if self.on_summary:
            switcher.current = "summary-page"
        else:
            page = self.query_one("#area-page", VerticalScroll)
            await page.remove_children()
            await page.mount_all(self._area_widgets(self.areas[self.page]))
            page.scroll_home(animate=False)
            switcher.current = "area-page"
        self._render_title()
        self.query_one("#wizard-back", Button).disabled = self.page == 0
        self.query_one("#wizard-next", Button).display = not self.on_summary
        self.query_one("#wizard-record", Button).display = self.on_summary
        if self.on_summary:
            self.refresh_summary()
            self.query_one("#wizard-record", Button).focus()
        else:
            items = self.page_items()
            first = next((w for w in items if w.answer is None), items[0] if items else None)
            if first is not None:
                first.query_one(AnswerSet).focus()

    def _render_title(self) -> None:
        title = Text()
        title.append(f"Safeguard assessment of {self.party.name} ({self.party.party_id})", style="bold")
        if self.previous is not None:
            title.append(f"  last: {self.previous.assessed_on} {self.previous.outcome}", style="dim")
        title.append("\n")
        if self.on_summary:
            title.append(f"Summary (page {self.page + 1} of {len(self.pages)}): nothing is recorded until you "
                         "confirm. ")
        else:
            area = self.areas[self.page]
            title.append(f"Area {self.page + 1} of {len(self.areas)}: {area.name}. ")
        title.append(f"{len(self.answers)} of {len(self.ref.checklist)} items answered.", style="dim")
        self.query_one("#wizard-title", Static).update(title, layout=False)

    async def action_next_page(self) -> None:
        if not self.on_summary:
            await self._show_page(self.page + 1)

    async def action_previous_page(self) -> None:
        if self.page > 0:
            await self._show_page(self.page - 1)

    async def go_to_summary(self) -> None:
        if not self.on_summary:
            await self._show_page(len(self.pages) - 1)

    def answered(self, item: ItemAnswer, *, by_key: bool) -> None:
        """An item was answered: keep it; after a key, move on to the next item (or Next)."""
        if item.answer is not None:
            self.answers[item.item.id] = item.answer
        self._render_title()
        if by_key:
            items = self.page_items()
            if item in items and items.index(item) + 1 < len(items):
                items[items.index(item) + 1].query_one(AnswerSet).focus()
            else:
                self.query_one("#wizard-next", Button).focus()

    @on(Button.Pressed, "#wizard-next")
    async def _next(self) -> None:
        await self.action_next_page()

    @on(Button.Pressed, "#wizard-back")
    async def _back(self) -> None:
        await self.action_previous_page()

    @on(Button.Pressed, "#wizard-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    @on(Button.Pressed, "#wizard-record")
    async def _record_pressed(self) -> None:
        await self.action_record()

    def action_cancel(self) -> None:
        if self._recording:
            return
        if not self.answers:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen(
            "Discard this assessment?",
            "The answers given so far are dropped. Nothing has been recorded in the ledger.",
            "Discard", "Keep assessing", yes_variant="error"), answered)

    # ---- the draft --------------------------------------------------------------
    def collect(self) -> Draft:
        """The answers and summary fields as the service will receive them, checked by the same
        rules the service applies."""
        problems: list[Exception] = []

        def attempt(fn, *args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except ValidationErrors as exc:
                problems.extend(exc.errors)
            except ValidationError as exc:
                problems.append(exc)
            return None

        answers: list[Answer] = []
        unanswered: list[str] = []
        for item_id in self.ref.checklist:
            if item_id in self.answers:
                note = (self.notes.get(item_id) or "").strip() or None
                answers.append(Answer(item_id, self.answers[item_id], note))
            else:
                unanswered.append(item_id)
        problems.extend(check_answers(answers, self.ref))
        derived = derive_outcome(answers, self.ref)
        points = score(answers, self.ref)

        assessor = attempt(v.text, "assessor", self.query_one("#assessor", Input).value or self.operator)
        assessed_on = attempt(v.iso_date, "assessed_on", self.query_one("#assessed-on", Input).value)
        override = self.query_one("#override-outcome", Select).value
        override = override if isinstance(override, str) else None
        reason_text = self.query_one("#override-reason", Input).value
        override_reason = attempt(v.text, "override_reason", reason_text, required=False,
                                  max_len=v.MAX_TEXT, multiline=True)
        problems.extend(check_override(derived, override, override_reason))
        outcome = override if override in OUTCOMES else derived.outcome

        valid_given = attempt(v.iso_date, "valid_until", self.query_one("#valid-until", Input).value,
                              required=False)
        valid_until = next_review = None
        lead = self.ref.assessment.expiring_within_days
        if assessed_on is not None:
            valid_until, next_review = validity(assessed_on, self.ref.settings.assessment_validity_months, lead)
            if valid_given is not None:
                valid_until = valid_given
                next_review = max(valid_given - timedelta(days=lead), assessed_on)
            problems.extend(check_dates(assessed_on, valid_until, self.today))

        conditions: list[str] = []
        deadline = None
        send_conditions: list[str] | None = None
        if outcome == "conditional":
            text = self.query_one("#conditions", TextArea).text
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines and text.strip() != (self._prefilled_conditions or "").strip():
                checked = attempt(v.text_list, "conditions", lines)
                send_conditions = list(checked) if checked is not None else lines
            # Unchanged, the service takes the derived reasons as the conditions.
            conditions = send_conditions if send_conditions is not None else list(derived.reasons)
            deadline = attempt(v.iso_date, "condition_deadline",
                               self.query_one("#condition-deadline", Input).value, required=False)
            if deadline is None and assessed_on is not None:
                deadline = condition_deadline(assessed_on, self.ref)
            problems.extend(check_conditions(outcome, conditions, deadline, self.today))

        data = {
            "assessor": assessor or self.operator,
            "assessed_on": assessed_on.isoformat() if assessed_on else self.query_one("#assessed-on", Input).value,
            "answers": [{"item": a.item_id, "answer": a.answer, "note": a.note, "evidence_files": []}
                        for a in answers],
        }
        if override:
            data["override_outcome"] = override
        if override_reason:
            data["override_reason"] = override_reason
        if outcome == "conditional":
            if send_conditions is not None:
                data["conditions"] = send_conditions
            if deadline is not None:
                data["condition_deadline"] = deadline.isoformat()
        if valid_given is not None:
            data["valid_until"] = valid_given.isoformat()
        return Draft(answers, derived, points, outcome, bool(override), data, problems, unanswered,
                     assessed_on, valid_until, next_review, conditions, deadline)

    def refresh_summary(self) -> Draft:
        draft = self.collect()
        self.draft = draft
        derived = draft.derived
        # Prefill the conditions with the derived reasons, and the deadline with the default,
        # until the assessor changes them.
        area = self.query_one("#conditions", TextArea)
        reasons = "\n".join(derived.reasons)
        if area.text.strip() in ("", (self._prefilled_conditions or "").strip()) and area.text != reasons:
            self._prefilled_conditions = reasons
            area.load_text(reasons)
        elif self._prefilled_conditions is None:
            self._prefilled_conditions = reasons
        deadline_input = self.query_one("#condition-deadline", Input)
        if draft.assessed_on is not None:
            default = condition_deadline(draft.assessed_on, self.ref).isoformat()
            if deadline_input.value in ("", self._prefilled_deadline) and deadline_input.value != default:
                self._prefilled_deadline = default
                deadline_input.value = default
        self.query_one("#conditions-box").display = draft.outcome == "conditional"

        panel = Text()
        panel.append(f"Score {draft.score}%", style="bold")
        panel.append("  (weight x 2 for met, x 1 for partly met, 0 for not met; not applicable is not "
                     "scored)\n", style="dim")
        panel.append("Derived outcome: ")
        panel.append(derived.outcome.upper(), style=OUTCOME_STYLES[derived.outcome])
        panel.append("\n")
        parts: list = [panel]
        if derived.reasons:
            panel.append("because:")
            reasons = Table.grid(padding=(0, 1))
            reasons.add_column(width=3, no_wrap=True)
            reasons.add_column(ratio=1)
            for reason in derived.reasons:
                reasons.add_row("  -", reason)
            parts.append(reasons)
        else:
            panel.append("every item is met or not applicable.", style="dim")
        if draft.unanswered:
            parts.append(Text(f"{len(draft.unanswered)} item(s) not answered (counted as not met): "
                              + ", ".join(draft.unanswered), style="bold red"))
        self.query_one("#outcome-panel", Static).update(Group(*parts))

        recorded = Text()
        recorded.append("Will be recorded as: ")
        recorded.append(draft.outcome.upper(), style=OUTCOME_STYLES[draft.outcome])
        if draft.overridden:
            recorded.append(f" (override of the derived {derived.outcome})", style="bold magenta")
        if draft.valid_until is not None:
            recorded.append(f"; valid until {draft.valid_until.isoformat()}, next review "
                            f"{draft.next_review.isoformat()}")
        if draft.outcome == "conditional" and draft.deadline is not None:
            recorded.append(f"; {len(draft.conditions)} condition(s) due by {draft.deadline.isoformat()}")
        self.query_one("#recorded-as", Static).update(recorded)
        self._show_problems(draft.problems)
        return draft

    def _show_problems(self, problems: list[Exception], *, title: str | None = None) -> None:
        out = Text()
        if problems:
            out.append((title or f"Before recording, fix {len(problems)} problem(s):") + "\n", style="bold red")
            out.append_text(error_lines(problems))
        else:
            out.append("Ready to record: confirm with Record assessment (ctrl+r).", style="green")
        self.query_one("#problems", Static).update(out)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(TextArea.Changed)
    def _summary_changed(self, event) -> None:
        if self.on_summary and self.is_mounted:
            self.refresh_summary()

    # ---- recording --------------------------------------------------------------
    async def action_record(self) -> None:
        if self._recording:
            return
        await self.go_to_summary()
        draft = self.refresh_summary()
        if draft.problems:
            self.notify(f"Not recorded: {len(draft.problems)} problem(s) to fix, listed on the summary.",
                        title="Not recorded", severity="error")
            self.query_one("#problems").scroll_visible()
            return
        body = Text()
        body.append(f"Record this safeguard assessment of {self.party.name} ({self.party.party_id})?\n\n")
        body.append("Outcome: ")
        body.append(draft.outcome.upper(), style=OUTCOME_STYLES[draft.outcome])
        if draft.overridden:
            body.append(f" (overriding the derived {draft.derived.outcome}: {draft.data.get('override_reason')})")
        body.append(f"\nScore: {draft.score}%; {len(draft.answers)} items answered\n")
        body.append(f"Assessed on {draft.data['assessed_on']} by {draft.data['assessor']}; valid until "
                    f"{draft.valid_until}, next review {draft.next_review}\n")
        if draft.outcome == "conditional":
            body.append(f"{len(draft.conditions)} condition(s), to be met by {draft.deadline}\n")
        body.append("\nThe assessment becomes an entry of the tamper-evident ledger and cannot be edited "
                    "afterwards: a mistake can only be answered by recording a new assessment.",
                    style="bold")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._recording = True
                self.query_one("#wizard-record", Button).disabled = True
                self._show_problems([], title=None)
                self.query_one("#problems", Static).update(Text("Recording…", style="bold"))
                self.record(dict(draft.data))

        self.app.push_screen(ConfirmScreen("Record the assessment", body, "Record", "Go back",
                                           yes_variant="success"), confirmed)

    @work(thread=True, exclusive=True, group="assessment-record")
    def record(self, data: dict) -> None:
        try:
            with self.app.ledger.open() as service:
                view = service.record_assessment(self.party.party_id, data)
        except Exception as exc:  # noqa: BLE001 - shown on the summary and as a notification
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self._recorded, view)

    def _recorded(self, view: AssessmentView) -> None:
        self._recording = False
        self.dismiss(view)

    def _failed(self, exc: Exception) -> None:
        self._recording = False
        self.query_one("#wizard-record", Button).disabled = False
        errors = _errors_of(exc) if isinstance(exc, LedgerError) else [exc]
        self._show_problems(errors, title="Not recorded: the ledger refused the assessment; nothing was written:")
        self.app.report_error(exc)


WizardCommands.screen_type = AssessmentWizard
