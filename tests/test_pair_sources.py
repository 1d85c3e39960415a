"""Where a pair's correctness comes from: a human label, a failure, a reference, a judge, a
comparison; null answers imported as failed calls; judge and label objects on imported pairs."""

from __future__ import annotations

import json

from routermon.core.clock import VirtualClock
from routermon.core.log.importing import import_pairs
from routermon.core.log.reader import LogReader
from routermon.core.log.records import HumanLabel
from routermon.core.log.store import add_labels
from routermon.core.measure.analysis import sweep
from routermon.core.measure.pairs import load_pairs

CLOCK = VirtualClock(1_750_000_000.0)
SUMMARY_A = "Acme's invoice of 1,234 euros for two licences is due on 5 March 2026."
SUMMARY_B = "Two licences from Acme cost 1,234 euros, payable by 5 March 2026."


def side(answer, confidence=0.9, model="claude-haiku-4-5", **extra):
    return {
        "model": model,
        "answer": answer,
        "confidence": confidence,
        "input_tokens": 50,
        "output_tokens": 20,
        **extra,
    }


def line(pair_id, cheap, strong, *, task="t", reference=None, **extra):
    obj = {"id": pair_id, "task": task, "input": f"input {pair_id}", "cheap": cheap, "strong": strong}
    if reference is not None:
        obj["reference"] = reference
    return {**obj, **extra}


def write(tmp_path, *lines):
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def pairs_by_id(db, **kwargs):
    with LogReader(db) as reader:
        return {p.input_preview.split()[-1]: p for p in load_pairs(reader, **kwargs)}


def test_null_answers_import_as_failed_calls(tmp_path, db):
    strong = side("B", model="claude-sonnet-4-5")
    src = write(
        tmp_path,
        line("cheap-null", side(None, confidence=None), strong, reference="B"),
        line("cheap-null-conf", side(None, confidence=0.8), strong),
        line("strong-null", side("B"), side(None, model="claude-sonnet-4-5"), reference="B"),
        line("both-answer", side("B"), strong, reference="B"),
    )
    result = import_pairs(src, db, clock=CLOCK)
    assert (result.imported, result.skipped_count) == (4, 0)
    pairs = pairs_by_id(db)
    assert set(pairs) == {"cheap-null", "cheap-null-conf", "strong-null", "both-answer"}
    # A null cheap answer is wrong; without a confidence it is escalated at every threshold.
    assert (pairs["cheap-null"].cheap_correct, pairs["cheap-null"].confidence) == (False, None)
    assert pairs["cheap-null"].correct_source == "failure"
    # With a confidence it is kept (and wrong) at thresholds up to that confidence.
    assert (pairs["cheap-null-conf"].cheap_correct, pairs["cheap-null-conf"].confidence) == (False, 0.8)
    # A null strong answer is wrong.
    assert (pairs["strong-null"].strong_correct, pairs["strong-null"].cheap_correct) == (False, True)
    result = sweep(list(pairs.values()), threshold=0.5)
    kept_wrong = [
        p for p in pairs.values() if p.confidence is not None and p.confidence >= 0.5 and not p.cheap_correct
    ]
    assert [p.request_id for p in kept_wrong] == [pairs["cheap-null-conf"].request_id]
    assert result.cheap_only.accuracy == 2 / 4
    assert result.strong_only.accuracy == 3 / 4


def test_skip_invalid_no_longer_drops_failed_calls(tmp_path, db):
    src = write(tmp_path, line("a", side(None, confidence=None), side("B")), line("b", side("B"), side("B")))
    result = import_pairs(src, db, skip_invalid=True, clock=CLOCK)
    assert (result.imported, result.skipped_count) == (2, 0)


def test_structured_answers_compare_field_by_field(tmp_path, db):
    cheap = {"vendor": "ACME gmbh", "total": "1,234.50", "due": "5 March 2026"}
    strong = {"vendor": "Acme GmbH", "total": 1234.5, "due": "2026-03-05"}
    slip = dict(cheap, total="1,243.50")
    src = write(tmp_path, line("same", side(cheap), side(strong)), line("slip", side(slip), side(strong)))
    import_pairs(src, db, clock=CLOCK)
    pairs = pairs_by_id(db)
    assert (pairs["same"].kind, pairs["same"].correct_source, pairs["same"].cheap_correct) == (
        "fields",
        "fields",
        True,
    )
    assert pairs["slip"].field_agreement == {"vendor": True, "total": False, "due": True}
    assert pairs["slip"].cheap_correct is False


