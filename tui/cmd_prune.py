"""``routermon prune --before DATE``: delete old calls and keep their hourly rollups, so the charts,
totals and the report's traffic still count them; the rows' inputs, answers and pairs go."""

from __future__ import annotations

import click

from .echo import echo
from .options import db_option, say_waiting, workspace


@click.command("prune")
@click.option(
    "--before",
    "before",
    required=True,
    help="Delete calls logged before this: an ISO date or datetime (2026-01-01) or a span back (90d).",
)
@click.option("--yes", "-y", is_flag=True, help="Delete without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print what was deleted as JSON.")
@db_option
@click.pass_context
def prune_command(ctx, before: str, yes: bool, as_json: bool, db: str | None) -> None:
    """Delete the calls logged before --before (cut at the whole hour); their hourly rollups stay,
    so the Charts screen, the totals and the report still count them. Inputs, answers, search
    entries and pairs of the deleted calls go with them; human labels stay."""
    import sys
    import time
    from datetime import datetime

    from routermon.core.errors import ConfigError
    from routermon.core.formatting import json_text, plural
    from routermon.core.log.logquery import parse_when
    from routermon.core.log.store import check_prune_cutoff, prune_calls

    from .cmd_thresholds import open_log

    ws = workspace(ctx, db)
    now = time.time()
    cut = parse_when(before, now)
    check_prune_cutoff(cut, now)  # before the whole hour: a cut-off this hour but after now is refused too
    cut = cut - cut % 3600  # whole hours: a rollup hour is never half pruned
    when = datetime.fromtimestamp(cut).astimezone().isoformat(timespec="minutes")
    with open_log(ws) as reader:
        doomed = reader.count_before(cut)
    path = ws.db_path
    if doomed == 0:
        echo(f"No call in {path} was logged before {when}; nothing deleted.", err=True)
        if as_json:
            echo(json_text({"deleted": 0, "before": when, "path": str(path)}))
        return
    if not yes:
        if not sys.stdin.isatty():
            raise ConfigError("Pass --yes to delete calls without being asked.")
        if not click.confirm(f"Delete {plural(doomed, 'call')} logged before {when} from {path}?", err=True):
            echo("Nothing deleted.", err=True)
            return
    done = 0

    def progress(total: int) -> None:
        nonlocal done
        done = total

    try:
        deleted = prune_calls(path, cut, waiting=say_waiting, progress=progress)
    except KeyboardInterrupt:
        # One line, as every interrupted command ends, but saying what this one did delete.
        echo(f"Interrupted: {plural(done, 'call')} deleted before it stopped; the rest are kept.", err=True)
        raise SystemExit(130) from None
    echo(
        f"Deleted {plural(deleted, 'call')} logged before {when} from {path}; their hourly rollups are "
        "kept, so charts and totals still count them.",
        err=True,
    )
    from routermon.core.location import is_url

    if is_url(path):
        # PostgreSQL's autovacuum makes the space reusable by new rows; giving it back takes VACUUM FULL.
        echo(
            "PostgreSQL reuses the freed space for new rows once autovacuum has passed; to give it back "
            "to the disk run `VACUUM FULL calls` in psql when no router writes (it locks the table).",
            err=True,
        )
    else:
        echo(
            f"The file keeps its size until it is compacted: when no router writes to it, run "
            f"`sqlite3 {path} 'VACUUM'` (it needs free disk about the file's size).",
            err=True,
        )
    if as_json:
        echo(json_text({"deleted": deleted, "before": when, "path": str(path)}))
