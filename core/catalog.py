"""Which Claude models routermon defaults to: the newest the installed SDK and genai-prices both know."""

from __future__ import annotations

import typing

from anthropic.types import Model

from .prices import PriceBook


def sdk_models() -> list[str]:
    """Model names the installed ``anthropic`` SDK lists, newest first (the SDK's own order)."""
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


def default_cheap_model() -> str:
    return newest("haiku")


def default_strong_model() -> str:
    return newest("sonnet")
