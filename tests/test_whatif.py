"""The what-if engine (routermon.core.measure.whatif) and `routermon whatif`.

Figures are derived by hand from genai-prices' rates: claude-3-5-haiku $0.80 / $4 per MTok in / out
(cache read $0.08), claude-3-5-sonnet $3 / $15 (cache read $0.30).
"""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from routermon.core.errors import ConfigError, UnknownModelError
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.core.measure.whatif import (
    WhatIfInputs,
    default_volumes,
    from_log,
    project,
    request_costs,
    share_curve,
    volume_curve,
)
from routermon.core.prices import PriceBook
from routermon.core.route.catalog import default_models
from routermon.tui.cli import main

HAIKU = "claude-3-5-haiku-20241022"
SONNET = "claude-3-5-sonnet-20241022"
NOW = 1_700_000_000.0
DAY = 86_400.0


def issue_inputs(**changes) -> WhatIfInputs:
    """The issue's example: 1M requests of 200 input / 0 output tokens, 95% finished by Haiku."""
    values = dict(
        monthly_requests=1_000_000,
        cheap_share=0.95,
        input_tokens=200,
        output_tokens=0,
        cheap_model=HAIKU,
        strong_model=SONNET,
    )
    return WhatIfInputs(**{**values, **changes})


# -- the issue's figures --------------------------------------------------------------------------


def test_issue_figures_at_one_million_requests():
    result = project(issue_inputs())
    assert result.always_strong_usd == pytest.approx(600.0)
    assert result.always_cheap_usd == pytest.approx(160.0)
    assert result.simple_split_usd == pytest.approx(182.0)
    assert result.simple_split_savings_usd == pytest.approx(418.0)
    assert result.cascade_usd == pytest.approx(190.0)
    assert result.savings_usd == pytest.approx(410.0)
    assert result.savings_pct == pytest.approx(410 / 600 * 100)
    assert result.net_savings_usd == pytest.approx(410.0)  # no overhead given
    assert result.cheap_cost_per_request_usd == pytest.approx(200 * 0.80 / 1e6)
    assert result.strong_cost_per_request_usd == pytest.approx(200 * 3.00 / 1e6)
    assert result.cascade_cost_per_request_usd == pytest.approx(190.0 / 1e6)
    assert result.notes == []


def test_issue_simple_split_savings_at_one_hundred_million_requests():
    result = project(issue_inputs(monthly_requests=100_000_000))
    assert result.simple_split_savings_usd == pytest.approx(41_800.0)
    assert result.savings_usd == pytest.approx(41_000.0)  # the cascade pays the wasted Haiku calls too


def test_output_tokens_are_billed_at_the_output_rate():
    result = project(issue_inputs(input_tokens=0, output_tokens=100))
    assert result.always_strong_usd == pytest.approx(1e6 * 100 * 15 / 1e6)
    assert result.always_cheap_usd == pytest.approx(1e6 * 100 * 4 / 1e6)


# -- break-even -----------------------------------------------------------------------------------


def test_break_even_cheap_share_is_cheap_over_strong_cost():
    result = project(issue_inputs())
    assert result.break_even_cheap_share == pytest.approx(0.80 / 3.00)  # 4/15, any volume or share
    at_break_even = project(issue_inputs(cheap_share=result.break_even_cheap_share))
    assert at_break_even.savings_usd == pytest.approx(0.0, abs=1e-9)
    assert project(issue_inputs(cheap_share=0.25)).savings_usd < 0
    assert project(issue_inputs(cheap_share=0.30)).savings_usd > 0


def test_break_even_share_is_none_when_the_cascade_never_pays():
    swapped = project(issue_inputs(cheap_model=SONNET, strong_model=HAIKU))
    assert swapped.break_even_cheap_share is None
    assert swapped.savings_usd < 0
    assert project(issue_inputs(input_tokens=0, output_tokens=0)).break_even_cheap_share is None


def test_break_even_volume_from_overhead():
    # Each request saves $0.00060 - $0.00019 = $0.00041; a $41 overhead needs 100,000 requests.
    result = project(issue_inputs(monthly_overhead_usd=41.0))
    assert result.break_even_monthly_requests == pytest.approx(100_000)
    assert result.net_savings_usd == pytest.approx(410.0 - 41.0)
    assert project(
        issue_inputs(monthly_overhead_usd=41.0, monthly_requests=100_000)
    ).net_savings_usd == pytest.approx(0.0, abs=1e-9)
    assert project(issue_inputs(monthly_overhead_usd=41.0, monthly_requests=50_000)).net_savings_usd < 0


