"""How far the LLM judge can be trusted, from the pairs a person labelled too, and the cheap model's
accuracy from the judge corrected by those labels (prediction-powered inference).

Both rest on one binary outcome per pair, *the cheap answer is right*:

- the judge's: its verdict is ``cheap_acceptable`` (``strong_better`` and ``both_fail`` say wrong);
- a person's: the label is ``cheap`` or ``both`` (``strong`` and ``neither`` say wrong).

``judge_check(pairs)`` over the pairs of one task (or all):

- **agreement**: the share of pairs with both a verdict and a label where the two outcomes are the
  same, with a 95% Wilson interval; **Cohen's kappa** on the same two binary outcomes,
  ``(p_o - p_e) / (1 - p_e)`` with ``p_e = p_j p_h + (1 - p_j)(1 - p_h)`` (``p_j``, ``p_h``: the share
  the judge and the person call right); ``None`` when ``p_e`` is 1 (both always say the same thing).
Only labels of pairs in the **spot-check sample** count (``spotcheck.in_spot_check``: a tenth of the pairs,
by a hash of the request id): the review queue offers those first, and a reviewer's labels on
pairs chosen because they looked wrong are not a random sample.

- **prediction-powered estimate** (Angelopoulos et al., 2023, "Prediction-powered inference"):
  with ``f`` the judge's outcome on all ``N`` judged pairs and ``r = f - y`` on the ``n`` of them a
  person labelled (``y`` the person's outcome), ``theta = mean(f over N) - mean(r over n)`` and the
  95% interval ``theta ± 1.96 sqrt(var(f)/N + var(r)/n)`` (sample variances, ``n - 1`` in the
  denominator; clipped to [0, 1]). It needs two labelled pairs at least. The N judged pairs include
  the n labelled ones (the log has no separate unlabelled set); the estimate stays unbiased.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

from pydantic import BaseModel, computed_field

from ..formatting import count, pct, plural
from ..stats import wilson_interval
from . import spotcheck
from .pairs import Pair
from .pairtable import PairScope
from .spotcheck import SPOT_CHECKS, human_says_cheap_right, judge_says_cheap_right

Z_95 = 1.959963984540054
MIN_LABELS = 2  # a variance needs two


def _variance(values: list[float]) -> float:
    """Sample variance (``n - 1`` in the denominator); 0 for fewer than two values."""
    if len(values) < 2:
        return 0.0
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def cohens_kappa(first: list[bool], second: list[bool]) -> float | None:
    """Cohen's kappa of two raters' binary calls on the same items; ``None`` when chance agreement is 1."""
    n = len(first)
    if n == 0 or n != len(second):
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    p1, p2 = sum(first) / n, sum(second) / n
    chance = p1 * p2 + (1 - p1) * (1 - p2)
    if chance >= 1.0:
        return None
    return (observed - chance) / (1 - chance)


def ppi_mean(
    predicted_all: list[float], predicted_labelled: list[float], truth_labelled: list[float], z: float = Z_95
) -> tuple[float, float, float]:
    """The prediction-powered mean and its interval: ``(theta, low, high)`` (not clipped)."""
    big_n, n = len(predicted_all), len(truth_labelled)
    rectifier = [f - y for f, y in zip(predicted_labelled, truth_labelled, strict=True)]
    theta = sum(predicted_all) / big_n - sum(rectifier) / n
    half = z * math.sqrt(_variance(predicted_all) / big_n + _variance(rectifier) / n)
    return theta, theta - half, theta + half


class JudgeCheck(BaseModel):
    """The judge against human labels, and the cheap accuracy it supports (module docstring)."""

    task: str | None
    judged: int  # N: pairs with a judge verdict
    labelled: int  # n: pairs with a judge verdict and a human label, in the spot-check sample
    chosen_labels: int = 0  # labelled pairs outside the sample: left out of these figures
    agreement: float | None  # share of the n where judge and person agree on "cheap right"
    agreement_low: float | None
    agreement_high: float | None
    kappa: float | None
    judge_accuracy: float | None  # the cheap accuracy the judge alone gives, over the N
    human_accuracy: float | None  # the cheap accuracy the labels alone give, over the n
    ppi_accuracy: float | None  # prediction-powered: the judge's figure corrected by the labels
    ppi_low: float | None
    ppi_high: float | None

    @computed_field
    @property
    def footing(self) -> str:
        """What the estimate rests on: "judge on 200 pairs, corrected by 31 human labels"."""
        text = f"judge on {plural(self.judged, 'pair')}, corrected by {plural(self.labelled, 'human label')}"
        if self.chosen_labels:
            # Labels of pairs chosen for review are not a random sample: left out of these figures.
            text += f" of random spot checks ({count(self.chosen_labels)} on chosen pairs left out)"
        return text

    @property
    def agreement_text(self) -> str:
        """The judge and people on "cheap right": "87.1% agree of 31 (71.1%–94.9%), kappa 0.68"."""
        if self.agreement is None:
            return "no pair has both a judge verdict and a human label yet"
        kappa = "kappa —" if self.kappa is None else f"kappa {self.kappa:.2f}"
        return (
            f"{pct(self.agreement)} agree of {count(self.labelled)}"
            f" ({pct(self.agreement_low)}–{pct(self.agreement_high)}), {kappa}"
        )

    @property
    def estimate_text(self) -> str:
        """ "cheap accuracy 88.0% (95% 80.2%–95.8%; judge alone 91.5%)", or why there is none."""
        if self.ppi_accuracy is None:
            return f"cheap accuracy needs {MIN_LABELS} human labels on judged pairs at least"
        return (
            f"cheap accuracy {pct(self.ppi_accuracy)} (95% {pct(self.ppi_low)}–{pct(self.ppi_high)};"
            f" judge alone {pct(self.judge_accuracy)})"
        )


def judge_check(
    pairs: list[Pair] | PairScope,
    task: str | None = None,
    *,
    sample: Callable[[str], bool] | str | None = SPOT_CHECKS,
) -> JudgeCheck | None:
    """The judge against people over ``pairs`` (of ``task``, if given; a list, or a scope read in
    bounded memory, which counts the spot checks only), on the labels of pairs in ``sample`` (the
    spot checks; ``None``: every label, when the caller knows they were drawn at random); ``None``
    when no pair has both a judge verdict and such a label."""
    if not isinstance(pairs, list):  # a PairScope
        if sample != SPOT_CHECKS:
            raise ValueError("A pair table counts the spot-check sample only.")
        scope = pairs.of_task(task) if task is not None else pairs
        verdicts, judge_right = scope.total("verdicts"), scope.total("judge_right")
        spot, chosen = scope.counter("spot"), scope.total("chosen_labels")
    else:
        judged = [p for p in pairs if p.judge_verdict is not None and (task is None or p.task == task)]
        labelled = [p for p in judged if p.human_label is not None]
        chooser = spotcheck.in_spot_check if sample == SPOT_CHECKS else sample
        both = [p for p in labelled if chooser is None or chooser(p.request_id)]  # type: ignore[operator]
        verdicts, chosen = len(judged), len(labelled) - len(both)
        judge_right = sum(judge_says_cheap_right(p.judge_verdict) for p in judged)  # type: ignore[arg-type]
        spot = Counter(
            (judge_says_cheap_right(p.judge_verdict), human_says_cheap_right(p.human_label))
            for p in both  # type: ignore[arg-type]
        )
    return _check(task, verdicts, judge_right, spot, chosen)


def _check(
    task: str | None, verdicts: int, judge_right: int, spot: Counter, chosen: int
) -> JudgeCheck | None:
    """The check from counts: verdicts, those saying the cheap answer is right, and the spot
    checks' (judge says right, person says right) pairs."""
    labelled = sum(spot.values())
    if not labelled:
        return None
    agreed = spot[(True, True)] + spot[(False, False)]
    judge_yes = spot[(True, True)] + spot[(True, False)]
    human_yes = spot[(True, True)] + spot[(False, True)]
    low, high = wilson_interval(agreed, labelled)
    theta = theta_low = theta_high = None
    if labelled >= MIN_LABELS:
        # Rectifier r = judge - person: +1 where only the judge says right, -1 where only the person does.
        rectifier = {1.0: spot[(True, False)], -1.0: spot[(False, True)], 0.0: agreed}
        theta = judge_right / verdicts - (spot[(True, False)] - spot[(False, True)]) / labelled
        half = Z_95 * math.sqrt(
            _variance_of({1.0: judge_right, 0.0: verdicts - judge_right}) / verdicts
            + _variance_of(rectifier) / labelled
        )
        theta, theta_low, theta_high = (min(1.0, max(0.0, x)) for x in (theta, theta - half, theta + half))
    observed, p1, p2 = agreed / labelled, judge_yes / labelled, human_yes / labelled
    chance = p1 * p2 + (1 - p1) * (1 - p2)
    return JudgeCheck(
        task=task,
        judged=verdicts,
        labelled=labelled,
        chosen_labels=chosen,
        agreement=observed,
        agreement_low=low,
        agreement_high=high,
        kappa=None if chance >= 1.0 else (observed - chance) / (1 - chance),
        judge_accuracy=judge_right / verdicts,
        human_accuracy=human_yes / labelled,
        ppi_accuracy=theta,
        ppi_low=theta_low,
        ppi_high=theta_high,
    )


def _variance_of(counts: dict[float, int]) -> float:
    """Sample variance of values given as counts (``n - 1`` in the denominator); 0 under two."""
    n = sum(counts.values())
    if n < 2:
        return 0.0
    mean = sum(v * k for v, k in counts.items()) / n
    return sum(k * (v - mean) ** 2 for v, k in counts.items()) / (n - 1)


def judge_checks(
    pairs: list[Pair] | PairScope, *, sample: Callable[[str], bool] | str | None = SPOT_CHECKS
) -> list[JudgeCheck]:
    """``judge_check`` of every task that has one, then of all tasks together when there are several."""
    if not isinstance(pairs, list):
        tasks = sorted(p.task for p in pairs.parts if p.spot or p.chosen_labels)
    else:
        tasks = sorted({p.task for p in pairs if p.judge_verdict is not None and p.human_label is not None})
    checks = [
        c for c in (judge_check(pairs, t, sample=sample) for t in dict.fromkeys(tasks)) if c is not None
    ]
    if len(checks) > 1:
        overall = judge_check(pairs, sample=sample)
        if overall is not None:
            checks.append(overall)
    return checks
