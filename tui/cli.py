"""The ``routermon`` command: a thin layer over ``routermon.core``.

Each command lives in its own ``cmd_*.py`` module. ``COMMANDS`` below is the one list of them: the
group imports a command's module only when that command runs (or its ``--help`` is asked), so
``routermon --help`` loads click and nothing else. The group builds the process's ``Workspace``
(settings, ``--db``, prices, default models) on first use and hands it down as ``ctx.obj``.
Errors a user can cause (``RoutermonError``) end in one sentence on stderr and exit code 2;
Ctrl-C ends with one line and exit code 130.
"""

from __future__ import annotations

import importlib
import sys
from typing import NamedTuple

import click

from . import INTERRUPTED
from .echo import echo
from .options import Session, db_option


class CommandEntry(NamedTuple):
    name: str
    target: str  # "module:function", the module under routermon.tui
    short_help: str  # shown by ``routermon --help`` without importing the module
    aliases: tuple[str, ...] = ()  # older names that still work, not listed


# The commands, in the order ``routermon --help`` lists them.
COMMANDS = (
    CommandEntry(
        "demo", "cmd_demo:demo_command", "Open the monitor on simulated traffic (no API key needed)."
    ),
    CommandEntry(
        "route", "cmd_route:route_command", "Route one text through the cascade and print the result."
    ),
    CommandEntry("shadow", "cmd_shadow:shadow_command", "Run both models on every input of a file."),
    CommandEntry("judge", "cmd_judge:judge_command", "LLM-judge the free-text pairs nobody judged yet."),
    CommandEntry(
        "import", "cmd_import:import_command", "Import paired outcomes of a cheap and a strong model."
    ),
    CommandEntry("label", "cmd_label:label_command", "Say which answer of a pair was right (a human label)."),
    CommandEntry("import-labels", "cmd_label:import_labels_command", "Store human labels from a JSONL file."),
    CommandEntry(
        "thresholds",
        "cmd_thresholds:thresholds_command",
        "Sweep thresholds over paired outcomes; recommend one.",
    ),
    CommandEntry("logs", "cmd_logs:logs_command", "List logged calls, newest first; search them."),
    CommandEntry("report", "cmd_report:report_command", "Write the audit report (Markdown or JSON)."),
    CommandEntry(
        "simulate",
        "cmd_simulate:simulate_command",
        "Simulate traffic through the router (no API key needed).",
    ),
    CommandEntry("whatif", "cmd_whatif:whatif", "Project monthly cost and savings of the cascade."),
    CommandEntry("prune", "cmd_prune:prune_command", "Delete old calls; keep their hourly rollups."),
    CommandEntry("config", "cmd_config:config_command", "Show where the settings live and what they are."),
    CommandEntry(
        "check", "cmd_check:check_command", "Exit 1 if the policy's loss bound or the budget is exceeded."
    ),
    CommandEntry(
        "doctor", "cmd_doctor:doctor_command", "Check the cascade against the API: each tier, each task."
    ),
    CommandEntry(
        "gateway",
        "cmd_gateway:gateway_command",
        "Proxy an app's Anthropic calls and log every one.",
    ),
    CommandEntry(
        "stand-in",
        "cmd_stand_in:stand_in_command",
        "Serve the stand-in Messages API on loopback.",
        aliases=("fake-api",),
    ),
)
_BY_NAME = {name: entry for entry in COMMANDS for name in (entry.name, *entry.aliases)}


def load_command(entry: CommandEntry) -> click.Command:
    """Import the command's module and return its click command (named and helped as listed)."""
    module_name, function = entry.target.split(":")
    command = getattr(importlib.import_module(f"routermon.tui.{module_name}"), function)
    command.name, command.short_help = entry.name, entry.short_help
    return command


class RoutermonGroup(click.Group):
    """Loads commands on demand; runs the app when no command is given; turns user errors into one
    line and exit 2, and Ctrl-C into one line and exit 130."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [entry.name for entry in COMMANDS]  # registration order, not alphabetical

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = _BY_NAME.get(cmd_name)
        return load_command(entry) if entry is not None else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # The listing comes from COMMANDS, so ``routermon --help`` imports no command module.
        with formatter.section("Commands"):
            formatter.write_dl([(entry.name, entry.short_help) for entry in COMMANDS])

    def main(self, *args, **kwargs):
        from routermon.core.errors import RoutermonError

        try:
            result = super().main(*args, **{**kwargs, "standalone_mode": False})
            # Without standalone mode click returns ``ctx.exit(code)``'s code instead of exiting.
            if isinstance(result, int) and not isinstance(result, bool):
                sys.exit(result)
            return result
        except RoutermonError as exc:
            echo(f"routermon: {exc}", err=True)
            sys.exit(2)
        except (click.exceptions.Abort, KeyboardInterrupt):
            echo(INTERRUPTED, err=True)
            sys.exit(130)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)


@click.group(
    cls=RoutermonGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(None, "--version", package_name="routermon", prog_name="routermon")
@db_option
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """Send each LLM task to the cheapest model that works, and measure it.

    With no command, opens the terminal monitor on the call log.
    """
    session = ctx.ensure_object(Session)
    session.db = db
    if ctx.invoked_subcommand is None:
        from .launch import run_app

        run_app(session.workspace())


if __name__ == "__main__":
    from routermon.tui import run

    run()
