"""Screen 2, Charts: escalation share and spend over a window (last hour, day, week, or all)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from routermon.core.errors import RoutermonError
from routermon.core.formatting import count, pct, usd
from routermon.core.log.live import WINDOWS
from routermon.core.measure.watch import TaskDrift, audits_needed, task_drift

from ..text import plain
from ..widgets.drift_chart import DriftChart
from ..widgets.empty_state import EmptyState
from ..widgets.escalation_chart import EscalationChart
from ..widgets.spend_chart import SpendChart
from .base import MonitorScreen
from .live import EMPTY_LOG, no_traffic_text

_WINDOW_TITLES = {"hour": "hour", "day": "day", "week": "week", "all": "all"}


class ChartsScreen(MonitorScreen):
    """Two plots over the chosen window; the buckets come from the monitor's running aggregates."""

    MODE = "charts"
    TITLE = "Charts"
    HELP = (
        "escalation share and spend per bucket with the running total. `h` last hour by minute · "
        "`d` last day by hour · `w` last week by 6 h · `a` everything · `v` drift: each task's "
        "audit loss bound over time against the policy's max loss (and back)."
    )
    BINDINGS = [
        # The window keys are on the screen's first line (h hour · d day · w week · a all), not the footer.
        Binding("h", "window('hour')", "Hour", show=False),
        Binding("d", "window('day')", "Day", show=False),
        Binding("w", "window('week')", "Week", show=False),
        Binding("a", "window('all')", "All", show=False),
        Binding("v", "toggle_drift", "Drift"),
    ]

    window: reactive[str] = reactive("day", init=False)
    showing_drift = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="charts-window")
        yield EmptyState(EMPTY_LOG, id="charts-empty")
        yield EscalationChart(id="escalation-chart")
        yield SpendChart(id="spend-chart")
        yield Static("", id="drift-summary", markup=False)
        yield DriftChart(id="drift-chart")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#charts-empty").display = False
        self.drift: list[TaskDrift] | None = None
        self.query_one("#drift-chart").display = False
        self.query_one("#drift-summary").display = False
        self._show_window_line(None)

    # -- drift -------------------------------------------------------------------------------

    def action_toggle_drift(self) -> None:
        """Show (or hide) the audits' loss bound per task over time, read in a worker."""
        self.showing_drift = not self.showing_drift
        if self.showing_drift:
            self.load_drift()
        self.update_view()

    def load_drift(self) -> None:
        policy = {k: v for k, v in self.app.workspace.watch_policy.items() if k != "budget_usd"}

        def run() -> None:
            try:
                drift = self.app.query_log(lambda reader: task_drift(reader, **policy))
            except RoutermonError:
                return
            self.app.call_from_thread(self._drift_loaded, drift)

        self.run_worker(run, thread=True, exclusive=True, group="drift", name="drift")

    def _drift_loaded(self, drift: list[TaskDrift]) -> None:
        self.drift = drift
        self.update_view()

    def _show_drift(self) -> None:
        settings = self.app.workspace.settings
        summary = self.query_one("#drift-summary", Static)
        chart = self.query_one(DriftChart)
        summary.display = chart.display = True
        if self.drift is None:
            summary.update("Reading the audits…")
            return
        if not self.drift:
            summary.update(
                "No audits in the log yet: set audit_share in the settings, and each task's loss "
                "against always-strong is watched here over time."
            )
            chart.display = False
            return
        lines = []
        enough = False
        for d in self.drift:
            needed = audits_needed(settings.max_loss, settings.confidence, d.kept_share)
            checked = d.latest is not None and d.latest.audits >= needed
            enough = enough or any(p.audits >= needed for p in d.points)
            lines.append(("⚠ " if d.alert else "✓ " if checked else "· ") + d.message())
        summary.update(plain("\n".join(lines)))  # task names are data
        chart.display = enough  # an empty plot says nothing the lines above do not
        if enough:
            chart.show(self.drift, settings.max_loss, settings.confidence)

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
            shadow = (
                f" [dim]·[/] [b]{count(series.shadow_requests)}[/] [dim]shadow[/]"
                if series.shadow_requests
                else ""
            )
            line += (
                f"  [b]{pct(series.escalation_share)}[/] [dim]of[/] [b]{count(series.cascade_requests)}[/]"
                f" [dim]escalated[/]{shadow} [dim]·[/] [b]{usd(series.spend_usd)}[/]"
            )
        self.query_one("#charts-window", Static).update(line)

    def update_view(self) -> None:
        monitor = self.app.monitor
        empty = self.query_one("#charts-empty", EmptyState)
        charts = [self.query_one(EscalationChart), self.query_one(SpendChart)]
        if self.showing_drift:
            empty.display = False
            for chart in charts:
                chart.display = False
            self._show_drift()
            return
        self.query_one("#drift-chart").display = False
        self.query_one("#drift-summary").display = False
        no_traffic = monitor is not None and monitor.figures().requests == 0
        if monitor is None or self.app.is_empty or no_traffic:
            empty.display = self.app.is_empty or no_traffic or bool(self.app.db_error)
            if self.app.db_error and monitor is None:
                empty.update(plain(self.app.db_error))
            elif monitor is not None:
                empty.update(plain(no_traffic_text(monitor.imported_pairs)))
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
