"""``routermon shadow``: run both models on every input of a file, to measure the cheap one."""

from __future__ import annotations

import asyncio
import threading

import click

from routermon.core.formatting import count, json_text, pct, plural, usd

from .echo import echo
from .options import (
    db_option,
    parse_labels,
    spend_progress,
    stand_in_latency_option,
    stand_in_option,
    stand_in_seed_option,
    stop_on_first_interrupt,
    workspace,
)
from .text import console as console_for


@click.command("shadow")
@click.argument("file", type=click.Path(path_type=str))
@click.option("--task", default="classify", show_default=True, help="classify or summarize.")
@click.option("--labels", default=None, help="Comma-separated labels for classify.")
@click.option("--cheap", "cheap_model", default=None, help="Cheap model (default: newest Haiku).")
@click.option("--strong", "strong_model", default=None, help="Strong model (default: newest Sonnet).")
@click.option(
    "--threshold",
    type=float,
    default=None,
    help="The policy threshold recorded with each pair: a confidence score from 0 to 1, not a percent.",
)
@click.option(
    "--concurrency", type=click.IntRange(1, 64), default=8, show_default=True, help="Requests in flight."
)
@click.option("--resume", is_flag=True, help="Skip inputs that already have a pair in the log.")
@click.option(
    "--judge",
    "judge",
    is_flag=True,
    help="LLM-judge each free-text pair as it is made (the judge model: --judge-model, settings judge_model, else the strong model).",
)
@click.option("--judge-model", default=None, help="The judge model for --judge.")
@stand_in_option
@stand_in_seed_option
@stand_in_latency_option("--fake-latency")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (progress stays on stderr).")
@db_option
@click.pass_context
def shadow_command(
    ctx,
    file,
    task,
    labels,
    cheap_model,
    strong_model,
    threshold,
    concurrency,
    resume,
    judge,
    judge_model,
    stand_in,
    seed,
    stand_in_latency,
    as_json,
    db,
):
    """Run cheap and strong models side by side on every input of a file."""
    from routermon.core.errors import ConfigError
    from routermon.core.measure.shadowrun import SOURCE, definition_prefix, read_inputs

    label_list = parse_labels(labels, task)
    if task not in ("classify", "summarize"):
        raise ConfigError(f"The shadow command runs classify or summarize, not {task!r}.")
    items = read_inputs(file)
    ws = workspace(ctx, db)
    router = ws.router(
        cheap_model=cheap_model,
        strong_model=strong_model,
        threshold=threshold,
        mode="shadow",
        source=SOURCE,
        stand_in=stand_in,
        seed=seed,
        stand_in_latency=stand_in_latency,
    )
    # Pairs are tagged with their task definition and models: --resume skips only inputs paired
    # under the same ones, and says when a changed definition makes it pair inputs again.
    router.request_prefix = definition_prefix(router, task, label_list)
    judging = ws.judge(router, ws.judge_model(judge_model, strong_model), source=SOURCE) if judge else None
    skip = _inputs_done(ws.db_path, task, router.request_prefix, items) if resume else set()
    stop = threading.Event()
    progress = asyncio.run(
        _pair_inputs(
            router, task, items, label_list, concurrency=concurrency, skip=skip, stop=stop, judging=judging
        )
    )
    _print_summary(progress, ws.db_path, task, judging, interrupted=stop.is_set(), as_json=as_json)


def _inputs_done(db_path, task: str, request_prefix: str, items) -> set[str]:
    """The inputs already paired under this definition (skipped by --resume); says on stderr how many
    of the file's inputs were paired under another one, which are paired again."""
    from routermon.core.measure.shadowrun import done_inputs

    skip = done_inputs(db_path, task, request_prefix)
    other = (done_inputs(db_path, task) - skip) & {item.sha256 for item in items}
    if other:
        echo(
            f"{plural(len(other), 'input')} of this file were paired under another definition of "
            f"task {task} (labels, instructions or models changed): they are paired again.",
            err=True,
        )
    return skip


async def _pair_inputs(router, task: str, items, label_list, *, concurrency: int, skip, stop, judging):
    """Every input through both models, with a progress bar on stderr; the first Ctrl-C sets ``stop``."""
    from routermon.core.measure.shadowrun import run_shadow

    console = console_for(stderr=True)
    stop_on_first_interrupt(stop, console, "requests")
    with spend_progress("shadow", console, failed=True) as bar:
        handle = bar.add_task("shadow", total=len(items), spend=0.0, failed=0)

        def update(p):
            bar.update(handle, completed=p.done + p.failed + p.skipped, spend=p.spend_usd, failed=p.failed)

        try:
            return await run_shadow(
                router,
                task,
                items,
                labels=label_list,
                concurrency=concurrency,
                skip=skip,
                stop=stop,
                on_progress=update,
                judge=judging,
            )
        finally:
            await router.aclose()


def _print_summary(progress, db_path, task: str, judging, *, interrupted: bool, as_json: bool) -> None:
    """What was paired, skipped, failed and spent (as JSON with --json), and what to run next."""
    share = progress.escalated / progress.done if progress.done else 0.0
    left = progress.total - progress.done - progress.failed - progress.skipped
    if as_json:
        summary = {
            "db_path": str(db_path),
            "task": task,
            **progress.model_dump(),
            "escalation_share": share,
            "interrupted": interrupted,
            "left": left,
        }
        echo(json_text(summary))
        return
    echo(
        f"{plural(progress.done, 'pair')} logged to {db_path}, {count(progress.skipped)} skipped as already "
        f"done, {count(progress.failed)} failed on both models; {usd(progress.spend_usd)} spent; "
        f"the policy would escalate {pct(share)}."
    )
    if judging is not None:
        echo(
            f"{plural(progress.judged, 'pair')} judged by {judging.model}; {usd(progress.judge_spend_usd)} "
            "spent on judging (the cost of measuring, apart from the serving spend above)."
        )
    if interrupted:
        echo(f"Interrupted with {plural(left, 'input')} left; run again with --resume to finish.")
    if task == "summarize" and judging is None:
        echo("Next: routermon judge --task summarize (free text needs a judge), then routermon thresholds")
    else:
        echo("Next: routermon thresholds --task " + task)
