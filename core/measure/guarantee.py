"""A threshold with a statistical guarantee: how much accuracy routing can lose against always-strong.

The **loss** of a threshold t is the share of the n pairs where the cheap answer was kept (the cheap
call did not fail and its confidence is ≥ t), the cheap answer was wrong and the strong one right:
the accuracy the cascade gives up against sending every request to the strong model.

For every candidate threshold (the sweep's: each distinct confidence and the 0.05 grid) the loss
count k is binomial, so its exact one-sided Clopper–Pearson upper bound at level C
(``clopper_pearson_upper``) holds with probability C. The candidates are tested from the highest
threshold down, and the testing stops at the first whose bound exceeds the allowed loss A
(fixed-sequence testing: the loss only grows as the threshold falls, the order is fixed before
looking at the bounds, so the chance that *any* accepted threshold's true loss exceeds A is at most
1 − C). The recommendation is the lowest accepted threshold, i.e. the cheapest one.

Two thresholds are never recommended even when accepted: one that costs more than always-strong
(the cheap call is always paid, so keeping few answers costs more than not routing at all) and one
less accurate than both baselines. These rules only pick *among* the accepted thresholds: a skipped
threshold is still tested, its pass lets the sequence go on to lower thresholds and its failure
stops it like any other. The recommendation is therefore always an accepted threshold, and the
guarantee (which covers every accepted threshold at once) is unchanged.

``guarantee(scope, rows, ..., losses_at) -> Guarantee``; ``clopper_pearson_upper(k, n, confidence)``,
``binomial_cdf(k, n, p)`` and ``pairs_for_zero_loss(max_loss, confidence)`` are the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import lru_cache

from pydantic import BaseModel

from ..errors import ConfigError
from ..formatting import count, given_share, level, pct, plural, points
from ..log.records import CORRECT_SOURCES
from .pairtable import PairScope
from .sweeprows import Baseline, SweepRow

DEFAULT_MAX_LOSS = 0.01  # one point of accuracy against always-strong
DEFAULT_CONFIDENCE = 0.95
SMALL_SAMPLE = 100  # fewer pairs than this (in a task) and every figure on them is flagged
MAX_PAIRS_SEARCHED = 1_000_000  # beyond this, "more pairs at these rates" is not worth a number
_EPS = 1e-9
_LOG_TAIL = 40.0  # binomial terms below e^-40 of the running sum no longer change a double
_BISECTIONS = 200  # the bound is found to within 1e-15; the loop stops earlier once it is that close

TOO_FEW_PAIRS = "too_few_pairs"
CONFIDENTLY_WRONG = "confidently_wrong"
NO_BETTER_THAN_STRONG = "no_better_than_strong"


# -- statistics ------------------------------------------------------------------------------------


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p), summed exactly in log space (no normal approximation).

    Terms are added from k downwards with the ratio of neighbouring terms; once past the mode they
    shrink geometrically, and the sum stops when they fall below e^-40 of it (``_LOG_TAIL``), which
    keeps a million-pair bound to a few thousand terms.
    """
    return _binomial_cdf(k, n, p, None)


def _binomial_cdf(k: int, n: int, p: float, above: float | None) -> float:
    """``binomial_cdf``; with ``above``, it may stop as soon as the partial sum exceeds it (the sum
    only grows, so the answer to "cdf > above?" is already known): the bisection asks only that."""
    if k < 0:
        return 0.0
    if k >= n or p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    log_p, log_q = math.log(p), math.log1p(-p)
    log_term = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * log_p + (n - k) * log_q
    log_sum, mode = log_term, (n + 1) * p
    for i in range(k, 0, -1):  # term(i-1) = term(i) * i q / ((n - i + 1) p)
        if above is not None and math.exp(log_sum) > above:
            break
        log_term += math.log(i) - math.log(n - i + 1) + log_q - log_p
        log_sum = max(log_sum, log_term) + math.log1p(math.exp(-abs(log_sum - log_term)))
        if i - 1 < mode and log_term < log_sum - _LOG_TAIL:
            break
    return min(1.0, math.exp(log_sum))


