"""Human review: labelling pairs (one at a time, or a file of them) and the queue of pairs worth a look.

- ``label_pair(db_path, request_id, label, labeller=..., clock=...)`` stores one label
  (``routermon label`` and the Review screen); the request must be a paired outcome in the log.
- ``import_labels(path, db_path, ...)`` reads a JSONL file of labels, one object a line::

      {"request_id": "req_0012", "label": "cheap", "labeller": "alice"}
      {"id": "q-0001", "task": "date", "label": "strong"}

  ``request_id`` names any pair; ``id`` (or ``pair_id``) with ``task`` names a pair brought in by
  ``routermon import`` (the same request id the import gave it). ``labeller`` is optional (default:
  the one given to the command). All or nothing like ``routermon import``: any bad line (not JSON,
  an unknown label, a request the log does not have) fails the file with every problem and its
  line number, unless ``skip_invalid``. A line whose labeller's latest label of that request is
  already this label adds nothing, so importing a file again adds "0 new".
- ``review_queue(pairs, threshold=...)``: the pairs a person should look at, most useful first.
"""

from __future__ import annotations

import getpass
import heapq
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import ImportFormatError, RoutermonError
from ..log.db import log_location
from ..log.importing import (
    MAX_KEPT_PROBLEMS,
    ImportProblem,
    InvalidPairsError,
    imported_request_id,
    iter_lines,
    open_pairs_file,
)
from ..log.reader import LogReader
from ..log.records import HUMAN_LABELS, HumanLabel
from ..log.store import add_labels
from ..nesting import NestedTooDeeply, loads_within_depth
from . import spotcheck
from .pairs import PAIR_ROLES, Pair, iter_pairs

LabelSource = Literal["review", "cli", "import-labels"]


class UnknownPairError(RoutermonError):
    """A label names a request the log does not hold as a paired outcome."""


