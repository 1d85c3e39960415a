"""Human review in the library: storing labels, the review queue, the judge against people
(agreement, Cohen's kappa) and the prediction-powered estimate of the cheap accuracy."""

from __future__ import annotations

import json
import math

import pytest
from review_helpers import build_review_log, judge_row
from tui_helpers import CHEAP, FIXED_NOW, STRONG, fixed_clock

from routermon.core.log.importing import import_pairs
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.core.measure import spotcheck as judge_check_module
from routermon.core.measure.analysis import analyse
from routermon.core.measure.judge_check import cohens_kappa, judge_check, judge_checks, ppi_mean
from routermon.core.measure.pairs import Pair, iter_pairs, load_pairs
from routermon.core.measure.review import (
    UnknownPairError,
    import_labels,
    label_pair,
    load_review_queue,
    review_queue,
)


def make_pair(request_id: str, **fields) -> Pair:
    base = {
        "task": "summarize",
        "source": "shadow",
        "cheap_model": CHEAP,
        "strong_model": STRONG,
        "confidence": 0.5,
        "cheap_correct": True,
        "strong_correct": True,
        "agree": True,
        "cheap_cost_usd": 0.001,
        "strong_cost_usd": 0.01,
        "kind": "label",
    }
    return Pair(request_id=request_id, **{**base, **fields})


# -- labels --------------------------------------------------------------------------------------


def test_label_pair_is_stored_and_is_the_latest(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=6)
    clock = fixed_clock()
    label_pair(db, "req_0002", "strong", labeller="alice", clock=clock)
    stored = label_pair(
        db, "req_0002", "both", labeller="bob", source="review", clock=fixed_clock(FIXED_NOW + 5)
    )
    assert (stored.labeller, stored.ts, stored.source) == ("bob", FIXED_NOW + 5, "review")
    with LogReader(db) as reader:
        assert reader.human_labels()["req_0002"].label == "both"


def test_label_of_an_unknown_or_unpaired_request_writes_nothing(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=3)
    with CallLog(db) as log:  # a cascade request: one model answered it
        log.log(CallRecord(ts=FIXED_NOW, request_id="solo", task="classify", model=CHEAP, role="cheap"))
    with pytest.raises(UnknownPairError, match="no request 'nope'"):
        label_pair(db, "nope", "cheap", labeller="alice")
    with pytest.raises(UnknownPairError, match="not a paired outcome"):
        label_pair(db, "solo", "cheap", labeller="alice")
    with LogReader(db) as reader:
        assert reader.human_labels() == {}


def test_import_labels_by_imported_pair_id(tmp_path):
    db = tmp_path / "calls.db"
    pairs_file = tmp_path / "pairs.jsonl"
    line = (
        '{"id": "q:1", "task": "date", "input": "x", "cheap": {"model": "gpt-4", "answer": "a",'
        ' "confidence": 0.9, "input_tokens": 1, "output_tokens": 1}, "strong": {"model": "gpt-4",'
        ' "answer": "b", "input_tokens": 1, "output_tokens": 1}}\n'
    )
    pairs_file.write_text(line)
    import_pairs(pairs_file, db)
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"pair_id": "q:1", "task": "date", "label": "strong", "labeller": "ann"}\n')
    result = import_labels(labels, db, labeller="me", clock=fixed_clock())
    assert (result.written, result.already_present) == (1, 0)
    with LogReader(db) as reader:
        (pair,) = load_pairs(reader)
        assert (pair.human_label, pair.correct_source, pair.cheap_correct) == ("strong", "human", False)
        assert reader.human_labels()[pair.request_id].labeller == "ann"


def test_import_labels_again_adds_nothing_but_a_changed_label_is_new(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=6)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        '{"request_id": "req_0001", "label": "cheap"}\n{"request_id": "req_0002", "label": "neither"}\n'
    )
    assert import_labels(labels, db, labeller="me").written == 2
    again = import_labels(labels, db, labeller="me")
    assert (again.written, again.already_present) == (0, 2)
    assert import_labels(labels, db, labeller="someone else").written == 2  # a second opinion
    labels.write_text('{"request_id": "req_0001", "label": "strong"}\n')
    assert import_labels(labels, db, labeller="me").written == 1


# -- the judge's verdict and a person's label in the sweep ----------------------------------------


def test_a_human_label_overrides_the_judge_in_the_sweep(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=9)
    with LogReader(db) as reader:
        before = analyse(reader, "summarize")
        judged = [p for p in load_pairs(reader, "summarize") if p.judge_verdict == "cheap_acceptable"]
    target = judged[0].request_id
    label_pair(db, target, "strong", labeller="alice", clock=fixed_clock())
    with LogReader(db) as reader:
        after = analyse(reader, "summarize")
        (pair,) = [p for p in load_pairs(reader, "summarize") if p.request_id == target]
    assert (pair.judge_verdict, pair.correct_source, pair.cheap_correct) == (
        "cheap_acceptable",
        "human",
        False,
    )
    assert after.cheap_only.correct == before.cheap_only.correct - 1
    assert after.pairs == before.pairs


# -- the review queue -------------------------------------------------------------------------------


