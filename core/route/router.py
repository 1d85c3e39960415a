"""The cascade router: ask the cheap model first, escalate when it is unsure or fails.

Escalation reasons: ``low_confidence`` (confidence below the tier's threshold), ``invalid_output``
(no answer, schema-invalid, confidence missing or outside [0, 1], truncated), ``refusal``
(``stop_reason == "refusal"``) and ``api_error`` (an API error after the SDK's retries, at any tier;
logs written before this name say ``cheap_error``). Every model call is logged as one row of the
call log, linked by ``request_id``.

Each tier's request is built from the model's capabilities (``models.py``, ``requests.py``):
structured outputs where the model has them, the forced ``submit_answer`` tool only where it has not.

Degraded answers: when a higher tier fails after an escalation, the answer of the lower tier that
did answer is *degraded* (``RouteResult.degraded`` and ``degraded_reason``). With
``on_degraded="return"`` (the default) it is returned; with ``"raise"`` the router raises
``DegradedAnswerError`` carrying the result. Either way every call is logged.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
from pydantic import BaseModel, ValidationError

from ..clock import SYSTEM_CLOCK, Clock
from ..compare import correct_against_reference, loads_answer
from ..errors import ConfigError, DegradedAnswerError, RouteFailedError
from ..log.privacy import Keeper
from ..log.records import MODES, CallOutcome, RouteResult, call_row
from ..log.store import CallLog
from ..nesting import NestedTooDeeply, check_depth, loads_within_depth
from ..prices import PriceBook
from ..text import dump_answer, sha256_text, valid_utf8
from . import tasks as task_lib
from .catalog import default_models
from .models import ModelTable
from .requests import TierRequest, resolve
from .tasks import TOOL_NAME, InvalidOutput, TaskSpec
from .telemetry import Telemetry

# What the router hands each pair it makes to, in the background: (request_id, task, text, digest,
# cheap call, strong call). The judge's observer is passed in by the workspace (``measure.judge``).
PairObserver = Callable[[str, str, str, str, CallOutcome, CallOutcome], Awaitable[Any]]

# Random part of unseeded request ids; seeded from os.urandom, and again in every forked child.
_ID_RNG = random.Random()
os.register_at_fork(after_in_child=_ID_RNG.seed)
STORE_INPUTS = ("full", "preview", "none")
STORE_ANSWERS = ("full", "none")
_ROUTED_ROLES = frozenset(("cheap", "strong"))  # the calls a tier's threshold decides
ON_DEGRADED = ("return", "raise")


def _create_kwargs(
    spec: TaskSpec, request: TierRequest, params: dict, system: str, user: str
) -> dict[str, Any]:
    # messages.create's keyword arguments: one place, for routing, the judge's calls and doctor.
    return {
        "model": request.model,
        "max_tokens": spec.max_tokens,
        "system": system,
        "messages": [{"role": "user", "content": user}],
        "extra_headers": {"x-routermon-task": spec.name},
        **params,
    }


@dataclass(frozen=True)
class Tier:
    """One step of the cascade: a model, and the confidence it needs for its answer to be kept.

    The last tier's answer is always kept, so its ``threshold`` is ignored. ``thinking`` and
    ``effort`` are the tier's settings (``requests.py``): by default thinking is turned off where
    the model allows it and effort is ``low`` where the model takes one.
    """

    model: str
    threshold: float | None = None
    thinking: str = "off"
    effort: str | None = "auto"


@dataclass(slots=True)
class _Call:
    """One model call: ``CallOutcome``'s fields, typed, and what the log needs besides."""

    model: str
    role: str
    tier: int
    answer: Any
    confidence: float | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    thinking_tokens: int
    cost_usd: float
    latency_ms: float
    escalation_reason: str | None
    error_type: str | None
    error_detail: str | None
    ok: bool  # produced a schema-valid answer
    ts: float
    answer_json: str | None  # the answer as the log stores it

    @property
    def fields(self) -> dict[str, Any]:
        """``CallOutcome``'s fields as a dict: the RouteResult validates them once, with the result.
        (A literal: this runs for every call; a test checks it names every field.)"""
        return {
            "model": self.model,
            "role": self.role,
            "tier": self.tier,
            "answer": self.answer,
            "confidence": self.confidence,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_write_tokens": self.cache_write_tokens,
            "thinking_tokens": self.thinking_tokens,
            "cost_usd": self.cost_usd,
            "latency_ms": self.latency_ms,
            "escalation_reason": self.escalation_reason,
            "error_type": self.error_type,
            "error_detail": self.error_detail,
        }


_OUTCOME_FIELDS = tuple(CallOutcome.model_fields)
if set(_OUTCOME_FIELDS) - set(_Call.__slots__):  # type: ignore[attr-defined]
    raise ImportError("routermon.core.route.router's _Call no longer carries every CallOutcome field")


