"""The terminal app on one log, headless, timed as a person would see it (``bench/scale.py`` runs it
in a child process of its own, so its peak RSS is the app's alone).

    python bench/_scale_app.py LOG TASK MODEL

What it does, as ``routermon`` with no command does it (``launch.run_app``): check the log with a
``LogReader``, start ``RoutermonApp`` (polling every second), and wait until the Live screen's
Requests card shows a number (``open_s``); press ``5`` and wait until the Tasks table has its rows
(``tasks_s``) and its cheap accuracy (``tasks_quality_s``); press ``1``, choose TASK in the task
filter and wait until the Live table holds that task's calls (``filter_task_s``), then MODEL in
the model filter on top (``filter_model_s``). Prints one JSON line; a step that never finishes
within the wait gives ``null``.
"""

from __future__ import annotations

import time

START = time.perf_counter()  # before the imports: they are part of what a person waits for

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from routermon.core.reader import LogReader  # noqa: E402
from routermon.core.workspace import Workspace  # noqa: E402
from routermon.tui.app import RoutermonApp  # noqa: E402
from routermon.tui.screens.tasks import TasksScreen  # noqa: E402
from routermon.tui.widgets.calls_table import CallsTable  # noqa: E402
from routermon.tui.widgets.tasks_table import TasksTable  # noqa: E402

WAIT_S = 900.0  # the longest any one step is waited for (10M rows before rollups: about a minute)
STEP_S = 0.01


async def until(pilot, done, limit: float = WAIT_S) -> float | None:
    """Seconds until ``done()`` holds, checked between the app's message rounds; None past ``limit``."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > limit:
            return None
        await pilot.pause(STEP_S)
    return time.perf_counter() - start


async def filtered(pilot, app, select_id: str, value: str) -> float | None:
    """Choose ``value`` in the Live screen's ``select_id`` filter; seconds until its table is refilled."""
    screen = app.screen
    made = []
    run_worker = screen.run_worker

    def noted(*args, **kwargs):  # the filter's worker ends (and leaves app.workers) within a pause
        worker = run_worker(*args, **kwargs)
        made.append(worker)
        return worker

    screen.run_worker = noted
    start = time.perf_counter()
    screen.query_one(f"#{select_id}").value = value
    # call_from_thread waits for _show_rows, so the worker ends once the table holds the rows.
    done = await until(pilot, lambda: any(w.name == "filter" and w.is_finished for w in made))
    screen.run_worker = run_worker
    return None if done is None else time.perf_counter() - start


async def main(path: str, task: str, model: str) -> dict:
    figures: dict = {"imports_s": time.perf_counter() - START}
    started = time.perf_counter()
    LogReader(path).close()  # run_app checks the log this way before the app starts
    app = RoutermonApp(Workspace.load(db=path), poll_interval=1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        card = app.screen.query_one("#fig-requests")
        opened = await until(pilot, lambda: "all time" in str(card.content))
        figures["open_s"] = None if opened is None else time.perf_counter() - started
        figures["open_process_s"] = None if opened is None else time.perf_counter() - START
        pressed = time.perf_counter()
        await pilot.press("5")
        tasks = app.screen
        assert isinstance(tasks, TasksScreen)
        table = tasks.query_one(TasksTable)
        filled = await until(pilot, lambda: not table.loading and table.row_count > 0)
        figures["tasks_s"] = None if filled is None else time.perf_counter() - pressed
        quality = await until(pilot, lambda: getattr(tasks, "quality", None) is not None)
        figures["tasks_quality_s"] = None if quality is None else time.perf_counter() - pressed
        await pilot.press("1")
        await pilot.pause()
        calls = app.screen.query_one(CallsTable)
        await until(pilot, lambda: calls.row_count > 0)
        figures["filter_task_s"] = await filtered(pilot, app, "task-filter", task)
        figures["filter_model_s"] = await filtered(pilot, app, "model-filter", model)
        figures["filter_rows"] = calls.row_count
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:4]))), flush=True)