def default_labeller() -> str:
    """The OS user (``$USER``, else the login name), or ``""`` when neither is known."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return ""


def check_label(label: str) -> str:
    """``label`` if it is one of ``HUMAN_LABELS``; else a ``RoutermonError`` in one sentence."""
    if label not in HUMAN_LABELS:
        raise RoutermonError(f"The label {label!r} is not one of {', '.join(HUMAN_LABELS)}.")
    return label


def check_labeller(labeller: str | None) -> str | None:
    """``labeller`` (``None``: not given) if it names someone; else a ``RoutermonError`` in one
    sentence: an empty or blank name, or one holding a NUL (PostgreSQL cannot store it)."""
    if labeller is None:
        return None
    if not labeller.strip():
        raise RoutermonError("The labeller's name is empty: give a name to --by, or leave --by out.")
    if "\x00" in labeller:
        raise RoutermonError("The labeller's name holds a NUL character, which a log cannot store.")
    return labeller


def _missing(request_id: str, paired: dict[str, bool]) -> str | None:
    """Why ``request_id`` cannot be labelled, or ``None`` when it is a pair."""
    if request_id not in paired:
        return f"the log has no request {request_id!r}"
    if not paired[request_id]:
        return f"request {request_id!r} is not a paired outcome (only one model answered it)"
    return None


def label_pair(
    db_path: Path | str,
    request_id: str,
    label: str,
    *,
    labeller: str,
    source: LabelSource = "cli",
    clock: Clock | None = None,
    waiting: Callable[[str], None] | None = None,
) -> HumanLabel:
    """Store one person's label of one pair and return it (``UnknownPairError`` for a request
    that is not a pair in the log; nothing is written then)."""
    check_label(label)
    with LogReader(db_path) as reader:
        problem = _missing(request_id, reader.paired_requests([request_id], PAIR_ROLES))
    if problem is not None:
        raise UnknownPairError(f"Cannot label it: {problem}.")
    stored = HumanLabel(
        request_id=request_id,
        label=label,
        labeller=labeller,
        ts=(clock or SYSTEM_CLOCK).now(),
        source=source,
    )
    add_labels(db_path, [stored], waiting=waiting)
    return stored


# -- a file of labels --------------------------------------------------------------------------------


class LabelLine(BaseModel):
    """One line of a labels file, its request id resolved."""

    line: int
    request_id: str
    label: str
    labeller: str


class LabelImportResult(BaseModel):
    """What ``import_labels`` did."""

    path: str
    db_path: str
    lines_read: int  # valid lines
    written: int  # labels stored now
    already_present: int  # lines whose labeller had already given this label to this request
    skipped: list[ImportProblem] = []  # the first MAX_KEPT_PROBLEMS bad lines (``skip_invalid``)
    skipped_count: int = 0


def _parse_label_line(raw: bytes, line_no: int, labeller: str) -> LabelLine | ImportProblem:
    try:
        obj = loads_within_depth(raw)
    except NestedTooDeeply as exc:
        return ImportProblem(line=line_no, message=str(exc))
    except (UnicodeDecodeError, ValueError):
        return ImportProblem(line=line_no, message="not JSON")
    if not isinstance(obj, dict):
        return ImportProblem(line=line_no, message="not a JSON object")
    label = obj.get("label")
    if label not in HUMAN_LABELS:
        return ImportProblem(
            line=line_no, message=f"label must be one of {', '.join(HUMAN_LABELS)}, not {label!r}"
        )
    who = obj.get("labeller", labeller)
    if who is None:
        who = labeller
    if not isinstance(who, str) or not who.strip():
        return ImportProblem(line=line_no, message="labeller must be a name")
    request_id = obj.get("request_id")
    pair_id = obj.get("id", obj.get("pair_id"))
    if request_id is not None and pair_id is not None:
        return ImportProblem(line=line_no, message="give request_id or id, not both")
    if request_id is not None:
        if not isinstance(request_id, str) or not request_id:
            return ImportProblem(line=line_no, message="request_id must be a non-empty string")
    elif pair_id is not None:
        task = obj.get("task")
        # The id forms `routermon import` takes (a string or a whole number) and its trimmed task.
        if isinstance(pair_id, bool) or not isinstance(pair_id, str | int) or pair_id == "":
            return ImportProblem(line=line_no, message="id must be a non-empty string or a number")
        if not isinstance(task, str) or not task.strip():
            return ImportProblem(line=line_no, message="an imported pair's id needs its task")
        request_id = imported_request_id(task.strip(), str(pair_id))
    else:
        return ImportProblem(
            line=line_no, message="request_id (or an imported pair's id and task) is missing"
        )
    for name, value in (("labeller", who), ("request_id", request_id)):
        if "\x00" in value:  # PostgreSQL cannot store it: this line's problem, on both backends
            return ImportProblem(line=line_no, message=f"{name} holds a NUL character")
    return LabelLine(line=line_no, request_id=request_id, label=label, labeller=who)


def read_labels_file(path: Path | str, *, labeller: str) -> tuple[list[LabelLine], list[ImportProblem]]:
    """The lines of a labels file, parsed (not yet checked against a log); problems in line order."""
    path = Path(path)
    lines: list[LabelLine] = []
    problems: list[ImportProblem] = []
    seen: dict[tuple[str, str], int] = {}
    any_line = False
    with open_pairs_file(path) as handle:
        for line_no, raw in iter_lines(handle):
            if raw is not None and not raw.strip():
                continue
            any_line = True
            if raw is None:
                problems.append(ImportProblem(line=line_no, message="too long for a label"))
                continue
            parsed = _parse_label_line(raw, line_no, labeller)
            if isinstance(parsed, ImportProblem):
                problems.append(parsed)
                continue
            first = seen.setdefault((parsed.request_id, parsed.labeller), line_no)
            if first != line_no:
                problems.append(
                    ImportProblem(
                        line=line_no, message=f"labels the pair of line {first} again (same labeller)"
                    )
                )
                continue
            lines.append(parsed)
    if not any_line:
        raise ImportFormatError(f"{path} has no labels (it is empty).")
    return lines, problems


def import_labels(
    path: Path | str,
    db_path: Path | str,
    *,
    labeller: str,
    skip_invalid: bool = False,
    clock: Clock | None = None,
    waiting: Callable[[str], None] | None = None,
) -> LabelImportResult:
    """Store the labels of a JSONL file (module docstring), all or nothing unless ``skip_invalid``."""
    path, db_path = Path(path), log_location(db_path)
    lines, problems = read_labels_file(path, labeller=labeller)
    with LogReader(db_path) as reader:
        paired = reader.paired_requests((x.request_id for x in lines), PAIR_ROLES)
        known = []
        for item in lines:
            problem = _missing(item.request_id, paired)
            if problem is None:
                known.append(item)
            else:
                problems.append(ImportProblem(line=item.line, message=problem))
        current = reader.labels_by_labeller(x.request_id for x in known)
    problems.sort(key=lambda p: p.line)
    if problems and not skip_invalid:
        raise InvalidPairsError(
            path,
            problems[:MAX_KEPT_PROBLEMS],
            hint="; fix them, or pass --skip-invalid to store the rest",
            total=len(problems),
        )
    if not known:
        raise InvalidPairsError(
            path, problems[:MAX_KEPT_PROBLEMS], hint="; no line can be stored", total=len(problems)
        )
    ts = (clock or SYSTEM_CLOCK).now()
    new = [
        HumanLabel(request_id=x.request_id, label=x.label, labeller=x.labeller, ts=ts, source="import-labels")
        for x in known
        if current.get((x.request_id, x.labeller)) != x.label
    ]
    written = add_labels(db_path, new, waiting=waiting)
    return LabelImportResult(
        path=str(path),
        db_path=str(db_path),
        lines_read=len(known),
        written=written,
        already_present=len(known) - len(new),
        skipped=problems[:MAX_KEPT_PROBLEMS],
        skipped_count=len(problems),
    )


# -- the review queue ------------------------------------------------------------------------------

# Why a pair is in the queue, in the order the queue takes them.
REVIEW_REASONS: tuple[str, ...] = ("spot_check", "disagree", "unjudged", "judge_unsure", "confidently_wrong")
REASON_TEXT = {
    "spot_check": "a random spot check of the judge",
    "disagree": "the answers disagree",
    "unjudged": "free text nobody judged",
    "judge_unsure": "judge unsure",
    "confidently_wrong": "cheap confident and wrong",
}
JUDGE_UNSURE_BELOW = 0.7  # a judge verdict under this confidence is worth a person's look
QUEUE_LIMIT = 500  # a person reviews dozens, not thousands


class ReviewItem(BaseModel):
    """One pair in the review queue and why it is there (``REVIEW_REASONS``, strongest first)."""

    pair: Pair
    reasons: list[str]

    @property
    def why(self) -> str:
        """The reasons as words: "the answers disagree; judge unsure (0.55)"."""
        parts = []
        for reason in self.reasons:
            text = REASON_TEXT[reason]
            if reason == "judge_unsure" and self.pair.judge_confidence is not None:
                text += f" ({self.pair.judge_confidence:.2f})"
            parts.append(text)
        return "; ".join(parts)


def review_reasons(
    pair: Pair, *, threshold: float, judge_unsure_below: float = JUDGE_UNSURE_BELOW
) -> list[str]:
    """Why ``pair`` is worth a look (empty: it is not). A failed cheap call needs no look (it was wrong)."""
    if pair.correct_source == "failure":
        return []
    reasons = []
    # First the judged pairs of the random spot-check sample: their labels, and only theirs, let the
    # judge's figures be corrected (``judge_check``).
    if pair.judge_verdict is not None and spotcheck.in_spot_check(pair.request_id):
        reasons.append("spot_check")
    # Free text never matches word for word: there the judge stands in for the comparison (the
    # pair disagrees when it found the strong answer better), and a pair it never saw needs a person.
    if pair.kind == "text":
        disagree = pair.judge_verdict == "strong_better"
    else:
        disagree = not pair.agree
    if disagree:
        reasons.append("disagree")
    if not pair.judged:
        reasons.append("unjudged")
    if pair.judge_verdict is not None and (
        pair.judge_confidence is None or pair.judge_confidence < judge_unsure_below
    ):
        reasons.append("judge_unsure")
    # Wrong only where something says so: an unjudged pair's correctness is unknown.
    if (
        pair.judged
        and pair.confidence is not None
        and pair.confidence >= threshold
        and not pair.cheap_correct
    ):
        reasons.append("confidently_wrong")
    return reasons


def _ranked(
    pairs: Iterable[Pair], *, threshold: float, judge_unsure_below: float, tally: Counter | None = None
) -> Iterator[tuple[tuple, ReviewItem]]:
    """Each unlabelled pair worth a look with its sort key (``review_queue``); ``tally`` counts
    the pairs seen, labelled and worth a look."""
    tally = Counter() if tally is None else tally
    for position, pair in enumerate(pairs):
        tally["pairs"] += 1
        if pair.human_label is not None:
            tally["labelled"] += 1
            continue
        reasons = review_reasons(pair, threshold=threshold, judge_unsure_below=judge_unsure_below)
        if not reasons:
            continue
        tally["worth_a_look"] += 1
        first = reasons[0]
        if first == "judge_unsure":
            within = pair.judge_confidence if pair.judge_confidence is not None else 0.0
        else:
            within = -(pair.confidence if pair.confidence is not None else 0.0)
        yield (
            (REVIEW_REASONS.index(first), -len(reasons), within, position),
            ReviewItem(pair=pair, reasons=reasons),
        )


def review_queue(
    pairs: Iterable[Pair],
    *,
    threshold: float,
    judge_unsure_below: float = JUDGE_UNSURE_BELOW,
    limit: int = QUEUE_LIMIT,
) -> list[ReviewItem]:
    """The unlabelled pairs worth a human look, most useful first, at most ``limit`` (memory: the
    ``limit`` best so far, whatever the number of pairs).

    Order: by the strongest reason (a disagreement, then free text nobody judged, then an unsure
    judge, then a confident wrong cheap answer), pairs with more reasons first; then by the cheap
    confidence, highest first (a confident cheap answer is one the cascade keeps), except an
    unsure judge: by its confidence, lowest first; then the order of ``pairs``.
    """
    ranked = _ranked(pairs, threshold=threshold, judge_unsure_below=judge_unsure_below)
    return [item for _key, item in heapq.nsmallest(limit, ranked, key=lambda entry: entry[0])]


class ReviewQueue(BaseModel):
    """The review queue read from the log, and what it was chosen from."""

    items: list[ReviewItem]
    pairs: int  # paired outcomes in the log (of the task)
    labelled: int  # of them, labelled already
    worth_a_look: int  # unlabelled pairs with a reason (``items`` holds at most QUEUE_LIMIT)


def load_review_queue(
    reader: LogReader, *, threshold: float, task: str | None = None, limit: int = QUEUE_LIMIT
) -> ReviewQueue:
    """The review queue over the log's pairs (free text not yet judged included): every pair is
    read once, a page at a time, and only the ``limit`` most useful are kept."""
    tally: Counter = Counter()
    ranked = _ranked(
        iter_pairs(reader, task, unjudged=True),
        threshold=threshold,
        judge_unsure_below=JUDGE_UNSURE_BELOW,
        tally=tally,
    )
    items = [item for _key, item in heapq.nsmallest(limit, ranked, key=lambda entry: entry[0])]
    return ReviewQueue(
        items=items, pairs=tally["pairs"], labelled=tally["labelled"], worth_a_look=tally["worth_a_look"]
    )
