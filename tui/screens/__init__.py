"""The app's screens. ``SCREENS`` is the one list of them, in the order the digit keys switch to
them: the app's modes and bindings, the nav bar and the help screen are all derived from it, so a
new screen is one class (with its ``MODE``, ``TITLE`` and ``HELP``) and one entry here."""

from __future__ import annotations

from .base import MonitorScreen
from .charts import ChartsScreen
from .live import LiveScreen
from .review import ReviewScreen
from .tasks import TasksScreen
from .thresholds import ThresholdsScreen
from .whatif import WhatIfScreen

SCREENS: tuple[type[MonitorScreen], ...] = (
    LiveScreen,
    ChartsScreen,
    WhatIfScreen,
    ThresholdsScreen,
    TasksScreen,
    ReviewScreen,
)


def screen_label(mode: str) -> str:
    """How text names a screen: its title and digit key from ``SCREENS``, "Thresholds (4)"."""
    for key, screen in enumerate(SCREENS, start=1):
        if screen.MODE == mode:
            return f"{screen.TITLE} ({key})"
    raise KeyError(mode)
