"""The threshold sweep, recommendation, calibration and per-task view; pairs from shadow runs and audits."""

from __future__ import annotations

import json

import pytest
from conftest import DATE_FILE

from routermon.core.errors import ConfigError
from routermon.core.log.reader import LogReader
from routermon.core.measure.analysis import (
    analyse,
    calibrate,
    candidate_thresholds,
    costliest_disagreements,
    shown_rows,
    sweep,
    wilson_interval,
)
from routermon.core.measure.pairs import NoPairsError, Pair, load_pairs
from routermon.core.route.router import Router
from routermon.core.simulate.standin import StandInAPI, answer, tool_input

CHEAP = "claude-haiku-4-5"
STRONG = "claude-sonnet-4-6"
LABELS = ["safe", "unsafe"]


def make_pair(
    i: int,
    confidence: float | None,
    cheap_correct: bool,
    strong_correct: bool = True,
    *,
    task: str = "t",
    cheap_cost: float | None = 1.0,
    strong_cost: float | None = 10.0,
    agree: bool | None = None,
) -> Pair:
    return Pair(
        request_id=f"r{i}",
        task=task,
        source="import",
        cheap_model="cheap-model" if cheap_cost is not None else "unpriced-cheap",
        strong_model="strong-model" if strong_cost is not None else "unpriced-strong",
        confidence=confidence,
        cheap_correct=cheap_correct,
        strong_correct=strong_correct,
        agree=cheap_correct if agree is None else agree,
        cheap_cost_usd=cheap_cost,
        strong_cost_usd=strong_cost,
        cheap_answer=json.dumps(f"c{i}"),
        strong_answer=json.dumps(f"s{i}"),
        input_preview=f"input {i}",
    )


@pytest.fixture(scope="module")
def date_result(date_db):
    with LogReader(date_db) as reader:
        return analyse(reader)


# -- the figures in tests/data/README.md --------------------------------------------------------


def test_date_sweep_reproduces_the_readme_figures(date_result):
    assert round(date_result.cheap_only.accuracy, 3) == 0.645
    assert round(date_result.strong_only.accuracy, 3) == 0.886
    row = date_result.row_at(0.7)
    assert round(row.escalation_share, 3) == 0.230
    assert round(row.accuracy, 3) == 0.783
    assert (row.requests, row.escalated, row.correct) == (369, 85, 289)
    assert row.accuracy_low < row.accuracy < row.accuracy_high
    assert (row.accuracy_low, row.accuracy_high) == pytest.approx(wilson_interval(289, 369))


def test_date_sweep_shape(date_result):
    thresholds = [r.threshold for r in date_result.rows]
    assert thresholds == sorted(thresholds) and thresholds[0] == 0.0 and thresholds[-1] == 1.0
    assert len(thresholds) == 21  # the file's confidences are multiples of 0.05
    shares = [r.escalation_share for r in date_result.rows]
    costs = [r.cost_per_request_usd for r in date_result.rows]
    assert shares == sorted(shares) and costs == sorted(costs)
    assert date_result.rows[0].accuracy == date_result.cheap_only.accuracy  # threshold 0 escalates nothing
    assert date_result.rows[0].cost_vs_strong == pytest.approx(date_result.cheap_only.cost_vs_strong)
    assert date_result.strong_only.cost_vs_strong == 1.0
    for row in date_result.rows:
        assert row.cost_per_1k_requests_usd == pytest.approx(row.cost_per_request_usd * 1000)


def test_date_default_target_is_not_met_and_says_so(date_result):
    rec = date_result.recommended
    assert rec.target_accuracy == pytest.approx(date_result.strong_only.accuracy - 0.01)
    assert (rec.threshold, rec.met, rec.row) == (None, False, None)
    assert rec.message.startswith("No threshold reaches the target accuracy of 87.6%")
    assert "1.00" in rec.message and "86.7%" in rec.message
    assert date_result.chosen_threshold == 0.7  # falls back to the settings' default


