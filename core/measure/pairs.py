"""Paired outcomes: the cheap and the strong model's answers to the same input, side by side.

Built from the log, whatever wrote them: imported pairs (``importing``, ``routermon import``),
shadow-mode requests (a ``cheap`` row and a ``shadow`` row) and audited requests (a ``cheap`` row and
an ``audit`` row), by ``load_pairs`` and ``iter_pairs``; ``pairtable`` folds them into a table in
bounded memory, deciding each pair with the same ``decide_outcome``. Cascade escalations are *not*
pairs: the strong model only saw the inputs the cheap one was unsure of, so they would bias every
accuracy figure.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from pydantic import BaseModel

from ..compare import (
    answer_kind,
    answers_match,
    compare_fields,
    loads_answer,
)
from ..errors import RoutermonError
from ..log.reader import IMPORT_MODE, LogReader
from ..log.records import JUDGE_MODE, JUDGE_VERDICTS, CallRow, HumanLabel

PAIR_ROLES = ("shadow", "audit")  # the strong row of a pair; cascade "strong" rows are not pairs


class NoPairsError(RoutermonError):
    """The log holds no paired outcomes to analyse."""


class Pair(BaseModel):
    """One input answered by both the cheap and the strong model, ready for analysis.

    ``confidence`` is ``None`` when the cheap call failed (no valid answer): such a request is
    escalated whatever the threshold. ``cheap_correct`` comes from the log's ``correct`` when known,
    else from agreement with the strong answer (``cheap_by_agreement``); ``strong_correct`` from the
    log when known, else assumed true (``strong_assumed``). Costs are ``None`` for unpriced models.
    """

    request_id: str
    task: str
    source: str  # import | shadow | audit
    cheap_model: str
    strong_model: str
    confidence: float | None
    cheap_correct: bool
    strong_correct: bool
    cheap_by_agreement: bool = False
    strong_assumed: bool = False
    agree: bool
    cheap_cost_usd: float | None
    strong_cost_usd: float | None
    cheap_answer: str | None = None  # JSON text, as logged
    strong_answer: str | None = None
    reference: str | None = None
    input_preview: str | None = None
    # Where ``cheap_correct`` comes from (``records.CORRECT_SOURCES``): a human label, the log's
    # ``correct`` (a reference answer), the judge's verdict, a field-by-field comparison, or exact
    # match; ``None`` for free text nobody judged yet (left out of accuracy figures: ``judged``).
    correct_source: str | None = "exact"
    judge_verdict: str | None = None  # records.JUDGE_VERDICTS
    judge_confidence: float | None = None
    judge_cheap_first: bool | None = None  # whether the judge was shown the cheap answer first
    judge_model: str | None = None
    judge_cost_usd: float | None = None
    human_label: str | None = None  # records.HUMAN_LABELS
    field_agreement: dict[str, bool] | None = None  # structured answers: per field
    kind: str = "label"  # compare.AnswerKind: label | fields | text
    audit_share: float | None = None  # audits: the share in force when the request was routed
    ts: float | None = None  # when the cheap call was made

    @property
    def judged(self) -> bool:
        """Whether the pair's correctness is known (free text needs a judge or a person)."""
        return self.correct_source is not None

    @property
    def priced(self) -> bool:
        return self.cheap_cost_usd is not None and self.strong_cost_usd is not None


# -- pairs for analysis ---------------------------------------------------------------------------


def judge_of(rows: list[CallRow]) -> tuple[CallRow, str, bool | None] | None:
    """The latest usable judge verdict among a request's rows: (row, verdict, cheap_first)."""
    for row in sorted((r for r in rows if r.role == JUDGE_MODE), key=lambda r: r.id, reverse=True):
        if row.error_type is not None or row.answer is None:
            continue
        value = loads_answer(row.answer)
        if isinstance(value, dict) and value.get("verdict") in JUDGE_VERDICTS:
            first = value.get("cheap_first")
            return row, value["verdict"], first if isinstance(first, bool) else None
    return None


