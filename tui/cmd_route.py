"""``routermon route``: route one text through the cascade and print the result."""

from __future__ import annotations

import asyncio
import json

import click

from routermon.core.formatting import DASH, json_text, short_model, usd

from .echo import echo
from .options import THRESHOLD_HELP, db_option, parse_labels, stand_in_option, workspace
from .tables import Column, fitted_table, left_out_note
from .text import console as console_for


@click.command("route")
@click.argument("text")
@click.option(
    "--task",
    "task",
    default="classify",
    show_default=True,
    help="classify, summarize (or extract via the library).",
)
@click.option(
    "--labels", default=None, help="Comma-separated labels for classify, e.g. safe,unsafe,review-needed."
)
@click.option("--cheap", "cheap_model", default=None, help="Cheap model (default: newest Haiku).")
@click.option("--strong", "strong_model", default=None, help="Strong model (default: newest Sonnet).")
@click.option("--threshold", type=float, default=None, help=THRESHOLD_HELP)
@click.option("--mode", type=click.Choice(["cascade", "shadow"]), default="cascade", show_default=True)
@stand_in_option
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the stand-in API (with --stand-in)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@db_option
@click.pass_context
def route_command(
    ctx, text, task, labels, cheap_model, strong_model, threshold, mode, stand_in, seed, as_json, db
):
    """Route one text through the cascade and print the result.

    Exits 1 when the answer is degraded (a higher tier failed after an escalation, so the answer is a
    lower tier's); the reason is printed (and in --json, ``degraded_reason``).
    """
    from routermon.core.errors import ConfigError

    label_list = parse_labels(labels, task)
    if task == "extract":
        raise ConfigError(
            "The extract task needs a pydantic model of its fields; use it from Python (routermon.core)."
        )
    router = workspace(ctx, db).router(
        cheap_model=cheap_model,
        strong_model=strong_model,
        threshold=threshold,
        mode=mode,
        source="stand-in" if stand_in else "live",
        stand_in=stand_in,
        seed=seed,
    )

    async def run():
        try:
            return await router.route(task, text, labels=label_list)
        finally:
            await router.aclose()

    result = asyncio.run(run())
    if as_json:
        echo(json_text(result.model_dump(mode="json")))
        if result.degraded:
            raise SystemExit(1)
        return
    _print_route_result(result)
    if result.degraded:
        echo(f"Degraded answer: {result.degraded_reason}.", err=True)
        raise SystemExit(1)


def _print_route_result(result) -> None:
    """The answer and its confidence, how it was reached (cost, latency, request id), and each call."""
    from .text import literal

    console = console_for()
    console.print(
        literal(json.dumps(result.answer, ensure_ascii=False), "bold"),
        f" (confidence {result.confidence:.2f})",
    )
    if result.degraded:
        verdict = f"degraded: answered by {result.model} ({', '.join(result.escalation_reasons)})"
    elif result.escalated:
        verdict = f"escalated to {result.model} ({', '.join(result.escalation_reasons)})"
    else:
        verdict = f"answered by {result.model}"
    console.print(
        literal(f"{verdict}; {usd(result.cost_usd)}; {result.latency_ms:.0f} ms; request {result.request_id}")
    )
    _print_calls(console, result.calls)


def _print_calls(console, calls) -> None:
    """One table row per model call of the request, columns dropped to fit the console."""
    from .text import literal

    columns = [
        Column("tier", drop=1),
        Column("model"),
        Column("role"),
        Column("confidence", justify="right"),
        Column("why"),
        Column("tokens in/out", justify="right"),
        Column("cost", justify="right"),
        Column("latency", justify="right", drop=2),
    ]
    rows = [
        [
            str(call.tier),
            literal(short_model(call.model)),
            call.role,
            DASH if call.confidence is None else f"{call.confidence:.2f}",
            literal(call.escalation_reason or call.error_type or ""),
            f"{call.input_tokens}/{call.output_tokens}",
            usd(call.cost_usd),
            f"{call.latency_ms:.0f} ms",
        ]
        for call in calls
    ]
    table, left_out = fitted_table(columns, rows, console.width)
    console.print(table)
    note = left_out_note(left_out, console.width)
    if note:
        console.print(literal(note, "dim"))
