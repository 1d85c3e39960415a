"""``routermon check``: whether the routing policy still holds (audit loss per task against the
policy's max loss, the projected month against the budget), for cron and CI."""

from __future__ import annotations

import click

from .echo import echo
from .options import DAYS, ROWS, db_option, workspace


@click.command("check")
@click.option("--task", default=None, help="Only this task's audits.")
@click.option(
    "--window",
    type=ROWS,
    default=None,
    help="Rolling window: the last N audits of a task (default: the settings' drift_window).",
)
@click.option(
    "--days",
    type=DAYS,
    default=None,
    help="Rolling window: the audits of the last D days instead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@db_option
@click.pass_context
def check_command(ctx, task, window, days, as_json, db) -> None:
    """Exit 0 when the policy holds, 1 when an alert is raised (a task's audit loss bound over the
    policy's max_loss, or the projected month over monthly_budget_usd), 2 on a usage error."""
    from routermon.core.formatting import json_text
    from routermon.core.measure.watch import check

    from .cmd_thresholds import open_log

    ws = workspace(ctx, db)
    policy = ws.watch_policy
    if window:
        policy["window"] = window
    if days is not None:
        policy["days"] = days
    with open_log(ws) as reader:
        result = check(reader, task=task, **policy)
    if as_json:
        payload = {
            "ok": result.ok,
            "alerts": result.alerts,
            "drift": [
                {
                    "task": d.task,
                    "alert": d.alert,
                    "since": d.since,
                    "audits": d.audits,
                    "max_loss": d.max_loss,
                    "confidence": d.confidence,
                    "latest": d.latest.model_dump() if d.latest else None,
                    "message": d.message(),
                }
                for d in result.drift
            ],
            "budget": None
            if result.budget is None
            else {
                **result.budget.model_dump(),
                "alert": result.budget.alert,
                "message": result.budget.message(),
            },
        }
        echo(json_text(payload))
    else:
        if not result.drift:
            echo("No audits in the log yet: set audit_share in the settings to watch the policy.")
        for d in result.drift:
            echo(("ALERT " if d.alert else "ok    ") + d.message())
        if result.budget is not None:
            echo(("ALERT " if result.budget.alert else "ok    ") + result.budget.message())
        for alert in result.alerts:
            echo(f"routermon: {alert}", err=True)
    ctx.exit(0 if result.ok else 1)
