"""Accuracy in production from audits: each audit weighted by the inverse of the audit share in
force, checked against a simulated log whose true accuracy is known."""

from __future__ import annotations

import random

from routermon.core.log.reader import LogReader
from routermon.core.log.records import CallRecord
from routermon.core.log.store import CallLog
from routermon.core.measure.production import production_accuracy


def _request(n: int, ts: float, *, share: float, kept: bool, right: bool, audited: bool) -> list[CallRecord]:
    request_id = f"req_{n:06d}"
    common = {
        "ts": ts,
        "request_id": request_id,
        "task": "classify",
        "mode": "cascade",
        "input_sha256": f"{n}",
    }
    cheap = CallRecord(
        **common,
        model="claude-haiku-4-5",
        role="cheap",
        tier=0,
        confidence=0.9 if kept else 0.2,
        answer='"A"' if right else '"B"',
        escalated=not kept,
        escalation_reason=None if kept else "low_confidence",
        final=kept,
        reference="A",
        correct=right,
        threshold=0.5,
        audit_share=share,
    )
    rows = [cheap]
    if not kept:
        rows.append(
            CallRecord(
                **common,
                model="claude-sonnet-4-5",
                role="strong",
                tier=1,
                answer='"A"',
                final=True,
                audit_share=share,
            )
        )
    elif audited:
        rows.append(
            CallRecord(
                **common,
                model="claude-sonnet-4-5",
                role="audit",
                tier=1,
                answer='"A"',
                reference="A",
                correct=True,
                audit_share=share,
            )
        )
    return rows


def test_inverse_probability_weighting_recovers_the_true_accuracy(tmp_path):
    rng = random.Random(11)
    db = tmp_path / "calls.db"
    truth_right = truth_requests = 0
    # Two periods: few audits while the cheap model did well, many while it did badly. A plain
    # mean of the audits over-weights the bad period.
    periods = [(4000, 0.04, 0.96), (1000, 0.5, 0.70)]
    n = 0
    with CallLog(db) as log:
        for kept_requests, share, accuracy in periods:
            for _ in range(kept_requests):
                right = rng.random() < accuracy
                log.log_many(
                    _request(n, 1000.0 + n, share=share, kept=True, right=right, audited=rng.random() < share)
                )
                truth_right += right
                n += 1
            for _ in range(kept_requests // 4):  # escalated, answered right by the strong model
                log.log_many(_request(n, 1000.0 + n, share=share, kept=False, right=False, audited=False))
                truth_right += 1
                n += 1
        truth_requests = n
    truth = truth_right / truth_requests
    with LogReader(db) as reader:
        est = production_accuracy(reader)
    assert (est.kept, est.escalated, est.failed) == (5000, 1250, 0)
    assert est.low <= truth <= est.high
    assert abs(est.accuracy - truth) < 0.02
    # The plain mean of the audits is far off, and its own interval would miss the truth.
    kept_truth = (truth_right - 1250) / 5000
    assert est.naive_kept_accuracy < kept_truth - 0.08
    assert est.kept_low <= kept_truth <= est.kept_high
    assert est.audits > est.effective_audits  # unequal weights: fewer effective audits
    assert "Accuracy in production" in est.message() and "audits of 5,000 kept answers" in est.message()


def test_no_audits_says_how_to_get_them(tmp_path):
    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        log.log_many(_request(0, 1.0, share=0.0, kept=True, right=True, audited=False))
    with LogReader(db) as reader:
        est = production_accuracy(reader)
    assert est.accuracy is None and "set audit_share" in est.message()


def test_the_report_shows_accuracy_in_production_and_the_drift_check(tmp_path):
    from routermon.core.measure.report import build_report, render_markdown

    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for n in range(400):
            log.log_many(_request(n, 1000.0 + n, share=0.5, kept=True, right=n % 10 != 0, audited=n % 2 == 0))
    with LogReader(db) as reader:
        report = build_report(reader, max_loss=0.05)
    text = render_markdown(report)
    assert report.production is not None and report.production.audits == 200
    # The audited half (even requests) holds all the wrong answers: 40 of 200.
    assert "## In production" in text and "Accuracy in production: 80.0%" in text
    assert "- **Alert:** classify: loss at most" in text  # one in ten kept answers wrong: over 5 points


def test_the_sweep_leaves_audits_out_when_shadow_pairs_exist(tmp_path):
    from routermon.core.measure.analysis import analyse

    db = tmp_path / "calls.db"
    with CallLog(db) as log:
        for n in range(100):
            log.log_many(_request(n, 1000.0 + n, share=0.5, kept=True, right=True, audited=True))
        for n in range(100, 160):  # shadow pairs: every request, kept or not
            rows = _request(n, 1000.0 + n, share=0.0, kept=True, right=n % 2 == 0, audited=True)
            log.log_many(
                [
                    r.model_copy(update={"mode": "shadow", "role": "shadow" if r.role == "audit" else r.role})
                    for r in rows
                ]
            )
    with LogReader(db) as reader:
        result = analyse(reader)
        alone = production_accuracy(reader)
    assert result.pairs == 60 and result.sources == {"shadow": 60}
    assert any("100 audit pairs are left out of the sweep" in n for n in result.notes)
    assert alone.audits == 100
