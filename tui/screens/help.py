"""Every key binding: the current screen's and the global ones (F1 or ?; escape, q or F1 closes)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

# Bindings that Textual adds itself, told in words.
BUILTIN_WORDS = {
    "command_palette": "Command palette: search every command",
    "app.command_palette": "Command palette: search every command",
    "quit": "Quit",
}


@dataclass(frozen=True)
class HelpLine:
    keys: str
    description: str


def _words(binding: Binding) -> str:
    if binding.action in BUILTIN_WORDS and binding.system or binding.action.endswith("command_palette"):
        return BUILTIN_WORDS[binding.action]
    text = binding.description or BUILTIN_WORDS.get(binding.action) or binding.action.replace("_", " ")
    if binding.tooltip and binding.tooltip.rstrip(".") != text:
        text = f"{text}: {binding.tooltip.rstrip('.')}"
    return text


def binding_lines(node: DOMNode, *, shown_only: bool = False,
                  skip: frozenset[str] = frozenset()) -> list[HelpLine]:
    """The bindings of one node (screen, widget or app), keys of the same action together."""
    app = node.app
    grouped: dict[tuple[str, str], list[str]] = {}
    for key, binding in node._bindings:
        if key in skip:
            continue
        if shown_only and not (binding.show and binding.description):
            continue
        if binding.system and not binding.description and binding.action not in BUILTIN_WORDS:
            continue
        words = _words(binding)
        keys = grouped.setdefault((binding.action, words), [])
        display = app.get_key_display(binding)
        if display not in keys:
            keys.append(display)
    return [HelpLine(" / ".join(keys), words) for (_action, words), keys in grouped.items()]


def _keys_of(bindings) -> frozenset[str]:
    keys: set[str] = set()
    for binding in bindings:
        if isinstance(binding, Binding):
            keys.update(k.strip() for k in binding.key.split(","))
        else:
            keys.update(k.strip() for k in binding[0].split(","))
    return frozenset(keys)


# Keys every Textual screen has (focus moves, copy): listed once, under "Everywhere".
SCREEN_BASE_KEYS = _keys_of(Screen.BINDINGS)


def screen_help(app, screen: Screen) -> list[tuple[str, list[HelpLine]]]:
    """Sections: the focused widget's keys, the screen's, then those that work everywhere."""
    sections: list[tuple[str, list[HelpLine]]] = []
    focused = screen.focused
    if focused is not None:
        for node in focused.ancestors_with_self:
            if node is screen or node is app:
                break
            lines = binding_lines(node, shown_only=True)
            if lines:
                sections.append((f"In the {type(node).__name__}", lines))
    name = type(screen).__name__.removesuffix("Screen") or type(screen).__name__
    own = binding_lines(screen, skip=SCREEN_BASE_KEYS)
    sections.append((f"On this screen ({name})", own or [HelpLine("", "no keys of its own")]))
    from ..app import SCREENS_HELP

    screens = {key: f"{title}: {text}" for key, title, text in SCREENS_HELP}
    everywhere = [HelpLine(line.keys, screens.get(line.keys, line.description))
                  for line in binding_lines(app)]
    base = [line for line in binding_lines(screen) if line not in own]
    sections.append(("Everywhere", everywhere + base))
    return sections


def help_widgets(sections: list[tuple[str, list[HelpLine]]]) -> list[Widget]:
    """A title per section, then one row per binding: its keys, and what it does."""
    rows: list[Widget] = []
    for number, (title, lines) in enumerate(sections):
        rows.append(Static(Content.styled(title, "bold $accent"),
                           classes="help-section" + (" -later" if number else "")))
        for line in lines:
            rows.append(Horizontal(Static(Content.styled(line.keys, "bold"), classes="help-keys"),
                                   Static(Content(line.description), classes="help-words"),
                                   classes="help-row"))
    rows.append(Static(Content.from_markup(
        "[$text-muted]The mouse works too: click a key in the footer. ctrl+p searches every command."),
        classes="help-section -later"))
    return rows


class HelpScreen(ModalScreen[None]):
    """Every binding of the screen below and of the app."""

    BINDINGS = [
        Binding("escape,q,f1,question_mark", "close", "Close help"),
    ]

    def __init__(self, under: Screen | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.under = under

    def compose(self) -> ComposeResult:
        under = self.under
        if under is None:
            stack = self.app.screen_stack
            under = stack[-1] if stack else self
        self.sections = screen_help(self.app, under)
        yield Header()
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help: every key"
            box.border_subtitle = "esc, q or F1 closes"
            yield from help_widgets(self.sections)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def action_close(self) -> None:
        self.dismiss(None)
