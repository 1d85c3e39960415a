"""``routermon thresholds``: the threshold sweep over paired outcomes, with a recommendation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from routermon.core.formatting import count, json_text, pct, plural, usd

from .echo import echo
from .options import SHARE, SHARE_HELP, db_option, share_help, workspace
from .text import console as console_for

DEFAULT_MAX_LOSS = 0.01  # as routermon.core.measure.guarantee's; repeated so `--help` does not import core
DEFAULT_CONFIDENCE = 0.95

if TYPE_CHECKING:
    from rich.console import Console

    from routermon.core.log.reader import LogReader
    from routermon.core.measure.analysis import SweepResult
    from routermon.core.workspace import Workspace

HOW_TO_PAIR = "run `routermon shadow FILE --task T` or `routermon import FILE` to get paired outcomes"


def open_log(ws: Workspace) -> LogReader:
    """The reader on the workspace's log; a missing log says how to get paired outcomes."""
    from routermon.core.log.db import log_exists
    from routermon.core.log.reader import LogReader
    from routermon.core.measure.pairs import NoPairsError

    path = ws.db_path
    if not log_exists(path):
        raise NoPairsError(f"There is no call log at {path} yet; {HOW_TO_PAIR}.")
    return LogReader(path)


def print_result(console: Console, result: SweepResult, show_all: bool = False) -> None:
    """The sweep, recommendation, calibration and per-task view as rich tables."""
    from .text import literal

    _print_heading(console, result)
    _print_sweep(console, result, show_all)
    _print_calibration(console, result)
    if result.calibration.examples:
        _print_confidently_wrong(console, result)
    if len(result.per_task) > 1:
        _print_per_task(console, result)
    for note in result.notes:
        console.print(literal(f"• {note}", "dim"))


def _print_heading(console: Console, result: SweepResult) -> None:
    """What was swept (pairs, task, models) and the guarantee's sentence."""
    from rich.text import Text

    scope = f" of task {result.task}" if result.task else ""
    console.print(
        Text.assemble(
            (f"{plural(result.pairs, 'paired outcome')}{scope}", "bold"),
            f" — cheap {', '.join(result.cheap_models)}, strong {', '.join(result.strong_models)}."
            " Escalate when confidence < threshold.",
        )
    )
    guarantee = result.guarantee
    style = "green" if guarantee.threshold is not None else "yellow"
    console.print(Text.assemble("\n", ("Guarantee: ", "bold"), (guarantee.message, style), "\n"))


def _print_sweep(console: Console, result: SweepResult, show_all: bool) -> None:
    """The baselines and the threshold rows, the legend, and the observed recommendation."""
    from rich.text import Text

    from routermon.core.measure.analysis import table_rows

    from .tables import Column, fitted_table

    columns = [
        Column("threshold", keep=False),
        Column("escalated", justify="right"),
        Column("accuracy", justify="right"),
        Column("95% CI", justify="right"),
        Column("cost per request", justify="right"),
        Column("cost/1k", justify="right", drop=1),
        Column("vs strong", justify="right"),
    ]
    cells: list[list] = []
    styles: list[str | None] = []
    for base, label in ((result.cheap_only, "cheap only"), (result.strong_only, "strong only")):
        cells.append(
            [
                label,
                "0.0%" if base.name == "cheap_only" else "100.0%",
                *_sweep_figures(base),
            ]
        )
        styles.append("dim")
    guarantee = result.guarantee
    rows = result.rows if show_all else table_rows(result)
    for row in rows:
        recommended = row.threshold == result.recommended.threshold
        guaranteed = " ✓" if row.threshold == guarantee.threshold else ""
        cells.append(
            [
                f"{row.threshold:.2f}" + guaranteed + (" ←" if recommended else ""),
                pct(row.escalation_share),
                *_sweep_figures(row),
            ]
        )
        styles.append("bold green" if recommended else None)
    table, left_out = fitted_table(columns, cells, console.width, row_styles=styles)
    console.print(table)
    _note_left_out(console, left_out)
    if len(rows) < len(result.rows):
        console.print(f"Showing {len(rows)} of {len(result.rows)} thresholds; --all lists every one.")
    if guarantee.threshold is not None:
        console.print("✓ the guaranteed threshold; ← the observed recommendation")
    style = "green" if result.recommended.met else "yellow"
    console.print(
        Text.assemble(
            ("Observed on the same pairs (not guaranteed): ", "bold"),
            (result.recommended.message, f"bold {style}"),
        )
    )


