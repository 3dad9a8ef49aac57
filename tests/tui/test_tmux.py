"""End to end: the real `disclosure-ledger` command in a real terminal (tmux).

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
import shlex
import shutil
import subprocess
import sys
import time
import uuid
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
        time.sleep(0.2)
        assert term._tmux("has-session", "-t", term.session).returncode != 0  # the process ended
