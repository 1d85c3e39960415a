"""Screen 2, Charts: escalation share and spend over a window (last hour, day, week, or all)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from routermon.core.formatting import count, pct, usd
from routermon.core.live import WINDOWS

from ..text import plain
from ..widgets.empty_state import EmptyState
from ..widgets.escalation_chart import EscalationChart
from ..widgets.spend_chart import SpendChart
from .base import MonitorScreen
from .live import EMPTY_LOG

_WINDOW_TITLES = {"hour": "hour", "day": "day", "week": "week", "all": "all"}


class ChartsScreen(MonitorScreen):
    """Two plots over the chosen window; the buckets come from the monitor's running aggregates."""

    MODE = "charts"
    TITLE = "Charts"
    HELP = (
        "escalation share and spend per bucket with the running total. `h` last hour by minute · "
        "`d` last day by hour · `w` last week by 6 h · `a` everything."
    )
    BINDINGS = [
        Binding("h", "window('hour')", "Hour"),
        Binding("d", "window('day')", "Day"),
        Binding("w", "window('week')", "Week"),
        Binding("a", "window('all')", "All"),
    ]

    window: reactive[str] = reactive("day", init=False)

    def compose_body(self) -> ComposeResult:
        yield Static("", id="charts-window")
        yield EmptyState(EMPTY_LOG, id="charts-empty")
        yield EscalationChart(id="escalation-chart")
        yield SpendChart(id="spend-chart")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#charts-empty").display = False
        self._show_window_line(None)

    def action_window(self, window: str) -> None:
        self.window = window

    def watch_window(self) -> None:
        self.update_view()

    def _show_window_line(self, series) -> None:
        parts = []
        for key in WINDOWS:
            title = _WINDOW_TITLES[key]
            if key == self.window:
                parts.append(f"[reverse $accent] {key[0]} {title} [/]")
            else:
                parts.append(f"[@click=screen.window('{key}')] {key[0]} {title} [/]")
        line = "".join(parts)
        if series is not None:
            line += (
                f"  [b]{count(series.requests)}[/] [dim]req ·[/] [b]{pct(series.escalation_share)}[/]"
                f" [dim]escalated ·[/] [b]{usd(series.spend_usd)}[/] [dim]spent[/]"
            )
        self.query_one("#charts-window", Static).update(line)

    def update_view(self) -> None:
        monitor = self.app.monitor
        empty = self.query_one("#charts-empty", EmptyState)
        charts = [self.query_one(EscalationChart), self.query_one(SpendChart)]
        if monitor is None or self.app.is_empty:
            empty.display = self.app.is_empty or bool(self.app.db_error)
            if self.app.db_error and monitor is None:
                empty.update(plain(self.app.db_error))
            for chart in charts:
                chart.display = False
            self._show_window_line(None)
            return
        empty.display = False
        series = monitor.series(self.window)  # type: ignore[arg-type]
        for chart in charts:
            chart.display = True
            chart.show(series)
        self._show_window_line(series)
