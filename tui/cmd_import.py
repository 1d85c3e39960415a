"""``routermon import``: load paired outcomes (cheap and strong answers to the same inputs) into the log."""

from __future__ import annotations

import click

from .echo import echo
from .options import db_option, echo_skipped, say_waiting, skip_invalid_option, workspace


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@skip_invalid_option("Import")
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
@db_option
@click.pass_context
def import_command(ctx: click.Context, file: str, skip_invalid: bool, as_json: bool, db: str | None) -> None:
    """Import paired outcomes from FILE (one JSON object a line) for `routermon thresholds`.

    Each line: {"id", "task", "input", "reference", "cheap": {...}, "strong": {...}} where each side has
    model, answer, confidence (required on the cheap side), input_tokens, output_tokens and optionally
    latency_ms and correct. Importing the same file again adds nothing.
    """
    from routermon.core.formatting import count, json_text, noun, plural
    from routermon.core.log.importing import import_pairs

    ws = workspace(ctx, db)
    result = import_pairs(
        file,
        ws.db_path,
        skip_invalid=skip_invalid,
        prices=ws.prices,
        store_inputs=ws.store_inputs,
        preview_chars=ws.preview_chars,
        waiting=say_waiting,
    )
    if as_json:
        echo(json_text(result.model_dump(mode="json")))
        return
    echo(
        f"Imported {plural(result.imported, 'new pair')} ({plural(result.rows_written, 'row')}) of "
        f"{noun(len(result.tasks), 'task')} {', '.join(result.tasks)} into {result.db_path}; "
        f"{count(result.already_present)} already present."
    )
    if result.unpriced_models:
        echo(
            f"No price for {', '.join(result.unpriced_models)}: their cost is stored as unknown; "
            'add [prices."<model>"] to the settings file to price them.'
        )
    echo_skipped(result)
