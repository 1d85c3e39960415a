"""The Tasks screen's table: one row per task, costliest first, with a total row."""

from __future__ import annotations

from rich.text import Text

from routermon.core.formatting import DASH, count, pct, usd
from routermon.core.log.reader import GroupStats, ratio
from routermon.core.measure.quality import TaskQuality, task_cheap_accuracy

from .literal_table import LiteralTable

COLUMNS = (
    ("task", "Task"),
    ("requests", "Cascade"),
    ("shadow", "Shadow"),
    ("escalation", "Escalated"),
    ("accuracy", "Cheap accuracy"),
    ("spend", "Spend"),
    ("share", "Share of spend"),
)
BAR_WIDTH = 10


def share_bar(share: float, width: int = BAR_WIDTH) -> str:
    """A text bar: ``share`` of ``width`` cells filled, in eighths."""
    eighths = round(max(0.0, min(1.0, share)) * width * 8)
    full, part = divmod(eighths, 8)
    bar = "█" * full + ("" if part == 0 else " ▏▎▍▌▋▊▉"[part])
    return bar.ljust(width)


class TasksTable(LiteralTable):
    """Cascade and shadow requests, the escalation share of the cascade ones, cheap accuracy where
    known, spend and share of spend per task."""

    DEFAULT_CSS = """
    TasksTable {
        height: auto;
        max-height: 50%;
        width: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, stats: list[GroupStats], quality: dict[str, TaskQuality] | None = None) -> None:
        """Replace the rows with ``stats`` (costliest first) and a total. The cheap accuracy is
        ``quality.task_cheap_accuracy``: the judged pairs' (``quality``) where a task has them, else
        what the log's own ``correct`` says."""
        quality = quality or {}
        total_spend = sum(s.spend_usd for s in stats)
        self.clear()
        # Header, tasks and total, set now: a height found later would resize the chart below twice.
        self.styles.height = len(stats) + 2
        for s in stats:
            spend_share = s.spend_usd / total_spend if total_spend else 0.0
            cheap = task_cheap_accuracy(s, quality.get(s.key))
            if cheap.judged:
                accuracy = f"{pct(cheap.accuracy)} of {count(cheap.judged)}"
            else:
                accuracy = "unjudged" if cheap.unjudged else DASH
            self.add_row(
                s.key,
                Text(count(s.cascade_requests), justify="right"),
                Text(count(s.shadow_requests) if s.shadow_requests else DASH, justify="right"),
                Text(pct(s.escalation_share), justify="right"),
                Text(accuracy, justify="right"),
                Text(usd(s.spend_usd), justify="right"),
                Text(f"{share_bar(spend_share)} {pct(spend_share, 0):>4}"),
                key=s.key,
            )
        cascade = sum(s.cascade_requests for s in stats)
        shadow = sum(s.shadow_requests for s in stats)
        escalated = sum(s.cascade_escalated for s in stats)
        self.add_row(
            Text("all tasks", style="bold"),
            Text(count(cascade), justify="right", style="bold"),
            Text(count(shadow) if shadow else DASH, justify="right", style="bold"),
            Text(pct(ratio(escalated, cascade)), justify="right", style="bold"),
            Text(""),
            Text(usd(total_spend), justify="right", style="bold"),
            Text(""),
            key="__total__",
        )
