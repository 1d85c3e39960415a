"""Threshold calibration over paired outcomes: the sweep, a recommendation, calibration, per task.

Pure functions over a ``routermon.core.measure.pairtable.PairScope`` (the log's pairs folded into a
table per distinct confidence, in bounded memory) or a list of ``routermon.core.measure.pairs.Pair``
(folded the same way); the CLI (``routermon thresholds``), the audit report and the TUI all call these:

- ``analyse(reader, task=None, *, target_accuracy=None, max_escalation=None, threshold=None,
  default_threshold=0.7, max_loss=0.01, confidence=0.95, table=None)``
  reads the pairs' table from a ``LogReader`` in one pass and returns ``sweep(...)``; raises
  ``NoPairsError`` (a ``RoutermonError``) when the log has none.
- ``sweep(pairs, *, target_accuracy=None, max_escalation=None, threshold=None, ...) -> SweepResult``:
  ``rows`` (one ``SweepRow`` per threshold), ``cheap_only``, ``strong_only`` (``Baseline``),
  ``guarantee`` (``routermon.core.measure.guarantee.Guarantee``: the threshold whose loss against
  always-strong is at most ``max_loss`` with ``confidence``), ``recommended`` (``Recommendation``,
  observed on the same pairs, not guaranteed), ``chosen_threshold``, ``calibration`` (``Calibration``),
  ``per_task`` (``TaskStats``), ``disagreements`` (the costliest pairs where the models disagree)
  and ``notes`` (plain sentences on what the figures assume).
- ``wilson_interval(successes, n)``, ``candidate_thresholds(pairs)``, ``calibrate(pairs, threshold)``,
  ``costliest_disagreements(pairs, n)``.

The policy simulated: the cheap model answers every request (its call is always paid); the request
is escalated to the strong model, which is paid too, when the cheap confidence is *below* the
threshold or the cheap call failed. Thresholds tried: every distinct confidence plus a 0.05 grid
(more than ``pairtable.MAX_EXACT`` distinct confidences: the 0.001 grid plus the thresholds asked
for, each figure exact at every one of them).
Accuracy is the share of the cascade's answers that are correct, with a 95% Wilson interval.
Costs are averaged over the pairs whose two models both have a price.

Recommendation: the cheapest threshold whose accuracy reaches ``target_accuracy`` (default: the
strong model's accuracy minus one point); with ``max_escalation`` alone, the most accurate
threshold escalating at most that share; with both, the cheapest meeting both. When none does,
``recommended.threshold`` is ``None`` and ``recommended.message`` says so; so it is, too, when the
threshold found would cost more than always-strong or be less accurate than both models alone
(routing would not pay). ``chosen_threshold``
(used by calibration and the per-task view) is ``threshold`` if given, else the recommendation,
else ``default_threshold`` (the settings' threshold, 0.7 unless changed).
"""

from __future__ import annotations

import math
from bisect import bisect_left

from pydantic import BaseModel

from ..errors import ConfigError
from ..formatting import given_share, pct, plural
from ..log.reader import LogReader
from ..stats import wilson_interval
from .guarantee import (
    DEFAULT_CONFIDENCE,
    DEFAULT_MAX_LOSS,
    Guarantee,
    check_guarantee_options,
    guarantee,
    small_sample_flag,
)
from .pairs import NoPairsError, Pair
from .pairtable import CALIBRATION_BINS, PairScope, PairTable, audits_left_out, read_table, table_of
from .quality import TaskQuality, scope_quality
from .sweeprows import Baseline, SweepRow

GRID_STEP = 0.05
DEFAULT_THRESHOLD = 0.7  # the settings' default threshold, used when nothing else chooses one
DEFAULT_TARGET_MARGIN = 0.01  # default target: within one point of always-strong
EXAMPLES = 20
_EPS = 1e-9  # accuracies are ratios of counts; compare them to a target with a little slack


class Recommendation(BaseModel):
    """The threshold to use, or ``threshold=None`` and a message saying why none fits."""

    threshold: float | None
    met: bool
    target_accuracy: float | None
    max_escalation: float | None
    row: SweepRow | None = None
    message: str


