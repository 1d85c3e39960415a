"""Costs come from genai-prices (resolved once per model) or a settings override."""

from __future__ import annotations

import genai_prices
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routermon.core.errors import UnknownModelError
from routermon.core.prices import PriceBook

MODELS = [
    "claude-haiku-4-5",
    "claude-sonnet-4-6",
    "claude-haiku-5-5",
    "claude-3-5-haiku-20241022",
    "claude-opus-4-8",
]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    model=st.sampled_from(MODELS),
    input_tokens=st.integers(0, 400_000),
    output_tokens=st.integers(0, 50_000),
    cache_read=st.integers(0, 200_000),
    cache_write=st.integers(0, 50_000),
)
def test_cost_equals_genai_prices_for_the_same_usage(
    model, input_tokens, output_tokens, cache_read, cache_write
):
    book = PriceBook()
    ours = book.cost(model, input_tokens, output_tokens, cache_read, cache_write)
    # genai-prices counts cache tokens inside input_tokens; the Messages API reports them apart.
    usage = genai_prices.Usage(
        input_tokens=input_tokens + cache_read + cache_write,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )
    theirs = float(genai_prices.calc_price(usage, model).total_price)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def test_tiered_price_applies_to_every_token_past_the_threshold():
    book = PriceBook()
    # claude-haiku-5-5: $0.10/MTok in, $0.50/MTok once the prompt passes 100k tokens.
    below = book.cost("claude-haiku-5-5", 100_000, 0)
    above = book.cost("claude-haiku-5-5", 100_001, 0)
    assert below == pytest.approx(0.01)
    assert above == pytest.approx(100_001 * 0.5 / 1e6)


def test_rates_are_resolved_once_per_model(monkeypatch):
    book = PriceBook()
    book.cost("claude-haiku-4-5", 10, 10)
    import routermon.core.prices as prices

    def boom(*a, **k):
        raise AssertionError("resolved twice")

    monkeypatch.setattr(prices.data_snapshot, "get_snapshot", boom)
    assert book.cost("claude-haiku-4-5", 1_000_000, 0) == pytest.approx(1.0)


def test_unknown_model_is_an_error_not_zero():
    with pytest.raises(UnknownModelError, match="settings file"):
        PriceBook().cost("my-finetune", 10, 10)


def test_override_prices_a_model_genai_prices_lacks():
    book = PriceBook(
        overrides={"my-finetune": {"input_mtok": 2.0, "output_mtok": 8.0, "cache_read_mtok": 0.2}}
    )
    assert book.cost("my-finetune", 1_000_000, 500_000, 1_000_000) == pytest.approx(2.0 + 4.0 + 0.2)
    assert book.rates("my-finetune").source == "settings"
    with pytest.raises(UnknownModelError, match="input_mtok"):
        PriceBook(overrides={"bad": {"input_mtok": "x"}}).rates("bad")


def test_batch_price_context():
    standard = PriceBook().cost("claude-haiku-4-5", 1_000_000, 0)
    batch = PriceBook(price_context={"processing": "batch"}).cost("claude-haiku-4-5", 1_000_000, 0)
    assert batch == pytest.approx(standard / 2)
