"""Paired outcomes: the cheap and the strong model's answers to the same input, side by side.

Two halves:

- **Import** (``read_pairs_file``, ``import_pairs``): a JSONL file of pairs someone already has,
  one object a line::

      {"id": "q-0001", "task": "date", "input": "...", "reference": "05/01/2021",
       "cheap":  {"model": "gpt-3.5-turbo", "answer": "05/01/2021", "confidence": 0.95,
                  "input_tokens": 17, "output_tokens": 646, "latency_ms": 900, "correct": true},
       "strong": {"model": "gpt-4", "answer": "05/01/2021", "confidence": null,
                  "input_tokens": 17, "output_tokens": 95, "correct": true}}

  ``id``, ``input``, ``reference``, ``latency_ms``, ``correct`` and the strong side's ``confidence``
  are optional. Each pair becomes two rows of the call log (role ``cheap`` tier 0 and role
  ``shadow`` tier 1, mode and source ``import``) sharing a ``request_id`` derived from the task and
  the line's ``id`` (or the input's sha256), with ``dedup_key`` ``import:{task}:{key}:{role}`` so a
  second import of the same file adds nothing. A missing ``correct`` is the answer compared with
  ``reference`` (trimmed, case-folded, numbers as numbers); with no reference the cheap answer is
  judged by agreement with the strong one. Models without a price import with ``cost_usd`` NULL.

- **Pairs for analysis** (``load_pairs``, ``iter_pairs``; ``pairtable`` folds them into a table
  in bounded memory, deciding each pair with the same ``decide_outcome``): built from the log,
  whatever wrote them: imported
  pairs, shadow-mode requests (a ``cheap`` row and a ``shadow`` row) and audited requests (a
  ``cheap`` row and an ``audit`` row). Cascade escalations are *not* pairs: the strong model only
  saw the inputs the cheap one was unsure of, so they would bias every accuracy figure.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from .clock import SYSTEM_CLOCK, Clock
from .compare import (
    answer_kind,
    answers_match,
    compare_fields,
    correct_against_reference,
    loads_answer,
)
from .db import log_location
from .errors import ImportFormatError, RoutermonError, UnknownModelError
from .prices import PriceBook
from .privacy import Keeper
from .reader import IMPORT_MODE, LogReader
from .records import HUMAN_LABELS, JUDGE_MODE, JUDGE_VERDICTS, CallRecord, CallRow, HumanLabel
from .store import ExactInserter, add_labels
from .text import sha256_text

REQUIRED_SIDE_FIELDS = ("model", "answer", "input_tokens", "output_tokens")
IMPORT_SOURCE = "import"
NO_ANSWER = "no_answer"  # error_type of an imported side whose answer is null (a failed call)
PAIR_ROLES = ("shadow", "audit")  # the strong row of a pair; cascade "strong" rows are not pairs
MAX_LISTED_PROBLEMS = 5


class ImportProblem(BaseModel):
    """One line of an import file that cannot be imported, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class InvalidPairsError(ImportFormatError):
    """An import file has bad lines; ``problems`` lists every one with its line number."""

    def __init__(
        self, path: Path | str, problems: list[ImportProblem], *, hint: str = "", total: int | None = None
    ):
        self.path = Path(path)
        self.problems = problems
        total = len(problems) if total is None else total
        shown = "; ".join(str(p) for p in problems[:MAX_LISTED_PROBLEMS])
        more = f"; and {total - MAX_LISTED_PROBLEMS} more" if total > MAX_LISTED_PROBLEMS else ""
        noun = "line" if total == 1 else "lines"
        super().__init__(f"{self.path} has {total} bad {noun} ({shown}{more}){hint}.")


class NoPairsError(RoutermonError):
    """The log holds no paired outcomes to analyse."""


class PairSide(BaseModel):
    """One model's outcome on an imported input."""

    model: str
    answer: Any
    confidence: float | None = None
    input_tokens: int
    output_tokens: int
    latency_ms: float | None = None
    correct: bool | None = None


