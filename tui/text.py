"""Text from data, shown literally: model answers, inputs, task and model names never become markup.

Rich and Textual read ``[...]`` in a plain string as markup, so ``[/quote]`` in a forum post would
crash a table and ``[b]`` would turn bold. The rules, one per place text is drawn:

- **Commands** print through ``console()``: a Rich console with markup, emoji codes and
  highlighting off, so a string (a table cell, a title, a line) is printed exactly as it is. Fixed
  wording that wants a style says so with ``literal(text, style)`` or ``joined``.
- **Widgets** that mix fixed markup and data build a ``textual.content.Content`` with
  ``markup(template, **values)``: the values are inserted as text, never parsed.
- **Tables** in the app derive from ``LiteralTable`` (``widgets/literal_table.py``), which turns
  every string cell into literal text before ``DataTable`` would parse it.
- A **single value** (a cell, a Select option) is ``literal(value)`` (Rich) or ``plain(value)``
  (Textual).
- **Control characters** (ESC, the one-byte CSI, CR, NUL…) in any of these are shown, not obeyed
  (``routermon.core.text.visible``: ESC as ␛, ``\x9b`` as written); tabs and newlines stay. Lines
  written with ``click.echo`` go through ``echo`` (``tui/echo.py``) for the same reason.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text
from textual.content import Content

from routermon.core.text import visible


def literal(value: object, style: str = "", **kwargs: Any) -> Text:
    """``value`` as text that is shown exactly as it is (no markup, no emoji codes)."""
    return Text("" if value is None else visible(str(value)), style=style, **kwargs)


def plain(value: object) -> Content:
    """``value`` as Textual content shown exactly as it is (Select options, labels, messages)."""
    return Content("" if value is None else visible(str(value)))


def markup(template: str, **values: object) -> Content:
    """Fixed Textual markup with data inserted literally: ``markup("[b]$name[/]", name=task)``."""
    return Content.from_markup(
        template, **{k: "" if v is None else visible(str(v)) for k, v in values.items()}
    )


def joined(*parts: str | Text) -> Text:
    """Fixed wording (Rich markup allowed) and data (``Text``) on one line, the data kept literal."""
    out = Text()
    for part in parts:
        out.append(Text.from_markup(part) if isinstance(part, str) else part)
    return out


class _VisibleConsole(Console):
    """A console whose string arguments have their control characters shown (``visible``)."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(visible(o) if isinstance(o, str) else o for o in objects), **kwargs)


def console(*, stderr: bool = False) -> Console:
    """The console every command prints through: strings are printed literally (no markup, emoji
    codes, highlighting or control characters), so text from the log or a model can never change
    the output or the terminal."""
    return _VisibleConsole(stderr=stderr, markup=False, emoji=False, highlight=False)