@lru_cache(maxsize=4096)  # a screen re-sweeping as a target is typed asks for the same bounds again
def clopper_pearson_upper(k: int, n: int, confidence: float) -> float:
    """The exact one-sided Clopper–Pearson upper bound on a share from ``k`` events in ``n`` trials.

    The p with P(Binomial(n, p) ≤ k) = 1 − confidence (the beta quantile, found by bisection on the
    binomial CDF, which falls as p grows); 1 when k = n, and 1 − (1 − C)^(1/n) when k = 0.
    """
    if n <= 0 or k >= n:
        return 1.0
    alpha = 1.0 - confidence
    low, high = k / n, 1.0  # the bound is never below the observed share
    for _ in range(_BISECTIONS):
        mid = (low + high) / 2
        if _binomial_cdf(k, n, mid, alpha) > alpha:  # 1M pairs' four guarantees: 3.2 s -> 1.8 s
            low = mid
        else:
            high = mid
        if high - low < 1e-15:
            break
    return high


def pairs_for_zero_loss(max_loss: float, confidence: float) -> int:
    """The fewest pairs with which a threshold that lost nothing passes: the smallest n with
    1 − (1 − C)^(1/n) ≤ A, i.e. n ≥ ln(1 − C) / ln(1 − A)."""
    n = max(1, math.ceil(math.log(1 - confidence) / math.log1p(-max_loss) - 1e-9))
    while n > 1 and clopper_pearson_upper(0, n - 1, confidence) <= max_loss:
        n -= 1
    while clopper_pearson_upper(0, n, confidence) > max_loss:
        n += 1
    return n


def pairs_at_rate(losses: int, n: int, max_loss: float, confidence: float) -> int | None:
    """The fewest pairs at which a threshold passes if its observed loss rate ``losses / n`` held
    (losses counted up, so the figure never promises too few); ``None`` when it never would (the rate
    is at or above ``max_loss``) or only beyond ``MAX_PAIRS_SEARCHED`` pairs."""
    rate = losses / n if n else 0.0
    if rate >= max_loss:
        return None

    def passes(m: int) -> bool:
        return clopper_pearson_upper(math.ceil(rate * m - 1e-9), m, confidence) <= max_loss

    low, high = n, max(n, 1)
    while not passes(high):
        if high >= MAX_PAIRS_SEARCHED:
            return None
        low, high = high, min(MAX_PAIRS_SEARCHED, high * 2)
    while high - low > 1:  # the bound falls with m at a fixed rate, up to the rounding of the count
        mid = (low + high) // 2
        low, high = (low, mid) if passes(mid) else (mid, high)
    return high


# -- the result ------------------------------------------------------------------------------------


class GuaranteeStep(BaseModel):
    """One candidate threshold in the fixed sequence, highest first."""

    threshold: float
    losses: int  # kept, cheap wrong, strong right
    loss: float  # losses / n
    loss_upper: float  # Clopper–Pearson upper bound at the guarantee's confidence
    accepted: bool
    eligible: bool  # neither costlier than always-strong nor less accurate than both baselines
    skipped_because: str | None = None


class Guarantee(BaseModel):
    """The threshold whose loss against always-strong is at most ``max_loss`` with ``confidence``.

    ``threshold`` is ``None`` when none passes; ``reason`` then says why (``reason_code``: one of
    ``too_few_pairs``, ``confidently_wrong``, ``no_better_than_strong``), and ``more_pairs`` how many
    more pairs at the current rates would let ``next_threshold`` pass (``None``: no number would).
    ``min_pairs`` is the fewest pairs with which any threshold can pass (one with no loss at all).
    """

    threshold: float | None
    loss: float | None
    loss_upper: float | None
    max_loss: float
    confidence: float
    n: int
    escalation_share: float | None
    cost_vs_strong: float | None
    accuracy: float | None
    reason: str | None
    reason_code: str | None
    min_pairs: int
    next_threshold: float | None = None
    more_pairs: int | None = None
    small_sample: bool
    correctness: str  # what the pairs' correctness rests on, in words
    steps: list[GuaranteeStep]  # the candidates tested, down to the first that failed
    statement: str  # the guarantee, or why there is none, in words
    footing: str  # what it rests on: n and the source of correctness
    message: str  # the statement and its footing


def check_guarantee_options(max_loss: float, confidence: float) -> None:
    """``ConfigError`` unless both are shares strictly between 0 and 1 (0% and 100%)."""
    for name, value, example in (
        ("The maximum loss", max_loss, "1% or 0.01 for one point"),
        ("The confidence", confidence, "95% or 0.95"),
    ):
        if not (math.isfinite(value) and 0.0 < value < 1.0):
            raise ConfigError(
                f"{name} must be above 0% and below 100% (e.g. {example}); got {given_share(value)}."
            )


