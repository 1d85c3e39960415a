"""The Thresholds screen's table: accuracy, escalation and cost at the thresholds ``thresholds`` shows."""

from __future__ import annotations

from rich.text import Text

from routermon.core.formatting import DASH, pct, pct_range, usd
from routermon.core.measure.analysis import Baseline, SweepResult, SweepRow, table_rows

from .literal_table import LiteralTable

COLUMNS = (
    ("threshold", "Thresh"),
    ("escalated", "Escal."),
    ("accuracy", "Accur."),
    ("interval", "95% CI"),
    ("cost", "Cost/1k"),
    ("vs_strong", "÷strong"),
)


class SweepTable(LiteralTable):
    """One row per shown threshold (``analysis.table_rows``) between the cheap-only and strong-only
    baselines; the pick is marked."""

    DEFAULT_CSS = """
    SweepTable {
        height: 1fr;
        width: auto;
        max-width: 60;
        scrollbar-size-vertical: 1;
        scrollbar-gutter: stable;  /* the plots beside it keep their width when the scrollbar appears */
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def _cells(self, name: str, row: SweepRow | Baseline, escalated: float | None, style: str = "") -> tuple:
        return (
            Text(name, style=style),
            Text(pct(escalated) if escalated is not None else DASH, justify="right", style=style),
            Text(pct(row.accuracy), justify="right", style=style),
            Text(pct_range(row.accuracy_low, row.accuracy_high), justify="right", style=style),
            Text(usd(row.cost_per_1k_requests_usd), justify="right", style=style),
            Text(
                pct(row.cost_vs_strong, 0) if row.cost_vs_strong is not None else DASH,
                justify="right",
                style=style,
            ),
        )

    def show(self, result: SweepResult) -> None:
        """Replace the rows with ``result``'s grid, the baselines first and last."""
        self.clear()
        self.add_row(*self._cells("cheap", result.cheap_only, 0.0, "dim"), key="cheap_only")
        recommended = result.recommended.threshold
        cursor = 0
        for i, row in enumerate(table_rows(result), start=1):
            mark = recommended is not None and abs(row.threshold - recommended) < 1e-9
            name = f"{row.threshold:.2f}" + (" ◀" if mark else "")
            self.add_row(
                *self._cells(name, row, row.escalation_share, "bold green" if mark else ""),
                key=f"t{row.threshold!r}",
            )
            # The cursor rests on the recommendation, else on the threshold in force (chosen).
            if mark or (recommended is None and abs(row.threshold - result.chosen_threshold) < 1e-9):
                cursor = i
        self.add_row(*self._cells("strong", result.strong_only, 1.0, "dim"), key="strong_only")
        self.move_cursor(row=cursor)

    def watch_show_vertical_scrollbar(self, show: bool) -> None:
        # Textual moves the thumb only while the bar is shown. When the rows and the cursor arrive
        # before the layout that shows the bar, the table scrolls with no bar to move, and the bar
        # then appears with its thumb at the top while the rows are scrolled to the pick.
        if show:
            self.vertical_scrollbar.position = self.scroll_y

    def _scroll_cursor_into_view(self, animate: bool = False) -> None:
        # Keep the cursor row in the middle. DataTable scrolls the cursor into view from several
        # layout callbacks whose order varies; a target that depends only on the final size and
        # the cursor makes the last of them win the same way every time.
        height = self.scrollable_content_region.height - self.header_height
        self.scroll_to(y=max(0, self.cursor_row - height // 2), animate=False, force=True, immediate=True)
