"""A plotext plot whose title always fits: plotext drops a title wider than the plot."""

from __future__ import annotations

from textual.app import RenderResult
from textual_plotext import PlotextPlot


class FittedPlot(PlotextPlot):
    """``set_titles(long, …, short)``: the longest title that fits the current width is drawn."""

    DEFAULT_CSS = """
    FittedPlot {
        height: 1fr;
        min-height: 6;
    }
    """

    _titles: tuple[str, ...] = ()

    def set_titles(self, *titles: str) -> None:
        self._titles = titles

    def render(self) -> RenderResult:
        width = self.size.width
        self.plt.title(next((t for t in self._titles if len(t) <= width - 2), ""))
        return super().render()