class CalibrationBin(BaseModel):
    """Cheap answers whose confidence is in ``[low, high)`` (the last bin includes 1.0)."""

    low: float
    high: float
    count: int
    mean_confidence: float | None
    accuracy: float | None


class PairExample(BaseModel):
    """One pair shown as an example (confidently wrong, or a costly disagreement)."""

    request_id: str
    task: str
    source: str
    confidence: float | None
    cheap_answer: str | None
    strong_answer: str | None
    reference: str | None
    cheap_correct: bool
    strong_correct: bool
    cost_usd: float | None  # the cheap and the strong call together
    input_preview: str | None


class Calibration(BaseModel):
    """How well the cheap model's self-reported confidence predicts being right."""

    threshold: float
    judged: int  # pairs with a confidence (the cheap call did not fail)
    bins: list[CalibrationBin]
    ece: float | None  # expected calibration error: count-weighted mean |accuracy - confidence|
    confidently_wrong: int  # confidence >= threshold and wrong: cases no threshold below it catches
    confidently_wrong_share: float  # of judged pairs
    confidently_wrong_share_of_kept: float  # of pairs the cheap model keeps at the threshold
    examples: list[PairExample]


class TaskStats(BaseModel):
    """Where complexity lives: one task's pairs at the chosen threshold."""

    task: str
    pairs: int
    cheap_accuracy: float
    strong_accuracy: float
    escalation_share: float
    accuracy: float
    cost_per_request_usd: float | None
    spend_usd: float | None  # of these pairs at the chosen threshold (priced pairs)
    spend_share: float | None  # of the spend over every task
    recommended_threshold: float | None  # this task's own recommendation
    guarantee: Guarantee  # this task's own guaranteed threshold
    quality: TaskQuality  # the cheap accuracy's interval, its sources, agreement per field


class SweepResult(BaseModel):
    """Everything the threshold analysis says about a set of paired outcomes."""

    task: str | None
    pairs: int
    priced_pairs: int
    sources: dict[str, int]
    cheap_models: list[str]
    strong_models: list[str]
    unpriced_models: list[str]
    target_accuracy: float | None
    max_escalation: float | None
    chosen_threshold: float
    rows: list[SweepRow]
    cheap_only: Baseline
    strong_only: Baseline
    guarantee: Guarantee
    recommended: Recommendation  # observed on the same pairs, not guaranteed
    calibration: Calibration
    per_task: list[TaskStats]
    disagreements: list[PairExample]
    notes: list[str]
    unjudged: int = 0  # free-text pairs left out: no judge verdict, no human label yet

    def row_at(self, threshold: float) -> SweepRow | None:
        """The sweep row for ``threshold`` (to within 1e-9), if it was tried."""
        return next((r for r in self.rows if abs(r.threshold - threshold) < _EPS), None)


# -- statistics ----------------------------------------------------------------------------------


def candidate_thresholds(pairs: list[Pair] | PairScope) -> list[float]:
    """Every distinct cheap confidence plus a 0.05 grid over [0, 1], ascending (continuous
    confidences: the fine cells' boundaries, ``pairtable``)."""
    scope = as_scope(pairs)
    if scope.fine:
        return list(scope.bounds)
    grid = {round(i * GRID_STEP, 2) for i in range(round(1 / GRID_STEP) + 1)}
    seen = {round(t, 9): t for t in grid}
    for cell in sorted(scope.cells, key=lambda c: c.order):  # the first confidence seen names a threshold
        if cell.value >= 0:
            seen.setdefault(round(cell.value, 9), cell.value)
    return sorted(seen.values())


def as_scope(pairs: list[Pair] | PairScope, extra: tuple[float | None, ...] = ()) -> PairScope:
    """A scope of pairs: itself, or a list of pairs folded into a table (every pair given; ``extra``:
    thresholds to keep exact among continuous confidences)."""
    return pairs if isinstance(pairs, PairScope) else table_of(pairs, extra).scope(judged=None)


def _check_share(name: str, value: float | None) -> None:
    if value is not None and not (0.0 <= value <= 1.0 and math.isfinite(value)):
        raise ConfigError(f"{name} must be between 0% and 100% (e.g. 90% or 0.9); got {given_share(value)}.")