def _sweep_figures(row) -> list[str]:
    """A sweep row's (or a baseline's) accuracy, its interval and its costs, as the table's cells."""
    return [
        pct(row.accuracy),
        f"{pct(row.accuracy_low)}–{pct(row.accuracy_high)}",
        usd(row.cost_per_request_usd),
        usd(row.cost_per_1k_requests_usd),
        pct(row.cost_vs_strong, 0),
    ]


def _print_calibration(console: Console, result: SweepResult) -> None:
    """The calibration sentence and the confidence bins that have pairs."""
    from rich.text import Text

    from .tables import Column, fitted_table

    cal = result.calibration
    ece = "-" if cal.ece is None else f"{cal.ece:.3f}"
    console.print(
        Text.assemble(
            "\n",
            ("Calibration", "bold"),
            f" (expected calibration error {ece}): at threshold {cal.threshold:.2f} the cheap model is"
            f" confidently wrong on {count(cal.confidently_wrong)} of {plural(cal.judged, 'pair')}"
            f" ({pct(cal.confidently_wrong_share)}); no threshold at or below it catches them.",
        )
    )
    bins = [
        [f"{b.low:.1f}–{b.high:.1f}", count(b.count), pct(b.mean_confidence), pct(b.accuracy)]
        for b in cal.bins
        if b.count
    ]
    bin_columns = [
        Column("confidence"),
        Column("pairs", justify="right"),
        Column("mean confidence", justify="right"),
        Column("accuracy", justify="right"),
    ]
    console.print(fitted_table(bin_columns, bins, console.width)[0])


def _print_confidently_wrong(console: Console, result: SweepResult) -> None:
    """Up to five pairs the cheap model was confidently wrong on, their text shown literally."""
    from routermon.core.measure.report import answer_text

    from .tables import Column, fitted_table
    from .text import literal

    wrong_columns = [
        Column("confidence", justify="right"),
        Column("cheap answer", keep=False),
        Column("strong answer", keep=False),
        Column("reference", keep=False),
        Column("input", keep=False, drop=1),
    ]
    examples = [
        [
            f"{e.confidence:.2f}",
            literal(answer_text(e.cheap_answer) or "-"),
            literal(answer_text(e.strong_answer) or "-"),
            literal(e.reference or "-"),
            literal(e.input_preview or "-"),
        ]
        for e in result.calibration.examples[:5]
    ]
    wrong, left_out = fitted_table(wrong_columns, examples, console.width, title="Confidently wrong")
    console.print(wrong)
    _note_left_out(console, left_out)


def _print_per_task(console: Console, result: SweepResult) -> None:
    """Each task's figures at the chosen threshold, and its own observed and guaranteed thresholds."""
    from .tables import Column, fitted_table
    from .text import literal

    task_columns = [
        Column("task", keep=False),
        Column("pairs", keep=False, justify="right"),
        Column("cheap accuracy", justify="right"),
        Column("escalated", justify="right"),
        Column("accuracy", justify="right"),
        Column("share of spend", justify="right", drop=1),
        Column("observed threshold", justify="right", drop=2),
        Column("guaranteed threshold", justify="right"),
    ]
    task_rows = []
    for s in result.per_task:
        own_guarantee = s.guarantee.threshold
        task_rows.append(
            [
                literal(s.task),
                count(s.pairs) + (" (small sample)" if s.guarantee.small_sample else ""),
                pct(s.cheap_accuracy),
                pct(s.escalation_share),
                pct(s.accuracy),
                pct(s.spend_share),
                "none" if s.recommended_threshold is None else f"{s.recommended_threshold:.2f}",
                "none" if own_guarantee is None else f"{own_guarantee:.2f}",
            ]
        )
    tasks, left_out = fitted_table(
        task_columns,
        task_rows,
        console.width,
        title=f"Per task at threshold {result.chosen_threshold:.2f}",
    )
    console.print(tasks)
    _note_left_out(console, left_out)


def _note_left_out(console: Console, headers: list[str]) -> None:
    from .tables import left_out_note
    from .text import literal

    note = left_out_note(headers, console.width)
    if note:
        console.print(literal(note, "dim"))


