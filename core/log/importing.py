"""``routermon import``: a JSONL file of paired outcomes someone already has, into the call log.

One object a line::

    {"id": "q-0001", "task": "date", "input": "...", "reference": "05/01/2021",
     "cheap":  {"model": "gpt-3.5-turbo", "answer": "05/01/2021", "confidence": 0.95,
                "input_tokens": 17, "output_tokens": 646, "latency_ms": 900, "correct": true},
     "strong": {"model": "gpt-4", "answer": "05/01/2021", "confidence": null,
                "input_tokens": 17, "output_tokens": 95, "correct": true}}

``id``, ``input``, ``reference``, ``latency_ms``, ``correct`` and the strong side's ``confidence``
are optional. Each pair becomes two rows of the call log (role ``cheap`` tier 0 and role ``shadow``
tier 1, mode and source ``import``) sharing a ``request_id`` derived from the task and the line's
``id`` (or the input's sha256), with ``dedup_key`` ``import:{task}:{key}:{role}`` so a second import
of the same file adds nothing. A missing ``correct`` is the answer compared with ``reference``
(trimmed, case-folded, numbers as numbers); with no reference the cheap answer is judged by
agreement with the strong one (``pairs``). Models without a price import with ``cost_usd`` NULL.

Speed: a million-line file is the scale this is built for, so the per-line path stays plain Python
on plain values: pydantic-core's JSON parser (the verdict still json.loads's: see ``_loads``),
slotted records instead of validated models, and rows built straight in the writer's column order
(``_RowMaker``), as the router builds its own.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import from_json

from ..clock import SYSTEM_CLOCK, Clock
from ..compare import correct_against_reference
from ..errors import ImportFormatError, UnknownModelError
from ..nesting import NestedTooDeeply, loads_within_depth
from ..prices import ModelRates, PriceBook
from ..text import dump_answer, sha256_text
from .db import log_location
from .privacy import Keeper
from .reader import IMPORT_MODE
from .records import CALL_COLUMNS, HUMAN_LABELS, JUDGE_MODE, JUDGE_VERDICTS, HumanLabel
from .store import ExactInserter, add_labels

REQUIRED_SIDE_FIELDS = ("model", "answer", "input_tokens", "output_tokens")
IMPORT_SOURCE = "import"
NO_ANSWER = "no_answer"  # error_type of an imported side whose answer is null (a failed call)
MAX_LISTED_PROBLEMS = 5
MAX_LINE_BYTES = 16 * 1024 * 1024  # a longer line is a bad line (and is skipped in bounded memory)
MAX_KEPT_PROBLEMS = 1000  # problems kept to show; all of them are counted
# Pairs per transaction. A crash loses at most one uncommitted chunk (the next import completes it).
# Imported request ids are hashes, so each row lands at a random place of the request-id index: in
# small transactions every row dirties a page of its own that the commit writes out again, which made
# the writer a third slower at 2,000 pairs a transaction than at 20,000 (bench/README, scale.py).
IMPORT_CHUNK = 20_000
_BOM = b"\xef\xbb\xbf"
# Key digests sorted in memory before they go to disk as a run (2.4 MB of them; a million lines: 10 runs).
REPEAT_RUN_KEYS = 100_000
_VERDICTS_KEPT = 100_000  # answer/reference comparisons remembered by an import


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


@dataclass(slots=True)
class PairSide:
    """One model's outcome on an imported input (numbers as floats and ints, checked)."""

    model: str
    answer: Any
    input_tokens: int
    output_tokens: int
    confidence: float | None = None
    latency_ms: float | None = None
    correct: bool | None = None


@dataclass(slots=True)
class PairJudge:
    """A judge's verdict carried by an imported pair (``"judge": {...}``)."""

    verdict: str  # records.JUDGE_VERDICTS
    confidence: float | None = None
    model: str = "imported-judge"
    cheap_first: bool | None = None
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(slots=True)
class ImportedPair:
    """One valid line of an import file."""

    line: int
    task: str
    cheap: PairSide
    strong: PairSide
    line_sha256: str = ""  # identifies the line when it has neither id nor input (only then set)
    id: str | None = None
    input: str | None = None
    reference: Any = None
    judge: PairJudge | None = None
    label: HumanLabel | None = None  # its request_id is filled in when it is written

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


