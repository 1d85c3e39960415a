"""The calibration view: how often the cheap model is right at each confidence level."""

from __future__ import annotations

from routermon.core.measure.analysis import Calibration

from .fitted_plot import FittedPlot, padded, share_ticks


class CalibrationChart(FittedPlot):
    """Accuracy per confidence bin (bars) against the diagonal a calibrated model would follow."""

    DEFAULT_CSS = """
    CalibrationChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def draw(self, calibration: Calibration) -> None:
        plt = self.plt
        bins = [b for b in calibration.bins if b.count and b.accuracy is not None]
        if bins:
            centres = [(b.low + b.high) / 2 * 100 for b in bins]
            plt.bar(centres, [b.accuracy * 100 for b in bins], color="cyan", width=0.6)
        plt.plot([0, 100], [0, 100], color="gray", marker="braille")
        plt.vline(calibration.threshold * 100, color="green")
        plt.xlim(*padded(0, 100))
        plt.ylim(*padded(0, 100))
        positions, _labels = share_ticks(self.fit_x(label_width=4))
        plt.xticks(positions, [f"{p / 100:g}" for p in positions])
        plt.yticks(*share_ticks(self.fit_y(3)))
        ece = f"ECE {calibration.ece:.3f}" if calibration.ece is not None else "ECE —"
        wrong = f"{calibration.confidently_wrong} sure but wrong at {calibration.threshold:.2f}"
        self.set_titles(
            f"Cheap accuracy by confidence ({ece}, {wrong}; grey: calibrated)",
            f"Accuracy by confidence ({ece}, {wrong})",
            f"Accuracy by confidence ({ece})",
            "Calibration",
        )
