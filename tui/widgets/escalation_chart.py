"""Escalation share per time bucket, drawn with plotext."""

from __future__ import annotations

from routermon.core.formatting import bucket_label
from routermon.core.log.live import Series

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
    span = series.buckets[-1].start - series.buckets[0].start
    labels = [bucket_label(series.buckets[i].start, series.bucket_seconds, span) for i in positions]
    return positions, labels


def tick_width(series: Series) -> int:
    """Cells a time tick label takes (with the date when the chart spans more than a day)."""
    span = series.buckets[-1].start - series.buckets[0].start if series.buckets else 0
    return 12 if span > 86400 and series.bucket_seconds < 86400 else 8


def width_name(seconds: int) -> str:
    """A bucket width in words: minute, hour, 6 h, day, 2 days."""
    if seconds < 3600:
        return "minute" if seconds == 60 else f"{seconds // 60} min"
    if seconds < 86400:
        return "hour" if seconds == 3600 else f"{seconds // 3600} h"
    return "day" if seconds == 86400 else f"{seconds // 86400} days"


class EscalationChart(FittedPlot):
    """Share of cascade requests escalated in each bucket; a bucket without any is a gap in the line."""

    DEFAULT_CSS = """
    EscalationChart {
        height: 1fr;
        min-height: 6;
    }
    """

    def draw(self, series: Series) -> None:
        plt = self.plt
        # A bucket without cascade requests has no share: the line breaks there instead of dropping to 0%.
        runs: list[list[tuple[int, float]]] = [[]]
        for i, b in enumerate(series.buckets):
            share = b.escalation_share
            if share is None:
                if runs[-1]:
                    runs.append([])
            else:
                runs[-1].append((i, share * 100))
        runs = [run for run in runs if run]
        shown = sum(len(run) for run in runs)
        for run in runs:
            xs, ys = (list(v) for v in zip(*run, strict=True))
            if len(run) > 1:
                plt.plot(xs, ys, marker="braille", color="orange")
            if len(run) == 1 or shown < 12:  # a lone bucket, or few points: show them, not just a line
                plt.scatter(xs, ys, marker="dot", color="orange")
        plt.xlim(*padded(0, max(1, len(series.buckets) - 1)))
        plt.ylim(*padded(0, 100))
        plt.yticks(*share_ticks(self.fit_y()))
        positions, labels = time_ticks(series, self.fit_x(label_width=tick_width(series)))
        plt.xticks(positions, labels)
        self.set_titles(
            f"Escalation share of cascade requests per {width_name(series.bucket_seconds)}",
            "Escalation share",
        )
