"""The traffic simulator: scenario traffic through the real Router, the real ``anthropic`` client and
the stand-in Messages API, logged like production traffic.

Two ways to run it:

* ``simulate(...)``: N requests, one after another, on a ``VirtualClock`` whose timestamps are spread
  over the last ``days`` days ending at ``now`` (with a daily rhythm), so charts have history and
  nothing sleeps. Same scenario, seed and ``now`` → the same rows, byte for byte, apart from row ids.
* ``simulate_live(...)`` / ``run_live(...)``: requests arriving at ``rate`` per second on the real
  clock (Poisson arrivals, stand-in latencies really waited, requests in flight concurrently) until
  a ``threading.Event`` is set or ``duration`` seconds pass.

Both summarize *this run's rows read back from the log*, so spend and escalation shares are what
the log holds, and project a month of traffic at the observed rate with ``routermon.core.measure.whatif``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import hashlib
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, Field

from ..clock import Clock, VirtualClock
from ..errors import ConfigError, RouteFailedError
from ..formatting import count
from ..log.reader import LogReader, RequestFigures, Tally, TierModelStats, is_traffic, ratio, row_to_call
from ..log.records import MODES, CallRow
from ..log.store import CallLog
from ..measure.whatif import DAY_SECONDS, WhatIfResult, inputs_from_usage, project
from ..prices import PriceBook
from ..route import tasks as task_lib
from ..route.catalog import default_models
from ..route.router import Router
from ..route.tasks import TaskSpec
from .scenario import Scenario, TaskProfile, load_scenario, true_label
from .simtext import InvoiceRecord, make_text

SOURCE = "simulate"
# The last arrival leaves this much room before ``now`` (at most), so a slow request's calls still
# land before it: three 60 s timeouts and the SDK's back-off, on both tiers, fit in 15 minutes.
TAIL_SECONDS = 900.0


# -- what the workspace hands over ----------------------------------------------------------------


@dataclass(frozen=True)
class Simulation:
    """What a simulated run's router and stand-in need besides the settings: the traffic's
    scenario, the clock timestamps come from (``None``: the real one), and the router's seed
    (audit sampling and request ids)."""

    scenario: Scenario
    clock: Clock | None
    router_seed: int


class RouterSource(Protocol):
    """Who builds the simulator's routers from the settings (``core.workspace.Workspace``: the
    simulator sits below it, so it is handed one rather than importing it)."""

    @property
    def prices(self) -> PriceBook: ...

    def models(self, cheap_model: str | None = None, strong_model: str | None = None) -> tuple[str, str]: ...

    def judge_model(self, judge_model: str | None = None, strong_model: str | None = None) -> str: ...

    def router(self, **options: Any) -> Router: ...


# -- records ---------------------------------------------------------------------------------------


class SimulationProgress(BaseModel):
    """Where a simulation is: requests done of ``total`` (``None`` when live), spend so far."""

    done: int
    total: int | None
    failed: int
    escalated: int
    spend_usd: float  # every call so far: answers, escalations, audits and failed requests' calls
    elapsed_s: float


class TaskTally(RequestFigures):
    """One task's share of a run, from its logged rows (the reader's figures: ``RequestFigures``
    says what the escalation share is over)."""

    task: str
    requests: int = 0
    escalated: int = 0  # cascade requests escalated (shadow ones: ``shadow_escalated``)
    failed: int = 0  # every tier failed
    spend_usd: float = 0.0
    cheap_correct: int = 0
    cheap_judged: int = 0  # tier-0 answers with a known reference

    @property
    def cheap_share(self) -> float | None:
        """Share of cascade requests the cheap model finished; ``None`` without any."""
        share = self.escalation_share
        return None if share is None else 1.0 - share

    @property
    def cheap_accuracy(self) -> float | None:
        return ratio(self.cheap_correct, self.cheap_judged)


class RunTally(RequestFigures):
    """Totals of one run's logged rows (the same definitions as ``LogReader.summary``)."""

    requests: int = 0
    escalated: int = 0  # cascade requests escalated (shadow ones: ``shadow_escalated``)
    failed: int = 0
    calls: int = 0
    errors: int = 0  # calls that ended in an error or an unusable reply
    spend_usd: float = 0.0
    input_tokens: int = 0  # plain input tokens, as logged
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    per_task: list[TaskTally] = Field(default_factory=list)
    # By tier, role and model; in tier order, then most calls first.
    per_tier_model: list[TierModelStats] = Field(default_factory=list)


