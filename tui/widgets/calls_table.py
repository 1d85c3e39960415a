"""The Live screen's table of the newest calls, newest on top, holding at most ``max_rows`` rows."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text

from routermon.core.formatting import DASH, REASON_SHORT, clock_time, ms_short, short_model, tokens, usd
from routermon.core.records import CallRow

from .literal_table import LiteralTable

# Cells carry one leading space and no padding, so all nine columns fit in 80 cells.
COLUMNS = (
    ("time", " Time"),
    ("task", " Task"),
    ("model", " Model"),
    ("role", " Role"),
    ("confidence", " Conf"),
    ("escalated", " Esc"),  # ↑ reason, ✗ error or —: "Escalated" would cost six cells at 80 columns
    ("tokens", " Tokens"),
    ("cost", " Cost"),
    ("latency", " Latency"),
)


class _TimeCell(Text):
    """The time cell also carries the row id, so the table can keep newest rows on top."""

    row_id: int = 0


def _sort_key(values: tuple) -> int:
    return values[0].row_id


class CallsTable(LiteralTable):
    """Newest calls first; ``add_calls()`` appends and drops the oldest beyond ``max_rows``."""

    DEFAULT_CSS = """
    CallsTable {
        height: 1fr;
        width: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, *, max_rows: int = 200, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=0, **kwargs)
        self.max_rows = max_rows
        self._keys: deque[str] = deque()  # row keys, oldest first

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    @staticmethod
    def cells(row: CallRow) -> tuple:
        time_cell = _TimeCell(" " + clock_time(row.ts))
        time_cell.row_id = row.id
        if row.escalated:
            why = REASON_SHORT.get(row.escalation_reason or "", row.escalation_reason or "yes")
            escalated = Text(f" ↑ {why}", style="bold yellow")
        elif row.error_type:
            escalated = Text(f" ✗ {row.error_type}", style="red")
        else:
            escalated = Text(f" {DASH}", style="dim")
        confidence = DASH if row.confidence is None else f"{row.confidence:.2f}"
        return (
            time_cell,
            " " + row.task,
            " " + short_model(row.model),
            " " + row.role,
            Text(" " + confidence, justify="right"),
            escalated,
            Text(f" {tokens(row.input_tokens)}→{tokens(row.output_tokens)}", justify="right"),
            Text(" " + usd(row.cost_usd), justify="right"),
            Text(" " + ms_short(row.latency_ms), justify="right"),
        )

    def add_calls(self, rows: Iterable[CallRow]) -> int:
        """Add calls (oldest first), keep the newest ``max_rows``; returns how many were added."""
        rows = list(rows)[-self.max_rows :]
        if not rows:
            return 0
        for row in rows:
            key = str(row.id)
            if key in self.rows:
                continue
            self.add_row(*self.cells(row), key=key)
            self._keys.append(key)
        while len(self._keys) > self.max_rows:
            self.remove_row(self._keys.popleft())
        self.sort(key=_sort_key, reverse=True)
        return len(rows)

    def reset(self, rows: Iterable[CallRow]) -> None:
        """Show exactly these calls (oldest first)."""
        self.clear()
        self._keys.clear()
        self.add_calls(rows)

    @property
    def newest_id(self) -> int:
        return int(self._keys[-1]) if self._keys else 0
