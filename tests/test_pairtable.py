"""The pair table: the analysis in bounded memory gives the figures the all-pairs computation gave."""

from __future__ import annotations

import json
import math
import random

import pytest

from routermon.core.compare import answers_match, compare_fields
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord, HumanLabel
from routermon.core.log.store import CallLog, add_labels
from routermon.core.measure import spotcheck as judge_check_module
from routermon.core.measure.analysis import analyse, sweep, sweep_pairs
from routermon.core.measure.judge_check import cohens_kappa, judge_check, ppi_mean
from routermon.core.measure.pairs import Pair, load_pairs
from routermon.core.measure.pairtable import MAX_EXACT, PairTable, read_table, table_of
from routermon.core.measure.production import from_pairs

SOURCES = ("reference", "judge", "exact", "fields", "failure", "human")


def random_pairs(rng: random.Random, n: int, *, continuous: float = 0.1) -> list[Pair]:
    """Pairs of every kind the log can hold: failed calls, unpriced models, audits, verdicts, labels, fields."""
    out = []
    for i in range(n):
        r = rng.random()
        confidence = None if r < 0.05 else rng.random() if r < 0.05 + continuous else round(rng.random(), 2)
        fields = {"a": rng.random() < 0.8, "b": rng.random() < 0.6} if rng.random() < 0.3 else None
        source = rng.choice(SOURCES)
        out.append(
            Pair(
                request_id=f"r{i:05d}",
                task=rng.choice(("classify", "extract", "date")),
                source=rng.choice(("import", "shadow", "audit")),
                cheap_model=rng.choice(("haiku", "mini")),
                strong_model="sonnet",
                confidence=confidence,
                cheap_correct=rng.random() < 0.8,
                strong_correct=rng.random() < 0.95,
                cheap_by_agreement=source in ("exact", "fields"),
                strong_assumed=rng.random() < 0.3,
                agree=rng.random() < 0.7,
                cheap_cost_usd=None
                if rng.random() < 0.05
                else rng.choice((0.001, 0.002, rng.random() / 100)),
                strong_cost_usd=rng.choice((0.01, 0.02, rng.random() / 10)),
                cheap_answer=json.dumps(f"c{i}"),
                strong_answer=json.dumps(f"s{i}"),
                reference=None if rng.random() < 0.5 else "ref",
                correct_source=source,
                judge_verdict=rng.choice((None, "cheap_acceptable", "strong_better", "both_fail")),
                human_label=rng.choice((None, None, "cheap", "strong", "both", "neither")),
                field_agreement=fields,
                audit_share=rng.choice((None, 0.02, 0.1)),
                ts=1000.0 + i,
            )
        )
    return out


# -- the all-pairs computation the table replaced, kept tiny as the reference ----------------------


def _key(p: Pair) -> float:
    return -1.0 if p.confidence is None else p.confidence


def reference_row(pairs: list[Pair], t: float) -> tuple[int, int, float | None]:
    """(escalated, correct, cost per priced request) at threshold t, pair by pair."""
    escalated = [p for p in pairs if _key(p) < t - 1e-12]
    kept = [p for p in pairs if _key(p) >= t - 1e-12]
    correct = sum(p.strong_correct for p in escalated) + sum(p.cheap_correct for p in kept)
    priced = [p for p in pairs if p.priced]
    spend = sum(p.cheap_cost_usd for p in priced) + sum(p.strong_cost_usd for p in escalated if p.priced)
    return len(escalated), correct, spend / len(priced) if priced else None


def reference_calibration(pairs: list[Pair], threshold: float) -> tuple[list, int, list[str]]:
    judged = [p for p in pairs if p.confidence is not None]
    bins: list[list[Pair]] = [[] for _ in range(10)]
    for p in judged:
        bins[min(9, math.floor(p.confidence * 10 + 1e-9))].append(p)
    counts = [(len(b), sum(p.cheap_correct for p in b)) for b in bins]
    wrong = [p for p in judged if p.confidence >= threshold - 1e-12 and not p.cheap_correct]
    wrong.sort(key=lambda p: -p.confidence)
    return counts, len(wrong), [p.request_id for p in wrong[:20]]