class SimulationSummary(BaseModel):
    """What a simulation did, and a month of traffic at its rate priced by ``whatif.project``."""

    scenario: str
    mode: str
    threshold: float
    cheap_model: str
    strong_model: str
    seed: int
    db_path: str
    days: float  # the window the traffic was spread over (live: how long it ran)
    since: float
    until: float
    tally: RunTally
    monthly_requests: float
    projection: WhatIfResult
    wall_seconds: float  # real time the run took

    @property
    def requests_per_second(self) -> float:
        """Simulation speed in wall-clock time."""
        return self.tally.requests / self.wall_seconds if self.wall_seconds > 0 else 0.0


# -- traffic ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimRequest:
    """One request of simulated traffic."""

    task: TaskProfile
    spec: TaskSpec
    text: str
    reference: str | None  # the right label for classify, so accuracy is measurable


def task_spec(task: TaskProfile) -> TaskSpec:
    """The router task for a scenario task (extract fills an ``InvoiceRecord``)."""
    if task.kind == "classify":
        return task_lib.classify(task.labels, name=task.name)
    if task.kind == "extract":
        return task_lib.extract(InvoiceRecord, name=task.name)
    return task_lib.summarize(name=task.name)


def traffic(scenario: Scenario, seed: int) -> Iterator[SimRequest]:
    """An endless, seeded stream of requests in the scenario's task mix and text lengths.

    Every text carries a distinct serial, so no two requests of a stream share a text.
    """
    rng = random.Random(f"routermon-traffic:{seed}")
    specs = [task_spec(t) for t in scenario.tasks]
    cumulative = list(_accumulate([t.share for t in scenario.tasks]))
    offset = rng.getrandbits(32)
    index = 0
    while True:
        pick = min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(specs) - 1)
        task = scenario.tasks[pick]
        # An odd multiplier makes the serial a bijection of the index: unique, but not a counter.
        serial = f"{(index * 2654435761 + offset) % 2**32:08X}"
        tokens = max(8, round(task.input_tokens.sample(rng)))
        text = make_text(task.kind, tokens, rng, serial)
        reference = true_label(text, task.labels) if task.kind == "classify" else None
        yield SimRequest(task=task, spec=specs[pick], text=text, reference=reference)
        index += 1


def _accumulate(values: list[float]) -> Iterator[float]:
    total = 0.0
    for value in values:
        total += value
        yield total


def arrival_times(requests: int, since: float, until: float, rng: random.Random) -> list[float]:
    """``requests`` sorted timestamps in ``[since, until)``, busier in the (UTC) afternoon than at night."""
    span = until - since
    hour = 3600.0
    bins = max(1, math.ceil(span / hour))
    weights = []
    for i in range(bins):
        width = min(hour, span - i * hour)
        hour_of_day = ((since + i * hour) % DAY_SECONDS) / hour
        weights.append(width * (1.0 + 0.6 * math.cos(2 * math.pi * (hour_of_day - 14.0) / 24.0)))
    cumulative = list(_accumulate(weights))
    times = []
    for _ in range(requests):
        u = rng.random() * cumulative[-1]
        i = min(bisect.bisect_right(cumulative, u), bins - 1)
        start = cumulative[i - 1] if i else 0.0
        fraction = (u - start) / weights[i] if weights[i] else 0.0
        times.append(min(since + i * hour + fraction * min(hour, span - i * hour), until))
    times.sort()
    return times


# -- checks ----------------------------------------------------------------------------------------


MAX_DAYS = 3660  # ten years of timestamps: the arrival times are drawn hour by hour


def check_inputs(
    *,
    threshold: float | None = None,
    mode: str = "cascade",
    audit_share: float | None = None,
    requests: int | None = None,
    days: float | None = None,
    rate: float | None = None,
    duration: float | None = None,
) -> None:
    """Raise ``ConfigError`` (one sentence) for a setting ``simulate`` or ``run_live`` would refuse;
    lets a caller check before it draws a progress bar."""
    if requests is not None and (isinstance(requests, bool) or not isinstance(requests, int) or requests < 1):
        raise ConfigError(f"The number of requests must be a whole number of at least 1; got {requests!r}.")
    if days is not None and not (
        isinstance(days, int | float) and math.isfinite(days) and 0 < days <= MAX_DAYS
    ):
        raise ConfigError(
            f"The number of days must be more than 0 and at most {count(MAX_DAYS)}; got {days!r}."
        )
    if rate is not None and not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        raise ConfigError(f"The request rate must be a positive number of requests per second; got {rate!r}.")
    if duration is not None and not (math.isfinite(duration) and duration > 0):
        raise ConfigError(f"The duration must be a positive number of seconds; got {duration!r}.")
    if threshold is not None and not (isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0):
        raise ConfigError(
            f"The threshold must be between 0 and 1 (a confidence score, not a percent); got {threshold}."
        )
    if mode not in MODES:
        raise ConfigError(f"Mode must be one of {', '.join(MODES)}; got {mode!r}.")
    if audit_share is not None and not 0.0 <= audit_share <= 1.0:
        raise ConfigError(f"The audit share must be between 0 and 1; got {audit_share}.")