def test_review_queue_order_and_exclusions(monkeypatch):
    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: False)  # spot checks apart
    pairs = [
        make_pair("agree-ok", agree=True, confidence=0.9),  # nothing to look at
        make_pair("judge-unsure-0.6", judge_verdict="cheap_acceptable", judge_confidence=0.6, kind="text"),
        make_pair("disagree-0.4", agree=False, cheap_correct=False, confidence=0.4),
        make_pair("judge-unsure-0.3", judge_verdict="cheap_acceptable", judge_confidence=0.3, kind="text"),
        make_pair(
            "confidently-wrong", agree=True, cheap_correct=False, strong_correct=False, confidence=0.95
        ),
        make_pair("disagree-0.6", agree=False, cheap_correct=False, confidence=0.6),
        make_pair("disagree-and-wrong-0.8", agree=False, cheap_correct=False, confidence=0.8),
        make_pair("labelled", agree=False, cheap_correct=False, confidence=0.99, human_label="cheap"),
        make_pair("failed", agree=False, cheap_correct=False, confidence=None, correct_source="failure"),
        make_pair(
            "text-judged-fine",
            agree=False,
            judge_verdict="cheap_acceptable",
            judge_confidence=0.9,
            kind="text",
        ),
        make_pair("text-unjudged", agree=False, correct_source=None, kind="text", confidence=0.2),
    ]
    queue = review_queue(pairs, threshold=0.7)
    assert [item.pair.request_id for item in queue] == [
        "disagree-and-wrong-0.8",
        "disagree-0.6",
        "disagree-0.4",
        "text-unjudged",
        "judge-unsure-0.3",
        "judge-unsure-0.6",
        "confidently-wrong",
    ]
    assert queue[0].reasons == ["disagree", "confidently_wrong"]
    assert queue[3].reasons == ["unjudged"]  # not "confidently wrong": nobody knows yet
    assert queue[4].why == "judge unsure (0.30)"
    assert queue[0].why == "the answers disagree; cheap confident and wrong"
    assert len(review_queue(pairs, threshold=0.7, limit=2)) == 2


def test_iter_pairs_pages_through_the_same_pairs_as_load_pairs(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=23)
    label_pair(db, "req_0004", "neither", labeller="alice")
    with LogReader(db) as reader:
        for task in (None, "summarize"):
            whole = sorted(load_pairs(reader, task, unjudged=True), key=lambda p: p.request_id)
            assert list(iter_pairs(reader, task, unjudged=True, page=4)) == whole


def test_review_queue_from_the_log_leaves_labelled_pairs_out(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=30)
    with LogReader(db) as reader:
        queue = load_review_queue(reader, threshold=0.7)
    assert (queue.pairs, queue.labelled, queue.worth_a_look) == (30, 0, len(queue.items))
    first = queue.items[0].pair.request_id
    label_pair(db, first, "cheap", labeller="alice")
    with LogReader(db) as reader:
        again = load_review_queue(reader, threshold=0.7, limit=5)
    assert [i.pair.request_id for i in again.items] == [i.pair.request_id for i in queue.items[1:6]]
    assert (again.labelled, again.worth_a_look) == (1, queue.worth_a_look - 1)


# -- the judge against people, and the prediction-powered estimate ----------------------------------


def test_cohens_kappa_by_hand():
    # p_o = 2/3; the judge says right 2/3, the person 1/3: p_e = 2/9 + 2/9 = 4/9; (2/9) / (5/9) = 0.4
    assert cohens_kappa([True, True, False], [True, False, False]) == pytest.approx(0.4)
    assert cohens_kappa([True, True], [True, True]) is None  # chance agreement is 1
    assert cohens_kappa([True, False], [False, True]) == pytest.approx(-1.0)


def test_ppi_estimate_and_interval_by_hand():
    judge_all = [1.0, 1.0, 1.0, 0.0, 1.0, 0.0]  # N = 6, mean 2/3, sample variance 4/15
    judge_labelled, human = (
        [1.0, 1.0, 0.0],
        [1.0, 0.0, 0.0],
    )  # n = 3: rectifier 0, 1, 0: mean 1/3, variance 1/3
    theta, low, high = ppi_mean(judge_all, judge_labelled, human)
    # 1.96 * sqrt((4/15)/6 + (1/3)/3) = 1.96 * sqrt(0.155556) = 1.96 * 0.394405 = 0.773020
    assert theta == pytest.approx(1 / 3)
    assert (low, high) == (pytest.approx(-0.439687, abs=1e-6), pytest.approx(1.106354, abs=1e-6))