class PairJudge(BaseModel):
    """A judge's verdict carried by an imported pair (``"judge": {...}``)."""

    verdict: Literal["cheap_acceptable", "strong_better", "both_fail"]
    confidence: float | None = None
    model: str = "imported-judge"
    cheap_first: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class ImportedPair(BaseModel):
    """One valid line of an import file."""

    line: int
    id: str | None = None
    task: str
    input: str | None = None
    reference: Any = None
    cheap: PairSide
    strong: PairSide
    judge: PairJudge | None = None
    label: HumanLabel | None = None  # its request_id is filled in when it is written
    line_sha256: str  # identifies the line when it has neither id nor input

    @property
    def key(self) -> str:
        """What makes this pair unique within its task (for ``request_id`` and ``dedup_key``)."""
        if self.id is not None:
            return self.id
        if self.input is not None:
            return "sha256:" + sha256_text(self.input)
        return "line-sha256:" + self.line_sha256


class ImportResult(BaseModel):
    """What ``import_pairs`` did."""

    path: str
    db_path: str
    pairs_read: int
    imported: int  # pairs written now
    already_present: int  # pairs an earlier (or a concurrent) import had written
    rows_written: int
    skipped: list[ImportProblem] = []  # the first MAX_KEPT_PROBLEMS bad lines
    skipped_count: int = 0  # every bad line
    unpriced_models: list[str] = []
    tasks: list[str] = []
    labels_written: int = 0  # human labels carried by the pairs written now


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


# -- reading an import file ----------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_side(obj: dict, name: str, problems: list[str]) -> PairSide | None:
    side = obj.get(name)
    if side is None:
        problems.append(f"the {name!r} object is missing")
        return None
    if not isinstance(side, dict):
        problems.append(f"{name!r} must be an object")
        return None
    for field in REQUIRED_SIDE_FIELDS:
        if field not in side or (field != "answer" and side[field] is None):
            problems.append(f"{name}.{field} is missing")
    # ``"answer": null`` is a call that gave no usable answer: a failure, kept (dropping it would
    # remove exactly the cheap model's failures from the analysis).
    failed = "answer" in side and side["answer"] is None
    model = side.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        problems.append(f"{name}.model must be a model name")
    confidence = side.get("confidence")
    if confidence is None:
        if name == "cheap" and not failed:
            problems.append("cheap.confidence is missing (the threshold needs it)")
    elif not _is_number(confidence):
        problems.append(f"{name}.confidence must be a number between 0 and 1, not {confidence!r}")
    elif not 0.0 <= confidence <= 1.0:
        problems.append(f"{name}.confidence {confidence!r} is outside [0, 1]")
    _check_tokens(side, name, problems)
    latency = side.get("latency_ms")
    if latency is not None and (not _is_number(latency) or latency < 0):
        problems.append(f"{name}.latency_ms must be a non-negative number, not {latency!r}")
    correct = side.get("correct")
    if correct is not None and not isinstance(correct, bool):
        problems.append(f"{name}.correct must be true, false or null, not {correct!r}")
    if problems:
        return None
    return PairSide.model_validate({k: side.get(k) for k in PairSide.model_fields})


