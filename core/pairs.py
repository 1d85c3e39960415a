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

- **Pairs for analysis** (``load_pairs``): built from the log, whatever wrote them: imported
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
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .clock import SYSTEM_CLOCK, Clock
from .compare import answers_match, json_answers_match
from .errors import ImportFormatError, RoutermonError, UnknownModelError
from .prices import PriceBook
from .reader import IMPORT_MODE, LogReader
from .records import CallRecord, CallRow
from .store import ExactInserter
from .text import sha256_text

REQUIRED_SIDE_FIELDS = ("model", "answer", "input_tokens", "output_tokens")
IMPORT_SOURCE = "import"
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


class ImportedPair(BaseModel):
    """One valid line of an import file."""

    line: int
    id: str | None = None
    task: str
    input: str | None = None
    reference: Any = None
    cheap: PairSide
    strong: PairSide
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
    if side.get("answer", 0) is None:
        problems.append(f"{name}.answer is null")
    model = side.get("model")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        problems.append(f"{name}.model must be a model name")
    confidence = side.get("confidence")
    if confidence is None:
        if name == "cheap":
            problems.append("cheap.confidence is missing (the threshold needs it)")
    elif not _is_number(confidence):
        problems.append(f"{name}.confidence must be a number between 0 and 1, not {confidence!r}")
    elif not 0.0 <= confidence <= 1.0:
        problems.append(f"{name}.confidence {confidence!r} is outside [0, 1]")
    for field in ("input_tokens", "output_tokens"):
        value = side.get(field)
        # Bounded: SQLite stores at most 64-bit integers, and no call uses a trillion tokens.
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10**12
        ):
            problems.append(f"{name}.{field} must be a whole number of tokens, not {value!r}")
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
        line_sha256=hashlib.sha256(raw.strip()).hexdigest(),
    )


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


def _key_part(pair: ImportedPair) -> str:
    # An id is escaped (no bare ``:`` left in it); a digest keeps its kind's bare ``:``, so an id
    # spelled like a digest ("sha256:…") can never meet a pair keyed by its input's digest.
    return _escaped(pair.id) if pair.id is not None else pair.key


def request_id_for(pair: ImportedPair) -> str:
    """A request id that is the same every time this pair is imported, and differs for any other
    pair (the parts are escaped before they are joined; plain names hash as in earlier versions)."""
    return "imp_" + sha256_text(f"{_escaped(pair.task)}\0{_key_part(pair)}")[:16]


def dedup_key_for(pair: ImportedPair, role: str) -> str:
    """``import:{task}:{key}:{role}``, with the task and id escaped so the key is injective (for
    names without ``\\``, ``:`` or NUL it is the key earlier versions wrote, so re-imports still
    deduplicate)."""
    return f"import:{_escaped(pair.task)}:{_key_part(pair)}:{role}"


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
) -> tuple[CallRecord, CallRecord]:
    """The two call-log rows (cheap, then shadow) for one imported pair."""
    reference = _reference_text(pair.reference)
    # With no reference, the strong answer stands in for it (agreement).
    judge = pair.reference if pair.reference is not None else pair.strong.answer
    cheap_correct = pair.cheap.correct
    if cheap_correct is None:
        cheap_correct = answers_match(pair.cheap.answer, judge)
    strong_correct = pair.strong.correct
    if strong_correct is None and pair.reference is not None:
        strong_correct = answers_match(pair.strong.answer, pair.reference)
    common = {
        "ts": ts,
        "request_id": request_id_for(pair),
        "task": pair.task,
        "mode": IMPORT_MODE,
        "source": IMPORT_SOURCE,
        "input_sha256": sha256_text(pair.input) if pair.input is not None else "",
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
                answer=json.dumps(side.answer, ensure_ascii=False, sort_keys=True),
                correct=correct,
                dedup_key=dedup_key_for(pair, role),
            )
        )
    return records[0], records[1]


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
    path, db_path = Path(path), Path(db_path)
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
    imported = rows_written = handled = 0
    with ExactInserter(db_path, waiting=waiting) as inserter:
        chunk: list[tuple] = []

        def write() -> None:
            nonlocal imported, rows_written, handled
            written = inserter.insert(chunk)
            # A pair half-written by an interrupted import is completed, and counts as new.
            imported += len(set(written))
            rows_written += len(written)
            handled += len(chunk) // 2
            chunk.clear()
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
            )
            chunk += [r.as_row() for r in records]
            if len(chunk) >= 2 * IMPORT_CHUNK:
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
    )


# -- pairs for analysis ---------------------------------------------------------------------------


def _pair_from_rows(rows: list[CallRow]) -> Pair | None:
    cheap = next((r for r in rows if r.role == "cheap" and r.tier == 0), None)
    strong = next((r for r in rows if r.role in PAIR_ROLES), None)
    if cheap is None or strong is None or strong.answer is None or strong.error_type is not None:
        return None  # no strong answer to compare with
    cheap_ok = cheap.answer is not None and cheap.error_type is None and cheap.confidence is not None
    agree = cheap_ok and json_answers_match(cheap.answer, strong.answer)
    if not cheap_ok:
        cheap_correct, by_agreement = False, False  # a failed cheap call is always escalated anyway
    elif cheap.correct is not None:
        cheap_correct, by_agreement = bool(cheap.correct), False
    else:
        cheap_correct, by_agreement = agree, True
    source = "import" if cheap.mode == IMPORT_MODE else strong.role
    return Pair(
        request_id=cheap.request_id,
        task=cheap.task,
        source=source,
        cheap_model=cheap.model,
        strong_model=strong.model,
        confidence=cheap.confidence if cheap_ok else None,
        cheap_correct=cheap_correct,
        strong_correct=bool(strong.correct) if strong.correct is not None else True,
        cheap_by_agreement=by_agreement,
        strong_assumed=strong.correct is None,
        agree=agree,
        cheap_cost_usd=cheap.cost_usd,
        strong_cost_usd=strong.cost_usd,
        cheap_answer=cheap.answer,
        strong_answer=strong.answer,
        reference=cheap.reference if cheap.reference is not None else strong.reference,
        input_preview=cheap.input_preview if cheap.input_preview is not None else strong.input_preview,
    )


def load_pairs(reader: LogReader, task: str | None = None) -> list[Pair]:
    """Every paired outcome in the log (imports, shadow runs, audits), oldest first, optionally for one task.

    Cascade escalations are left out on purpose: the strong model saw only the inputs the cheap
    one was unsure of, so they say nothing about the cheap model's confident answers.
    Pairs whose strong call failed are left out too (nothing to compare with).
    """
    groups: dict[str, list[CallRow]] = {}
    for row in reader.pair_rows(PAIR_ROLES, task):
        groups.setdefault(row.request_id, []).append(row)
    ordered = sorted(groups.values(), key=lambda rows: min(r.id for r in rows))
    return [pair for rows in ordered if (pair := _pair_from_rows(rows)) is not None]
