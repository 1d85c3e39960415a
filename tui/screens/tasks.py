"""Screen 5, Tasks: where the complexity lives — requests, escalation, cheap accuracy and spend per task."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.widgets import Static

from routermon.core.errors import RoutermonError
from routermon.core.formatting import count, pct, plural
from routermon.core.measure.quality import TaskQuality, load_task_quality

from ..text import literal, plain
from ..widgets.empty_state import EmptyState
from ..widgets.task_spend_chart import TaskSpendChart
from ..widgets.tasks_table import TasksTable
from .base import MonitorScreen
from .live import EMPTY_LOG, no_traffic_text

NOTE = (
    "Escalated: of cascade requests; shadow requests (both models called) apart.\n"
    "Cheap accuracy: the paired outcomes (shadow runs, audits, imports) where a task has them."
)
QUALITY_EVERY_S = 10.0  # the pairs are read again at most this often while the screen is shown
FIELDS_SHOWN = 4


def quality_lines(quality: list[TaskQuality]) -> list[str]:
    """One line per task with pairs: its cheap accuracy with its interval and what it rests on,
    the weakest fields of a structured answer, and what is left to judge."""
    lines = []
    for q in quality:
        parts = []
        if q.pairs:
            parts.append(
                f"{pct(q.cheap_accuracy)} right (95% CI {pct(q.low)}–{pct(q.high)}; from {q.sources})"
                + (", small sample" if q.small_sample else "")
            )
        if q.unjudged:
            parts.append(f"{plural(q.unjudged, 'pair')} to judge (routermon judge)")
        weak = [f for f in q.fields if f.agreement < 1.0][:FIELDS_SHOWN]
        if weak:
            parts.append("fields agreeing: " + ", ".join(f"{f.field} {pct(f.agreement, 0)}" for f in weak))
        if parts:
            lines.append(f"{q.task}: " + "; ".join(parts))
    return lines


class TasksScreen(MonitorScreen):
    """A table per task and a bar chart of spend per task, from the monitor's running per-task figures."""

    MODE = "tasks"
    TITLE = "Tasks"
    HELP = "requests, escalation share, cheap accuracy and spend per task."

    def compose_body(self) -> ComposeResult:
        yield EmptyState(EMPTY_LOG, id="tasks-empty")
        yield TasksTable(id="tasks-table")
        yield Static("", id="tasks-note", markup=False)
        yield TaskSpendChart(id="tasks-chart")

    def on_mount(self) -> None:
        super().on_mount()
        self.quality: list[TaskQuality] | None = None
        self._quality_read_at: float | None = None
        self.query_one("#tasks-empty").display = False
        self.query_one(TasksTable).loading = True

    def load_quality(self) -> None:
        """Read the paired outcomes' per-task accuracy (in a worker: it reads every pair)."""
        self._quality_read_at = time.monotonic()

        def load() -> None:
            try:
                quality = self.app.query_log(load_task_quality)
            except RoutermonError:
                return  # the table still shows the log's own figures; the app reports log errors
            self.app.call_from_thread(self._quality_loaded, quality)

        self.run_worker(load, thread=True, exclusive=True, group="quality", name="task quality")

    def _quality_loaded(self, quality: list[TaskQuality]) -> None:
        self.quality = quality
        self.update_view()

    def update_view(self) -> None:
        monitor = self.app.monitor
        empty = self.query_one("#tasks-empty", EmptyState)
        table = self.query_one(TasksTable)
        if monitor is None:
            if self.app.db_error:
                empty.update(plain(self.app.db_error))
                empty.display = True
                table.loading = False
            return  # the app bumps revision again once the log is open
        stats = monitor.per_task()
        table.loading = False
        has_data = bool(stats)
        read_at = self._quality_read_at
        if read_at is None or time.monotonic() - read_at >= QUALITY_EVERY_S:
            self.load_quality()
        # No traffic but pairs (an imported file): their accuracy per task, not an invitation to import.
        pairs_only = not has_data and any(q.pairs or q.unjudged for q in self.quality or [])
        empty.display = not has_data and not pairs_only
        for widget in (table, self.query_one(TaskSpendChart)):
            widget.display = has_data
        self.query_one("#tasks-note").display = has_data or pairs_only
        if pairs_only:
            note = literal(
                f"No routed requests in this log; the cheap accuracy per task, from its paired "
                f"outcomes ({count(monitor.imported_pairs)} imported):",
                style="dim",
            )
            for line in quality_lines(self.quality or []):
                note.append(literal("\n" + line))
            self.query_one("#tasks-note", Static).update(note)
        elif not has_data:
            empty.update(plain(no_traffic_text(monitor.imported_pairs)))
        if has_data:
            quality = {q.task: q for q in self.quality or []}
            table.show(stats, quality)
            order = {s.key: i for i, s in enumerate(stats)}
            lines = quality_lines(sorted(self.quality or [], key=lambda q: order.get(q.task, len(order))))
            note = literal(NOTE, style="dim")
            for line in lines:
                note.append(literal("\n" + line))  # Text.append adds text as it is: task names are data
            self.query_one("#tasks-note", Static).update(note)
            self.query_one(TaskSpendChart).show(stats)
