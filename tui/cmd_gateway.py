"""``routermon gateway``: the Messages API proxy an app reaches through ``ANTHROPIC_BASE_URL``."""

from __future__ import annotations

import ipaddress
import os

import click

from .echo import echo
from .options import SHARE, db_option, share_help, workspace

DEFAULT_UPSTREAM = "https://api.anthropic.com"  # the anthropic SDK's own default base URL


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("gateway")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback by default)."
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8787,
    show_default=True,
    help="Port (0 picks a free one).",
)
@click.option(
    "--upstream", default=None, help=f"The Messages API to forward to (default {DEFAULT_UPSTREAM})."
)
@click.option(
    "--stand-in", "stand_in", is_flag=True, help="Forward to the built-in stand-in API (no key needed)."
)
@click.option(
    "--token", default=None, help="Clients must send it as x-routermon-token (required off loopback)."
)
@click.option(
    "--shadow-share",
    type=SHARE,
    default=None,
    help=f"Share of each task's calls also sent to the other model ({share_help(5)}; "
    "default: the settings' [gateway] shadow_share).",
)
@db_option
@click.pass_context
def gateway_command(ctx, host, port, upstream, stand_in, token, shadow_share, db):
    """Serve a Messages-API-compatible gateway: apps set ANTHROPIC_BASE_URL to it and change nothing
    else; every /v1/messages call is forwarded unchanged (streams as they arrive) and logged.

    Serves POST /v1/messages, POST /v1/messages/count_tokens, GET /v1/models[/ID]; anything else is
    a 404. The client's API key goes upstream; a client that sends none gets ANTHROPIC_API_KEY of
    the gateway's environment. Keys are never logged. With --shadow-share, that share of the calls
    to the settings' cheap or strong model is sent again, in the background, to the other one and
    logged as a pair (free-text pairs judged by judge_model). Ctrl-C or SIGTERM stops it after the
    calls in flight and the queued shadow calls, with every row written.
    """
    import socket

    from routermon.core.errors import ConfigError

    try:
        import uvicorn
    except ImportError:
        raise ConfigError("The gateway needs its extra: pip install 'routermon[gateway]'.") from None
    if not _is_loopback(host) and not token:
        raise ConfigError(
            f"Listening on {host} (not loopback) needs --token: clients then send it as x-routermon-token."
        )
    if stand_in and upstream:
        raise ConfigError("Give either --upstream or --stand-in, not both.")
    ws = workspace(ctx, db)
    stop_stand_in = None
    if stand_in:
        upstream, stop_stand_in = ws.stand_in_server()
    upstream = upstream or DEFAULT_UPSTREAM
    try:
        sock = socket.create_server((host, port))
    except OSError as exc:
        raise ConfigError(
            f"{host}:{port} cannot be used ({exc.strerror}); pick another with --host/--port."
        ) from None
    judge = stand_in or bool(os.environ.get("ANTHROPIC_API_KEY"))
    app = ws.gateway(upstream_url=upstream, token=token, shadow_share=shadow_share, judge=judge)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    echo(f"routermon gateway on http://{shown}:{bound}, forwarding to {upstream}, logging to {ws.db_path}")
    echo(f"In the app's environment: export ANTHROPIC_BASE_URL=http://{shown}:{bound}")
    config = uvicorn.Config(
        app, lifespan="on", log_level="warning", access_log=False, timeout_graceful_shutdown=30
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        if stop_stand_in is not None:
            stop_stand_in()
    echo(
        f"Stopped: {app.calls_logged} calls logged"
        + (f", {app.log_failures} not logged" if app.log_failures else "")
        + "."
        + (_shadow_summary(app.shadow.counters) if app.shadow is not None else "")
    )


def _shadow_summary(counters) -> str:
    from routermon.core.formatting import usd

    dropped = f", {counters.dropped} dropped (queue full)" if counters.dropped else ""
    over = f", {counters.over_budget} over the day's budget" if counters.over_budget else ""
    return f" Shadowed: {counters.done} ({usd(counters.spent_usd)} today){dropped}{over}."
