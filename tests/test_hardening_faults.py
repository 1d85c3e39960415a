"""Hardening, faults: 30% of API attempts fail (429 with retry-after, 500, 529, timeouts, resets,
malformed replies) across 2,000 routed requests, and the log still matches every response exactly.

The stand-in API and the SDK's retry back-off run on a ``VirtualClock``, so nothing sleeps.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict

import pytest

from routermon.core.clock import VirtualClock
from routermon.core.errors import RouteFailedError
from routermon.core.log.reader import LogReader
from routermon.core.log.records import ESCALATION_REASONS, RouteResult
from routermon.core.route.router import Router
from routermon.core.simulate.scenario import ErrorRates, ModelProfile, load_scenario
from routermon.core.simulate.standin import StandInAPI

pytestmark = pytest.mark.slow  # in the normal run; `-m 'not slow'` skips it locally

CHEAP = "claude-haiku-4-5"
STRONG = "claude-sonnet-4-6"
LABELS = ["safe", "unsafe", "review-needed"]
REQUESTS = 2_000
CONCURRENCY = 16

# 30% of HTTP attempts fail, on both models; refusals stay off (they are not faults).
FAULTS = ErrorRates(
    rate_limited=0.06, server_error=0.05, overloaded=0.05, timeout=0.05, connection_reset=0.05, malformed=0.04
)
ERROR_TYPES = {
    "rate_limited",
    "server_error",
    "overloaded",
    "timeout",
    "connection_error",
    "malformed_response",
    "invalid_output",
}


def faulty_api(seed: int, clock: VirtualClock) -> StandInAPI:
    scenario = load_scenario().model_copy(
        update={
            "models": [
                ModelProfile(match=["haiku"], tier="cheap", errors=FAULTS),
                ModelProfile(match=["sonnet", "opus"], tier="strong", errors=FAULTS),
            ]
        }
    )
    return StandInAPI(scenario=scenario, seed=seed, clock=clock, record_requests=False)


async def route_all(router: Router, texts: list[str]) -> list[RouteResult | RouteFailedError]:
    """Route every text; anything but a result or the documented error fails the test."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(text: str) -> RouteResult | RouteFailedError:
        async with gate:
            try:
                return await router.route("classify", text, labels=LABELS)
            except RouteFailedError as exc:
                return exc

    return await asyncio.gather(*(one(t) for t in texts))


def rows_by_request(db) -> dict[str, list]:
    by_request: dict[str, list] = defaultdict(list)
    with LogReader(db) as reader:
        for row in reader.iter_calls():
            by_request[row.request_id].append(row)
    for rows in by_request.values():
        rows.sort(key=lambda r: (r.tier, r.id))
    return by_request


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory):
    """2,000 cascade requests through a stand-in that fails 30% of attempts (run once for the module)."""
    db = tmp_path_factory.mktemp("faults") / "calls.db"
    clock = VirtualClock(1_750_000_000.0)
    api = faulty_api(seed=6, clock=clock)
    texts = [
        f"message {i}: please review order {i * 7919 % 10007} for policy issues" for i in range(REQUESTS)
    ]

    async def run():
        router = Router(CHEAP, STRONG, 0.7, client=api.client(max_retries=2), log=db, clock=clock, seed=6)
        try:
            return await route_all(router, texts)
        finally:
            await router.aclose()

    outcomes = asyncio.run(run())
    return api, db, outcomes


def test_every_request_returns_an_answer_or_the_documented_error(faulty_run):
    api, _, outcomes = faulty_run
    assert len(outcomes) == REQUESTS
    assert all(isinstance(o, RouteResult | RouteFailedError) for o in outcomes)
    results = [o for o in outcomes if isinstance(o, RouteResult)]
    failures = [o for o in outcomes if isinstance(o, RouteFailedError)]
    # The faults really happened: escalations for errors, and some requests where both tiers failed.
    assert Counter(r.escalation_reason for r in results)["api_error"] > 20
    assert Counter(r.escalation_reason for r in results)["invalid_output"] > 5
    assert 1 <= len(failures) < 100
    for failure in failures:
        assert [model for model, _, _ in failure.failures] == [CHEAP, STRONG]
        assert failure.request_id in str(failure)
    assert api.internal_errors == []


