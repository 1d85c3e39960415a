"""``routermon doctor``: check the configured cascade against the API it will use.

For each tier, one minimal request of each built-in task's shape (classify, extract, summarize),
built by the router's own ``request_kwargs`` (so exactly what routing sends), through the same
client. Each is reported accepted or refused (with the API's status and message), with its
latency, tokens (thinking included), cost from the price book, and the answer's validity; the
last response's ``anthropic-ratelimit-*`` headers are the key's rate limits. Nothing is written
to the call log: a doctor run is not traffic.
"""

from __future__ import annotations

import json
import time
from typing import Any

import anthropic
from pydantic import BaseModel

from ..text import sha256_text
from .router import Router

CHECK_TEXTS = {
    "classify": "The parcel arrived on time and intact.",
    "extract": "Invoice INV-7 from Acme Ltd, total 42.50 EUR.",
    "summarize": "The meeting moved the launch to May; marketing needs the copy by April 20.",
}
CHECK_LABELS = ["positive", "negative"]


class CheckFields(BaseModel):
    """The fields the extract check asks for."""

    vendor: str
    total: float


class Check(BaseModel):
    """One tier's answer to one task's request."""

    tier: int
    role: str  # cheap | strong (the last tier)
    model: str
    task: str
    accepted: bool
    status: int | None = None  # the HTTP status of a refusal or error
    error_type: str | None = None  # the API's error type, or the answer's problem when accepted
    message: str | None = None  # the API's message, or why the answer is not usable
    answer_valid: bool = False
    latency_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0  # thinking tokens included
    thinking_tokens: int = 0
    cost_usd: float = 0.0
    request_id: str | None = None


class DoctorReport(BaseModel):
    """Every check, the rate limits the API reported, and the totals."""

    api: str
    facts: dict[str, list[str]]  # per model, where its capability facts came from
    checks: list[Check]
    rate_limits: dict[str, str]
    total_cost_usd: float
    ok: bool  # every tier accepted every request


def check_specs(router: Router) -> list[tuple[str, Any, str]]:
    """``(task, spec, text)`` for each built-in task's minimal request."""
    return [
        ("classify", router.task("classify", labels=CHECK_LABELS), CHECK_TEXTS["classify"]),
        ("extract", router.task("extract", fields=CheckFields), CHECK_TEXTS["extract"]),
        ("summarize", router.task("summarize"), CHECK_TEXTS["summarize"]),
    ]


def estimated_cost_usd(router: Router) -> float:
    """At most what a doctor run costs: each request's input (about four characters a token) and
    its whole ``max_tokens`` as output, at the tier model's prices."""
    total = 0.0
    for tier, model in enumerate(t.model for t in router.tiers):
        rates = router.prices.rates(model)
        for _, spec, text in check_specs(router):
            kwargs = router.request_kwargs(spec, text, sha256_text(text), tier)
            kwargs.pop("extra_headers", None)
            input_tokens = len(json.dumps(kwargs)) // 4 + 10
            total += rates.cost(input_tokens, spec.max_tokens)
    return total


def _api_message(exc: anthropic.APIError) -> tuple[int | None, str | None, str]:
    body = getattr(exc, "body", None)
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return getattr(exc, "status_code", None), error.get("type"), str(error.get("message"))
    return getattr(exc, "status_code", None), type(exc).__name__, str(exc)[:300]


