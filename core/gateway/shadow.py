"""Shadowing: a share of each task's calls sent again, in the background, to the other model.

The app's call is answered first and untouched; then, for a drawn share of its task's calls, a copy
goes to the other model of the pair (strong when the app asked for the cheap one, cheap when it
asked for the strong one), adapted to what that model accepts (``adapt``: the capability table of
``core/route/models.py``). The two rows share one request id: the cheap model's row is role
``cheap`` tier 0 and the strong model's row role ``shadow`` tier 1, as a shadow pair of the router,
so ``core/measure/pairs.py`` reads them as pairs (mode ``gateway``). Their answers are compared at
once (``compare``: ``tool_use`` inputs and JSON answers field by field, ``core/compare.py``); free
text goes to the pair observer the workspace passes in (the LLM judge), never imported here.

Bounded: a queue of ``queue_size`` calls waiting (what does not fit is dropped and counted, never
the client's call), ``max_in_flight`` workers, a daily budget in USD that stops shadowing when
spent (said once through ``say``), and ``drain`` on shutdown.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..compare import answer_kind, compare_fields, values_agree
from ..formatting import usd
from ..route.models import SAMPLING_PARAMS, ModelCapabilities, ModelTable
from ..text import sha256_text
from .record import conversation_text
from .sse import Observed, read_message

logger = logging.getLogger("routermon.gateway.shadow")

# (request_id, task, conversation, input_sha256, cheap_answer, strong_answer): a free-text pair, for
# the judge (``Workspace.gateway`` passes ``Judge.judge`` in; this layer never imports core/measure).
GatewayPairObserver = Callable[[str, str, str, str, str, str], Awaitable[Any]]
# Sends one adapted request upstream: (body, headers) -> (status, response bytes), or raises.
ShadowSender = Callable[[bytes, list], Awaitable[tuple[int, bytes]]]

CHEAP_ROLE, STRONG_ROLE = ("cheap", 0), ("shadow", 1)
DEFAULT_MAX_IN_FLIGHT = 4
DEFAULT_QUEUE_SIZE = 256


@dataclass
class ShadowConfig:
    """What shadowing is built from (``Workspace.gateway`` fills it from the settings)."""

    cheap_model: str
    strong_model: str
    share: float = 0.0  # of each task's calls, unless ``task_shares`` names the task
    task_shares: Mapping[str, float] = field(default_factory=dict)
    budget_usd: float | None = None  # per UTC day; None: no limit
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    queue_size: int = DEFAULT_QUEUE_SIZE
    seed: int | None = None

    def share_of(self, task: str) -> float:
        return self.task_shares.get(task, self.share)


@dataclass
class ShadowCounters:
    """What shadowing did, for the Live screen and the command's closing line."""

    queued: int = 0
    done: int = 0
    failed: int = 0
    dropped: int = 0  # the queue was full
    over_budget: int = 0  # drawn, not sent: the day's budget was spent
    adapted: int = 0  # copies changed to suit the other model
    judged: int = 0  # free-text pairs handed to the observer
    agreed: int = 0  # label and field pairs whose answers agreed
    compared: int = 0  # label and field pairs compared
    spent_usd: float = 0.0  # today's shadow calls (UTC)
    budget_spent: bool = False


@dataclass
class ShadowWork:
    """One call to shadow: the app's request and answer, and how its rows are linked."""

    request_id: str
    task: str
    body: dict
    headers: list  # as they went upstream (the client's key stays in memory, never in a row)
    app_observed: Observed
    other_model: str
    app_role: tuple[str, int]
    copy_role: tuple[str, int]


@dataclass
class Comparison:
    """How a pair's answers compare: ``kind`` (label | fields | text), per-field agreement, overall."""

    kind: str
    agree: bool
    fields: dict[str, bool] | None = None


