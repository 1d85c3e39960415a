"""Cost against accuracy over the threshold sweep, with the baselines, target and pick marked."""

from __future__ import annotations

from routermon.core.measure.analysis import SweepResult

from .fitted_plot import FittedPlot, padded, percent_ticks, share_ticks


class SweepChart(FittedPlot):
    """x: cost as a share of always-strong (or escalation share without prices); y: accuracy."""

    DEFAULT_CSS = """
    SweepChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def draw(self, result: SweepResult) -> None:
        plt = self.plt
        priced = all(r.cost_vs_strong is not None for r in result.rows)

        def x_of(row) -> float:
            return (row.cost_vs_strong if priced else row.escalation_share) * 100

        rows = sorted(result.rows, key=x_of)
        plt.plot([x_of(r) for r in rows], [r.accuracy * 100 for r in rows], color="cyan", marker="braille")
        cheap_x = x_of(result.cheap_only) if priced else 0.0
        strong_x = x_of(result.strong_only) if priced else 100.0
        plt.scatter([cheap_x], [result.cheap_only.accuracy * 100], color="blue", marker="C")
        plt.scatter([strong_x], [result.strong_only.accuracy * 100], color="red", marker="S")
        if result.target_accuracy is not None:
            plt.hline(result.target_accuracy * 100, color="gray")
        pick = result.recommended.row
        if pick is not None:
            plt.scatter([x_of(pick)], [pick.accuracy * 100], color="green", marker="●")
        low = min(result.cheap_only.accuracy, min(r.accuracy for r in rows)) * 100
        limits, ticks, labels = percent_ticks(low - 2, self.fit_y())
        plt.ylim(*limits)
        plt.yticks(ticks, labels)
        plt.xlim(*padded(0, max(100.0, strong_x)))
        plt.xticks(*share_ticks(self.fit_x(label_width=4)))
        axis = "cost as % of strong" if priced else "% escalated"
        self.set_titles(
            f"Accuracy vs {axis} (C cheap only, S strong only, ● recommended, grey: target)",
            f"Accuracy vs {axis} (C cheap, S strong, ● pick)",
            f"Accuracy vs {axis}",
            "Accuracy vs cost",
        )
