"""What the router adds to a request: ``Router.route`` against a bare ``messages.create``.

Both sides send the same request body (checked before timing) through the same in-process
stand-in transport, which answers at once with a confident, well-formed tool call, at the same
fixed concurrency. The router side runs the cascade with logging on (a CallLog on a temporary
database). After every 8 pairs of rounds (400 router requests, about half a second: as often as
the writer commits by default) ``flush()`` commits the block's rows, and its time is added to the
block's router rounds, so all of the writer's work, even what would overlap the next requests on
another core, counts against the router.
Short rounds (50 requests, about 60 ms) alternate, bare first on even pairs and router first on
odd ones, and each pair's ratio is taken: on a shared machine the speed of the CPU swings by a
fifth from one tenth of a second to the next, so many short pairs, and their median, measure the
router and not the neighbours (80 pairs in the quick run, 400 in the full one).

    python bench/overhead.py [--quick] [--json] [--requests N] [--concurrency C] [--round-size R]

Figures: ``overhead_ratio`` (router wall time / bare wall time; target <= 1.10) and
``overhead_us_per_request``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import anthropic
import httpx2
from _common import CHEAP_MODEL, LABELS, STRONG_MODEL, emit, machine, median, message_text, parse_args, say

from routermon.core.log.store import CallLog
from routermon.core.route import tasks as task_lib
from routermon.core.route.models import capabilities
from routermon.core.route.requests import resolve
from routermon.core.route.router import Router
from routermon.core.simulate.standin import StandInAPI, answer

TARGET_RATIO = 1.10
BLOCK = 8  # pairs of rounds between the log's commits: 400 requests, about 0.5 s of router time
WARM_UP = 200  # requests per side before timing
BASE_URL = "http://stand-in.invalid"


def sdk_client(api: StandInAPI) -> anthropic.AsyncAnthropic:
    """A plain ``AsyncAnthropic`` whose HTTP goes to the stand-in (identical for both sides)."""
    return anthropic.AsyncAnthropic(
        api_key="sk-ant-bench-not-a-real-key",
        base_url=BASE_URL,
        http_client=httpx2.AsyncClient(transport=api.transport(), base_url=BASE_URL),
        max_retries=2,
    )


def bare_request(spec: task_lib.TaskSpec, text: str, params: dict) -> dict:
    """The keyword arguments a caller without routermon would pass for the same request.

    Like any caller, it works out its answer format once (``params``: the structured-output schema
    or the tool its model takes, from ``bare_params``) and builds the prompt per request.
    """
    user, boundary = task_lib.user_message(text)
    return {
        "model": CHEAP_MODEL,
        "max_tokens": spec.max_tokens,
        "system": spec.system_prompt(
            boundary, json_reply="output_config" in params and "tools" not in params
        ),
        "messages": [{"role": "user", "content": user}],
        **params,
        "extra_headers": {"x-routermon-task": spec.name},
    }


def bare_params(spec: task_lib.TaskSpec) -> dict:
    """What the cheap model's request carries besides the prompt, as the API documents it for
    that model (the same capability table the router reads)."""
    return resolve(capabilities(CHEAP_MODEL)).params(spec)


def confident_reply():
    return answer("safe", 0.97, input_tokens=180, output_tokens=28)


async def check_same_body(spec: task_lib.TaskSpec, tmp: Path) -> None:
    """Both sides must put the same bytes on the wire, or the comparison means nothing."""
    api = StandInAPI(record_requests=True)
    api.enqueue(confident_reply(), confident_reply())
    router = Router(CHEAP_MODEL, STRONG_MODEL, 0.7, client=sdk_client(api), log=None)
    text = message_text(random.Random(1), 0)
    await router.route(spec, text)
    bare = sdk_client(api)
    kwargs = bare_request(spec, text, bare_params(spec))
    await bare.messages.create(**kwargs)
    await router.aclose()
    await bare.close()
    routed, direct = api.requests
    if json.dumps(routed, sort_keys=True) != json.dumps(direct, sort_keys=True):
        raise SystemExit("overhead: the router and the bare client sent different request bodies")


async def timed_round(run, count: int, concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)
    gc.collect()  # every round starts with the same heap, outside the timing

    async def one(i: int) -> None:
        async with gate:
            await run(i)

    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(count)))
    return time.perf_counter() - start


def in_memory_telemetry():
    """The OpenTelemetry export as a service runs it (a batch processor on its own thread), into
    memory instead of a collector; ``None`` without the SDK."""
    try:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    except ImportError:
        return None
    from routermon.core.route.telemetry import Telemetry

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(InMemorySpanExporter()))
    return Telemetry(provider.get_tracer("bench"))


async def measure(requests: int, concurrency: int, round_size: int, tmp: Path, args, telemetry=None) -> dict:
    spec = task_lib.classify(list(LABELS))
    await check_same_body(spec, tmp)
    api = StandInAPI(record_requests=False)
    # The log commits only when a block's flush() asks (about every 0.5 s of router time, as often as
    # the default max_delay would), so none of the writer's work can land in a bare round.
    log = CallLog(tmp / f"overhead-{id(telemetry)}.db", max_delay=3600.0, idle_after=3600.0)
    router = Router(CHEAP_MODEL, STRONG_MODEL, 0.7, client=sdk_client(api), log=log, telemetry=telemetry)
    bare = sdk_client(api)
    rng = random.Random(7)
    pairs = max(1, requests // round_size)
    texts = [[message_text(rng, p * round_size + i) for i in range(round_size)] for p in range(pairs)]
    warm_up = [message_text(rng, -1 - i) for i in range(2 * WARM_UP)]

    async def router_round(batch: list[str]) -> float:
        api.enqueue(*(confident_reply() for _ in batch))

        async def run(i: int) -> None:
            result = await router.route(spec, batch[i])
            assert result.tier == 0

        return await timed_round(run, len(batch), concurrency)

    def commit() -> float:
        start = time.perf_counter()
        log.flush()
        return time.perf_counter() - start

    tools = bare_params(spec)

    async def bare_round(batch: list[str]) -> float:
        api.enqueue(*(confident_reply() for _ in batch))

        async def run(i: int) -> None:
            message = await bare.messages.create(**bare_request(spec, batch[i], tools))
            assert message.content[0].type in ("tool_use", "text")

        return await timed_round(run, len(batch), concurrency)

    # Warm-up: imports, connection pools, the tool-schema cache, SQLite pages.
    await bare_round(warm_up[:WARM_UP])
    await router_round(warm_up[WARM_UP:])
    commit()
    # What exists now (modules, the clients, the schema cache) lives to the end: out of the collector's
    # way, so the collection before each round costs the same short time whatever came before it.
    gc.collect()
    gc.freeze()
    router_times, bare_times, commit_times = [], [], []
    for p in range(pairs):
        if p % 2 == 0:
            bare_times.append(await bare_round(texts[p]))
            router_times.append(await router_round(texts[p]))
        else:
            router_times.append(await router_round(texts[p]))
            bare_times.append(await bare_round(texts[p]))
        if (p + 1) % BLOCK == 0 or p == pairs - 1:
            # The block's rows are committed now, and the commit's time is shared among the block's
            # router rounds by the rows each logged: all of the writer's work counts against the router.
            block = len(router_times) - len(commit_times)
            spent = commit()
            commit_times.extend([spent / block] * block)
        if (p + 1) % max(1, pairs // 5) == 0:
            say(args, f"  {p + 1}/{pairs} pairs of rounds")
    router_times = [r + c for r, c in zip(router_times, commit_times, strict=True)]
    await router.aclose()
    await bare.close()
    log.close()
    logged = log.committed
    expected = pairs * round_size + WARM_UP
    if logged != expected or api.internal_errors:
        raise SystemExit(f"overhead: {logged} rows logged, expected {expected}")
    ratios = [r / b for r, b in zip(router_times, bare_times, strict=True)]
    extra_us = [(r - b) / round_size * 1e6 for r, b in zip(router_times, bare_times, strict=True)]
    return {
        "commit_us_per_request": round(sum(commit_times) / (pairs * round_size) * 1e6, 1),
        "overhead_ratio": round(median(ratios), 4),
        "overhead_us_per_request": round(median(extra_us), 1),
        "router_us_per_request": round(median(router_times) / round_size * 1e6, 1),
        "bare_us_per_request": round(median(bare_times) / round_size * 1e6, 1),
        "total_wall_ratio": round(sum(router_times) / sum(bare_times), 4),
        "requests_per_side": pairs * round_size,
        "round_size": round_size,
        "pairs": pairs,
        "concurrency": concurrency,
        "rows_logged": logged,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        requests={
            "type": int,
            "default": None,
            "help": "requests per side (default 4,000 quick, 20,000 full)",
        },
        concurrency={"type": int, "default": 8, "help": "requests in flight (default 8)"},
        round_size={"type": int, "default": 50, "help": "requests per timed round (default 50)"},
    )
    requests = args.requests or (4_000 if args.quick else 20_000)
    say(
        args,
        f"overhead: {requests:,} requests per side, concurrency {args.concurrency}, rounds of {args.round_size}",
    )
    with tempfile.TemporaryDirectory(prefix="routermon-bench-") as tmp:
        figures = asyncio.run(measure(requests, args.concurrency, args.round_size, Path(tmp), args))
        telemetry = in_memory_telemetry()
        if telemetry is not None:  # the same measure with a span per request and per call
            say(args, "overhead: again with the OpenTelemetry export on")
            otel = asyncio.run(
                measure(requests, args.concurrency, args.round_size, Path(tmp), args, telemetry)
            )
            figures["otel_overhead_ratio"] = otel["overhead_ratio"]
            figures["otel_overhead_us_per_request"] = otel["overhead_us_per_request"]
    figures.update(
        benchmark="overhead",
        mode="quick" if args.quick else "full",
        target_overhead_ratio=TARGET_RATIO,
        target_met=figures["overhead_ratio"] <= TARGET_RATIO,
        machine=machine(),
    )
    say(
        args,
        f"router {figures['router_us_per_request']} us/request, bare {figures['bare_us_per_request']} us/request: "
        f"ratio {figures['overhead_ratio']} (target <= {TARGET_RATIO}), "
        f"+{figures['overhead_us_per_request']} us/request",
    )
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
