"""The ``?`` help: what each screen shows and its keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# routermon keys

**Everywhere**: `1`–`5` switch to Live, Charts, What-if, Thresholds, Tasks · `?` this help
(`escape` closes it) · `r` read new rows now · `q` quit · `tab` moves between fields.

**1 Live**: key figures over the newest calls. Days and months are UTC; the projection is this
month so far plus the last 24 h's rate until month end. Newest calls first by time; from 120
columns with the request id, the full reason and the input. `enter` opens the row's request
(its calls, input, answers side by side, judge verdict and label; `escape` returns).
`p` pauses and resumes the table, `t` / `m` choose a task or model filter, `escape` clears them.

**2 Charts**: escalation share and spend per bucket with the running total.
`h` last hour by minute · `d` last day by hour · `w` last week by 6 h · `a` everything.

**3 What-if**: a month priced as always-strong, always-cheap, the cascade and the simple split
for the volume, cheap share and tokens you type. `o` fills the fields from the last 7 days of
the log; `escape` leaves a field.

**4 Thresholds**: accuracy and cost for each confidence threshold, from paired outcomes
(`routermon shadow`, `routermon import`, audits). `t` edits the target accuracy, `k` picks a
task, `l` reads the pairs again.

**5 Tasks**: requests, escalation share, cheap accuracy and spend per task.
"""


class HelpScreen(ModalScreen[None]):
    """Key and screen help over the current screen."""

    BINDINGS = [Binding("escape,question_mark,q,enter", "dismiss", "Close")]

    def __init__(self, mode: str = "") -> None:
        super().__init__()
        self.mode = mode

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body"):
            yield Markdown(HELP)
