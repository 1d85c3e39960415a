"""Calling models: the cascade ``router``, its ``tasks``, the capability table (``models``) and the
requests built from it (``requests``), the SDK client, telemetry and ``doctor``.

Imports the shared basics and ``core.log``; what it needs from above (judging a pair) is passed in."""