def parse_pair_line(raw: bytes, line_no: int) -> ImportedPair | ImportProblem:
    """One line of an import file as a pair, or the problem with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ImportProblem(line=line_no, message="not UTF-8 text")
    try:
        obj = json.loads(text)
    except ValueError:
        return ImportProblem(line=line_no, message="not JSON")
    except RecursionError:
        return ImportProblem(line=line_no, message="JSON nested too deeply")
    if not isinstance(obj, dict):
        return ImportProblem(line=line_no, message=f"a JSON {type(obj).__name__}, not an object")
    problems: list[str] = []
    task = obj.get("task")
    if task is None:
        problems.append("task is missing")
    elif not isinstance(task, str) or not task.strip():
        problems.append("task must be a non-empty string")
    pair_id = obj.get("id")
    if pair_id is not None and (isinstance(pair_id, bool) or not isinstance(pair_id, str | int)):
        problems.append(f"id must be a string or a number, not {pair_id!r}")
    text_input = obj.get("input")
    if text_input is not None and not isinstance(text_input, str):
        problems.append("input must be a string")
    cheap_problems: list[str] = []
    strong_problems: list[str] = []
    cheap = _check_side(obj, "cheap", cheap_problems)
    strong = _check_side(obj, "strong", strong_problems)
    problems += cheap_problems + strong_problems
    judge = _check_judge(obj.get("judge"), problems)
    label = _check_label(obj.get("label"), problems)
    if problems or cheap is None or strong is None:
        return ImportProblem(line=line_no, message=", ".join(problems))
    return ImportedPair(
        line=line_no,
        id=str(pair_id) if pair_id is not None else None,
        task=task.strip(),
        input=text_input,
        reference=obj.get("reference"),
        cheap=cheap,
        strong=strong,
        judge=judge,
        label=label,
        line_sha256=hashlib.sha256(raw.strip()).hexdigest(),
    )


def _check_tokens(obj: dict, name: str, problems: list[str]) -> None:
    """``input_tokens`` and ``output_tokens``, where given, are whole numbers of tokens."""
    for field in ("input_tokens", "output_tokens"):
        value = obj.get(field)
        # Bounded: SQLite stores at most 64-bit integers, and no call uses a trillion tokens.
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**12
        ):
            problems.append(f"{name}.{field} must be a whole number of tokens, not {value!r}")


def _check_judge(judge: Any, problems: list[str]) -> PairJudge | None:
    if judge is None:
        return None
    if not isinstance(judge, dict):
        problems.append("judge must be an object")
        return None
    verdict = judge.get("verdict")
    if verdict not in JUDGE_VERDICTS:
        problems.append(f"judge.verdict must be one of {', '.join(JUDGE_VERDICTS)}, not {verdict!r}")
    confidence = judge.get("confidence")
    if confidence is not None and (not _is_number(confidence) or not 0.0 <= confidence <= 1.0):
        problems.append(f"judge.confidence must be a number between 0 and 1, not {confidence!r}")
    model = judge.get("model", "imported-judge")
    if not isinstance(model, str) or not model.strip():
        problems.append("judge.model must be a model name")
    cheap_first = judge.get("cheap_first")
    if cheap_first is not None and not isinstance(cheap_first, bool):
        problems.append(f"judge.cheap_first must be true, false or null, not {cheap_first!r}")
    _check_tokens(judge, "judge", problems)
    if problems:
        return None
    return PairJudge.model_validate({k: judge[k] for k in PairJudge.model_fields if k in judge})


def _check_label(label: Any, problems: list[str]) -> HumanLabel | None:
    if label is None:
        return None
    if isinstance(label, str):
        label = {"label": label}
    if not isinstance(label, dict):
        problems.append("label must be one of cheap, strong, both, neither, or an object with a label")
        return None
    value = label.get("label")
    if value not in HUMAN_LABELS:
        problems.append(f"label must be one of {', '.join(HUMAN_LABELS)}, not {value!r}")
        return None
    labeller = label.get("labeller", "")
    if not isinstance(labeller, str):
        problems.append("label.labeller must be a string")
        return None
    return HumanLabel(request_id="", label=value, labeller=labeller, source="import")


MAX_LINE_BYTES = 16 * 1024 * 1024  # a longer line is a bad line (and is skipped in bounded memory)
MAX_KEPT_PROBLEMS = 1000  # problems kept to show; all of them are counted
_BOM = b"\xef\xbb\xbf"


def _open_pairs_file(path: Path):
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise ImportFormatError(f"There is no file {path} to import.") from None
    except IsADirectoryError:
        raise ImportFormatError(f"{path} is a directory, not a file of paired outcomes.") from None
    except OSError as exc:
        raise ImportFormatError(f"The file {path} cannot be read: {exc.strerror}.") from None
    mode = os.fstat(handle.fileno()).st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        handle.close()
        raise ImportFormatError(f"{path} is a device, not a file of paired outcomes.")
    return handle


def iter_lines(handle) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` for every line of a binary file, split on ``\\n`` only (a JSON line
    may hold U+2028 or U+0085, which ``str.splitlines`` would treat as breaks), without the line
    break or a leading UTF-8 byte-order mark; ``None`` for a line over ``MAX_LINE_BYTES``, which is
    skipped without holding it in memory."""
    line_no = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        line_no += 1
        if line_no == 1 and raw.startswith(_BOM):
            raw = raw[len(_BOM) :]
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):  # skip the rest of the line, a chunk at a time
                raw = handle.readline(MAX_LINE_BYTES)
            yield line_no, None
            continue
        yield line_no, raw.rstrip(b"\n").removesuffix(b"\r")