def test_break_even_volume_is_none_without_overhead_or_savings():
    assert project(issue_inputs()).break_even_monthly_requests is None
    assert project(issue_inputs(monthly_overhead_usd=10, cheap_share=0.1)).break_even_monthly_requests is None


# -- audits ---------------------------------------------------------------------------------------


def test_audits_are_priced_into_the_cascade():
    # 10% of the 950,000 requests Haiku finishes also get a Sonnet call: 95,000 × $0.0006 = $57.
    result = project(issue_inputs(audit_share=0.1))
    assert result.audit_usd == pytest.approx(57.0)
    assert result.cascade_usd == pytest.approx(190.0 + 57.0)
    assert result.savings_usd == pytest.approx(600.0 - 247.0)
    assert result.cascade_cost_per_request_usd == pytest.approx(247.0 / 1e6)
    assert result.simple_split_usd == pytest.approx(182.0)  # the usual quote leaves audits out
    assert result.notes == []
    assert project(issue_inputs()).audit_usd == 0.0
    # Audit calls of their own size: 1,000 input tokens each on Sonnet.
    sized = project(issue_inputs(audit_share=0.1, audit_input_tokens=1000))
    assert sized.audit_usd == pytest.approx(95_000 * 1000 * 3.00 / 1e6)
    assert sized.always_strong_usd == pytest.approx(600.0)  # other calls keep the average size


def test_audits_move_the_break_even_share():
    # Per request: cheap + (1 - s) × strong + s × 0.1 × strong = strong at s = 0.00016 / 0.00054.
    result = project(issue_inputs(audit_share=0.1))
    assert result.break_even_cheap_share == pytest.approx(0.00016 / 0.00054)
    even = project(issue_inputs(audit_share=0.1, cheap_share=result.break_even_cheap_share))
    assert even.savings_usd == pytest.approx(0.0, abs=1e-9)
    # Auditing everything the cheap model answers costs more than always-strong at any share.
    assert project(issue_inputs(audit_share=1.0)).break_even_cheap_share is None
    curve = share_curve(issue_inputs(audit_share=0.1), points=21)
    assert curve[19][1] == pytest.approx(247.0)
    assert curve[-1][1] == pytest.approx(160.0 + 60.0)  # all finished by Haiku, a tenth audited


# -- cached input, batch, tiers -------------------------------------------------------------------


def test_cached_input_share_bills_cache_reads():
    # Half of 200 tokens at the cache-read price: Sonnet 100*3 + 100*0.30, Haiku 100*0.80 + 100*0.08.
    result = project(issue_inputs(cached_input_share=0.5))
    assert result.strong_cost_per_request_usd == pytest.approx(330 / 1e6)
    assert result.cheap_cost_per_request_usd == pytest.approx(88 / 1e6)
    assert result.always_strong_usd == pytest.approx(330.0)
    assert result.cascade_usd == pytest.approx(88.0 + 0.05 * 330.0)


def test_cache_reads_without_a_cache_price_use_the_input_price_and_say_so():
    book = PriceBook(
        overrides={
            "plain-cheap": {"input_mtok": 1, "output_mtok": 2},
            SONNET: {"input_mtok": 3, "output_mtok": 15},
        }
    )
    result = project(
        issue_inputs(cheap_model="plain-cheap", strong_model=SONNET, cached_input_share=0.5), book
    )
    assert result.cheap_cost_per_request_usd == pytest.approx(200 / 1e6)
    assert len(result.notes) == 2
    assert "plain-cheap has no cache-read price" in result.notes[0]


def test_batch_prices_halve_models_that_have_them():
    inputs = issue_inputs(cheap_model="claude-haiku-4-5", strong_model="claude-sonnet-4-5", output_tokens=100)
    standard = project(inputs)
    batch = project(inputs.model_copy(update={"batch": True}))
    assert standard.always_strong_usd == pytest.approx(1e6 * (200 * 3 + 100 * 15) / 1e6)
    assert batch.always_strong_usd == pytest.approx(standard.always_strong_usd / 2)
    assert batch.always_cheap_usd == pytest.approx(1e6 * (200 * 0.5 + 100 * 2.5) / 1e6)
    assert batch.notes == []


def test_batch_without_batch_prices_keeps_standard_prices_and_says_so():
    result = project(issue_inputs(batch=True))
    assert result.cascade_usd == pytest.approx(190.0)
    assert result.notes == [
        f"Batch prices unavailable for {HAIKU}; standard prices used.",
        f"Batch prices unavailable for {SONNET}; standard prices used.",
    ]


