"""Monthly cost projections: what a cheap-first cascade costs against always calling the strong model.

A cascade is billed honestly here: every request pays the cheap call, and the requests the cheap
model does not finish (``1 - cheap_share``) also pay the strong call. The "simple split" figure
(``cheap_share`` × cheap cost + the rest × strong cost) is how savings are usually quoted; it
ignores the cheap call wasted on escalated requests, so it is reported separately and labelled.
Audits (the router's ``audit_share``: requests the cheap model finished, also sent to the strong
model to check it) are part of what the cascade costs, so they are in the cascade figure too.

Token counts are monthly averages per request, so costs come from the resolved per-model rates
(``ModelRates.cost``), not from ``genai_prices.calc_price``; a tiered price is picked by the
average prompt size.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError
from ..formatting import count, day_span
from ..log.reader import LogReader, TierModelStats
from ..prices import ModelRates, PriceBook

BATCH_CONTEXT = {"processing": "batch"}
DAY_SECONDS = 86_400.0
MONTH_DAYS = 30.0  # observed traffic is extrapolated to a 30-day month
MIN_SPAN_SECONDS = 3600.0  # a log younger than an hour is taken as an hour's traffic

# How each input field is named in an error sentence (the CLI flag a person typed).
_FIELD_LABELS = {
    "monthly_requests": "The monthly request volume",
    "cheap_share": "The cheap share",
    "input_tokens": "The input token count",
    "output_tokens": "The output token count",
    "cached_input_share": "The cached input share",
    "monthly_overhead_usd": "The monthly overhead",
    "cheap_model": "The cheap model",
    "strong_model": "The strong model",
    "batch": "The batch flag",
    "escalated_input_tokens": "The escalated requests' input token count",
    "escalated_output_tokens": "The escalated requests' output token count",
    "audit_share": "The audit share",
    "audit_input_tokens": "The audit calls' input token count",
    "audit_output_tokens": "The audit calls' output token count",
}
_SHARE_FIELDS = ("cheap_share", "cached_input_share", "audit_share")
# The escalated requests' and the audits' own sizes, per token count: a token count given by hand
# applies to every call, so it replaces these observed ones too.
OWN_SIZES = {
    "input_tokens": ("escalated_input_tokens", "audit_input_tokens"),
    "output_tokens": ("escalated_output_tokens", "audit_output_tokens"),
}


# Bounds far above any real traffic, so every figure a projection prints is a finite number (an
# input of 1e308 requests used to print $inf, and JSON ``Infinity``, which strict parsers reject).
MAX_MONTHLY_REQUESTS = 1e15
MAX_TOKENS_PER_CALL = 1e8  # context windows hold at most a few million tokens
MAX_MONTHLY_USD = 1e12


class ObservedTraffic(BaseModel):
    """What observed what-if inputs rest on (``from_log``): the window asked for, the span of it the
    log covers, and the requests seen there."""

    model_config = ConfigDict(frozen=True)

    days_asked: float
    covered_days: float  # from the window's start, or the log's first request if later, to its end
    requests: int
    cascade_requests: int
    shadow_requests: int
    audits: int

    def describe(self) -> str:
        """One line: "2,400 requests (360 shadow) in the 3.0 logged of the last 30 days"."""
        text = f"{count(self.requests)} requests"
        if self.shadow_requests:
            text += f" ({count(self.shadow_requests)} shadow)"
        if self.covered_days < self.days_asked - 0.05:
            return text + f" in the {self.covered_days:.1f} logged of the last {self.days_asked:g} days"
        return text + f" in the last {self.days_asked:g} {'day' if self.days_asked == 1 else 'days'}"

    def short(self) -> str:
        """At most 30 cells, for a panel's border: "2,400 req in 3.0 of 7 days"."""
        return f"{count(self.requests)} req in {self.covered_days:.1f} of {self.days_asked:g} days"


