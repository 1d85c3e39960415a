"""Command tables that fit the terminal without cutting a figure.

Rich shrinks a table that is too wide by cutting cells with an ellipsis (``claude-…``,
``$0.0000…``), which hides exactly what a reader came for. ``fitted_table`` sizes the columns
itself instead: a *kept* column (a model, a cost, a reason, any figure) is as wide as its widest
cell and never wraps; other columns wrap at spaces down to their longest word; when even that does
not fit, the columns with the lowest ``drop`` rank are left out, and the caller says so with
``left_out_note``. Model names in columns are written as the app writes them
(``formatting.short_model``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.table import Table
from rich.text import Text

FOLD_FLOOR = 8  # the narrowest a wrapping column gets when one of its words is wider than the room


@dataclass(frozen=True)
class Column:
    """One column: its header, alignment, whether it is kept whole, and when it may be left out."""

    header: str
    justify: str = "left"
    keep: bool = True  # never wrapped: a figure, a model, a reason
    drop: int | None = None  # left out when the table does not fit, lowest first; None: always shown
    style: str | None = None


def _lines(cell: Any) -> list[str]:
    text = cell.plain if isinstance(cell, Text) else "" if cell is None else str(cell)
    return text.splitlines() or [""]


def _width(text: str) -> int:
    return Text(text).cell_len


def _widths(column: Column, cells: list[Any]) -> tuple[int, int]:
    """The narrowest and the natural width of a column (the header may wrap at its spaces)."""
    lines = [line for cell in cells for line in _lines(cell)]
    natural = max([_width(line) for line in lines] + [_width(column.header)])
    header_word = max(_width(word) for word in column.header.split() or [""])
    if column.keep:
        return max([_width(line) for line in lines] + [header_word]), natural
    words = [_width(word) for line in lines for word in line.split()]
    return max(words + [header_word, 1]), natural


def _overhead(columns: int) -> int:
    return 3 * columns + 1  # the default box: a border per column and one more, a space either side


def fit(columns: list[Column], rows: list[list[Any]], width: int) -> tuple[list[int], list[int]]:
    """The indexes of the columns shown and each one's width, for a table at most ``width`` wide."""
    shown = list(range(len(columns)))
    sizes = [_widths(c, [row[i] for row in rows]) for i, c in enumerate(columns)]
    droppable = sorted((c.drop, i) for i, c in enumerate(columns) if c.drop is not None)
    while sum(sizes[i][0] for i in shown) + _overhead(len(shown)) > width and droppable:
        shown.remove(droppable.pop(0)[1])
    widths = [sizes[i][1] for i in shown]
    spare = width - _overhead(len(shown))
    # Narrow the columns, widest first, until the table fits: first the headers of kept columns
    # (wrapping a header costs a line once), then the cells of the others.
    # A word longer than the room left (a path) is folded over lines as a last resort.
    for phase, floor in ((True, None), (False, None), (False, FOLD_FLOOR)):
        while sum(widths) > spare:
            narrower = [
                k
                for k, i in enumerate(shown)
                if columns[i].keep == phase and widths[k] > (floor or sizes[i][0])
            ]
            if not narrower:
                break
            widths[max(narrower, key=lambda k: widths[k])] -= 1
    return shown, widths


def fitted_table(
    columns: list[Column],
    rows: list[list[Any]],
    width: int,
    *,
    row_styles: list[str | None] | None = None,
    **kwargs,
) -> tuple[Table, list[str]]:
    """A table of ``rows`` that fits ``width`` cells, and the headers of the columns left out."""
    from .text import literal  # string cells literal, their control characters shown

    shown, widths = fit(columns, rows, width)
    table = Table(**kwargs)
    for i, w in zip(shown, widths, strict=True):
        c = columns[i]
        # No no_wrap: a kept column is as wide as its cells already, and its header may still wrap.
        table.add_column(c.header, justify=c.justify, width=w, overflow="fold", style=c.style)
    for n, row in enumerate(rows):
        style = row_styles[n] if row_styles else None
        table.add_row(*(literal(row[i]) if isinstance(row[i], str) else row[i] for i in shown), style=style)
    return table, [c.header for i, c in enumerate(columns) if i not in shown]


def left_out_note(headers: list[str], width: int) -> str | None:
    """One line saying which columns a narrow terminal left out, or ``None``."""
    if not headers:
        return None
    return f"Left out at {width} columns: {', '.join(headers)} (a wider terminal shows them)."
