"""Paired outcomes folded into a small table: what the threshold analysis needs, in bounded memory.

``read_table(reader, task)`` streams one lean row per paired request from the log
(``LogReader.pair_outcome_rows``), decides each pair's outcome once with the same functions as
``pairs.load_pairs`` (``pairs.compare_answers``, ``pairs.decide_outcome``) and folds it into a
``Part`` per (task, source, judged): counts and cost sums per distinct confidence (``Cell``), the
ten calibration bins, the counts the notes, the guarantee's footing, the per-task quality, the
production estimate and the judge check rest on, and the few pairs shown as examples. Memory
grows with tasks × distinct confidences, never with pairs. ``table_of(pairs)`` folds a list of
``Pair`` the same way (tests and callers holding a few pairs); ``PairTable.scope`` merges parts.

**Continuous confidences.** A part with more than ``MAX_EXACT`` distinct confidences keeps one
cell per *fine* cell instead: the 0.001 grid plus the thresholds asked for (``extra``: the
``--threshold`` and the settings' one), a confidence c falling in the cell of the highest
boundary b with c ≥ b − 1e-12 (the sweep's own rule: escalated when c < t − 1e-12). Every
threshold the sweep then evaluates is a boundary, so each figure at it is exact; the candidates
are the boundaries rather than the distinct confidences (which would be a row per pair).
Calibration bins are kept apart, from each pair's own confidence, so they stay exact.
"""

from __future__ import annotations

import heapq
import itertools
import math
import os
import sys
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from ..compare import loads_answer
from ..formatting import plural
from ..log.reader import IMPORT_MODE, LogReader
from ..log.records import JUDGE_VERDICTS
from . import spotcheck
from .pairs import (
    PAIR_ROLES,
    Pair,
    compare_answers,
    decide_outcome,
    judge_of,
    pair_from_rows,
)

MAX_EXACT = 2000  # distinct confidences a part keeps exactly; beyond, per fine cell
FINE_STEP = 0.001
CALIBRATION_BINS = 10
WRONG_EXAMPLES = 20  # confidently wrong pairs kept per part (the calibration shows 20)
DISAGREEMENTS = 10  # costliest disagreements kept per part
TIE = 1e-12  # escalated when confidence < threshold - TIE, as the sweep has always counted


class Facts(NamedTuple):
    """What the table needs of one pair (the attributes ``Pair`` has under the same names)."""

    request_id: str
    order: int  # the pair's place in ``load_pairs`` order (its first row's id)
    task: str
    source: str
    cheap_model: str
    strong_model: str
    confidence: float | None
    cheap_correct: bool
    strong_correct: bool
    cheap_by_agreement: bool
    strong_assumed: bool
    agree: bool
    cheap_cost_usd: float | None
    strong_cost_usd: float | None
    correct_source: str | None
    judge_verdict: str | None
    human_label: str | None
    field_agreement: dict | None
    has_reference: bool
    audit_share: float | None
    ts: float | None

    @property
    def judged(self) -> bool:
        return self.correct_source is not None

    @property
    def priced(self) -> bool:
        return self.cheap_cost_usd is not None and self.strong_cost_usd is not None


def facts_of_pair(pair: Pair, order: int) -> Facts:
    return Facts(
        pair.request_id,
        order,
        *(getattr(pair, f) for f in Facts._fields[2:18]),
        pair.reference is not None,
        pair.audit_share,
        pair.ts,
    )


