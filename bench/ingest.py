"""How fast the call log's writer commits rows, against a bare ``sqlite3.executemany``.

Both sides write the same realistic rows (shaped like the router's: about 8% of requests escalate
and log two rows) into a fresh database with the same schema and pragmas (both opened through
``routermon.core.log.db.connect``). The writer side queues the rows with ``CallLog.log_rows`` in chunks
of 1,000, as an importer does, and the clock stops when ``flush()`` returns (every row committed).
The bare side inserts them with one ``executemany`` in one transaction, its best case. Repetitions
alternate which side goes first; figures are medians.

    python bench/ingest.py [--quick] [--json] [--rows N] [--repeats R] [--db postgresql://…]

With ``--db postgresql://user@host/db`` it measures the writer into PostgreSQL instead (each run in
a schema of its own, dropped after): ``rows_per_s`` (target >= 20,000) and ``vs_copy_ratio``, the
writer's rate over a bare psycopg ``COPY`` of the same rows into the same schema (its indexes, the
search index included) followed by the same rollup statements in the same transaction (target
>= 0.5); ``copy_rows_only_per_s`` is that COPY without the rollups.

Figures: ``rows_per_s`` (target >= 100,000) and ``vs_bare_ratio`` (writer rate / bare rate, target
>= 0.5). Also ``rows_per_s_random_ids``: the writer with random request ids (as seeded simulations
and imports write), which index less well than the router's time-ordered ids. Both sides keep what
every transaction must keep beside the rows (``db.after_insert``: the full-text index and the
rollups, a few statements per transaction); ``derived_writer_ratio`` is the writer's rate with them
over its rate with them skipped, runs alternating in the same process
(``rows_per_s_without_derived``).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from _common import emit, machine, median, parse_args, realistic_rows, say

from routermon.core.log import store
from routermon.core.log.db import after_insert, connect
from routermon.core.log.records import CALL_COLUMNS
from routermon.core.log.store import INSERT_SQL, CallLog

TARGET_ROWS_PER_S = 100_000
TARGET_VS_BARE = 0.5
TARGET_PG_ROWS_PER_S = 20_000
CHUNK = 1_000


def count_rows(path: Path | str) -> int:
    conn = connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    finally:
        conn.close()


def bare_rate(rows: list[tuple], path: Path) -> float:
    """Rows per second of one ``executemany`` in one transaction, indexed for search and rolled
    up as the writer's transactions are (``after_insert``)."""
    conn = connect(path)
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(INSERT_SQL, rows)
    after_insert(conn, 0)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    if count_rows(path) != len(rows):
        raise SystemExit("ingest: the bare insert lost rows")
    return len(rows) / elapsed


@contextlib.contextmanager
def without_derived() -> Iterator[None]:
    """The writer with its per-batch index and rollup statements skipped (rows only)."""
    saved = store.after_insert
    store.after_insert = lambda conn, after_id: None
    try:
        yield
    finally:
        store.after_insert = saved


def writer_rate(rows: list[tuple], path: Path | str, *, derived: bool = True) -> float:
    """Rows per second from the first ``log_rows`` to ``flush()`` returning."""
    with contextlib.nullcontext() if derived else without_derived():
        log = CallLog(path)
        start = time.perf_counter()
        for i in range(0, len(rows), CHUNK):
            log.log_rows(rows[i : i + CHUNK])
        committed = log.flush(timeout=None)
        elapsed = time.perf_counter() - start
        log.close()
    if committed != len(rows) or count_rows(path) != len(rows):
        raise SystemExit("ingest: the call log lost rows")
    return len(rows) / elapsed


@contextlib.contextmanager
def pg_schema(url: str, name: str) -> Iterator[str]:
    """A URL putting every table of the log in a fresh schema ``name`` of ``url``'s database."""
    from urllib.parse import quote

    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{url}{'&' if '?' in url else '?'}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def copy_rate(rows: list[tuple], url: str, *, derived: bool = True) -> float:
    """Rows per second of one psycopg COPY into the log's own ``calls`` table (its schema made by
    ``connect``), then (``derived``) the rollup statements, in one transaction."""
    conn = connect(url)  # the schema, migrated; a PgConnection
    start = time.perf_counter()
    conn.execute("BEGIN")
    conn.copy_rows("calls", CALL_COLUMNS, rows)
    if derived:
        after_insert(conn, 0)
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    if count_rows(url) != len(rows):
        raise SystemExit("ingest: the bare COPY lost rows")
    return len(rows) / elapsed


