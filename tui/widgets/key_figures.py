"""The Live screen's row of key figures: requests, escalation, spend, projection, latency, errors."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Static

from routermon.core.formatting import DASH, count, count_short, ms_short, pct, usd
from routermon.core.log.live import LiveFigures

# id, label
# Labels and details fit in the nine cells a card has at 80 columns.
_CARDS = (
    ("requests", "Requests"),
    ("escalated", "Escalated"),
    ("today", "Today"),
    ("month", "Month"),
    ("projected", "Projected"),
    ("latency", "p50"),
    ("errors", "Errors"),
)


def basis(f: LiveFigures) -> str:
    """What the cards rest on, in two lines of at most 78 cells (plain text)."""
    shadow = f"; {count_short(f.shadow_requests)} shadow apart" if f.shadow_requests else ""
    return (
        f"Escalated of {count_short(f.cascade_requests)} cascade req{shadow}"
        f" · p50/p95 of {count_short(f.latency_window)} req\n"
        f"{count_short(f.failed_requests)} req unanswered · {count_short(f.recovered)}"
        f" of {count_short(f.errors)} failed calls escalated and answered"
        # Degraded: a lower tier's answer came back because the tier it escalated to failed.
        + (f" · {count_short(f.degraded)} degraded" if f.degraded else "")
    )


class KeyFigures(HorizontalGroup):
    """Seven cards, each a label, a big number and a detail line; ``show()`` updates them."""

    DEFAULT_CSS = """
    KeyFigures {
        height: 3;
        width: 1fr;
        & > .figure {
            width: 1fr;
            height: 3;
            padding: 0 0 0 1;
            border-left: tall $panel;
        }
        & > .figure:first-child { border-left: none; }
    }
    """

    def compose(self) -> ComposeResult:
        for card_id, label in _CARDS:
            yield Static(self._card(label, DASH, ""), id=f"fig-{card_id}", classes="figure")

    @staticmethod
    def _card(label: str, value: str, detail: str) -> str:
        return f"[dim]{label}[/]\n[b]{value}[/]\n[dim]{detail}[/]"

    def show(self, figures: LiveFigures | None) -> None:
        """Show ``figures`` (or dashes before the log is read)."""
        if figures is None:
            cards = {card_id: (DASH, "") for card_id, _ in _CARDS}
        else:
            f = figures
            cards = {
                "requests": (count(f.requests), "all time"),
                "escalated": (pct(f.escalation_share), f"of {count_short(f.cascade_requests)}"),
                "today": (usd(f.spend_today_usd), f"{count_short(f.requests_today)} req"),
                "month": (usd(f.spend_month_usd), "UTC month"),
                "projected": (usd(f.projected_month_usd), "month end"),
                "latency": (ms_short(f.latency_p50_ms), f"p95 {ms_short(f.latency_p95_ms)}"),
                "errors": (count(f.failed_requests), "no answer"),
            }
        for card_id, label in _CARDS:
            value, detail = cards[card_id]
            self.query_one(f"#fig-{card_id}", Static).update(self._card(label, value, detail))
