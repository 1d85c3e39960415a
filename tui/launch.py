"""Opening the terminal app: check the workspace's call log, then run ``RoutermonApp`` on it
(``routermon`` with no command, and ``routermon demo``)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from routermon.core.errors import RoutermonError
from routermon.core.log.reader import LogReader

if TYPE_CHECKING:
    from routermon.core.workspace import Workspace


def run_app(ws: Workspace, *, traffic=None, clock=None, poll_interval: float = 1.0) -> None:
    """Open the monitor on the workspace's call log.

    A log that cannot be opened (missing, a directory, corrupt, locked, not a routermon log)
    ends with one sentence on stderr and exit code 2 before the app starts; an empty log opens
    the app, which says how to fill it.

    Args:
        ws: the workspace (its log, prices, threshold and default models reach every screen).
        traffic: optional live traffic source, ``traffic(stop: threading.Event)``, run in a thread
            worker until the app exits (``routermon demo`` passes its simulator here).
        clock: "now" for today / this month / chart windows (tests pass a fixed clock).
        poll_interval: seconds between polls for new rows.
    """
    from .app import RoutermonApp  # Textual loads only when the app really starts

    try:
        path = ws.db_path
        LogReader(path).close()  # fails here, with one sentence, for every unusable file
    except RoutermonError as exc:
        print(f"routermon: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    RoutermonApp(ws, clock=clock, traffic=traffic, poll_interval=poll_interval).run()
