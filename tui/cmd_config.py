"""``routermon config path``: where the settings file is; ``config show``: every effective setting
and where its value came from (command line, environment, file or default)."""

from __future__ import annotations

import click

from .echo import echo
from .options import db_option, workspace


@click.group("config")
def config_command() -> None:
    """Where the settings live, and what they are."""


@config_command.command("path")
def path_command() -> None:
    """Print the settings file's path ($ROUTERMON_CONFIG, else settings.toml in the config folder)."""
    from routermon.core.settings import config_path

    echo(str(config_path()))


@config_command.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the settings as a JSON array.")
@db_option
@click.pass_context
def show_command(ctx, as_json: bool, db: str | None) -> None:
    """Print every effective setting and where it came from."""
    from routermon.core.formatting import json_text

    items = workspace(ctx, db).setting_sources()
    if as_json:
        echo(json_text([item.model_dump() for item in items]))
        return
    from rich import box
    from rich.table import Table

    from .text import console, literal

    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    table.add_column("Setting", no_wrap=True)
    table.add_column("Value", overflow="fold")
    table.add_column("From", overflow="fold")
    for item in items:
        value = item.value
        text = json_text(value, indent=None) if isinstance(value, dict | list) else str(value)
        where = item.source + (f" ({item.origin})" if item.origin else "")
        table.add_row(literal(item.name), literal("—" if value is None else text), literal(where))
    console().print(table)
