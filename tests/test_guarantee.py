"""The guarantee: the exact Clopper–Pearson bound, fixed-sequence testing, the never-worse-than-strong
rule, and what it says when no threshold passes; on hand-made files and on the real date pairs."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import DATE_FILE

from routermon.core.errors import ConfigError
from routermon.core.log.importing import import_pairs
from routermon.core.log.reader import LogReader
from routermon.core.measure.analysis import analyse, sweep
from routermon.core.measure.guarantee import (
    CONFIDENTLY_WRONG,
    NO_BETTER_THAN_STRONG,
    TOO_FEW_PAIRS,
    binomial_cdf,
    clopper_pearson_upper,
    pairs_at_rate,
    pairs_for_zero_loss,
)
from routermon.core.measure.pairs import load_pairs


def exact_cdf(k: int, n: int, p: float) -> float:
    """P(Binomial(n, p) ≤ k) in exact rational arithmetic: shares no code with the module's sum."""
    q = Fraction(p)
    return float(sum(math.comb(n, i) * q**i * (1 - q) ** (n - i) for i in range(k + 1)))


def write_pairs(path: Path, rows: list[tuple], *, cheap_tokens: int = 100, strong_tokens: int = 100) -> Path:
    """A paired-outcome file: one ``(confidence, cheap_correct, strong_correct)`` a line, with real models
    so the pairs are priced (claude-haiku-4-5 costs a third of claude-sonnet-4-6 per token)."""
    lines = []
    for i, (confidence, cheap_ok, strong_ok) in enumerate(rows):
        lines.append(
            {
                "id": f"p{i}",
                "task": "t",
                "input": f"input {i}",
                "cheap": {
                    "model": "claude-haiku-4-5",
                    "answer": "a" if cheap_ok else "x",
                    "confidence": confidence,
                    "input_tokens": cheap_tokens,
                    "output_tokens": cheap_tokens,
                    "correct": cheap_ok,
                },
                "strong": {
                    "model": "claude-sonnet-4-6",
                    "answer": "a" if strong_ok else "y",
                    "input_tokens": strong_tokens,
                    "output_tokens": strong_tokens,
                    "correct": strong_ok,
                },
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def pairs_of(tmp_path: Path, rows: list[tuple], **tokens) -> list:
    db = tmp_path / "calls.db"
    import_pairs(write_pairs(tmp_path / "pairs.jsonl", rows, **tokens), db)
    with LogReader(db) as reader:
        return load_pairs(reader)


# -- the bound -------------------------------------------------------------------------------------


def test_clopper_pearson_zero_losses_has_a_closed_form():
    assert clopper_pearson_upper(0, 10, 0.95) == pytest.approx(1 - 0.05 ** (1 / 10), abs=1e-12)
    assert round(clopper_pearson_upper(0, 10, 0.95), 4) == 0.2589
    assert clopper_pearson_upper(0, 369, 0.95) == pytest.approx(1 - 0.05 ** (1 / 369), abs=1e-12)


def test_clopper_pearson_all_losses_is_one():
    assert clopper_pearson_upper(10, 10, 0.95) == 1.0
    assert clopper_pearson_upper(1, 1, 0.5) == 1.0


@pytest.mark.parametrize("k,n,confidence", [(3, 20, 0.95), (1, 369, 0.95), (11, 369, 0.9), (40, 200, 0.99)])
def test_clopper_pearson_upper_solves_the_binomial_tail(k, n, confidence):
    """At the bound the chance of k or fewer losses is exactly 1 − C, by an independent exact sum."""
    upper = clopper_pearson_upper(k, n, confidence)
    assert exact_cdf(k, n, upper) == pytest.approx(1 - confidence, abs=1e-9)
    assert exact_cdf(k, n, upper * 0.999) > 1 - confidence > exact_cdf(k, n, upper * 1.001)


def test_clopper_pearson_known_beta_quantile():
    # qbeta(0.95, 4, 17) in R: the 95% upper bound for 3 losses in 20.
    assert clopper_pearson_upper(3, 20, 0.95) == pytest.approx(0.3436638, abs=1e-6)


def test_binomial_cdf_matches_the_exact_sum_including_large_n():
    for k, n, p in [(0, 5, 0.3), (2, 5, 0.3), (7, 50, 0.1), (120, 1000, 0.13)]:
        assert binomial_cdf(k, n, p) == pytest.approx(exact_cdf(k, n, p), rel=1e-10)
    assert binomial_cdf(5, 5, 0.5) == 1.0 and binomial_cdf(0, 5, 1.0) == 0.0


def test_pairs_for_zero_loss_is_the_smallest_n_that_passes():
    n = pairs_for_zero_loss(0.01, 0.95)
    assert n == math.ceil(math.log(0.05) / math.log(0.99)) == 299
    assert clopper_pearson_upper(0, n, 0.95) <= 0.01 < clopper_pearson_upper(0, n - 1, 0.95)


def test_pairs_at_rate_is_where_the_scaled_bound_first_passes():
    needed = pairs_at_rate(1, 400, 0.01, 0.95)
    rate = 1 / 400
    assert clopper_pearson_upper(math.ceil(rate * needed), needed, 0.95) <= 0.01
    assert clopper_pearson_upper(math.ceil(rate * (needed - 1)), needed - 1, 0.95) > 0.01
    assert pairs_at_rate(4, 400, 0.01, 0.95) is None  # the observed rate is the allowed loss: never


# -- the sequence on a small file, by hand ---------------------------------------------------------

# (confidence, cheap correct, strong correct). The six losses (cheap wrong, strong right) sit at
# 0.93, 0.72, 0.57, 0.44, 0.44 and 0.30; one pair both get wrong (0.60, not a loss).
HAND = [
    *[(1.0, True, True)] * 4,
    (0.93, False, True),
    *[(0.9, True, True)] * 2,
    (0.8, True, True),
    (0.72, False, True),
    (0.65, True, True),
    (0.6, False, False),
    (0.57, False, True),
    (0.5, True, True),
    (0.44, False, True),
    (0.44, False, True),
    (0.4, True, True),
    (0.3, False, True),
    (0.2, True, True),
    (0.1, True, True),
    (0.05, True, True),
]
HAND_CONFIDENCE = 0.9
# With n = 20 pairs: 2 losses are allowed and 3 are not (the bounds at 90% are 0.2526 and 0.3175).
HAND_MAX_LOSS = 0.28


def test_hand_file_bounds_straddle_the_allowed_loss():
    n = len(HAND)
    assert n == 20
    assert clopper_pearson_upper(2, n, HAND_CONFIDENCE) < HAND_MAX_LOSS < clopper_pearson_upper(3, n, 0.9)


def test_hand_file_accepted_set_and_recommendation(tmp_path):
    """Losses by threshold: 0 above 0.93, 1 down to 0.75, 2 down to 0.60, 3 at 0.57: the sequence stops
    there, and the lowest accepted threshold is 0.60."""
    pairs = pairs_of(tmp_path, HAND, cheap_tokens=100, strong_tokens=1000)  # cheap: 1/30 of strong
    g = sweep(pairs, max_loss=HAND_MAX_LOSS, confidence=HAND_CONFIDENCE).guarantee
    tested = [(s.threshold, s.losses, s.accepted) for s in g.steps]
    expected_losses = {1.0: 0, 0.95: 0, 0.93: 1, 0.9: 1, 0.85: 1, 0.8: 1, 0.75: 1, 0.72: 2, 0.7: 2, 0.65: 2}
    expected_losses |= {0.6: 2, 0.57: 3}
    assert [t for t, _, _ in tested] == list(expected_losses)  # highest first, stopping at 0.57
    assert {t: k for t, k, _ in tested} == expected_losses
    assert [t for t, _, accepted in tested if not accepted] == [0.57]
    assert g.threshold == 0.6 and g.reason is None
    assert g.loss == pytest.approx(2 / 20) and g.loss_upper == pytest.approx(
        clopper_pearson_upper(2, 20, 0.9)
    )
    # Kept at 0.60: four 1.0, 0.93, two 0.9, 0.8, 0.72, 0.65, 0.6 -> 11 of 20; escalated 9.
    assert g.escalation_share == pytest.approx(9 / 20)
    assert g.n == 20 and g.small_sample and all(s.eligible for s in g.steps)
    cost = (1 + 9 / 20 * 30) / 30  # a cheap call costs 1/30 of a strong one; 9 of 20 also pay the strong
    assert g.cost_vs_strong == pytest.approx(cost)
    assert g.message == (
        "With 90% confidence, routing at 0.60 loses at most 28.0 points of accuracy against always-strong "
        "(observed 10.0 points), escalating 45.0% of requests, at 48% of the always-strong cost "
        "(small sample: 20 pairs). Correctness: 20 as recorded with the pair."
    )


def test_a_threshold_costlier_than_strong_is_tested_but_not_recommended(tmp_path):
    """With the cheap call a third of the strong one's price, escalating more than two thirds costs more
    than always-strong: 1.00, 0.95 and 0.93 pass but are skipped, and the sequence goes on below them."""
    pairs = pairs_of(tmp_path, HAND)  # the same tokens: claude-haiku-4-5 costs 1/3 of claude-sonnet-4-6
    result = sweep(pairs, max_loss=HAND_MAX_LOSS, confidence=HAND_CONFIDENCE)
    g = result.guarantee
    skipped = [s.threshold for s in g.steps if not s.eligible]
    assert skipped == [1.0, 0.95, 0.93]
    assert all(result.row_at(t).cost_vs_strong > 1 for t in skipped)
    assert all(s.accepted for s in g.steps if s.threshold in skipped)
    assert g.threshold == 0.6  # the same as without the rule: only the choice among passes changes


def test_a_threshold_worse_than_both_baselines_is_not_recommended(tmp_path):
    """Confident where wrong and unsure where right: every middle threshold is less accurate than both
    models alone (no prices here, so only the accuracy rule can skip)."""
    pairs = pairs_of(tmp_path, [*[(0.9, False, True)] * 5, *[(0.1, True, False)] * 5])
    pairs = [p.model_copy(update={"cheap_cost_usd": None, "strong_cost_usd": None}) for p in pairs]
    result = sweep(pairs, max_loss=0.9, confidence=0.5)
    g = result.guarantee
    middle = [s for s in g.steps if 0.1 < s.threshold <= 0.9]
    assert middle and all(s.skipped_because == "less accurate than both baselines" for s in middle)
    assert all(result.row_at(s.threshold).accuracy == 0.0 for s in middle)
    assert g.threshold == 0.0 and g.accuracy == 0.5  # keeps everything: as good as either alone


# -- when no threshold passes ----------------------------------------------------------------------


def test_too_few_pairs_says_how_many_are_needed(tmp_path):
    pairs = pairs_of(tmp_path, [(0.9, True, True)] * 30 + [(0.3, False, True)] * 12)
    g = sweep(pairs).guarantee
    assert g.threshold is None and g.reason_code == TOO_FEW_PAIRS
    assert g.min_pairs == 299
    assert g.steps[0].threshold == 1.0 and g.steps[0].losses == 0 and not g.steps[0].accepted
    # 1.00 and 0.95 keep nothing, so they cost more than always-strong: 0.90 is the first worth passing.
    assert not g.steps[0].eligible
    assert g.next_threshold == 0.9 and g.more_pairs == 299 - 42
    assert (
        g.reason
        == "Too few pairs: even with no loss observed, 42 pairs give an upper bound of 6.9 points; it takes 299."
    )
    assert "About 257 more pairs at the current rates would let 0.90 pass" in g.message
    assert "with 95% confidence (small sample: 42 pairs). Too few pairs" in g.message


def test_confidently_wrong_with_more_pairs_that_would_help(tmp_path):
    """400 pairs and one loss at the top: the bound 1.2 points fails 1.0, but the rate 0.25 points would
    pass with more pairs."""
    pairs = pairs_of(tmp_path, [(1.0, False, True)] + [(1.0, True, True)] * 299 + [(0.5, True, True)] * 100)
    g = sweep(pairs).guarantee
    assert g.threshold is None and g.reason_code == CONFIDENTLY_WRONG
    assert g.steps == g.steps[:1] and g.steps[0].losses == 1
    assert g.next_threshold == 1.0 and g.more_pairs == pairs_at_rate(1, 400, 0.01, 0.95) - 400
    assert g.reason.startswith("The cheap model is too often confidently wrong: even at 1.00")
    assert f"About {g.more_pairs:,} more pairs at the current rates would let 1.00 pass" in g.message
    assert g.more_pairs == 228  # 1 loss in 400 (0.25 points): the bound reaches 1.0 point at 628 pairs
    assert "small sample" not in g.message


def noise_pairs(seed: int = 7, n: int = 2000) -> list[tuple]:
    """Confidence that carries no information: uniform, whatever the answer."""
    rng = random.Random(seed)
    return [(round(rng.random(), 2), rng.random() < 0.8, rng.random() < 0.95) for _ in range(n)]


def test_noise_confidence_never_recommends_a_threshold_worse_than_strong(tmp_path):
    """Only thresholds that keep few answers pass, and those cost more than always-strong (the cheap call
    is always paid): the guarantee says to send everything to the strong model."""
    pairs = pairs_of(tmp_path, noise_pairs(), cheap_tokens=450, strong_tokens=500)  # cheap: 30% of strong
    result = sweep(pairs, max_loss=0.05)
    g = result.guarantee
    accepted = [s for s in g.steps if s.accepted]
    assert len(accepted) > 5  # without the rule, the lowest of these would be recommended
    assert all(result.row_at(s.threshold).cost_vs_strong > 1 for s in accepted)
    assert g.threshold is None and g.reason_code == NO_BETTER_THAN_STRONG
    assert "send everything to the strong model" in g.reason
    assert g.next_threshold is not None and g.next_threshold < accepted[-1].threshold


def test_bad_options_are_clear_errors(tmp_path):
    pairs = pairs_of(tmp_path, HAND)
    for kwargs in ({"max_loss": 0.0}, {"max_loss": 1.0}, {"confidence": 95}, {"confidence": math.nan}):
        with pytest.raises(ConfigError, match="must be above 0% and below 100%"):
            sweep(pairs, **kwargs)


# -- the real paired set ---------------------------------------------------------------------------


def date_losses() -> list[float]:
    """Confidences of the date file's losses (gpt-3.5 wrong, gpt-4 right), straight from the file."""
    lines = [json.loads(line) for line in DATE_FILE.read_text().splitlines()]
    return [x["cheap"]["confidence"] for x in lines if not x["cheap"]["correct"] and x["strong"]["correct"]]


def test_date_default_guarantee_fails_because_gpt35_is_confidently_wrong(date_db):
    with LogReader(date_db) as reader:
        g = analyse(reader).guarantee
    losses_at_one = sum(c >= 1.0 for c in date_losses())
    assert losses_at_one == 11  # 11 of 369 unanimous answers are wrong where gpt-4 is right
    assert g.threshold is None and g.reason_code == CONFIDENTLY_WRONG and g.n == 369
    assert g.steps[0].losses == 11 and g.steps[0].loss_upper == pytest.approx(0.0489, abs=1e-4)
    assert g.more_pairs is None  # 3.0 observed points: no number of pairs brings it under 1.0
    assert "correctness: 369 against a reference answer" in g.message


@pytest.mark.parametrize("max_loss,threshold", [(0.05, 1.0), (0.1, 0.85)])
def test_date_guarantee_by_hand(date_db, max_loss, threshold):
    """The accepted set recomputed from the file: thresholds from the top down while the bound of the
    losses kept at each is at most the allowed loss."""
    with LogReader(date_db) as reader:
        result = analyse(reader, max_loss=max_loss)
    losses = date_losses()
    accepted = []
    for t in sorted((r.threshold for r in result.rows), reverse=True):
        k = sum(c >= t - 1e-12 for c in losses)
        if exact_cdf(k, 369, max_loss) > 0.05:  # the bound exceeds max_loss: stop
            break
        accepted.append(t)
    g = result.guarantee
    assert [s.threshold for s in g.steps if s.accepted] == accepted
    assert g.threshold == accepted[-1] == threshold
    row = result.row_at(threshold)
    assert g.escalation_share == row.escalation_share and g.cost_vs_strong == row.cost_vs_strong


def test_date_guarantee_sentence(date_db):
    with LogReader(date_db) as reader:
        g = analyse(reader, max_loss=0.1).guarantee
    assert g.message == (
        "With 95% confidence, routing at 0.85 loses at most 10.0 points of accuracy against always-strong "
        "(observed 7.0 points), escalating 35.0% of requests, at 52% of the always-strong cost. "
        "Based on 369 pairs; correctness: 369 against a reference answer."
    )


def test_per_task_guarantee_is_each_tasks_own(tmp_path):
    rows = [(0.9, True, True)] * 30
    pairs = pairs_of(tmp_path, rows)
    other = [p.model_copy(update={"task": "u", "request_id": p.request_id + "u"}) for p in pairs]
    result = sweep(pairs + other, max_loss=0.2)
    assert [s.guarantee.n for s in result.per_task] == [30, 30]
    assert all(s.guarantee.small_sample for s in result.per_task)
    assert result.guarantee.n == 60