def resolve_models(cheap_model: str | None, strong_model: str | None, prices: PriceBook) -> tuple[str, str]:
    """The cheap and strong model a simulation uses; raises ``UnknownModelError`` for an unpriced one."""
    cheap, strong = default_models(cheap_model, strong_model, prices)
    for model in (cheap, strong):
        prices.rates(model)  # an unknown model fails before the log is touched
    return cheap, strong


def _router_seed(seed: int, now: float) -> int:
    # Request ids depend on the seed *and* the run's end time: the same run is reproducible, and
    # two runs into one log never share a request id.
    return int.from_bytes(hashlib.sha256(f"routermon-ids:{seed}:{now!r}".encode()).digest()[:8], "big")


# -- reading a run back ----------------------------------------------------------------------------


def run_prefix(router_seed: int) -> str:
    """The request-id prefix of one simulation run: its rows, and only its rows, carry it."""
    return f"sim{router_seed & 0xFFFF_FFFF_FFFF:012x}_"


class RunTallier:
    """Folds one run's rows into a ``RunTally``, as the reader tallies (``reader.Tally``): rows of
    simulated traffic only, and with ``prefix`` only the request ids that start with it. A run
    feeds it the rows it hands the log (``CallLog.add_row_observer``), so its summary counts what it
    did itself even when another tool deletes rows meanwhile (a prune)."""

    def __init__(self, scenario: Scenario | None = None, *, prefix: str | None = None) -> None:
        self.prefix = prefix
        self.names = [t.name for t in (scenario.tasks if scenario else [])]
        self.keep_every_task = scenario is not None
        self.total = Tally()
        self.per_task: dict[str, Tally] = {name: Tally() for name in self.names}
        self.answered: set[str] = set()
        self.first_tier: dict[str, str] = {}  # request id -> task
        self.usage: dict[tuple[int, str, str], Tally] = {}
        self._lock = threading.Lock()  # rows may come from a router's thread while a caller reads

    def add_row(self, row: CallRow) -> None:
        if row.source != SOURCE or not is_traffic(row):
            return
        if self.prefix is not None and not row.request_id.startswith(self.prefix):
            return  # another run's row
        with self._lock:
            for tally in (
                self.total,
                self.per_task.setdefault(row.task, Tally()),
                self.usage.setdefault((row.tier, row.role, row.model), Tally()),
            ):
                tally.add_row(row)
            if row.final:
                self.answered.add(row.request_id)
            if row.tier == 0:
                self.first_tier[row.request_id] = row.task

    def add_logged(self, rows) -> None:
        """Rows as a writer is handed them (``CALL_COLUMNS`` order): ``CallLog.add_row_observer``."""
        for values in rows:
            self.add_row(row_to_call((0, *values)))

    def tally(self) -> RunTally:
        with self._lock:
            failed: dict[str, int] = dict.fromkeys(self.names, 0)
            for request_id, task_name in self.first_tier.items():
                if request_id not in self.answered:
                    failed[task_name] = failed.get(task_name, 0) + 1
            tasks = [
                TaskTally.from_tally(t, task=name, escalated=t.cascade_escalated, failed=failed.get(name, 0))
                for name, t in self.per_task.items()
                if t.requests or self.keep_every_task
            ]
            per_tier_model = [
                TierModelStats.of(tier, model, t, role=role) for (tier, role, model), t in self.usage.items()
            ]
            return RunTally.from_tally(
                self.total,
                escalated=self.total.cascade_escalated,
                failed=sum(failed.values()),
                per_task=tasks,
                per_tier_model=sorted(per_tier_model, key=lambda u: (u.tier, -u.calls, u.model, u.role)),
            )


