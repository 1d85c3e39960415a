"""``routermon stand-in`` (formerly ``fake-api``, still accepted): serve the stand-in Messages API on loopback."""

from __future__ import annotations

import sys

import click

from .echo import echo
from .options import TIME_SCALE


@click.command("stand-in")
@click.option("--port", type=int, default=8765, show_default=True, help="Loopback port (0 picks a free one).")
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Scenario TOML (default: the built-in field-report scenario).",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--time-scale",
    type=TIME_SCALE,
    default=1.0,
    show_default=True,
    help="Multiply simulated latencies by this (0 answers at once).",
)
@click.option("--verbose", is_flag=True, help="Log every request.")
@click.option(
    "--record",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="Keep the last N request bodies in memory (off by default).",
)
@click.pass_context
def stand_in_command(ctx, port, scenario_path, seed, time_scale, verbose, record):
    """Serve the stand-in Messages API on loopback (``fake-api`` is the old name of this command).

    It answers POST /v1/messages (streamed as server-sent events with "stream": true) and the
    Models API (GET /v1/models, GET /v1/models/{id}); request bodies are not kept unless --record.
    """
    from routermon.core.errors import ConfigError
    from routermon.core.simulate.scenario import load_scenario
    from routermon.core.simulate.standin import make_server

    from .options import workspace

    # Built by the workspace: it answers from the capability table with the settings' [models].
    api = workspace(ctx).stand_in_api(
        scenario=load_scenario(scenario_path),
        seed=seed,
        time_scale=time_scale,
        record_requests=record > 0,
        record_limit=record,
    )
    try:
        server = make_server(api, port=port, verbose=verbose)
    except OSError as exc:
        raise ConfigError(f"Port {port} cannot be used ({exc.strerror}); pick another with --port.") from None
    except OverflowError:
        raise ConfigError(
            f"Port {port} is not a port number (0 to 65535); pick another with --port."
        ) from None
    host, bound = server.server_address[:2]
    echo(f"Stand-in Messages API on http://{host}:{bound} — export ANTHROPIC_BASE_URL=http://{host}:{bound}")
    echo("Any API key is accepted. Ctrl-C stops it.")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        # Stopped by Ctrl-C, like every other command: one line and exit 130 (128 + SIGINT), so a
        # script can tell an interrupt from a clean end.
        raise
    finally:
        server.server_close()
