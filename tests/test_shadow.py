"""Shadow runs over a file: pairs logged, interrupted and resumed without loss or duplicates."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

from routermon.core.measure.shadowrun import SOURCE, done_inputs, read_inputs, run_shadow
from routermon.core.route.router import Router
from routermon.core.simulate.scenario import load_scenario
from routermon.core.simulate.standin import StandInAPI

LABELS = ["safe", "unsafe", "review-needed"]


def write_inputs(path, n):
    with open(path, "w") as f:
        for i in range(n):
            f.write(
                json.dumps({"text": f"customer message {i} about an order", "reference": LABELS[i % 3]})
                + "\n"
            )


def pair_counts(db):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT request_id) FROM calls").fetchone()
    cheap = conn.execute(
        "SELECT COUNT(*), COUNT(DISTINCT input_sha256) FROM calls WHERE role = 'cheap'"
    ).fetchone()
    shadow = conn.execute("SELECT COUNT(*) FROM calls WHERE role = 'shadow'").fetchone()[0]
    return rows, cheap, shadow


def make_router(db, seed=0):
    api = StandInAPI(scenario=load_scenario(), seed=seed)
    return Router(
        "claude-haiku-4-5",
        "claude-sonnet-4-6",
        0.7,
        mode="shadow",
        client=api.client(),
        log=db,
        source=SOURCE,
    )


def test_interrupted_run_resumes_without_loss_or_duplicates(tmp_path):
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_inputs(src, 200)
    items = read_inputs(src)
    stop = threading.Event()

    def stop_after_60(progress):
        if progress.done >= 60:
            stop.set()

    async def first():
        router = make_router(db)
        try:
            return await run_shadow(
                router, "classify", items, labels=LABELS, concurrency=6, stop=stop, on_progress=stop_after_60
            )
        finally:
            await router.aclose()

    p1 = asyncio.run(first())
    assert 60 <= p1.done < 200
    assert len(done_inputs(db, "classify")) == p1.done

    async def resume():
        router = make_router(db, seed=1)
        try:
            return await run_shadow(
                router, "classify", items, labels=LABELS, concurrency=6, skip=done_inputs(db, "classify")
            )
        finally:
            await router.aclose()

    p2 = asyncio.run(resume())
    assert p2.skipped == p1.done and p1.done + p2.done + p2.failed == 200
    (rows, requests), (cheap, distinct_inputs), shadow = pair_counts(db)
    assert cheap == distinct_inputs == 200 and shadow == 200 and rows == 400 and requests == 200


def test_sigint_keeps_finished_pairs_and_resume_completes(tmp_path):
    src, db = tmp_path / "in.jsonl", tmp_path / "log.db"
    write_inputs(src, 300)
    cmd = [
        sys.executable,
        "-m",
        "routermon.tui.cli",
        "shadow",
        str(src),
        "--labels",
        ",".join(LABELS),
        "--fake",
        "--fake-latency",
        "0.05",
        "--concurrency",
        "4",
        "--db",
        str(db),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until some pairs are committed
        time.sleep(0.3)
        if db.exists() and len(done_inputs(db, "classify")) >= 10:
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Interrupted" in out and "Traceback" not in err
    finished = int(out.split(" pairs logged")[0].split()[-1])
    assert 10 <= finished < 300
    assert len(done_inputs(db, "classify")) == finished  # every finished pair was kept
    resumed = subprocess.run(
        [*cmd[:-4], "--resume", "--db", str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
    )
    assert resumed.returncode == 0, resumed.stderr
    (rows, requests), (cheap, distinct), shadow = pair_counts(db)
    assert cheap == distinct == 300 and shadow == 300 and requests == 300


def test_csv_inputs_with_reference(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('id,text,reference\n1,"hello, world",safe\n2,second,\n')
    items = read_inputs(path)
    assert [(i.id, i.text, i.reference) for i in items] == [
        ("1", "hello, world", "safe"),
        ("2", "second", None),
    ]