def test_tiered_price_is_chosen_by_the_average_prompt():
    # claude-sonnet-4-5 charges $6/MTok once a prompt passes 200k tokens (cache reads count toward it).
    small = request_costs(issue_inputs(strong_model="claude-sonnet-4-5", input_tokens=100_000))
    large = request_costs(issue_inputs(strong_model="claude-sonnet-4-5", input_tokens=300_000))
    assert small.strong_usd == pytest.approx(100_000 * 3 / 1e6)
    assert large.strong_usd == pytest.approx(300_000 * 6 / 1e6)
    cached = request_costs(
        issue_inputs(strong_model="claude-sonnet-4-5", input_tokens=300_000, cached_input_share=0.5)
    )
    assert cached.strong_usd == pytest.approx((150_000 * 6 + 150_000 * 0.6) / 1e6)


def test_price_overrides_are_used():
    book = PriceBook(
        overrides={"a": {"input_mtok": 1, "output_mtok": 1}, "b": {"input_mtok": 10, "output_mtok": 10}}
    )
    result = project(issue_inputs(cheap_model="a", strong_model="b", monthly_requests=1000), book)
    assert result.always_strong_usd == pytest.approx(1000 * 200 * 10 / 1e6)
    assert result.break_even_cheap_share == pytest.approx(0.1)


def test_unknown_model_is_a_config_error():
    with pytest.raises(UnknownModelError, match="no price"):
        project(issue_inputs(strong_model="claude-nonexistent-9"))


# -- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"cheap_share": 1.5}, "The cheap share must be between 0% and 100%; got 1.5."),
        ({"cheap_share": -0.1}, "The cheap share must be between 0% and 100%; got -0.1."),
        ({"cached_input_share": 2}, "The cached input share must be between 0% and 100%; got 2."),
        ({"audit_share": 1.2}, "The audit share must be between 0% and 100%; got 1.2."),
        (
            {"audit_output_tokens": -3},
            "The audit calls' output token count must be a finite number of at least 0; got -3.",
        ),
        (
            {"monthly_requests": -1},
            "The monthly request volume must be a finite number of at least 0; got -1.",
        ),
        ({"input_tokens": -5}, "The input token count must be a finite number of at least 0; got -5."),
        (
            {"output_tokens": math.inf},
            "The output token count must be a finite number of at least 0; got inf.",
        ),
        (
            {"monthly_overhead_usd": "lots"},
            "The monthly overhead must be a finite number of at least 0; got 'lots'.",
        ),
        ({"cheap_model": ""}, "The cheap model must be a model name; got ''."),
    ],
)
def test_bad_inputs_raise_one_sentence(change, sentence):
    with pytest.raises(ConfigError) as excinfo:
        issue_inputs(**change)
    assert str(excinfo.value) == sentence


def test_model_validate_also_raises_config_error():
    with pytest.raises(ConfigError, match="cheap share"):
        WhatIfInputs.model_validate({**issue_inputs().model_dump(), "cheap_share": 3})


# -- curves ---------------------------------------------------------------------------------------


def test_share_curve_spans_zero_to_one_and_matches_project():
    curve = share_curve(issue_inputs())
    assert len(curve) == 21
    assert [round(point[0], 10) for point in curve] == [round(i / 20, 10) for i in range(21)]
    share0, cascade0, strong0, cheap0 = curve[0]
    assert (share0, cascade0, strong0, cheap0) == pytest.approx((0.0, 760.0, 600.0, 160.0))
    assert curve[-1][1] == pytest.approx(160.0)  # everything finished by Haiku: always-cheap
    assert curve[19][1] == pytest.approx(project(issue_inputs()).cascade_usd)
    with pytest.raises(ConfigError):
        share_curve(issue_inputs(), points=1)


def test_share_curve_includes_the_overhead():
    curve = share_curve(issue_inputs(monthly_overhead_usd=100), points=3)
    assert curve[2][1] == pytest.approx(260.0)
    assert curve[2][2] == pytest.approx(600.0)  # always-strong carries no router overhead


