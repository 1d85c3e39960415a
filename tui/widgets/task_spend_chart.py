"""The Tasks screen's chart: spend per task, split into what the cheap and the escalated requests cost."""

from __future__ import annotations

from routermon.core.formatting import usd_tick
from routermon.core.log.reader import GroupStats

from .fitted_plot import FittedPlot, money_ticks, padded


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
            plt.xticks(*money_ticks(top, self.fit_x(label_width=max(len(usd_tick(top)), 5))))
            plt.xlim(*padded(0, top))
        self.set_titles("Spend per task")