# -- the sweep -------------------------------------------------------------------------------------


class _Prefix:
    """Confidence cells in order with running sums, so each threshold costs one bisection."""

    def __init__(self, scope: PairScope):
        cells = scope.cells  # ascending; failed calls (-1.0) first: always below
        self.keys = [c.value for c in cells]
        self.n = scope.n
        self.priced = sum(c.priced for c in cells)
        self.escalated = [0]
        self.cheap_correct = [0]
        self.strong_correct = [0]
        self.strong_cost = [0.0]  # priced pairs only
        self.lost = [0]
        for c in cells:
            self.escalated.append(self.escalated[-1] + c.n)
            self.cheap_correct.append(self.cheap_correct[-1] + c.cheap_correct)
            self.strong_correct.append(self.strong_correct[-1] + c.strong_correct)
            self.strong_cost.append(self.strong_cost[-1] + c.strong_cost)
            self.lost.append(self.lost[-1] + c.lost)
        self.cheap_cost_total = sum(c.cheap_cost for c in cells)
        self.strong_cost_total = self.strong_cost[-1]

    def below(self, threshold: float) -> int:
        """How many cells lie below ``threshold`` (their pairs are escalated there)."""
        return bisect_left(self.keys, threshold - 1e-12)

    def losses_at(self, threshold: float) -> int:
        """Kept (confidence ≥ threshold), cheap wrong, strong right: the guarantee's loss count."""
        return self.lost[-1] - self.lost[self.below(threshold)]

    def row(self, threshold: float) -> SweepRow:
        k = self.below(threshold)  # escalated: confidence < threshold
        correct = self.strong_correct[k] + self.cheap_correct[-1] - self.cheap_correct[k]
        return SweepRow(
            threshold=threshold,
            escalated=self.escalated[k],
            escalation_share=self.escalated[k] / self.n,
            **self._scored(correct, self.cheap_cost_total + self.strong_cost[k]),
        )

    def baseline(self, name: str) -> Baseline:
        strong = name == "strong_only"
        correct = self.strong_correct[-1] if strong else self.cheap_correct[-1]
        return Baseline(
            name=name, **self._scored(correct, self.strong_cost_total if strong else self.cheap_cost_total)
        )

    def _scored(self, correct: int, spend: float) -> dict:
        """Accuracy with its Wilson interval, and cost figures for ``spend`` over the priced pairs."""
        low, high = wilson_interval(correct, self.n)
        cost = vs_strong = None
        if self.priced:
            cost = spend / self.priced
            vs_strong = (
                spend / self.strong_cost_total if self.strong_cost_total else None
            )  # always-strong: 1 exactly
        return {
            "requests": self.n,
            "correct": correct,
            "accuracy": correct / self.n,
            "accuracy_low": low,
            "accuracy_high": high,
            "cost_per_request_usd": cost,
            "cost_per_1k_requests_usd": cost * 1000 if cost is not None else None,
            "cost_vs_strong": vs_strong,
        }


def _cost_key(row: SweepRow) -> float:
    # Without prices, escalating less is what saves money.
    return row.cost_per_request_usd if row.cost_per_request_usd is not None else row.escalation_share


def _describe(row: SweepRow) -> str:
    text = f"{pct(row.accuracy)} correct with {pct(row.escalation_share)} escalated"
    if row.cost_vs_strong is not None:
        text += f", at {pct(row.cost_vs_strong, 0)} of the always-strong cost"
    return text


