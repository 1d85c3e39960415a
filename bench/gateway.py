"""What the gateway adds to an app's calls: the same requests through the ``anthropic`` SDK directly
and through ``routermon gateway``, against the stand-in served on loopback (its own process,
answering at once), logging on.

* ``added_ms``: median over rounds of (gateway round median - direct round median), one request at
  a time; rounds alternate which side goes first. ``added_ms_shadowing``: the same with a second
  gateway shadowing 5% of the calls (the client should not pay for it).
* ``added_ttft_ms``: the same for a stream's time to its first text.
* ``throughput_ratio``: requests per second at 64 concurrent (``AsyncAnthropic``) through the
  gateway over direct, alternating rounds.
* ``rss_first_mb`` / ``rss_last_mb``: the gateway process's resident memory after the first and the
  last tenth of a long run (flat: the last within 10% of the first); ``rss_peak_mb`` its high mark.
"""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anthropic
from _common import emit, machine, parse_args, say

CHEAP = "claude-haiku-4-5"
MESSAGES = [{"role": "user", "content": "My invoice is wrong, please check order 1234"}]
KEY = "sk-ant-bench"


def error_free_scenario(tmp: Path) -> Path:
    """The built-in scenario with its injected errors (429, 529, 5xx...) turned off: every call answers."""
    source = (Path(__file__).resolve().parents[1] / "core/simulate/default_scenario.toml").read_text()
    path = tmp / "scenario.toml"
    path.write_text(re.sub(r"(?m)^errors = \{.*\}$", "errors = {}", source))
    return path


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def start(args: list[str], port: int) -> subprocess.Popen:
    """A ``routermon`` command serving on ``port``, once it answers."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "routermon"), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            if process.poll() is not None:
                error = process.stderr.read().decode()[-500:]
                raise SystemExit(f"routermon {args[0]} did not start: {error}") from None
            time.sleep(0.05)
    raise SystemExit(f"routermon {args[0]} did not answer on port {port}.")


def one_call(client: anthropic.Anthropic) -> float:
    started = time.perf_counter()
    client.messages.create(model=CHEAP, max_tokens=64, messages=MESSAGES)
    return (time.perf_counter() - started) * 1000


def first_text(client: anthropic.Anthropic) -> float:
    started = time.perf_counter()
    with client.messages.stream(model=CHEAP, max_tokens=64, messages=MESSAGES) as stream:
        for _ in stream.text_stream:
            first = time.perf_counter()
            break
        else:
            first = time.perf_counter()
        stream.until_done()
    return (first - started) * 1000


def added(
    direct: anthropic.Anthropic, through: anthropic.Anthropic, measure, rounds: int, size: int
) -> float:
    """Median over rounds of the difference of the two sides' round medians (ms)."""
    for client in (direct, through):  # warm connections
        for _ in range(5):
            measure(client)
    differences = []
    for i in range(rounds):
        order = (direct, through) if i % 2 == 0 else (through, direct)
        medians = {id(c): statistics.median(measure(c) for _ in range(size)) for c in order}
        differences.append(medians[id(through)] - medians[id(direct)])
    return statistics.median(differences)


async def rate(base_url: str, requests: int, concurrency: int) -> float:
    """Requests per second with ``concurrency`` in flight."""
    client = anthropic.AsyncAnthropic(base_url=base_url, api_key=KEY, max_retries=0)
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            await client.messages.create(model=CHEAP, max_tokens=64, messages=MESSAGES)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await client.close()
    return requests / elapsed


def throughput_ratio(direct_url: str, gateway_url: str, requests: int, rounds: int) -> float:
    ratios = []
    for i in range(rounds):
        order = (direct_url, gateway_url) if i % 2 == 0 else (gateway_url, direct_url)
        rates = {url: asyncio.run(rate(url, requests, 64)) for url in order}
        ratios.append(rates[gateway_url] / rates[direct_url])
    return statistics.median(ratios)


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident, high mark) of process ``pid`` in MB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line
    )
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def rss_run(client: anthropic.Anthropic, pid: int, requests: int) -> dict:
    tenth = max(1, requests // 10)
    marks = []
    for i in range(requests):
        client.messages.create(model=CHEAP, max_tokens=64, messages=MESSAGES)
        if (i + 1) % tenth == 0:
            marks.append(rss_mb(pid)[0])
    return {"rss_first_mb": round(marks[0], 1), "rss_last_mb": round(marks[-1], 1),
            "rss_peak_mb": round(rss_mb(pid)[1], 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        rounds=dict(type=int, default=None, help="rounds per latency measure (default 30, quick 10)"),
        rss_requests=dict(type=int, default=None, help="requests of the memory run (default 20,000, quick 2,000)"),
    )  # fmt: skip
    rounds = args.rounds or (10 if args.quick else 30)
    rss_requests = args.rss_requests or (2_000 if args.quick else 20_000)
    tmp = Path(tempfile.mkdtemp(prefix="routermon-bench-gateway-"))
    ports = {name: free_port() for name in ("standin", "gateway", "shadowing")}
    upstream = f"http://127.0.0.1:{ports['standin']}"
    processes = [
        start(
            [
                "stand-in",
                "--port",
                str(ports["standin"]),
                "--time-scale",
                "0",
                "--scenario",
                str(error_free_scenario(tmp)),
            ],
            ports["standin"],
        )
    ]
    try:
        for name, share in (("gateway", "0"), ("shadowing", "5%")):
            command = ["gateway", "--port", str(ports[name]), "--upstream", upstream, "--db", str(tmp / f"{name}.db"),
                       "--shadow-share", share]  # fmt: skip
            processes.append(start(command, ports[name]))
        clients = {
            name: anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key=KEY, max_retries=0)
            for name, port in ports.items()
        }
        figures = {}
        say(args, f"added latency, {rounds} rounds of 20 ...")
        figures["added_ms"] = added(clients["standin"], clients["gateway"], one_call, rounds, 20)
        figures["added_ms_shadowing"] = added(clients["standin"], clients["shadowing"], one_call, rounds, 20)
        say(args, "added time to first token ...")
        figures["added_ttft_ms"] = added(clients["standin"], clients["gateway"], first_text, rounds, 10)
        say(args, "throughput at 64 concurrent ...")
        gateway_url = f"http://127.0.0.1:{ports['gateway']}"
        figures["throughput_ratio"] = throughput_ratio(upstream, gateway_url, 640 if args.quick else 2_560, 3)
        say(args, f"memory over {rss_requests} requests ...")
        figures.update(rss_run(clients["gateway"], processes[1].pid, rss_requests))
    finally:
        for process in processes:
            process.terminate()
            process.wait(60)
    figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in figures.items()}
    for name, value in figures.items():
        say(args, f"  {name:20} {value}")
    emit({"bench": "gateway", "quick": args.quick, **figures, "machine": machine()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
