"""What ``route`` and ``shadow`` share: reading --labels, and a Router built from the settings."""

from __future__ import annotations

from pathlib import Path

from routermon.core.errors import ConfigError
from routermon.core.prices import PriceBook
from routermon.core.router import Router
from routermon.core.settings import Settings


def parse_labels(labels: str | None, task: str) -> list[str] | None:
    """``--labels a,b,c`` as a list; classify cannot go without."""
    label_list = [x.strip() for x in labels.split(",")] if labels else None
    if task == "classify" and not label_list:
        raise ConfigError("The classify task needs --labels, e.g. --labels safe,unsafe,review-needed.")
    return label_list


def build_router(
    settings: Settings,
    db_path: Path,
    *,
    cheap_model: str | None,
    strong_model: str | None,
    threshold: float | None,
    mode: str,
    source: str,
    fake: bool,
    seed: int = 0,
    fake_latency: float = 0.0,
) -> Router:
    """A Router on the real API, or with ``fake`` on the stand-in; flags win over the settings file."""
    client = None
    if fake:
        from routermon.core.scenario import load_scenario
        from routermon.core.standin import StandInAPI

        client = StandInAPI(scenario=load_scenario(), seed=seed, time_scale=fake_latency).client()
    return Router(
        cheap_model or settings.cheap_model,
        strong_model or settings.strong_model,
        threshold if threshold is not None else settings.threshold,
        mode=mode,
        client=client,
        log=db_path,
        prices=PriceBook(overrides=settings.prices),
        store_inputs=settings.store_inputs,
        preview_chars=settings.preview_chars,
        source=source,
    )
