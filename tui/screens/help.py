"""The ``?`` help: what each screen shows and its keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from . import SCREENS


def help_text(screens) -> str:
    """The help page from the app's screens (``screens.SCREENS``): each one's title and ``HELP``."""
    titles = ", ".join(screen.TITLE for screen in screens)
    parts = [
        "# routermon keys",
        f"**Everywhere**: `1`–`{len(screens)}` switch to {titles} · `?` this help (`escape` closes "
        "it) · `r` read new rows now · `q` quit · `tab` moves between fields · `ctrl+p` the command "
        "palette.",
    ]
    parts += [f"**{n} {screen.TITLE}**: {screen.HELP}" for n, screen in enumerate(screens, start=1)]
    return "\n\n".join(parts) + "\n"


class HelpScreen(ModalScreen[None]):
    """Key and screen help over the current screen."""

    BINDINGS = [Binding("escape,question_mark,q,enter", "dismiss", "Close")]

    def __init__(self, mode: str = "") -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(help_text(SCREENS))