def small_sample_flag(n: int) -> str:
    """`` (small sample: 42 pairs)`` under ``SMALL_SAMPLE`` pairs, else nothing."""
    return f" (small sample: {plural(n, 'pair')})" if n < SMALL_SAMPLE else ""


_SOURCE_WORDS = {
    "human": "checked by a person",
    "judge": "by an LLM judge",
    "fields": "by field-by-field agreement with the strong answer (taken as right)",
    "exact": "by agreement with the strong answer (taken as right)",
}
_SOURCE_TAGS = {"reference": "reference", "judge": "judge", "fields": "field agreement", "exact": "agreement"}


def source_counts(scope: PairScope) -> dict[str, int]:
    """How many pairs rest on each source of correctness (``records.CORRECT_SOURCES`` order)."""
    found = scope.counter("correct_sources")
    return {source: found[source] for source in CORRECT_SOURCES if found[source]}


def correctness_basis(scope: PairScope) -> str:
    """What the pairs' answers were judged by, e.g. "369 against a reference answer" (failed
    cheap calls need no judging: they are wrong, and the sweep's notes count them)."""
    parts = []
    counts = source_counts(scope)
    counts.pop("failure", None)
    for source, n in counts.items():
        if source == "reference":
            referenced = scope.total("referenced")
            if referenced:
                parts.append(f"{count(referenced)} against a reference answer")
            if n - referenced:
                parts.append(f"{count(n - referenced)} as recorded with the pair")
        else:
            parts.append(f"{count(n)} {_SOURCE_WORDS[source]}")
    return ", ".join(parts)


def sources_tag(scope: PairScope) -> str:
    """The short form a figure carries, e.g. "judge, 31 human-checked": the main source of
    correctness and how many pairs a person checked."""
    counts = source_counts(scope)
    humans = counts.pop("human", 0)
    counts.pop("failure", None)
    parts = [_SOURCE_TAGS[max(counts, key=counts.get)]] if counts else []
    if humans:
        parts.append(f"{count(humans)} human-checked")
    return ", ".join(parts)


def _ineligible(row: SweepRow, floor: float) -> str | None:
    if row.cost_vs_strong is not None and row.cost_vs_strong > 1 + _EPS:
        return "costs more than always-strong"
    if row.accuracy < floor - _EPS:
        return "less accurate than both baselines"
    return None


