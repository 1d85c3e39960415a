"""The ``?`` help: what each screen shows and its keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# routermon

Every model call the router makes is a row in the call log; this monitor tails it.

| key | does |
|---|---|
| `1`–`5` | Live · Charts · What-if · Thresholds · Tasks |
| `?` | this help (`escape` closes it) |
| `r` | read new rows now |
| `q` | quit |

**Live** — key figures (UTC day and month; projection = this month so far plus the last
24 h rate) over the newest calls. `p` pauses and resumes the table, `t` / `m` pick a task or
model filter, `escape` clears them.

**Charts** — escalation share and spend per bucket with the running total. `h` hour (by
minute), `d` day (by hour), `w` week (by 6 h), `a` all.

**What-if** — monthly cost of always-strong, always-cheap, the cascade and the simple split
for the volume, cheap share and tokens you type; `o` fills them from the last 7 days of the log.
`tab` moves between fields, `escape` leaves a field.

**Thresholds** — accuracy and cost for each confidence threshold, from paired outcomes
(`routermon shadow`, `routermon import`); `t` edits the target accuracy, `k` the task.

**Tasks** — requests, escalation share, cheap accuracy and spend per task.
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