def adapt(body: Mapping[str, Any], caps: ModelCapabilities) -> tuple[dict, list[str]]:
    """The request as ``caps``' model accepts it (never streamed) and what was changed, in words."""
    copy = {k: v for k, v in body.items() if k != "stream"}
    copy["model"] = caps.model
    notes: list[str] = []
    thinking = copy.get("thinking")
    if isinstance(thinking, dict) and thinking.get("type") not in caps.thinking_types:
        wanted = thinking.get("type")
        if wanted in ("enabled", "adaptive") and "adaptive" in caps.thinking_types:
            copy["thinking"] = {"type": "adaptive"}
            notes.append(f"thinking {wanted} -> adaptive")
        else:
            del copy["thinking"]
            notes.append(f"thinking {wanted} dropped")
    _adapt_sampling(copy, caps, notes)
    _adapt_output_config(copy, caps, notes)
    choice = copy.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") in ("tool", "any"):
        kind = (copy.get("thinking") or {}).get("type") if isinstance(copy.get("thinking"), dict) else None
        thinks = kind in ("adaptive", "enabled") or (kind is None and caps.thinks_by_default)
        if not caps.forced_tool_choice or thinks:
            copy["tool_choice"] = {"type": "auto"}
            notes.append(f"tool_choice {choice.get('type')} -> auto")
    return copy, notes


def _adapt_sampling(copy: dict, caps: ModelCapabilities, notes: list[str]) -> None:
    given = [p for p in SAMPLING_PARAMS if p in copy]
    if given and not caps.sampling_params:
        for param in given:
            del copy[param]
        notes.append(f"{', '.join(given)} dropped")
    elif caps.sampling_exclusive and "temperature" in copy and "top_p" in copy:
        del copy["top_p"]
        notes.append("top_p dropped (not with temperature)")


def _adapt_output_config(copy: dict, caps: ModelCapabilities, notes: list[str]) -> None:
    config = copy.get("output_config")
    if not isinstance(config, dict):
        return
    config = dict(config)
    if "effort" in config and config["effort"] not in caps.effort_levels:
        notes.append(f"effort {config.pop('effort')} dropped")
    if "format" in config and not caps.structured_outputs:
        del config["format"]
        notes.append("output format dropped")
    if config:
        copy["output_config"] = config
    else:
        del copy["output_config"]


def comparable(observed: Observed) -> Any:
    """What a response answered, to compare: one tool call's input, several by tool name, a JSON
    object's fields, else the text."""
    if observed.tool_uses:
        if len(observed.tool_uses) == 1:
            return observed.tool_uses[0].get("input")
        return {f"{i}:{u.get('name')}": u.get("input") for i, u in enumerate(observed.tool_uses)}
    text = "".join(observed.texts)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return value if isinstance(value, dict) else text


def compare(cheap: Observed, strong: Observed) -> Comparison:
    """The pair's comparison: field by field for tool inputs and JSON objects (``compare_fields``),
    exactly for labels, and free text left to a judge (``agree`` then says only whether it matched)."""
    a, b = comparable(cheap), comparable(strong)
    if isinstance(a, dict) and isinstance(b, dict):
        fields = compare_fields(a, b)
        return Comparison("fields", all(fields.values()), fields)
    return Comparison(answer_kind(a, b), values_agree(a, b))


