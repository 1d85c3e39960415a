"""The audits' loss over time per task, with the bound the policy must stay under (Charts, `v`)."""

from __future__ import annotations

from datetime import UTC, datetime

from routermon.core.formatting import pct, points
from routermon.core.measure.watch import TaskDrift, audits_needed

from .fitted_plot import FittedPlot, padded

COLORS = ("orange", "cyan", "magenta", "green", "yellow")
MOST_POINTS = 200  # per task: a window's points are thinned to this many for drawing


def _thin(points: list, most: int = MOST_POINTS) -> list:
    if len(points) <= most:
        return points
    step = len(points) / most
    return [points[int(i * step)] for i in range(most)] + [points[-1]]


def time_label(ts: float, span: float) -> str:
    """An axis label: the date for spans over a day, the time within one."""
    d = datetime.fromtimestamp(ts, tz=UTC)
    return d.strftime("%b %d %H:%M") if span > 86400 else d.strftime("%H:%M")


class DriftChart(FittedPlot):
    """Per task, the upper bound of the audits' loss over the rolling window (points, against
    always-strong), and the policy's max loss as a line: a task whose bound crosses it is alerting."""

    DEFAULT_CSS = """
    DriftChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def draw(self, drift: list[TaskDrift], max_loss: float, confidence: float) -> None:
        plt = self.plt
        shown = [
            d
            for d in drift
            if any(p.audits >= audits_needed(max_loss, confidence, d.kept_share) for p in d.points)
        ]
        if not shown:
            plt.title("")
            self.set_titles("No task has enough audits for a bound yet", "Too few audits")
            return
        drawn = {
            d.task: _thin(
                [p for p in d.points if p.audits >= audits_needed(max_loss, confidence, d.kept_share)]
            )
            for d in shown
        }
        times = [p.ts for run in drawn.values() for p in run]
        first, last = min(times), max(times)
        top = max([max_loss * 100 * 2] + [p.loss_upper * 100 * 1.1 for run in drawn.values() for p in run])
        for i, d in enumerate(shown):
            line = drawn[d.task]
            color = COLORS[i % len(COLORS)]
            plt.plot(
                [p.ts for p in line],
                [p.loss_upper * 100 for p in line],
                marker="braille",
                color=color,
                label=d.task,
            )
        plt.hline(max_loss * 100, color="red")
        plt.xlim(*padded(first, max(last, first + 1)))
        plt.ylim(*padded(0, top))
        count = self.fit_x(label_width=12 if last - first > 86400 else 5)
        ticks = [first + (last - first) * k / max(1, count - 1) for k in range(count)]
        plt.xticks(ticks, [time_label(t, last - first) for t in ticks])
        ys = [top * k / 4 for k in range(5)]
        plt.yticks(ys, [f"{y:.1f}" for y in ys])
        self.set_titles(
            f"Audit loss bound per task, points ({pct(confidence, 0)} confidence); red: the policy's max "
            f"{points(max_loss)}",
            "Audit loss bound, points (red: max loss)",
            "Audit loss bound",
        )