class WhatIfInputs(BaseModel):
    """What a projection needs; bad values raise ``ConfigError`` with one sentence.

    ``input_tokens`` and ``output_tokens`` are averages per call (the cheap and the strong call of
    a request are assumed to read and write the same amounts). ``cached_input_share`` is the share
    of input tokens read from the prompt cache (billed at the cache-read price).
    ``escalated_input_tokens`` / ``escalated_output_tokens``, when given, are the averages of the
    strong call on an *escalated* request (escalated requests are often longer than the average one);
    the cascade's strong calls are priced at them, always-strong and always-cheap at the others.
    ``audit_share`` is the share of the requests the cheap model finishes that are also sent to the
    strong model to check it (the router's setting); each audit is a strong call priced at
    ``audit_input_tokens`` / ``audit_output_tokens`` when given, else at the average call.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    monthly_requests: float = Field(ge=0, le=MAX_MONTHLY_REQUESTS)
    cheap_share: float = Field(ge=0, le=1)
    input_tokens: float = Field(ge=0, le=MAX_TOKENS_PER_CALL)
    output_tokens: float = Field(ge=0, le=MAX_TOKENS_PER_CALL)
    cheap_model: str = Field(min_length=1)
    strong_model: str = Field(min_length=1)
    cached_input_share: float = Field(default=0.0, ge=0, le=1)
    batch: bool = False
    monthly_overhead_usd: float = Field(default=0.0, ge=0, le=MAX_MONTHLY_USD)
    escalated_input_tokens: float | None = Field(default=None, ge=0, le=MAX_TOKENS_PER_CALL)
    escalated_output_tokens: float | None = Field(default=None, ge=0, le=MAX_TOKENS_PER_CALL)
    audit_share: float = Field(default=0.0, ge=0, le=1)
    audit_input_tokens: float | None = Field(default=None, ge=0, le=MAX_TOKENS_PER_CALL)
    audit_output_tokens: float | None = Field(default=None, ge=0, le=MAX_TOKENS_PER_CALL)
    observed: ObservedTraffic | None = None  # what observed inputs rest on (``from_log``)

    @model_validator(mode="wrap")
    @classmethod
    def _one_sentence(cls, data: Any, handler: Any) -> WhatIfInputs:
        # Both WhatIfInputs(...) and model_validate(...) end here: a user error, not a pydantic dump.
        try:
            return handler(data)
        except ValidationError as exc:
            raise ConfigError(_error_sentence(exc)) from None

    @property
    def escalation_share(self) -> float:
        """Share of requests the cheap model hands on to the strong one."""
        return 1.0 - self.cheap_share


def _error_sentence(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = str(error["loc"][0]) if error["loc"] else ""
    label = _FIELD_LABELS.get(field, f"The field {field!r}")
    value = error.get("input")
    if not field:
        return "What-if inputs must be given as named values."
    if error["type"] == "missing":
        return f"{label} is required."
    if error["type"] == "extra_forbidden":
        return f"{label} is not a what-if input."
    if field in _SHARE_FIELDS:
        return f"{label} must be between 0% and 100%; got {value!r}."
    if field in ("cheap_model", "strong_model"):
        return f"{label} must be a model name; got {value!r}."
    if field == "batch":
        return f"{label} must be true or false; got {value!r}."
    if error["type"] == "less_than_equal":
        bound = error.get("ctx", {}).get("le")
        return f"{label} must be at most {bound:g}; got {value!r}."
    return f"{label} must be a finite number of at least 0; got {value!r}."


class WhatIfResult(BaseModel):
    """A month of traffic priced four ways, in USD.

    ``savings_*`` compare the cascade with always calling the strong model; ``savings_pct`` is a
    percentage (0–100). ``simple_split_*`` ignore the cheap call wasted on escalated requests (and
    audits). ``audit_usd`` is the audits' share of ``cascade_usd``.
    ``break_even_cheap_share`` leaves the overhead out (it compares per-request costs);
    ``break_even_monthly_requests`` includes it.
    """

    inputs: WhatIfInputs
    always_strong_usd: float
    always_cheap_usd: float
    cascade_usd: float
    simple_split_usd: float
    savings_usd: float
    savings_pct: float
    simple_split_savings_usd: float
    net_savings_usd: float
    break_even_cheap_share: float | None
    break_even_monthly_requests: float | None
    notes: list[str] = Field(default_factory=list)
    cheap_cost_per_request_usd: float = 0.0  # one cheap call
    strong_cost_per_request_usd: float = 0.0  # one strong call
    cascade_cost_per_request_usd: float = 0.0  # cheap call plus the strong call's expected share
    audit_usd: float = 0.0  # the audits' part of cascade_usd

    @property
    def savings_share(self) -> float:
        """The savings as a share of always calling the strong model (``savings_pct`` / 100)."""
        return self.savings_pct / 100.0

    def to_json(self) -> dict:
        """The projection as ``routermon whatif --json`` prints it (one shape for every caller)."""
        return {
            "inputs": self.inputs.model_dump(),
            "monthly_usd": {
                "always_strong": self.always_strong_usd,
                "always_cheap": self.always_cheap_usd,
                "cascade": self.cascade_usd,
                "simple_split": self.simple_split_usd,
                "overhead": self.inputs.monthly_overhead_usd,
                "audits": self.audit_usd,
            },
            "per_request_usd": {
                "cheap_call": self.cheap_cost_per_request_usd,
                "strong_call": self.strong_cost_per_request_usd,
                "cascade": self.cascade_cost_per_request_usd,
            },
            "savings_usd": self.savings_usd,
            "savings_pct": self.savings_pct,
            "simple_split_savings_usd": self.simple_split_savings_usd,
            "net_savings_usd": self.net_savings_usd,
            "break_even_cheap_share": self.break_even_cheap_share,
            "break_even_monthly_requests": self.break_even_monthly_requests,
            "notes": self.notes,
        }


def typed_over_observed(observed: WhatIfInputs | None, typed: dict[str, Any]) -> WhatIfInputs:
    """The inputs for values a person typed on top of observed traffic (``whatif --from-log`` with
    options, the What-if screen after "Use observed traffic").

    Typed values win. A typed token count applies to every call, so it also replaces the observed
    sizes that go with it (``OWN_SIZES``: the escalated requests' and the audits' own sizes). Every
    other observed figure stays, the cached-input share included: it is a share of the input, not a
    size, and still describes the traffic. Without ``observed`` the typed values are all there is.
    """
    if observed is None:
        return WhatIfInputs(**typed)
    values = observed.model_dump()
    for key, sizes in OWN_SIZES.items():
        if key in typed:
            values.update(dict.fromkeys(sizes))
    return WhatIfInputs(**{**values, **typed})


class RequestCosts(BaseModel):
    """USD for one average call of each model, and why prices may differ from what was asked."""

    cheap_usd: float
    strong_usd: float
    notes: list[str] = Field(default_factory=list)
    escalated_strong_usd: float | None = None  # the strong call of an escalated request, if it differs
    audit_strong_usd: float | None = None  # an audit's strong call, if it differs

    @property
    def escalated_usd(self) -> float:
        return self.strong_usd if self.escalated_strong_usd is None else self.escalated_strong_usd

    @property
    def audit_usd(self) -> float:
        return self.strong_usd if self.audit_strong_usd is None else self.audit_strong_usd


def _books(inputs: WhatIfInputs, prices: PriceBook | None) -> tuple[PriceBook, PriceBook]:
    """The price book to use and the standard-price book to compare it with (for batch notes)."""
    base = prices if prices is not None else PriceBook()
    if not inputs.batch:
        return base, base
    context = dict(base.price_context or {})
    standard = PriceBook(
        overrides=base.overrides,
        price_context={k: v for k, v in context.items() if k != "processing"} or None,
    )
    return PriceBook(overrides=base.overrides, price_context={**context, **BATCH_CONTEXT}), standard


def _call_cost(
    rates: ModelRates, inputs: WhatIfInputs, tokens: tuple[float | None, float | None] = (None, None)
) -> float:
    # ``tokens`` overrides the average call's (input, output) where not None.
    input_tokens = inputs.input_tokens if tokens[0] is None else tokens[0]
    output_tokens = inputs.output_tokens if tokens[1] is None else tokens[1]
    cached = input_tokens * inputs.cached_input_share
    return rates.cost(input_tokens - cached, output_tokens, cache_read_tokens=cached)


def request_costs(inputs: WhatIfInputs, prices: PriceBook | None = None) -> RequestCosts:
    """USD for one average cheap call and one average strong call; raises ``UnknownModelError``."""
    book, standard = _books(inputs, prices)
    notes: list[str] = []
    per_model: dict[str, float] = {}
    for model in dict.fromkeys((inputs.cheap_model, inputs.strong_model)):
        rates = book.rates(model)
        if inputs.batch:
            plain = standard.rates(model)
            if (rates.input, rates.output) == (plain.input, plain.output):
                notes.append(f"Batch prices unavailable for {model}; standard prices used.")
        if inputs.cached_input_share > 0 and inputs.input_tokens > 0 and rates.cache_read is None:
            notes.append(f"{model} has no cache-read price; cached input tokens billed at the input price.")
        per_model[model] = _call_cost(rates, inputs)
    strong_rates = book.rates(inputs.strong_model)

    def strong_call(tokens: tuple[float | None, float | None]) -> float | None:
        # A strong call of its own size; None when it is the average call.
        return None if tokens == (None, None) else _call_cost(strong_rates, inputs, tokens)

    return RequestCosts(
        cheap_usd=per_model[inputs.cheap_model],
        strong_usd=per_model[inputs.strong_model],
        notes=notes,
        escalated_strong_usd=strong_call((inputs.escalated_input_tokens, inputs.escalated_output_tokens)),
        audit_strong_usd=strong_call((inputs.audit_input_tokens, inputs.audit_output_tokens)),
    )


def _cascade_per_request(costs: RequestCosts, cheap_share: float, audit_share: float) -> float:
    # Every request pays the cheap call; escalated ones pay the strong call as well, and an
    # ``audit_share`` of the ones the cheap model finished pay an audit's strong call.
    return (
        costs.cheap_usd
        + (1.0 - cheap_share) * costs.escalated_usd
        + _audits_per_request(costs, cheap_share, audit_share)
    )


def _audits_per_request(costs: RequestCosts, cheap_share: float, audit_share: float) -> float:
    return cheap_share * audit_share * costs.audit_usd


def _break_even_share(costs: RequestCosts, audit_share: float) -> float | None:
    """The lowest cheap share at which the cascade costs no more a request than always-strong.

    The cascade's cost is linear in the share: cheap + escalated at 0, cheap + audit_share × audit at
    1. ``None`` when it costs more than always-strong even at 1 (or nothing has a price).
    """
    strong = costs.strong_usd
    at_zero = costs.cheap_usd + costs.escalated_usd
    at_one = costs.cheap_usd + audit_share * costs.audit_usd
    if strong <= 0 or at_one > strong:
        return None
    if at_zero <= strong:
        return 0.0
    return (at_zero - strong) / (at_zero - at_one)


def _from_costs(inputs: WhatIfInputs, costs: RequestCosts) -> WhatIfResult:
    cheap, strong, volume = costs.cheap_usd, costs.strong_usd, inputs.monthly_requests
    escalated = costs.escalated_usd
    cascade_each = _cascade_per_request(costs, inputs.cheap_share, inputs.audit_share)
    split_each = inputs.cheap_share * cheap + inputs.escalation_share * escalated
    always_strong = volume * strong
    cascade = volume * cascade_each
    simple_split = volume * split_each
    audits = volume * _audits_per_request(costs, inputs.cheap_share, inputs.audit_share)
    savings = always_strong - cascade
    savings_each = strong - cascade_each
    overhead = inputs.monthly_overhead_usd
    break_even_volume = overhead / savings_each if overhead > 0 and savings_each > 0 else None
    return WhatIfResult(
        inputs=inputs,
        always_strong_usd=always_strong,
        always_cheap_usd=volume * cheap,
        cascade_usd=cascade,
        simple_split_usd=simple_split,
        savings_usd=savings,
        savings_pct=100.0 * savings / always_strong if always_strong > 0 else 0.0,
        simple_split_savings_usd=always_strong - simple_split,
        net_savings_usd=savings - overhead,
        break_even_cheap_share=_break_even_share(costs, inputs.audit_share),
        break_even_monthly_requests=break_even_volume,
        notes=list(costs.notes),
        cheap_cost_per_request_usd=cheap,
        strong_cost_per_request_usd=strong,
        cascade_cost_per_request_usd=cascade_each,
        audit_usd=audits,
    )


def project(inputs: WhatIfInputs, prices: PriceBook | None = None) -> WhatIfResult:
    """Price a month of ``inputs`` traffic as always-strong, always-cheap, cascade and simple split.

    Raises ``UnknownModelError`` (a ``ConfigError``) when a model has no price.
    """
    return _from_costs(inputs, request_costs(inputs, prices))


def share_curve(
    inputs: WhatIfInputs, prices: PriceBook | None = None, points: int = 21
) -> list[tuple[float, float, float, float]]:
    """``(cheap_share, cascade_usd, always_strong_usd, always_cheap_usd)`` for cheap shares 0..1.

    ``cascade_usd`` here includes ``monthly_overhead_usd`` (what running the router costs a month),
    so with an overhead the curve crosses always-strong where routing stops paying for itself.
    """
    if points < 2:
        raise ConfigError(f"A share curve needs at least 2 points; got {points}.")
    costs = request_costs(inputs, prices)
    volume, overhead = inputs.monthly_requests, inputs.monthly_overhead_usd
    curve = []
    for i in range(points):
        share = i / (points - 1)
        cascade = volume * _cascade_per_request(costs, share, inputs.audit_share) + overhead
        curve.append((share, cascade, volume * costs.strong_usd, volume * costs.cheap_usd))
    return curve


def default_volumes(low: float = 1e3, high: float = 1e9, per_decade: int = 4) -> list[float]:
    """Log-spaced monthly volumes from ``low`` to ``high``, ``per_decade`` points per power of ten."""
    steps = round(math.log10(high / low) * per_decade)
    return [low * 10 ** (i / per_decade) for i in range(steps + 1)]


def volume_curve(
    inputs: WhatIfInputs, prices: PriceBook | None = None, volumes: Sequence[float] | None = None
) -> list[tuple[float, float, float]]:
    """``(monthly_requests, cascade_usd, always_strong_usd)`` over ``volumes`` (default 1e3..1e9, log-spaced).

    ``cascade_usd`` includes ``monthly_overhead_usd``, so the curves cross at the break-even volume.
    """
    costs = request_costs(inputs, prices)
    cascade_each = _cascade_per_request(costs, inputs.cheap_share, inputs.audit_share)
    curve = []
    for volume in default_volumes() if volumes is None else volumes:
        if not math.isfinite(volume) or volume < 0:
            raise ConfigError(f"A monthly volume must be a finite number of at least 0; got {volume!r}.")
        curve.append(
            (float(volume), volume * cascade_each + inputs.monthly_overhead_usd, volume * costs.strong_usd)
        )
    return curve


def from_log(
    reader: LogReader,
    *,
    days: float = 7,
    now: float | None = None,
    cheap_model: str | None = None,
    strong_model: str | None = None,
    prices: PriceBook | None = None,
    instead: str = "give the volume, share and tokens as options",
    fallback_models: tuple[str, str] | None = None,
) -> WhatIfInputs:
    """What-if inputs from the last ``days`` days of logged traffic, extrapolated to a 30-day month
    (see ``inputs_from_usage``); imported pairs are left out. Raises ``ConfigError`` when the
    window holds no routed request, ending with ``instead`` (what the caller's user can do instead:
    the command names its options, the screen its fields).

    The rate is over the span of the window the log covers: from the window's start, or the log's
    first request if it came later, to ``now`` (at least an hour), so a 3-day log read with
    ``days=30`` is three days of traffic, not thirty; quiet hours inside that span are real.
    ``observed`` says what it was. A model the log does not name (no escalation: no strong call)
    is ``fallback_models``' (the workspace's: the settings', else the newest priced ones).
    """
    if not math.isfinite(days) or days <= 0:
        raise ConfigError(f"The observation window must be a positive number of days; got {days!r}.")
    until = time.time() if now is None else now
    since = until - days * DAY_SECONDS
    summary = reader.summary(since, until)
    if summary.requests == 0:
        raise ConfigError(
            f"The call log {reader.path} has no routed requests in the last {day_span(days)}; "
            f"route some traffic first or {instead}."
        )
    first = reader.first_traffic_ts()
    start = since if first is None else max(since, first)
    covered_days = max(until - start, MIN_SPAN_SECONDS) / DAY_SECONDS
    usage = reader.per_tier_model(since, until, by_role=True)
    inputs = inputs_from_usage(
        usage,
        requests=summary.requests,
        cascade_requests=summary.cascade_requests,
        cascade_escalated=summary.cascade_escalated,
        shadow_escalated=summary.shadow_escalated,
        days=covered_days,
        cheap_model=cheap_model,
        strong_model=strong_model,
        prices=prices,
        fallback_models=fallback_models,
    )
    observed = ObservedTraffic(
        days_asked=days,
        covered_days=covered_days,
        requests=summary.requests,
        cascade_requests=summary.cascade_requests,
        shadow_requests=summary.shadow_requests,
        audits=sum(u.calls for u in usage if u.role == "audit"),
    )
    return inputs.model_copy(update={"observed": observed})


def inputs_from_usage(
    usage: Sequence[TierModelStats],
    *,
    requests: int,
    escalated: int | None = None,
    days: float,
    cascade_requests: int | None = None,
    cascade_escalated: int | None = None,
    shadow_escalated: int = 0,
    cheap_model: str | None = None,
    strong_model: str | None = None,
    prices: PriceBook | None = None,
    fallback_models: tuple[str, str] | None = None,
) -> WhatIfInputs:
    """What-if inputs from ``days`` days of calls, grouped by tier, role and model.

    Volume is requests / days × 30, shadow requests included (they are traffic the cascade would
    serve). The cheap share is the cascade's own: 1 - ``cascade_escalated`` / ``cascade_requests``
    (a shadow request calls the strong model whatever the policy says, so it is not priced as an
    escalation); a log of shadow requests alone takes the share the policy would have escalated.
    Without the cascade figures (one run of one mode), ``escalated`` / ``requests``.
    ``input_tokens`` and ``output_tokens`` are averages of the first-tier calls (one per request),
    ``escalated_*`` of the escalated requests' strong calls and ``audit_*`` of the audit calls
    (shadow calls are measurement, not cascade traffic, and price nothing here); the audit share
    is audits per cascade request the cheap model kept. So the projection reproduces the logged
    cascade spend even when escalated requests are longer than most. Cache reads count as cached
    input, cache writes as plain input. The models are the most used first-tier and top-tier
    models unless given.
    """
    if cascade_requests is None:
        cascade_requests, cascade_escalated = requests, escalated or 0
    if cascade_requests:
        share_base, share_escalated = cascade_requests, cascade_escalated or 0
    else:
        share_base, share_escalated = requests - cascade_requests, shadow_escalated
    cache_read = sum(u.cache_read_tokens for u in usage)
    input_total = sum(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens for u in usage)
    first_tier = [u for u in usage if u.tier == 0]
    requests_in, requests_out = _average_tokens(first_tier)
    escalated_in, escalated_out = _average_tokens([u for u in usage if u.tier > 0 and u.role == "strong"])
    audits = [u for u in usage if u.role == "audit"]
    audit_in, audit_out = _average_tokens(audits)
    kept = cascade_requests - (cascade_escalated or 0)
    audit_share = min(1.0, sum(u.calls for u in audits) / kept) if kept > 0 else 0.0
    if cheap_model is None:
        cheap_model = _most_calls(first_tier)
    if strong_model is None:
        top = max((u.tier for u in usage), default=0)
        strong_model = _most_calls([u for u in usage if u.tier == top and top > 0])
    if (cheap_model is None or strong_model is None) and fallback_models is not None:
        cheap_model, strong_model = cheap_model or fallback_models[0], strong_model or fallback_models[1]
    if cheap_model is None or strong_model is None:
        from ..route.catalog import default_models  # lazy: it loads the SDK's model list

        cheap_model, strong_model = default_models(cheap_model, strong_model, prices)
    return WhatIfInputs(
        monthly_requests=requests / days * MONTH_DAYS if days > 0 else 0.0,
        cheap_share=1.0 - share_escalated / share_base if share_base else 1.0,
        input_tokens=requests_in or 0.0,
        output_tokens=requests_out or 0.0,
        escalated_input_tokens=escalated_in,
        escalated_output_tokens=escalated_out,
        audit_share=audit_share,
        audit_input_tokens=audit_in,
        audit_output_tokens=audit_out,
        cached_input_share=cache_read / input_total if input_total else 0.0,
        cheap_model=cheap_model,
        strong_model=strong_model,
    )


def _most_calls(usage: Sequence[TierModelStats]) -> str | None:
    """The model with the most calls in ``usage`` (ties: the first name), ``None`` without calls."""
    calls: dict[str, int] = {}
    for u in usage:
        calls[u.model] = calls.get(u.model, 0) + u.calls
    return min(calls, key=lambda model: (-calls[model], model)) if calls else None


def _average_tokens(usage: Sequence[TierModelStats]) -> tuple[float | None, float | None]:
    """Average input (cache tokens included) and output tokens per call of these rows; None without calls."""
    calls = sum(u.calls for u in usage)
    if not calls:
        return None, None
    input_total = sum(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens for u in usage)
    return input_total / calls, sum(u.output_tokens for u in usage) / calls