async def _check(router: Router, tier: int, task: str, spec: Any, text: str) -> tuple[Check, Any]:
    model = router.tiers[tier].model
    role = "strong" if tier == len(router.tiers) - 1 else "cheap"
    base = {"tier": tier, "role": role, "model": model, "task": task}
    kwargs = router.request_kwargs(spec, text, sha256_text(text), tier)
    start = time.perf_counter()
    try:
        raw = await router.client.messages.with_raw_response.create(**kwargs)
        message = await raw.parse()
    except anthropic.APIError as exc:
        latency = (time.perf_counter() - start) * 1000.0
        status, error_type, message_text = _api_message(exc)
        response = getattr(exc, "response", None)
        headers = response.headers if response is not None else {}
        check = Check(
            **base,
            accepted=False,
            status=status,
            error_type=error_type,
            message=message_text,
            latency_ms=latency,
            request_id=headers.get("request-id"),
        )
        return check, headers
    latency = (time.perf_counter() - start) * 1000.0
    out = router.outcome(spec, message, tier)
    tokens = out["tokens"]
    check = Check(
        **base,
        accepted=True,
        error_type=out["error_type"],
        message=out["error_detail"],
        answer_valid=out["error_type"] is None,
        latency_ms=latency,
        input_tokens=tokens[0] + tokens[2] + tokens[3],
        output_tokens=tokens[1],
        thinking_tokens=out["thinking_tokens"],
        cost_usd=out["cost_usd"],
        request_id=raw.headers.get("request-id"),
    )
    return check, raw.headers


async def run_doctor(router: Router, api: str) -> DoctorReport:
    """Send each tier one request of each task's shape, one after another, and report."""
    checks: list[Check] = []
    rate_limits: dict[str, str] = {}
    for tier in range(len(router.tiers)):
        for task, spec, text in check_specs(router):
            check, headers = await _check(router, tier, task, spec, text)
            checks.append(check)
            limits = {k: v for k, v in headers.items() if k.lower().startswith("anthropic-ratelimit-")}
            rate_limits = limits or rate_limits  # the latest response that carried them
    facts = {}
    for tier in router.tiers:
        sources = router.models.get(tier.model).sources
        facts[tier.model] = [
            label
            for label, present in (
                ("bundled table", any(src.startswith("http") for src in sources)),
                ("Models API", "models-api" in sources),
                ("settings", "settings" in sources),
            )
            if present
        ]
    return DoctorReport(
        api=api,
        facts=facts,
        checks=checks,
        rate_limits=dict(sorted(rate_limits.items())),
        total_cost_usd=sum(c.cost_usd for c in checks),
        ok=all(c.accepted for c in checks),
    )


def doctor_router(
    workspace: Any, *, stand_in: bool, cheap_model: str | None = None, strong_model: str | None = None
) -> tuple[Router, str, bool]:
    """The cascade a doctor run checks, logging nothing: ``(router, which API, real)``.

    ``stand_in``: the stand-in at ``ANTHROPIC_BASE_URL`` when it is set (``routermon stand-in``),
    else the in-process one. Otherwise the real API, which needs ``ANTHROPIC_API_KEY``. A model
    the capability table does not know (nor the Models API reports) is a ``ConfigError``.
    """
    import os

    from ..errors import ConfigError

    base_url = os.environ.get("ANTHROPIC_BASE_URL")
    models = {"cheap_model": cheap_model, "strong_model": strong_model, "log": False}
    if stand_in and base_url:
        key = os.environ.get("ANTHROPIC_API_KEY") or "stand-in"
        client = anthropic.AsyncAnthropic(api_key=key, base_url=base_url, max_retries=0)
        router, api, real = workspace.router(client=client, **models), f"the stand-in at {base_url}", False
    elif stand_in:
        router, api, real = workspace.router(stand_in=True, **models), "the stand-in (in-process)", False
    else:
        if not os.environ.get("ANTHROPIC_API_KEY"):
            raise ConfigError(
                "ANTHROPIC_API_KEY is not set; set it to check the real API, or use --stand-in."
            )
        router = workspace.router(**models)
        api, real = (f"the API at {base_url}" if base_url else "the real API"), True
    for tier in router.tiers:
        if not router.models.get(tier.model).known:
            router.close()
            raise ConfigError(
                f"Unknown model {tier.model!r}: not in routermon's capability table"
                + (" nor reported by the Models API" if real else "")
                + f'; add a [models."{tier.model}"] settings entry or pick another model.'
            )
    return router, api, real