def reference_disagreements(pairs: list[Pair]) -> list[str]:
    differ = [p for p in pairs if not p.agree]
    cost = {p.request_id: p.cheap_cost_usd + p.strong_cost_usd if p.priced else None for p in differ}
    differ.sort(key=lambda p: (cost[p.request_id] is None, -(cost[p.request_id] or 0.0)))
    return [p.request_id for p in differ[:10]]


@pytest.mark.parametrize("seed", range(12))
def test_the_table_gives_the_all_pairs_figures(seed):
    """On random pair sets (exact and continuous confidences), every count the sweep, the guarantee,
    the calibration, the examples and the per-task view show is the one counted pair by pair."""
    rng = random.Random(seed)
    pairs = random_pairs(rng, rng.choice((5, 80, 400, 3000)), continuous=rng.choice((0.0, 0.1, 0.9)))
    result = sweep(pairs, max_loss=0.05)
    assert result.pairs == len(pairs)
    for row in result.rows:
        escalated, correct, cost = reference_row(pairs, row.threshold)
        assert (row.escalated, row.correct) == (escalated, correct)
        assert row.cost_per_request_usd == pytest.approx(cost, rel=1e-9)
    for step in result.guarantee.steps:
        lost = [p for p in pairs if p.confidence is not None and not p.cheap_correct and p.strong_correct]
        assert step.losses == sum(p.confidence >= step.threshold - 1e-12 for p in lost)
    counts, wrong, examples = reference_calibration(pairs, result.chosen_threshold)
    assert [(b.count, round((b.accuracy or 0) * b.count)) for b in result.calibration.bins] == counts
    assert result.calibration.confidently_wrong == wrong
    assert [e.request_id for e in result.calibration.examples] == examples
    assert [e.request_id for e in result.disagreements] == reference_disagreements(pairs)
    assert result.sources == {s: sum(p.source == s for p in pairs) for s in sorted({p.source for p in pairs})}
    for stats in result.per_task:
        group = [p for p in pairs if p.task == stats.task]
        escalated, correct, _cost = reference_row(group, result.chosen_threshold)
        assert (stats.pairs, stats.quality.cheap_correct) == (len(group), sum(p.cheap_correct for p in group))
        assert stats.escalation_share == escalated / len(group) and stats.accuracy == correct / len(group)
        structured = [p.field_agreement for p in group if p.field_agreement is not None]
        assert {f.field: f.agree for f in stats.quality.fields} == (
            {name: sum(f[name] for f in structured) for name in ("a", "b")} if structured else {}
        )


@pytest.mark.parametrize("seed", range(6))
def test_production_and_judge_check_equal_the_pair_by_pair_formulas(seed, monkeypatch):
    """Weighted audits and the judge against people, from counts, equal the formulas over the pairs."""
    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: request_id[-1] in "02468")
    pairs = random_pairs(random.Random(seed), 500)
    est = from_pairs(pairs, (700, 200, 100))
    audits = [p for p in pairs if p.source == "audit" and p.judged and p.audit_share]
    weights = [1 / p.audit_share for p in audits]
    kept = sum(w * p.cheap_correct for w, p in zip(weights, audits, strict=True)) / sum(weights)
    others = [p for p in pairs if p.source != "audit" and not p.strong_assumed]
    strong = sum(p.strong_correct for p in others) / len(others)
    assert est.audits == len(audits) and est.kept_accuracy == pytest.approx(kept, rel=1e-12)
    assert est.accuracy == pytest.approx(0.7 * kept + 0.2 * strong, rel=1e-12)
    check = judge_check(pairs)
    judged = [p for p in pairs if p.judge_verdict is not None]
    both = [p for p in judged if p.human_label is not None and p.request_id[-1] in "02468"]
    f = [p.judge_verdict == "cheap_acceptable" for p in both]
    y = [p.human_label in ("cheap", "both") for p in both]
    theta, low, high = ppi_mean([float(p.judge_verdict == "cheap_acceptable") for p in judged], f, y)
    assert (check.judged, check.labelled) == (len(judged), len(both))
    assert check.kappa == pytest.approx(cohens_kappa(f, y), rel=1e-12)
    assert check.ppi_accuracy == pytest.approx(min(1, max(0, theta)), rel=1e-12)
    assert (check.ppi_low, check.ppi_high) == (
        pytest.approx(min(1, max(0, low)), rel=1e-9),
        pytest.approx(min(1, max(0, high)), rel=1e-9),
    )


