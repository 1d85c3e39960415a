"""``routermon judge``: an LLM judge on the free-text pairs of the log that nobody judged yet."""

from __future__ import annotations

import asyncio
import json
import sys
import threading

import click

from routermon.core.formatting import pct, plural, usd

from .echo import echo
from .options import (
    ROWS,
    db_option,
    spend_progress,
    stand_in_latency_option,
    stand_in_option,
    stand_in_seed_option,
    stop_on_first_interrupt,
    workspace,
)
from .text import console as console_for


@click.command("judge")
@click.option("--task", default=None, help="Judge only this task's pairs (default: every free-text task).")
@click.option("--limit", type=ROWS, default=None, help="Judge at most N pairs.")
@click.option(
    "--model",
    "judge_model",
    default=None,
    help="Judge model (default: settings judge_model, else the strong model).",
)
@click.option(
    "--inputs",
    "inputs_file",
    type=click.Path(path_type=str),
    default=None,
    help="The shadow run's JSONL/CSV file: full inputs for pairs whose log keeps only a preview.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Calls in flight."
)
@stand_in_option
@stand_in_seed_option
@stand_in_latency_option()
@click.option("--json", "as_json", is_flag=True, help="Print the run and the judge's figures as JSON.")
@db_option
@click.pass_context
def judge_command(
    ctx, task, limit, judge_model, inputs_file, concurrency, stand_in, seed, stand_in_latency, as_json, db
):
    """Judge the free-text pairs nobody judged yet (resumable: judged pairs are skipped)."""
    from routermon.core.errors import DatabaseError
    from routermon.core.measure.judge import judge_pairs, pairs_to_judge, read_judge_figures
    from routermon.core.measure.shadowrun import read_inputs

    ws = workspace(ctx, db)
    db_path = ws.db_path
    from routermon.core.log.db import log_exists

    if not log_exists(db_path):
        raise DatabaseError(f"The call log {db_path} does not exist; make pairs first with routermon shadow.")
    if task is not None:
        from routermon.core.errors import ConfigError
        from routermon.core.log.reader import LogReader

        with LogReader(db_path) as reader:
            known = reader.tasks()
        if task not in known:
            raise ConfigError(
                f"The call log {db_path} has no task {task!r}; its tasks: {', '.join(known) or 'none'}."
            )
    model = ws.judge_model(judge_model)
    ws.prices.rates(model)  # an unpriced judge model is refused before anything runs
    inputs = {item.sha256: item.text for item in read_inputs(inputs_file)} if inputs_file else None
    work, no_input = pairs_to_judge(db_path, task=task, limit=limit, inputs=inputs)
    router = (
        ws.router(source="judge", stand_in=stand_in, seed=seed, stand_in_latency=stand_in_latency)
        if work
        else None
    )
    judge = ws.judge(router, model, source="judge") if router else None
    console = console_for(stderr=True)
    stop = threading.Event()

    async def run():
        stop_on_first_interrupt(stop, console, "calls")
        with spend_progress("judge", console, failed=True, disable=as_json) as bar:
            handle = bar.add_task("judge", total=len(work), spend=0.0, failed=0)

            def update(p):
                bar.update(handle, completed=p.done + p.failed, spend=p.spend_usd, failed=p.failed)

            try:
                return await judge_pairs(
                    judge, work, concurrency=concurrency, stop=stop, on_progress=update, no_input=no_input
                )
            finally:
                await router.aclose()

    if judge is not None:
        progress = asyncio.run(run())
    else:
        from routermon.core.measure.judge import JudgeProgress

        progress = JudgeProgress(total=0, no_input=no_input)
    figures = read_judge_figures(db_path, task)
    if as_json:
        echo(json.dumps({"run": progress.model_dump(), "judge": figures.model_dump()}, indent=2))
    else:
        _print_text(progress, figures, model, task)
    if stop.is_set():
        left = progress.total - progress.done - progress.failed
        echo(f"Interrupted with {plural(left, 'pair')} left; run again to finish.", err=True)
        sys.exit(130)


def _print_text(progress, figures, model: str, task: str | None) -> None:
    scope = f" of task {task}" if task else ""
    echo(
        f"Judged {plural(progress.done, 'pair')}{scope} with {model} ({progress.failed} failed); "
        f"{usd(progress.spend_usd)} spent on judging this run."
    )
    if progress.no_input:
        echo(
            f"{plural(progress.no_input, 'pair')} left out: the log keeps only a preview of their input "
            "(store_inputs); pass the shadow run's file with --inputs."
        )
    if not figures.verdicts:
        echo("No judge verdicts in the log yet.")
        return
    low, high = figures.first_interval
    echo(
        f"Cost of measuring: {usd(figures.spend_usd)} over {plural(figures.calls, 'judge call')} "
        "(not part of serving spend)."
    )
    echo(
        f"Cheap answer acceptable: {pct(figures.cheap_acceptable_share)} of {plural(figures.verdicts, 'verdict')}; "
        f"balanced over the two orders {pct(figures.balanced_accuracy)} "
        f"(cheap shown first {pct(figures.accuracy_cheap_first)}, second {pct(figures.accuracy_cheap_second)})."
    )
    if figures.decisive:
        bias = {
            "first": "the judge favours the answer shown first",
            "second": "the judge favours the answer shown second",
            None: "no position bias shown",
        }[figures.favours]
        echo(
            f"Position bias: {pct(figures.first_share)} of {plural(figures.decisive, 'decisive verdict')} "
            f"chose the first answer (95% CI {pct(low)}-{pct(high)}): {bias}."
        )
