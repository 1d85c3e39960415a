"""``routermon demo``: a demo log with history and live simulated traffic, opened in the monitor."""

from __future__ import annotations

import click

from .options import seed_option
from .text import console as console_for


@click.command("demo")
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=True, path_type=str),
    default=None,
    help="Demo database (default: $ROUTERMON_DB if set, else demo.db in the per-user data folder, "
    "apart from your real log).",
)
@click.option(
    "--rate",
    type=click.FloatRange(0, 200),
    default=2.0,
    show_default=True,
    help="Live requests a second (0: none).",
)
@click.option("--fresh", is_flag=True, help="Start the demo log over.")
@seed_option
@click.option("--no-app", is_flag=True, help="Only prepare the demo log, then exit.")
@click.pass_context
def demo_command(ctx, db, rate, fresh, seed, no_app):
    """Create a demo log with a few days of simulated history, keep simulated traffic flowing
    through the real router against the stand-in API, and open the monitor on it."""
    from rich.progress import BarColumn, Progress, TextColumn

    from routermon.core.formatting import plural
    from routermon.core.log.db import check_path
    from routermon.core.simulate.demo import HISTORY_DAYS, demo_db_path, live_traffic, prepare_demo

    from .options import workspace

    ws = workspace(ctx, db)
    path = ws.explicit_db_path or demo_db_path()  # never the settings file's log: the demo stays apart
    ws = ws.with_db(path)
    check_path(path, must_exist=False)
    console = console_for(stderr=True)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[done]}"),
        console=console,
        transient=True,
    ) as bar:
        handle = bar.add_task(
            f"Simulating {HISTORY_DAYS:.0f} days of history", total=None, done=plural(0, "request")
        )
        count = {"n": 0}

        def step(_progress) -> None:
            count["n"] += 1
            if count["n"] % 25 == 0:
                bar.update(handle, done=plural(count["n"], "request"))

        backfill = prepare_demo(path, seed=seed, fresh=fresh, progress=step, routers=ws)
    if backfill.requests:
        console.print(
            f"Demo log {path}: added {plural(backfill.requests, 'simulated request')} over {backfill.days:.1f} days."
        )
    else:
        console.print(f"Demo log {path}: {plural(backfill.already_had, 'request')}, up to date.")
    if no_app:
        return
    from .launch import run_app

    run_app(ws, traffic=live_traffic(path, routers=ws, rate=rate) if rate > 0 else None)
