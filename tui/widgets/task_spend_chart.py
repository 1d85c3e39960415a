"""The Tasks screen's chart: spend per task, split into what the cheap and the escalated requests cost."""

from __future__ import annotations

from routermon.core.reader import GroupStats

from .fitted_plot import FittedPlot, padded
from .formatting import usd


class TaskSpendChart(FittedPlot):
    """Horizontal bars of spend per task, costliest on top."""

    DEFAULT_CSS = """
    TaskSpendChart {
        height: 1fr;
        min-height: 5;
    }
    """

    def draw(self, stats: list[GroupStats]) -> None:
        plt = self.plt
        ordered = list(reversed(stats))  # plotext draws the first bar at the bottom
        names = [s.key for s in ordered]
        spend = [s.spend_usd for s in ordered]
        if names:
            plt.bar(names, spend, orientation="horizontal", color="cyan", width=0.5)
            top = max(spend) or 1.0
            count = self.fit_x(label_width=max(len(usd(top)), 5))
            ticks = [top * i / (count - 1) for i in range(count)]
            plt.xticks(ticks, [usd(v) for v in ticks])
            plt.xlim(*padded(0, top))
        self.set_titles("Spend per task")
