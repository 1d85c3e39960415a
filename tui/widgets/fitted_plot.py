"""A plotext plot drawn afresh on every render, with a title that always fits.

Redrawing from the stored figures at each render makes the picture depend only on them and the
widget's size (plotext keeps state between draws otherwise), and plotext drops a title wider
than the plot, so the longest candidate that fits is used.
"""

from __future__ import annotations

import math

from textual.app import RenderResult
from textual_plotext import PlotextPlot

from routermon.core.formatting import usd_tick


def padded(low: float, high: float, share: float = 0.02) -> tuple[float, float]:
    """Axis limits a little wider than ``[low, high]``.

    plotext keeps or drops a tick that sits exactly on a limit depending on the process's hash
    seed, so explicit ticks must lie strictly inside the limits for a stable picture.
    """
    margin = (high - low) * share or share
    return low - margin, high + margin


def share_ticks(count: int, scale: float = 100.0, suffix: str = "%") -> tuple[list[float], list[str]]:
    """Evenly spaced ticks from 0 to ``scale``, labelled ``0%`` … ``100%``: 5, 3 or 2 of them, the
    most that ``count`` allows (so the labels stay round: 25%, not 33.3333%)."""
    count = 5 if count >= 5 else 3 if count >= 3 else 2
    values = [scale * i / (count - 1) for i in range(count)]
    return values, [f"{v:g}{suffix}" for v in values]


def percent_ticks(low: float, most: int) -> tuple[tuple[float, float], list[float], list[str]]:
    """Limits and at most ``most`` evenly spaced ticks for a percent axis from about ``low`` to 100:
    the step is 1, 2, 5, 10, 20 or 25 points, the ticks sit on its multiples within 0–100% (so the
    top tick is 100%, never 100.04%), and the limits hold them with a margin."""
    low = max(0.0, min(low, 100.0))
    most = max(2, most)
    step = next((s for s in (1, 2, 5, 10, 20, 25) if (100 - math.floor(low / s) * s) / s + 1 <= most), 50)
    bottom = math.floor(low / step) * step
    values = [bottom + step * i for i in range(round((100 - bottom) / step) + 1)]
    return padded(bottom, 100), values, [f"{v:g}%" for v in values]


def money_ticks(top: float, count: int = 4) -> tuple[list[float], list[str]]:
    """``count`` evenly spaced ticks from 0 to ``top``, labelled in dollars."""
    if top <= 0:
        return [0.0], [usd_tick(0)]
    count = max(count, 2)
    values = [top * i / (count - 1) for i in range(count)]
    return values, [usd_tick(v) for v in values]


class FittedPlot(PlotextPlot):
    """Subclasses implement ``draw(*figures)``; callers pass the figures to ``show(*figures)``.

    ``draw`` calls ``set_titles(long, …, short)``: the longest title that fits is drawn.
    """

    DEFAULT_CSS = """
    FittedPlot {
        height: 1fr;
        min-height: 6;
    }
    """

    _titles: tuple[str, ...] = ()
    _figures: tuple | None = None

    def show(self, *figures) -> None:
        """Plot ``figures`` (see the subclass's ``draw``), now and whenever the size changes."""
        self._figures = figures
        self.refresh()

    def draw(self, *figures) -> None:
        raise NotImplementedError

    def fit_x(self, label_width: int, most: int = 5) -> int:
        """How many x tick labels of ``label_width`` cells fit side by side (at least 2).

        plotext draws tick labels in hash order, so labels that overlap come out differently from
        one run to the next: only as many as fit are asked for.
        """
        return max(2, min(most, (self.size.width - 10) // (label_width + 2)))

    def fit_y(self, most: int = 5) -> int:
        """How many y ticks fit one per two rows (at least 2)."""
        return max(2, min(most, (self.size.height - 3) // 2 + 1))

    def set_titles(self, *titles: str) -> None:
        self._titles = titles

    def render(self) -> RenderResult:
        if self._figures is not None:
            self.plt.clear_data()
            self.plt.clear_figure()
            self.draw(*self._figures)
        width = self.size.width
        self.plt.title(next((t for t in self._titles if len(t) <= width - 2), ""))
        return super().render()