def test_free_text_waits_for_a_judge_and_a_human_label_overrides_the_judge(tmp_path, db):
    src = write(
        tmp_path,
        line("unjudged", side(SUMMARY_A), side(SUMMARY_B)),
        line(
            "judged",
            side(SUMMARY_A),
            side(SUMMARY_B),
            judge={"verdict": "cheap_acceptable", "confidence": 0.7},
        ),
        line(
            "labelled",
            side(SUMMARY_A),
            side(SUMMARY_B),
            judge={"verdict": "cheap_acceptable", "confidence": 0.9, "cheap_first": True},
            label={"label": "strong", "labeller": "ana"},
        ),
        # A reference summary cannot settle free text by comparison: still unjudged.
        line("referenced", side(SUMMARY_A), side(SUMMARY_B), reference=SUMMARY_B),
    )
    result = import_pairs(src, db, clock=CLOCK)
    assert (result.imported, result.labels_written) == (4, 1)
    judged = pairs_by_id(db)
    assert set(judged) == {"judged", "labelled"}  # free text nobody judged is not in the figures
    everything = pairs_by_id(db, unjudged=True)
    assert everything["unjudged"].correct_source is None and not everything["unjudged"].judged
    assert everything["referenced"].correct_source is None
    assert (judged["judged"].correct_source, judged["judged"].cheap_correct) == ("judge", True)
    labelled = judged["labelled"]
    assert (labelled.correct_source, labelled.human_label, labelled.judge_verdict) == (
        "human",
        "strong",
        "cheap_acceptable",
    )
    assert (labelled.cheap_correct, labelled.strong_correct, labelled.judge_cheap_first) == (
        False,
        True,
        True,
    )
    # The human label changes what the sweep says: the cheap answer kept at 0.5 is now wrong.
    result = sweep(list(judged.values()), threshold=0.5)
    assert result.cheap_only.accuracy == 1 / 2
    # A second import adds no rows and no label.
    again = import_pairs(src, db, clock=CLOCK)
    assert (again.imported, again.labels_written) == (0, 0)


def test_the_latest_human_label_counts(tmp_path, db):
    src = write(tmp_path, line("x", side("billing"), side("refund")))
    import_pairs(src, db, clock=CLOCK)
    (pair,) = pairs_by_id(db).values()
    assert (pair.correct_source, pair.cheap_correct) == ("exact", False)
    add_labels(db, [HumanLabel(request_id=pair.request_id, label="both", ts=1.0, labeller="ana")])
    add_labels(db, [HumanLabel(request_id=pair.request_id, label="cheap", ts=2.0, labeller="bo")])
    (pair,) = pairs_by_id(db).values()
    assert (pair.correct_source, pair.human_label, pair.cheap_correct, pair.strong_correct) == (
        "human",
        "cheap",
        True,
        False,
    )
    with LogReader(db) as reader:
        assert reader.human_labels("t")[pair.request_id].labeller == "bo"
        assert reader.human_labels("other") == {}


def test_bad_judge_and_label_objects_are_bad_lines(tmp_path, db):
    from routermon.core.log.importing import InvalidPairsError

    src = write(
        tmp_path,
        line("a", side("x"), side("y"), judge={"verdict": "maybe"}),
        line("b", side("x"), side("y"), label="perhaps"),
        line("c", side("x"), side("y"), judge={"verdict": "both_fail", "confidence": 2}),
    )
    try:
        import_pairs(src, db, clock=CLOCK)
    except InvalidPairsError as exc:
        text = str(exc)
    else:
        raise AssertionError("bad judge and label objects were accepted")
    assert "line 1: judge.verdict must be one of" in text
    assert "line 2: label must be one of cheap, strong, both, neither" in text
    assert "line 3: judge.confidence must be a number between 0 and 1" in text


def test_analyse_leaves_unjudged_free_text_out_and_says_how_to_judge_it(tmp_path, db):
    import pytest

    from routermon.core.measure.analysis import analyse
    from routermon.core.measure.pairs import NoPairsError

    src = write(
        tmp_path, line("a", side(SUMMARY_A), side(SUMMARY_B)), line("b", side(SUMMARY_B), side(SUMMARY_A))
    )
    import_pairs(src, db, clock=CLOCK)
    with LogReader(db) as reader, pytest.raises(NoPairsError, match="2 free-text pairs.*routermon judge"):
        analyse(reader)
    more = write(tmp_path, line("c", side(SUMMARY_A), side(SUMMARY_B), judge={"verdict": "strong_better"}))
    import_pairs(more, db, clock=CLOCK)
    with LogReader(db) as reader:
        result = analyse(reader)
    assert (result.pairs, result.unjudged, result.cheap_only.accuracy) == (1, 2, 0.0)
    assert any("2 free-text pairs have no verdict yet" in note for note in result.notes)


def test_task_quality_shows_the_weakest_field_and_what_the_figure_rests_on(tmp_path, db):
    from routermon.core.measure.quality import load_task_quality

    strong = {"vendor": "Acme GmbH", "total": 1234.5, "due": "2026-03-05"}
    lines = [
        line(f"p{i}", side(dict(strong, vendor=strong["vendor"].upper())), side(strong), task="extract")
        for i in range(3)
    ]
    lines.append(line("slip", side(dict(strong, total="1,243.50", due=None)), side(strong), task="extract"))
    lines.append(
        line("s1", side(SUMMARY_A), side(SUMMARY_B), task="summarize", judge={"verdict": "cheap_acceptable"})
    )
    lines.append(line("s2", side(SUMMARY_A), side(SUMMARY_B), task="summarize", label="strong"))
    lines.append(line("s3", side(SUMMARY_A), side(SUMMARY_B), task="summarize"))
    import_pairs(write(tmp_path, *lines), db, clock=CLOCK)
    with LogReader(db) as reader:
        extract, summarize = load_task_quality(reader)
    assert (extract.task, extract.pairs, extract.cheap_correct, extract.sources) == (
        "extract",
        4,
        3,
        "field agreement",
    )
    assert [(f.field, f.agree, f.pairs) for f in extract.fields] == [
        ("due", 3, 4),
        ("total", 3, 4),
        ("vendor", 4, 4),
    ]
    assert extract.low < 0.75 < extract.high
    assert (summarize.pairs, summarize.unjudged, summarize.human_checked) == (2, 1, 1)
    assert summarize.label() == "50.0% (judge, 1 human-checked)"
