"""``echo``: what commands write with ``click.echo``, with control characters from data shown, not
obeyed (``routermon.core.text.visible``). Light to import: the command group loads it on every run."""

from __future__ import annotations

from typing import Any

import click

from routermon.core.text import visible


def echo(message: Any = None, *, err: bool = False, nl: bool = True) -> None:
    """``click.echo(message)`` with C0/C1 control characters made visible (tabs and newlines kept)."""
    click.echo(None if message is None else visible(str(message)), err=err, nl=nl)
