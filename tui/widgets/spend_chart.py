"""Spend per time bucket (bars) and cumulative over the window (line, right axis), drawn with plotext."""

from __future__ import annotations

from routermon.core.log.live import Series

from .escalation_chart import tick_width, time_ticks, width_name
from .fitted_plot import FittedPlot, money_ticks, padded


class SpendChart(FittedPlot):
    """Spend in each bucket and the running total since the window's start."""

    DEFAULT_CSS = """
    SpendChart {
        height: 1fr;
        min-height: 6;
    }
    """

    def draw(self, series: Series) -> None:
        plt = self.plt
        n = len(series.buckets)
        if n:
            xs = list(range(n))
            per_bucket = [b.spend_usd for b in series.buckets]
            plt.bar(xs, per_bucket, color="cyan", marker="sd", width=0.6)
            # The line last: where bars fill the plot, it still shows through them.
            plt.plot(xs, series.cumulative_spend_usd, yside="right", color="green", marker="braille")
            left, left_labels = money_ticks(max(per_bucket), self.fit_y(4))
            right, right_labels = money_ticks(series.spend_usd, self.fit_y(4))
            plt.yticks(left, left_labels, yside="left")
            plt.yticks(right, right_labels, yside="right")
            plt.ylim(*padded(0, max(per_bucket) or 1), yside="left")
            plt.ylim(*padded(0, series.spend_usd or 1), yside="right")
            plt.xlim(-0.5, n - 0.5)
            positions, labels = time_ticks(series, self.fit_x(label_width=tick_width(series)))
            plt.xticks(positions, labels)
        width = width_name(series.bucket_seconds)
        self.set_titles(
            f"Spend per {width} (bars, left axis) and cumulative (line, right axis)",
            f"Spend per {width} (bars) and cumulative (line)",
            "Spend",
        )
