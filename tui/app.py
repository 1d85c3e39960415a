"""The routermon terminal app: six screens over the call log, kept current by tailing it by id.

One ``LiveMonitor`` (core) holds the figures. A thread worker asks it for new rows and, when it
finishes, schedules the next poll with ``set_timer`` — polls never overlap, and a refresh reads only
rows with ``id > last_seen``. Each refresh that finds rows bumps ``revision``; the visible screen
redraws from the monitor's memory, hidden ones redraw when shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from routermon.core.clock import SYSTEM_CLOCK, Clock
from routermon.core.errors import DatabaseError
from routermon.core.log.live import LiveMonitor
from routermon.core.log.reader import LogReader
from routermon.core.text import visible
from routermon.core.workspace import Workspace

from .screens import SCREENS
from .screens.help import HelpScreen

Traffic = Callable[[threading.Event], Any]
_SWITCH = Binding.Group("Screens", compact=True)


class RoutermonApp(App[None]):
    """The monitor over the workspace's call log.

    Args:
        workspace: the process's ``Workspace`` (its log, checked by ``run_app`` before the app
            starts; its prices, threshold and default models, which the screens use).
        clock: "now" for today, this month and the chart windows (a fixed clock in tests).
        poll_interval: seconds between polls for new rows; ``None`` polls only on ``r`` / ``action_refresh``.
        traffic: optional live traffic source, ``traffic(stop)`` run in a thread worker until ``stop``
            (a ``threading.Event``) is set when the app exits; it writes to the log like any other writer.
        table_rows: most rows the Live table holds.
    """

    CSS_PATH = "routermon.tcss"
    TITLE = "routermon"
    MODES = {screen.MODE: screen for screen in SCREENS}
    SCREEN_TITLES = tuple((screen.MODE, screen.TITLE) for screen in SCREENS)
    DEFAULT_MODE = "live"
    BINDINGS = [
        *(
            Binding(str(number), f"switch_mode('{mode}')", title, group=_SWITCH)
            for number, (mode, title) in enumerate(SCREEN_TITLES, start=1)
        ),
        Binding("question_mark", "help", "Help"),
        Binding("r", "refresh", "Refresh", show=False),
        Binding("q", "quit", "Quit"),
    ]

    status: reactive[str] = reactive("")
    status_error: reactive[bool] = reactive(False)
    revision: reactive[int] = reactive(0)  # bumped whenever the monitor has something new

    def __init__(
        self,
        workspace: Workspace,
        *,
        clock: Clock | None = None,
        poll_interval: float | None = 1.0,
        traffic: Traffic | None = None,
        table_rows: int = 200,
    ) -> None:
        super().__init__()
        self.workspace = workspace
        self.db_path = workspace.db_path
        self.clock = clock or SYSTEM_CLOCK
        self.poll_interval = poll_interval
        self.traffic = traffic
        self.table_rows = table_rows
        self.monitor: LiveMonitor | None = None
        self.db_error: str | None = None
        self._poll_timer: Timer | None = None
        self._polling = False
        self._failures = 0
        self._traffic_stop = threading.Event()
        self._query_reader: LogReader | None = None
        self._query_lock = threading.Lock()

    # -- start and stop ------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.status = f"{self.db_path.name} · opening…"
        self._open_monitor()
        if self.traffic is not None:
            self._run_traffic()

    @property
    def is_empty(self) -> bool:
        """True once the log is read and has no calls at all."""
        return self.monitor is not None and self.monitor.last_id == 0

    async def action_quit(self) -> None:
        self._traffic_stop.set()
        await super().action_quit()

    def on_unmount(self) -> None:
        self._traffic_stop.set()
        if self.monitor is not None:
            self.monitor.close()
        if self._query_reader is not None:
            self._query_reader.close()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.pop_screen()
        else:
            self.push_screen(HelpScreen(self.current_mode))

    # -- tailing the log -----------------------------------------------------------------------

    def _work_failed(self, error: str) -> None:
        self.db_error = error
        self.status_error = True
        self.status = f"{self.db_path.name} · {error}"
        self.revision += 1  # screens show the message in place of data

    @property
    def _status_ok(self) -> str:
        return self.db_path.name

    def _work_done(self) -> None:
        if self.db_error is not None:
            self.db_error = None
            self.status_error = False
        self.status = self._status_ok

    def _open_monitor(self) -> None:
        def open_() -> None:
            try:
                monitor = LiveMonitor.open(
                    self.db_path, clock=self.clock, recent_size=max(1000, self.table_rows)
                )
            except DatabaseError as exc:
                self.call_from_thread(self._monitor_failed, str(exc))
                return
            self.call_from_thread(self._monitor_opened, monitor)

        self.run_worker(open_, thread=True, group="tail", name="open log", exit_on_error=False)

    def _monitor_failed(self, error: str) -> None:
        self._work_failed(error)
        self._schedule_poll(retry=True)

    def _monitor_opened(self, monitor: LiveMonitor) -> None:
        self.monitor = monitor
        self._work_done()
        self.revision += 1
        self._schedule_poll()

    def _bump(self) -> None:
        self.revision += 1

    def _schedule_poll(self, *, soon: bool = False, retry: bool = False) -> None:
        if self.poll_interval is None:
            return
        if retry:
            delay = min(30.0, self.poll_interval * 2 ** min(self._failures, 5))
        else:
            delay = 0.05 if soon else self.poll_interval
        self._poll_timer = self.set_timer(delay, self.action_refresh)

    def action_refresh(self) -> None:
        """Poll for new rows now (the next poll is scheduled when this one finishes)."""
        if self._poll_timer is not None:
            self._poll_timer.stop()
            self._poll_timer = None
        if self.monitor is None:
            self._open_monitor()
            return
        if self._polling:
            return
        self._polling = True
        monitor = self.monitor

        def poll() -> None:
            try:
                new = len(monitor.refresh())
            except DatabaseError as exc:
                self.call_from_thread(self._polled, 0, str(exc))
                return
            self.call_from_thread(self._polled, new, None)

        self.run_worker(poll, thread=True, group="tail", name="poll", exit_on_error=False)

    def _polled(self, new: int, error: str | None) -> None:
        self._polling = False
        if error is not None:
            self._failures += 1
            self._work_failed(error)
            self._schedule_poll(retry=True)
            return
        self._failures = 0
        if self.db_error is not None or new:
            self._work_done()
            self.revision += 1
        self._schedule_poll(soon=bool(self.monitor and self.monitor.behind))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state != WorkerState.ERROR:
            return
        if worker.group == "traffic":
            self.notify(
                visible(f"Live traffic stopped: {worker.error}"), severity="error", timeout=10, markup=False
            )
        elif worker.group == "tail":
            self._polling = False
            self._work_failed(f"reading the log failed: {worker.error}")
            self._schedule_poll(retry=True)

    # -- queries other screens need (analysis, observed traffic) -------------------------------

    def query_log(self, query: Callable[[LogReader], Any]) -> Any:
        """Run ``query(reader)`` on the app's second connection (call from a thread worker)."""
        with self._query_lock:
            if self._query_reader is None:
                self._query_reader = LogReader(self.db_path)
            return query(self._query_reader)

    # -- live traffic --------------------------------------------------------------------------

    def _run_traffic(self) -> None:
        assert self.traffic is not None
        traffic, stop = self.traffic, self._traffic_stop
        self.run_worker(
            lambda: traffic(stop), thread=True, group="traffic", name="traffic", exit_on_error=False
        )