def recommend(
    rows: list[SweepRow],
    target_accuracy: float | None,
    max_escalation: float | None,
    *,
    floor_accuracy: float | None = None,
) -> Recommendation:
    """Pick a threshold from sweep rows (see the module docstring for the rule). Never one that
    costs more than sending everything to the strong model, nor one less accurate than
    ``floor_accuracy`` (the worse of the two baselines): routing there is worse than not routing."""
    accurate = [r for r in rows if target_accuracy is None or r.accuracy >= target_accuracy - _EPS]
    fits = [r for r in accurate if max_escalation is None or r.escalation_share <= max_escalation + _EPS]
    common = {"target_accuracy": target_accuracy, "max_escalation": max_escalation}
    worth = [
        r
        for r in fits
        if (r.cost_vs_strong is None or r.cost_vs_strong <= 1 + _EPS)
        and (floor_accuracy is None or r.accuracy >= floor_accuracy - _EPS)
    ]
    if fits and not worth:
        best = min(fits, key=lambda r: (_cost_key(r), -r.accuracy, r.threshold))
        why = (
            f"costs {pct(best.cost_vs_strong, 0)} of sending every request to the strong model"
            if best.cost_vs_strong is not None and best.cost_vs_strong > 1 + _EPS
            else f"is less accurate ({pct(best.accuracy)}) than either model alone"
        )
        return Recommendation(
            threshold=None,
            met=False,
            row=None,
            message=(
                f"Routing does not pay here: the cheapest threshold meeting the goal, {best.threshold:.2f}, "
                f"{why}; send these requests to the strong model, or improve the cheap model's confidence."
            ),
            **common,
        )
    fits = worth
    if fits:
        if target_accuracy is None:  # escalation budget only: the most accurate within it
            best = min(fits, key=lambda r: (-r.accuracy, _cost_key(r), r.threshold))
        else:
            best = min(fits, key=lambda r: (_cost_key(r), -r.accuracy, r.threshold))
        goal = []
        if target_accuracy is not None:
            goal.append(f"target accuracy {pct(target_accuracy)}")
        if max_escalation is not None:
            goal.append(f"at most {pct(max_escalation)} escalated")
        return Recommendation(
            threshold=best.threshold,
            met=True,
            row=best,
            message=f"Use threshold {best.threshold:.2f}: {_describe(best)} ({' and '.join(goal)}).",
            **common,
        )
    if target_accuracy is not None and not accurate:
        best = max(rows, key=lambda r: (r.accuracy, -_cost_key(r)))
        message = (
            f"No threshold reaches the target accuracy of {pct(target_accuracy)}; the most accurate, "
            f"{best.threshold:.2f}, gives {_describe(best)}."
        )
    else:
        lowest = min(rows, key=lambda r: r.escalation_share)
        message = (
            f"No threshold meets both the target accuracy of {pct(target_accuracy)} and at most "
            f"{pct(max_escalation)} escalated."
            if target_accuracy is not None
            else f"No threshold keeps escalation at or below {pct(max_escalation)}; even "
            f"{lowest.threshold:.2f} escalates {pct(lowest.escalation_share)} (cheap calls that failed)."
        )
    return Recommendation(threshold=None, met=False, row=None, message=message, **common)


def _example(p: Pair) -> PairExample:
    cost = p.cheap_cost_usd + p.strong_cost_usd if p.priced else None  # type: ignore[operator]
    return PairExample(
        request_id=p.request_id,
        task=p.task,
        source=p.source,
        confidence=p.confidence,
        cheap_answer=p.cheap_answer,
        strong_answer=p.strong_answer,
        reference=p.reference,
        cheap_correct=p.cheap_correct,
        strong_correct=p.strong_correct,
        cost_usd=cost,
        input_preview=p.input_preview,
    )


def calibrate(pairs: list[Pair] | PairScope, threshold: float, *, examples: int = EXAMPLES) -> Calibration:
    """Accuracy per confidence bin, expected calibration error, and the confidently wrong cases."""
    scope = as_scope(pairs, (threshold,))
    bins = [[0, 0.0, 0] for _ in range(CALIBRATION_BINS)]
    for part in scope.parts:
        for total, part_bin in zip(bins, part.bins, strict=True):
            for i in range(3):
                total[i] += part_bin[i]
    judged = sum(b[0] for b in bins)
    out_bins, ece = [], 0.0
    for i, (count, conf_sum, right) in enumerate(bins):
        mean_conf = conf_sum / count if count else None
        accuracy = right / count if count else None
        if count:
            ece += count / judged * abs(accuracy - mean_conf)  # type: ignore[operator]
        out_bins.append(
            CalibrationBin(
                low=round(i / CALIBRATION_BINS, 6),
                high=round((i + 1) / CALIBRATION_BINS, 6),
                count=count,
                mean_confidence=mean_conf,
                accuracy=accuracy,
            )
        )
    kept_cells = [c for c in scope.cells if c.value >= 0 and c.value >= threshold - 1e-12]
    kept = sum(c.n for c in kept_cells)
    wrong = sum(c.n - c.cheap_correct for c in kept_cells)
    # The most confident wrong answers are kept per part; those the threshold keeps come first.
    shown = [p for p in scope.examples("wrong", examples) if p.confidence >= threshold - 1e-12]  # type: ignore[operator]
    return Calibration(
        threshold=threshold,
        judged=judged,
        bins=out_bins,
        ece=ece if judged else None,
        confidently_wrong=wrong,
        confidently_wrong_share=wrong / judged if judged else 0.0,
        confidently_wrong_share_of_kept=wrong / kept if kept else 0.0,
        examples=[_example(p) for p in shown],
    )