# -- reading an import file ----------------------------------------------------------------------


def _loads(text: str) -> Any:
    """``json.loads(text)``, through pydantic-core's parser where it can (twice as fast on these lines).

    Where both accept a text they give the same value (``tests/test_import_speed.py`` checks it on
    generated JSON); the texts pydantic-core refuses (lone surrogate escapes, which json.loads takes,
    and every text both refuse) go to ``json.loads``, so a line's verdict and message are its own."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` if it is not a number (``true`` is not)."""
    if value.__class__ is float:
        return value if math.isfinite(value) else None
    if value.__class__ is int:
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            return None
    return None


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
    number = None
    if confidence is None:
        if name == "cheap" and not failed:
            problems.append("cheap.confidence is missing (the threshold needs it)")
    elif (number := _number(confidence)) is None:
        problems.append(f"{name}.confidence must be a number between 0 and 1, not {confidence!r}")
    elif not 0.0 <= number <= 1.0:
        problems.append(f"{name}.confidence {confidence!r} is outside [0, 1]")
    _check_tokens(side, name, problems)
    latency = side.get("latency_ms")
    latency_ms = None
    if latency is not None and ((latency_ms := _number(latency)) is None or latency_ms < 0):
        problems.append(f"{name}.latency_ms must be a non-negative number, not {latency!r}")
    correct = side.get("correct")
    if correct is not None and not isinstance(correct, bool):
        problems.append(f"{name}.correct must be true, false or null, not {correct!r}")
    if problems:
        return None
    return PairSide(
        model=model,
        answer=side["answer"],
        input_tokens=side["input_tokens"],
        output_tokens=side["output_tokens"],
        confidence=number,
        latency_ms=latency_ms,
        correct=correct,
    )