def tally_rows(
    reader: LogReader, after_id: int, scenario: Scenario | None = None, *, prefix: str | None = None
) -> RunTally:
    """Totals of the simulator's rows with ``id > after_id`` whose request ids start with
    ``prefix`` (one run's rows, read back, even while other runs write to the same log), tallied
    as the reader tallies (``reader.Tally``); a run's own summary counts as it goes (``RunTallier``)."""
    tallier = RunTallier(scenario, prefix=prefix)
    last = after_id
    while True:
        rows = reader.calls_after(last, limit=5000)
        if not rows:
            break
        last = rows[-1].id
        for row in rows:
            tallier.add_row(row)
    return tallier.tally()


def project_tally(
    tally: RunTally, days: float, cheap_model: str, strong_model: str, prices: PriceBook | None = None
) -> tuple[float, WhatIfResult]:
    """Monthly volume at the run's rate and its ``whatif.project`` projection, from inputs built
    the way ``whatif.from_log`` builds them from a log's window (``whatif.inputs_from_usage``)."""
    inputs = inputs_from_usage(
        tally.per_tier_model,
        requests=tally.requests,
        cascade_requests=tally.cascade_requests,
        cascade_escalated=tally.cascade_escalated,
        shadow_escalated=tally.shadow_escalated,
        days=days,
        cheap_model=cheap_model,
        strong_model=strong_model,
    )
    return inputs.monthly_requests, project(inputs, prices)


# -- batch simulation ------------------------------------------------------------------------------


def simulate(
    scenario: Scenario | None = None,
    *,
    routers: RouterSource,
    requests: int,
    db_path: str | Path | None = None,
    log: CallLog | None = None,
    threshold: float | None = None,
    mode: str = "cascade",
    days: float = 7.0,
    seed: int = 0,
    cheap_model: str | None = None,
    strong_model: str | None = None,
    audit_share: float | None = None,
    now: float | None = None,
    store_inputs: str | None = None,
    progress: Callable[[SimulationProgress], None] | None = None,
    judge_model: str | None = None,
) -> SimulationSummary:
    """Route ``requests`` requests of ``scenario`` traffic (default: the built-in field report)
    through the real router and the stand-in API, one after another, logging every call.

    ``routers`` (the ``Workspace``) builds the router and the stand-in, so the settings' privacy,
    tiers, per-task thresholds, ``[models]`` and telemetry apply; ``threshold``, ``audit_share``,
    ``store_inputs`` and the models given here win over the settings'. Timestamps are spread over
    the ``days`` days ending at ``now`` (default: the current time) on a virtual clock, so the run
    takes as long as the SDK's work and no more. Write to ``db_path`` (opened and closed here) or
    to an open ``log``. ``progress`` is called after every request. With ``judge_model``,
    free-text pairs (shadow requests, audits) are judged as they are made. A request every tier
    fails on is counted, not raised. Returns this run's totals, read back from the log, and the
    monthly projection at its rate. Bad input raises ``ConfigError``.

    It runs its own event loop: call it from synchronous code or a worker thread, not from a
    coroutine (a TUI runs it in a thread worker).
    """
    check_inputs(threshold=threshold, mode=mode, audit_share=audit_share, requests=requests, days=days)
    _check_one_log(db_path, log)
    scenario = scenario or load_scenario()
    cheap, strong = resolve_models(*routers.models(cheap_model, strong_model), routers.prices)
    now = time.time() if now is None else float(now)
    since = now - days * DAY_SECONDS
    until = now - min(TAIL_SECONDS, 0.01 * days * DAY_SECONDS)
    run = Simulation(scenario=scenario, clock=VirtualClock(since), router_seed=_router_seed(seed, now))
    tallier = RunTallier(scenario, prefix=run_prefix(run.router_seed))
    with _opened(db_path, log) as call_log, _observed(call_log, tallier):
        router = routers.router(
            **_router_options(run, cheap, strong, threshold, mode, audit_share, store_inputs),
            log=call_log,
            seed=seed,
            judge_model=judge_model,
        )
        started = time.perf_counter()
        arrivals = arrival_times(requests, since, until, random.Random(f"routermon-arrivals:{seed}"))
        asyncio.run(_run_batch(router, run, arrivals, traffic(scenario, seed), progress, started))
        call_log.flush(timeout=None)
        wall = time.perf_counter() - started
    window = (days, since, now, wall)
    return _summary(
        call_log, tallier.tally(), run, router, routers.prices, mode=mode, seed=seed, window=window
    )