def test_date_recommendations(date_db):
    with LogReader(date_db) as reader:
        by_target = analyse(reader, target_accuracy=0.8)
        by_budget = analyse(reader, max_escalation=0.25)
        both = analyse(reader, target_accuracy=0.8, max_escalation=0.25)
    assert by_target.recommended.threshold == 0.8 and by_target.recommended.met  # 0.75 gives 79.7%
    assert by_target.chosen_threshold == 0.8 and by_target.calibration.threshold == 0.8
    assert by_budget.recommended.threshold == 0.7  # the most accurate escalating at most 25%
    assert both.recommended.threshold is None
    assert both.recommended.message.startswith("No threshold meets both")


def test_date_calibration(date_result):
    cal = date_result.calibration
    assert sum(b.count for b in cal.bins) == cal.judged == 369
    assert [b.count for b in cal.bins] == [2, 8, 9, 13, 12, 11, 30, 30, 31, 223]
    assert 0.0 < cal.ece < 1.0
    lines = [json.loads(line) for line in DATE_FILE.read_text().splitlines()]
    kept = [x for x in lines if x["cheap"]["confidence"] >= 0.7]
    wrong = [x for x in kept if not x["cheap"]["correct"]]
    assert cal.confidently_wrong == len(wrong) == 69
    assert cal.confidently_wrong_share_of_kept == pytest.approx(len(wrong) / len(kept))
    assert len(cal.examples) == 20
    assert all(e.confidence >= 0.7 and not e.cheap_correct for e in cal.examples)
    assert cal.examples[0].input_preview


# -- exact figures on small hand-made pairs --------------------------------------------------------


def test_wilson_interval_matches_known_values():
    # Newcombe (1998), Statistics in Medicine 17: 81/263 -> 0.2553 to 0.3662.
    assert wilson_interval(81, 263) == pytest.approx((0.2553, 0.3662), abs=1e-4)
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_sweep_counts_and_costs_by_hand():
    pairs = [
        make_pair(1, 0.2, False),
        make_pair(2, 0.5, True, False),
        make_pair(3, 0.8, True),
        make_pair(4, 0.9, False),
    ]
    result = sweep(pairs, target_accuracy=0.5)
    row = result.row_at(0.6)  # escalates pairs 1 and 2: answers strong, strong, cheap, cheap
    assert (row.escalated, row.correct) == (2, 2)
    assert row.cost_per_request_usd == pytest.approx((4 * 1.0 + 2 * 10.0) / 4)
    assert row.cost_vs_strong == pytest.approx(6.0 / 10.0)
    equal = result.row_at(0.5)  # confidence 0.5 is not below 0.5: kept
    assert equal.escalated == 1
    assert result.cheap_only.accuracy == 0.5 and result.strong_only.accuracy == 0.75
    assert result.cheap_only.cost_per_request_usd == 1.0 and result.strong_only.cost_per_request_usd == 10.0
    # Cheapest threshold with accuracy >= 50%: 0 (cheap alone is already 50%).
    assert result.recommended.threshold == 0.0


def test_shown_rows_is_the_grid_plus_recommended_and_chosen(date_result):
    rows = [r.threshold for r in date_result.rows]
    report = [r.threshold for r in shown_rows(date_result, step=0.1)]
    kept = {
        round(t, 6)
        for t in (date_result.chosen_threshold, date_result.recommended.threshold)
        if t is not None
    }
    assert report == [t for t in rows if round(t * 10, 6).is_integer() or round(t, 6) in kept]
    assert {0.0, 0.5, 1.0} <= set(report) and kept <= {round(t, 6) for t in report}
    cli = [r.threshold for r in shown_rows(date_result, step=0.05)]
    assert set(report) < set(cli) and 0.05 in cli
    # a sweep no longer than max_rows is shown whole
    assert shown_rows(date_result, step=0.05, max_rows=len(rows)) == date_result.rows


def test_candidate_thresholds_are_confidences_plus_grid():
    pairs = [make_pair(1, 0.123, True), make_pair(2, 0.5, True), make_pair(3, None, False)]
    thresholds = candidate_thresholds(pairs)
    assert 0.123 in thresholds and thresholds.count(0.5) == 1 and len(thresholds) == 22
    assert [t for t in thresholds if t != 0.123] == [round(i * 0.05, 2) for i in range(21)]