def parse_pair_line(raw: bytes, line_no: int) -> ImportedPair | ImportProblem:
    """One line of an import file as a pair, or the problem with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ImportProblem(line=line_no, message="not UTF-8 text")
    try:
        obj = loads_within_depth(text, _loads)
    except NestedTooDeeply as exc:
        return ImportProblem(line=line_no, message=str(exc))
    except ValueError:
        return ImportProblem(line=line_no, message="not JSON")
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
        # Only a line with neither id nor input is keyed by its own bytes.
        line_sha256=hashlib.sha256(raw.strip()).hexdigest() if pair_id is None and text_input is None else "",
    )


def _check_tokens(obj: dict, name: str, problems: list[str]) -> None:
    """``input_tokens`` and ``output_tokens``, where given, are whole numbers of tokens."""
    for field in ("input_tokens", "output_tokens"):
        value = obj.get(field)
        # Bounded: SQLite stores at most 64-bit integers, and no call uses a trillion tokens.
        if value is not None and (value.__class__ is not int or not 0 <= value <= 10**12):
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
    number = None
    if confidence is not None and ((number := _number(confidence)) is None or not 0.0 <= number <= 1.0):
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
    return PairJudge(
        verdict=verdict,
        confidence=number,
        model=model,
        cheap_first=cheap_first,
        # Optional for a judge: absent or null is none counted.
        input_tokens=judge.get("input_tokens") or 0,
        output_tokens=judge.get("output_tokens") or 0,
    )


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


def open_pairs_file(path: Path):
    """The file to import, opened for reading in binary; ``ImportFormatError`` saying why not."""
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


class _RepeatFinder:
    """The lines whose pair (task and id, or input) an earlier line already has, found in bounded
    memory: each pair's 16-byte key digest and line number go into sorted runs of ``REPEAT_RUN_KEYS``
    in a temporary file, merged once the file is read (a dict of every digest took ~120 MB a
    million lines; this holds one run and a small buffer a run)."""

    _RECORD = 24  # a key digest (16 bytes) and its line number (8, big-endian: sorts as a number)
    _READ = 256  # records read from a run at a time while merging

    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._runs: list[tuple[int, int]] = []  # (offset, length) of each sorted run in _spill
        self._spill = None

    def add(self, pair: ImportedPair) -> None:
        digest = hashlib.blake2b(dedup_key_for(pair, "").encode(), digest_size=16).digest()
        self._keys.append(digest + pair.line.to_bytes(8, "big"))
        if len(self._keys) >= REPEAT_RUN_KEYS:
            self._save_run()

    def _save_run(self) -> None:
        self._keys.sort()
        run = b"".join(self._keys)
        try:
            if self._spill is None:
                self._spill = tempfile.TemporaryFile()
            offset = self._spill.seek(0, os.SEEK_END)
            self._spill.write(run)
            self._spill.flush()
        except OSError as exc:
            raise ImportFormatError(
                f"The temporary file that finds repeated pairs cannot be written ({exc.strerror or exc}); "
                "set TMPDIR to a writable folder with room."
            ) from None
        self._runs.append((offset, len(run)))
        self._keys = []

    def _run(self, offset: int, length: int) -> Iterator[bytes]:
        size, end = self._RECORD, offset + length
        while offset < end:
            self._spill.seek(offset)  # the runs' readers take turns on one file: each seeks first
            block = self._spill.read(min(self._READ * size, end - offset))
            if not block:
                raise OSError(f"a temporary file of {self.__class__.__name__} ended early")
            offset += len(block)
            yield from (block[i : i + size] for i in range(0, len(block), size))

    def repeats(self) -> Iterator[tuple[int, int]]:
        """``(line, first line of its pair)`` of every repeat, in no particular order."""
        if self._runs and self._keys:
            self._save_run()
        merged = heapq.merge(*(self._run(*run) for run in self._runs)) if self._runs else sorted(self._keys)
        first_digest, first_line = b"", 0
        for record in merged:
            if record[:16] == first_digest:
                yield int.from_bytes(record[16:]), first_line
            else:
                first_digest, first_line = record[:16], int.from_bytes(record[16:])

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()


def scan_pairs(path: Path | str) -> Iterator[ImportedPair | ImportProblem]:
    """Every line of an import file, as a pair or as the problem with the line itself, read a line
    at a time. Repeated pairs are not looked for here (``find_repeats``: they are known only at the
    end of the file). Blank lines are skipped. Raises ``ImportFormatError`` when the file cannot be
    read or is empty.
    """
    path = Path(path)
    any_line = False
    with open_pairs_file(path) as handle:
        for line_no, raw in iter_lines(handle):
            if raw is None:
                any_line = True
                yield ImportProblem(line=line_no, message=f"longer than {MAX_LINE_BYTES // 2**20} MiB")
                continue
            if not raw.strip():
                continue
            any_line = True
            yield parse_pair_line(raw, line_no)
    if not any_line:
        raise ImportFormatError(f"{path} has no paired outcomes (it is empty).")


def _repeat_problem(line: int, first: int) -> ImportProblem:
    return ImportProblem(line=line, message=f"repeats the pair of line {first} (same task and id)")


def read_pairs_file(path: Path | str) -> tuple[list[ImportedPair], list[ImportProblem]]:
    """Every line of an import file: the valid pairs, and the problems with the rest, a pair that
    repeats an earlier line's among them (in memory: for small files and tests; ``import_pairs``
    streams)."""
    pairs: list[ImportedPair] = []
    problems: list[ImportProblem] = []
    for item in scan_pairs(path):
        (problems if isinstance(item, ImportProblem) else pairs).append(item)
    first_of: dict[str, int] = {}
    unique = []
    for pair in pairs:
        first = first_of.setdefault(dedup_key_for(pair, ""), pair.line)
        if first == pair.line:
            unique.append(pair)
        else:
            problems.append(_repeat_problem(pair.line, first))
    return unique, sorted(problems, key=lambda p: p.line)


# -- keys ----------------------------------------------------------------------------------------


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
    return _request_id(_escaped(pair.task), _key_part(pair, keeper))


def imported_request_id(task: str, pair_id: str) -> str:
    """The request id ``routermon import`` gave the pair with this ``task`` and ``id`` (what
    ``routermon import-labels`` looks a pair up by)."""
    return _request_id(_escaped(task), _escaped(pair_id))


def _request_id(escaped_task: str, key_part: str) -> str:
    return "imp_" + sha256_text(f"{escaped_task}\0{key_part}")[:16]


def dedup_key_for(pair: ImportedPair, role: str, keeper: Keeper | None = None) -> str:
    """``import:{task}:{key}:{role}``, with the task and id escaped so the key is injective (for
    names without ``\\``, ``:`` or NUL it is the key earlier versions wrote, so re-imports still
    deduplicate)."""
    return f"import:{_escaped(pair.task)}:{_key_part(pair, keeper)}:{role}"


# -- rows ----------------------------------------------------------------------------------------

_AT = {name: i for i, name in enumerate(CALL_COLUMNS)}
# Where each value an imported row sets goes in the writer's tuple (by name: the order is CALL_COLUMNS').
_REQUEST_ID, _TASK, _MODE, _MODEL, _ROLE, _TIER = (
    _AT[c] for c in ("request_id", "task", "mode", "model", "role", "tier")
)
_INPUT_TOKENS, _OUTPUT_TOKENS, _COST, _LATENCY = (
    _AT[c] for c in ("input_tokens", "output_tokens", "cost_usd", "latency_ms")
)
_CONFIDENCE, _ANSWER, _ERROR, _FINAL, _CORRECT = (
    _AT[c] for c in ("confidence", "answer", "error_type", "final", "correct")
)
_INPUT_SHA256, _PREVIEW, _REFERENCE, _DEDUP = (_AT[c] for c in ("input_sha256", "input_preview", "reference", "dedup_key"))  # fmt: skip


class _RowMaker:
    """The call-log rows of imported pairs, as tuples in ``CALL_COLUMNS`` order: what a ``CallRecord``
    of each would give from ``as_row`` (``tests/test_import_speed.py`` checks it), built for a million
    lines a run: the columns all rows of an import share are filled once, prices resolved once a model."""

    def __init__(
        self,
        *,
        ts: float,
        prices: PriceBook,
        store_inputs: str = "preview",
        preview_chars: int = 80,
        keeper: Keeper | None = None,
    ):
        self.prices = prices
        self.store_inputs = store_inputs
        self.preview_chars = preview_chars
        self.keeper = keeper
        self.unpriced: set[str] = set()
        self._rates: dict[str, ModelRates | None] = {}
        self._tasks: dict[str, str] = {}  # task -> escaped task
        self._verdicts: dict[tuple, bool | None] = {}
        # The columns no imported row sets keep a CallRecord's defaults.
        blank = [None] * len(CALL_COLUMNS)
        for name, value in {
            "ts": ts, "mode": IMPORT_MODE, "source": IMPORT_SOURCE, "cache_read_tokens": 0,
            "cache_write_tokens": 0, "escalated": 0, "thinking_tokens": 0, "input_sha256": "",
        }.items():  # fmt: skip
            blank[_AT[name]] = value
        self._blank = blank

    def rows(self, pair: ImportedPair) -> list[tuple]:
        """The rows of one pair: cheap, then shadow, then its judge's verdict if it has one."""
        task = pair.task
        escaped_task = self._tasks.get(task)
        if escaped_task is None:
            escaped_task = self._tasks[task] = _escaped(task)
        key_part = _key_part(pair, self.keeper)
        text = pair.input
        reference = pair.reference
        row = self._blank.copy()
        row[_REQUEST_ID] = _request_id(escaped_task, key_part)
        row[_TASK] = task
        if text is not None:
            row[_INPUT_SHA256] = self.keeper.input_digest(text) if self.keeper else sha256_text(text)
            if self.store_inputs != "none":
                row[_PREVIEW] = text if self.store_inputs == "full" else text[: self.preview_chars]
        if reference is not None:
            row[_REFERENCE] = (
                reference if reference.__class__ is str else json.dumps(reference, sort_keys=True)
            )
        dedup = f"import:{escaped_task}:{key_part}:"
        out = []
        for role, tier, side in (("cheap", 0, pair.cheap), ("shadow", 1, pair.strong)):
            answer = side.answer
            side_row = row.copy()
            side_row[_MODEL] = side.model
            side_row[_ROLE] = role
            side_row[_TIER] = tier
            side_row[_INPUT_TOKENS] = side.input_tokens
            side_row[_OUTPUT_TOKENS] = side.output_tokens
            side_row[_COST] = self._cost(side.model, side.input_tokens, side.output_tokens)
            side_row[_LATENCY] = side.latency_ms or 0.0
            side_row[_CONFIDENCE] = side.confidence
            # ``correct`` is what the file says, else the answer against the reference (not for free
            # text, which a reference cannot settle by comparison), else unknown: the pair builder then
            # compares the two answers, or waits for a judge or a person. A null answer is a failed
            # call: wrong.
            correct = side.correct
            if answer is None:
                side_row[_ERROR] = NO_ANSWER
                side_row[_FINAL] = 0
                correct = False if correct is None else correct
            else:
                side_row[_ANSWER] = answer_text = dump_answer(answer)
                side_row[_FINAL] = 1
                if correct is None and reference is not None:
                    correct = self._verdict(answer, answer_text, reference, row[_REFERENCE])
            side_row[_CORRECT] = None if correct is None else int(correct)
            side_row[_DEDUP] = dedup + role
            out.append(tuple(side_row))
        judge = pair.judge
        if judge is not None:
            judge_row = row
            judge_row[_MODE] = judge_row[_ROLE] = JUDGE_MODE
            judge_row[_MODEL] = judge.model
            judge_row[_TIER] = 0
            judge_row[_INPUT_TOKENS] = judge.input_tokens
            judge_row[_OUTPUT_TOKENS] = judge.output_tokens
            judge_row[_COST] = (
                self._cost(judge.model, judge.input_tokens, judge.output_tokens)
                if judge.input_tokens or judge.output_tokens
                else 0.0
            )
            judge_row[_LATENCY] = 0.0
            judge_row[_CONFIDENCE] = judge.confidence
            judge_row[_ANSWER] = json.dumps(
                {"verdict": judge.verdict, "cheap_first": judge.cheap_first}, sort_keys=True
            )
            judge_row[_FINAL] = 1
            judge_row[_DEDUP] = dedup + JUDGE_MODE
            out.append(tuple(judge_row))
        return out

    def _verdict(self, answer: Any, answer_text: str, reference: Any, reference_text: str) -> bool | None:
        """``correct_against_reference``, remembered by the two JSON texts: a file of labels compares
        the same few answers and references a million times."""
        key = (answer_text, reference.__class__ is str, reference_text)  # a str and an object may print alike
        try:
            return self._verdicts[key]
        except KeyError:
            verdict = correct_against_reference(answer, reference)
            if len(self._verdicts) >= _VERDICTS_KEPT:  # free text: every answer new; keep memory bounded
                self._verdicts.clear()
            self._verdicts[key] = verdict
            return verdict

    def _cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """USD of one imported call; ``None`` (and the model noted as unpriced) without a price."""
        try:
            rates = self._rates[model]
        except KeyError:
            try:
                rates = self.prices.rates(model)
            except UnknownModelError:
                rates = None
                self.unpriced.add(model)
            self._rates[model] = rates
        return None if rates is None else rates.cost(input_tokens, output_tokens)