def scan_pairs(path: Path | str) -> Iterator[ImportedPair | ImportProblem]:
    """Every line of an import file, as a pair or as the problem with it, read in bounded memory
    (a line at a time; repeated pairs are found through a 16-byte digest of each key).

    Blank lines are skipped. A pair whose task and id (or input) repeat an earlier line is a
    problem. Raises ``ImportFormatError`` when the file cannot be read or is empty.
    """
    path = Path(path)
    seen: dict[int, int] = {}
    any_line = False
    with _open_pairs_file(path) as handle:
        for line_no, raw in iter_lines(handle):
            if raw is None:
                any_line = True
                yield ImportProblem(line=line_no, message=f"longer than {MAX_LINE_BYTES // 2**20} MiB")
                continue
            if not raw.strip():
                continue
            any_line = True
            parsed = parse_pair_line(raw, line_no)
            if isinstance(parsed, ImportProblem):
                yield parsed
                continue
            digest = int.from_bytes(
                hashlib.blake2b(dedup_key_for(parsed, "").encode(), digest_size=16).digest()
            )
            first = seen.setdefault(digest, line_no)
            if first != line_no:
                yield ImportProblem(
                    line=line_no, message=f"repeats the pair of line {first} (same task and id)"
                )
                continue
            yield parsed
    if not any_line:
        raise ImportFormatError(f"{path} has no paired outcomes (it is empty).")


def read_pairs_file(path: Path | str) -> tuple[list[ImportedPair], list[ImportProblem]]:
    """Every line of an import file: the valid pairs, and the problems with the rest (in memory:
    for small files and tests; ``import_pairs`` streams)."""
    pairs: list[ImportedPair] = []
    problems: list[ImportProblem] = []
    for item in scan_pairs(path):
        (problems if isinstance(item, ImportProblem) else pairs).append(item)
    return pairs, problems


# -- writing pairs to the log --------------------------------------------------------------------


def _escaped(text: str) -> str:
    """``text`` with ``\\``, ``:`` and NUL escaped, so joining escaped parts with ``:`` or NUL can be
    split back unambiguously (two different parts never give the same joined string)."""
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("\0", "\\0")


def _key_part(pair: ImportedPair, keeper: Keeper | None = None) -> str:
    # An id is escaped (no bare ``:`` left in it); a digest keeps its kind's bare ``:``, so an id
    # spelled like a digest ("sha256:…") can never meet a pair keyed by its input's digest. When
    # inputs are not stored, an input's digest is keyed (``privacy.py``): no plain sha256 of it
    # reaches the log, not even inside a request id.
    if pair.id is None and pair.input is not None and keeper is not None and keeper.store_inputs == "none":
        return "hmac:" + keeper.input_digest(pair.input)
    return _escaped(pair.id) if pair.id is not None else pair.key


def request_id_for(pair: ImportedPair, keeper: Keeper | None = None) -> str:
    """A request id that is the same every time this pair is imported, and differs for any other
    pair (the parts are escaped before they are joined; plain names hash as in earlier versions)."""
    return _request_id(pair.task, _key_part(pair, keeper))


def imported_request_id(task: str, pair_id: str) -> str:
    """The request id ``routermon import`` gave the pair with this ``task`` and ``id`` (what
    ``routermon import-labels`` looks a pair up by)."""
    return _request_id(task, _escaped(pair_id))


