"""The loopback HTTP server behind ``routermon stand-in``: any client reaches a ``StandInAPI``
through ``ANTHROPIC_BASE_URL``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .wire import Disconnect, TimedOut, error

if TYPE_CHECKING:
    from .api import StandInAPI


# The listen backlog: socketserver's default of 5 reset 4.5% of 50 concurrent clients' connections.
BACKLOG = 128
# How long a connection may sit without sending a byte: a slow or silent client cannot hold a thread.
SOCKET_TIMEOUT_S = 30.0
# The Messages API's request size limit (32 MB, https://platform.claude.com/docs/en/api/errors: 413).
MAX_BODY_BYTES = 32 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client that hangs up or times out mid-request is ordinary traffic, not a server fault:
        # no traceback on the terminal running `routermon stand-in`. Anything else still reports.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    api: StandInAPI
    protocol_version = "HTTP/1.1"
    timeout = (
        SOCKET_TIMEOUT_S  # StreamRequestHandler sets it on the socket; a read past it ends the connection
    )

    def _send_error(self, status: int, error_type: str, message: str) -> None:
        status, headers, payload, _ = error(status, error_type, message)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("POST")

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def _serve(self, method: str) -> None:
        raw_length = (self.headers.get("content-length") or "0").strip()
        try:
            length = int(raw_length) if raw_length.isdigit() else -1
        except ValueError:
            length = -1
        if length < 0:
            # A JSON error, not a dropped connection and a traceback; the rest of the stream is unknown.
            self.close_connection = True
            self._send_error(
                400, "invalid_request_error", f"Content-Length {raw_length[:40]!r} is not a byte count."
            )
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_error(
                413, "request_too_large", f"Request exceeds the maximum size of {MAX_BODY_BYTES} bytes."
            )
            return
        try:
            body = self.rfile.read(length)
        except TimeoutError:  # the client stopped sending mid-body: drop it, free the thread
            self.close_connection = True
            return
        try:
            status, headers, payload, latency = self.api.handle(method, self.path, body, self.headers)
        except TimedOut:
            threading.Event().wait(self.api.timeout_s)
            self.close_connection = True
            return
        except Disconnect:
            self.close_connection = True
            self.connection.close()
            return
        if latency > 0 and self.api.time_scale > 0:
            threading.Event().wait(latency * self.api.time_scale)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)


def make_server(
    api: StandInAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    verbose: bool = False,
    socket_timeout: float = SOCKET_TIMEOUT_S,
) -> ThreadingHTTPServer:
    """A loopback HTTP server for ``api`` (``port=0`` picks a free port: see ``server.server_address``).

    ``socket_timeout``: seconds a connection may stay silent (mid-request or idle between requests)
    before the server closes it.
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the stand-in API only listens on loopback")
    handler = type("StandInHandler", (_Handler,), {"api": api, "timeout": socket_timeout})
    server = _Server((host, port), handler)
    server.verbose = verbose  # type: ignore[attr-defined]
    return server


def serve_in_thread(api: StandInAPI, port: int = 0) -> tuple[ThreadingHTTPServer, Callable[[], None]]:
    """Start a loopback server in a daemon thread; returns it and a function that stops it."""
    server = make_server(api, port=port)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="routermon-stand-in")
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return server, stop
