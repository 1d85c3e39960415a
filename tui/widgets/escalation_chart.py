"""Escalation share per time bucket, drawn with plotext."""

from __future__ import annotations

from routermon.core.formatting import bucket_label
from routermon.core.live import Series

from .fitted_plot import FittedPlot, padded, share_ticks


def time_ticks(series: Series, count: int = 5) -> tuple[list[int], list[str]]:
    """A few evenly spaced x positions (bucket indexes) and their time labels."""
    n = len(series.buckets)
    if n == 0:
        return [], []
    if n == 1:
        positions = [0]
    else:
        count = min(count, n)
        positions = sorted({round(i * (n - 1) / (count - 1)) for i in range(count)})
    labels = [bucket_label(series.buckets[i].start, series.bucket_seconds) for i in positions]
    return positions, labels


def width_name(seconds: int) -> str:
    """A bucket width in words: minute, hour, 6 h, day, 2 days."""
    if seconds < 3600:
        return "minute" if seconds == 60 else f"{seconds // 60} min"
    if seconds < 86400:
        return "hour" if seconds == 3600 else f"{seconds // 3600} h"
    return "day" if seconds == 86400 else f"{seconds // 86400} days"


class EscalationChart(FittedPlot):
    """Share of requests escalated in each bucket (buckets without requests are left out)."""

    DEFAULT_CSS = """
    EscalationChart {
        height: 1fr;
        min-height: 6;
    }
    """

    def draw(self, series: Series) -> None:
        plt = self.plt
        points = [(i, b.escalation_share * 100) for i, b in enumerate(series.buckets) if b.requests]
        if points:
            xs, ys = zip(*points, strict=True)
            plt.plot(list(xs), list(ys), marker="braille", color="orange")
            if len(points) < 12:  # few points: show them, not just a line
                plt.scatter(list(xs), list(ys), marker="dot", color="orange")
        plt.xlim(*padded(0, max(1, len(series.buckets) - 1)))
        plt.ylim(*padded(0, 100))
        plt.yticks(*share_ticks(self.fit_y()))
        positions, labels = time_ticks(series, self.fit_x(label_width=8))
        plt.xticks(positions, labels)
        self.set_titles(f"Escalation share per {width_name(series.bucket_seconds)}", "Escalation share")
