"""What the commands share: the workspace on the click context, ``--db``, ``--labels`` and the
stand-in flags. Importing this is cheap (click only), so ``routermon CMD --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .echo import echo

if TYPE_CHECKING:
    from routermon.core.workspace import Workspace


class Session:
    """``ctx.obj``: the group's ``--db``, and the workspace, read from the settings on first use
    (``--help`` never reads them)."""

    def __init__(self, db: str | None = None) -> None:
        self.db = db
        self._workspace: Workspace | None = None

    def workspace(self, db: str | None = None) -> Workspace:
        """The process's workspace, on the command's own ``--db`` when one is given after its name."""
        if self._workspace is None:
            from routermon.core.workspace import Workspace

            self._workspace = Workspace.load(db=self.db)
        return self._workspace.with_db(db)


def workspace(ctx: click.Context, db: str | None = None) -> Workspace:
    """The workspace for this command: ``--db`` after the command name, else before it, else the settings."""
    return ctx.ensure_object(Session).workspace(db)


db_option = click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=True, path_type=str),
    default=None,
    help="Call log database (default: $ROUTERMON_DB, the settings file, or the per-user data folder).",
)

stand_in_option = click.option(
    "--stand-in",
    "--fake",
    "stand_in",
    is_flag=True,
    help="Answer from the built-in stand-in API instead of the real one (no key needed; --fake is an alias).",
)


class ShareType(click.ParamType):
    """A share typed as a percent or a share: 80, 80% and 0.8 are all 0.8 (``formatting.parse_share``)."""

    name = "percent"

    def convert(self, value, param, ctx):
        from routermon.core.formatting import parse_share

        if isinstance(value, float):  # a default, already a share
            return value
        from routermon.core.errors import ConfigError

        flag = param.opts[0] if param is not None and param.opts else "The share"
        try:
            return parse_share(value, flag)
        except ValueError as exc:  # one sentence and exit 2, as every user error
            raise ConfigError(str(exc)) from None


SHARE = ShareType()


class NumberType(click.ParamType):
    """A finite number in a range that keeps every figure computed from it finite
    (``formatting.parse_number``); outside it, one sentence and exit 2."""

    name = "number"

    def __init__(self, minimum: float, maximum: float, *, above_minimum: bool = False):
        self.minimum, self.maximum, self.above_minimum = minimum, maximum, above_minimum

    def convert(self, value, param, ctx):
        from routermon.core.errors import ConfigError
        from routermon.core.formatting import parse_number

        flag = param.opts[0] if param is not None and param.opts else "The number"
        try:
            return parse_number(value, flag, self.minimum, self.maximum, above_minimum=self.above_minimum)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


class CountType(click.ParamType):
    """A whole number from ``minimum`` to ``maximum``; outside it, one sentence and exit 2."""

    name = "integer"

    def __init__(self, minimum: int, maximum: int):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value, param, ctx):
        from routermon.core.errors import ConfigError
        from routermon.core.formatting import whole

        if isinstance(value, int) and not isinstance(value, bool) and self.minimum <= value <= self.maximum:
            return value
        flag = param.opts[0] if param is not None and param.opts else "The count"
        try:
            number = int(str(value).strip())
        except ValueError:
            number = None
        if number is None or not self.minimum <= number <= self.maximum:
            raise ConfigError(
                f"{flag} must be a whole number of at least {whole(self.minimum)} and at most {whole(self.maximum)}; "
                f"got {str(value)[:40]!r}."
            )
        return number


# The ranges of what people type: wide enough for any real use, narrow enough that no figure
# computed from them overflows (days to dates, latencies to sleeps).
MAX_DAYS = 36_500.0  # a century
DAYS = NumberType(0.0, MAX_DAYS, above_minimum=True)
TIME_SCALE = NumberType(0.0, 1_000.0)
MAX_ROWS = 2**63 - 1  # the largest SQL LIMIT both backends take
ROWS = CountType(1, MAX_ROWS)  # a number of audits, pairs or calls to read
REQUESTS = CountType(1, 1_000_000_000)  # requests to simulate in one run


def share_help(percent: int = 80) -> str:
    """The rule of ``formatting.parse_share`` for a help text (repeated so `--help` does not import core)."""
    return f"{percent}, {percent}% and {percent / 100:g} all mean {percent}%"


SHARE_HELP = share_help()
THRESHOLD_HELP = "Keep the cheap answer at or above this confidence score (0 to 1, not a percent)."


def parse_labels(labels: str | None, task: str) -> list[str] | None:
    """``--labels a,b,c`` as a list; classify cannot go without."""
    from routermon.core.errors import ConfigError

    label_list = [x.strip() for x in labels.split(",")] if labels else None
    if task == "classify" and not label_list:
        raise ConfigError("The classify task needs --labels, e.g. --labels safe,unsafe,review-needed.")
    return label_list


def spend_progress(name: str, console, *, failed: bool = False, disable: bool = False):
    """The progress bar of a command that spends money: done of total, spend so far, failures
    (with ``failed``), elapsed time and ETA. Fields to update: ``spend`` (and ``failed``)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from routermon.core.formatting import usd

    class SpendColumn(ProgressColumn):
        """Spend so far, formatted as money everywhere else is."""

        def render(self, task) -> Text:
            return Text(f"spend {usd(task.fields.get('spend', 0.0))}")

    columns = [
        TextColumn(name, style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        SpendColumn(),
        *([TextColumn("failed {task.fields[failed]}")] if failed else []),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    ]
    return Progress(*columns, console=console, transient=False, disable=disable)


# The simulated traffic's seed (``simulate``, ``demo``): the same seed gives the same log.
seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the simulated traffic and the stand-in."
)


