"""Screen 5, Tasks: where the complexity lives — requests, escalation, cheap accuracy and spend per task."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from ..text import plain
from ..widgets.empty_state import EmptyState
from ..widgets.task_spend_chart import TaskSpendChart
from ..widgets.tasks_table import TasksTable
from .base import MonitorScreen
from .live import EMPTY_LOG

NOTE = (
    "[dim]Cheap accuracy counts the cheap calls whose answer was judged (shadow runs, audits); "
    "imported pairs are analysed on the Thresholds screen.[/]"
)


class TasksScreen(MonitorScreen):
    """A table per task and a bar chart of spend per task, from the monitor's running per-task figures."""

    MODE = "tasks"

    def compose_body(self) -> ComposeResult:
        yield EmptyState(EMPTY_LOG, id="tasks-empty")
        yield TasksTable(id="tasks-table")
        yield Static(NOTE, id="tasks-note")
        yield TaskSpendChart(id="tasks-chart")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#tasks-empty").display = False
        self.query_one(TasksTable).loading = True

    def update_view(self) -> None:
        monitor = self.app.monitor
        empty = self.query_one("#tasks-empty", EmptyState)
        table = self.query_one(TasksTable)
        if monitor is None or not monitor.groups_loaded:
            if self.app.db_error:
                empty.update(plain(self.app.db_error))
                empty.display = True
                table.loading = False
            return  # the app bumps revision again once the per-task figures are read
        stats = monitor.per_task()
        table.loading = False
        has_data = bool(stats)
        empty.display = not has_data
        for widget in (table, self.query_one("#tasks-note"), self.query_one(TaskSpendChart)):
            widget.display = has_data
        if has_data:
            table.show(stats)
            self.query_one(TaskSpendChart).show(stats)
