"""The top line of every screen: the screens by number, the current one lit, and the log's status."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from ..text import plain


class NavBar(Horizontal):
    """``routermon 1 Live 2 Charts …`` with the current screen highlighted; click a name to switch."""

    DEFAULT_CSS = """
    NavBar {
        height: 1;
        width: 1fr;
        background: $panel;
        color: $text-muted;
        link-style: none;
        link-style-hover: reverse;
        & > #nav-tabs { width: 1fr; height: 1; link-style: none; }
        & > #nav-status { width: auto; height: 1; padding: 0 1; color: $text-muted; }
        & > #nav-status.-error { background: $error; color: $text; }
    }
    """

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        # One space between names, the current one padded in its highlight: six screens and the
        # log's name fit in 80 columns.
        parts = ["[b]routermon[/b]"]
        # The app's one list of screens (``screens.SCREENS``), as (mode, title).
        for number, (mode, title) in enumerate(getattr(self.app, "SCREEN_TITLES", ()), start=1):
            if mode == self.current:
                parts.append(f"[reverse $accent] {number} {title} [/]")
            else:
                parts.append(f"[@click=app.switch_mode('{mode}')]{number} {title}[/]")
        yield Static(" ".join(parts), id="nav-tabs", markup=True)
        yield Static("", id="nav-status")

    def on_mount(self) -> None:
        self.watch(self.app, "status", self._show_status)
        self.watch(self.app, "status_error", self._show_error)

    def _show_status(self, status: str) -> None:
        self.query_one("#nav-status", Static).update(plain(status))

    def _show_error(self, error: bool) -> None:
        self.query_one("#nav-status").set_class(error, "-error")