class Cell:
    """The pairs of one confidence (or fine cell): counts and the costs of the priced ones."""

    __slots__ = (
        "value",
        "order",
        "n",
        "cheap_correct",
        "strong_correct",
        "lost",
        "priced",
        "cheap_cost",
        "strong_cost",
    )

    def __init__(self, value: float, order: int):
        self.value, self.order = value, order
        self.n = self.cheap_correct = self.strong_correct = self.lost = self.priced = 0
        self.cheap_cost = self.strong_cost = 0.0

    def merge(self, other: Cell) -> None:
        self.order = min(self.order, other.order)
        for name in ("n", "cheap_correct", "strong_correct", "lost", "priced", "cheap_cost", "strong_cost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def fine_boundaries(extra: Iterable[float | None] = ()) -> list[float]:
    """The fine cells' lower boundaries: the 0.001 grid and ``extra`` thresholds, ascending."""
    seen = {round(i * FINE_STEP, 9): round(i * FINE_STEP, 3) for i in range(round(1 / FINE_STEP) + 1)}
    for t in extra:
        if t is not None:
            seen.setdefault(round(t, 9), t)
    return sorted(seen.values())


def _fine_key(value: float, bounds: list[float], edges: list[float]) -> float:
    return bounds[max(0, bisect_right(edges, value) - 1)]


def collapse(cells: dict, bounds: list[float]) -> dict:
    """Exact cells regrouped into fine cells (``None``, the failed calls, stays apart)."""
    edges = [b - TIE for b in bounds]
    out: dict = {}
    for key, cell in cells.items():
        fine = None if key is None else _fine_key(key, bounds, edges)
        into = out.get(fine)
        if into is None:
            into = out[fine] = Cell(-1.0 if fine is None else fine, cell.order)
        into.merge(cell)
    return out


class Part:
    """The pairs of one (task, source, judged): everything the analysis reads, in bounded memory.

    What does not vary from pair to pair (source of correctness, models, priced or not, the fields'
    agreement...) is counted per distinct *profile*, so a pair costs one Counter update for it.
    """

    def __init__(self, task: str, source: str, bounds: list[float]):
        self.task, self.source = task, source
        self.bounds = bounds
        self.edges = [b - TIE for b in bounds]
        self.fine = False  # cells per fine cell (more than MAX_EXACT distinct confidences)
        self._fine: dict[float, float] = {}
        self.n = 0
        self.first = 0  # order of the part's first pair
        self.cells: dict = {}
        self.bins = [[0, 0.0, 0] for _ in range(CALIBRATION_BINS)]  # count, confidence sum, cheap right
        self.profiles: Counter = Counter()
        self._derived: dict | None = None
        # Production: audits weighted by 1 / audit share.
        self.weighted = self.naive_right = self.unweighted = 0
        self.weight = self.weight_right = self.weight_sq = 0.0
        # The judge against people: verdicts, and (judge right, person right) on the spot checks.
        self.verdicts = self.judge_right = self.chosen_labels = 0
        self.spot: Counter = Counter()
        self.wrong: list = []  # heap of the most confident wrong answers
        self.differ: list = []  # heap of the costliest disagreements

    def add(self, f: Facts, item: object) -> None:
        """Fold one pair in; ``item`` (the Pair, or its request id) is kept if it is an example."""
        if not self.n or f.order < self.first:
            self.first = f.order  # the earliest pair, whatever order the stream brings them in
        self.n += 1
        self._derived = None
        conf = f.confidence
        cell = self.cells.get(conf if conf is None or not self.fine else self._fine_of(conf))
        if cell is None:
            key = conf if conf is None or not self.fine else self._fine_of(conf)
            cell = self.cells[key] = Cell(-1.0 if key is None else key, f.order)
            if not self.fine and len(self.cells) > MAX_EXACT:
                self._go_fine()
                cell = self.cells[self._fine_of(conf)]  # type: ignore[arg-type]
        cell.n += 1
        cell.cheap_correct += f.cheap_correct
        cell.strong_correct += f.strong_correct
        if not f.cheap_correct and f.strong_correct and conf is not None:
            cell.lost += 1
        if f.cheap_cost_usd is not None and f.strong_cost_usd is not None:
            cell.priced += 1
            cell.cheap_cost += f.cheap_cost_usd
            cell.strong_cost += f.strong_cost_usd
        if conf is not None:
            b = self.bins[min(CALIBRATION_BINS - 1, math.floor(conf * CALIBRATION_BINS + 1e-9))]
            b[0] += 1
            b[1] += conf
            b[2] += f.cheap_correct
            if not f.cheap_correct:
                _keep(self.wrong, (conf, -f.order), item, WRONG_EXAMPLES)
        fields = f.field_agreement
        self.profiles[
            (
                f.correct_source,
                f.has_reference,
                f.cheap_by_agreement,
                f.strong_assumed,
                conf is None,
                f.cheap_model,
                f.strong_model,
                f.cheap_cost_usd is None,
                f.strong_cost_usd is None,
                None if fields is None else tuple(fields.items()),
                f.strong_correct,
            )
        ] += 1
        if not f.agree:
            cost = f.cheap_cost_usd + f.strong_cost_usd if f.priced else None  # type: ignore[operator]
            _keep(self.differ, (cost is not None, cost or 0.0, -f.order), item, DISAGREEMENTS)
        if self.source == "audit" or f.judge_verdict is not None:
            self._add_estimates(f)

    def merge(self, other: Part) -> None:
        """Fold in the part of the same (task, source, judged) read from another share of the log
        (``read_table``'s workers): the same table as one pass over both shares, bar the last bits
        of float sums, which are added in another order."""
        if not other.n:
            return
        self.first = other.first if not self.n else min(self.first, other.first)
        self.n += other.n
        self._derived = None
        for key, cell in other.cells.items():
            into = self.cells.get(key)
            if into is None:
                self.cells[key] = cell
            else:
                into.merge(cell)
        if other.fine or (not self.fine and len(self.cells) > MAX_EXACT):
            self._go_fine()  # collapsing is a function of the key: merged then collapsed is the same
        for mine, theirs in zip(self.bins, other.bins, strict=True):
            for i in range(3):
                mine[i] += theirs[i]
        self.profiles.update(other.profiles)
        self.spot.update(other.spot)
        for name in ("weighted", "naive_right", "unweighted", "weight", "weight_right", "weight_sq"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("verdicts", "judge_right", "chosen_labels"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, size in (("wrong", WRONG_EXAMPLES), ("differ", DISAGREEMENTS)):
            kept = heapq.nlargest(size, [*getattr(self, name), *getattr(other, name)])
            heapq.heapify(kept)
            setattr(self, name, kept)

    def _add_estimates(self, f: Facts) -> None:
        if self.source == "audit" and f.judged:  # an audit nobody can score says nothing of production
            if f.audit_share:
                w = 1.0 / f.audit_share
                self.weighted += 1
                self.weight += w
                self.weight_right += w * (1.0 if f.cheap_correct else 0.0)
                self.weight_sq += w * w
                self.naive_right += f.cheap_correct
            else:
                self.unweighted += 1
        if f.judge_verdict is not None:
            judge_right = spotcheck.judge_says_cheap_right(f.judge_verdict)
            self.verdicts += 1
            self.judge_right += judge_right
            if f.human_label is not None:
                if spotcheck.in_spot_check(f.request_id):  # looked up here, as judge_check does
                    self.spot[(judge_right, spotcheck.human_says_cheap_right(f.human_label))] += 1
                else:
                    self.chosen_labels += 1

    def __getattr__(self, name: str):
        """The figures counted per profile (``correct_sources``, ``referenced``, ``unpriced``...)."""
        if name.startswith("_") or name not in _DERIVED:
            raise AttributeError(name)
        if self._derived is None:
            self._derived = self._derive()
        return self._derived[name]

    def _derive(self) -> dict:
        out: dict = {
            "correct_sources": Counter(),
            "field_seen": Counter(),
            "field_agree": Counter(),
            "cheap_models": set(),
            "strong_models": set(),
            "unpriced": set(),
        }
        out.update(
            dict.fromkeys(("referenced", "by_agreement", "strong_assumed", "failed_kept", "structured"), 0)
        )
        out.update(strong_known=0, strong_known_right=0)
        for profile, n in self.profiles.items():
            (
                source,
                has_ref,
                by_agreement,
                assumed,
                failed,
                cheap,
                strong,
                cheap_free,
                strong_free,
                fields,
                right,
            ) = profile
            out["correct_sources"][source] += n
            out["referenced"] += n * (source == "reference" and has_ref)
            out["by_agreement"] += n * by_agreement
            out["strong_assumed"] += n * assumed
            out["failed_kept"] += n * (source == "failure" and not failed)
            out["cheap_models"].add(cheap)
            out["strong_models"].add(strong)
            if cheap_free:
                out["unpriced"].add(cheap)
            if strong_free:
                out["unpriced"].add(strong)
            if fields is not None:
                out["structured"] += n
                for name, same in fields:
                    out["field_seen"][name] += n
                    out["field_agree"][name] += n * same
            if self.source != "audit" and not assumed:  # the strong model's accuracy, for production
                out["strong_known"] += n
                out["strong_known_right"] += n * right
        return out

    def _fine_of(self, conf: float) -> float:
        """The fine cell of a confidence, remembered: confidences with few decimals repeat."""
        key = self._fine.get(conf)
        if key is None:
            key = _fine_key(conf, self.bounds, self.edges)
            if len(self._fine) < MAX_EXACT * 8:
                self._fine[conf] = key
        return key

    def _go_fine(self) -> None:
        self.cells = collapse(self.cells, self.bounds)
        self.fine = True


_DERIVED = frozenset(
    (
        "correct_sources",
        "field_seen",
        "field_agree",
        "cheap_models",
        "strong_models",
        "unpriced",
        "referenced",
        "by_agreement",
        "strong_assumed",
        "failed_kept",
        "structured",
        "strong_known",
        "strong_known_right",
    )
)


def _keep(heap: list, rank: tuple, item: object, size: int) -> None:
    """Keep the ``size`` items of highest ``rank`` (ties: the earliest pair, as a stable sort)."""
    entry = (rank, item)
    if len(heap) < size:
        heapq.heappush(heap, entry)
    elif rank > heap[0][0]:
        heapq.heapreplace(heap, entry)


class PairScope:
    """Parts merged: one task's pairs or all, with or without audits; what ``analysis.sweep`` takes."""

    def __init__(self, parts: list[Part], bounds: list[float], items: dict):
        self.parts = parts
        self.bounds = bounds
        self._items = items  # request id -> Pair of the examples kept (read once the stream ended)
        self.n = sum(p.n for p in parts)
        self.fine = any(p.fine for p in parts)
        merged: dict = {}
        for part in parts:
            for key, cell in part.cells.items():
                into = merged.get(key)
                if into is None:
                    into = merged[key] = Cell(cell.value, cell.order)
                into.merge(cell)
        # Collapsing is a function of the key, so merging first and collapsing after is the same.
        if self.fine or len(merged) > MAX_EXACT:
            merged, self.fine = collapse(merged, bounds), True
        self.cells = sorted(merged.values(), key=lambda c: c.value)

    def __len__(self) -> int:
        return self.n

    @property
    def failed(self) -> int:
        """Pairs whose cheap call failed (no confidence): escalated at every threshold."""
        return sum(c.n for c in self.cells if c.value < 0)

    @property
    def tasks(self) -> list[str]:
        """Tasks in order of their first pair."""
        first: dict[str, int] = {}
        for p in self.parts:
            first[p.task] = min(first.get(p.task, p.first), p.first)
        return sorted(first, key=lambda t: first[t])

    def of_task(self, task: str) -> PairScope:
        return PairScope([p for p in self.parts if p.task == task], self.bounds, self._items)

    def source_counts(self) -> dict[str, int]:
        """Pairs per origin (import, shadow, audit), sorted by name."""
        out: Counter = Counter()
        for p in self.parts:
            out[p.source] += p.n
        return dict(sorted((k, v) for k, v in out.items() if v))

    def total(self, name: str) -> int:
        """A count summed over the parts."""
        return sum(getattr(p, name) for p in self.parts)

    def total_cells(self, name: str) -> int:
        """A cell count summed over the cells (``cheap_correct``, ``strong_correct``, ``lost``)."""
        return sum(getattr(c, name) for c in self.cells)

    def counter(self, name: str) -> Counter:
        out: Counter = Counter()
        for p in self.parts:
            out.update(getattr(p, name))
        return out

    def union(self, name: str) -> set:
        return set().union(*(getattr(p, name) for p in self.parts))

    def examples(self, name: str, size: int) -> list[Pair]:
        """The ``size`` pairs of highest rank across the parts (``wrong`` or ``differ``)."""
        entries = heapq.nlargest(size, itertools.chain.from_iterable(getattr(p, name) for p in self.parts))
        return [self._items[item] if isinstance(item, str) else item for _rank, item in entries]


class PairTable:
    """Every part of the log's pairs (or of a list), by (task, source, judged)."""

    def __init__(self, extra: Iterable[float | None] = ()):
        self.bounds = fine_boundaries(extra)
        self.parts: dict[tuple[str, str, bool], Part] = {}
        self.items: dict[str, Pair] = {}

    def add(self, f: Facts, item: object) -> None:
        key = (f.task, f.source, f.judged)
        part = self.parts.get(key)
        if part is None:
            part = self.parts[key] = Part(f.task, f.source, self.bounds)
        part.add(f, item)

    def scope(self, task: str | None = None, *, judged: bool | None = True, audits: bool = True) -> PairScope:
        """The merged parts of ``task`` (all tasks: ``None``); ``judged`` None: judged or not."""
        chosen = [
            p
            for (t, source, is_judged), p in self.parts.items()
            if (task is None or t == task)
            and (judged is None or is_judged == judged)
            and (audits or source != "audit")
        ]
        return PairScope(chosen, self.bounds, self.items)

    def unjudged(self, task: str | None = None) -> int:
        return self.scope(task, judged=False).n

    def swept(self, task: str | None = None) -> tuple[PairScope, str | None]:
        """The judged pairs a sweep may use, and a note on the audits left out (``analysis.sweep_pairs``)."""
        scope = self.scope(task)
        origins = scope.source_counts()
        if origins.get("audit") and len(origins) > 1:
            return self.scope(task, audits=False), audits_left_out(origins["audit"])
        return scope, None


def audits_left_out(audits: int) -> str:
    """The note for audit pairs left out of a sweep that has shadow or imported pairs too."""
    return (
        f"{plural(audits, 'audit pair')} {'is' if audits == 1 else 'are'} left out of the "
        "sweep (audits sample only the answers the cheap model kept); they measure the accuracy in "
        "production instead."
    )


def table_of(pairs: Iterable[Pair], extra: Iterable[float | None] = ()) -> PairTable:
    """The table of pairs already read (in their order)."""
    table = PairTable(extra)
    for order, pair in enumerate(pairs):
        table.add(facts_of_pair(pair, order), pair)
    return table


# -- reading the log --------------------------------------------------------------------------------


def stream_facts(
    reader: LogReader,
    task: str | None = None,
    *,
    audits_by_time: bool = False,
    share: tuple[int, int] | None = None,
) -> Iterator[Facts]:
    """The log's pairs as ``Facts``, judged or not, each decided exactly as ``load_pairs`` decides it
    and carrying its ``load_pairs`` order (``Facts.order``); streamed in no particular order
    (``audits_by_time``: only audits, by task and oldest first; ``share=(after, up_to)``: the pairs whose strong
    row's id is in that range)."""
    roles = ("audit",) if audits_by_time else PAIR_ROLES
    decided: dict = {}  # a pair's outcome depends on these columns only: decided once per distinct set
    for row in reader.pair_outcome_rows(roles, task, by_time=audits_by_time, share=share):
        request_id = row[0]
        key = row[3:6] + row[9:15] + row[20:22]  # modes, role, answers, errors, correct, label, judge
        outcome = decided.get(key)
        if outcome is None:
            outcome = _decide(reader, request_id, *key)
            if outcome[-1]:  # a verdict read from the request's own rows is not reusable
                if len(decided) >= MAX_DECIDED:
                    decided.clear()
                decided[key] = outcome
        if outcome[0] is None:
            continue  # a live strong call that failed: nothing to compare with
        source, cheap_failed, cheap_correct, strong_correct, correct_source, by_agreement, strong_assumed = (
            outcome[:7]
        )
        agree, fields, verdict = outcome[7:10]
        yield Facts(
            request_id,
            row[1],
            row[2],
            source,
            row[6],
            row[7],
            row[8] if not cheap_failed or row[3] == IMPORT_MODE else None,
            cheap_correct,
            strong_correct,
            by_agreement,
            strong_assumed,
            agree,
            row[15],
            row[16],
            correct_source,
            verdict,
            row[20],
            fields,
            bool(row[17]),
            row[18],
            row[19],
        )


MAX_DECIDED = 4096  # distinct outcome inputs remembered (labels repeat; free text does not)


def _decide(reader, request_id, mode, role, strong_mode, cheap_answer, cheap_error, cheap_logged, strong_answer,
            strong_error, strong_logged, label, judge_answer) -> tuple:  # fmt: skip
    """One pair's outcome from its columns (``pairs.compare_answers``, ``pairs.decide_outcome``):
    (source, cheap failed, cheap right, strong right, correct source, by agreement, strong assumed,
    agree, fields, verdict, reusable); source ``None`` when the pair is left out."""
    strong_failed = strong_answer is None or strong_error is not None
    if strong_failed and strong_mode != IMPORT_MODE:
        return (None,) + (None,) * 9 + (True,)
    cheap_failed = cheap_answer is None or cheap_error is not None
    kind, agree, fields = compare_answers(cheap_answer, strong_answer, cheap_failed or strong_failed)
    verdict, reusable = _verdict(judge_answer), True
    if judge_answer is not None and verdict is None:
        judged = judge_of(reader.request_calls(request_id))  # the latest answered verdict is unusable
        verdict, reusable = (judged[1] if judged else None), False
    decided = decide_outcome(
        label=label,
        cheap_failed=cheap_failed,
        cheap_logged=None if cheap_logged is None else bool(cheap_logged),
        strong_failed=strong_failed,
        strong_logged=None if strong_logged is None else bool(strong_logged),
        verdict=verdict,
        kind=kind,
        agree=agree,
        structured=fields is not None,
    )
    source = "import" if mode == IMPORT_MODE else role
    return (source, cheap_failed, *decided, agree, fields, verdict, reusable)


def _verdict(answer: str | None) -> str | None:
    """The verdict of a judge row's answer, ``None`` when it carries none (``pairs.judge_of``)."""
    value = loads_answer(answer)
    if isinstance(value, dict) and value.get("verdict") in JUDGE_VERDICTS:
        return value["verdict"]
    return None


# Past this many pairs the table is read by one process per core, each a share of the pairs: the
# read is Python per pair (deciding and folding), so on 2 cores 1M pairs take about half as long.
PARALLEL_PAIRS = 200_000
MAX_WORKERS = 4


def read_table(
    reader: LogReader,
    task: str | None = None,
    extra: Iterable[float | None] = (),
    *,
    workers: int | None = None,
) -> PairTable:
    """The table of the log's pairs (one task's, or all), read in one pass in bounded memory; the
    few pairs kept as examples are then read in full (``load_pairs``' own ``Pair``).

    ``workers``: processes reading a share of the pairs each (default: one per core, up to
    ``MAX_WORKERS``, when the log holds more than ``PARALLEL_PAIRS`` pairs; 1 reads in this one)."""
    extra = tuple(extra)
    if workers is None:
        many = reader.paired_calls(PAIR_ROLES, task) > PARALLEL_PAIRS
        workers = min(MAX_WORKERS, os.cpu_count() or 1) if many and _can_spawn() else 1
    if workers > 1:
        table = _read_in_parallel(reader, task, extra, workers)
    else:
        table = _read_share(reader, task, extra, None)
    for part in table.parts.values():
        for _rank, item in [*part.wrong, *part.differ]:
            if isinstance(item, str) and item not in table.items:
                pair = pair_from_rows(reader.request_calls(item), reader.request_label(item))
                if pair is not None:
                    table.items[item] = pair
    return table


def _can_spawn() -> bool:
    """Whether worker processes can be started here: multiprocessing hands them this process's
    stderr, which an app that captures it (Textual does) has not got; such an app reads in one."""
    try:
        return sys.stderr is not None and sys.stderr.fileno() >= 0
    except (AttributeError, ValueError, OSError):
        return False


def _read_share(
    reader: LogReader, task: str | None, extra: tuple, share: tuple[int, int] | None
) -> PairTable:
    table = PairTable(extra)
    for f in stream_facts(reader, task, share=share):
        table.add(f, f.request_id)
    return table


def _read_share_of_log(location, task: str | None, extra: tuple, share: tuple[int, int]) -> PairTable:
    """A worker process's share: its own reader on the same log."""
    with LogReader(location) as reader:
        return _read_share(reader, task, extra, share)


def _read_in_parallel(reader: LogReader, task: str | None, extra: tuple, workers: int) -> PairTable:
    # Spawned, not forked: the caller may be a threaded app, and a fork copies only the calling thread.
    # Each worker reads in its own read transaction; the shares together are every pair of the log as
    # it stood when they started (a pair written meanwhile may be seen by one share and not another).
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    cuts = reader.pair_split_ids(PAIR_ROLES, task, workers)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [
            # The location itself, not its text: a PostgreSQL URL's text leaves its password out.
            pool.submit(_read_share_of_log, reader.path, task, extra, (cuts[k], cuts[k + 1]))
            for k in range(workers)
        ]
        shares = [f.result() for f in futures]
    table = shares[0]
    for other in shares[1:]:
        for key, part in other.parts.items():
            mine = table.parts.get(key)
            if mine is None:
                table.parts[key] = part
            else:
                mine.merge(part)
    return table