# What each verdict says of (cheap right, strong right).
_VERDICT_OUTCOME = {
    "cheap_acceptable": (True, True),
    "strong_better": (False, True),
    "both_fail": (False, False),
}
_LABEL_OUTCOME = {
    "cheap": (True, False),
    "strong": (False, True),
    "both": (True, True),
    "neither": (False, False),
}


def compare_answers(
    cheap_answer: str | None, strong_answer: str | None, failed: bool
) -> tuple[str, bool, dict | None]:
    """``(kind, agree, fields)`` of a pair's two logged answers (JSON text): the comparison every
    pair needs. Pure in its three arguments, so repeated answers (labels) are compared once."""
    return _compare_cached(cheap_answer, strong_answer, failed)


@lru_cache(maxsize=4096)  # labels repeat: 1M classify pairs compare a handful of answer pairs
def _compare_cached(cheap_answer: str | None, strong_answer: str | None, failed: bool) -> tuple:
    if cheap_answer == strong_answer and not failed:
        # The same text: every comparison in ``compare`` is reflexive (a test holds it to that), so
        # only the kind and the field names are left to find (extraction: 4.6 s -> 1.9 s per 1M pairs).
        value = loads_answer(cheap_answer)
        fields = dict.fromkeys(value, True) if isinstance(value, dict) else None
        return answer_kind(value, value), True, fields
    cheap_value, strong_value = loads_answer(cheap_answer), loads_answer(strong_answer)
    kind = answer_kind(cheap_value, strong_value)
    fields = None
    if failed:
        agree = False
    elif isinstance(cheap_value, dict) and isinstance(strong_value, dict):
        fields = compare_fields(cheap_value, strong_value)
        agree = all(fields.values())
    else:
        agree = answers_match(cheap_value, strong_value)
    return kind, agree, fields


def decide_outcome(
    *,
    label: str | None,
    cheap_failed: bool,
    cheap_logged: bool | None,
    strong_failed: bool,
    strong_logged: bool | None,
    verdict: str | None,
    kind: str,
    agree: bool,
    structured: bool,
) -> tuple[bool, bool, str | None, bool, bool]:
    """``(cheap_correct, strong_correct, correct_source, cheap_by_agreement, strong_assumed)`` of one
    pair from the strongest source there is: a human label, then a failed cheap call, then the
    log's ``correct`` (a reference answer), then a judge's verdict, then comparing the answers
    (field by field for structured answers, exactly for labels). Free text with none of those is
    unjudged (source ``None``). The one place a pair's correctness is decided."""
    strong_known = strong_logged if strong_logged is not None else (False if strong_failed else None)
    strong_correct = strong_known if strong_known is not None else True
    strong_assumed = strong_known is None
    if label is not None:
        return (*_LABEL_OUTCOME[label], "human", False, False)
    if cheap_failed:
        return False, strong_correct, "failure", False, strong_assumed
    if cheap_logged is not None:
        return bool(cheap_logged), strong_correct, "reference", False, strong_assumed
    if verdict is not None:
        return (*_VERDICT_OUTCOME[verdict], "judge", False, False)
    if strong_failed:
        return False, strong_correct, None, False, strong_assumed  # nothing to compare with, nobody judged it
    if kind == "text":
        return (
            agree,
            strong_correct,
            None,
            False,
            strong_assumed,
        )  # wording never matches: a judge or a person must say
    return agree, strong_correct, "fields" if structured else "exact", True, strong_assumed