def pair_rows(
    pair: ImportedPair,
    *,
    ts: float,
    prices: PriceBook,
    unpriced: set[str],
    store_inputs: str = "preview",
    preview_chars: int = 80,
    keeper: Keeper | None = None,
) -> list[tuple]:
    """The call-log rows of one imported pair (``CALL_COLUMNS`` order): cheap, then shadow, then its
    judge's verdict if it has one; the models without a price are added to ``unpriced``."""
    maker = _RowMaker(
        ts=ts, prices=prices, store_inputs=store_inputs, preview_chars=preview_chars, keeper=keeper
    )
    rows = maker.rows(pair)
    unpriced |= maker.unpriced
    return rows


# -- writing pairs to the log --------------------------------------------------------------------


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
    scan = _validate_pairs(path, skip_invalid)
    ts = (clock or SYSTEM_CLOCK).now()
    maker = _RowMaker(
        ts=ts,
        prices=prices or PriceBook(),
        store_inputs=store_inputs,
        preview_chars=preview_chars,
        keeper=Keeper.for_log(db_path, store_inputs),
    )
    written = _write_pairs(path, db_path, maker, ts=ts, waiting=waiting, progress=progress)
    return ImportResult(
        path=str(path),
        db_path=str(db_path),
        pairs_read=scan.valid,
        imported=written.imported,
        already_present=scan.valid - written.imported,
        rows_written=written.rows,
        skipped=scan.problems,
        skipped_count=scan.bad,
        unpriced_models=sorted(maker.unpriced),
        tasks=sorted(scan.tasks),
        labels_written=written.labels,
    )


