"""The calibration view: how often the cheap model is right at each confidence level."""

from __future__ import annotations

from routermon.core.analysis import Calibration

from .fitted_plot import FittedPlot


class CalibrationChart(FittedPlot):
    """Accuracy per confidence bin (bars) against the diagonal a calibrated model would follow."""

    DEFAULT_CSS = """
    CalibrationChart {
        height: 1fr;
        min-height: 8;
    }
    """

    def show(self, calibration: Calibration) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        bins = [b for b in calibration.bins if b.count and b.accuracy is not None]
        if bins:
            centres = [(b.low + b.high) / 2 * 100 for b in bins]
            plt.bar(centres, [b.accuracy * 100 for b in bins], color="cyan", width=0.6)
        plt.plot([0, 100], [0, 100], color="gray", marker="braille")
        plt.vline(calibration.threshold * 100, color="green")
        plt.xlim(0, 100)
        plt.ylim(0, 100)
        plt.xticks([0, 25, 50, 75, 100], ["0", "0.25", "0.5", "0.75", "1"])
        plt.yticks([0, 50, 100], ["0%", "50%", "100%"])
        ece = f"ECE {calibration.ece:.3f}" if calibration.ece is not None else "ECE —"
        wrong = f"{calibration.confidently_wrong} sure but wrong at {calibration.threshold:.2f}"
        self.set_titles(
            f"Cheap accuracy by confidence ({ece}, {wrong}; grey: calibrated)",
            f"Accuracy by confidence ({ece}, {wrong})",
            f"Accuracy by confidence ({ece})",
            "Calibration",
        )
        self.refresh()