def test_memory_is_bounded_by_confidences_not_pairs():
    """However many pairs, a part holds at most one cell per distinct confidence (up to MAX_EXACT),
    then one per fine cell, a bounded set of profiles and at most 30 examples."""
    rng = random.Random(5)
    table = table_of(random_pairs(rng, 30_000, continuous=1.0))  # about 3,300 a part: past MAX_EXACT
    limit = max(MAX_EXACT, len(table.bounds)) + 1
    for part in table.parts.values():
        assert part.n > MAX_EXACT and part.fine and len(part.cells) <= len(table.bounds) + 1
        assert len(part.wrong) <= 20 and len(part.differ) <= 10
        assert len(part.profiles) < 500  # combinations of source, models, priced, fields: not pairs
    few = table_of(random_pairs(rng, 30_000, continuous=0.0))  # two decimals: 101 confidences and failures
    assert all(not p.fine and len(p.cells) <= 102 for p in few.parts.values())
    small = table_of(random_pairs(rng, 900, continuous=1.0))  # under MAX_EXACT a part: exact cells
    assert all(not p.fine and len(p.cells) <= min(limit, p.n) for p in small.parts.values())


def test_thresholds_asked_for_are_exact_among_continuous_confidences():
    """With continuous confidences, a threshold off the 0.001 grid given up front is a cell boundary."""
    pairs = random_pairs(random.Random(9), 6000, continuous=1.0)
    result = sweep(pairs, threshold=0.7234, default_threshold=0.6111)
    assert len(result.rows) <= 1003
    for t in (0.7234, 0.6111):
        row = result.row_at(t)
        assert row is not None and (row.escalated, row.correct) == reference_row(pairs, t)[:2]
    counts, wrong, examples = reference_calibration(pairs, 0.7234)
    assert result.calibration.confidently_wrong == wrong
    assert [e.request_id for e in result.calibration.examples] == examples


def test_answer_comparison_is_reflexive():
    """``pairs.compare_answers`` skips comparing an answer with the same text: that holds only if
    every comparison says an answer agrees with itself."""
    values = [
        "Safe",
        " 12,5 ",
        "2021-05-01",
        3.0,
        float("nan"),
        None,
        True,
        [1, "a"],
        {"x": {"y": [None, 2]}},
        "",
    ]
    for v in values:
        assert answers_match(v, v)
        assert all(compare_fields({"f": v, "g": values}, {"f": v, "g": values}).values())


# -- the log, read in one pass, against load_pairs ----------------------------------------------------


def _row(request_id: str, role: str, tier: int, **kw) -> CallRecord:
    base = {
        "ts": 1000.0,
        "request_id": request_id,
        "task": "classify",
        "mode": "shadow",
        "source": "test",
        "model": "claude-haiku-4-5" if role == "cheap" else "claude-sonnet-4-6",
        "role": role,
        "tier": tier,
        "input_tokens": 10,
        "output_tokens": 2,
        "cost_usd": 0.001 if role == "cheap" else 0.01,
        "input_sha256": request_id,
        "final": True,
    }
    return CallRecord(**{**base, **kw})


