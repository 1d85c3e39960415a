"""Records that cross module boundaries: one logged model call, and a routed result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["cheap", "strong", "shadow", "audit", "judge"]
Mode = Literal["cascade", "shadow", "import", "judge"]
MODES: tuple[str, ...] = ("cascade", "shadow")  # the modes a router runs in ("import" is for pairs)
# ``api_error``: an API error after the SDK's retries, at any tier (logs before it say ``cheap_error``).
EscalationReason = Literal["low_confidence", "invalid_output", "refusal", "api_error", "cheap_error"]
ESCALATION_REASONS: tuple[str, ...] = (
    "low_confidence",
    "invalid_output",
    "refusal",
    "api_error",
    "cheap_error",
)

# A judge call is a row of its own: role and mode ``judge``, tier 0, the ``request_id`` of the pair
# it judged; ``answer`` is ``{"verdict": <JUDGE_VERDICTS>, "cheap_first": <bool>}`` (which answer the
# judge was shown first) and ``confidence`` the judge's. Traffic figures leave judge rows out: they
# are the cost of measuring, not of serving.
JUDGE_ROLE = JUDGE_MODE = "judge"
# What the judge says of a pair: the cheap answer is acceptable, the strong one is better, both fail.
JUDGE_VERDICTS: tuple[str, ...] = ("cheap_acceptable", "strong_better", "both_fail")
# What a human says of a pair: which answer was right.
HUMAN_LABELS: tuple[str, ...] = ("cheap", "strong", "both", "neither")
# Where a pair's correctness comes from, strongest first (``Pair.correct_source``); ``failure``: the
# cheap call gave no answer, so it was wrong.
CORRECT_SOURCES: tuple[str, ...] = ("human", "failure", "reference", "judge", "fields", "exact")

# Column order of the ``calls`` table after ``id``; the writer inserts tuples in this order.
CALL_COLUMNS: tuple[str, ...] = (
    "ts",
    "request_id",
    "task",
    "mode",
    "source",
    "model",
    "role",
    "tier",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "latency_ms",
    "confidence",
    "answer",
    "escalated",
    "escalation_reason",
    "error_type",
    "final",
    "input_sha256",
    "input_preview",
    "reference",
    "correct",
    "dedup_key",
    "thinking_tokens",
    "threshold",
    "audit_share",
    "requested_model",
    "ttft_ms",
    "stop_reason",
    "http_status",
)


def call_row(
    *,
    ts,
    request_id,
    task,
    mode,
    source,
    model,
    role,
    tier,
    input_tokens,
    output_tokens,
    cache_read_tokens,
    cache_write_tokens,
    cost_usd,
    latency_ms,
    confidence,
    answer,
    escalated,
    escalation_reason,
    error_type,
    final,
    input_sha256,
    input_preview,
    reference,
    correct,
    dedup_key,
    thinking_tokens,
    threshold,
    audit_share,
    requested_model=None,
    ttft_ms=None,
    stop_reason=None,
    http_status=None,
) -> tuple:
    """One ``calls`` row, each value named by its column, as the writer's tuple in ``CALL_COLUMNS``
    order: the one place a row is put in order without building a ``CallRecord`` (the router makes
    one per model call). Flags come as ints: sqlite3 binds an exact int directly but sends a bool
    through its adapter lookup. ``tests/test_call_row.py`` checks the order against the list."""
    return (
        ts,
        request_id,
        task,
        mode,
        source,
        model,
        role,
        tier,
        input_tokens,
        output_tokens,
        cache_read_tokens,
        cache_write_tokens,
        cost_usd,
        latency_ms,
        confidence,
        answer,
        escalated,
        escalation_reason,
        error_type,
        final,
        input_sha256,
        input_preview,
        reference,
        correct,
        dedup_key,
        thinking_tokens,
        threshold,
        audit_share,
        requested_model,
        ttft_ms,
        stop_reason,
        http_status,
    )


class CallRecord(BaseModel):
    """One model call, as written to the ``calls`` table.

    A routed request logs one row per model it called, all with the same ``request_id``.
    The row with ``tier == 0`` is the request's first (cheap) call, so counting those rows
    counts requests. ``escalated`` on a row means this call's outcome sent the request on to
    the next tier, for ``escalation_reason``. ``final`` marks the call whose answer was returned.
    """

    model_config = ConfigDict(frozen=True)

    ts: float
    request_id: str
    task: str
    mode: str = "cascade"
    source: str = "live"
    model: str
    role: str
    tier: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = None
    latency_ms: float = 0.0
    confidence: float | None = None
    answer: str | None = None
    escalated: bool = False
    escalation_reason: str | None = None
    error_type: str | None = None
    final: bool = False
    input_sha256: str = ""
    input_preview: str | None = None
    reference: str | None = None
    correct: bool | None = None
    dedup_key: str | None = None
    thinking_tokens: int | None = 0  # part of output_tokens; None: not reported
    threshold: float | None = None  # the confidence this tier's answer had to meet (the routing policy)
    audit_share: float | None = None  # the audit share in force (cascade requests)
    # Calls made through the gateway (``core/gateway``): what the app asked for and how the API answered.
    requested_model: str | None = None  # the model the app asked for (``model`` is the one that answered)
    ttft_ms: float | None = None  # time to the first content of a stream
    stop_reason: str | None = None
    http_status: int | None = None

    def as_row(self) -> tuple:
        """The record as a tuple in ``CALL_COLUMNS`` order."""
        d = self.__dict__
        # Flags as ints: sqlite3 binds an exact int directly, a bool only through its adapter lookup.
        return tuple(int(v) if v.__class__ is bool else v for v in (d[c] for c in CALL_COLUMNS))


class CallRow(CallRecord):
    """A logged call read back, with its row id."""

    id: int


class HumanLabel(BaseModel):
    """A person's verdict on one pair (a row of the ``labels`` table; the latest per request counts)."""

    request_id: str
    label: Literal["cheap", "strong", "both", "neither"]
    labeller: str = ""
    ts: float = 0.0
    source: str = "review"  # review (the app) | cli (routermon label) | import-labels | import


class CallOutcome(BaseModel):
    """What one tier's call produced, as carried in a ``RouteResult``."""

    model: str
    role: str
    tier: int
    answer: Any = None
    confidence: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    thinking_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    escalation_reason: str | None = None
    error_type: str | None = None
    error_detail: str | None = None


class RouteResult(BaseModel):
    """The answer to one routed request, and how it was reached.

    ``degraded``: the answer came from a lower tier because a higher tier it escalated to failed;
    ``degraded_reason`` says which and why. ``thinking_tokens`` is part of ``output_tokens``.
    """

    request_id: str
    task: str
    mode: str
    answer: Any
    confidence: float | None
    model: str
    tier: int
    escalated: bool
    escalation_reason: str | None
    escalation_reasons: list[str]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    latency_ms: float
    calls: list[CallOutcome]
    thinking_tokens: int = 0
    degraded: bool = False
    degraded_reason: str | None = None
