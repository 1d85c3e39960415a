"""What a model call costs, from genai-prices' bundled data (offline) or a settings override.

``calc_price`` from genai-prices takes about 0.2 ms a call, so a ``PriceBook`` resolves each
model's prices once (``ModelRates``) and computes costs from them; tiered prices (a higher rate
for every token once the prompt passes a threshold) are applied the way genai-prices does.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from genai_prices import data_snapshot
from genai_prices.types import TieredPrices

from .errors import UnknownModelError
from .formatting import whole

# genai-prices price keys routermon bills, per million tokens.
PRICE_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
# The highest price an override may name, USD per million tokens (the dearest model lists under
# $100): a call of a billion tokens then costs at most $1e9 and sums of calls stay finite.
MAX_PRICE_PER_MTOK = 1_000_000.0


@dataclass(frozen=True)
class Rate:
    """USD per million tokens: ``base`` until the prompt passes a tier's ``start`` tokens."""

    base: float
    tiers: tuple[tuple[int, float], ...] = ()  # (start, price), ascending

    def at(self, total_input_tokens: int) -> float:
        price = self.base
        for start, tier_price in self.tiers:
            if total_input_tokens > start:
                price = tier_price
        return price

    @classmethod
    def from_genai(cls, value: Decimal | TieredPrices | None) -> Rate | None:
        if value is None:
            return None
        if isinstance(value, TieredPrices):
            return cls(float(value.base), tuple((t.start, float(t.price)) for t in value.tiers))
        return cls(float(value))


@dataclass(frozen=True)
class ModelRates:
    """A model's resolved prices; ``source`` says where they came from."""

    model: str
    input: Rate
    output: Rate
    cache_read: Rate | None = None
    cache_write: Rate | None = None
    source: str = "genai-prices"
    resolved_id: str = ""
    provider: str = ""

    def cost(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """USD for one call. ``input_tokens`` excludes cache tokens, as the Messages API reports it."""
        total_input = input_tokens + cache_read_tokens + cache_write_tokens
        usd = input_tokens * self.input.at(total_input) + output_tokens * self.output.at(total_input)
        if cache_read_tokens:
            rate = self.cache_read or self.input
            usd += cache_read_tokens * rate.at(total_input)
        if cache_write_tokens:
            rate = self.cache_write or self.input
            usd += cache_write_tokens * rate.at(total_input)
        return usd / 1_000_000


@dataclass
class PriceBook:
    """Resolves and caches model prices; ``overrides`` (from the settings file) win over genai-prices.

    ``overrides`` maps a model name to a mapping with ``input_mtok`` and ``output_mtok`` (USD per
    million tokens) and optionally ``cache_read_mtok`` and ``cache_write_mtok``.
    ``price_context`` selects genai-prices variants, e.g. ``{"processing": "batch"}``.
    """

    overrides: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    price_context: Mapping[str, str] | None = None
    _cache: dict[str, ModelRates] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def rates(self, model: str) -> ModelRates:
        """The model's prices; raises ``UnknownModelError`` when neither source knows it."""
        cached = self._cache.get(model)
        if cached is not None:
            return cached
        with self._lock:
            rates = self._resolve(model)
            self._cache[model] = rates
        return rates

    def knows(self, model: str) -> bool:
        try:
            self.rates(model)
        except UnknownModelError:
            return False
        return True

    def cost(
        self,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """USD for one call of ``model`` with this usage."""
        return self.rates(model).cost(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)

    def _resolve(self, model: str) -> ModelRates:
        override = self.overrides.get(model)
        if override is not None:
            for key, value in override.items():
                if (
                    isinstance(value, bool)
                    or not isinstance(value, int | float)
                    or not math.isfinite(value)
                    or not 0 <= value <= MAX_PRICE_PER_MTOK
                ):
                    raise UnknownModelError(
                        f"The price override {key} for {model!r} must be a finite number of USD per "
                        f"million tokens from 0 to {whole(MAX_PRICE_PER_MTOK)}; got {value!r}."
                    )
            try:
                return ModelRates(
                    model=model,
                    input=Rate(float(override["input_mtok"])),
                    output=Rate(float(override["output_mtok"])),
                    cache_read=Rate(float(override["cache_read_mtok"]))
                    if "cache_read_mtok" in override
                    else None,
                    cache_write=Rate(float(override["cache_write_mtok"]))
                    if "cache_write_mtok" in override
                    else None,
                    source="settings",
                    resolved_id=model,
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise UnknownModelError(
                    f"The price override for {model!r} needs numeric input_mtok and output_mtok ({exc})."
                ) from None
        snapshot = data_snapshot.get_snapshot()
        try:
            provider, info = snapshot.find_provider_model(model, None, None, None)
        except LookupError:
            raise UnknownModelError(
                f"Model {model!r} has no price in genai-prices; add [prices.{model!r}] with input_mtok and "
                "output_mtok to the settings file."
            ) from None
        prices = info.get_prices(
            datetime.now(tz=UTC), dict(self.price_context) if self.price_context else None
        )
        input_rate = Rate.from_genai(prices.input_mtok)
        output_rate = Rate.from_genai(prices.output_mtok)
        if input_rate is None or output_rate is None:
            raise UnknownModelError(f"Model {model!r} has no per-token price in genai-prices.")
        return ModelRates(
            model=model,
            input=input_rate,
            output=output_rate,
            cache_read=Rate.from_genai(prices.cache_read_mtok),
            cache_write=Rate.from_genai(prices.cache_write_mtok),
            source="genai-prices",
            resolved_id=info.id,
            provider=provider.id,
        )


def known_models(provider_id: str = "anthropic") -> list[str]:
    """Model ids genai-prices has for a provider, for pickers."""
    snapshot = data_snapshot.get_snapshot()
    for provider in snapshot.providers:
        if provider.id == provider_id:
            return [m.id for m in provider.models]
    return []