def test_judge_check_on_pairs_by_hand(monkeypatch):
    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: True)  # every pair sampled
    verdicts = ["cheap_acceptable"] * 3 + ["strong_better"] + ["cheap_acceptable"] + ["both_fail"]
    labels = ["cheap", "strong", "both", None, None, "neither"]
    pairs = [
        make_pair(f"p{i}", judge_verdict=v, judge_confidence=0.9, human_label=lab)
        for i, (v, lab) in enumerate(zip(verdicts, labels, strict=True))
    ]
    # Labelled: p0 (judge right, person right), p1 (right, wrong), p2 (right, right), p5 (wrong, wrong).
    check = judge_check(pairs)
    assert (check.judged, check.labelled) == (6, 4)
    assert check.agreement == pytest.approx(3 / 4)
    # p_j = 3/4, p_h = 2/4: p_e = 3/8 + 1/8 = 1/2; kappa = (3/4 - 1/2) / (1/2) = 1/2
    assert check.kappa == pytest.approx(0.5)
    # f over N: 1,1,1,0,1,0 -> 2/3; rectifier on the 4: 0,1,0,0 -> 1/4; theta = 2/3 - 1/4 = 5/12
    assert check.ppi_accuracy == pytest.approx(5 / 12)
    half = 1.959963984540054 * math.sqrt((4 / 15) / 6 + 0.25 / 4)
    assert check.ppi_low == pytest.approx(max(0.0, 5 / 12 - half))
    assert check.ppi_high == pytest.approx(min(1.0, 5 / 12 + half))
    assert (check.judge_accuracy, check.human_accuracy) == (pytest.approx(4 / 6), pytest.approx(2 / 4))
    assert check.footing == "judge on 6 pairs, corrected by 4 human labels"
    assert judge_check([p.model_copy(update={"human_label": None}) for p in pairs]) is None


def test_judge_checks_per_task_and_overall(tmp_path, monkeypatch):
    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: True)
    db = build_review_log(tmp_path / "calls.db", pairs=30)
    with CallLog(db) as log:  # a second judged task
        log.log(judge_row("req_0000", "classify", "strong_better", 0.8, FIXED_NOW))
    for request_id, label in (("req_0000", "strong"), ("req_0002", "cheap"), ("req_0005", "neither")):
        label_pair(db, request_id, label, labeller="alice")
    with LogReader(db) as reader:
        checks = judge_checks(load_pairs(reader))
    assert [c.task for c in checks] == ["classify", "summarize", None]
    assert checks[-1].labelled == 3 and checks[0].ppi_accuracy is None  # one label: no interval


# -- in the report ----------------------------------------------------------------------------------


def test_report_shows_the_judge_against_people(tmp_path, monkeypatch):
    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: True)
    from routermon.core.measure.report import build_report, render_json, render_markdown

    db = build_review_log(tmp_path / "calls.db", pairs=30)
    with LogReader(db) as reader:
        plain = build_report(reader, clock=fixed_clock())
    assert plain.judge_checks == [] and "judge against people" not in render_markdown(plain)
    for request_id, label in (("req_0002", "cheap"), ("req_0005", "strong"), ("req_0008", "both")):
        label_pair(db, request_id, label, labeller="alice")
    with LogReader(db) as reader:
        report = build_report(reader, clock=fixed_clock())
        expected = judge_check(load_pairs(reader), "summarize")
    (check,) = report.judge_checks
    assert check == expected and (check.task, check.judged, check.labelled) == ("summarize", 10, 3)
    text = render_markdown(report)
    assert "## The judge against people" in text
    line = next(x for x in text.splitlines() if x.startswith("- **summarize**"))
    assert f"{check.agreement * 100:.1f}% agree of 3" in line
    assert "judge on 10 pairs, corrected by 3 human labels" in line
    data = json.loads(render_json(report))
    assert data["judge_checks"][0]["footing"] == "judge on 10 pairs, corrected by 3 human labels"
    assert data["judge_checks"][0]["ppi_accuracy"] == pytest.approx(check.ppi_accuracy)


def test_only_random_spot_checks_correct_the_judge_and_they_come_first(monkeypatch):
    """Labels on pairs chosen because they looked wrong are not a random sample: the estimate and
    the agreement rest on the spot-check sample alone, which the queue offers first."""
    sampled = {"p1", "p3"}
    monkeypatch.setattr(judge_check_module, "in_spot_check", lambda request_id: request_id in sampled)
    pairs = [
        make_pair(f"p{i}", judge_verdict="cheap_acceptable", judge_confidence=0.95, human_label=label)
        for i, label in enumerate(["strong", "cheap", "strong", "both", None])
    ]
    check = judge_check(pairs)
    assert (check.labelled, check.chosen_labels) == (2, 2)  # p0 and p2 were chosen, not drawn
    assert check.agreement == 1.0  # on the sample the judge agrees; on p0 and p2 it did not
    assert "of random spot checks (2 on chosen pairs left out)" in check.footing
    unlabelled = [p.model_copy(update={"human_label": None}) for p in pairs]
    queue = review_queue(unlabelled, threshold=0.7)
    assert [item.pair.request_id for item in queue[:2]] == ["p1", "p3"]
    assert queue[0].reasons[0] == "spot_check" and "random spot check" in queue[0].why


def test_the_spot_check_sample_is_a_tenth_of_pairs_by_request_id():
    from routermon.core.measure.spotcheck import SPOT_CHECK_SHARE, in_spot_check

    share = sum(in_spot_check(f"req_{i:06d}") for i in range(20_000)) / 20_000
    assert abs(share - SPOT_CHECK_SHARE) < 0.01
    assert in_spot_check("req_000001") == in_spot_check("req_000001")