def pair_from_rows(rows: list[CallRow], label: HumanLabel | None = None) -> Pair | None:
    """One pair from its request's rows (``decide_outcome`` says how right each side was)."""
    cheap = next((r for r in rows if r.role == "cheap" and r.tier == 0), None)
    strong = next((r for r in rows if r.role in PAIR_ROLES), None)
    if cheap is None or strong is None:
        return None
    strong_failed = strong.answer is None or strong.error_type is not None
    if strong_failed and strong.mode != IMPORT_MODE:
        return None  # a live strong call that failed: nothing to compare with
    cheap_failed = cheap.answer is None or cheap.error_type is not None
    kind, agree, fields = compare_answers(cheap.answer, strong.answer, cheap_failed or strong_failed)
    judged = judge_of(rows)
    cheap_correct, strong_correct, source, by_agreement, strong_assumed = decide_outcome(
        label=label.label if label is not None else None,
        cheap_failed=cheap_failed,
        cheap_logged=cheap.correct,
        strong_failed=strong_failed,
        strong_logged=strong.correct,
        verdict=judged[1] if judged else None,
        kind=kind,
        agree=agree,
        structured=fields is not None,
    )
    return Pair(
        request_id=cheap.request_id,
        task=cheap.task,
        source="import" if cheap.mode == IMPORT_MODE else strong.role,
        cheap_model=cheap.model,
        strong_model=strong.model,
        confidence=cheap.confidence if not cheap_failed or cheap.mode == IMPORT_MODE else None,
        cheap_correct=cheap_correct,
        strong_correct=strong_correct,
        cheap_by_agreement=by_agreement,
        strong_assumed=strong_assumed,
        agree=agree,
        cheap_cost_usd=cheap.cost_usd,
        strong_cost_usd=strong.cost_usd,
        cheap_answer=cheap.answer,
        strong_answer=strong.answer,
        reference=cheap.reference if cheap.reference is not None else strong.reference,
        input_preview=cheap.input_preview if cheap.input_preview is not None else strong.input_preview,
        correct_source=source,
        judge_verdict=judged[1] if judged else None,
        judge_confidence=judged[0].confidence if judged else None,
        judge_cheap_first=judged[2] if judged else None,
        judge_model=judged[0].model if judged else None,
        judge_cost_usd=judged[0].cost_usd if judged else None,
        human_label=label.label if label else None,
        field_agreement=fields,
        kind=kind,
        audit_share=cheap.audit_share,
        ts=cheap.ts,
    )


def load_pairs(reader: LogReader, task: str | None = None, *, unjudged: bool = False) -> list[Pair]:
    """Every paired outcome in the log (imports, shadow runs, audits), oldest first, optionally for one task.

    Cascade escalations are left out on purpose: the strong model saw only the inputs the cheap
    one was unsure of, so they say nothing about the cheap model's confident answers.
    Pairs whose live strong call failed are left out too (nothing to compare with). Pairs whose
    correctness nobody knows yet (free text not judged) are left out unless ``unjudged``.
    """
    groups: dict[str, list[CallRow]] = {}
    for row in reader.pair_rows(PAIR_ROLES, task):
        groups.setdefault(row.request_id, []).append(row)
    labels = reader.human_labels(task)
    ordered = sorted(groups.values(), key=lambda rows: min(r.id for r in rows))
    pairs = (pair_from_rows(rows, labels.get(rows[0].request_id)) for rows in ordered)
    return [pair for pair in pairs if pair is not None and (unjudged or pair.judged)]


def iter_pairs(
    reader: LogReader, task: str | None = None, *, unjudged: bool = False, page: int = 500
) -> Iterator[Pair]:
    """The pairs of ``load_pairs``, in request id order, read ``page`` requests at a time (memory
    bounded by a page, for a pass that keeps only a few of them, such as the review queue)."""
    labels = reader.human_labels(task)
    after = ""
    while True:
        rows = reader.pair_rows_page(PAIR_ROLES, task, after=after, limit=page)
        if not rows:
            return
        groups: dict[str, list[CallRow]] = {}
        for row in rows:
            groups.setdefault(row.request_id, []).append(row)
        for request_id in sorted(groups):
            pair = pair_from_rows(groups[request_id], labels.get(request_id))
            if pair is not None and (unjudged or pair.judged):
                yield pair
        after = max(groups)
