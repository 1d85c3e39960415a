"""The ``routermon`` command: a thin layer over ``routermon.core``.

Each command lives in its own ``cmd_*.py`` module and registers itself on ``main``.
Errors a user can cause (``RoutermonError``) end in one sentence on stderr and exit code 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from routermon.core import __version__
from routermon.core.errors import RoutermonError

# Command modules, in the order ``routermon --help`` lists them.
COMMAND_MODULES = (
    "demo",
    "route",
    "shadow",
    "import_",
    "thresholds",
    "report",
    "simulate",
    "whatif",
    "fake_api",
)


class RoutermonGroup(click.Group):
    """Runs the app when no command is given; turns user errors into one line and exit 2."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)  # registration order, not alphabetical

    def main(self, *args, **kwargs):
        kwargs.setdefault("standalone_mode", True)
        try:
            return super().main(*args, **{**kwargs, "standalone_mode": False})
        except RoutermonError as exc:
            click.echo(f"routermon: {exc}", err=True)
            sys.exit(2)
        except click.exceptions.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(130)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)


db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=True, path_type=str),
    default=None,
    help="Call log database (default: $ROUTERMON_DB, the settings file, or the per-user data folder).",
)


@click.group(
    cls=RoutermonGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "--version", prog_name="routermon")
@db_option
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Send each LLM task to the cheapest model that works, and measure it.

    With no command, opens the terminal monitor on the call log.
    """
    if ctx.invoked_subcommand is None:
        from .app_main import run_app

        run_app(db)


def resolve_db(db: str | None):
    """``--db``, else ``ROUTERMON_DB`` / the settings file, else the per-user default."""
    from routermon.core.settings import load_settings

    return load_settings().db_path(db)


for _name in COMMAND_MODULES:
    importlib.import_module(f"routermon.tui.cmd_{_name}")

if __name__ == "__main__":
    # Run as a script, this module is ``__main__``; commands registered on the importable module.
    from routermon.tui.cli import main as _main

    _main()
