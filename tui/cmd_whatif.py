"""``routermon whatif``: what routing would cost and save a month, from flags or the call log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from routermon.core.formatting import count, json_text, pct, usd, usd_with_share

from .echo import echo
from .options import DAYS, SHARE, SHARE_HELP, db_option, workspace
from .text import console as console_for

if TYPE_CHECKING:
    from rich.table import Table

    from routermon.core.measure.whatif import WhatIfInputs, WhatIfResult
    from routermon.core.workspace import Workspace

# Flag name -> WhatIfInputs field, for the values a person can give or take from the log.
_FLAG_FIELDS = {
    "volume": "monthly_requests",
    "cheap_share": "cheap_share",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "cheap": "cheap_model",
    "strong": "strong_model",
    "audit_share": "audit_share",
}
_REQUIRED_FLAGS = {
    "--volume": "monthly_requests",
    "--cheap-share": "cheap_share",
    "--input-tokens": "input_tokens",
    "--output-tokens": "output_tokens",
}


def build_inputs(
    ws: Workspace,
    flags: dict,
    *,
    cached_share: float | None,
    batch: bool,
    overhead: float,
    use_log: bool,
    days: float,
) -> WhatIfInputs:
    """Inputs from the flags, typed over the observed traffic when ``use_log`` is set."""
    from routermon.core.errors import ConfigError
    from routermon.core.measure import whatif

    given = {_FLAG_FIELDS[k]: v for k, v in flags.items() if v is not None}
    given.update(batch=batch, monthly_overhead_usd=overhead)
    if cached_share is not None:
        given["cached_input_share"] = cached_share
    if use_log:
        from routermon.core.log.reader import LogReader

        with LogReader(ws.db_path) as reader:
            observed = whatif.from_log(
                reader,
                days=days,
                cheap_model=given.get("cheap_model"),
                strong_model=given.get("strong_model"),
                prices=ws.prices,
                fallback_models=ws.models(given.get("cheap_model"), given.get("strong_model")),
            )
        return whatif.typed_over_observed(observed, given)
    missing = [flag for flag, key in _REQUIRED_FLAGS.items() if key not in given]
    if missing:
        raise ConfigError(
            f"Give {', '.join(missing)} (or --from-log to take them from the call log); "
            "run `routermon whatif --help` for the options."
        )
    given["cheap_model"], given["strong_model"] = ws.models(
        given.get("cheap_model"), given.get("strong_model")
    )
    return whatif.typed_over_observed(None, given)


def result_table(result: WhatIfResult, width: int = 80) -> Table:
    """The projection as a two-column table of monthly figures, at most ``width`` cells wide."""
    from .tables import Column, fitted_table
    from .text import literal

    inputs = result.inputs
    title = (
        f"{count(inputs.monthly_requests)} requests/month · {pct(inputs.cheap_share)} finished by the cheap model · "
        f"{count(inputs.input_tokens)} in / {count(inputs.output_tokens)} out tokens per call"
    )
    if inputs.escalated_input_tokens is not None or inputs.escalated_output_tokens is not None:
        esc_in = (
            inputs.input_tokens if inputs.escalated_input_tokens is None else inputs.escalated_input_tokens
        )
        esc_out = (
            inputs.output_tokens if inputs.escalated_output_tokens is None else inputs.escalated_output_tokens
        )
        title += f" ({count(esc_in)} / {count(esc_out)} on escalated requests)"
    if inputs.audit_share:
        title += f" · {pct(inputs.audit_share)} of cheap answers audited"
    if inputs.cached_input_share:
        title += f" · {pct(inputs.cached_input_share, 0)} of input cached"
    if inputs.batch:
        title += " · Batch API"
    rows = [
        [f"Always strong ({inputs.strong_model})", usd(result.always_strong_usd)],
        [f"Always cheap ({inputs.cheap_model})", usd(result.always_cheap_usd)],
        ["Cascade (cheap call on every request, strong on escalated)", usd(result.cascade_usd)],
    ]
    if inputs.audit_share:
        rows.append(["  of which audits (strong call on audited cheap answers)", usd(result.audit_usd)])
    rows += [
        ["Simple split (ignores the wasted cheap call on escalated requests)", usd(result.simple_split_usd)],
        ["Cascade savings vs always strong", usd_with_share(result.savings_usd, result.savings_share)],
        ["Simple-split savings (as usually quoted)", usd(result.simple_split_savings_usd)],
        ["Break-even cheap share (cascade costs more below it)", pct(result.break_even_cheap_share)],
    ]
    if inputs.monthly_overhead_usd:
        volume = result.break_even_monthly_requests
        rows += [
            ["Router overhead", usd(inputs.monthly_overhead_usd)],
            ["Net savings (after overhead)", usd(result.net_savings_usd)],
            ["Break-even volume (requests/month)", "never pays off" if volume is None else count(volume)],
        ]
    columns = [Column("Monthly (USD)", keep=False), Column("Amount", justify="right")]
    return fitted_table(columns, [[literal(label), amount] for label, amount in rows], width, title=title)[0]


@click.command("whatif")
@click.option("--volume", type=float, default=None, help="Requests per month.")
@click.option(
    "--cheap-share",
    type=SHARE,
    default=None,
    help=f"Share of requests the cheap model finishes ({SHARE_HELP}).",
)
@click.option("--input-tokens", type=float, default=None, help="Average input tokens per call.")
@click.option("--output-tokens", type=float, default=None, help="Average output tokens per call.")
@click.option("--cheap", default=None, help="Cheap model (default: the newest Haiku with a price).")
@click.option("--strong", default=None, help="Strong model (default: the newest Sonnet with a price).")
@click.option(
    "--cached-share",
    type=SHARE,
    default=None,
    help=f"Share of input tokens read from the prompt cache ({SHARE_HELP}).",
)
@click.option(
    "--audit-share",
    type=SHARE,
    default=None,
    help=f"Share of the cheap model's answers also sent to the strong model to check ({SHARE_HELP}; default 0).",
)
@click.option("--batch", is_flag=True, help="Use Batch API prices where genai-prices has them.")
@click.option(
    "--overhead",
    type=float,
    default=0.0,
    show_default=True,
    help="Fixed monthly cost of running the router, USD.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@click.option(
    "--from-log", "use_log", is_flag=True, help="Take volume, share, tokens and models from the call log."
)
@click.option(
    "--days", type=DAYS, default=7.0, show_default=True, help="With --from-log: days of traffic to read."
)
@db_option
@click.pass_context
def whatif(
    ctx: click.Context,
    volume: float | None,
    cheap_share: float | None,
    input_tokens: float | None,
    output_tokens: float | None,
    cheap: str | None,
    strong: str | None,
    cached_share: float | None,
    audit_share: float | None,
    batch: bool,
    overhead: float,
    as_json: bool,
    use_log: bool,
    days: float,
    db: str | None,
) -> None:
    """Project monthly cost and savings of a cheap-first cascade against always calling the strong model.

    Example: routermon whatif --volume 1000000 --cheap-share 95% --input-tokens 200 --output-tokens 0
    """
    flags = {
        "volume": volume,
        "cheap_share": cheap_share,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cheap": cheap,
        "strong": strong,
        "audit_share": audit_share,
    }
    from routermon.core.measure.whatif import project

    ws = workspace(ctx, db)
    inputs = build_inputs(
        ws, flags, cached_share=cached_share, batch=batch, overhead=overhead, use_log=use_log, days=days
    )
    result = project(inputs, ws.prices)
    if as_json:
        echo(json_text(result.to_json()))
        return
    console = console_for()
    if inputs.observed is not None:
        console.print(f"From the log: {inputs.observed.describe()}.", markup=False, highlight=False)
    console.print(result_table(result, console.width))
    for note in result.notes:
        console.print(f"Note: {note}")
