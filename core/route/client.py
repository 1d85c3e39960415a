"""Building the ``anthropic`` client: the real API, or the stand-in behind the same SDK code path."""

from __future__ import annotations

import os
import random

import anthropic
import anyio
import httpx2
from anthropic._constants import INITIAL_RETRY_DELAY, MAX_RETRY_DELAY

from ..clock import Clock, VirtualClock
from ..errors import ConfigError


class StandInAnthropic(anthropic.AsyncAnthropic):
    """``AsyncAnthropic`` whose retry back-off follows routermon's clock.

    Everything else (request building, retries, error classes, response parsing) is the SDK's own.
    On a ``VirtualClock`` the back-off advances the clock instead of sleeping; otherwise it is
    scaled by ``time_scale`` so simulations are not slowed by real back-off.
    """

    def __init__(
        self, *args, clock: Clock | None = None, time_scale: float = 1.0, jitter_seed: int = 0, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self._routermon_clock = clock
        self._routermon_time_scale = time_scale
        self._routermon_jitter = random.Random(jitter_seed)

    async def _sleep_for_retry(self, *, retries_taken, max_retries, options, response) -> None:  # type: ignore[override]
        # The SDK's own schedule (retry-after, else exponential back-off with jitter), with the
        # jitter drawn from a seeded generator so simulations are reproducible.
        retry_after = self._parse_retry_after_header(response.headers if response else None)
        if retry_after is not None and retry_after > 0:
            delay = min(retry_after, 4_294_967.0)
        else:
            delay = min(INITIAL_RETRY_DELAY * 2.0 ** min(retries_taken, 1000), MAX_RETRY_DELAY)
            delay *= 1 - 0.25 * self._routermon_jitter.random()
        if isinstance(self._routermon_clock, VirtualClock):
            self._routermon_clock.advance(delay)
            await anyio.sleep(0)
        else:
            await anyio.sleep(delay * self._routermon_time_scale)


def real_client(*, max_retries: int = 2, timeout: float = 60.0) -> anthropic.AsyncAnthropic:
    """A client for the real API; needs ``ANTHROPIC_API_KEY``."""
    if not os.environ.get("ANTHROPIC_API_KEY"):
        raise ConfigError(
            "ANTHROPIC_API_KEY is not set; set it to call the real API, or use --stand-in for the built-in stand-in."
        )
    return anthropic.AsyncAnthropic(max_retries=max_retries, timeout=timeout)


def stand_in_client(
    transport: httpx2.AsyncBaseTransport,
    *,
    clock: Clock | None = None,
    time_scale: float = 1.0,
    max_retries: int = 2,
    timeout: float = 60.0,
    jitter_seed: int = 0,
) -> anthropic.AsyncAnthropic:
    """A client whose HTTP requests go to ``transport`` (the stand-in Messages API) instead of the network."""
    return StandInAnthropic(
        api_key="sk-ant-stand-in",
        base_url="http://stand-in.invalid",
        http_client=httpx2.AsyncClient(transport=transport, base_url="http://stand-in.invalid"),
        max_retries=max_retries,
        timeout=timeout,
        clock=clock,
        time_scale=time_scale,
        jitter_seed=jitter_seed,
    )
