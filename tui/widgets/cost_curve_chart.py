"""Monthly cost against the cheap share, with the current share marked (What-if screen)."""

from __future__ import annotations

from routermon.core.formatting import pct
from routermon.core.measure.whatif import WhatIfResult

from .fitted_plot import FittedPlot, money_ticks, padded, share_ticks


class CostCurveChart(FittedPlot):
    """Cascade cost over cheap shares 0–100 %, always-strong and always-cheap as flat lines."""

    DEFAULT_CSS = """
    CostCurveChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def draw(self, curve: list[tuple[float, float, float, float]], result: WhatIfResult | None) -> None:
        """``curve`` as from ``whatif.share_curve``; ``result`` marks the current point (or nothing)."""
        plt = self.plt
        if curve and result is not None:
            shares = [p[0] * 100 for p in curve]
            cascade = [p[1] for p in curve]
            plt.plot(shares, [p[2] for p in curve], color="red", marker="braille", label="always strong")
            plt.plot(shares, [p[3] for p in curve], color="blue", marker="braille", label="always cheap")
            plt.plot(shares, cascade, color="green", marker="braille", label="cascade")
            here = result.inputs.cheap_share * 100
            plt.scatter([here], [result.cascade_usd], color="yellow", marker="●")
            if result.break_even_cheap_share is not None:
                plt.vline(result.break_even_cheap_share * 100, color="gray")
            top = max(max(cascade), curve[0][2]) * 1.05 or 1.0
            plt.ylim(*padded(0, top))
            ticks, labels = money_ticks(top, self.fit_y(4))
            plt.yticks(ticks, labels)
            plt.xlim(*padded(0, 100))
            plt.xticks(*share_ticks(self.fit_x(label_width=4)))
            now = pct(result.inputs.cheap_share, 0)
            self.set_titles(
                f"Monthly cost vs cheap share (● now at {now}, grey line: break-even share)",
                f"Monthly cost vs cheap share (● now at {now})",
                "Monthly cost vs cheap share",
            )
        else:
            self.set_titles("Monthly cost vs cheap share")