def postgres(args, rows: list[tuple], count: int, repeats: int) -> int:
    """The PostgreSQL figures (module docstring): writer against COPY, runs alternating."""
    writer, copies, ratios, copy_only = [], [], [], []
    for run in range(repeats):
        with pg_schema(args.db, f"bench_w{run}") as w_url, pg_schema(args.db, f"bench_c{run}") as c_url:
            with pg_schema(args.db, f"bench_p{run}") as p_url:
                if run % 2 == 0:
                    c = copy_rate(rows, c_url)
                    w = writer_rate(rows, w_url)
                    plain = copy_rate(rows, p_url, derived=False)
                else:
                    plain = copy_rate(rows, p_url, derived=False)
                    w = writer_rate(rows, w_url)
                    c = copy_rate(rows, c_url)
        writer.append(w)
        copies.append(c)
        ratios.append(w / c)
        copy_only.append(plain)
        say(
            args,
            f"  run {run + 1}: writer {w:,.0f} rows/s, COPY {c:,.0f} rows/s, COPY rows only {plain:,.0f}",
        )
    figures = {
        "benchmark": "ingest",
        "backend": "postgresql",
        "mode": "quick" if args.quick else "full",
        "rows": count,
        "repeats": repeats,
        "rows_per_s": round(median(writer)),
        "copy_rows_per_s": round(median(copies)),
        "vs_copy_ratio": round(median(ratios), 3),
        "copy_rows_only_per_s": round(median(copy_only)),
        "target_rows_per_s": TARGET_PG_ROWS_PER_S,
        "target_vs_copy_ratio": TARGET_VS_BARE,
        "machine": machine(),
    }
    figures["target_met"] = (
        figures["rows_per_s"] >= TARGET_PG_ROWS_PER_S and figures["vs_copy_ratio"] >= TARGET_VS_BARE
    )
    say(
        args,
        f"writer {figures['rows_per_s']:,} rows/s into PostgreSQL (target >= {TARGET_PG_ROWS_PER_S:,}), "
        f"{figures['vs_copy_ratio']}x a bare COPY with the rollups (target >= {TARGET_VS_BARE}); "
        f"COPY of the rows alone {figures['copy_rows_only_per_s']:,} rows/s",
    )
    emit(figures)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__.splitlines()[0],
        argv,
        rows={"type": int, "default": None, "help": "rows per run (default 100,000 quick, 500,000 full)"},
        repeats={"type": int, "default": None, "help": "runs per side (default 3 quick, 5 full)"},
        db={"default": None, "help": "a postgresql:// URL: measure the writer into PostgreSQL"},
    )
    count = args.rows or (100_000 if args.quick else 500_000)
    repeats = args.repeats or (3 if args.quick else 5)
    if args.db:
        say(args, f"ingest into PostgreSQL: {count:,} rows, {repeats} runs per side")
        return postgres(args, list(realistic_rows(count, seed=1)), count, repeats)
    say(args, f"ingest: {count:,} rows, {repeats} runs per side")
    rows = list(realistic_rows(count, seed=1))
    random_id_rows = list(realistic_rows(count, seed=1, time_ordered_ids=False))
    writer, bare, ratios, without_derived, derived_ratios = [], [], [], [], []
    with tempfile.TemporaryDirectory(prefix="routermon-bench-") as tmp:
        for run in range(repeats):
            paths = (Path(tmp) / f"bare-{run}.db", Path(tmp) / f"log-{run}.db")
            plain_path = Path(tmp) / f"plain-{run}.db"  # the writer without index and rollups
            if run % 2 == 0:
                b = bare_rate(rows, paths[0])
                w = writer_rate(rows, paths[1])
                plain = writer_rate(rows, plain_path, derived=False)
            else:
                plain = writer_rate(rows, plain_path, derived=False)
                w = writer_rate(rows, paths[1])
                b = bare_rate(rows, paths[0])
            for path in (*paths, plain_path):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            writer.append(w)
            bare.append(b)
            ratios.append(w / b)
            without_derived.append(plain)
            derived_ratios.append(w / plain)
            say(
                args,
                f"  run {run + 1}: writer {w:,.0f} rows/s, bare {b:,.0f} rows/s, "
                f"writer without index and rollups {plain:,.0f} rows/s",
            )
        random_ids = writer_rate(random_id_rows, Path(tmp) / "log-random-ids.db")
    figures = {
        "benchmark": "ingest",
        "mode": "quick" if args.quick else "full",
        "rows": count,
        "repeats": repeats,
        "rows_per_s": round(median(writer)),
        "bare_rows_per_s": round(median(bare)),
        "vs_bare_ratio": round(median(ratios), 3),
        "rows_per_s_random_ids": round(random_ids),
        "rows_per_s_without_derived": round(median(without_derived)),
        "derived_writer_ratio": round(median(derived_ratios), 3),
        "target_rows_per_s": TARGET_ROWS_PER_S,
        "target_vs_bare_ratio": TARGET_VS_BARE,
        "machine": machine(),
    }
    figures["target_met"] = (
        figures["rows_per_s"] >= TARGET_ROWS_PER_S and figures["vs_bare_ratio"] >= TARGET_VS_BARE
    )
    say(
        args,
        f"writer {figures['rows_per_s']:,} rows/s (target >= {TARGET_ROWS_PER_S:,}), "
        f"{figures['vs_bare_ratio']}x bare (target >= {TARGET_VS_BARE}); "
        f"random request ids {figures['rows_per_s_random_ids']:,} rows/s; with index and rollups "
        f"{figures['derived_writer_ratio']}x the rate without them",
    )
    emit(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