def guarantee(
    scope: PairScope,
    rows: list[SweepRow],
    cheap_only: Baseline,
    strong_only: Baseline,
    losses_at: Callable[[float], int],
    *,
    max_loss: float = DEFAULT_MAX_LOSS,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Guarantee:
    """The guaranteed threshold over the pairs of ``scope``, testing the sweep's ``rows`` (see the
    module docstring); ``losses_at(t)``: the pairs kept at t where the cheap answer was wrong and
    the strong one right."""
    check_guarantee_options(max_loss, confidence)
    n = scope.n
    floor = min(cheap_only.accuracy, strong_only.accuracy)

    bounds: dict[int, float] = {}  # many thresholds share a loss count
    steps: list[GuaranteeStep] = []
    for row in sorted(rows, key=lambda r: -r.threshold):
        losses = losses_at(row.threshold)
        if losses not in bounds:
            bounds[losses] = clopper_pearson_upper(losses, n, confidence)
        skipped = _ineligible(row, floor)
        step = GuaranteeStep(
            threshold=row.threshold,
            losses=losses,
            loss=losses / n,
            loss_upper=bounds[losses],
            accepted=bounds[losses] <= max_loss,
            eligible=skipped is None,
            skipped_because=skipped,
        )
        steps.append(step)
        if not step.accepted:
            break
    chosen = next((s for s in reversed(steps) if s.accepted and s.eligible), None)
    by_threshold = {r.threshold: r for r in rows}
    common = {
        "statement": "",
        "footing": "",
        "message": "",
        "max_loss": max_loss,
        "confidence": confidence,
        "n": n,
        "min_pairs": pairs_for_zero_loss(max_loss, confidence),
        "small_sample": n < SMALL_SAMPLE,
        "correctness": correctness_basis(scope),
        "steps": steps,
    }
    if chosen is not None:
        row = by_threshold[chosen.threshold]
        result = Guarantee(
            threshold=chosen.threshold,
            loss=chosen.loss,
            loss_upper=chosen.loss_upper,
            escalation_share=row.escalation_share,
            cost_vs_strong=row.cost_vs_strong,
            accuracy=row.accuracy,
            reason=None,
            reason_code=None,
            **common,
        )
    else:
        result = _none_passes(steps, rows, floor, losses_at, common)
    result.statement, result.footing = _statement(result), _footing(result)
    result.message = f"{result.statement} {result.footing}".strip()
    return result


def _none_passes(
    steps: list[GuaranteeStep],
    rows: list[SweepRow],
    floor: float,
    losses_at: Callable[[float], int],
    common: dict,
) -> Guarantee:
    """Why no threshold passes, and how many more pairs at the current rates would let one."""
    n, max_loss, confidence = common["n"], common["max_loss"], common["confidence"]
    first_failure = steps[-1] if not steps[-1].accepted else None
    # The next candidate: the highest eligible threshold the sequence has not accepted. The loss
    # only grows as the threshold falls, so no lower one needs fewer pairs.
    pending = sorted(
        (r for r in rows if r.threshold <= steps[-1].threshold + _EPS), key=lambda r: -r.threshold
    )
    target = next((r for r in pending if first_failure is not None and _ineligible(r, floor) is None), None)
    next_threshold = more = None
    if target is not None:
        needed = pairs_at_rate(losses_at(target.threshold), n, max_loss, confidence)
        next_threshold = target.threshold
        more = None if needed is None else max(1, needed - n)
    top = steps[0]
    if first_failure is top and clopper_pearson_upper(0, n, confidence) > max_loss:
        code = TOO_FEW_PAIRS
        reason = (
            f"Too few pairs: even with no loss observed, {plural(n, 'pair')} give an upper bound of "
            f"{points(clopper_pearson_upper(0, n, confidence))}; it takes {count(common['min_pairs'])}."
        )
    elif first_failure is top:
        code = CONFIDENTLY_WRONG
        reason = (
            f"The cheap model is too often confidently wrong: even at {top.threshold:.2f}, the highest "
            f"threshold, it keeps {plural(top.losses, 'answer')} that are wrong where the strong one is right "
            f"({points(top.loss)}; upper bound {points(top.loss_upper)})."
        )
    else:
        code = NO_BETTER_THAN_STRONG
        lowest = [s for s in steps if s.accepted][-1]
        reason = (
            f"The thresholds that pass (down to {lowest.threshold:.2f}) cost more than always-strong or are "
            "less accurate than both baselines: send everything to the strong model."
        )
    return Guarantee(
        threshold=None,
        loss=None,
        loss_upper=None,
        escalation_share=None,
        cost_vs_strong=None,
        accuracy=None,
        reason=reason,
        reason_code=code,
        next_threshold=next_threshold,
        more_pairs=more,
        **common,
    )


def _footing(g: Guarantee) -> str:
    """n and the source of correctness; a small sample is flagged on the statement, so n is not repeated."""
    basis = f"correctness: {g.correctness}" if g.correctness else ""
    if g.small_sample:
        return f"{basis[:1].upper()}{basis[1:]}." if basis else ""
    return f"Based on {plural(g.n, 'pair')}" + (f"; {basis}." if basis else ".")


def _statement(g: Guarantee) -> str:
    flag = small_sample_flag(g.n)
    if g.threshold is None:
        text = (
            f"No threshold is guaranteed to lose at most {points(g.max_loss)} of accuracy against "
            f"always-strong with {level(g.confidence)} confidence{flag}. {g.reason}"
        )
        if g.next_threshold is not None:
            worth = f"{g.next_threshold:.2f} pass (the highest threshold worth routing at)"
            if g.more_pairs is None:
                text += f" No number of pairs at the current rates would let {worth}."
            else:
                text += f" About {plural(g.more_pairs, 'more pair')} at the current rates would let {worth}."
        return text
    cost = "" if g.cost_vs_strong is None else f", at {pct(g.cost_vs_strong, 0)} of the always-strong cost"
    return (
        f"With {level(g.confidence)} confidence, routing at {g.threshold:.2f} loses at most "
        f"{points(g.max_loss)} of accuracy against always-strong (observed {points(g.loss)}), "
        f"escalating {pct(g.escalation_share)} of requests{cost}{flag}."
    )