def test_failed_cheap_calls_are_always_escalated():
    pairs = [make_pair(1, None, False), make_pair(2, 0.9, True)]
    result = sweep(pairs)
    assert result.row_at(0.0).escalated == 1
    assert result.calibration.judged == 1
    assert any("1 cheap call failed (no valid answer); it is escalated" in n for n in result.notes)
    budget = sweep(pairs, max_escalation=0.2)
    assert budget.recommended.threshold is None
    assert "No threshold keeps escalation at or below 20.0%" in budget.recommended.message


def test_calibration_bins_and_ece_by_hand():
    pairs = [
        make_pair(1, 0.95, True),
        make_pair(2, 0.95, False),  # bin 0.9-1.0: mean 0.95, accuracy 0.5
        make_pair(3, 0.15, False),  # bin 0.1-0.2: mean 0.15, accuracy 0
        make_pair(4, 1.0, True),  # 1.0 goes to the last bin
    ]
    cal = calibrate(pairs, threshold=0.9)
    last = cal.bins[-1]
    assert (last.count, last.mean_confidence, last.accuracy) == (
        3,
        pytest.approx((0.95 + 0.95 + 1.0) / 3),
        2 / 3,
    )
    assert cal.bins[1].count == 1 and cal.bins[0].count == 0 and cal.bins[0].accuracy is None
    expected_ece = 3 / 4 * abs(2 / 3 - (2.9 / 3)) + 1 / 4 * abs(0.0 - 0.15)
    assert cal.ece == pytest.approx(expected_ece)
    assert cal.confidently_wrong == 1 and cal.examples[0].request_id == "r2"
    assert cal.confidently_wrong_share == 0.25 and cal.confidently_wrong_share_of_kept == pytest.approx(1 / 3)


def test_per_task_view_at_the_chosen_threshold():
    pairs = [make_pair(i, 0.3, False, task="hard") for i in range(4)] + [
        make_pair(10 + i, 0.9, True, task="easy", strong_cost=20.0) for i in range(4)
    ]
    result = sweep(pairs, threshold=0.5)
    by_task = {s.task: s for s in result.per_task}
    assert by_task["hard"].escalation_share == 1.0 and by_task["easy"].escalation_share == 0.0
    assert by_task["hard"].cheap_accuracy == 0.0 and by_task["easy"].cheap_accuracy == 1.0
    assert by_task["hard"].spend_usd == pytest.approx(4 * 11.0) and by_task[
        "easy"
    ].spend_usd == pytest.approx(4.0)
    assert by_task["hard"].spend_share == pytest.approx(44 / 48)
    assert [s.task for s in result.per_task] == ["hard", "easy"]  # costliest first
    assert by_task["easy"].recommended_threshold == 0.0


def test_costliest_disagreements_put_unknown_cost_last():
    pairs = [
        make_pair(1, 0.5, False, strong_cost=None),
        make_pair(2, 0.5, False, strong_cost=30.0),
        make_pair(3, 0.5, True),  # agrees: not shown
        make_pair(4, 0.5, False, strong_cost=5.0),
    ]
    assert [e.request_id for e in costliest_disagreements(pairs)] == ["r2", "r4", "r1"]
    assert costliest_disagreements(pairs, 1)[0].cost_usd == 31.0


def test_without_any_price_the_recommendation_minimises_escalation():
    pairs = [make_pair(i, i / 10, i >= 5, strong_cost=None) for i in range(10)]
    result = sweep(pairs, target_accuracy=0.9)
    assert all(r.cost_per_request_usd is None and r.cost_vs_strong is None for r in result.rows)
    assert result.priced_pairs == 0 and result.unpriced_models == ["unpriced-strong"]
    assert result.recommended.threshold == 0.35  # escalates 4 of the 5 wrong answers: 90%
    assert any("no cost can be computed" in n for n in result.notes)


def test_bad_shares_and_empty_pairs_are_clear_errors():
    with pytest.raises(NoPairsError):
        sweep([])
    with pytest.raises(ConfigError, match="between 0% and 100%"):
        sweep([make_pair(1, 0.5, True)], target_accuracy=88)
    with pytest.raises(ConfigError, match="between 0% and 100%"):
        sweep([make_pair(1, 0.5, True)], max_escalation=-0.1)


# -- pairs from the log: shadow runs, audits, not cascade escalations -------------------------------