def _request_id(task: str, key_part: str) -> str:
    return "imp_" + sha256_text(f"{_escaped(task)}\0{key_part}")[:16]


def dedup_key_for(pair: ImportedPair, role: str, keeper: Keeper | None = None) -> str:
    """``import:{task}:{key}:{role}``, with the task and id escaped so the key is injective (for
    names without ``\\``, ``:`` or NUL it is the key earlier versions wrote, so re-imports still
    deduplicate)."""
    return f"import:{_escaped(pair.task)}:{_key_part(pair, keeper)}:{role}"


def _reference_text(reference: Any) -> str | None:
    if reference is None:
        return None
    return reference if isinstance(reference, str) else json.dumps(reference, sort_keys=True)


def _preview(text: str | None, store_inputs: str, preview_chars: int) -> str | None:
    if text is None or store_inputs == "none":
        return None
    return text if store_inputs == "full" else text[:preview_chars]


def _side_cost(prices: PriceBook, side: PairSide, unpriced: set[str]) -> float | None:
    try:
        return prices.cost(side.model, side.input_tokens, side.output_tokens)
    except UnknownModelError:
        unpriced.add(side.model)
        return None


def pair_records(
    pair: ImportedPair,
    *,
    ts: float,
    prices: PriceBook,
    unpriced: set[str],
    store_inputs: str = "preview",
    preview_chars: int = 80,
    keeper: Keeper | None = None,
) -> tuple[CallRecord, ...]:
    """The call-log rows of one imported pair: cheap, then shadow, then its judge's verdict if it has one."""
    reference = _reference_text(pair.reference)
    # ``correct`` is what the file says, else the answer against the reference (not for free text,
    # which a reference cannot settle by comparison), else unknown: the pair builder then compares
    # the two answers, or waits for a judge or a person. A null answer is a failed call: wrong.
    cheap_correct, strong_correct = (
        side.correct
        if side.correct is not None
        else False
        if side.answer is None
        else correct_against_reference(side.answer, pair.reference)
        for side in (pair.cheap, pair.strong)
    )
    common = {
        "ts": ts,
        "request_id": request_id_for(pair, keeper),
        "task": pair.task,
        "mode": IMPORT_MODE,
        "source": IMPORT_SOURCE,
        "input_sha256": (keeper.input_digest(pair.input) if keeper else sha256_text(pair.input))
        if pair.input is not None
        else "",
        "input_preview": _preview(pair.input, store_inputs, preview_chars),
        "reference": reference,
    }
    records = []
    for role, tier, side, correct in (
        ("cheap", 0, pair.cheap, cheap_correct),
        ("shadow", 1, pair.strong, strong_correct),
    ):
        records.append(
            CallRecord(
                **common,
                model=side.model,
                role=role,
                tier=tier,
                input_tokens=side.input_tokens,
                output_tokens=side.output_tokens,
                cost_usd=_side_cost(prices, side, unpriced),
                latency_ms=side.latency_ms or 0.0,
                confidence=side.confidence,
                answer=None
                if side.answer is None
                else json.dumps(side.answer, ensure_ascii=False, sort_keys=True),
                error_type=NO_ANSWER if side.answer is None else None,
                final=side.answer is not None,
                correct=correct,
                dedup_key=dedup_key_for(pair, role, keeper),
            )
        )
    if pair.judge is not None:
        judge = pair.judge
        side = PairSide(
            model=judge.model, answer=None, input_tokens=judge.input_tokens, output_tokens=judge.output_tokens
        )
        records.append(
            CallRecord(
                **{**common, "mode": JUDGE_MODE},
                model=judge.model,
                role=JUDGE_MODE,
                tier=0,
                input_tokens=judge.input_tokens,
                output_tokens=judge.output_tokens,
                cost_usd=_side_cost(prices, side, unpriced)
                if judge.input_tokens or judge.output_tokens
                else 0.0,
                confidence=judge.confidence,
                answer=json.dumps(
                    {"verdict": judge.verdict, "cheap_first": judge.cheap_first}, sort_keys=True
                ),
                final=True,
                dedup_key=dedup_key_for(pair, JUDGE_MODE, keeper),
            )
        )
    return tuple(records)


