"""A centred message where data would be: an empty log, no pairs yet, or a database problem."""

from __future__ import annotations

from textual.widgets import Static


class EmptyState(Static):
    """A bordered, centred explanation; hidden (``display = False``) when there is data."""

    DEFAULT_CSS = """
    EmptyState {
        width: 1fr;
        height: auto;
        margin: 1 2;
        padding: 1 2;
        border: round $primary;
        color: $text;
        text-align: center;
    }
    """
