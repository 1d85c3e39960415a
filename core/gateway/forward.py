"""The upstream: one pooled ``httpx2.AsyncClient`` (the HTTP client the ``anthropic`` SDK uses;
HTTP/1.1 keep-alive), and which headers cross in each direction.

The client's credentials (``x-api-key``, ``Authorization``), ``anthropic-version`` and
``anthropic-beta`` go upstream unchanged; hop-by-hop headers and routermon's own ``x-routermon-*``
do not. The upstream is asked for identity encoding, so the bytes the gateway reads are the bytes
the client gets.
"""

from __future__ import annotations

import json

import httpx2

# Hop-by-hop (RFC 9110 section 7.6.1) and what the gateway sets itself.
_NOT_FORWARDED = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
     "proxy-authorization", "proxy-authenticate", "proxy-connection", "accept-encoding"}
)  # fmt: skip
_NOT_RETURNED = frozenset({"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"})
OWN_PREFIX = "x-routermon-"
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 600.0  # a long generation streams for minutes; the SDK's own default is 10 minutes


def upstream_client(base_url: str, transport: httpx2.AsyncBaseTransport | None = None) -> httpx2.AsyncClient:
    """The one pooled client every forwarded request goes through."""
    return httpx2.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=httpx2.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S),
        limits=httpx2.Limits(max_connections=256, max_keepalive_connections=64),
        follow_redirects=False,
    )


def request_headers(raw: list[tuple[bytes, bytes]], api_key: str | None) -> list[tuple[str, str]]:
    """The client's headers as they go upstream; ``api_key`` is added only when the client sent none."""
    out: list[tuple[str, str]] = []
    has_key = False
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        if name in _NOT_FORWARDED or name.startswith(OWN_PREFIX):
            continue
        has_key = has_key or name in ("x-api-key", "authorization")
        out.append((name, value_b.decode("latin-1")))
    if not has_key and api_key:
        out.append(("x-api-key", api_key))
    out.append(("accept-encoding", "identity"))
    return out


def response_headers(response: httpx2.Response) -> list[tuple[bytes, bytes]]:
    """The upstream's headers as the client gets them (``request-id``, rate limits, ``retry-after``...)."""
    return [(k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in _NOT_RETURNED]


def error_body(status: int, error_type: str, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """An Anthropic-shaped error (https://docs.anthropic.com/en/api/errors) from the gateway itself."""
    body = json.dumps({"type": "error", "error": {"type": error_type, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return status, headers, body
