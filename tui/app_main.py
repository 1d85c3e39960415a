"""``routermon`` with no command: check the call log, then open the terminal app on it."""

from __future__ import annotations

import sys

from routermon.core.errors import RoutermonError
from routermon.core.reader import LogReader


def run_app(db: str | None, *, traffic=None, clock=None, poll_interval: float = 1.0) -> None:
    """Open the monitor on the call log ``db`` (resolved like every command's ``--db``).

    A log that cannot be opened (missing, a directory, corrupt, locked, not a routermon log)
    ends with one sentence on stderr and exit code 2 before the app starts; an empty log opens
    the app, which says how to fill it.

    Args:
        db: ``--db`` as typed, or ``None`` for ``ROUTERMON_DB`` / the settings file / the default.
        traffic: optional live traffic source, ``traffic(stop: threading.Event)``, run in a thread
            worker until the app exits (``routermon demo`` passes its simulator here).
        clock: "now" for today / this month / chart windows (tests pass a fixed clock).
        poll_interval: seconds between polls for new rows.
    """
    from .app import RoutermonApp  # Textual loads only when the app really starts
    from .cli import resolve_db

    try:
        path = resolve_db(db)
        LogReader(path).close()  # fails here, with one sentence, for every unusable file
    except RoutermonError as exc:
        print(f"routermon: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    RoutermonApp(path, clock=clock, traffic=traffic, poll_interval=poll_interval).run()
