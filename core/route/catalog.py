"""Which Claude models routermon defaults to: the newest the installed SDK and genai-prices both know.

``default_models`` is the one place a cheap or strong model left unset is chosen: the router, the
simulator, what-if and the ``Workspace`` behind every command and screen all ask it.
"""

from __future__ import annotations

import typing

from ..prices import PriceBook


def sdk_models() -> list[str]:
    """Model names the installed ``anthropic`` SDK lists, newest first (the SDK's own order)."""
    from anthropic.types import Model  # lazy: importing the SDK takes over a second

    names: list[str] = []
    for arg in typing.get_args(Model):
        names.extend(a for a in typing.get_args(arg) if isinstance(a, str))
    return names


def newest(family: str, prices: PriceBook | None = None) -> str:
    """The first SDK-listed model of ``family`` ("haiku", "sonnet", "opus") that has a price."""
    prices = prices or PriceBook()
    for name in sdk_models():
        if f"-{family}-" in name and prices.knows(name):
            return name
    raise LookupError(f"no {family} model is known to both the anthropic SDK and genai-prices")


def default_models(
    cheap_model: str | None = None, strong_model: str | None = None, prices: PriceBook | None = None
) -> tuple[str, str]:
    """``(cheap, strong)``: each as given, or the newest priced Haiku / Sonnet when ``None``."""
    return (cheap_model or newest("haiku", prices), strong_model or newest("sonnet", prices))
