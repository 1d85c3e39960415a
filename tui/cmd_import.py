"""``routermon import``: load paired outcomes (cheap and strong answers to the same inputs) into the log."""

from __future__ import annotations

import click

from .options import db_option, workspace


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the good lines and list the bad ones (default: all or nothing).",
)
@db_option
@click.pass_context
def import_command(ctx: click.Context, file: str, skip_invalid: bool, db: str | None) -> None:
    """Import paired outcomes from FILE (one JSON object a line) for `routermon thresholds`.

    Each line: {"id", "task", "input", "reference", "cheap": {...}, "strong": {...}} where each side has
    model, answer, confidence (required on the cheap side), input_tokens, output_tokens and optionally
    latency_ms and correct. Importing the same file again adds nothing.
    """
    from routermon.core.pairs import import_pairs

    ws = workspace(ctx, db)
    result = import_pairs(
        file,
        ws.db_path,
        skip_invalid=skip_invalid,
        prices=ws.prices,
        store_inputs=ws.store_inputs,
        preview_chars=ws.preview_chars,
    )
    noun = "pair" if result.imported == 1 else "pairs"
    click.echo(
        f"Imported {result.imported:,} new {noun} ({result.rows_written:,} rows) of task"
        f"{'s' if len(result.tasks) > 1 else ''} {', '.join(result.tasks)} into {result.db_path}; "
        f"{result.already_present:,} already present."
    )
    if result.unpriced_models:
        click.echo(
            f"No price for {', '.join(result.unpriced_models)}: their cost is stored as unknown; "
            'add [prices."<model>"] to the settings file to price them.'
        )
    if result.skipped:
        click.echo(f"Skipped {len(result.skipped):,} bad lines:", err=True)
        for problem in result.skipped:
            click.echo(f"  {problem}", err=True)
