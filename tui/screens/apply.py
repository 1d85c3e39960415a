"""The Thresholds screen's `a`: the settings file's change, shown as a diff, written on `y`."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from routermon.core.measure.policy import ThresholdPlan

from ..text import literal


def diff_text(diff: str) -> Text:
    """A unified diff, added lines green and removed lines red, every character literal."""
    text = Text()
    for line in diff.splitlines():
        style = "green" if line.startswith("+") and not line.startswith("+++") else ""
        style = "red" if line.startswith("-") and not line.startswith("---") else style
        text.append(line + "\n", style=style or "dim" if line.startswith(("@@", "---", "+++")) else style)
    return text


class ApplyScreen(ModalScreen[bool]):
    """Asks before the routing policy in the settings file is changed; dismisses with the answer."""

    BINDINGS = [
        Binding("y", "answer(True)", "Write it"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]

    def __init__(self, plan: ThresholdPlan, missing: dict[str, str]) -> None:
        super().__init__()
        self.plan, self.missing = plan, missing

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="apply-body"):
            yield Static(
                literal(f"Route with the guaranteed thresholds? This changes {self.plan.path}:", "bold")
            )
            yield Static(diff_text(self.plan.diff()), id="apply-diff")
            for task, why in self.missing.items():
                yield Static(literal(f"{task}: not applied: {why}", "dim"))
            yield Static(literal("Routers started from now on route with them. y writes, n cancels."))
        # The command palette (ctrl+p) is not advertised here: at 80 columns its hint would push a
        # screen's own keys off the line; the help page names it.
        yield Footer(show_command_palette=False)

    def action_answer(self, write: bool) -> None:
        self.dismiss(write)