def _summary(
    call_log: CallLog,
    tally: RunTally,
    run: Simulation,
    router: Router,
    prices: PriceBook,
    *,
    mode: str,
    seed: int,
    window: tuple[float, float, float, float],
) -> SimulationSummary:
    """The run's summary from what it logged (counted as it logged it: a prune meanwhile cannot
    change it); ``window``: (days, since, until, wall seconds)."""
    days, since, until, wall = window
    cheap, strong = router.tiers[0].model, router.tiers[-1].model
    monthly, projection = project_tally(tally, days, cheap, strong, prices)
    return SimulationSummary(
        scenario=run.scenario.name,
        mode=mode,
        threshold=router.tiers[0].threshold,
        cheap_model=cheap,
        strong_model=strong,
        seed=seed,
        db_path=str(call_log.path),
        days=days,
        since=since,
        until=until,
        tally=tally,
        monthly_requests=monthly,
        projection=projection,
        wall_seconds=wall,
    )


def _router_options(
    run: Simulation,
    cheap: str,
    strong: str,
    threshold: float | None,
    mode: str,
    audit_share: float | None,
    store_inputs: str | None,
) -> dict[str, Any]:
    """What ``RouterSource.router`` is asked for a simulated run: the stand-in, this run's rows'
    source and request-id prefix, and the options given (``None``: the settings')."""
    return dict(
        cheap_model=cheap,
        strong_model=strong,
        threshold=threshold,
        mode=mode,
        audit_share=audit_share,
        store_inputs=store_inputs,
        stand_in=True,
        simulation=run,
        source=SOURCE,
        request_prefix=run_prefix(run.router_seed),
    )


async def _run_batch(
    router: Router,
    run: Simulation,
    arrivals: list[float],
    requests: Iterator[SimRequest],
    progress: Callable[[SimulationProgress], None] | None,
    started: float,
) -> None:
    clock = run.clock
    assert isinstance(clock, VirtualClock)
    total = len(arrivals)
    done = failed = escalated = 0
    try:
        for arrival, request in zip(arrivals, requests, strict=False):
            # A request waits for the one before it (one caller, sequential): time never runs back.
            clock.set(max(clock.now(), arrival))
            try:
                result = await router.route(request.spec, request.text, reference=request.reference)
            except RouteFailedError:
                failed += 1
            else:
                escalated += result.escalated
            if router.audit_share or router.pair_observer is not None:
                # Audits and verdicts finish before the next request, so the clock stays ordered.
                await router.drain()
            done += 1
            if progress is not None:
                progress(
                    SimulationProgress.model_construct(
                        done=done,
                        total=total,
                        failed=failed,
                        escalated=escalated,
                        spend_usd=router.spent_usd,
                        elapsed_s=time.perf_counter() - started,
                    )
                )
    finally:
        await router.aclose()


# -- live traffic ----------------------------------------------------------------------------------


async def run_live(
    scenario: Scenario | None = None,
    *,
    routers: RouterSource,
    rate: float,
    db_path: str | Path | None = None,
    log: CallLog | None = None,
    threshold: float | None = None,
    mode: str = "cascade",
    seed: int | None = None,
    cheap_model: str | None = None,
    strong_model: str | None = None,
    audit_share: float | None = None,
    stop_event: threading.Event | None = None,
    duration: float | None = None,
    time_scale: float = 1.0,
    max_in_flight: int = 64,
    grace_s: float = 3.0,
    store_inputs: str | None = None,
    progress: Callable[[SimulationProgress], None] | None = None,
) -> SimulationSummary:
    """Produce ``rate`` requests a second, timestamped now, until ``stop_event`` is set or
    ``duration`` seconds pass (one of them is needed); an asyncio task can run this directly.

    ``routers`` (the ``Workspace``) builds the router and the stand-in, as for ``simulate``.
    Requests overlap like real traffic: each waits the stand-in's latency (× ``time_scale``) and the
    SDK's back-off; at most ``max_in_flight`` run at once. On stop, requests still in flight get
    ``grace_s`` seconds, then are cancelled (and not logged); the log is flushed (and closed when
    opened here) before this returns. ``progress`` is called after every request, from the loop's thread.
    """
    check_inputs(threshold=threshold, mode=mode, audit_share=audit_share, rate=rate, duration=duration)
    if stop_event is None and duration is None:
        raise ConfigError("Live traffic needs a stop event or a duration.")
    _check_one_log(db_path, log)
    if time_scale < 0:
        raise ConfigError(f"The time scale must be at least 0; got {time_scale!r}.")
    scenario = scenario or load_scenario()
    cheap, strong = resolve_models(*routers.models(cheap_model, strong_model), routers.prices)
    seed = random.randrange(2**31) if seed is None else seed
    started_wall = time.time()
    started = time.perf_counter()
    run = Simulation(scenario=scenario, clock=None, router_seed=_router_seed(seed, started_wall))
    tallier = RunTallier(scenario, prefix=run_prefix(run.router_seed))
    with _opened(db_path, log) as call_log, _observed(call_log, tallier):
        router = routers.router(
            **_router_options(run, cheap, strong, threshold, mode, audit_share, store_inputs),
            log=call_log,
            seed=seed,
            stand_in_latency=time_scale,
        )
        try:
            await _live_loop(
                router, scenario, seed, rate, stop_event, duration, max_in_flight, grace_s, progress, started
            )
        finally:
            await router.aclose()
        await asyncio.to_thread(call_log.flush, None)
    elapsed = time.perf_counter() - started
    window = (elapsed / DAY_SECONDS, started_wall, started_wall + elapsed, elapsed)
    return _summary(
        call_log, tallier.tally(), run, router, routers.prices, mode=mode, seed=seed, window=window
    )


