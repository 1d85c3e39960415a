"""The gateway: a Messages-API-compatible proxy any app reaches through ``ANTHROPIC_BASE_URL``,
logging every call into the call log.

Small modules, one job each: ``app`` (the ASGI app: paths, limits, the token), ``forward`` (one
pooled ``httpx2.AsyncClient`` to the upstream, bytes passed through as they arrive), ``sse`` (reads
usage and content from the bytes it forwards, never re-serialising them), ``taskkey`` (a request's
task) and ``record`` (a call as a log row). Imports the shared basics, ``core.log`` and
``core.route``; the workspace builds it (``Workspace.gateway``).
"""
