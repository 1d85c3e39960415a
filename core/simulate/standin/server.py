"""The loopback HTTP server behind ``routermon stand-in``: any client reaches a ``StandInAPI``
through ``ANTHROPIC_BASE_URL``.
"""

from __future__ import annotations

import errno
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from .connections import ConnectionBounds
from .wire import Disconnect, TimedOut, error

if TYPE_CHECKING:
    from .api import StandInAPI


# The listen backlog: socketserver's default of 5 reset 4.5% of 50 concurrent clients' connections.
BACKLOG = 128
# How long a connection may sit without sending a byte: a slow or silent client cannot hold a thread.
SOCKET_TIMEOUT_S = 30.0
# The Messages API's request size limit (32 MB, https://platform.claude.com/docs/en/api/errors: 413).
MAX_BODY_BYTES = 32 * 1024 * 1024
# Connections held at once (each holds a thread and a descriptor); see connections.py for what
# happens at the cap. Kept under half the process's descriptor limit.
MAX_CONNECTIONS = 256
# Seconds a connection has to send a whole request (headers and body), however it trickles bytes.
REQUEST_DEADLINE_S = 60.0
# Request-body bytes in memory at once: two bodies of the largest size the API takes.
MAX_BYTES_IN_FLIGHT = 2 * MAX_BODY_BYTES
# How long the accept loop rests when the process is out of descriptors (instead of spinning).
ACCEPT_BACKOFF_S = 0.1


def _descriptor_cap(wanted: int) -> int:
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):
        return wanted
    return wanted if soft == resource.RLIM_INFINITY else max(1, min(wanted, soft // 2))


def _overloaded_bytes() -> bytes:
    status, headers, payload, _ = error(529, "overloaded_error", "Overloaded")
    head = [f"HTTP/1.1 {status} Overloaded", *(f"{k}: {v}" for k, v in headers.items())]
    head += [f"content-length: {len(payload)}", "connection: close", "", ""]
    return "\r\n".join(head).encode() + payload


class _Server(ThreadingHTTPServer):
    request_queue_size = BACKLOG
    daemon_threads = True
    bounds: ConnectionBounds

    def get_request(self):
        try:
            return super().get_request()
        except OSError as exc:
            # Out of descriptors: the listening socket stays readable, so without a rest the
            # accept loop would spin at full CPU until one frees.
            if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                time.sleep(ACCEPT_BACKOFF_S)
            raise

    def process_request(self, request, client_address) -> None:
        if not self.bounds.admit(request):
            self._refuse(request)
            return
        super().process_request(request, client_address)

    def _refuse(self, request) -> None:
        """A 529 and a closed socket, written from the accept loop without waiting on the client."""
        try:
            request.setblocking(False)
            request.send(_overloaded_bytes())
            request.recv(65536)  # what the client sent already: closing on unread bytes resets the answer
        except OSError:
            pass
        self.shutdown_request(request)

    def shutdown_request(self, request) -> None:
        self.bounds.release(request)
        super().shutdown_request(request)

    def server_close(self) -> None:
        bounds = getattr(self, "bounds", None)  # absent when binding failed inside __init__
        if bounds is not None:
            bounds.stop()
        super().server_close()

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

    def handle_one_request(self) -> None:
        self.server.bounds.reading(self.connection)  # type: ignore[attr-defined]
        super().handle_one_request()

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
        bounds: ConnectionBounds = self.server.bounds  # type: ignore[attr-defined]
        if not bounds.reserve(length):
            self.close_connection = True  # the body stays unread: the stream cannot be reused
            self._send_error(529, "overloaded_error", "Overloaded")
            return
        try:
            self._read_and_answer(method, length, bounds)
        finally:
            bounds.free(length)

    def _read_and_answer(self, method: str, length: int, bounds: ConnectionBounds) -> None:
        try:
            body = self.rfile.read(length)
        except TimeoutError:  # the client stopped sending mid-body: drop it, free the thread
            self.close_connection = True
            return
        if len(body) < length:  # cut off at its deadline, or the client hung up
            self.close_connection = True
            return
        bounds.answering(self.connection)
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
    max_connections: int = MAX_CONNECTIONS,
    request_deadline_s: float = REQUEST_DEADLINE_S,
    max_bytes_in_flight: int = MAX_BYTES_IN_FLIGHT,
) -> ThreadingHTTPServer:
    """A loopback HTTP server for ``api`` (``port=0`` picks a free port: see ``server.server_address``).

    ``socket_timeout``: seconds a connection may stay silent (mid-request or idle between requests)
    before the server closes it. ``max_connections``, ``request_deadline_s`` and
    ``max_bytes_in_flight``: the bounds of ``connections.ConnectionBounds``.
    """
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the stand-in API only listens on loopback")
    handler = type("StandInHandler", (_Handler,), {"api": api, "timeout": socket_timeout})
    server = _Server((host, port), handler)
    server.bounds = ConnectionBounds(
        _descriptor_cap(max_connections), request_deadline_s, max_bytes_in_flight
    )
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
