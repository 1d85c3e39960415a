"""``routermon report``: the audit (traffic, spend, escalations, thresholds, calibration) as Markdown or JSON."""

from __future__ import annotations

from pathlib import Path

import click

from routermon.core.errors import RoutermonError
from routermon.core.report import build_report, render_json, render_markdown
from routermon.core.settings import load_settings

from .cli import db_option, main
from .cmd_thresholds import open_log


class ReportWriteError(RoutermonError):
    """The report file cannot be written."""


@main.command("report", short_help="Write the audit report (Markdown or JSON).")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@click.option(
    "--out", "out", type=click.Path(dir_okay=False, path_type=str), default=None, help="Write to FILE."
)
@click.option("--task", default=None, help="Only the paired outcomes of this task.")
@click.option("--target-accuracy", type=float, default=None, help="Accuracy to reach, 0 to 1.")
@click.option(
    "--max-escalation", type=float, default=None, help="Largest share of requests to escalate, 0 to 1."
)
@db_option
@click.pass_context
def report_command(ctx, fmt, out, task, target_accuracy, max_escalation, db) -> None:
    """Write the audit a team lead can read: traffic, spend, escalations and the threshold analysis."""
    settings = load_settings()
    with open_log(ctx, db) as reader:
        report = build_report(
            reader,
            task=task,
            target_accuracy=target_accuracy,
            max_escalation=max_escalation,
            default_threshold=settings.threshold,
        )
    text = render_json(report) + "\n" if fmt == "json" else render_markdown(report)
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        Path(out).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ReportWriteError(f"The report cannot be written to {out}: {exc.strerror}.") from None
    click.echo(f"Wrote the {fmt} report to {out}.", err=True)