def test_every_call_is_logged_and_counts_match_the_responses(faulty_run):
    _, db, outcomes = faulty_run
    by_request = rows_by_request(db)
    results = [o for o in outcomes if isinstance(o, RouteResult)]
    failures = [o for o in outcomes if isinstance(o, RouteFailedError)]
    # requests = results + failures, each logged under its own id, nothing else in the log.
    assert set(by_request) == {r.request_id for r in results} | {f.request_id for f in failures}
    assert len(by_request) == len(results) + len(failures) == REQUESTS
    with LogReader(db) as reader:
        summary = reader.summary()
    assert summary.requests == REQUESTS
    assert summary.calls == sum(len(r.calls) for r in results) + sum(len(f.failures) for f in failures)
    assert summary.escalated == sum(r.escalated for r in results) + len(failures)

    for result in results:
        rows = by_request[result.request_id]
        assert [(r.tier, r.model, r.role) for r in rows] == [(c.tier, c.model, c.role) for c in result.calls]
        assert [r.escalation_reason for r in rows if r.escalated] == result.escalation_reasons
        assert [r.tier for r in rows if r.final] == [result.tier]
        final = next(r for r in rows if r.final)
        assert json.loads(final.answer) == result.answer
        assert final.confidence == result.confidence and final.error_type is None
        assert sum(r.input_tokens for r in rows) == result.input_tokens
        assert sum(r.cost_usd for r in rows) == pytest.approx(result.cost_usd)
        for row, call in zip(rows, result.calls, strict=True):
            assert row.error_type == call.error_type

    for failure in failures:
        rows = by_request[failure.request_id]
        assert [(r.model, r.tier) for r in rows] == [(m, i) for i, (m, _, _) in enumerate(failure.failures)]
        assert not any(r.final for r in rows)
        # The cheap row carries the reason that sent the request on; the last one its error.
        assert rows[0].escalated and rows[0].escalation_reason == failure.failures[0][1]
        assert not rows[-1].escalated and rows[-1].error_type in ERROR_TYPES
        assert all(r.answer is None for r in rows)


def test_logged_errors_are_the_injected_kinds(faulty_run):
    _, db, _ = faulty_run
    by_request = rows_by_request(db)
    rows = [r for group in by_request.values() for r in group]
    kinds = Counter(r.error_type for r in rows if r.error_type is not None)
    # Every injected kind shows up: retryable ones when all three attempts failed, malformed replies
    # (never retried) as a broken body or a reply that does not fit the schema.
    assert set(kinds) == ERROR_TYPES
    assert {r.escalation_reason for r in rows if r.escalated} <= set(ESCALATION_REASONS)
    assert all(r.error_type is None for r in rows if r.final)


def test_shadow_mode_under_faults_logs_both_calls_of_every_request(tmp_path):
    db = tmp_path / "shadow.db"
    clock = VirtualClock(1_750_000_000.0)
    api = faulty_api(seed=11, clock=clock)
    texts = [f"shadow item {i} with some words" for i in range(300)]

    async def run():
        router = Router(
            CHEAP, STRONG, 0.7, mode="shadow", client=api.client(max_retries=1), log=db, clock=clock, seed=2
        )
        try:
            return await route_all(router, texts)
        finally:
            await router.aclose()

    outcomes = asyncio.run(run())
    by_request = rows_by_request(db)
    assert len(by_request) == len(texts)
    for outcome in outcomes:
        rows = by_request[outcome.request_id]
        assert [r.role for r in rows] == ["cheap", "shadow"]
        if isinstance(outcome, RouteResult):
            assert [r.tier for r in rows if r.final] == [outcome.tier]
        else:
            assert not any(r.final for r in rows)
    assert api.internal_errors == []
