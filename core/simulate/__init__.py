"""Traffic without an API: the ``simulator``, its ``scenario`` and texts, the ``demo``, and the
stand-in Messages API (``standin``).

Imports every layer below it; only ``core.workspace`` imports it."""
