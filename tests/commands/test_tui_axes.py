"""Chart axes: percent ticks stay within 0–100% and fall on even steps."""

from __future__ import annotations

import pytest

from routermon.tui.widgets.fitted_plot import percent_ticks


@pytest.mark.parametrize("low", [0.0, 12.3, 62.5, 73.0, 86.0, 97.0, 99.5, 100.0])
@pytest.mark.parametrize("most", [2, 3, 5])
def test_percent_ticks_are_even_and_end_at_100(low, most):
    (bottom, top), ticks, labels = percent_ticks(low, most)
    assert ticks[-1] == 100 and all(0 <= t <= 100 for t in ticks) and len(ticks) <= max(most, 3)
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) <= 1 and steps <= {1, 2, 5, 10, 20, 25, 50}
    assert ticks[0] <= max(low, 0) and bottom < ticks[0] and top > 100  # ticks strictly inside the limits
    assert labels == [f"{t:g}%" for t in ticks]
