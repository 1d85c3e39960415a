"""The Live screen's table of the newest calls, newest on top by time, holding at most ``max_rows``
rows; from ``WIDE`` cells across it adds the request id, the reason in full and the input preview."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets.data_table import ColumnKey

from routermon.core.formatting import DASH, REASON_SHORT, clock_time, ms_short, short_model, tokens, usd
from routermon.core.log.records import CallRow

from .literal_table import LiteralTable

WIDE = 120  # from this width: the request id, the reason in full and the input preview
MIN_INPUT = 24  # cells the input keeps before a long request id is shown by its tail

# Cells carry one leading space and no padding, so all nine columns fit in 80 cells, costs of
# $0.0000492 (Haiku 5.5) included: "Lat", as "Latency" would take two cells more.
COLUMNS = (
    ("time", " Time"),
    ("task", " Task"),
    ("model", " Model"),
    ("role", " Role"),
    ("confidence", " Conf"),
    ("escalated", " Esc"),  # ↑ reason, ✗ error or —: "Escalated" would cost six cells at 80 columns
    ("tokens", " Tokens"),
    ("cost", " Cost"),
    ("latency", " Lat"),
)
WIDE_COLUMNS = (
    COLUMNS[0],
    ("request", " Request"),
    *COLUMNS[1:5],
    ("escalated", " Escalated"),
    *COLUMNS[6:8],
    ("latency", " Latency"),
    ("input", " Input"),
)


class _TimeCell(Text):
    """The time cell also carries the row's time and id, so the table keeps the newest on top:
    by time, as rows from concurrent writers arrive out of time order (ids break ties)."""

    order: tuple[float, int] = (0.0, 0)


def _sort_key(values: tuple) -> tuple[float, int]:
    return values[0].order


class CallsTable(LiteralTable):
    """Newest calls first; ``add_calls()`` appends and drops the oldest beyond ``max_rows``."""

    DEFAULT_CSS = """
    CallsTable {
        height: 1fr;
        width: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    class Opened(Message):
        """Enter on a row: show the request it belongs to."""

        def __init__(self, request_id: str) -> None:
            super().__init__()
            self.request_id = request_id

    def __init__(self, *, max_rows: int = 200, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=0, **kwargs)
        self.max_rows = max_rows
        self._keys: deque[str] = deque()  # row keys, in id order
        self._calls: dict[str, CallRow] = {}  # by row key, to redraw at another width
        self.wide = False
        self._widths: list[int] = []  # widest cell per column so far (wide: the input takes the rest)
        self.request_cells: int | None = None  # wide: cells for a request id (None: whole ids)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        columns = WIDE_COLUMNS if self.wide else COLUMNS
        self._widths = [len(label) for _key, label in columns]
        for key, label in columns:
            self.add_column(label, key=key)

    def _fit_input(self) -> None:
        """Wide: the input preview takes the width the other columns leave (cut with …, no side
        scroll); a request id too long to leave it ``MIN_INPUT`` cells shows its tail (its random
        part; the detail view and ``routermon logs`` show it whole)."""
        if not self.wide:
            return
        keys = [key for key, _label in WIDE_COLUMNS]
        request_at, input_at = keys.index("request"), keys.index("input")
        others = sum(w for i, w in enumerate(self._widths) if i not in (request_at, input_at))
        free = self.size.width - others - 1  # 1: the scrollbar
        longest = max((len(row.request_id) for row in self._calls.values()), default=8)
        cells = None if free - (longest + 1) >= MIN_INPUT else max(12, free - MIN_INPUT - 1)
        if cells != self.request_cells:
            self.request_cells = cells
            self._redraw()
            return
        request = self.columns[ColumnKey("request")]
        request.auto_width = False
        request.width = 1 + (longest if cells is None else cells)
        column = self.columns[ColumnKey("input")]
        column.auto_width = False
        column.width = max(8, free - request.width)
        self._require_update_dimensions = True
        self.refresh()

    def _redraw(self) -> None:
        """Every row again, for another width (the cells change with it)."""
        rows = [self._calls[key] for key in self._keys]
        self.clear(columns=True)
        self._add_columns()
        self._keys.clear()
        self._calls.clear()
        self.add_calls(rows)

    def on_resize(self, event: events.Resize) -> None:
        wide = event.size.width >= WIDE
        if wide != self.wide:
            self.wide = wide
            self._redraw()
        elif wide:
            self._fit_input()

    def on_data_table_row_selected(self, event: LiteralTable.RowSelected) -> None:
        event.stop()
        row = self._calls.get(str(event.row_key.value))
        if row is not None:
            self.post_message(self.Opened(row.request_id))

    @staticmethod
    def tokens_cell(row: CallRow, wide: bool = False) -> Text:
        """``input→output``, and the thinking tokens among the output where there are any
        (``t45``; in full at 120+ columns: ``(45 thinking)``), billed as output."""
        cell = Text(f" {tokens(row.input_tokens)}→{tokens(row.output_tokens)}", justify="right")
        if row.thinking_tokens:
            cell.append(
                f" ({tokens(row.thinking_tokens)} thinking)" if wide else f" t{tokens(row.thinking_tokens)}",
                "dim",
            )
        return cell

    @staticmethod
    def cells(row: CallRow, wide: bool = False, request_cells: int | None = None) -> tuple:
        time_cell = _TimeCell(" " + clock_time(row.ts))
        time_cell.order = (row.ts, row.id)
        if row.escalated:
            reason = row.escalation_reason or "yes"
            why = reason if wide else REASON_SHORT.get(reason, reason)
            escalated = Text(f" ↑ {why}", style="bold yellow")
        elif row.error_type:
            escalated = Text(f" ✗ {row.error_type}", style="red")
        else:
            escalated = Text(f" {DASH}", style="dim")
        confidence = DASH if row.confidence is None else f"{row.confidence:.2f}"
        cells = [
            time_cell,
            " " + row.task,
            " " + short_model(row.model),
            " " + row.role,
            Text(" " + confidence, justify="right"),
            escalated,
            CallsTable.tokens_cell(row, wide),
            Text(" " + usd(row.cost_usd), justify="right"),
            Text(" " + ms_short(row.latency_ms), justify="right"),
        ]
        if wide:
            request = row.request_id
            if request_cells is not None and len(request) > request_cells:
                request = "…" + request[len(request) - request_cells + 1 :]
            cells.insert(1, " " + request)
            preview = (row.input_preview or "").replace("\n", " ")
            cells.append(
                Text(
                    " " + (preview or DASH), style="" if preview else "dim", no_wrap=True, overflow="ellipsis"
                )
            )
        return tuple(cells)

    def add_calls(self, rows: Iterable[CallRow]) -> int:
        """Add calls (oldest first), keep the newest ``max_rows``; returns how many were added."""
        rows = list(rows)[-self.max_rows :]
        if not rows:
            return 0
        for row in rows:
            key = str(row.id)
            if key in self.rows:
                continue
            cells = self.cells(row, self.wide, self.request_cells)
            self.add_row(*cells, key=key)
            self._widths = [
                max(w, len(c) if isinstance(c, str) else c.cell_len)
                for w, c in zip(self._widths, cells, strict=True)
            ]
            self._keys.append(key)
            self._calls[key] = row
        while len(self._keys) > self.max_rows:
            key = self._keys.popleft()
            self.remove_row(key)
            del self._calls[key]
        self._fit_input()
        self.sort(key=_sort_key, reverse=True)
        return len(rows)

    def reset(self, rows: Iterable[CallRow]) -> None:
        """Show exactly these calls (oldest first)."""
        self.clear()
        self._keys.clear()
        self._calls.clear()
        self.add_calls(rows)

    @property
    def newest_id(self) -> int:
        return max(map(int, self._keys), default=0)