@dataclass(slots=True)
class _PairsScan:
    """The first read of a pairs file: how many lines are good and bad, the first problems, the tasks."""

    problems: list[ImportProblem]
    bad: int
    valid: int
    tasks: set[str]


def _validate_pairs(path: Path, skip_invalid: bool) -> _PairsScan:
    """Read the whole file once; a bad line (a pair repeating an earlier line's too, unless
    ``skip_invalid``) or no good line at all raises ``InvalidPairsError`` before anything is written."""
    scan = _PairsScan(problems=[], bad=0, valid=0, tasks=set())
    finder = _RepeatFinder()
    try:
        for item in scan_pairs(path):
            if item.__class__ is ImportProblem:
                scan.bad += 1
                if len(scan.problems) < MAX_KEPT_PROBLEMS:
                    scan.problems.append(item)
            else:
                scan.valid += 1
                scan.tasks.add(item.task)
                finder.add(item)
        repeats = 0

        def counted() -> Iterator[tuple[int, int]]:
            nonlocal repeats
            for repeat in finder.repeats():
                repeats += 1
                yield repeat

        first_repeats = heapq.nsmallest(MAX_KEPT_PROBLEMS, counted())
    finally:
        finder.close()
    if repeats:
        scan.bad += repeats
        scan.valid -= repeats
        listed = heapq.merge(
            scan.problems, (_repeat_problem(*r) for r in first_repeats), key=lambda p: p.line
        )
        scan.problems = list(itertools.islice(listed, MAX_KEPT_PROBLEMS))
    if scan.bad and not skip_invalid:
        raise InvalidPairsError(
            path, scan.problems, hint="; fix them, or pass --skip-invalid to import the rest", total=scan.bad
        )
    if not scan.valid:
        raise InvalidPairsError(path, scan.problems, hint="; no line can be imported", total=scan.bad)
    return scan