def _task_thresholds(
    task: str, value: float | Sequence[float], defaults: tuple[float, ...]
) -> tuple[float, ...]:
    """A task's thresholds as one per tier but the last; a single number is the first tier's and
    later tiers keep the cascade's own (``defaults``)."""
    count = len(defaults)
    values = [value] if isinstance(value, int | float) else list(value)
    if not 1 <= len(values) <= count:
        raise ConfigError(
            f"Task {task!r} needs 1 to {count} thresholds (one per tier but the last); got {len(values)}."
        )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
            raise ConfigError(f"The threshold for task {task!r} must be between 0 and 1; got {v!r}.")
    return tuple(float(v) for v in values) + defaults[len(values) :]


def _cascade(
    cheap_model: str | None,
    strong_model: str | None,
    threshold: float,
    tiers: Sequence[Tier] | None,
    prices: PriceBook,
) -> tuple[Tier, ...]:
    """The router's tiers: ``tiers`` as given, else the cheap model at ``threshold`` then the strong
    one (each defaulting to the newest priced); every tier but the last needs a threshold in [0, 1]."""
    if tiers is None:
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(
                f"The threshold must be between 0 and 1 (a confidence score, not a percent); got {threshold}."
            )
        cheap_model, strong_model = default_models(cheap_model, strong_model, prices)
        tiers = (Tier(cheap_model, threshold), Tier(strong_model))
    cascade = tuple(tiers)
    if len(cascade) < 2:
        raise ConfigError("A cascade needs at least two tiers (a cheap and a strong model).")
    for tier in cascade[:-1]:
        if tier.threshold is None or not 0.0 <= tier.threshold <= 1.0:
            raise ConfigError(f"Tier {tier.model!r} needs a threshold between 0 and 1; got {tier.threshold}.")
    return cascade


def _check_choices(
    *, on_degraded: str, mode: str, audit_share: float, store_inputs: str, store_answers: str
) -> None:
    """A ``ConfigError`` for the first of the router's settings outside what it accepts."""
    if on_degraded not in ON_DEGRADED:
        raise ConfigError(f"on_degraded must be one of {', '.join(ON_DEGRADED)}; got {on_degraded!r}.")
    if mode not in MODES:
        raise ConfigError(f"Mode must be one of {', '.join(MODES)}; got {mode!r}.")
    if not 0.0 <= audit_share <= 1.0:
        raise ConfigError(f"The audit share must be between 0 and 1; got {audit_share}.")
    if store_inputs not in STORE_INPUTS:
        raise ConfigError(f"store_inputs must be one of {', '.join(STORE_INPUTS)}; got {store_inputs!r}.")
    if store_answers not in STORE_ANSWERS:
        raise ConfigError(f"store_answers must be one of {', '.join(STORE_ANSWERS)}; got {store_answers!r}.")


