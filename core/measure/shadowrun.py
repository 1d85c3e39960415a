"""Shadow runs over a file: both models on every input, concurrently, resumable.

``read_inputs`` reads a JSONL file (one object a line with ``text`` or ``input``, optional ``id``
and ``reference``) or a CSV file (a ``text`` or ``input`` column, optional ``id`` and ``reference``
columns). ``run_shadow`` sends each input through a shadow-mode ``Router`` with a bounded number in
flight; every finished pair is logged as it finishes, so an interrupted run keeps what it did, and
``done_inputs`` tells a resumed run which inputs already have a complete pair.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import BaseModel

from ..errors import ImportFormatError, RouteFailedError
from ..log.db import log_exists, log_location
from ..log.reader import LogReader
from ..log.records import RouteResult
from ..nesting import NestedTooDeeply, loads_within_depth
from ..route.router import Router
from ..text import sha256_text
from .judge import Judge, judge_outcomes

SOURCE = "shadow-run"


class ShadowInput(BaseModel):
    """One input of a shadow run."""

    line: int
    text: str
    reference: str | None = None
    id: str | None = None

    @property
    def sha256(self) -> str:
        return sha256_text(self.text)


class ShadowProgress(BaseModel):
    """Where a shadow run stands."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    spend_usd: float = 0.0
    escalated: int = 0
    judged: int = 0  # free-text pairs judged as they were made (``run_shadow(judge=...)``)
    judge_spend_usd: float = 0.0  # the cost of measuring, apart from ``spend_usd`` (serving)


def _row_text(obj: dict, line: int, path: Path) -> ShadowInput:
    text = obj.get("text", obj.get("input"))
    if not isinstance(text, str) or not text.strip():
        raise ImportFormatError(f"{path}, line {line}: needs a non-empty 'text' (or 'input') string.")
    ref = obj.get("reference")
    ident = obj.get("id")
    return ShadowInput(
        line=line,
        text=text,
        reference=None if ref in (None, "") else str(ref),
        id=None if ident in (None, "") else str(ident),
    )


