"""A ``DataTable`` whose string cells are always literal text.

Textual's ``DataTable`` parses a ``str`` cell as markup: a task named ``a[/]b`` would crash the
screen and an answer containing ``[b]`` would turn bold; an ESC would reach the terminal. Every table in the app derives from
``LiteralTable``, so data never depends on each call site remembering to escape it.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from routermon.core.text import visible

from ..text import literal


def _cell(value: Any) -> Any:
    """A string as literal text; a ``Text`` with its control characters shown (``visible``)."""
    if isinstance(value, str):
        return literal(value)
    if isinstance(value, Text):
        shown = visible(value.plain)
        if shown != value.plain:
            value = value.copy()
            value.plain = shown  # keeps the style and the spans (C0 pictures are one character each)
    return value


class LiteralTable(DataTable):
    """``DataTable`` with string cells, labels and column headers shown exactly as they are."""

    def add_column(self, label: Any, *args: Any, **kwargs: Any) -> ColumnKey:
        return super().add_column(_cell(label), *args, **kwargs)

    def add_row(self, *cells: Any, label: Any = None, **kwargs: Any) -> RowKey:
        return super().add_row(*(_cell(c) for c in cells), label=_cell(label), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, _cell(value), **kwargs)

    def update_cell_at(self, coordinate: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell_at(coordinate, _cell(value), **kwargs)