def _error_type(exc: BaseException) -> str:
    if isinstance(exc, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(exc, anthropic.APIConnectionError):
        return "connection_error"
    if isinstance(exc, anthropic.RateLimitError):
        return "rate_limited"
    if isinstance(exc, anthropic.APIStatusError):
        if exc.status_code == 529:
            return "overloaded"
        if exc.status_code >= 500:
            return "server_error"
        return f"http_{exc.status_code}"
    if isinstance(exc, anthropic.APIResponseValidationError | ValueError | ValidationError):
        return "malformed_response"  # ValueError: a body that is not JSON, or not UTF-8
    return type(exc).__name__


class Router:
    """Routes each request through a cascade of models and logs every call.

    Args:
        cheap_model, strong_model: the two tiers; default to the newest Haiku and Sonnet that both
            the installed SDK and genai-prices know.
        threshold: the cheap model's answer is kept when its confidence is at least this.
        tiers: an explicit cascade (e.g. Haiku, Sonnet, Opus, each with its own threshold);
            replaces ``cheap_model``/``strong_model``/``threshold``.
        mode: ``"cascade"`` or ``"shadow"`` (cheap and strong on every request, concurrently; the
            policy's answer is returned and both calls are logged).
        audit_share: share of cascade requests also sent to the strong model, logged as ``audit``.
        client: an ``anthropic.AsyncAnthropic``; default: the real API (needs ``ANTHROPIC_API_KEY``).
        log: a ``CallLog``, a database path (the router opens and closes it), or ``None``.
        prices: a ``PriceBook`` (settings overrides live there).
        store_inputs: ``"full"``, ``"preview"`` (first ``preview_chars``) or ``"none"`` (nothing
            of the input, and its digest keyed with the log's secret: ``privacy.py``).
        store_answers: ``"full"``, or ``"none"``: free-text and structured answers are logged as
            keyed digests (``privacy.py``); labels are logged as they are.
        clock: where timestamps and latencies come from (a ``VirtualClock`` in simulations).
        seed: makes audit sampling and request ids reproducible.
        source: written to each row (``live``, ``simulate``, ``shadow-run``...).
        telemetry: a ``telemetry.Telemetry``: a span per request and per model call (OpenTelemetry).
        task_thresholds: a threshold per task name (the ``[thresholds]`` settings table), for the
            first tier, or a sequence of one per tier but the last; a task without one uses the tiers'.
        models: the capability table each tier's request is built from (settings overrides live there).
        on_degraded: ``"return"`` a degraded answer (flagged in the result) or ``"raise"``
            ``DegradedAnswerError``.
        pair_observer: called in the background with each pair as it is made (shadow requests and
            audits): ``(request_id, task, text, digest, cheap, strong)``, awaited; ``drain`` waits for
            them. The workspace passes the judge's (``measure.judge.Judge.observe_pair``), so the
            router never names the judge, which calls models through it.
    """

    def __init__(
        self,
        cheap_model: str | None = None,
        strong_model: str | None = None,
        threshold: float = 0.7,
        *,
        tiers: Sequence[Tier] | None = None,
        mode: str = "cascade",
        audit_share: float = 0.0,
        client: anthropic.AsyncAnthropic | None = None,
        log: CallLog | str | Path | None = None,
        prices: PriceBook | None = None,
        store_inputs: str = "preview",
        preview_chars: int = 80,
        store_answers: str = "full",
        clock: Clock | None = None,
        seed: int | None = None,
        source: str = "live",
        request_prefix: str = "req_",
        models: ModelTable | None = None,
        on_degraded: str = "return",
        task_thresholds: Mapping[str, float | Sequence[float]] | None = None,
        telemetry: Telemetry | None = None,
        pair_observer: PairObserver | None = None,
    ):
        self.prices = prices or PriceBook()
        self._set_cascade(cheap_model, strong_model, threshold, tiers, task_thresholds, models)
        _check_choices(
            on_degraded=on_degraded,
            mode=mode,
            audit_share=audit_share,
            store_inputs=store_inputs,
            store_answers=store_answers,
        )
        self.on_degraded = on_degraded
        self.telemetry = telemetry
        self.mode = mode
        self.audit_share = audit_share
        self.store_inputs = store_inputs
        self.store_answers = store_answers
        self.preview_chars = preview_chars
        self.clock = clock or SYSTEM_CLOCK
        self.source = source
        # Every request id this router makes starts with it: a run that tags its requests (the
        # simulator) can count exactly its own rows in a log other runs write to at the same time.
        self.request_prefix = request_prefix
        self._rng = random.Random(seed)
        self._seeded = seed is not None
        # Cost of every call made so far (audits and failed requests' calls too): what was spent.
        self.spent_usd = 0.0
        if client is None:
            from .client import real_client

            client = real_client()
        self.client = client
        self._owns_log = not isinstance(log, CallLog) and log is not None
        self.log: CallLog | None = CallLog(log) if self._owns_log else log  # type: ignore[arg-type]
        # What the log keeps of inputs and answers; the key (when needed) sits beside the log.
        self.keeper = Keeper.for_log(
            self.log.path if self.log is not None else None, store_inputs, store_answers
        )
        self._task_cache: dict[Any, TaskSpec] = {}
        # Building a schema costs ~0.2 ms; it never changes for a spec and tier, so build it once
        # (keyed by id: hashing a spec costs too).
        self._params_cache: dict[tuple[int, int], tuple[TaskSpec, dict]] = {}
        self._extra_requests: dict[str, TierRequest] = {}  # models called outside the cascade (the judge)
        self._background: set[asyncio.Task] = set()
        self._runner: asyncio.Runner | None = None
        self.pair_observer = pair_observer

    def _set_cascade(
        self,
        cheap_model: str | None,
        strong_model: str | None,
        threshold: float,
        tiers: Sequence[Tier] | None,
        task_thresholds: Mapping[str, float | Sequence[float]] | None,
        models: ModelTable | None,
    ) -> None:
        """The tiers, their thresholds (the cascade's and each task's), prices and requests, checked."""
        self.tiers: tuple[Tier, ...] = _cascade(cheap_model, strong_model, threshold, tiers, self.prices)
        self._default_thresholds = tuple(float(t.threshold or 0.0) for t in self.tiers[:-1])
        self._last_tier = len(self.tiers) - 1
        self.task_thresholds = {
            name: _task_thresholds(name, value, self._default_thresholds)
            for name, value in (task_thresholds or {}).items()
        }
        # Resolved now, once: an unknown model is a clear error here, not a silent $0 later.
        self._rates = {tier.model: self.prices.rates(tier.model) for tier in self.tiers}
        self.models = models or ModelTable()
        # Each tier's request, from its model's capabilities: a setting the model refuses fails here.
        self._requests: tuple[TierRequest, ...] = tuple(
            resolve(self.models.get(tier.model), thinking=tier.thinking, effort=tier.effort)
            for tier in self.tiers
        )

    # -- public API ----------------------------------------------------------------------------

    @property
    def cheap_model(self) -> str:
        return self.tiers[0].model

    @property
    def strong_model(self) -> str:
        return self.tiers[-1].model

    @property
    def threshold(self) -> float:
        return float(self.tiers[0].threshold or 0.0)

    def thresholds_for(self, task: str) -> tuple[float, ...]:
        """The thresholds ``task`` is routed with, one per tier but the last (its own, else the tiers')."""
        return self.task_thresholds.get(task, self._default_thresholds)

    def task(
        self,
        task: str | TaskSpec,
        *,
        labels: Sequence[str] | None = None,
        fields: type[BaseModel] | None = None,
    ) -> TaskSpec:
        """Resolve a task name (``classify`` with ``labels``, ``extract`` with ``fields``, ``summarize``)."""
        if isinstance(task, TaskSpec):
            return task
        key = (task, tuple(labels) if labels else None, fields)
        spec = self._task_cache.get(key)
        if spec is None:
            if task == "classify":
                if not labels:
                    raise ConfigError(
                        "The classify task needs labels, e.g. labels=['safe', 'unsafe', 'review-needed']."
                    )
                spec = task_lib.classify(list(labels))
            elif task == "extract":
                if fields is None:
                    raise ConfigError("The extract task needs fields=<a pydantic model>.")
                spec = task_lib.extract(fields)
            elif task == "summarize":
                spec = task_lib.summarize()
            else:
                raise ConfigError(
                    f"Unknown task {task!r}; use classify, extract, summarize, or pass a TaskSpec from routermon.core.route.tasks."
                )
            self._task_cache[key] = spec
        return spec

    async def route(
        self,
        task: str | TaskSpec,
        text: str,
        *,
        labels: Sequence[str] | None = None,
        fields: type[BaseModel] | None = None,
        reference: str | None = None,
    ) -> RouteResult:
        """Answer ``text`` with the cheapest tier that is confident enough; raises ``RouteFailedError``
        when no tier produced a valid answer (every call is logged either way).

        ``reference``, when known, is the right answer; it is stored so accuracy can be measured.
        """
        if self.log is not None and self.log.failure is not None:
            # The log cannot take rows (a full disk): stop before paying for calls it cannot record.
            raise self.log.failure
        spec = task if isinstance(task, TaskSpec) else self.task(task, labels=labels, fields=fields)
        text = _clean_text(text)
        request_id = self._new_request_id()
        digest = sha256_text(text)  # the row's input_sha256 and the prompt's delimiter, hashed once
        if self.mode == "shadow":
            return await self._route_shadow(spec, text, digest, request_id, reference)
        return await self._route_cascade(spec, text, digest, request_id, reference)

    def route_sync(self, task: str | TaskSpec, text: str, **kwargs: Any) -> RouteResult:
        """``route`` for synchronous code; do not call it from inside a running event loop."""
        if self._runner is None:
            self._runner = asyncio.Runner()
        return self._runner.run(self._route_and_drain(task, text, **kwargs))

    async def drain(self) -> None:
        """Wait for background audit calls to finish (they are logged when they do)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def aclose(self) -> None:
        """Finish audits, flush the log if the router opened it, and close the HTTP client."""
        await self.drain()
        await self.client.close()
        if self._owns_log and self.log is not None:
            self.log.close()

    def close(self) -> None:
        """Synchronous ``aclose``."""
        if self._runner is None:
            asyncio.run(self.aclose())
        else:
            self._runner.run(self.aclose())
            self._runner.close()
            self._runner = None

    def __enter__(self) -> Router:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    async def __aenter__(self) -> Router:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()

    # -- policies ------------------------------------------------------------------------------

    async def _route_and_drain(self, task, text, **kwargs) -> RouteResult:
        result = await self.route(task, text, **kwargs)
        await self.drain()
        return result

    async def _route_cascade(
        self, spec: TaskSpec, text: str, digest: str, request_id: str, reference: str | None
    ) -> RouteResult:
        calls: list[_Call] = []
        reasons: list[str] = []
        final_index: int | None = None
        last = len(self.tiers) - 1
        thresholds = self.task_thresholds.get(spec.name) or self._default_thresholds
        for index, _tier in enumerate(self.tiers):
            try:
                call = await self._call(
                    spec, text, digest, role="cheap" if index == 0 else "strong", tier=index
                )
            except asyncio.CancelledError:
                # The caller gave up (a timeout, a cancelled task): the calls already made were paid
                # for, so they are logged (each one escalated, none final) before the cancel goes on.
                # (Each finished call had sent the request on; none is the answer.)
                self._log_calls(
                    spec=spec,
                    text=text,
                    digest=digest,
                    request_id=request_id,
                    mode="cascade",
                    calls=calls,
                    escalated=[True] * len(calls),
                    final_index=None,
                    reference=reference,
                )
                raise
            calls.append(call)
            if call.ok:
                final_index = index
                if index == last or call.confidence >= thresholds[index]:
                    break
                call.escalation_reason = "low_confidence"
            elif index == last:
                break
            reasons.append(call.escalation_reason)
        audit = self.audit_share > 0.0 and self._should_audit(final_index)
        result = self._finish(
            spec=spec,
            text=text,
            digest=digest,
            request_id=request_id,
            mode="cascade",
            calls=calls,
            final_index=final_index,
            reasons=reasons,
            reference=reference,
        )
        if audit:
            self._in_background(self._audit(spec, text, digest, request_id, reference, result.calls[0]))
        return result

    def _in_background(self, call: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(call)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _judge_pair(
        self, spec: TaskSpec, text: str, digest: str, request_id: str, cheap: CallOutcome, strong: CallOutcome
    ) -> None:
        await self.pair_observer(request_id, spec.name, text, digest, cheap, strong)

    async def _in_lane(self, call: Awaitable[Any]) -> Any:
        # Concurrent calls each measure their own latency on a virtual clock.
        with self.clock.lane():
            return await call

    async def _route_shadow(
        self, spec: TaskSpec, text: str, digest: str, request_id: str, reference: str | None
    ) -> RouteResult:
        last = len(self.tiers) - 1
        pending = [
            asyncio.ensure_future(self._in_lane(self._call(spec, text, digest, role="cheap", tier=0))),
            asyncio.ensure_future(self._in_lane(self._call(spec, text, digest, role="shadow", tier=last))),
        ]
        try:
            cheap, strong = await asyncio.gather(*pending)
        except asyncio.CancelledError:
            for future in pending:
                future.cancel()
            done = [f.result() for f in pending if f.done() and not f.cancelled() and f.exception() is None]
            self._log_calls(
                spec=spec,
                text=text,
                digest=digest,
                request_id=request_id,
                mode="shadow",
                calls=done,
                escalated=[False] * len(done),
                final_index=None,
                reference=reference,
            )
            raise
        reasons: list[str] = []
        if cheap.ok and cheap.confidence >= self.thresholds_for(spec.name)[0]:
            final_index = 0
        else:
            if cheap.ok:
                cheap.escalation_reason = "low_confidence"
            reasons.append(cheap.escalation_reason)
            final_index = 1 if strong.ok else (0 if cheap.ok else None)
        result = self._finish(
            spec=spec,
            text=text,
            digest=digest,
            request_id=request_id,
            mode="shadow",
            calls=[cheap, strong],
            final_index=final_index,
            reasons=reasons,
            reference=reference,
        )
        if self.pair_observer is not None:
            # In its own lane: on a virtual clock the judge's latency is its own, not the request's.
            judging = self._judge_pair(spec, text, digest, request_id, result.calls[0], result.calls[1])
            self._in_background(self._in_lane(judging))
        return result

    def _should_audit(self, final_index: int | None) -> bool:
        # Asked only when audit_share > 0. Only requests the cheap model kept need an extra strong
        # call to form a pair.
        sampled = self._rng.random() < self.audit_share
        return sampled and final_index == 0

    async def _audit(
        self,
        spec: TaskSpec,
        text: str,
        digest: str,
        request_id: str,
        reference: str | None,
        cheap: CallOutcome,
    ) -> None:
        call = await self._in_lane(self._call(spec, text, digest, role="audit", tier=len(self.tiers) - 1))
        if self.telemetry is not None:
            self.telemetry.record(
                spec.name, request_id, "audit", [(call.ts, call.fields)], 0 if call.ok else None
            )
        if self.log is not None:
            stored = self.keeper.input_digest(text, digest)
            row = self._row(
                call,
                spec=spec,
                preview=self._preview(text),
                input_sha256=stored,
                request_id=request_id,
                mode="cascade",
                escalated=False,
                final=False,
                reference=reference,
            )
            self.log.log_rows((row,))
        if self.pair_observer is not None:
            strong = CallOutcome.model_validate(call.fields)
            await self._in_lane(self._judge_pair(spec, text, digest, request_id, cheap, strong))

    # -- one model call ------------------------------------------------------------------------

    def _params(self, spec: TaskSpec, tier: int) -> dict:
        key = (id(spec), tier)
        cached = self._params_cache.get(key)
        if cached is None or cached[0] is not spec:
            # Holding spec keeps its id unique while the entry lives.
            cached = self._params_cache[key] = (spec, self._requests[tier].params(spec))
        return cached[1]

    def request_kwargs(self, spec: TaskSpec, text: str, digest: str, tier: int) -> dict[str, Any]:
        """``messages.create`` keyword arguments of ``tier``'s request for ``text`` (what is sent)."""
        request = self._requests[tier]
        user, boundary = task_lib.user_message(text, digest)
        system = spec.system_prompt(boundary, json_reply=request.answer_mode == "json_schema")
        return _create_kwargs(spec, request, self._params(spec, tier), system, user)

    def outcome(self, spec: TaskSpec, message: Any, tier: int) -> dict[str, Any]:
        """What ``tier``'s reply ``message`` amounts to: tokens, thinking tokens, cost, and the
        answer or why there is none (``error_type``/``error_detail``), as a call row holds them."""
        return self._outcome(spec, message, self._requests[tier])

    def _outcome(self, spec: TaskSpec, message: Any, request: TierRequest) -> dict[str, Any]:
        tokens, thinking, cost, answer, confidence, error_type, error_detail = self._read_reply(
            spec, message, request
        )
        return {
            "tokens": tokens,
            "thinking_tokens": thinking,
            "cost_usd": cost,
            "answer": answer,
            "confidence": confidence,
            "error_type": error_type,
            "error_detail": error_detail,
        }

    def _read_reply(self, spec: TaskSpec, message: Any, request: TierRequest) -> tuple:
        """``(tokens, thinking tokens, cost, answer, confidence, error type, error detail)`` of a
        reply (a tuple: this runs for every call; ``outcome`` gives it as a dict)."""
        try:
            tokens = _usage_tokens(message)
            thinking = _thinking_tokens(message, tokens[1])
        except _MalformedReply as exc:
            return (0, 0, 0, 0), 0, 0.0, None, None, "malformed_response", str(exc)[:200]
        cost = self._rates[request.model].cost(*tokens)
        try:
            answer, confidence = self._parse(spec, message, request.answer_mode)
        except _Refusal as exc:
            return tokens, thinking, cost, None, None, "refusal", str(exc)
        except InvalidOutput as exc:
            return tokens, thinking, cost, None, None, "invalid_output", str(exc)[:200]
        return tokens, thinking, cost, answer, confidence, None, None

    async def _call(self, spec: TaskSpec, text: str, digest: str, *, role: str, tier: int) -> _Call:
        request = self._requests[tier]
        user, boundary = task_lib.user_message(text, digest)
        system = spec.system_prompt(boundary, json_reply=request.answer_mode == "json_schema")
        return await self._send(spec, request, self._params(spec, tier), system, user, role=role, tier=tier)

    async def call_model(
        self, spec: TaskSpec, model: str, user: str, system: Callable[[bool], str], *, role: str
    ) -> tuple[CallOutcome, float]:
        """One call of ``spec`` to ``model`` outside the cascade (the judge's), built like every tier's
        request (the capability table, thinking off, effort auto) and priced by the price book.

        ``system(json_reply)`` is the system prompt for the answer form the model takes; returns the
        outcome (``error_type`` None when the answer is valid) and the call's timestamp. Not logged.
        """
        request = self._extra_requests.get(model)
        if request is None:
            self._rates.setdefault(model, self.prices.rates(model))  # an unpriced model fails here
            request = self._extra_requests[model] = resolve(self.models.get(model))
        json_reply = request.answer_mode == "json_schema"
        call = await self._send(
            spec, request, request.params(spec), system(json_reply), user, role=role, tier=0
        )
        return CallOutcome.model_validate(call.fields), call.ts

    async def _send(
        self,
        spec: TaskSpec,
        request: TierRequest,
        params: dict,
        system: str,
        user: str,
        *,
        role: str,
        tier: int,
    ) -> _Call:
        model = request.model
        ts = self.clock.now()
        start = self.clock.perf()
        ok = False
        answer = confidence = answer_json = reason = error_type = error_detail = None
        tokens: tuple[int, int, int, int] = (0, 0, 0, 0)
        thinking_tokens = 0
        cost_usd = 0.0
        try:
            message = await self.client.messages.create(**_create_kwargs(spec, request, params, system, user))
        except (anthropic.APIError, ValueError, ValidationError) as exc:
            # A body that is not JSON (or not even text) escapes the SDK as a decode error (a ValueError).
            error_type = _error_type(exc)
            error_detail = str(exc)[:200]
            reason = "invalid_output" if error_type == "malformed_response" else "api_error"
        else:
            # Thinking tokens are part of output_tokens (billed as output), so the cost holds them.
            (tokens, thinking_tokens, cost_usd, answer, confidence, error_type, error_detail) = (
                self._read_reply(spec, message, request)
            )
            if error_type is None:
                ok = True
                kept = answer if self.store_answers == "full" else self.keeper.answer(answer, spec.kind)
                answer_json = dump_answer(kept)
            else:
                reason = "refusal" if error_type == "refusal" else "invalid_output"
        self.spent_usd += cost_usd  # every call's cost, answered or not (a run's progress counts it)
        return _Call(
            model=model,
            role=role,
            tier=tier,
            answer=answer,
            confidence=confidence,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cache_read_tokens=tokens[2],
            cache_write_tokens=tokens[3],
            thinking_tokens=thinking_tokens,
            cost_usd=cost_usd,
            latency_ms=(self.clock.perf() - start) * 1000.0,
            escalation_reason=reason,
            error_type=error_type,
            error_detail=error_detail,
            ok=ok,
            ts=ts,
            answer_json=answer_json,
        )

    @staticmethod
    def _parse(spec: TaskSpec, message: Any, answer_mode: str) -> tuple[Any, float]:
        # The SDK builds the message without validating it, so any field may hold anything.
        stop_reason = getattr(message, "stop_reason", None)
        if stop_reason == "refusal":
            # stop_details.category names the policy that refused, when the API gives one.
            category = getattr(getattr(message, "stop_details", None), "category", None)
            raise _Refusal(
                f"the model refused ({category})" if isinstance(category, str) else "the model refused"
            )
        if stop_reason == "max_tokens":
            raise InvalidOutput("the reply was cut off at max_tokens")
        content = getattr(message, "content", None) or []
        if not isinstance(content, list):
            raise InvalidOutput("the reply's content is not a list of blocks")
        if answer_mode != "json_schema":
            for block in content:
                if getattr(block, "type", None) == "tool_use" and getattr(block, "name", None) == TOOL_NAME:
                    return spec.parse(_within_depth(getattr(block, "input", None)))
            if answer_mode == "forced_tool":
                raise InvalidOutput("the reply has no submit_answer tool call")
        # A structured-output reply is its text blocks (thinking blocks come before them).
        texts = [getattr(b, "text", None) for b in content if getattr(b, "type", None) == "text"]
        if not texts or not all(isinstance(t, str) for t in texts):
            raise InvalidOutput("the reply has no JSON text answer")
        try:
            payload = loads_within_depth("".join(texts))
        except NestedTooDeeply as exc:
            raise InvalidOutput(f"the reply's answer is {exc}") from None
        except ValueError:
            raise InvalidOutput("the reply's text is not JSON") from None
        return spec.parse(payload)

    # -- results and rows ----------------------------------------------------------------------

    def _log_calls(
        self,
        *,
        spec: TaskSpec,
        text: str,
        digest: str,
        request_id: str,
        mode: str,
        calls: list[_Call],
        escalated: Sequence[bool],
        final_index: int | None,
        reference: str | None,
    ) -> None:
        """Log a request's calls, ``escalated[i]`` saying whether call ``i`` sent it on."""
        if self.telemetry is not None and calls:
            self.telemetry.record(spec.name, request_id, mode, [(c.ts, c.fields) for c in calls], final_index)
        if self.log is None or not calls:
            return
        preview = self._preview(text)
        stored = self.keeper.input_digest(text, digest)
        self.log.log_rows(
            [
                self._row(
                    call,
                    spec=spec,
                    preview=preview,
                    input_sha256=stored,
                    request_id=request_id,
                    mode=mode,
                    escalated=escalated[i],
                    final=i == final_index,
                    reference=reference,
                )
                for i, call in enumerate(calls)
            ]
        )

    def _finish(
        self,
        *,
        spec: TaskSpec,
        text: str,
        digest: str,
        request_id: str,
        mode: str,
        calls: list[_Call],
        final_index: int | None,
        reasons: list[str],
        reference: str | None,
    ) -> RouteResult:
        escalated = bool(reasons)
        last = len(calls) - 1
        flags = [(i == 0 and escalated) if mode == "shadow" else i < last for i in range(len(calls))]
        self._log_calls(
            spec=spec,
            text=text,
            digest=digest,
            request_id=request_id,
            mode=mode,
            calls=calls,
            escalated=flags,
            final_index=final_index,
            reference=reference,
        )
        if final_index is None:
            raise RouteFailedError(
                request_id,
                [(c.model, c.escalation_reason or "failed", c.error_detail or "") for c in calls],
            )
        final = calls[final_index]
        # Degraded: the answer is a lower tier's because a higher tier that was asked failed.
        failed_above = [c for c in calls[final_index + 1 :] if not c.ok] if escalated else []
        degraded_reason = None
        if failed_above:
            f = failed_above[-1]
            degraded_reason = (
                f"{f.model} failed ({f.escalation_reason or 'failed'}: {f.error_detail or ''}); "
                f"the answer is {final.model}'s"
            )
        input_tokens = output_tokens = thinking_tokens = 0
        cost_usd = latency_sum = latency_max = 0.0
        for c in calls:  # one pass: this runs on every request
            input_tokens += c.input_tokens
            output_tokens += c.output_tokens
            thinking_tokens += c.thinking_tokens
            cost_usd += c.cost_usd
            latency_sum += c.latency_ms
            latency_max = max(latency_max, c.latency_ms)
        # model_validate on a dict literal: a third cheaper than keyword construction through __init__.
        result = RouteResult.model_validate(
            {
                "request_id": request_id,
                "task": spec.name,
                "mode": mode,
                "answer": final.answer,
                "confidence": final.confidence,
                "model": final.model,
                "tier": final.tier,
                "escalated": escalated,
                "escalation_reason": reasons[0] if reasons else None,
                "escalation_reasons": reasons,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "thinking_tokens": thinking_tokens,
                "cost_usd": cost_usd,
                # Shadow calls run concurrently, so the caller waits for the slower one.
                "latency_ms": latency_max if mode == "shadow" else latency_sum,
                # Validated into CallOutcome models here, in the same pass as the result.
                "calls": [c.fields for c in calls],
                "degraded": degraded_reason is not None,
                "degraded_reason": degraded_reason,
            }
        )
        if result.degraded and self.on_degraded == "raise":
            raise DegradedAnswerError(result)
        return result

    def _row(
        self,
        call: _Call,
        *,
        spec: TaskSpec,
        preview: str | None,
        input_sha256: str,
        request_id: str,
        mode: str,
        escalated: bool,
        final: bool,
        reference: str | None,
    ) -> tuple:
        """One ``calls`` row for ``call`` (``records.call_row``: a tuple, without building a record)."""
        correct = None
        if reference is not None and call.ok:
            answer = call.answer
            # A structured answer's reference is its JSON text; free text is not settled by a reference.
            verdict = correct_against_reference(
                answer, loads_answer(reference) if isinstance(answer, dict) else reference
            )
            correct = None if verdict is None else int(verdict)
        return call_row(
            ts=call.ts,
            request_id=request_id,
            task=spec.name,
            mode=mode,
            source=self.source,
            model=call.model,
            role=call.role,
            tier=call.tier,
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cache_read_tokens=call.cache_read_tokens,
            cache_write_tokens=call.cache_write_tokens,
            cost_usd=call.cost_usd,
            latency_ms=round(call.latency_ms, 3),
            confidence=call.confidence,
            answer=call.answer_json,
            escalated=1 if escalated else 0,
            escalation_reason=call.escalation_reason if escalated else None,
            error_type=call.error_type,
            final=1 if final else 0,
            input_sha256=input_sha256,
            input_preview=preview,
            reference=reference,
            correct=correct,
            dedup_key=None,  # only imports need one
            thinking_tokens=call.thinking_tokens,
            # The policy the request was routed with: the threshold this tier's answer had to meet
            # (none for the last tier, which is always kept, or a shadow or audit call), and the
            # audit share in force (cascade requests; what an audit pair's sampling weight rests on).
            threshold=(self.task_thresholds.get(spec.name) or self._default_thresholds)[call.tier]
            if call.tier < self._last_tier and call.role in _ROUTED_ROLES
            else None,
            audit_share=self.audit_share if mode == "cascade" else None,
        )

    def _preview(self, text: str) -> str | None:
        if self.store_inputs == "full":
            return text
        if self.store_inputs == "preview":
            return text[: self.preview_chars]
        return None

    def _new_request_id(self) -> str:
        if self._seeded:
            return f"{self.request_prefix}{self._rng.getrandbits(64):016x}"
        # Time-ordered (milliseconds, then 48 random bits), like a UUIDv7: new ids land at the end of
        # the request_id index, which keeps the log's write rate up as the table grows.
        return f"{self.request_prefix}{(time.time_ns() // 1_000_000) << 48 | _ID_RNG.getrandbits(48):024x}"


def _clean_text(text: str) -> str:
    """The text to route, as valid UTF-8 (lone surrogates, which JSON cannot carry, become U+FFFD)."""
    if not isinstance(text, str):
        raise ConfigError(f"The text to route must be a string, not {type(text).__name__}.")
    return valid_utf8(text)


def _within_depth(tool_input: Any) -> Any:
    """A tool call's input (parsed by the SDK) if it nests within the log's limit; else invalid output."""
    try:
        return check_depth(tool_input)
    except NestedTooDeeply as exc:
        raise InvalidOutput(f"the reply's answer is {exc}") from None


class _Refusal(Exception):
    pass


class _MalformedReply(Exception):
    """A 200 response that is JSON but not a Messages API message."""


_MAX_TOKENS = 10**12  # far above any context window, far below SQLite's integer limit


def _thinking_tokens(message: Any, output_tokens: int) -> int:
    """``usage.output_tokens_details.thinking_tokens`` (0 when absent); part of ``output_tokens``."""
    details = getattr(getattr(message, "usage", None), "output_tokens_details", None)
    value = getattr(details, "thinking_tokens", None) if details is not None else None
    if value is None:
        return 0
    if value.__class__ is not int or not 0 <= value <= output_tokens:
        raise _MalformedReply(f"usage.output_tokens_details.thinking_tokens is {value!r:.40}, not a count")
    return value


_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _usage_tokens(message: Any) -> tuple[int, int, int, int]:
    """Input, output, cache-read and cache-write tokens of a reply (a missing count is 0)."""
    if not hasattr(message, "usage") or not hasattr(message, "content"):
        raise _MalformedReply(f"the reply is a {type(message).__name__}, not a message")
    usage = message.usage
    if usage is None:
        return (0, 0, 0, 0)
    counts = (
        getattr(usage, "input_tokens", None),
        getattr(usage, "output_tokens", None),
        getattr(usage, "cache_read_input_tokens", None),
        getattr(usage, "cache_creation_input_tokens", None),
    )
    a, b, c, d = counts
    if (  # the common case in one test: exact ints in range (the cache counts often absent)
        a.__class__ is int
        and b.__class__ is int
        and 0 <= a <= _MAX_TOKENS
        and 0 <= b <= _MAX_TOKENS
        and (c is None or (c.__class__ is int and 0 <= c <= _MAX_TOKENS))
        and (d is None or (d.__class__ is int and 0 <= d <= _MAX_TOKENS))
    ):
        return a, b, c or 0, d or 0
    checked = []
    for name, value in zip(_USAGE_FIELDS, counts, strict=True):
        if value is None:
            value = 0
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_TOKENS:
            raise _MalformedReply(f"usage.{name} is {value!r:.40}, not a token count")
        checked.append(value)
    return checked[0], checked[1], checked[2], checked[3]
