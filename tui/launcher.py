"""The `disclosure-ledger` command: the core's command line, with the terminal app plugged in."""

from __future__ import annotations

import sys

from ledger.cli import main as cli_main


def main() -> int:
    from .app import run_app

    return cli_main(sys.argv[1:], open_app=run_app)


if __name__ == "__main__":
    sys.exit(main())
