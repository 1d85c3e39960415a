"""How long ``routermon logs -q`` takes on a big log: ``LogReader.search_calls`` with a search, as
the command calls it, on a log of realistic rows (80-character previews of 20-60 word messages,
JSON answers), written through the call log's writer so the triggers build the full-text index.

    python bench/search.py [--quick] [--json] [--rows N] [--repeats R]

Searches, each run ``--repeats`` times (the median counts): a word in about one row in five
(``refund``, the newest 20 of them), two words together, a rare token (one message's ``#index``),
a word no row holds, ``refund`` limited to the last hour, and ``refund`` in strong calls only (too
few among the newest matches, so every match is read). Figures: ``search_ms`` per search,
``search_ms_worst`` (target <= 200 ms at 1,000,000 rows), ``command_s``: one whole
``routermon logs -q refund`` process (start-up included), ``index_mb`` the index's share of the
file and ``file_mb`` the whole file.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import emit, machine, median, parse_args, realistic_rows, say

from routermon.core.log.db import SEARCH_TABLE as FTS_TABLE
from routermon.core.log.db import connect
from routermon.core.log.logquery import CallFilters
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog

TARGET_MS = 200.0
CHUNK = 10_000


def build(path: Path, rows: int) -> float:
    """Write ``rows`` rows through the writer; returns the newest row's time."""
    newest = 0.0
    with CallLog(path) as log:
        batch = []
        for row in realistic_rows(rows, seed=3):
            batch.append(row)
            if len(batch) == CHUNK:
                log.log_rows(batch)
                batch = []
            newest = row[0]
        log.log_rows(batch)
    return newest


def index_mb(path: Path) -> float:
    conn = connect(path)
    try:
        pages = conn.execute(
            "SELECT SUM(pgsize) FROM dbstat WHERE name LIKE ?", [f"{FTS_TABLE}%"]
        ).fetchone()[0]
    except Exception:  # dbstat is a compile-time option of SQLite
        pages = None
    finally:
        conn.close()
    return round(pages / 1e6, 1) if pages else -1.0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        rows={
            "type": int,
            "default": None,
            "help": "rows in the log (default 200,000 quick, 1,000,000 full)",
        },
        repeats={"type": int, "default": None, "help": "runs per search (default 5 quick, 9 full)"},
    )
    count = args.rows or (200_000 if args.quick else 1_000_000)
    repeats = args.repeats or (5 if args.quick else 9)
    with tempfile.TemporaryDirectory(prefix="routermon-bench-") as tmp:
        path = Path(tmp) / "calls.db"
        say(args, f"search: writing {count:,} rows…")
        start = time.perf_counter()
        newest = build(path, count)
        say(args, f"  written in {time.perf_counter() - start:.1f} s")
        searches = {
            "common_word": CallFilters(search="refund"),
            "two_words": CallFilters(search="refund urgent"),
            "rare_token": CallFilters(search=f"#{count // 3}"),
            "no_match": CallFilters(search="zebra"),
            "common_last_hour": CallFilters(search="refund", since=newest - 3600),
            # Too few of the newest matches are strong calls: every match is read (the slow path).
            "common_strong_role": CallFilters(search="refund", role="strong"),
        }
        figures_ms, found = {}, {}
        with LogReader(path) as reader:
            for name, filters in searches.items():
                times = []
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    rows = reader.search_calls(filters, 20)
                    times.append((time.perf_counter() - t0) * 1000)
                figures_ms[name] = round(median(times), 2)
                found[name] = len(rows)
                say(args, f"  {name}: {figures_ms[name]} ms ({len(rows)} rows)")
        command = []
        exe = Path(sys.executable).with_name("routermon")
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(
                [str(exe), "logs", "--db", str(path), "-q", "refund"], check=True, capture_output=True
            )
            command.append(time.perf_counter() - t0)
        size = index_mb(path)
        file_mb = round(path.stat().st_size / 1e6, 1)
    worst = max(figures_ms.values())
    figures = {
        "benchmark": "search",
        "mode": "quick" if args.quick else "full",
        "rows": count,
        "repeats": repeats,
        "search_ms": figures_ms,
        "rows_found": found,
        "search_ms_worst": worst,
        "command_s": round(median(command), 3),
        "index_mb": size,
        "file_mb": file_mb,
        "target_search_ms": TARGET_MS,
        "target_met": worst <= TARGET_MS,
        "machine": machine(),
    }
    say(
        args,
        f"worst search {worst} ms (target <= {TARGET_MS:.0f}); routermon logs -q {figures['command_s']} s",
    )
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