def costliest_disagreements(pairs: list[Pair] | PairScope, n: int = 10) -> list[PairExample]:
    """The ``n`` pairs where the two models' answers differ, costliest (both calls) first."""
    return [_example(p) for p in as_scope(pairs).examples("differ", n)]


def _per_task(
    scope: PairScope,
    threshold: float,
    target_accuracy: float | None,
    max_escalation: float | None,
    max_loss: float,
    confidence: float,
) -> list[TaskStats]:
    stats = []
    for task in scope.tasks:
        group = scope.of_task(task)
        prefix = _Prefix(group)
        row = prefix.row(threshold)
        spend = row.cost_per_request_usd * prefix.priced if row.cost_per_request_usd is not None else None
        own = sweep(
            group,
            target_accuracy=target_accuracy,
            max_escalation=max_escalation,
            max_loss=max_loss,
            confidence=confidence,
            per_task=False,
        )
        quality = scope_quality(task, group)  # the one cheap accuracy per task (quality.task_cheap_accuracy)
        stats.append(
            TaskStats(
                task=task,
                pairs=len(group),
                cheap_accuracy=quality.cheap_accuracy,
                strong_accuracy=prefix.baseline("strong_only").accuracy,
                escalation_share=row.escalation_share,
                accuracy=row.accuracy,
                cost_per_request_usd=row.cost_per_request_usd,
                spend_usd=spend,
                spend_share=None,
                recommended_threshold=own.recommended.threshold,
                guarantee=own.guarantee,
                quality=quality,
            )
        )
    total = sum(s.spend_usd for s in stats if s.spend_usd is not None)
    for s in stats:
        s.spend_share = s.spend_usd / total if s.spend_usd is not None and total else None
    stats.sort(key=lambda s: (-(s.spend_usd or 0.0), s.task))
    return stats


def _notes(scope: PairScope, prefix: _Prefix, unpriced: list[str], sources: dict[str, int]) -> list[str]:
    parts = ", ".join(f"{count} from {source}" for source, count in sorted(sources.items()))
    notes = [
        f"{plural(scope.n, 'paired outcome')} ({parts}). Cascade escalations are not counted as pairs: "
        "the strong model saw only the inputs the cheap model was unsure of."
    ]
    if sources.get("audit"):
        notes.append(
            "Audited pairs are sampled only from requests the cheap model kept, so they over-represent "
            "confident answers."
        )
    failed = scope.failed
    if failed:
        notes.append(
            f"{plural(failed, 'cheap call')} failed (no valid answer); "
            f"{'it is' if failed == 1 else 'they are'} escalated at every threshold."
        )
    failed_kept = scope.total("failed_kept")
    if failed_kept:
        notes.append(
            f"{plural(failed_kept, 'cheap call')} gave no answer but a confidence; "
            f"{'it counts' if failed_kept == 1 else 'they count'} as wrong wherever that confidence keeps "
            f"{'it' if failed_kept == 1 else 'them'}."
        )
    by_agreement = scope.total("by_agreement")
    if by_agreement:
        notes.append(
            f"{plural(by_agreement, 'cheap answer')} {'has' if by_agreement == 1 else 'have'} no known "
            f"correctness; {'it counts' if by_agreement == 1 else 'they count'} as correct when "
            f"{'it agrees' if by_agreement == 1 else 'they agree'} with the strong answer."
        )
    assumed = scope.total("strong_assumed")
    if assumed:
        notes.append(
            f"{plural(assumed, 'strong answer')} {'has' if assumed == 1 else 'have'} no known correctness "
            f"and {'is' if assumed == 1 else 'are'} assumed correct, so accuracy there means agreement with "
            "the strong model."
        )
    if unpriced:
        if prefix.priced:
            notes.append(
                f"Models without a price: {', '.join(unpriced)}; costs cover only the {prefix.priced} of "
                f"{scope.n} pairs whose two models are priced."
            )
        else:
            notes.append(
                f"Models without a price: {', '.join(unpriced)}; no cost can be computed, so the recommendation "
                "minimises the escalation share instead. Add their prices to the settings file."
            )
    return notes


