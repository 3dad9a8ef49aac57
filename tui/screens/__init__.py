"""The app's screens, one module per mode (see `LedgerApp.MODES`), plus the help screen.

Every screen composes a `Header` and a `Footer`, reaches the ledger only through
`self.app.ledger.open()` inside a thread worker, and hands errors to `self.app.report_error`.
"""
