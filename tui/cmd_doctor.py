"""``routermon doctor``: check the configured cascade against the API it will use."""

from __future__ import annotations

import asyncio
import textwrap

import click

from routermon.core.formatting import count, json_text, usd

from .echo import echo
from .options import db_option, stand_in_option, workspace

WIDTH = 80
# role, model, task, result, latency, tokens, cost: 79 columns with the spaces between them
COLUMNS = ((6, "<"), (18, "<"), (9, "<"), (8, "<"), (7, ">"), (15, ">"), (10, ">"))


def _row(*cells: str) -> str:
    out = []
    for text, (width, align) in zip(cells, COLUMNS, strict=True):
        text = text if len(text) <= width else text[: width - 1] + "…"
        out.append(f"{text:{align}{width}}")
    return " ".join(out).rstrip()


def _wrapped(prefix: str, text: str) -> list[str]:
    return textwrap.wrap(
        text, WIDTH - 1, initial_indent=prefix, subsequent_indent=" " * len(prefix), break_on_hyphens=False
    )


def render(report) -> list[str]:
    """The report as lines of at most 79 characters."""
    lines = [f"routermon doctor: {report.api}"]
    for model, facts in report.facts.items():
        lines += _wrapped(
            "  ", f"{model}: requests built from {', '.join(facts) or 'defaults for an unknown model'}"
        )
    lines.append("")
    lines.append(_row("tier", "model", "task", "result", "latency", "in/out (think)", "cost"))
    for check in report.checks:
        result = "accepted" if check.accepted else ("refused" if (check.status or 0) < 500 else "failed")
        tokens = (
            f"{check.input_tokens}/{check.output_tokens} ({check.thinking_tokens})" if check.accepted else ""
        )
        cost = usd(check.cost_usd) if check.accepted else ""
        lines.append(
            _row(check.role, check.model, check.task, result, f"{check.latency_ms:.0f} ms", tokens, cost)
        )
        if not check.accepted:
            status = f"{check.status} " if check.status else ""
            lines += _wrapped("    ", f"{status}{check.error_type}: {check.message}")
        elif not check.answer_valid:
            lines += _wrapped("    ", f"accepted, but the answer is not usable: {check.message}")
    lines.append("")
    if report.rate_limits:
        lines.append("Rate limits (from the last response):")
        for name in ("requests", "tokens", "input-tokens", "output-tokens"):
            limit = report.rate_limits.get(f"anthropic-ratelimit-{name}-limit")
            if limit is None:
                continue
            left = report.rate_limits.get(f"anthropic-ratelimit-{name}-remaining", "?")
            reset = report.rate_limits.get(f"anthropic-ratelimit-{name}-reset", "?")
            left_text = count(int(left)) if left.isdigit() else left
            lines.append(f"  {name:<14} {left_text} of {count(int(limit))} left, resets {reset}")
    else:
        lines.append("No rate-limit headers came back.")
    refused = [c for c in report.checks if not c.accepted]
    tokens = sum(c.input_tokens + c.output_tokens for c in report.checks)
    thinking = sum(c.thinking_tokens for c in report.checks)
    summary = (
        f"{len(report.checks)} requests, {count(tokens)} tokens ({count(thinking)} thinking), "
        f"{usd(report.total_cost_usd)}. "
    )
    unusable = [c for c in report.checks if c.accepted and not c.answer_valid]
    if unusable:
        summary += f"{len(unusable)} accepted with an answer routing cannot use. "
    if refused:
        who = sorted({f"{c.model} ({c.role})" for c in refused})
        summary += f"{len(refused)} not accepted, by {', '.join(who)}."
    else:
        summary += "Every tier accepts every task's request."
    lines.append("")
    lines += _wrapped("", summary)
    return lines


def _confirmed(err: bool) -> bool:
    try:
        return click.confirm("Send them?", default=False, err=err)
    except click.Abort:  # no answer (stdin closed): nothing is sent
        return False


@click.command("doctor")
@stand_in_option
@click.option("--yes", "-y", is_flag=True, help="With a real key, send without asking first.")
@click.option(
    "--cheap", "cheap_model", default=None, help="Cheap model (default: the settings', else newest Haiku)."
)
@click.option(
    "--strong",
    "strong_model",
    default=None,
    help="Strong model (default: the settings', else newest Sonnet).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@db_option
@click.pass_context
def doctor_command(ctx, stand_in, yes, cheap_model, strong_model, as_json, db):
    """Check the cascade against the API: one request of each task's shape per tier.

    Reports each request accepted or refused (with the API's message), latency, tokens (thinking
    included), cost and the key's rate limits. Nothing is logged as traffic. With a real key it
    says what it may cost and asks first (--yes skips the question); --stand-in checks against
    the stand-in (ANTHROPIC_BASE_URL when set, else in-process). Exits 0 when every tier accepts,
    1 when one does not (or you decline), 2 for a user error (no key, unknown model).
    """
    from routermon.core.route.doctor import check_specs, doctor_router, estimated_cost_usd, run_doctor

    router, api, real = doctor_router(
        workspace(ctx, db), stand_in=stand_in, cheap_model=cheap_model, strong_model=strong_model
    )
    try:
        if real:
            n = len(router.tiers) * len(check_specs(router))
            echo(
                f"routermon doctor sends {n} small requests to {api}; they cost at most "
                f"{usd(estimated_cost_usd(router))} in all.",
                err=as_json,
            )
            if not yes and not _confirmed(as_json):
                echo("Nothing sent (--yes sends without asking).", err=True)
                ctx.exit(1)

        async def run():
            try:
                return await run_doctor(router, api)
            finally:
                await router.aclose()

        report = asyncio.run(run())
    finally:
        router.close()
    if as_json:
        echo(json_text(report.model_dump(mode="json")))
    else:
        echo("\n".join(render(report)))
    ctx.exit(0 if report.ok else 1)