async def test_load_pairs_takes_shadow_and_audit_but_not_cascade_escalations(tmp_path):
    db = tmp_path / "calls.db"
    api = StandInAPI()
    shadow = Router(CHEAP, STRONG, 0.7, mode="shadow", client=api.client(max_retries=0), log=db, seed=1)
    api.enqueue(answer("safe", 0.9), model=CHEAP)
    api.enqueue(answer("unsafe", 0.8), model=STRONG)
    await shadow.route("classify", "shadow text, disagreeing", labels=LABELS)
    api.enqueue(tool_input({"answer": "maybe", "confidence": 0.9}), model=CHEAP)  # invalid: not a label
    api.enqueue(answer("safe", 0.8), model=STRONG)
    await shadow.route("classify", "shadow text, cheap invalid", labels=LABELS)
    await shadow.aclose()

    cascade = Router(CHEAP, STRONG, 0.7, audit_share=1.0, client=api.client(max_retries=0), log=db, seed=2)
    api.enqueue(answer("safe", 0.3), model=CHEAP)  # escalated: a cascade pair, not unbiased
    api.enqueue(answer("unsafe", 0.9), model=STRONG)
    await cascade.route("classify", "escalated text", labels=LABELS)
    api.enqueue(answer("safe", 0.95), model=CHEAP)  # kept, then audited
    api.enqueue(answer("safe", 0.9), model=STRONG)
    await cascade.route("classify", "audited text", labels=LABELS, reference="safe")
    await cascade.aclose()

    with LogReader(db) as reader:
        pairs = load_pairs(reader)
        assert load_pairs(reader, task="summarize") == []
    assert [p.source for p in pairs] == ["shadow", "shadow", "audit"]
    disagree, failed, audited = pairs
    assert disagree.confidence == 0.9 and not disagree.agree
    assert disagree.cheap_correct is False and disagree.cheap_by_agreement and disagree.strong_assumed
    assert disagree.input_preview == "shadow text, disagreeing"
    assert failed.confidence is None and failed.cheap_correct is False
    assert audited.cheap_correct is True and not audited.cheap_by_agreement
    assert audited.agree and audited.source == "audit"
    assert audited.cheap_cost_usd > 0 and audited.strong_cost_usd > audited.cheap_cost_usd

    result = sweep(pairs)
    assert result.sources == {"audit": 1, "shadow": 2}
    assert any("Audited pairs are sampled only from requests the cheap model kept" in n for n in result.notes)
    assert any("Cascade escalations are not counted" in n for n in result.notes)


def test_analyse_without_pairs_says_how_to_get_them(tmp_path, date_db):
    db = tmp_path / "empty.db"
    from routermon.core.log.store import CallLog

    CallLog(db).close()
    with LogReader(db) as reader, pytest.raises(NoPairsError, match="routermon import FILE"):
        analyse(reader)
    with (
        LogReader(date_db) as reader,
        pytest.raises(NoPairsError, match=r"task 'nope' \(tasks with pairs: date\)"),
    ):
        analyse(reader, "nope")


def test_the_observed_recommendation_never_costs_more_than_always_strong():
    import random

    rng = random.Random(3)
    # Confidence is noise: reaching the strong model's accuracy means escalating nearly everything,
    # and paying the cheap call on top of the strong one.
    pairs = [
        make_pair(i, round(rng.random(), 3), rng.random() < 0.6, rng.random() < 0.95, cheap_cost=2.0)
        for i in range(400)
    ]
    result = sweep(pairs)
    cheapest_meeting = min(
        (r for r in result.rows if r.accuracy >= result.strong_only.accuracy - 0.01 - 1e-9),
        key=lambda r: r.cost_vs_strong,
    )
    assert cheapest_meeting.cost_vs_strong > 1  # what the rule used to recommend
    assert result.recommended.threshold is None and not result.recommended.met
    assert result.recommended.message.startswith("Routing does not pay here")
    assert "of sending every request to the strong model" in result.recommended.message
    # With cheap calls worth making, a threshold is recommended as before.
    cheap = [make_pair(i, 0.9 if i % 10 else 0.1, i % 10 != 0, cheap_cost=0.5) for i in range(200)]
    assert sweep(cheap).recommended.threshold is not None