def read_inputs(path: str | Path) -> list[ShadowInput]:
    """The inputs of a JSONL or CSV file, read exactly; a bad line is an ``ImportFormatError``
    naming its number.

    A UTF-8 byte-order mark is accepted. CSV fields keep their line breaks (the csv module reads the
    file itself) and may be as long as the file; a JSONL line ends at ``\\n`` only (U+2028, U+0085
    and other characters ``str.splitlines`` treats as breaks are text), and JSON nested too deeply
    is a bad line, not a crash.
    """
    path = Path(path)
    if path.is_dir():
        raise ImportFormatError(f"{path} is a directory, not an input file.")
    try:
        raw = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFormatError(f"The input file {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"The input file {path} is not UTF-8 text (byte {exc.start}).") from None
    except OSError as exc:
        raise ImportFormatError(f"The input file {path} cannot be read: {exc.strerror}.") from None
    items = _read_csv(raw, path) if path.suffix.lower() == ".csv" else _read_jsonl(raw, path)
    if not items:
        raise ImportFormatError(f"The input file {path} has no inputs.")
    return items


def _read_csv(raw: str, path: Path) -> list[ShadowInput]:
    items: list[ShadowInput] = []
    reader = csv.DictReader(io.StringIO(raw, newline=""), strict=True)
    previous_limit = csv.field_size_limit()
    csv.field_size_limit(max(previous_limit, len(raw) + 1))  # a field may be the whole file
    try:
        fields = set(reader.fieldnames or [])
        if not fields & {"text", "input"}:
            raise ImportFormatError(
                f"{path}: the CSV needs a 'text' or 'input' column (it has {sorted(fields)})."
            )
        start = reader.line_num + 1  # the line a record starts on (a field may span several)
        try:
            for row in reader:
                items.append(_row_text(row, start, path))
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ImportFormatError(f"{path}, line {start}: {exc}.") from None
    finally:
        csv.field_size_limit(previous_limit)
    return items


def _read_jsonl(raw: str, path: Path) -> list[ShadowInput]:
    items: list[ShadowInput] = []
    for number, line in enumerate(raw.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        try:
            obj = loads_within_depth(line)
        except NestedTooDeeply as exc:
            raise ImportFormatError(f"{path}, line {number}: {exc}.") from None
        except json.JSONDecodeError as exc:
            raise ImportFormatError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from None
        if isinstance(obj, str):
            obj = {"text": obj}
        if not isinstance(obj, dict):
            raise ImportFormatError(f"{path}, line {number}: expected an object with a 'text' field.")
        items.append(_row_text(obj, number, path))
    return items


def definition_prefix(router: Router, task: str, labels: Sequence[str] | None = None) -> str:
    """The request-id prefix of a shadow run's rows: a digest of the task's definition (its name,
    instructions, answer schema and labels) and the models, so ``--resume`` skips only inputs paired
    under the same definition; a changed one starts fresh pairs."""
    spec = router.task(task, labels=labels)
    definition = {
        "task": spec.name,
        "instructions": spec.instructions,
        "labels": list(spec.labels),
        "schema": spec.output_model.model_json_schema(),
        "max_tokens": spec.max_tokens,
        "models": [tier.model for tier in router.tiers],
    }
    return "shd" + sha256_text(json.dumps(definition, sort_keys=True, default=str))[:12] + "_"


def done_inputs(db_path: str | Path, task: str, prefix: str | None = None) -> set[str]:
    """sha256 of inputs that already have a shadow pair (cheap and shadow rows, answered) for
    ``task``; with ``prefix``, only pairs made under that definition (``definition_prefix``)."""
    path = log_location(db_path)
    if not log_exists(path):
        return set()
    with LogReader(path) as reader:
        return reader.finished_shadow_inputs(task, SOURCE, prefix=prefix)


async def run_shadow(
    router: Router,
    task: str,
    items: Sequence[ShadowInput],
    *,
    labels: Sequence[str] | None = None,
    concurrency: int = 8,
    skip: set[str] | None = None,
    stop: threading.Event | None = None,
    on_progress: Callable[[ShadowProgress], None] | None = None,
    judge: Judge | None = None,
) -> ShadowProgress:
    """Route every input through ``router`` (which must be in shadow mode), ``concurrency`` at a time.

    Inputs whose sha256 is in ``skip`` are not sent. When ``stop`` is set no new input starts and
    the ones in flight finish, so every finished pair stays logged. With ``judge``, every free-text
    pair (both answers given) is judged as soon as it is made, its verdict logged with it.
    """
    if router.mode != "shadow":
        raise ValueError("run_shadow needs a Router in shadow mode")
    if judge is not None and router.pair_observer is not None:
        raise ValueError("the router already judges its pairs: pass judge=None")
    skip = skip or set()
    progress = ShadowProgress(total=len(items))
    todo: list[ShadowInput] = []
    seen: set[str] = set()
    for item in items:
        digest = item.sha256
        # The log's digest of the input: keyed when inputs are not stored (``privacy.py``).
        if router.keeper.input_digest(item.text, digest) in skip or digest in seen:
            progress.skipped += 1  # done in an earlier run, or repeated here (paired once)
        else:
            seen.add(digest)
            todo.append(item)
    if on_progress:
        on_progress(progress)
    queue: asyncio.Queue[ShadowInput] = asyncio.Queue()
    for item in todo:
        queue.put_nowait(item)

    async def worker() -> None:
        while not (stop is not None and stop.is_set()):
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                result = await router.route(task, item.text, labels=labels, reference=item.reference)
            except RouteFailedError:
                progress.failed += 1
            else:
                progress.done += 1
                progress.spend_usd += result.cost_usd
                progress.escalated += int(result.escalated)
                if judge is not None:
                    await _judge_result(judge, task, item, result, progress)
            if on_progress:
                on_progress(progress)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return progress


async def _judge_result(
    judge: Judge, task: str, item: ShadowInput, result: RouteResult, progress: ShadowProgress
) -> None:
    verdict = await judge_outcomes(
        judge, result.request_id, task, item.text, result.calls[0], result.calls[-1]
    )
    if verdict is not None:
        progress.judge_spend_usd += verdict.cost_usd
        progress.judged += verdict.verdict is not None