@click.command("thresholds")
@click.option("--task", default=None, help="Only the pairs of this task.")
@click.option(
    "--target-accuracy",
    type=SHARE,
    default=None,
    help=f"Accuracy to reach, a percent ({SHARE_HELP}; default: always-strong accuracy minus one point).",
)
@click.option(
    "--max-escalation",
    type=SHARE,
    default=None,
    help=f"Largest share of requests to escalate ({SHARE_HELP}).",
)
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="Threshold for calibration and the per-task view, a confidence score from 0 to 1, not a percent "
    "(default: the recommendation, else the settings').",
)
@click.option(
    "--max-loss",
    type=SHARE,
    default=DEFAULT_MAX_LOSS,
    show_default="1%",
    help="Accuracy the guarantee may lose against always-strong (1% or 0.01 is one point; a number above 1 "
    "is a percent).",
)
@click.option(
    "--confidence",
    type=SHARE,
    default=DEFAULT_CONFIDENCE,
    show_default="95%",
    help=f"Confidence of the guarantee ({share_help(95)}).",
)
@click.option("--all", "show_all", is_flag=True, help="List every threshold tried.")
@click.option(
    "--apply",
    "apply_policy",
    is_flag=True,
    help="Write the guaranteed threshold of each task (or of --task) into the settings file's [thresholds].",
)
@click.option("--yes", "-y", is_flag=True, help="With --apply: write without asking.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole analysis as JSON.")
@db_option
@click.pass_context
def thresholds_command(
    ctx,
    task,
    target_accuracy,
    max_escalation,
    threshold,
    max_loss,
    confidence,
    show_all,
    apply_policy,
    yes,
    as_json,
    db,
) -> None:
    """Sweep confidence thresholds over the paired outcomes; recommend the cheapest whose loss against
    always-strong is at most --max-loss with --confidence, and the one observed to meet a target."""
    from routermon.core.measure.analysis import analyse
    from routermon.core.measure.guarantee import check_guarantee_options

    check_guarantee_options(max_loss, confidence)  # before reading a large log
    ws = workspace(ctx, db)
    with open_log(ws) as reader:
        result = analyse(
            reader,
            task,
            target_accuracy=target_accuracy,
            max_escalation=max_escalation,
            threshold=threshold,
            default_threshold=ws.threshold,
            max_loss=max_loss,
            confidence=confidence,
        )
    if as_json and not apply_policy:
        echo(json_text(result.model_dump(mode="json")))
        return
    if not as_json:
        print_result(console_for(), result, show_all)
    if apply_policy:
        apply_guarantees(result, yes=yes, as_json=as_json)


def task_guarantees(result: SweepResult) -> dict:
    """The analysed task's guarantee, or every task's own."""
    if result.task is not None:
        return {result.task: result.guarantee}
    return {s.task: s.guarantee for s in result.per_task}


def apply_guarantees(result: SweepResult, *, yes: bool, as_json: bool) -> None:
    """Show the settings file's diff for the guaranteed thresholds, ask, and write it."""
    import sys

    from routermon.core.errors import ConfigError
    from routermon.core.measure.policy import guaranteed, plan_thresholds, write_settings
    from routermon.core.settings import config_path

    chosen = guaranteed(task_guarantees(result))
    found, missing = chosen.thresholds, chosen.missing
    plan = plan_thresholds(config_path(), found, chosen.notes)
    for task, why in missing.items():
        echo(f"{task}: not applied: {why}", err=True)
    if not found:
        raise ConfigError("No task has a guaranteed threshold, so nothing was written to the settings file.")
    if not plan.changed:
        echo(
            f"The settings file {plan.path} already routes with these thresholds; nothing to write.", err=True
        )
    else:
        echo(plan.diff(), err=True, nl=False)
        if not yes:
            if not sys.stdin.isatty():
                raise ConfigError("Pass --yes to write the settings file without being asked.")
            if not click.confirm(f"Write {plural(len(plan.changes), 'threshold')} to {plan.path}?", err=True):
                echo("Nothing written.", err=True)
                if as_json:
                    echo(json_text({"written": False, "path": plan.path, "thresholds": found}))
                return
        write_settings(plan)
        echo(
            f"Wrote {plural(len(plan.changes), 'threshold')} to {plan.path}; routers started from now on "
            "route with them.",
            err=True,
        )
    if as_json:
        echo(
            json_text(
                {
                    "written": plan.changed,
                    "path": plan.path,
                    "thresholds": found,
                    "changes": {t: {"before": b, "after": a} for t, (b, a) in plan.changes.items()},
                    "not_applied": missing,
                }
            )
        )