def sweep(
    pairs: list[Pair] | PairScope,
    *,
    target_accuracy: float | None = None,
    max_escalation: float | None = None,
    threshold: float | None = None,
    default_threshold: float = DEFAULT_THRESHOLD,
    max_loss: float = DEFAULT_MAX_LOSS,
    confidence: float = DEFAULT_CONFIDENCE,
    task: str | None = None,
    per_task: bool = True,
) -> SweepResult:
    """The threshold sweep, recommendation, calibration and per-task view over ``pairs`` (a list,
    or a ``pairtable.PairScope`` read in bounded memory).

    Raises ``NoPairsError`` for no pairs and ``ConfigError`` for a share outside [0, 1].
    """
    if not pairs:
        raise NoPairsError("There are no paired outcomes to analyse.")
    _check_share("The target accuracy", target_accuracy)
    _check_share("The maximum escalation share", max_escalation)
    _check_share("The threshold", threshold)
    check_guarantee_options(max_loss, confidence)
    scope = as_scope(pairs, (threshold, default_threshold))
    prefix = _Prefix(scope)
    rows = [prefix.row(t) for t in candidate_thresholds(scope)]
    cheap_only, strong_only = prefix.baseline("cheap_only"), prefix.baseline("strong_only")
    target = target_accuracy
    if target is None and max_escalation is None:
        target = max(0.0, strong_only.accuracy - DEFAULT_TARGET_MARGIN)
    recommended = recommend(
        rows, target, max_escalation, floor_accuracy=min(cheap_only.accuracy, strong_only.accuracy)
    )
    if flag := small_sample_flag(scope.n):
        recommended.message = recommended.message.removesuffix(".") + flag + "."
    chosen = threshold if threshold is not None else recommended.threshold
    if chosen is None:
        chosen = default_threshold
    sources = scope.source_counts()
    unpriced = sorted(scope.union("unpriced"))
    return SweepResult(
        task=task,
        pairs=scope.n,
        priced_pairs=prefix.priced,
        sources=sources,
        cheap_models=sorted(scope.union("cheap_models")),
        strong_models=sorted(scope.union("strong_models")),
        unpriced_models=unpriced,
        target_accuracy=target,
        max_escalation=max_escalation,
        chosen_threshold=chosen,
        rows=rows,
        cheap_only=cheap_only,
        strong_only=strong_only,
        guarantee=guarantee(
            scope, rows, cheap_only, strong_only, prefix.losses_at, max_loss=max_loss, confidence=confidence
        ),
        recommended=recommended,
        calibration=calibrate(scope, chosen),
        per_task=_per_task(scope, chosen, target_accuracy, max_escalation, max_loss, confidence)
        if per_task
        else [],
        disagreements=costliest_disagreements(scope),
        notes=_notes(scope, prefix, unpriced, sources),
    )


def no_pairs_message(reader: LogReader, task: str | None) -> str:
    """The sentence telling the user how to get paired outcomes."""
    how = "run `routermon shadow FILE --task T` or `routermon import FILE` to get some"
    if task:
        tasks = reader.pair_tasks()
        where = f" (tasks with pairs: {', '.join(tasks)})" if tasks else ""
        return f"The call log {reader.path} has no paired outcomes for task {task!r}{where}; {how}."
    return f"The call log {reader.path} has no paired outcomes yet; {how}."