def build_mixed_log(path, seed: int = 1) -> None:
    """Every kind of pair the log holds: imports with and without `correct`, shadow pairs (labels,
    free text, fields), audits with a share, failed cheap and strong calls, judges (one unusable),
    labels, and requests with a second strong or cheap row."""
    rng = random.Random(seed)
    rows: list[CallRecord] = []
    labels = []
    for i in range(400):
        rid, ts = f"q{i:04d}", 1000.0 + i
        kind = rng.choice(("label", "text", "fields"))
        right = rng.random() < 0.8
        if kind == "label":
            cheap, strong = ("safe" if right else "unsafe"), "safe"
        elif kind == "text":
            cheap = strong = "a summary of more than five words here"
            if not right:
                cheap += " but wrong"
        else:
            cheap, strong = {"total": 12 if right else 13, "name": "Acme"}, {"total": 12, "name": "ACME "}
        mode = rng.choice(("import", "shadow", "cascade"))
        role = {"import": "shadow", "shadow": "shadow", "cascade": "audit"}[mode]
        task = {"label": "classify", "text": "summarize", "fields": "extract"}[kind]
        cheap_failed = rng.random() < 0.05
        strong_failed = rng.random() < 0.05
        common = {"ts": ts, "task": task, "mode": mode, "audit_share": 0.1 if mode == "cascade" else None}
        rows.append(
            _row(
                rid,
                "cheap",
                0,
                **common,
                confidence=rng.choice((round(rng.random(), 2), None if cheap_failed else 0.9)),
                answer=None if cheap_failed else json.dumps(cheap),
                error_type="no_answer" if cheap_failed else None,
                correct=rng.choice((None, right)) if mode == "import" else None,
                reference="ref" if mode == "import" and rng.random() < 0.5 else None,
            )
        )
        if i % 41 == 0:  # a strong row of a later tier logged first: the lower tier still makes the pair
            rows.append(_row(rid, role, 2, **{**common, "ts": ts + 0.2}, answer=json.dumps("tier two")))
        rows.append(
            _row(
                rid,
                role,
                1,
                **{**common, "ts": ts + 0.5},
                answer=None if strong_failed else json.dumps(strong),
                error_type="no_answer" if strong_failed else None,
                correct=rng.choice((None, True)) if mode == "import" else None,
            )
        )
        if i % 37 == 0:  # a second strong row and a second cheap row: the first of each makes the pair
            rows.append(_row(rid, role, 1, **{**common, "ts": ts + 0.7}, answer=json.dumps("other")))
            rows.append(_row(rid, "cheap", 0, **{**common, "ts": ts + 0.8}, confidence=0.01, answer='"x"'))
        if kind == "text" and rng.random() < 0.6:
            verdict = rng.choice(("cheap_acceptable", "strong_better", "both_fail"))
            judge = {"verdict": verdict, "cheap_first": True}
            rows.append(_row(rid, "judge", 0, ts=ts + 1, task=task, mode="judge", answer=json.dumps(judge)))
            if rng.random() < 0.2:  # a later judge row whose answer is unusable: the earlier verdict stands
                rows.append(_row(rid, "judge", 0, ts=ts + 2, task=task, mode="judge", answer='"garbled"'))
        if rng.random() < 0.15:
            labels.append(
                HumanLabel(request_id=rid, label=rng.choice(("cheap", "strong", "both")), labeller="a")
            )
    with CallLog(path) as log:
        log.log_many(rows)
    add_labels(path, labels)


