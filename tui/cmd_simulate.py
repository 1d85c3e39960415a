"""``routermon simulate``: scenario traffic through the real router and the stand-in API."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from routermon.core.formatting import (
    count,
    day_span,
    escalation_basis,
    json_text,
    pct,
    plural,
    short_model,
    usd,
    usd_with_share,
)
from routermon.core.log.records import MODES

from .echo import echo
from .options import (
    REQUESTS,
    SHARE,
    THRESHOLD_HELP,
    db_option,
    seed_option,
    share_help,
    spend_progress,
    workspace,
)
from .text import console as console_for
from .text import literal

if TYPE_CHECKING:
    from rich.console import Console

    from routermon.core.simulate.simulator import SimulationProgress, SimulationSummary

LIVE_LINE_SECONDS = 5.0  # how often --live prints a line


@click.command("simulate")
@click.option(
    "--requests", "-n", "requests", type=REQUESTS, default=None, help="How many requests to simulate."
)
@click.option(
    "--scenario",
    "scenario_file",
    default=None,
    help="Scenario TOML file (default: the built-in field-report scenario).",
)
@click.option("--threshold", type=float, default=None, help=THRESHOLD_HELP)
@click.option("--mode", type=click.Choice(MODES), default="cascade", show_default=True)
@click.option(
    "--days", type=float, default=7.0, show_default=True, help="Spread the timestamps over the last D days."
)
@seed_option
@click.option(
    "--audit-share",
    type=SHARE,
    default=None,
    help=f"Share of cheap answers also sent to the strong model ({share_help(2)}).",
)
@click.option("--cheap", "cheap_model", default=None, help="Cheap model (default: newest Haiku).")
@click.option("--strong", "strong_model", default=None, help="Strong model (default: newest Sonnet).")
@click.option("--live", is_flag=True, help="Keep producing traffic, timestamped now, until Ctrl-C.")
@click.option("--rate", type=float, default=None, help="With --live: requests per second (default 2).")
@click.option("--duration", type=float, default=None, help="With --live: stop after this many seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (progress stays on stderr).")
@db_option
@click.pass_context
def simulate_command(
    ctx,
    requests,
    scenario_file,
    threshold,
    mode,
    days,
    seed,
    audit_share,
    cheap_model,
    strong_model,
    live,
    rate,
    duration,
    as_json,
    db,
):
    """Route simulated traffic through the real router and client against the stand-in API.

    Every call is logged like real traffic, with timestamps spread over the last --days days, so
    the monitor has history to show. Prints the requests, escalation share, spend and what a
    month at this rate would cost.
    """
    from routermon.core.errors import ConfigError
    from routermon.core.simulate.scenario import load_scenario
    from routermon.core.simulate.simulator import check_inputs, resolve_models

    ws = workspace(ctx, db)
    scenario = load_scenario(scenario_file)
    # The workspace builds the router and the stand-in: options given here win over the settings.
    common = dict(threshold=threshold, mode=mode, seed=seed, audit_share=audit_share, routers=ws)
    check = {k: common[k] for k in ("threshold", "mode", "audit_share")}
    common["cheap_model"], common["strong_model"] = resolve_models(
        *ws.models(cheap_model, strong_model), ws.prices
    )
    log_path = ws.db_path
    if live:
        if requests is not None:
            raise ConfigError(
                "Give either --requests (a batch) or --live --rate (continuous traffic), not both."
            )
        rate = 2.0 if rate is None else rate
        check_inputs(**check, rate=rate, duration=duration)
        summary = _run_live(scenario, common, rate=rate, duration=duration, db=log_path)
    else:
        if requests is None:
            raise ConfigError("Say how many requests to simulate with --requests N (or use --live --rate R).")
        if rate is not None or duration is not None:
            raise ConfigError("--rate and --duration go with --live.")
        check_inputs(**check, requests=requests, days=days)
        summary = _run_batch(scenario, common, requests=requests, days=days, db=log_path)
    if as_json:
        data = summary.model_dump(mode="json")
        data["escalation_share"] = summary.tally.escalation_share
        data["requests_per_second"] = summary.requests_per_second
        echo(json_text(data))
    else:
        print_summary(console_for(), summary, live=live)


def _run_batch(scenario, common, *, requests, days, db) -> SimulationSummary:
    from routermon.core.simulate.simulator import simulate

    console = console_for(stderr=True)
    with spend_progress("simulate", console) as bar:  # on stderr, so --json keeps stdout clean
        handle = bar.add_task("simulate", total=requests, spend=0.0)

        def advance(p: SimulationProgress) -> None:
            bar.update(handle, completed=p.done, spend=p.spend_usd)

        summary = simulate(scenario, requests=requests, db_path=db, days=days, progress=advance, **common)
        # The bar ends on the summary's spend (every logged call, audits included), so the two agree.
        bar.update(handle, spend=summary.tally.spend_usd)
        return summary


def _run_live(scenario, common, *, rate, duration, db) -> SimulationSummary:
    from routermon.core.simulate.simulator import simulate_live

    console = console_for(stderr=True)
    stop = threading.Event()
    latest: list[SimulationProgress | None] = [None]  # the newest progress, set by the worker thread
    outcome: dict = {}
    finished = threading.Event()  # waited on instead of join(): a join cut short by Ctrl-C can misreport

    def note(p: SimulationProgress) -> None:
        latest[0] = p

    def work() -> None:
        try:
            outcome["summary"] = simulate_live(
                scenario,
                rate=rate,
                db_path=db,
                stop_event=stop,
                duration=duration,
                progress=note,
                **common,
            )
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome["error"] = exc
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="routermon-simulate-live", daemon=True)
    worker.start()
    # A parent that runs this as a child process stops it with SIGTERM: finish and flush as for Ctrl-C.
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if _main_thread() else None
    console.print(
        f"Simulating {rate:g} requests/s into {db}"
        + (f" for {duration:g} s" if duration else "; Ctrl-C to stop")
        + "."
    )
    next_line = time.monotonic() + LIVE_LINE_SECONDS
    try:
        while not finished.wait(timeout=0.2):
            if time.monotonic() >= next_line and latest[0] is not None:
                console.print(_live_line(latest[0], common["mode"]))
                next_line += LIVE_LINE_SECONDS
    except KeyboardInterrupt:
        console.print("Stopping: finishing the requests in flight.")
        stop.set()
        finished.wait()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"]


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _live_line(p: SimulationProgress, mode: str) -> str:
    """One progress line; a shadow run's escalations are the policy's would-be ones, not escalations."""
    stamp = datetime.now().strftime("%H:%M:%S")
    share = pct(p.escalated / max(1, p.done - p.failed))
    escalation = f"the policy would escalate {share}" if mode == "shadow" else f"{share} escalated"
    return (
        f"{stamp}  {plural(p.done, 'request')} ({p.done / max(p.elapsed_s, 1e-9):.1f}/s), "
        f"{escalation}, {count(p.failed)} failed, {usd(p.spend_usd)}"
    )


def print_summary(console: Console, summary: SimulationSummary, *, live: bool = False) -> None:
    """The run, per task, and the month at this rate, as three tables."""
    from .tables import Column, fitted_table

    t = summary.tally
    window = (
        f"{summary.wall_seconds:.0f} s of live traffic"
        if live
        else f"{day_span(summary.days)} ending {datetime.fromtimestamp(summary.until, UTC):%Y-%m-%d %H:%M} UTC"
    )
    width = console.width
    run_rows = [
        [
            "requests",
            count(t.requests) + (f" ({count(t.failed)} failed on every tier)" if t.failed else ""),
        ],
        [
            "escalation share",
            f"{pct(t.escalation_share)} {escalation_basis(t.cascade_requests, t.shadow_requests)}",
        ],
        [
            "calls",
            f"{count(t.calls)} ({plural(t.errors, 'error or unusable reply', 'errors or unusable replies')})",
        ],
        ["spend", usd(t.spend_usd)],
        ["models", f"{short_model(summary.cheap_model)} -> {short_model(summary.strong_model)}"],
        ["timestamps", window],
        ["log", literal(summary.db_path)],
        ["speed", f"{count(summary.requests_per_second)} requests/s (seed {summary.seed})"],
    ]
    run_columns = [Column("", style="bold"), Column("", keep=False)]
    title = f"Simulation: {summary.scenario} ({summary.mode}, threshold {summary.threshold:g})"
    console.print(fitted_table(run_columns, run_rows, width, title=title)[0])

    names = ("task", "requests", "cheap share", "escalation share", "cheap accuracy", "spend")
    task_columns = [
        Column(name, keep=name != "task", justify="left" if name == "task" else "right") for name in names
    ]
    task_rows = [
        [
            literal(task.task),
            count(task.requests),
            pct(task.cheap_share),
            pct(task.escalation_share),
            pct(task.cheap_accuracy),
            usd(task.spend_usd),
        ]
        for task in t.per_task
    ]
    console.print(fitted_table(task_columns, task_rows, width, title="Per task")[0])

    p = summary.projection
    month_rows = [
        ["always strong", usd(p.always_strong_usd)],
        ["always cheap", usd(p.always_cheap_usd)],
        ["cascade (cheap call on every request)", usd(p.cascade_usd)],
    ]
    if p.audit_usd:
        month_rows.append(["  of which audits", usd(p.audit_usd)])
    month_rows += [
        ["savings vs always strong", usd_with_share(p.savings_usd, p.savings_share)],
        ["simple split (ignores the wasted cheap call)", usd(p.simple_split_usd)],
    ]
    month_columns = [Column("", keep=False, style="bold"), Column("USD / month", justify="right")]
    month_title = f"A month at this rate: {plural(summary.monthly_requests, 'request')}"
    console.print(fitted_table(month_columns, month_rows, width, title=month_title)[0])
    for note in p.notes:
        console.print(literal(note, "dim"))
