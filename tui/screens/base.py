"""What every screen shares: the nav bar on top, the footer below, redraws when the log moves."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ..widgets.nav_bar import NavBar


class MonitorScreen(Screen):
    """A screen that redraws from the app's monitor when ``app.revision`` moves.

    Subclasses give ``MODE``, ``TITLE``, ``HELP``, ``compose_body()`` and ``update_view()``; the
    app's modes, digit keys, nav bar and help all come from ``screens.SCREENS``. A hidden screen only
    notes that it is stale and redraws when it is shown again.
    """

    MODE: ClassVar[str] = ""  # the app's mode name
    TITLE: ClassVar[str] = ""  # in the nav bar, the footer and the help
    HELP: ClassVar[str] = ""  # the help screen's paragraph (Markdown): what it shows, its keys

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.compose_body()
        # The command palette (ctrl+p) is not advertised here: at 80 columns its hint would push a
        # screen's own keys off the line; the help page names it.
        yield Footer(show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self._stale = True
        self.watch(self.app, "revision", self._revision_moved, init=False)

    def _revision_moved(self, _revision: int) -> None:
        if self.is_current:
            self._stale = False
            self.update_view()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.update_view()

    def update_view(self) -> None:
        """Redraw from ``self.app.monitor`` (``None`` until the log is read)."""
