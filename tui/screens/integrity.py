"""Integrity: run the full verification in a worker, with a progress bar, and say what it found
in words a non-engineer understands (and the first bad entry, if any)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, ProgressBar, Static
from textual.worker import get_current_worker

from ..widgets import plural, when_local

MAX_SHOWN_PROBLEMS = 20
EXPLANATION = (
    "Verification reads every entry again: it recomputes each entry's fingerprint (its hash), checks "
    "that each entry names the one before it, rebuilds the fingerprint of the whole ledger (the root) "
    "and compares the query tables and the vault with the entries. A change made to the file by "
    "anything but this program shows up here."
)


class VerificationStopped(Exception):
    """Raised from the progress callback when the user stops a verification."""


@dataclass(frozen=True)
class VerifyOutcome:
    """A verification's result in plain data, handed from the worker to the screen."""

    ok: bool
    size: int
    root: str
    when: str
    first_bad_seq: int | None
    problems: tuple[tuple[int | None, str], ...]
    logged: bool


@dataclass(frozen=True)
class LastCheck:
    when: str
    ok: bool
    size: int
    first_bad_seq: int | None
    problems: int
    current_size: int


def outcome_text(result: VerifyOutcome) -> Content:
    """The verdict, in words."""
    entries = plural(result.size, "entry", "entries")
    if result.ok:
        lines = [
            Content.from_markup("[$success b]✔ Intact[/]"),
            Content(f"Every one of the {entries} is exactly as it was written: no entry was changed, "
                    "removed, reordered or inserted, and the query tables and the vault agree with them."),
        ]
    else:
        first = (f"the first bad entry is #{result.first_bad_seq}" if result.first_bad_seq is not None
                 else "the problem is outside the entries themselves")
        lines = [
            Content.from_markup("[$error b]✘ NOT intact[/]"),
            Content(f"The ledger has been changed since it was written: {first}. "
                    f"{plural(len(result.problems), 'problem')} found in {entries}. Do not record more until "
                    "this is understood: keep a copy of the file and compare it with your last backup."),
            Content(""),
        ]
        for seq, what in result.problems[:MAX_SHOWN_PROBLEMS]:
            where = f"Entry {seq}" if seq is not None else "Ledger"
            lines.append(Content.assemble(("  ● ", "$error"), (f"{where}: ", "bold"), what))
        if len(result.problems) > MAX_SHOWN_PROBLEMS:
            lines.append(Content(f"  … and {len(result.problems) - MAX_SHOWN_PROBLEMS} more "
                                 "(`disclosure-ledger verify` lists them all)"))
    lines.append(Content(""))
    lines.append(Content.from_markup("[$text-muted]Root (the fingerprint of all $n):[/] $root",
                                     n=entries, root=result.root or "—"))
    checked = f"Checked {result.when}" + ("" if result.logged else " (not logged: the file is read-only or busy)")
    lines.append(Content.styled(checked, "$text-muted"))
    return Content("\n").join(lines)


CHECKPOINT_EXPLANATION = (
    "A signed checkpoint is the ledger's size and root, signed with the company's key. A copy kept "
    "outside this file (given to your auditor, printed in the annual review) is what proves later "
    "that the ledger was not cut short, rolled back or rewritten."
)


@dataclass(frozen=True)
class SigningState:
    """The signing key and the latest checkpoint, in plain data for the screen."""

    verifier_key: str | None
    latest: tuple[int, int, str, str] | None  # id, size, made (local), reason
    current_size: int
    can_sign: bool


