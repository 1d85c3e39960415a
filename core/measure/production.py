"""The cascade's accuracy in production, estimated from its audits.

An audit sends a request the cheap model *kept* to the strong model too, with probability equal to
the audit share in force when it was routed (logged on the row). Kept answers are the only ones
audits see, and the share may change over time, so a plain mean of the audits is biased whenever
the share and the cheap model's accuracy move together. Each audit pair is weighted by the inverse
of its sampling probability (Hájek's estimator), and the interval is Wilson's on Kish's effective
number of audits, ``(Σw)² / Σw²`` (equal to the number of audits when the share never changed).

The cascade's accuracy is then ``(kept × accuracy of kept + escalated × strong accuracy) /
requests``: failed requests (no answer) count as wrong; escalated answers count at the strong
model's accuracy on the log's other pairs (shadow runs, imports) where their correctness is known,
else as right (an assumption the result states); the interval takes that strong accuracy as fixed.
Shadow pairs are not mixed into the kept-answer
estimate: they sample every request, not the kept ones.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..formatting import pct, plural
from ..log.reader import LogReader
from ..stats import wilson_interval
from .pairs import Pair
from .pairtable import PairScope, read_table, table_of


class ProductionAccuracy(BaseModel):
    """The cascade's estimated accuracy on its own traffic, and what it rests on."""

    task: str | None
    audits: int  # audit pairs with a known cheap correctness and a logged audit share
    unweighted_audits: int  # audit pairs without a logged share (older logs): left out
    effective_audits: float  # Kish's effective sample size of the weighted audits
    kept_accuracy: float | None  # of the answers the cheap model kept (weighted)
    kept_low: float | None
    kept_high: float | None
    naive_kept_accuracy: float | None  # the plain mean of the audits, for comparison
    kept: int
    escalated: int
    failed: int
    strong_accuracy: float  # applied to escalated answers
    strong_pairs: int  # the pairs it comes from (0: assumed right)
    accuracy: float | None
    low: float | None
    high: float | None

    @property
    def requests(self) -> int:
        return self.kept + self.escalated + self.failed

    def message(self) -> str:
        """``accuracy in production: 93.1% (90.2%–95.3%) from 212 audits …``"""
        if self.accuracy is None:
            return (
                "No accuracy in production yet: no audited request"
                + (f" of task {self.task}" if self.task else "")
                + " has a known correctness (set audit_share in the settings to audit kept answers)."
            )
        strong = (
            f"counted at the strong model's {pct(self.strong_accuracy)} from {plural(self.strong_pairs, 'pair')}"
            if self.strong_pairs
            else "counted as right (no pair measures the strong model)"
        )
        return (
            f"Accuracy in production: {pct(self.accuracy)} ({pct(self.low)}–{pct(self.high)}, 95%) "
            f"from {plural(self.audits, 'audit')} of {plural(self.kept, 'kept answer')} "
            f"(kept answers {pct(self.kept_accuracy)} right, weighted by audit share); "
            f"{plural(self.escalated, 'escalated answer')} {strong}; "
            f"{plural(self.failed, 'failed request')} as wrong."
        )


def estimate(
    audits: list[Pair] | PairScope,
    kept: int,
    escalated: int,
    failed: int,
    *,
    strong_accuracy: float = 1.0,
    strong_pairs: int = 0,
    task: str | None = None,
) -> ProductionAccuracy:
    """The estimate from audit pairs (``source == "audit"``; a list, or a scope of them) and the
    cascade's outcome counts."""
    scope = audits if isinstance(audits, PairScope) else table_of(audits).scope()
    weighted, total = scope.total("weighted"), scope.total("weight")
    kept_acc = low = high = naive = None
    n_eff = 0.0
    if weighted:
        kept_acc = scope.total("weight_right") / total
        naive = scope.total("naive_right") / weighted
        n_eff = total * total / scope.total("weight_sq")
        low, high = wilson_interval(kept_acc * n_eff, n_eff)  # type: ignore[arg-type]
    requests = kept + escalated + failed
    acc = lo = hi = None
    if kept_acc is not None and requests:
        share_kept, share_escalated = kept / requests, escalated / requests
        acc = share_kept * kept_acc + share_escalated * strong_accuracy
        lo = share_kept * low + share_escalated * strong_accuracy  # type: ignore[operator]
        hi = share_kept * high + share_escalated * strong_accuracy  # type: ignore[operator]
    return ProductionAccuracy(
        task=task,
        audits=weighted,
        unweighted_audits=scope.total("unweighted"),
        effective_audits=n_eff,
        kept_accuracy=kept_acc,
        kept_low=low,
        kept_high=high,
        naive_kept_accuracy=naive,
        kept=kept,
        escalated=escalated,
        failed=failed,
        strong_accuracy=strong_accuracy,
        strong_pairs=strong_pairs,
        accuracy=acc,
        low=lo,
        high=hi,
    )


def from_pairs(
    pairs: list[Pair] | PairScope, outcomes: tuple[int, int, int], task: str | None = None
) -> ProductionAccuracy:
    """``estimate`` from pairs already read (one task's, or all; a list or a scope of judged
    pairs) and that scope's cascade outcomes (``LogReader.cascade_outcomes``)."""
    scope = pairs if isinstance(pairs, PairScope) else table_of(pairs).scope(judged=None)
    others = scope.total("strong_known")  # not audits, strong correctness known
    strong = scope.total("strong_known_right") / others if others else 1.0
    return estimate(scope, *outcomes, strong_accuracy=strong, strong_pairs=others, task=task)


def outcomes_by_task(reader: LogReader, tasks: list[str]) -> dict[str | None, tuple[int, int, int]]:
    """Cascade outcomes for each task and for all of them (key ``None``)."""
    out: dict[str | None, tuple[int, int, int]] = {t: reader.cascade_outcomes(t) for t in tasks}
    out[None] = reader.cascade_outcomes()
    return out


def production_accuracy(reader: LogReader, task: str | None = None) -> ProductionAccuracy:
    """``estimate`` over the log's audits and cascade requests (one task, or all), in one pass."""
    return from_pairs(read_table(reader, task).scope(task), reader.cascade_outcomes(task), task)