@pytest.mark.parametrize("task", [None, "summarize"])
def test_reading_the_log_in_one_pass_equals_load_pairs(log_db, task):
    """The table read from the log decides every pair as ``load_pairs`` does: the whole analysis,
    production figure and per-task quality are the same from either (on SQLite and PostgreSQL)."""
    db = log_db
    build_mixed_log(db)
    with LogReader(db) as reader:
        streamed = analyse(reader, task)
        everything = load_pairs(reader, task, unjudged=True)
        pairs, _left_out = sweep_pairs([p for p in everything if p.judged])
        listed = sweep(pairs, task=task)
        table = read_table(reader, task)
    assert _rounded(streamed.rows) == _rounded(listed.rows)
    assert streamed.guarantee == listed.guarantee and streamed.calibration == listed.calibration
    assert streamed.disagreements == listed.disagreements and streamed.sources == listed.sources
    assert [s.model_dump() for s in streamed.per_task] == [
        {
            **s.model_dump(),
            "quality": {**s.quality.model_dump(), "unjudged": streamed_unjudged(everything, s.task)},
        }
        for s in listed.per_task
    ]
    assert streamed.notes[: len(listed.notes)] == listed.notes
    judged = [p for p in everything if p.judged]
    assert from_pairs(table.scope(task), (10, 5, 1)) == from_pairs(judged, (10, 5, 1))
    assert table.unjudged(task) == sum(not p.judged for p in everything)


def streamed_unjudged(pairs: list[Pair], task: str) -> int:
    return sum(not p.judged and p.task == task for p in pairs)


def _rounded(rows) -> list:
    return [{k: round(v, 12) if isinstance(v, float) else v for k, v in r.model_dump().items()} for r in rows]


def test_an_empty_table_has_no_scope():
    assert not PairTable().scope()


@pytest.mark.parametrize("workers", [2, 3])
def test_shares_read_by_worker_processes_make_the_same_table(log_db, workers):
    """Past PARALLEL_PAIRS the table is read by one process per core, each a share of the pairs,
    and merged: the same sweep, guarantee, calibration, examples and estimates as one pass (on
    SQLite and on PostgreSQL, each worker with a session of its own)."""
    db = log_db
    build_mixed_log(db)
    with LogReader(db) as reader:
        one = read_table(reader, extra=(0.8,), workers=1)
        many = read_table(reader, extra=(0.8,), workers=workers)
        assert many.parts.keys() == one.parts.keys()
        for key, part in one.parts.items():
            other = many.parts[key]
            assert (other.n, other.first, other.fine) == (part.n, part.first, part.fine)
            assert other.profiles == part.profiles and other.spot == part.spot
            assert sorted(other.wrong) == sorted(part.wrong) and sorted(other.differ) == sorted(part.differ)
            assert {
                k: (c.n, c.cheap_correct, c.strong_correct, c.lost, c.order) for k, c in other.cells.items()
            } == {k: (c.n, c.cheap_correct, c.strong_correct, c.lost, c.order) for k, c in part.cells.items()}
        for task in (None, *sorted({key[0] for key in one.parts})):
            a, b = analyse(reader, task, table=one), analyse(reader, task, table=many)
            assert _rounded(a.rows) == _rounded(b.rows)
            assert a.guarantee == b.guarantee and a.disagreements == b.disagreements
            assert _round_all(a.calibration.model_dump()) == _round_all(b.calibration.model_dump())


def _round_all(value):
    """Floats rounded to 12 digits, anywhere in a dumped model (sums added in another order)."""
    if isinstance(value, float):
        return round(value, 12)
    if isinstance(value, dict):
        return {k: _round_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round_all(v) for v in value]
    return value


def test_no_workers_are_spawned_where_stderr_is_captured(tmp_path, monkeypatch):
    """Textual captures stderr, which multiprocessing hands its children: the app reads in one process."""
    import io

    from routermon.core.measure import pairtable

    db = tmp_path / "calls.db"
    build_mixed_log(db)
    monkeypatch.setattr(pairtable, "PARALLEL_PAIRS", 0)
    monkeypatch.setattr(pairtable.os, "cpu_count", lambda: 2)
    monkeypatch.setattr("sys.stderr", io.StringIO())  # fileno() raises, as a captured stream's does
    called = []
    monkeypatch.setattr(pairtable, "_read_in_parallel", lambda *a: called.append(a))
    with LogReader(db) as reader:
        assert read_table(reader).scope(None, judged=None).n > 0
    assert called == []
