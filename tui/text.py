"""Text from data, shown literally: model answers, inputs, task and model names never become markup.

Rich and Textual read ``[...]`` in a plain string as markup, so ``[/quote]`` in a forum post would
crash a table and ``[b]`` would turn bold. Every cell or line that carries data goes through
``literal`` (a ``rich.text.Text``, which is never parsed); fixed wording may keep its markup.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text


def literal(value: object, style: str = "", **kwargs: Any) -> Text:
    """``value`` as text that is shown exactly as it is (no markup, no emoji codes)."""
    return Text("" if value is None else str(value), style=style, **kwargs)


def joined(*parts: str | Text) -> Text:
    """Fixed wording (markup allowed) and data (``Text``) on one line, the data kept literal."""
    out = Text()
    for part in parts:
        out.append(Text.from_markup(part) if isinstance(part, str) else part)
    return out
