"""How often the cheap model is right, per task, and on which fields it slips.

For every task with paired outcomes: the cheap model's accuracy with a Wilson interval, what that
figure rests on (``guarantee.sources_tag``: "judge, 31 human-checked"), how many free-text pairs
nobody judged yet (left out of the figure), and for structured answers the share of pairs in
which each field of the cheap answer agrees with the strong one (``compare.compare_fields``), so
a team sees which field the cheap model gets wrong.
"""

from __future__ import annotations

from pydantic import BaseModel

from ..formatting import pct
from ..log.reader import GroupStats, LogReader
from ..stats import wilson_interval
from .guarantee import SMALL_SAMPLE, sources_tag
from .pairs import Pair
from .pairtable import PairScope, PairTable, read_table, table_of


class FieldAgreement(BaseModel):
    """One field of a structured answer: in how many pairs the cheap and the strong answer agree."""

    field: str
    agree: int
    pairs: int  # pairs in which both answers are objects (the field is counted missing = null)
    low: float
    high: float

    @property
    def agreement(self) -> float:
        return self.agree / self.pairs if self.pairs else 0.0


class TaskQuality(BaseModel):
    """One task's cheap accuracy over its judged pairs, and what it rests on."""

    task: str
    pairs: int  # pairs whose correctness is known
    cheap_correct: int
    low: float  # 95% Wilson interval of the cheap accuracy
    high: float
    sources: str  # e.g. "judge, 31 human-checked"
    human_checked: int
    unjudged: int  # free-text pairs with no verdict yet (not in ``pairs``)
    fields: list[FieldAgreement] = []  # structured answers, weakest field first

    @property
    def cheap_accuracy(self) -> float | None:
        return self.cheap_correct / self.pairs if self.pairs else None

    @property
    def small_sample(self) -> bool:
        return self.pairs < SMALL_SAMPLE

    def label(self) -> str:
        """``92% (judge, 31 human-checked)``; ``unjudged`` when nothing is known yet."""
        if not self.pairs:
            return "unjudged"
        return f"{pct(self.cheap_accuracy)} ({self.sources})" if self.sources else pct(self.cheap_accuracy)


class CheapAccuracy(BaseModel):
    """One task's cheap accuracy as every view shows it (the Tasks screen, the report, ``thresholds``)."""

    accuracy: float | None
    judged: int  # answers whose correctness is known
    sources: str  # the pairs' ("judge, 31 human-checked"), ``LOG_SOURCE`` or "" (nothing known)
    unjudged: int = 0  # free-text pairs with no verdict yet


LOG_SOURCE = "log"  # the log's own ``correct`` of the cheap calls (a reference given when routing)


def task_cheap_accuracy(log_stats: GroupStats | None, quality: TaskQuality | None) -> CheapAccuracy:
    """The one cheap accuracy of a task: its judged pairs' (``quality``, the pairs a sweep uses)
    where it has any, else what the log's own ``correct`` says (``log_stats``)."""
    unjudged = quality.unjudged if quality is not None else 0
    if quality is not None and quality.pairs:
        return CheapAccuracy(
            accuracy=quality.cheap_accuracy, judged=quality.pairs, sources=quality.sources, unjudged=unjudged
        )
    if log_stats is not None and log_stats.cheap_judged:
        return CheapAccuracy(
            accuracy=log_stats.cheap_accuracy,
            judged=log_stats.cheap_judged,
            sources=LOG_SOURCE,
            unjudged=unjudged,
        )
    return CheapAccuracy(accuracy=None, judged=0, sources="", unjudged=unjudged)


def task_quality(pairs: list[Pair]) -> list[TaskQuality]:
    """Per task, in order of first appearance: ``pairs`` may include unjudged ones (they are counted)."""
    return table_quality(table_of(pairs))


def table_quality(table: PairTable) -> list[TaskQuality]:
    """Per task of ``table``, in order of first appearance. The accuracy is over the pairs a sweep
    uses (``PairTable.swept``: audits apart when other pairs exist, as they sample only the answers
    the cheap model kept), so it is the figure ``analysis.per_task`` gives; fields over every pair."""
    swept, _ = table.swept()
    out = []
    for task in table.scope(judged=None).tasks:
        quality = scope_quality(task, swept.of_task(task))
        quality.unjudged = table.unjudged(task)
        quality.fields = field_agreement(table.scope(task, judged=None))
        out.append(quality)
    return out


def scope_quality(task: str, scope: PairScope) -> TaskQuality:
    """The cheap accuracy of ``scope``'s pairs (judged ones), what it rests on, agreement per field."""
    right = scope.total_cells("cheap_correct")
    low, high = wilson_interval(right, scope.n)
    return TaskQuality(
        task=task,
        pairs=scope.n,
        cheap_correct=right,
        low=low,
        high=high,
        sources=sources_tag(scope),
        human_checked=scope.counter("correct_sources")["human"],
        unjudged=0,
        fields=field_agreement(scope),
    )


def field_agreement(scope: PairScope) -> list[FieldAgreement]:
    """Per field, over the pairs whose two answers are objects: how often they agree; weakest first."""
    structured = scope.total("structured")
    seen, agree = scope.counter("field_seen"), scope.counter("field_agree")
    out = []
    for name, n in seen.items():
        # A field missing from both answers of a pair is absent there, and agrees (null = missing).
        a_all = agree[name] + (structured - n)
        low, high = wilson_interval(a_all, structured)
        out.append(FieldAgreement(field=name, agree=a_all, pairs=structured, low=low, high=high))
    return sorted(out, key=lambda f: (f.agreement, f.field))


def load_task_quality(reader: LogReader) -> list[TaskQuality]:
    """``task_quality`` over every pair in the log, judged or not, sorted by task (one pass, bounded memory)."""
    return sorted(table_quality(read_table(reader)), key=lambda q: q.task)
