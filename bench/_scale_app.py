"""The terminal app on one log, headless, timed as a person would see it (``bench/scale.py`` runs it
in a child process of its own, so its peak RSS is the app's alone).

    python bench/_scale_app.py LOG TASK MODEL [QUALITY]

What it does, as ``routermon`` with no command does it (``launch.run_app``): check the log with a
``LogReader``, start ``RoutermonApp`` (polling every second), and wait until the Live screen's
Requests card shows a number (``open_s``); press ``5`` and wait until the Tasks table has its rows
(``tasks_s``); press ``1``, choose TASK in the task filter and wait until the Live table holds
that task's calls (``filter_task_s``), then MODEL in the model filter on top (``filter_model_s``);
unless QUALITY is 0, wait until the Tasks screen's cheap accuracy is in (``tasks_quality_s``, from
pressing 5). Prints one JSON line; a step that never finishes within its wait gives ``null``.
"""

from __future__ import annotations

import time

START = time.perf_counter()  # before the imports: they are part of what a person waits for

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

from routermon.core.log.reader import LogReader  # noqa: E402
from routermon.core.workspace import Workspace  # noqa: E402
from routermon.tui.app import RoutermonApp  # noqa: E402
from routermon.tui.screens.tasks import TasksScreen  # noqa: E402
from routermon.tui.widgets.calls_table import CallsTable  # noqa: E402
from routermon.tui.widgets.tasks_table import TasksTable  # noqa: E402

WAIT_S = 300.0  # the longest any one step is waited for (10M rows before rollups: about a minute)
QUALITY_WAIT_S = 300.0  # the Tasks screen's accuracy column, read from every pair, is waited for less
STEP_S = 0.01


def step(name: str, value: float | None) -> None:
    """Say on stderr what was just measured (the parent shows it if the session stops or hangs)."""
    print(f"{name}: {'never' if value is None else f'{value:.3f} s'}", file=sys.stderr, flush=True)


async def when(app, done, limit: float = WAIT_S) -> float | None:
    """The moment ``done()`` first holds, checked by a timer of the app's own every 10 ms (so as soon
    as its event loop is free to draw); None past ``limit`` seconds."""
    found = asyncio.get_running_loop().create_future()

    def check() -> None:
        if not found.done() and done():
            found.set_result(time.perf_counter())

    timer = app.set_interval(STEP_S, check)
    try:
        return await asyncio.wait_for(found, limit)
    except TimeoutError:
        return None
    finally:
        timer.stop()


async def press(pilot, key: str, done, limit: float = WAIT_S) -> float | None:
    """Press ``key``; seconds from the press until ``done()`` holds (the pilot's own waits apart)."""
    start = time.perf_counter()
    pressing = asyncio.ensure_future(pilot.press(key))
    moment = await when(pilot.app, done, limit)
    try:
        await asyncio.wait_for(pressing, limit)  # the pilot's own wait for idle, bounded too
    except TimeoutError:
        print(
            f"the pilot's press of {key!r} did not return within {limit:.0f} s", file=sys.stderr, flush=True
        )
    return None if moment is None else moment - start


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
    moment = await when(app, lambda: any(w.name == "filter" and w.is_finished for w in made))
    screen.run_worker = run_worker
    return None if moment is None else moment - start


async def main(path: str, task: str, model: str, quality: str = "1") -> dict:
    figures: dict = {"imports_s": time.perf_counter() - START}
    started = time.perf_counter()
    LogReader(path).close()  # run_app checks the log this way before the app starts
    app = RoutermonApp(Workspace.load(db=path), poll_interval=1.0)
    async with app.run_test(size=(120, 40)) as pilot:
        card = app.screen.query_one("#fig-requests")
        opened = await when(app, lambda: "all time" in str(card.content))
        figures["open_s"] = None if opened is None else opened - started
        figures["open_process_s"] = None if opened is None else opened - START
        step("open_s", figures["open_s"])

        def tasks_filled() -> bool:
            if not isinstance(app.screen, TasksScreen):
                return False
            table = app.screen.query_one(TasksTable)
            return not table.loading and table.row_count > 0

        pressed = time.perf_counter()
        figures["tasks_s"] = await press(pilot, "5", tasks_filled)
        step("tasks_s", figures["tasks_s"])
        tasks = app.screen
        await press(
            pilot,
            "1",
            lambda: bool(app.screen.query(CallsTable)) and app.screen.query_one(CallsTable).row_count > 0,
        )
        figures["filter_task_s"] = await filtered(pilot, app, "task-filter", task)
        step("filter_task_s", figures["filter_task_s"])
        figures["filter_model_s"] = await filtered(pilot, app, "model-filter", model)
        step("filter_model_s", figures["filter_model_s"])
        figures["filter_rows"] = app.screen.query_one(CallsTable).row_count
        figures["tasks_quality_s"] = None
        if quality == "1":  # the accuracy keeps loading while Tasks is hidden: it is read from every pair
            moment = await when(app, lambda: getattr(tasks, "quality", None) is not None, QUALITY_WAIT_S)
            figures["tasks_quality_s"] = None if moment is None else moment - pressed
            step("tasks_quality_s", figures["tasks_quality_s"])
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(*sys.argv[1:5]))), flush=True)