def signing_text(state: SigningState) -> Content:
    if state.verifier_key is None:
        return Content.from_markup(
            "No signing key yet. Make one with [b]disclosure-ledger key init[/b] (it prints the "
            "verifier key to give your auditor); checkpoints are then made automatically.")
    lines = [Content.from_markup("[$text-muted]Verifier key:[/] $key", key=state.verifier_key)]
    if state.latest is None:
        lines.append(Content("No checkpoint yet."))
    else:
        number, size, made, reason = state.latest
        behind = state.current_size - size
        since = f"; {plural(behind, 'entry', 'entries')} added since" if behind else "; up to date"
        lines.append(Content(f"Latest checkpoint #{number}: {plural(size, 'entry', 'entries')}, "
                             f"signed {made} ({reason}){since}."))
    if not state.can_sign:
        lines.append(Content.styled("The key is locked or missing: sign from the command line "
                                    "(`disclosure-ledger checkpoint`).", "$warning"))
    return Content("\n").join(lines)


def last_check_text(last: LastCheck | None) -> Content:
    if last is None:
        return Content.from_markup("This ledger has not been verified yet. Press [b]v[/b] to check it now.")
    verdict = "[$success]intact[/]" if last.ok else "[$error]NOT intact[/]"
    text = Content.from_markup(f"Last check: $when, $n, {verdict}", when=last.when,
                               n=plural(last.size, "entry", "entries"))
    if not last.ok and last.first_bad_seq is not None:
        text = text + Content(f" (first bad entry #{last.first_bad_seq})")
    if last.current_size > last.size:
        text = text + Content(f"; {plural(last.current_size - last.size, 'entry', 'entries')} added since")
    return text


