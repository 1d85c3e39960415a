"""Watching the policy hold: drift of the audits' loss per task, the month's spend against a
budget, and the alerts ``routermon check`` and the Live screen raise.

**Drift.** An audit is a kept answer also sent to the strong model. Over a rolling window (the last
``window`` audits of a task, or those of the last ``days``), the *loss* is the share of the task's
cascade requests whose kept answer was wrong while the strong answer was right: the audits' loss
rate times the share of requests kept. Its bound is the exact one-sided Clopper–Pearson upper
bound of the audits' loss rate at the policy's confidence, times the kept share. When the bound
exceeds the policy's ``max_loss``, the guarantee the threshold was chosen with no longer holds
(or never did on this traffic). A window too small to show the bound within ``max_loss`` even
with no loss (``audits_needed``) raises no alert: it says it has too few audits. "Since" is the first audit of the latest unbroken run of windows
over the bound. Audits within one window are counted equally (the audit share rarely changes
inside a window; ``production.py`` weights them across a whole log).

**Budget.** The spend of the last ``BUDGET_DAYS`` days (serving and judging; or of the span the
log covers within them), scaled to a 30-day month, against ``monthly_budget_usd``.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable

from pydantic import BaseModel

from ..clock import SYSTEM_CLOCK, Clock
from ..formatting import pct, plural, points, usd
from ..log.reader import LogReader
from .guarantee import clopper_pearson_upper, pairs_for_zero_loss
from .pairs import Pair
from .pairtable import Facts, stream_facts

DAY = 86400.0
MONTH_DAYS = 30.0
BUDGET_DAYS = 7.0
DEFAULT_WINDOW = 500
# Windows a task's drift series keeps to draw (up to twice this, evenly spaced, and the latest): a
# chart is a hundred columns wide, and a report of 100,000 audits would otherwise list every one.
DRIFT_POINTS = 500
MIN_AUDITS = 30  # fewer audits in a window than this: no drift verdict (the bound says little)


class DriftPoint(BaseModel):
    """The rolling window ending at one audit."""

    ts: float
    audits: int
    losses: int
    disagreements: int
    loss: float  # of requests (audits' loss rate × kept share)
    loss_upper: float
    agreement: float


class TaskDrift(BaseModel):
    """One task's audits over time, and whether the policy's loss bound holds now."""

    task: str
    audits: int
    kept_share: float
    max_loss: float
    confidence: float
    points: list[DriftPoint]
    alert: bool
    since: float | None  # when the latest run of windows over max_loss began

    @property
    def latest(self) -> DriftPoint | None:
        return self.points[-1] if self.points else None

    def message(self) -> str:
        last = self.latest
        needed = audits_needed(self.max_loss, self.confidence, self.kept_share)
        if last is None or last.audits < needed:
            have = 0 if last is None else last.audits
            return (
                f"{self.task}: {plural(have, 'audit')} in the window, too few to check a loss of at most "
                f"{points(self.max_loss)} with {pct(self.confidence, 0)} confidence (it takes {needed})."
            )
        verdict = "over" if self.alert else "within"
        return (
            f"{self.task}: loss at most {points(last.loss_upper)} with {pct(self.confidence, 0)} confidence "
            f"(observed {points(last.loss)}, {plural(last.audits, 'audit')}), {verdict} the policy's "
            f"{points(self.max_loss)}; agreement {pct(last.agreement)}."
        )


class BudgetCheck(BaseModel):
    budget_usd: float
    projected_usd: float
    days_measured: float
    spend_usd: float

    @property
    def alert(self) -> bool:
        return self.projected_usd > self.budget_usd

    def message(self) -> str:
        verdict = "over" if self.alert else "within"
        return (
            f"Budget: {usd(self.projected_usd)} projected for the month (from {usd(self.spend_usd)} over "
            f"{self.days_measured:.1f} days), {verdict} the {usd(self.budget_usd)} budget."
        )


class CheckResult(BaseModel):
    """Everything ``routermon check`` reports; ``ok`` when no alert is raised."""

    drift: list[TaskDrift]
    budget: BudgetCheck | None
    now: float

    @property
    def alerts(self) -> list[str]:
        out = [d.message() + f" Since {_when(d.since)}." for d in self.drift if d.alert]
        if self.budget is not None and self.budget.alert:
            out.append(self.budget.message())
        return out

    @property
    def ok(self) -> bool:
        return not self.alerts


def _when(ts: float | None) -> str:
    from datetime import datetime

    return "-" if ts is None else datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M %z")


def audits_needed(max_loss: float, confidence: float, kept_share: float = 1.0) -> int:
    """Audits a window needs before its bound can say anything: enough that, with no loss at all,
    the bound would be within ``max_loss`` (fewer, and a bound over it says only "too few")."""
    if kept_share <= 0:
        return MIN_AUDITS
    return max(MIN_AUDITS, pairs_for_zero_loss(min(max_loss / kept_share, 0.999999), confidence))


def _lost(p: Pair | Facts) -> bool:
    return not p.cheap_correct and p.strong_correct


def drift_series(
    audits: Iterable[Pair | Facts],
    kept_share: float,
    *,
    max_loss: float,
    confidence: float,
    window: int = DEFAULT_WINDOW,
    days: float | None = None,
    ordered: bool = False,
    max_points: int | None = None,
) -> tuple[list[DriftPoint], bool, float | None, int]:
    """The rolling windows over ``audits`` (sorted by time here unless ``ordered``: a stream
    already oldest first, held only a window at a time), whether the latest is over
    ``max_loss``, since when, and how many audits there were. With ``max_points``, the windows kept are evenly spaced, at most
    twice that many, and always the latest (a series to draw, in bounded memory: every window
    still counts for the alert)."""
    timed = (p for p in audits if p.ts is not None)
    stream = timed if ordered else iter(sorted(timed, key=lambda p: p.ts))  # type: ignore[arg-type,return-value]
    needed = audits_needed(max_loss, confidence, kept_share)
    out: list[DriftPoint] = []
    held: deque = deque()  # the window: (ts, lost, disagreed)
    losses = disagree = 0
    over_since: float | None = None
    seen, stride = 0, 1
    for p in stream:
        held.append((p.ts, _lost(p), not p.agree))
        losses += held[-1][1]
        disagree += held[-1][2]
        while len(held) > window or (days is not None and p.ts - held[0][0] > days * DAY):  # type: ignore[operator]
            _ts, lost, differed = held.popleft()
            losses -= lost
            disagree -= differed
        n = len(held)
        upper = clopper_pearson_upper(losses, n, confidence) * kept_share
        point = DriftPoint(
            ts=p.ts,  # type: ignore[arg-type]
            audits=n,
            losses=losses,
            disagreements=disagree,
            loss=losses / n * kept_share,
            loss_upper=upper,
            agreement=1 - disagree / n,
        )
        seen += 1
        if seen % stride == 0:
            out.append(point)
            if max_points is not None and len(out) >= 2 * max_points:
                out, stride = out[1::2], stride * 2  # keep every other: windows at multiples of the stride
        if n >= needed and upper > max_loss:
            over_since = p.ts if over_since is None else over_since
        else:
            over_since = None
    if seen and seen % stride:
        out.append(point)  # the latest window, whatever the stride
    alert = over_since is not None
    return out, alert, over_since, seen


def task_drift(
    reader: LogReader,
    *,
    max_loss: float,
    confidence: float,
    window: int = DEFAULT_WINDOW,
    days: float | None = None,
    task: str | None = None,
) -> list[TaskDrift]:
    """Drift per task over the log's audits (tasks without audits are left out), each task's
    judged audits streamed oldest first (memory: one window per task)."""
    out: list[TaskDrift] = []
    if not reader.audit_tasks(task):  # from the rollups: a log without audits reads no pairs
        return out
    # One pass over the log for every task's audits (by task, oldest first), not a pass per task.
    streams = itertools.groupby(
        (f for f in stream_facts(reader, task, audits_by_time=True) if f.judged), key=lambda f: f.task
    )
    for name, audits in streams:
        kept, escalated, failed = reader.cascade_outcomes(name)
        requests = kept + escalated + failed
        kept_share = kept / requests if requests else 1.0
        points_, alert, since, seen = drift_series(
            audits,
            kept_share,
            max_loss=max_loss,
            confidence=confidence,
            window=window,
            days=days,
            ordered=True,
            max_points=DRIFT_POINTS,
        )
        if not points_:
            continue
        out.append(
            TaskDrift(
                task=name,
                audits=seen,
                kept_share=kept_share,
                max_loss=max_loss,
                confidence=confidence,
                points=points_,
                alert=alert,
                since=since,
            )
        )
    return out


def budget_check(reader: LogReader, budget_usd: float, *, now: float) -> BudgetCheck:
    """The month projected from the last ``BUDGET_DAYS`` days of traffic (the span the log covers)."""
    since = now - BUDGET_DAYS * DAY
    tally = reader.tally(since, now)
    spend = tally.spend_usd + reader.judge_spend(since, now)  # serving and measuring: both are paid
    first = tally.first_ts if tally.first_ts is not None else now
    span_days = max((now - max(since, first)) / DAY, 1 / 24)  # at least an hour: no wild projections
    return BudgetCheck(
        budget_usd=budget_usd,
        projected_usd=spend / span_days * MONTH_DAYS,
        days_measured=span_days,
        spend_usd=spend,
    )


def check(
    reader: LogReader,
    *,
    max_loss: float,
    confidence: float,
    budget_usd: float | None = None,
    window: int = DEFAULT_WINDOW,
    days: float | None = None,
    task: str | None = None,
    clock: Clock | None = None,
) -> CheckResult:
    """Every check at once: drift per task and, with a budget, the projected month."""
    now = (clock or SYSTEM_CLOCK).now()
    drift = task_drift(reader, max_loss=max_loss, confidence=confidence, window=window, days=days, task=task)
    budget = budget_check(reader, budget_usd, now=now) if budget_usd is not None else None
    return CheckResult(drift=drift, budget=budget, now=now)