IMPORT_CHUNK = 2000  # pairs per transaction: a crash loses at most one uncommitted chunk


def import_pairs(
    path: Path | str,
    db_path: Path | str,
    *,
    skip_invalid: bool = False,
    prices: PriceBook | None = None,
    store_inputs: str = "preview",
    preview_chars: int = 80,
    clock: Clock | None = None,
    waiting: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import a paired-outcome file into the call log at ``db_path``, in bounded memory.

    All or nothing: any bad line raises ``InvalidPairsError`` (every problem with its line number)
    and nothing is written, unless ``skip_invalid``, which imports the good lines and lists the bad
    ones in ``ImportResult.skipped``. The file is read twice: once to validate it, once to write it
    in transactions of ``IMPORT_CHUNK`` pairs. The counts are what this import itself wrote
    (``ExactInserter``): pairs an earlier or a concurrent import wrote count as already present.
    ``waiting`` hears once if the database is locked (the import waits as long as it takes);
    ``progress`` gets the number of pairs handled so far after each chunk.
    """
    path, db_path = Path(path), log_location(db_path)
    problems: list[ImportProblem] = []
    bad = valid = 0
    tasks: set[str] = set()
    for item in scan_pairs(path):
        if isinstance(item, ImportProblem):
            bad += 1
            if len(problems) < MAX_KEPT_PROBLEMS:
                problems.append(item)
        else:
            valid += 1
            tasks.add(item.task)
    if bad and not skip_invalid:
        raise InvalidPairsError(
            path, problems, hint="; fix them, or pass --skip-invalid to import the rest", total=bad
        )
    if not valid:
        raise InvalidPairsError(path, problems, hint="; no line can be imported", total=bad)
    prices = prices or PriceBook()
    ts = (clock or SYSTEM_CLOCK).now()
    unpriced: set[str] = set()
    imported = rows_written = handled = labels_written = 0
    keeper = Keeper.for_log(db_path, store_inputs)
    with ExactInserter(db_path, waiting=waiting) as inserter:
        chunk: list[tuple] = []
        chunk_pairs = 0
        chunk_labels: list[HumanLabel] = []

        def write() -> None:
            nonlocal imported, rows_written, handled, labels_written, chunk_pairs
            written = inserter.insert(chunk)
            new = set(written)
            # A pair half-written by an interrupted import is completed, and counts as new.
            imported += len(new)
            rows_written += len(written)
            handled += chunk_pairs
            # A pair's label is stored with the pair the first time it is written, so a second
            # import of the same file adds no label twice.
            labels_written += add_labels(db_path, [lab for lab in chunk_labels if lab.request_id in new])
            chunk.clear()
            chunk_labels.clear()
            chunk_pairs = 0
            if progress is not None:
                progress(handled)

        for pair in scan_pairs(path):
            if isinstance(pair, ImportProblem):
                continue
            records = pair_records(
                pair,
                ts=ts,
                prices=prices,
                unpriced=unpriced,
                store_inputs=store_inputs,
                preview_chars=preview_chars,
                keeper=keeper,
            )
            chunk += [r.as_row() for r in records]
            chunk_pairs += 1
            if pair.label is not None:
                chunk_labels.append(
                    pair.label.model_copy(update={"request_id": records[0].request_id, "ts": ts})
                )
            if chunk_pairs >= IMPORT_CHUNK:
                write()
        if chunk:
            write()
    return ImportResult(
        path=str(path),
        db_path=str(db_path),
        pairs_read=valid,
        imported=imported,
        already_present=valid - imported,
        rows_written=rows_written,
        skipped=problems,
        skipped_count=bad,
        unpriced_models=sorted(unpriced),
        tasks=sorted(tasks),
        labels_written=labels_written,
    )


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
