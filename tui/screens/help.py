"""The ``?`` help: what each screen shows and its keys."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# routermon keys

**Everywhere**: `1`–`6` switch to Live, Charts, What-if, Thresholds, Tasks, Review · `?` this help
(`escape` closes it) · `r` read new rows now · `q` quit · `tab` moves between fields.

**1 Live**: key figures over the newest calls. Days and months are UTC; the projection is this
month so far plus the last 24 h's rate until month end. `p` pauses and resumes the table,
`t` / `m` choose a task or model filter, `escape` clears them.

**2 Charts**: escalation share and spend per bucket with the running total.
`h` last hour by minute · `d` last day by hour · `w` last week by 6 h · `a` everything.

**3 What-if**: a month priced as always-strong, always-cheap, the cascade and the simple split
for the volume, cheap share and tokens you type. `o` fills the fields from the last 7 days of
the log; `escape` leaves a field.

**4 Thresholds**: accuracy and cost for each confidence threshold, from paired outcomes
(`routermon shadow`, `routermon import`, audits). `t` edits the target accuracy, `tab` reaches
the guarantee's maximum loss (points) and confidence (%), `k` picks a task, `l` reads the pairs
again, `a` writes the guaranteed threshold(s) into the settings file's `[thresholds]` (after
showing the change; `y` writes it). With audits, the accuracy in production is shown too.

**5 Tasks**: requests, escalation share, cheap accuracy and spend per task.

**6 Review**: one pair at a time from the pairs worth a human look (the answers disagree, free
text nobody judged, the judge is unsure, the cheap model is confident and wrong), with its input,
both answers and the judge's verdict. `c` cheap right · `s` strong right · `b` both fine · `n` neither; the label is
stored at once and the next pair shown. `space` / `→` skip · `←` back · `l` reads the queue again.
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