def test_volume_curve_default_is_log_spaced_and_crosses_at_break_even():
    curve = volume_curve(issue_inputs(monthly_overhead_usd=41.0))
    volumes = [point[0] for point in curve]
    assert volumes[0] == pytest.approx(1e3) and volumes[-1] == pytest.approx(1e9)
    ratios = {round(b / a, 9) for a, b in zip(volumes, volumes[1:], strict=False)}
    assert len(ratios) == 1
    for volume, cascade, always_strong in curve:
        assert always_strong == pytest.approx(volume * 0.0006)
        assert cascade == pytest.approx(volume * 0.00019 + 41.0)
        assert (cascade < always_strong) == (volume > 100_000)
    given_volumes = volume_curve(issue_inputs(), volumes=[10, 20])
    assert [point[0] for point in given_volumes] == [10.0, 20.0]
    assert [point[1:] for point in given_volumes] == [
        pytest.approx((0.0019, 0.006)),
        pytest.approx((0.0038, 0.012)),
    ]
    assert default_volumes(1, 100, per_decade=1) == pytest.approx([1, 10, 100])
    with pytest.raises(ConfigError):
        volume_curve(issue_inputs(), volumes=[-1])


# -- properties -----------------------------------------------------------------------------------

rates = st.floats(min_value=0, max_value=100, allow_nan=False)
tokens = st.floats(min_value=0, max_value=1e6, allow_nan=False)
shares = st.floats(min_value=0, max_value=1, allow_nan=False)
volumes = st.floats(min_value=0, max_value=1e10, allow_nan=False)


def _book(cheap_in: float, cheap_out: float, strong_in: float, strong_out: float) -> PriceBook:
    return PriceBook(
        overrides={
            "cheap": {"input_mtok": cheap_in, "output_mtok": cheap_out, "cache_read_mtok": cheap_in / 10},
            "strong": {"input_mtok": strong_in, "output_mtok": strong_out, "cache_read_mtok": strong_in / 10},
        }
    )


def _inputs(volume, share, input_tokens, output_tokens, cached=0.0) -> WhatIfInputs:
    return WhatIfInputs(
        monthly_requests=volume,
        cheap_share=share,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cached_input_share=cached,
        cheap_model="cheap",
        strong_model="strong",
    )


def _slack(value: float) -> float:
    return 1e-12 * abs(value) + 1e-15  # float rounding only


@settings(derandomize=True, deadline=None, max_examples=200)
@given(rates, rates, rates, rates, volumes, shares, tokens, tokens, shares)
def test_cascade_never_costs_less_than_the_simple_split(ci, co, si, so, volume, share, tin, tout, cached):
    result = project(_inputs(volume, share, tin, tout, cached), _book(ci, co, si, so))
    assert result.cascade_usd >= result.simple_split_usd
    # The gap is exactly the wasted cheap call on escalated requests.
    wasted = volume * (1 - share) * result.cheap_cost_per_request_usd
    assert result.cascade_usd - result.simple_split_usd == pytest.approx(
        wasted, abs=1e-9 * result.cascade_usd + 1e-12
    )


@settings(derandomize=True, deadline=None, max_examples=200)
@given(rates, rates, rates, rates, volumes, volumes, shares, tokens, tokens)
def test_costs_are_monotone_in_volume(ci, co, si, so, v1, v2, share, tin, tout):
    low, high = sorted((v1, v2))
    book = _book(ci, co, si, so)
    a, b = project(_inputs(low, share, tin, tout), book), project(_inputs(high, share, tin, tout), book)
    for field in ("always_strong_usd", "always_cheap_usd", "cascade_usd", "simple_split_usd"):
        assert getattr(a, field) <= getattr(b, field), field


@settings(derandomize=True, deadline=None, max_examples=200)
@given(rates, rates, rates, rates, volumes, shares, shares, tokens, tokens)
def test_costs_are_monotone_in_strong_share(ci, co, si, so, volume, s1, s2, tin, tout):
    less_strong, more_strong = sorted((s1, s2), reverse=True)  # higher cheap share = less strong share
    book = _book(ci, co, si, so)
    a = project(_inputs(volume, less_strong, tin, tout), book)
    b = project(_inputs(volume, more_strong, tin, tout), book)
    assert a.cascade_usd <= b.cascade_usd
    assert a.always_strong_usd == b.always_strong_usd and a.always_cheap_usd == b.always_cheap_usd
    # The simple split only grows with the strong share when a strong call costs at least a cheap one.
    assume(b.strong_cost_per_request_usd >= b.cheap_cost_per_request_usd)
    assert a.simple_split_usd <= b.simple_split_usd + _slack(b.simple_split_usd)