class IntegrityScreen(Screen):
    """Verify every hash, link, the root and the query tables; explain the result."""

    BINDINGS = [
        Binding("v", "verify", "Verify now"),
        Binding("k", "checkpoint", "Sign checkpoint"),
        Binding("escape", "stop", "Stop"),
    ]

    class Progress(Message):
        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.running = False
        self.outcome: VerifyOutcome | None = None
        self.signing: SigningState | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="integrity"):
            with Vertical(id="verify-panel", classes="panel") as panel:
                panel.border_title = "Verify the ledger"
                yield Static(EXPLANATION, id="verify-explain", classes="muted")
                with Horizontal(id="verify-actions"):
                    yield Button("Verify now (v)", id="verify-button", variant="primary")
                    with Vertical(id="verify-side"):
                        yield Static("Loading…", id="last-check")
                        yield ProgressBar(id="verify-progress", show_eta=False)
                        yield Static("", id="verify-status")
            with Vertical(id="result-panel", classes="panel") as panel:
                panel.border_title = "Result"
                yield Static("", id="verify-result")
            with Vertical(id="checkpoint-panel", classes="panel") as panel:
                panel.border_title = "Signed checkpoints"
                yield Static(CHECKPOINT_EXPLANATION, id="checkpoint-explain", classes="muted")
                yield Static("Loading…", id="checkpoint-state")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#verify-progress").display = False
        self.query_one("#result-panel").display = False

    def on_screen_resume(self) -> None:
        if not self.running:
            self.load_last_check()

    # ---- the last check, from the log --------------------------------------------------
    @work(thread=True, exclusive=True, group="last-check")
    def load_last_check(self) -> None:
        try:
            with self.app.ledger.open() as service:
                last = service.last_verification()
                size = service.counts()["entries"]
                check = None if last is None else LastCheck(
                    when_local(service.local_time(last.verified_at)), last.ok, last.size,
                    last.first_bad_seq, last.problems, size)
                signing = self._signing_state(service)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.app.report_error, exc)
            return
        self.app.call_from_thread(self.query_one("#last-check", Static).update, last_check_text(check))
        self.app.call_from_thread(self._show_signing, signing)

    @staticmethod
    def _signing_state(service) -> SigningState:
        keys = service.verifier_keys()
        latest = service.latest_checkpoint()
        return SigningState(
            keys[-1] if keys else None,
            None if latest is None else (latest.id, latest.size, when_local(service.local_time(latest.made_at)),
                                         latest.reason),
            service.counts()["entries"], service.can_sign())

    def _show_signing(self, state: SigningState) -> None:
        self.signing = state
        self.query_one("#checkpoint-state", Static).update(signing_text(state))
        self.refresh_bindings()

    # ---- checkpoints -------------------------------------------------------------------
    def action_checkpoint(self) -> None:
        self.sign_checkpoint()

    @work(thread=True, exclusive=True, group="checkpoint")
    def sign_checkpoint(self) -> None:
        try:
            with self.app.ledger.open() as service:
                made = service.make_checkpoint("manual")
                signing = self._signing_state(service)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self.app.report_error, exc)
            return
        self.app.call_from_thread(self._show_signing, signing)
        self.app.call_from_thread(
            self.app.notify, f"Checkpoint #{made.id} signs {plural(made.size, 'entry', 'entries')}. "
            "`disclosure-ledger checkpoint export --out FILE` writes it for your auditor.", title="Signed")

    # ---- verification --------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "verify":
            return None if self.running else True   # shown but dimmed while running
        if action == "stop":
            return self.running
        if action == "checkpoint":
            return self.signing is not None and self.signing.can_sign
        return True

    @on(Button.Pressed, "#verify-button")
    def _pressed(self) -> None:
        self.action_verify()

    def action_verify(self) -> None:
        if self.running:
            return
        self._set_running(True)
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.update(total=None, progress=0)
        self.query_one("#verify-status", Static).update("Reading the ledger…")
        self.run_verification()

    def action_stop(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "verify")
            self.query_one("#verify-status", Static).update("Stopping…")

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#verify-button", Button).disabled = running
        self.query_one("#verify-progress").display = running
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="verify")
    def run_verification(self) -> None:
        worker = get_current_worker()
        last_post = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last_post
            if worker.is_cancelled:
                raise VerificationStopped()
            now = time.monotonic()
            if now - last_post >= 0.05 or done >= total:
                last_post = now
                self.post_message(self.Progress(done, total))

        try:
            with self.app.ledger.open() as service:
                report = service.verify(progress=progress)
                logged = service.last_verification()
                fresh = logged is not None and logged.size == report.size and logged.root == report.root
                when = service.local_time(logged.verified_at) if fresh else service.now().astimezone(service.zone)
                outcome = VerifyOutcome(report.ok, report.size, report.root, when_local(when),
                                        report.first_bad_seq,
                                        tuple((p.seq, p.what) for p in report.problems), fresh)
        except VerificationStopped:
            self.app.call_from_thread(self._stopped)
            return
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._failed, exc)
            return
        self.app.call_from_thread(self.show_outcome, outcome)

    def on_integrity_screen_progress(self, message: Progress) -> None:
        if not self.running:
            return
        bar = self.query_one("#verify-progress", ProgressBar)
        bar.update(total=max(message.total, 1), progress=message.done)
        self.query_one("#verify-status", Static).update(
            f"Checked {message.done:,} of {message.total:,} entries…")

    def _stopped(self) -> None:
        self._set_running(False)
        self.query_one("#verify-status", Static).update("Stopped: nothing was concluded.")

    def _failed(self, error: Exception) -> None:
        self._set_running(False)
        self.query_one("#verify-status", Static).update("The verification could not run.")
        self.app.report_error(error)

    def show_outcome(self, outcome: VerifyOutcome) -> None:
        self.outcome = outcome
        self._set_running(False)
        self.query_one("#verify-status", Static).update("")
        panel = self.query_one("#result-panel")
        panel.display = True
        panel.set_class(outcome.ok, "-ok")
        panel.set_class(not outcome.ok, "-bad")
        self.query_one("#verify-result", Static).update(outcome_text(outcome))
        self.load_last_check()
        if not self.is_current:  # the user went elsewhere while it ran: tell them there
            if outcome.ok:
                self.app.notify(f"Intact: all {plural(outcome.size, 'entry', 'entries')} verified.",
                                title="Verified")
            else:
                self.app.notify("NOT intact: press i for the problems found.", title="Verification failed",
                                severity="error", timeout=10)
        self.call_after_refresh(self.query_one("#integrity").scroll_to_widget, panel, top=True)
