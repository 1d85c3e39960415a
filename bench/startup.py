"""How fast ``routermon`` answers at a prompt: ``routermon --help`` against ``python -c "import click"``.

Both are started as fresh processes, alternately, ``--runs`` times each (10 by default); the figures
are the medians: ``help_s`` (seconds for ``routermon --help``), ``click_s`` (the floor: Python
starting and importing click) and ``vs_click_ratio`` (help_s / click_s, measured in the same run).
Also ``command_help_s``: the slowest median of a command's ``--help`` over every command.
Targets: ``help_s`` <= 0.5 and ``vs_click_ratio`` <= 3.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import emit, machine, parse_args, say

from routermon.tui.cli import COMMANDS


def _seconds(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    args = parse_args(__doc__, runs={"type": int, "default": 10, "help": "runs of each (default 10)"})
    runs = 5 if args.quick else args.runs
    routermon = str(Path(sys.executable).with_name("routermon"))
    click_cmd = [sys.executable, "-c", "import click"]
    help_times, click_times = [], []
    for _ in range(runs):
        click_times.append(_seconds(click_cmd))
        help_times.append(_seconds([routermon, "--help"]))
    help_s, click_s = statistics.median(help_times), statistics.median(click_times)
    say(args, f"routermon --help: median {help_s * 1000:.0f} ms over {runs} runs")
    say(args, f"python -c 'import click': median {click_s * 1000:.0f} ms ({help_s / click_s:.2f}x)")
    per_command = {}
    for entry in COMMANDS:
        per_command[entry.name] = statistics.median(
            _seconds([routermon, entry.name, "--help"]) for _ in range(max(3, runs // 2))
        )
        say(args, f"routermon {entry.name} --help: median {per_command[entry.name] * 1000:.0f} ms")
    emit(
        {
            "bench": "startup",
            "runs": runs,
            "help_s": round(help_s, 4),
            "click_s": round(click_s, 4),
            "vs_click_ratio": round(help_s / click_s, 3),
            "command_help_s": round(max(per_command.values()), 4),
            "slowest_command": max(per_command, key=per_command.get),
            "machine": machine(),
        }
    )


if __name__ == "__main__":
    main()