def analyse(
    reader: LogReader,
    task: str | None = None,
    *,
    target_accuracy: float | None = None,
    max_escalation: float | None = None,
    threshold: float | None = None,
    default_threshold: float = DEFAULT_THRESHOLD,
    max_loss: float = DEFAULT_MAX_LOSS,
    confidence: float = DEFAULT_CONFIDENCE,
    table: PairTable | None = None,
) -> SweepResult:
    """``sweep`` over the log's paired outcomes (one task, or all), read in bounded memory
    (``pairtable.read_table``); ``NoPairsError`` when there are none. ``table``: the log's table
    (``read_table(reader, task, extra)``) when the caller has read it."""
    if table is None:
        table = read_table(reader, task, (threshold, default_threshold))
    scope, left_out = table.swept(task)
    unjudged = table.unjudged(task)
    if not scope:
        if unjudged:
            raise NoPairsError(
                f"The call log {reader.path} has {plural(unjudged, 'free-text pair')}"
                f"{f' for task {task!r}' if task else ''} and no verdict on any of them: exact match "
                "cannot compare free text; run `routermon judge` or label them on the Review screen."
            )
        raise NoPairsError(no_pairs_message(reader, task))
    result = sweep(
        scope,
        target_accuracy=target_accuracy,
        max_escalation=max_escalation,
        threshold=threshold,
        default_threshold=default_threshold,
        max_loss=max_loss,
        confidence=confidence,
        task=task,
    )
    if left_out:
        result.notes.append(left_out)
    if unjudged:
        result.unjudged = unjudged
        result.notes.append(unjudged_note(unjudged))
        for stats in result.per_task:
            stats.quality.unjudged = table.unjudged(stats.task)
    return result


def sweep_pairs(pairs: list[Pair]) -> tuple[list[Pair], str | None]:
    """The pairs a sweep may use, and a note on what was left out. Audit pairs sample only the
    answers the cheap model kept, so mixed with shadow or imported pairs (which sample every
    request) they would over-weight confident answers: with any of those, audits are left to the
    accuracy in production (``production.py``); alone, they are swept, with the sweep's note
    (``PairTable.swept`` is the same rule over a table)."""
    audits = [p for p in pairs if p.source == "audit"]
    others = [p for p in pairs if p.source != "audit"]
    if audits and others:
        return others, audits_left_out(len(audits))
    return pairs, None


def unjudged_note(unjudged: int) -> str:
    """The note for free-text pairs left out of the figures because nobody judged them yet."""
    has, are = ("has", "is") if unjudged == 1 else ("have", "are")
    return (
        f"{plural(unjudged, 'free-text pair')} {has} no verdict yet and {are} left out (exact match "
        "cannot compare free text); run `routermon judge` or label them on the Review screen."
    )


REPORT_ROW_STEP = 0.1  # the report's sweep table: every 0.1, plus the recommended and chosen thresholds
CLI_ROW_STEP = 0.05  # the thresholds command and screen, once the sweep is longer than CLI_MAX_ROWS
CLI_MAX_ROWS = 40


def table_rows(result: SweepResult) -> list[SweepRow]:
    """The sweep rows the thresholds command and the Thresholds screen show (one rule for both):
    every row up to ``CLI_MAX_ROWS``, else the ``CLI_ROW_STEP`` grid and the thresholds named."""
    return shown_rows(result, step=CLI_ROW_STEP, max_rows=CLI_MAX_ROWS)


def shown_rows(result: SweepResult, *, step: float, max_rows: int = 0) -> list[SweepRow]:
    """The sweep rows a table shows: all of them up to ``max_rows``, else those on the ``step`` grid
    plus the guaranteed, the recommended and the chosen thresholds (the one rule for the report and the CLI)."""
    if len(result.rows) <= max_rows:
        return list(result.rows)
    keep = {round(result.chosen_threshold, 6)}
    for extra in (result.recommended.threshold, result.guarantee.threshold):
        if extra is not None:
            keep.add(round(extra, 6))
    return [
        r for r in result.rows if round(r.threshold / step, 6).is_integer() or round(r.threshold, 6) in keep
    ]