@dataclass(slots=True)
class _PairsWritten:
    """What one import wrote: new pairs, rows and labels; ``handled``: pairs read so far."""

    imported: int = 0
    rows: int = 0
    labels: int = 0
    handled: int = 0


def _write_pairs(
    path: Path,
    db_path: Path | str,
    maker: _RowMaker,
    *,
    ts: float,
    waiting: Callable[[str], None] | None,
    progress: Callable[[int], None] | None,
) -> _PairsWritten:
    """Read the file again and write its good pairs (and their labels) in transactions of
    ``IMPORT_CHUNK`` pairs, telling ``progress`` after each; labels are stamped ``ts``. A pair
    repeating an earlier line's (``--skip-invalid``) is kept from the log by its ``dedup_key``."""
    written = _PairsWritten()
    with ExactInserter(db_path, waiting=waiting) as inserter:
        chunk: list[tuple] = []
        chunk_pairs = 0
        chunk_labels: dict[str, HumanLabel] = {}  # by request id: a repeated pair's label is not its own

        def write() -> None:
            nonlocal chunk_pairs
            request_ids = inserter.insert(chunk)
            new = set(request_ids)
            # A pair half-written by an interrupted import is completed, and counts as new.
            written.imported += len(new)
            written.rows += len(request_ids)
            written.handled += chunk_pairs
            # A pair's label is stored with the pair the first time it is written, so a second
            # import of the same file adds no label twice.
            written.labels += add_labels(db_path, [lab for rid, lab in chunk_labels.items() if rid in new])
            chunk.clear()
            chunk_labels.clear()
            chunk_pairs = 0
            if progress is not None:
                progress(written.handled)

        rows_of = maker.rows
        for pair in scan_pairs(path):
            if pair.__class__ is ImportProblem:
                continue
            rows = rows_of(pair)
            chunk += rows
            chunk_pairs += 1
            if pair.label is not None and rows[0][_REQUEST_ID] not in chunk_labels:
                request_id = rows[0][_REQUEST_ID]
                chunk_labels[request_id] = pair.label.model_copy(update={"request_id": request_id, "ts": ts})
            if chunk_pairs >= IMPORT_CHUNK:
                write()
        if chunk:
            write()
    return written