def _check_one_log(db_path: str | Path | None, log: CallLog | None) -> None:
    if (db_path is None) == (log is None):
        raise ConfigError("Give the simulation either a database path or an open call log, not both.")


@contextlib.contextmanager
def _opened(db_path: str | Path | None, log: CallLog | None) -> Iterator[CallLog]:
    """The open ``log`` as it is, or a log opened on ``db_path`` and closed when the run ends."""
    if log is not None:
        yield log
        return
    call_log = CallLog(db_path)
    try:
        yield call_log
    finally:
        call_log.close()


@contextlib.contextmanager
def _observed(call_log: CallLog, tallier: RunTallier) -> Iterator[None]:
    """The run's rows reach ``tallier`` as they are handed to the log, for as long as it runs."""
    call_log.add_row_observer(tallier.add_logged)
    try:
        yield
    finally:
        call_log.remove_row_observer(tallier.add_logged)


async def _live_loop(
    router: Router,
    scenario: Scenario,
    seed: int,
    rate: float,
    stop_event: threading.Event | None,
    duration: float | None,
    max_in_flight: int,
    grace_s: float,
    progress: Callable[[SimulationProgress], None] | None,
    started: float,
) -> None:
    arrivals = random.Random(f"routermon-arrivals:{seed}")
    stream = traffic(scenario, seed)
    in_flight: set[asyncio.Task] = set()
    counts = {"done": 0, "failed": 0, "escalated": 0}

    async def one(request: SimRequest) -> None:
        try:
            result = await router.route(request.spec, request.text, reference=request.reference)
        except RouteFailedError:
            counts["failed"] += 1
        else:
            counts["escalated"] += result.escalated
        counts["done"] += 1
        if progress is not None:
            progress(
                SimulationProgress.model_construct(
                    **counts, total=None, spend_usd=router.spent_usd, elapsed_s=time.perf_counter() - started
                )
            )

    def stopped() -> bool:
        if stop_event is not None and stop_event.is_set():
            return True
        return duration is not None and time.perf_counter() - started >= duration

    next_at = time.perf_counter()
    try:
        while not stopped():
            wait = next_at - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(min(wait, 0.1))  # short naps, so a stop is noticed quickly
                continue
            if len(in_flight) >= max_in_flight:
                await asyncio.wait(in_flight, timeout=0.1, return_when=asyncio.FIRST_COMPLETED)
                continue
            task = asyncio.ensure_future(one(next(stream)))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            next_at += arrivals.expovariate(rate)  # Poisson arrivals
        if in_flight:
            await asyncio.wait(set(in_flight), timeout=grace_s)
    finally:
        for task in list(in_flight):
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)


def simulate_live(scenario: Scenario | None = None, **kwargs) -> SimulationSummary:
    """``run_live`` for synchronous code, e.g. the target of a ``threading.Thread``:

    ``threading.Thread(target=simulate_live, kwargs={"rate": 5, "db_path": db, "stop_event": ev})``;
    set ``ev`` to stop. Takes ``run_live``'s arguments; do not call it inside a running event loop.
    """
    return asyncio.run(run_live(scenario, **kwargs))
