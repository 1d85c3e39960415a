"""Screen 1, Live: key figures over the newest calls, updating as rows arrive."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.reactive import reactive
from textual.widgets import Select, Static

from routermon.core.errors import RoutermonError
from routermon.core.formatting import count, pct, plural
from routermon.core.measure.pairtable import read_table
from routermon.core.measure.production import ProductionAccuracy, from_pairs
from routermon.core.measure.watch import check

from ..text import literal, plain
from ..widgets.calls_table import CallsTable
from ..widgets.empty_state import EmptyState
from ..widgets.key_figures import KeyFigures, basis
from .base import MonitorScreen

CHECK_EVERY_S = 30.0  # how often the policy's alerts are checked again while the screen is shown


def no_traffic_text(imported_pairs: int) -> str:
    """What a screen of traffic says of a log with no routed request: what it holds instead."""
    if not imported_pairs:
        return EMPTY_LOG
    from . import screen_label  # the package imports this module first

    thresholds, tasks, review = (screen_label(mode) for mode in ("thresholds", "tasks", "review"))
    return (
        f"No routed requests in this log: it holds {plural(imported_pairs, 'imported pair')}, which are "
        f"not traffic.\n\nThey are analysed on the {thresholds}, {tasks} and {review} screens. Route "
        "requests (`routermon route`, `routermon shadow`, or a Router in your service) to see traffic here."
    )


EMPTY_LOG = (
    "No calls in this log yet.\n\n"
    "Route requests with `routermon route`, import paired outcomes with `routermon import`, "
    "or see everything working with `routermon demo`. New calls appear here as they are logged."
)


class LiveScreen(MonitorScreen):
    """Key figures, a task and model filter, and the newest calls (newest on top)."""

    MODE = "live"
    TITLE = "Live"
    HELP = (
        "key figures over the newest calls. Days and months are UTC; the projection is this month "
        "so far plus the last 24 h's rate until month end. Newest calls first by time; from 120 "
        "columns with the request id, the full reason and the input; Tokens reads input→output, "
        "with `t45` when 45 of the output were thinking tokens. `enter` opens the row's "
        "request (its calls, input, answers side by side, judge verdict and label; `escape` "
        "returns). `p` pauses and resumes the table (the key figures above keep moving), `t` / `m` "
        "choose a task or model filter, "
        "`escape` clears them. A red banner on top says when the policy stops holding (a task's "
        "audit loss over max_loss, the month over the budget), as `routermon check` does."
    )
    AUTO_FOCUS = "#calls"  # Enter opens the row under the cursor from the start
    BINDINGS = [
        Binding("p", "pause", "Pause table"),
        Binding("t", "focus_filter('task-filter')", "Task"),
        Binding("m", "focus_filter('model-filter')", "Model"),
        Binding("escape", "clear_filters", "Clear filters", show=False),
        Binding("enter", "open_row", "Details", show=False),
    ]

    paused: reactive[bool] = reactive(False)

    def compose_body(self) -> ComposeResult:
        yield Static("", id="live-alerts", markup=False)
        yield KeyFigures()
        yield Static("", id="live-basis", markup=False)
        yield Static("", id="live-production", markup=False)
        with HorizontalGroup(id="live-filters"):
            yield Select[str]([], prompt="All tasks", id="task-filter", compact=True)
            yield Select[str]([], prompt="All models", id="model-filter", compact=True)
            yield Static("", id="live-state")
        yield EmptyState(EMPTY_LOG, id="live-empty")
        yield CallsTable(max_rows=self.app.table_rows, id="calls")

    def on_mount(self) -> None:
        super().on_mount()
        self._shown_tasks: list[str] = []
        self._shown_models: list[str] = []
        self._calls_at_pause = 0
        self._table_filled = False
        self.query_one("#live-empty").display = False
        self.query_one("#live-alerts").display = False
        self.query_one("#live-production").display = False
        self._checked_at: float | None = None
        self.query_one(CallsTable).loading = True

    # -- alerts --------------------------------------------------------------------------------

    def check_policy(self) -> None:
        """Whether the policy holds (``routermon check``: audit loss per task, the budget), in a
        worker: it reads the log's audits."""
        self._checked_at = time.monotonic()
        policy = self.app.workspace.watch_policy

        def read(reader):
            result = check(reader, clock=self.app.clock, **policy)
            return result, from_pairs(read_table(reader).scope(), reader.cascade_outcomes())

        def run() -> None:
            try:
                result, production = self.app.query_log(read)
            except RoutermonError:
                return  # the app reports log errors where it reads the log
            self.app.call_from_thread(self._show_alerts, result.alerts)
            self.app.call_from_thread(self._show_production, production)

        self.run_worker(run, thread=True, exclusive=True, group="live-alerts", name="policy check")

    def _show_alerts(self, alerts: list[str]) -> None:
        banner = self.query_one("#live-alerts", Static)
        banner.display = bool(alerts)
        if alerts:
            text = literal("⚠ ", "bold")
            text.append(literal("\n⚠ ".join(alerts)))  # what the check says, literally (task names are data)
            banner.update(text)

    def _show_production(self, production: ProductionAccuracy) -> None:
        line = self.query_one("#live-production", Static)
        line.display = production.accuracy is not None
        if production.accuracy is not None:
            line.update(
                f"Right in production {pct(production.accuracy)} ({pct(production.low)}–"
                f"{pct(production.high)}), from {plural(production.audits, 'audit')} of "
                f"{count(production.kept)} kept answers"
            )

    # -- filters -------------------------------------------------------------------------------

    @property
    def task_filter(self) -> str | None:
        value = self.query_one("#task-filter", Select).value
        return None if value is Select.NULL else str(value)

    @property
    def model_filter(self) -> str | None:
        value = self.query_one("#model-filter", Select).value
        return None if value is Select.NULL else str(value)

    def action_focus_filter(self, select_id: str) -> None:
        select = self.query_one(f"#{select_id}", Select)
        select.focus()
        select.expanded = True

    def action_clear_filters(self) -> None:
        self.query_one("#task-filter", Select).clear()
        self.query_one("#model-filter", Select).clear()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._reload_table()
        self.query_one(CallsTable).focus()

    def _reload_table(self) -> None:
        """Refill the table for the current filter (may ask the log, so in a worker)."""
        monitor = self.app.monitor
        if monitor is None:
            return
        task, model, limit = self.task_filter, self.model_filter, self.app.table_rows

        def load() -> None:
            rows = monitor.recent_calls(limit, task=task, model=model)
            self.app.call_from_thread(self._show_rows, rows, task, model)

        self.run_worker(load, thread=True, exclusive=True, group="live-table", name="filter")

    def _show_rows(self, rows, task: str | None, model: str | None) -> None:
        if (task, model) != (self.task_filter, self.model_filter):
            return  # the filter changed again meanwhile
        table = self.query_one(CallsTable)
        table.reset(rows)
        table.loading = False
        self._table_filled = True
        self._show_state()

    def action_open_row(self) -> None:
        """Enter with the table not focused: open the row under its cursor."""
        self.query_one(CallsTable).action_select_cursor()

    def on_calls_table_opened(self, event: CallsTable.Opened) -> None:
        from .detail import DetailScreen

        self.app.push_screen(DetailScreen(event.request_id))

    # -- pause ---------------------------------------------------------------------------------

    def action_pause(self) -> None:
        if not self.paused:
            self.update_view()  # freeze what is current, not what was last drawn
        self.paused = not self.paused

    def watch_paused(self, paused: bool) -> None:
        monitor = self.app.monitor
        self._calls_at_pause = monitor.figures().calls if monitor else 0
        if not paused:
            self.update_view()
        self._show_state()

    def _show_state(self) -> None:
        monitor = self.app.monitor
        state = self.query_one("#live-state", Static)
        if self.paused:
            new = (monitor.figures().calls - self._calls_at_pause) if monitor else 0
            state.update(f"[b reverse $warning] PAUSED [/] {count(new)} new · p resumes")
        else:
            shown = self.query_one(CallsTable).row_count
            state.update(f"[b $success]●[/] live · newest {count(shown)} calls")

    # -- drawing -------------------------------------------------------------------------------

    def update_view(self) -> None:
        checked = self._checked_at
        if self.app.monitor is not None and (checked is None or time.monotonic() - checked >= CHECK_EVERY_S):
            self.check_policy()
        monitor = self.app.monitor
        empty = self.query_one("#live-empty", EmptyState)
        table = self.query_one(CallsTable)
        if monitor is None:
            if self.app.db_error:
                empty.update(plain(self.app.db_error))
                empty.display = True
                table.loading = False
            return
        # The key figures keep moving while the table is paused: `p` holds the rows still to read.
        figures = monitor.figures()
        self.query_one(KeyFigures).show(figures)
        basis_line = self.query_one("#live-basis", Static)
        basis_line.display = figures.requests > 0  # an empty log has nothing to explain
        basis_line.update(basis(figures))
        if self.paused:
            self._show_state()
            return
        self._update_filter_options(monitor)
        if not self._table_filled:
            self._reload_table()
        else:
            new = monitor.recent_calls(
                self.app.table_rows, task=self.task_filter, model=self.model_filter, after_id=table.newest_id
            )
            table.add_calls(new)
        # A log with no call made here (empty, or imported pairs only) says so instead of a table.
        quiet = self.app.is_empty or (figures.calls == 0 and table.row_count == 0)
        if quiet:
            empty.update(plain(no_traffic_text(monitor.imported_pairs)))
        empty.display = quiet
        table.display = not quiet
        self._show_state()

    def _update_filter_options(self, monitor) -> None:
        tasks, models = monitor.known_tasks(), monitor.known_models()
        if tasks != self._shown_tasks:
            self._set_options("#task-filter", tasks)
            self._shown_tasks = tasks
        if models != self._shown_models:
            self._set_options("#model-filter", models)
            self._shown_models = models

    def _set_options(self, selector: str, names: list[str]) -> None:
        select = self.query_one(selector, Select)
        current = select.value
        with select.prevent(Select.Changed):
            select.set_options((plain(name), name) for name in names)
            if current is not Select.NULL and current in names:
                select.value = current