@settings(derandomize=True, deadline=None, max_examples=100)
@given(rates, rates, rates, rates, volumes, shares, tokens, tokens)
def test_savings_change_sign_at_the_break_even_share(ci, co, si, so, volume, share, tin, tout):
    result = project(_inputs(volume, share, tin, tout), _book(ci, co, si, so))
    be = result.break_even_cheap_share
    assume(be is not None and abs(share - be) > 1e-9 and volume > 0)
    slack = _slack(result.always_strong_usd)
    if share > be:
        assert result.savings_usd >= -slack
    else:
        assert result.savings_usd <= slack


# -- from the log ---------------------------------------------------------------------------------


def _call(ts, rid, model, tier, *, role="cheap", mode="cascade", escalated=False, inp=180, cache=20, out=10):
    cost = PriceBook().cost(model, inp, out, cache_read_tokens=cache)
    return CallRecord(
        ts=ts,
        request_id=rid,
        task="classify",
        mode=mode,
        model=model,
        role=role,
        tier=tier,
        input_tokens=inp,
        cache_read_tokens=cache,
        output_tokens=out,
        cost_usd=cost,
        escalated=escalated,
        escalation_reason="low_confidence" if escalated else None,
        final=not escalated,
    )


def _write(path, records) -> None:
    log = CallLog(path)
    log.log_many(records)
    log.close()


def _cascade_traffic(
    start: float, requests: int, escalated: int, *, out_cheap=10, out_strong=10, cheap=HAIKU
):
    records = []
    for i in range(requests):
        ts, rid = start + i * 600, f"r{start:.0f}-{i}"
        esc = i < escalated
        records.append(_call(ts, rid, cheap, 0, escalated=esc, out=out_cheap))
        if esc:
            records.append(_call(ts + 1, rid, SONNET, 1, role="strong", out=out_strong))
    return records


def test_from_log_extrapolates_the_window_to_a_month(tmp_path):
    path = tmp_path / "calls.db"
    window = NOW - 2 * DAY
    records = _cascade_traffic(window, 10, 2, out_strong=30)
    records.append(
        _call(window + DAY, "other-cheap", "claude-3-haiku-20240307", 0)
    )  # a less used cheap model
    records += _cascade_traffic(NOW - 5 * DAY, 50, 50, cheap="claude-3-haiku-20240307")  # before the window
    records.append(_call(NOW, "at-now", HAIKU, 0))  # the window ends before `now`
    records.append(_call(window + 5, "imported", HAIKU, 0, mode="import"))  # imported pairs are not traffic
    _write(path, records)
    with LogReader(path) as reader:
        inputs = from_log(reader, days=2, now=NOW)
    # 11 requests in 2 days -> 165 a month; 2 of 11 escalated; 13 calls of 200 input tokens (20 cached).
    assert inputs.monthly_requests == pytest.approx(11 / 2 * 30)
    assert inputs.cheap_share == pytest.approx(9 / 11)
    assert inputs.input_tokens == pytest.approx(200)
    assert inputs.cached_input_share == pytest.approx(0.1)
    # Tokens of the first-tier calls (one per request), and of the escalated requests' strong calls.
    assert inputs.output_tokens == pytest.approx(10)
    assert (inputs.escalated_input_tokens, inputs.escalated_output_tokens) == pytest.approx((200, 30))
    assert (inputs.cheap_model, inputs.strong_model) == (HAIKU, SONNET)


def test_from_log_projection_matches_the_logged_spend(tmp_path):
    path = tmp_path / "calls.db"
    _write(path, _cascade_traffic(NOW - DAY, 40, 7))
    with LogReader(path) as reader:
        inputs = from_log(reader, days=1, now=NOW)
        spend = reader.summary(NOW - DAY, NOW).spend_usd
    # Same tokens on every call, so the month's cascade cost is the day's spend times 30.
    assert project(inputs).cascade_usd == pytest.approx(spend * 30, rel=1e-9)
    assert spend > 0


def _audits(start: float, count: int, *, inp=360, cache=40, out=50):
    """Audit calls of kept requests: Sonnet at the top tier, a tenth of the input cached like the rest."""
    return [
        _call(
            start + i * 600 + 2,
            f"r{start:.0f}-audit-{i}",
            SONNET,
            1,
            role="audit",
            inp=inp,
            cache=cache,
            out=out,
        )
        for i in range(count)
    ]


