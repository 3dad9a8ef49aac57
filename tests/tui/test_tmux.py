"""End to end: the real `disclosure-ledger` command in a real terminal (tmux): verify from the
integrity screen, and record one disclosure with keystrokes through the form, then check it with
the command line's `verify` and `show`.

`TmuxApp` starts the command in a detached tmux session on its own server socket, sends keys
and polls `capture-pane -p` until a text shows. Extend with more keystrokes, e.g.:

    with TmuxApp.start(ledger) as term:
        term.wait_for("entries in the chain")
        term.send("r")
        term.wait_for("Record")
        term.send_text("S2024-0137")
        term.send("Enter")
        ...
        term.quit()
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

WIDTH, HEIGHT = 100, 30


def ledger_command() -> list[str]:
    """The installed console script next to this Python; else the launcher module."""
    script = Path(sys.executable).parent / "disclosure-ledger"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "tui.launcher"]


class TmuxApp:
    """One run of the command in a detached tmux session (its own server, so nothing else is touched)."""

    def __init__(self, socket: str, session: str, status_file: Path):
        self.socket = socket
        self.session = session
        self.status_file = status_file

    @classmethod
    def start(cls, db: Path, *args: str, width: int = WIDTH, height: int = HEIGHT,
              operator: str = "Tmux Tester") -> "TmuxApp":
        tag = uuid.uuid4().hex[:8]
        status = db.parent / f"tmux-{tag}.status"
        command = " ".join(shlex.quote(part) for part in [*ledger_command(), "--db", str(db), *args])
        shell = f"{command}; echo $? > {shlex.quote(str(status))}"
        app = cls(f"dl-test-{tag}", f"dl-{tag}", status)
        env = {**os.environ, "DISCLOSURE_LEDGER_OPERATOR": operator, "TERM": "xterm-256color"}
        env.pop("TMUX", None)
        subprocess.run(["tmux", "-L", app.socket, "-f", "/dev/null", "new-session", "-d", "-s", app.session,
                        "-x", str(width), "-y", str(height), "sh", "-c", shell],
                       check=True, env=env, cwd=Path(__file__).resolve().parents[2])
        return app

    def _tmux(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)

    def screen(self) -> str:
        """The pane's text now."""
        return self._tmux("capture-pane", "-p", "-t", self.session).stdout

    def send(self, *keys: str) -> None:
        """tmux key names: 'i', 'Enter', 'Escape', 'Tab', 'C-p', 'F1', ..."""
        for key in keys:
            self._tmux("send-keys", "-t", self.session, key)
            time.sleep(0.05)

    def send_text(self, text: str) -> None:
        """Type text literally."""
        self._tmux("send-keys", "-t", self.session, "-l", text)

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        """Poll the pane until `text` shows; returns the pane's text."""
        deadline = time.monotonic() + timeout
        shown = ""
        while time.monotonic() < deadline:
            shown = self.screen()
            if text in shown:
                return shown
            if self.exit_status() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not show within {timeout} s; the screen was:\n{shown}")

    def wait_gone(self, text: str, timeout: float = 20.0) -> str:
        """Poll the pane until `text` no longer shows; returns the pane's text."""
        deadline = time.monotonic() + timeout
        shown = self.screen()
        while text in shown:
            if time.monotonic() > deadline or self.exit_status() is not None:
                raise AssertionError(f"{text!r} still showed after {timeout} s; the screen was:\n{shown}")
            time.sleep(0.05)
            shown = self.screen()
        return shown

    def cursor(self) -> tuple[int, int]:
        """Where the terminal's (hidden) cursor is: Textual puts it at the cursor of the focused
        input or text area, so it tells which text field has the focus."""
        out = self._tmux("display-message", "-p", "-t", self.session, "#{cursor_x} #{cursor_y}").stdout.split()
        return int(out[0]), int(out[1])

    def wait_cursor_moved(self, since: tuple[int, int], timeout: float = 20.0) -> tuple[int, int]:
        """Poll until the cursor left `since` (the focus reached another text field)."""
        deadline = time.monotonic() + timeout
        while (now := self.cursor()) == since:
            if time.monotonic() > deadline or self.exit_status() is not None:
                raise AssertionError(f"the cursor stayed at {since} for {timeout} s; the screen was:\n"
                                     f"{self.screen()}")
            time.sleep(0.05)
        return now

    def exit_status(self) -> int | None:
        """The command's exit status once it ended, else None."""
        try:
            return int(self.status_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def wait_exit(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.exit_status()
            if status is not None:
                return status
            time.sleep(0.1)
        raise AssertionError(f"the command did not end within {timeout} s; the screen was:\n{self.screen()}")

    def quit(self) -> int:
        self.send("q")
        return self.wait_exit()

    def close(self) -> None:
        self._tmux("kill-server")  # this test's own server only (-L socket)
        folder = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"
        (folder / self.socket).unlink(missing_ok=True)

    def __enter__(self) -> "TmuxApp":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def test_the_real_command_verifies_and_quits(sample_ledger):
    with TmuxApp.start(sample_ledger) as term:
        shown = term.wait_for("entries in the chain")  # the dashboard's figures are loaded
        assert "Releases in" in shown and "Needs attention" in shown
        term.send("i")
        term.wait_for("Verify the ledger")
        term.send("v")
        shown = term.wait_for("Every one of the")
        assert "Intact" in shown
        assert term.quit() == 0
        deadline = time.monotonic() + 10
        while term._tmux("has-session", "-t", term.session).returncode == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert term._tmux("has-session", "-t", term.session).returncode != 0  # the process ended


@pytest.fixture
def third_party_ledger(tmp_path) -> Path:
    """A new ledger with one domestic third party (a consent release to it needs no assessment)."""
    from ledger.service import LedgerService

    path = tmp_path / "ledger.db"
    service = LedgerService.open(path, create=True, operator="Fixture")
    try:
        service.register_party({"party_id": "P001", "name": "Heian Textbook Publishers Inc.",
                                "kind": "third_party", "country": "JP",
                                "address": "8 Oike-dori, Nakagyo-ku, Kyoto", "representative": "Watanabe Aiko"})
    finally:
        service.close()
    return path


def run_cli(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DISCLOSURE_LEDGER_OPERATOR": "Tmux Tester"}
    return subprocess.run([*ledger_command(), "--db", str(db), *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd=Path(__file__).resolve().parents[2])


def test_record_one_disclosure_with_keystrokes_then_verify(third_party_ledger):
    """The keys a person types, from the dashboard. A key sent right after one that moves the focus
    could reach the field before the focus moved, so the test waits for a sign of each move first:
    the footer's `q Quit` (shown only when no text field has the focus) or the terminal's cursor
    (which Textual keeps in the focused text field)."""
    # The command runs on the real clock: the consent must be given before today's provision.
    consent_on = (date.today() - timedelta(days=14)).isoformat()
    with TmuxApp.start(third_party_ledger) as term:
        term.wait_for("entries in the chain")
        term.send("r")
        term.wait_for("No recipient chosen (1 registered part")  # the register is loaded
        term.send_text("P001")  # an exact id picks the party
        term.wait_for("→ P001 Heian Textbook Publishers Inc.")
        term.send("Tab")  # the basis list
        term.wait_for("q Quit")
        term.send("Enter")
        term.wait_for("Dismiss menu")
        term.send_text("cons")  # type to search the list
        term.send("Enter")
        term.wait_for("Where the consent is kept")  # the evidence fields of consent are there
        at = term.cursor()
        term.send("Tab")
        at = term.wait_cursor_moved(at)
        term.send_text("C-1")
        term.wait_for("C-1")
        at = term.wait_cursor_moved(at)
        term.send("Tab")
        term.wait_cursor_moved(at)
        term.send_text(consent_on)
        term.wait_for(consent_on)
        term.send("Tab")  # the data items
        term.wait_for("q Quit")
        term.send("Space")  # tick the first (name)
        at = term.cursor()
        term.send("Tab", "Tab")  # past the subjects' mode, into the identifiers
        term.wait_gone("q Quit")
        term.wait_cursor_moved(at)
        term.send_text("S-1")
        term.wait_for("▊ S-1")
        term.send("Tab", "Tab", "Tab")  # past the date (today) and the last day: the purpose
        term.wait_for("q Quit")
        term.send("Enter")
        term.wait_for("Dismiss menu")
        term.send_text("bus")
        term.send("Enter")
        term.wait_for("Ready: ctrl+s to review")
        term.send("C-s")
        shown = term.wait_for("Append this disclosure to the ledger?")
        for expected in ("P001 Heian Textbook Publishers Inc.", "1 identified: S-1", "Name (name)",
                         "Business-related communication (business_communication)",
                         "Consent of the person (consent)", "Consent reference: C-1",
                         f"Consent obtained on: {consent_on}", "cannot be edited afterwards"):
            assert expected in shown, expected
        term.send("y")
        shown = term.wait_for("Disclosure recorded as entry")
        seq = int(re.search(r"recorded as entry (\d+)", shown).group(1))
        term.wait_for("No recipient chosen (1 registered part")  # the form is cleared
        term.wait_gone("q Quit")  # and its recipient box has the focus
        term.send("Escape")  # out of the recipient box the cleared form focused, so q is a command
        term.wait_for("q Quit")
        assert term.quit() == 0

    verified = run_cli(third_party_ledger, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert f"Intact: {seq} entries" in verified.stdout
    shown = run_cli(third_party_ledger, "show", str(seq))
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert f"Disclosure {seq} (active, version 1)" in shown.stdout
    fields = dict(re.findall(r"^  (\S[\w -]*?)\s{2,}(.+)$", shown.stdout, flags=re.MULTILINE))
    assert fields["recipient"] == "Heian Textbook Publishers Inc. (P001, JP)"
    assert fields["subjects"] == "S-1"
    assert fields["data items"] == "name"
    assert fields["basis"] == "consent"
    assert fields["evidence"] == f"consent_date={consent_on}, consent_reference=C-1"
    assert fields["purpose"] == "business_communication"
    assert fields["recorded"].endswith("by Tmux Tester")
    assert '"kind":"disclosure.recorded"' in shown.stdout