def skip_invalid_option(verb: str):
    """``--skip-invalid`` for the commands that read a file of lines all or nothing (``import``,
    ``import-labels``): ``verb`` is what happens to the good lines ("Import", "Store")."""
    return click.option(
        "--skip-invalid",
        is_flag=True,
        help=f"{verb} the good lines and list the bad ones (default: all or nothing).",
    )


def stop_on_first_interrupt(stop, console, what: str) -> None:
    """In a running event loop: the first Ctrl-C sets ``stop`` and says so (the ``what`` in flight
    finish and are logged); the handler is then removed, so a second Ctrl-C aborts at once."""
    import asyncio
    import signal

    from .text import literal

    loop = asyncio.get_running_loop()

    def first_interrupt() -> None:
        stop.set()
        console.print(literal(f"Stopping: finishing the {what} in flight (Ctrl-C again to abort).", "yellow"))
        loop.remove_signal_handler(signal.SIGINT)

    try:
        loop.add_signal_handler(signal.SIGINT, first_interrupt)
    except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
        pass


def say_waiting(sentence: str) -> None:
    """What a command prints, once, while the database it writes to is locked by another process."""
    echo(f"routermon: {sentence}…", err=True)


def echo_skipped(result) -> None:
    """The bad lines an all-or-nothing file read skipped with ``--skip-invalid`` (``import``,
    ``import-labels``): how many, and the first of them, on stderr."""
    if not result.skipped_count:
        return
    from routermon.core.formatting import count, plural

    shown = len(result.skipped)
    more = f" (the first {count(shown)} listed)" if shown < result.skipped_count else ""
    echo(f"Skipped {plural(result.skipped_count, 'bad line')}{more}:", err=True)
    for problem in result.skipped:
        echo(f"  {problem}", err=True)


# Against the built-in stand-in (``shadow``, ``judge``): its seed, and how much of each simulated
# latency is really slept.
stand_in_seed_option = click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the stand-in API (with --stand-in)."
)


def stand_in_latency_option(*aliases: str):
    """``--stand-in-latency`` (``aliases``: older names still accepted)."""
    return click.option(
        "--stand-in-latency",
        *aliases,
        "stand_in_latency",
        type=click.FloatRange(0, 10),
        default=0.0,
        show_default=True,
        help="With --stand-in, sleep this share of each simulated latency (0 answers at once).",
    )
