"""``routermon label`` and ``routermon import-labels``: human verdicts on pairs, for teams that review
outside the app (the Review screen stores the same labels)."""

from __future__ import annotations

import click

from .echo import echo
from .options import db_option, echo_skipped, say_waiting, skip_invalid_option, workspace

LABEL_HELP = "cheap (only the cheap answer is right), strong (only the strong one), both, neither."
BY_HELP = "Who is labelling (default: the settings' labeller, else $USER)."


@click.command("label")
@click.argument("request_id")
@click.argument("label", metavar="cheap|strong|both|neither")
@click.option("--by", "labeller", default=None, help=BY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the stored label as JSON.")
@db_option
@click.pass_context
def label_command(
    ctx: click.Context, request_id: str, label: str, labeller: str | None, as_json: bool, db: str | None
) -> None:
    """Label the pair REQUEST_ID: which answer was right. LABEL is
    cheap (only the cheap answer is right), strong (only the strong one), both or neither.

    The latest label of a pair counts; it overrides the judge and any comparison in every figure.
    """
    from routermon.core.formatting import json_text
    from routermon.core.measure.review import check_label, check_labeller, label_pair

    check_label(label)  # before reading any settings or log: a typo says so at once
    check_labeller(labeller)
    ws = workspace(ctx, db)
    stored = label_pair(
        ws.db_path,
        request_id,
        label,
        labeller=labeller or ws.labeller,
        source="cli",
        waiting=say_waiting,
    )
    if as_json:
        echo(json_text({"db_path": str(ws.db_path), "written": 1, "label": stored.model_dump()}))
        return
    who = f" by {stored.labeller}" if stored.labeller else ""
    echo(f"Labelled {stored.request_id} {stored.label!r}{who} in {ws.db_path} (1 label written).")


@click.command("import-labels")
@click.argument("file", type=click.Path(dir_okay=False, path_type=str))
@click.option(
    "--by",
    "labeller",
    default=None,
    help="Who labelled the lines that name nobody (default: the settings' labeller, else $USER).",
)
@skip_invalid_option("Store")
@click.option("--json", "as_json", is_flag=True, help="Print what was stored as JSON.")
@db_option
@click.pass_context
def import_labels_command(
    ctx: click.Context, file: str, labeller: str | None, skip_invalid: bool, as_json: bool, db: str | None
) -> None:
    """Store human labels from FILE, one JSON object a line:
    {"request_id": "...", "label": "cheap", "labeller": "alice"}, or {"id": "...", "task": "...",
    "label": "strong"} for a pair brought in by `routermon import`. Labels are cheap, strong, both,
    neither; labeller is optional. Importing the same file again adds nothing.
    """
    from routermon.core.formatting import count, json_text, plural
    from routermon.core.measure.review import check_labeller, import_labels

    check_labeller(labeller)
    ws = workspace(ctx, db)
    result = import_labels(
        file,
        ws.db_path,
        labeller=labeller or ws.labeller,
        skip_invalid=skip_invalid,
        waiting=say_waiting,
    )
    if as_json:
        echo(json_text(result.model_dump(mode="json")))
        return
    echo(
        f"Stored {count(result.written)} new {'label' if result.written == 1 else 'labels'} of"
        f" {plural(result.lines_read, 'line')} into {result.db_path}; {count(result.already_present)} already present."
    )
    echo_skipped(result)
