"""``routermon report``: the audit (traffic, spend, escalations, thresholds, calibration) as Markdown or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from .cmd_thresholds import open_log
from .echo import echo
from .options import SHARE, SHARE_HELP, db_option, workspace


@click.command("report")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=str), default=None, help="Write to FILE."
)
@click.option("--task", default=None, help="Only the paired outcomes of this task.")
@click.option("--target-accuracy", type=SHARE, default=None, help=f"Accuracy to reach ({SHARE_HELP}).")
@click.option(
    "--max-escalation",
    type=SHARE,
    default=None,
    help=f"Largest share of requests to escalate ({SHARE_HELP}).",
)
@db_option
@click.pass_context
def report_command(ctx, fmt, out, task, target_accuracy, max_escalation, db) -> None:
    """Write the audit a team lead can read: traffic, spend, escalations and the threshold analysis."""
    from routermon.core.errors import RoutermonError
    from routermon.core.measure.report import build_report, render_json, render_markdown

    ws = workspace(ctx, db)
    with open_log(ws) as reader:
        report = build_report(
            reader,
            task=task,
            target_accuracy=target_accuracy,
            max_escalation=max_escalation,
            default_threshold=ws.threshold,
            **ws.watch_policy,
        )
    text = render_json(report) + "\n" if fmt == "json" else render_markdown(report)
    if out is None:
        echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RoutermonError(f"The report cannot be written to {out}: {exc.strerror}.") from None
    echo(f"Wrote the {fmt} report to {out}.", err=True)