def test_from_log_prices_audits_and_leaves_shadow_calls_out(tmp_path):
    path = tmp_path / "calls.db"
    start = NOW - DAY
    records = _cascade_traffic(start, 10, 2, out_strong=30) + _audits(start, 4)
    for i in range(2):  # shadow mode: both models on every request, a measurement, not the cascade
        ts, rid = start + 7200 + i, f"shadow-{i}"
        records.append(_call(ts, rid, HAIKU, 0, mode="shadow"))
        records.append(_call(ts, rid, SONNET, 1, role="shadow", mode="shadow", inp=980, out=99))
    _write(path, records)
    with LogReader(path) as reader:
        inputs = from_log(reader, days=1, now=NOW)
    # 10 cascade requests, 2 escalated: 8 kept, 4 of them audited; the 2 shadow requests are volume,
    # not part of the cascade's shares (they used to make these 10 / 12 and 4 / 10).
    assert inputs.cheap_share == pytest.approx(8 / 10)
    assert inputs.audit_share == pytest.approx(0.5)
    assert (inputs.audit_input_tokens, inputs.audit_output_tokens) == pytest.approx((400, 50))
    # The escalated requests' strong calls alone: neither the audits nor the shadow calls.
    assert (inputs.escalated_input_tokens, inputs.escalated_output_tokens) == pytest.approx((200, 30))
    assert inputs.strong_model == SONNET


def test_from_log_projection_with_audits_matches_the_logged_spend(tmp_path):
    path = tmp_path / "calls.db"
    _write(path, _cascade_traffic(NOW - DAY, 40, 7, out_strong=40) + _audits(NOW - DAY, 6))
    with LogReader(path) as reader:
        inputs = from_log(reader, days=1, now=NOW)
        spend = reader.summary(NOW - DAY, NOW).spend_usd
    result = project(inputs)
    assert inputs.audit_share == pytest.approx(6 / 33)
    assert result.cascade_usd == pytest.approx(spend * 30, rel=1e-9)
    audit_spend = 6 * PriceBook().cost(SONNET, 360, 50, cache_read_tokens=40)
    assert result.audit_usd == pytest.approx(audit_spend * 30, rel=1e-9)


def test_from_log_picks_the_top_tier_and_honours_given_models(tmp_path):
    path = tmp_path / "calls.db"
    records = _cascade_traffic(NOW - 3600, 5, 3)
    records.append(_call(NOW - 1000, "r-opus", "claude-3-opus-20240229", 2, role="strong"))
    _write(path, records)
    with LogReader(path) as reader:
        assert from_log(reader, days=1, now=NOW).strong_model == "claude-3-opus-20240229"
        given_models = from_log(reader, days=1, now=NOW, cheap_model="claude-haiku-4-5", strong_model="x")
    assert (given_models.cheap_model, given_models.strong_model) == ("claude-haiku-4-5", "x")


def test_from_log_without_escalations_uses_the_default_strong_model(tmp_path):
    path = tmp_path / "calls.db"
    _write(path, _cascade_traffic(NOW - 3600, 4, 0))
    with LogReader(path) as reader:
        inputs = from_log(reader, days=1, now=NOW)
    assert inputs.cheap_share == 1.0
    assert inputs.strong_model == default_models()[1]


def test_from_log_with_an_empty_window_is_a_config_error(tmp_path):
    path = tmp_path / "calls.db"
    _write(path, _cascade_traffic(NOW - 10 * DAY, 3, 1))
    with LogReader(path) as reader:
        with pytest.raises(ConfigError, match="no routed requests in the last 7 days"):
            from_log(reader, days=7, now=NOW)
        with pytest.raises(ConfigError, match="positive number of days"):
            from_log(reader, days=0, now=NOW)


# -- the command ----------------------------------------------------------------------------------

ISSUE_ARGS = [
    "whatif",
    "--volume",
    "1000000",
    "--cheap-share",
    "0.95",
    "--input-tokens",
    "200",
    "--output-tokens",
    "0",
    "--cheap",
    HAIKU,
    "--strong",
    SONNET,
]


def _run(args):
    return CliRunner().invoke(main, args)


def test_an_empty_window_says_what_the_caller_can_do_instead(tmp_path):
    """The command names its options; the What-if screen passes its fields' names instead."""
    from routermon.tui.screens.whatif import TYPE_INSTEAD

    CallLog(tmp_path / "calls.db").close()
    with LogReader(tmp_path / "calls.db") as reader:
        with pytest.raises(ConfigError, match="as options"):
            from_log(reader, days=1)
        with pytest.raises(
            ConfigError, match="in the last 7 days; route some traffic first or type Requests"
        ) as exc:
            from_log(reader, days=7, instead=TYPE_INSTEAD)
    assert "--" not in str(exc.value) and "option" not in str(exc.value)
