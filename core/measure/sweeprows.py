"""A sweep's rows: the cascade at one threshold, and one model alone. Read by the analysis that
makes them and the guarantee that chooses among them, below both."""

from __future__ import annotations

from pydantic import BaseModel


class SweepRow(BaseModel):
    """The cascade's outcome at one threshold (escalate when confidence < ``threshold``)."""

    threshold: float
    requests: int
    escalated: int
    escalation_share: float
    correct: int
    accuracy: float
    accuracy_low: float
    accuracy_high: float
    cost_per_request_usd: float | None
    cost_per_1k_requests_usd: float | None
    cost_vs_strong: float | None  # cost as a share of sending every request to the strong model


class Baseline(BaseModel):
    """One model answering every request alone."""

    name: str  # cheap_only | strong_only
    requests: int
    correct: int
    accuracy: float
    accuracy_low: float
    accuracy_high: float
    cost_per_request_usd: float | None
    cost_per_1k_requests_usd: float | None
    cost_vs_strong: float | None
