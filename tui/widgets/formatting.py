"""How numbers look on screen: the only place money, shares and times are turned into text."""

from __future__ import annotations

from datetime import UTC, datetime

DASH = "—"
# Escalation reasons, short enough for a table column.
REASON_SHORT = {
    "low_confidence": "low",
    "invalid_output": "invalid",
    "refusal": "refusal",
    "cheap_error": "error",
}


def usd(value: float | None) -> str:
    """Dollars with as many decimals as the size needs: $1,234 · $12.34 · $0.123 · $0.00123."""
    if value is None:
        return DASH
    size = abs(value)
    if size >= 10_000:
        return f"${value:,.0f}"
    if size >= 1 or size == 0:
        return f"${value:,.2f}"
    if size >= 0.01:
        return f"${value:.3f}"
    return f"${value:.5f}"


def pct(share: float | None, decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage."""
    return DASH if share is None else f"{share * 100:.{decimals}f}%"


def count(value: float | int | None) -> str:
    """A count with thousands separators; millions and more shortened (1.2M)."""
    if value is None:
        return DASH
    if abs(value) >= 10_000_000:
        return f"{value / 1_000_000:.1f}M"
    return f"{value:,.0f}"


def count_short(value: float | int | None) -> str:
    """A count in at most six cells: 9,999 · 10.4k · 1.2M."""
    if value is None:
        return DASH
    if abs(value) < 10_000:
        return f"{value:,.0f}"
    if abs(value) < 1_000_000:
        return f"{value / 1000:.1f}k"
    return f"{value / 1_000_000:.1f}M"


def ms(value: float | None) -> str:
    """Milliseconds, switching to seconds above ten seconds."""
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    return f"{value:,.0f} ms"


def ms_short(value: float | None) -> str:
    """Milliseconds in at most six cells: 637ms, 1.45s, 12.3s."""
    if value is None:
        return DASH
    if value < 1000:
        return f"{value:.0f}ms"
    if value < 10_000:
        return f"{value / 1000:.2f}s"
    return f"{value / 1000:.1f}s"


def tokens(value: float | None) -> str:
    """A token count in at most four cells below 10,000, shortened to k above."""
    if value is None:
        return DASH
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    return f"{value:.0f}"


def short_model(model: str) -> str:
    """A model id without the vendor prefix (claude-haiku-4-5 -> haiku-4-5)."""
    return model.removeprefix("claude-")


def clock_time(ts: float) -> str:
    """HH:MM:SS in UTC."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%H:%M:%S")


def bucket_label(ts: float, bucket_seconds: int) -> str:
    """A chart axis label for a bucket start: the time for short buckets, the date for long ones."""
    d = datetime.fromtimestamp(ts, tz=UTC)
    if bucket_seconds < 3600:
        return d.strftime("%H:%M")
    if bucket_seconds < 86400:
        return d.strftime("%d %H:00") if bucket_seconds > 3600 else d.strftime("%H:00")
    return d.strftime("%b %d")