class Shadow:
    """Draws, queues and runs the shadow calls of one gateway.

    Args:
        config: the pair of models, the shares, the budget and the bounds.
        models: the capability table the copies are adapted through.
        send: sends one copy upstream (the gateway's pooled client).
        log_copy: logs the copy's row ``(work, observed, http status, latency_ms)``; returns its cost in USD.
        observer: gets each free-text pair (the judge), or ``None``.
        say: one line for a person (stderr): the budget stop.
    """

    def __init__(
        self,
        config: ShadowConfig,
        *,
        models: ModelTable,
        send: ShadowSender,
        log_copy: Callable[[ShadowWork, Observed, int | None, float], float | None],
        observer: GatewayPairObserver | None = None,
        say: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.config = config
        self.models = models
        self.send = send
        self.log_copy = log_copy
        self.observer = observer
        self.say = say
        self.counters = ShadowCounters()
        self._draws = random.Random(config.seed)
        self._queue: asyncio.Queue[ShadowWork] | None = None
        self._workers: list[asyncio.Task] = []
        self._day = _utc_day()

    def roles(self, requested_model: str | None) -> tuple[tuple[str, int], tuple[str, int], str] | None:
        """``(app row's role, copy's role, other model)`` for a call asking ``requested_model``;
        ``None`` for a model outside the pair."""
        if requested_model == self.config.cheap_model:
            return CHEAP_ROLE, STRONG_ROLE, self.config.strong_model
        if requested_model == self.config.strong_model:
            return STRONG_ROLE, CHEAP_ROLE, self.config.cheap_model
        return None

    def offer(self, request_id: str, task: str, body: dict, headers: list, observed: Observed):
        """Queue a copy of an answered call if its task's share draws it and the budget and the
        queue allow; returns the app row's ``(role, tier)`` when queued, else ``None``."""
        share = self.config.share_of(task)
        if share <= 0.0 or self._draws.random() >= share:
            return None
        roles = self.roles(body.get("model") if isinstance(body.get("model"), str) else None)
        if roles is None:
            return None
        if self._over_budget():
            self.counters.over_budget += 1
            return None
        queue = self._started()
        work = ShadowWork(request_id, task, body, headers, observed, roles[2], roles[0], roles[1])
        try:
            queue.put_nowait(work)
        except asyncio.QueueFull:
            self.counters.dropped += 1
            return None
        self.counters.queued += 1
        return roles[0]

    def _over_budget(self) -> bool:
        today = _utc_day()
        if today != self._day:
            self._day, self.counters.spent_usd, self.counters.budget_spent = today, 0.0, False
        budget = self.config.budget_usd
        if budget is None or self.counters.spent_usd < budget:
            return False
        if not self.counters.budget_spent:
            self.counters.budget_spent = True
            self.say(
                f"routermon gateway: today's shadow budget of {usd(budget)} is spent; "
                "shadowing stops until midnight UTC (the app's calls are still logged)."
            )
        return True

    def _started(self) -> asyncio.Queue:
        if self._queue is None:
            self._queue = asyncio.Queue(maxsize=max(1, self.config.queue_size))
            self._workers = [
                asyncio.ensure_future(self._worker()) for _ in range(max(1, self.config.max_in_flight))
            ]
        return self._queue

    async def _worker(self) -> None:
        assert self._queue is not None
        while True:
            work = await self._queue.get()
            try:
                await self._run(work)
            except Exception:  # a shadow call never takes the gateway down
                self.counters.failed += 1
                logger.exception("shadow call %s failed", work.request_id)
            finally:
                self._queue.task_done()

    async def _run(self, work: ShadowWork) -> None:
        body, notes = adapt(work.body, self.models.get(work.other_model))
        if notes:
            self.counters.adapted += 1
            logger.info("shadow %s to %s adapted: %s", work.request_id, work.other_model, "; ".join(notes))
        started, status = asyncio.get_running_loop().time(), None
        try:
            status, raw = await self.send(json.dumps(body).encode(), work.headers)
            observed = read_message(raw)
            if status >= 400 and observed.error_type is None:
                observed.error_type = f"http_{status}"
        except Exception as exc:
            observed = Observed(error_type="connection_error")
            logger.info("shadow %s not sent: %s", work.request_id, type(exc).__name__)
        latency_ms = (asyncio.get_running_loop().time() - started) * 1000
        cost = self.log_copy(work, observed, status, latency_ms)
        self.counters.spent_usd += cost or 0.0
        if observed.error_type is not None:
            self.counters.failed += 1
            return
        self.counters.done += 1
        await self._compare(work, observed)

    async def _compare(self, work: ShadowWork, copy: Observed) -> None:
        cheap, strong = (
            (work.app_observed, copy) if work.app_role == CHEAP_ROLE else (copy, work.app_observed)
        )
        comparison = compare(cheap, strong)
        if comparison.kind != "text":
            self.counters.compared += 1
            self.counters.agreed += comparison.agree
            return
        if self.observer is None:
            return
        text = conversation_text(work.body)
        self.counters.judged += 1
        await self.observer(
            work.request_id, work.task, text, sha256_text(text), "".join(cheap.texts), "".join(strong.texts)
        )

    async def drain(self, timeout: float = 30.0) -> bool:
        """Finish the queued shadow calls (up to ``timeout`` seconds), then stop the workers;
        ``False`` when some were left unfinished."""
        finished = True
        if self._queue is not None:
            try:
                await asyncio.wait_for(self._queue.join(), timeout)
            except TimeoutError:
                finished = False
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers, self._queue = [], None
        return finished


def _utc_day() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
