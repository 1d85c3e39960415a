"""The audit report: traffic, escalation reasons, the sweep and examples, as Markdown and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import DATE_FILE

from routermon.core.clock import VirtualClock
from routermon.core.formatting import usd
from routermon.core.log.importing import import_pairs
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog
from routermon.core.measure.pairs import NoPairsError
from routermon.core.measure.report import build_report, condensed_rows, render_json, render_markdown
from routermon.core.route.router import Router
from routermon.core.simulate.standin import StandInAPI, answer, tool_input

CHEAP = "claude-haiku-4-5"
STRONG = "claude-sonnet-4-6"
LABELS = ["safe", "unsafe"]
CLOCK = VirtualClock(1_767_225_600.0)  # 2026-01-01 00:00 UTC


async def route_some(db: Path) -> None:
    """Four cascade requests: two kept, one low-confidence escalation, one invalid-output escalation."""
    api = StandInAPI()
    router = Router(CHEAP, STRONG, 0.7, client=api.client(max_retries=0), log=db, seed=3, clock=CLOCK)
    api.enqueue(answer("safe", 0.9), answer("unsafe", 0.95), model=CHEAP)
    api.enqueue(answer("safe", 0.2), model=CHEAP)
    api.enqueue(tool_input({"answer": "maybe", "confidence": 0.9}), model=CHEAP)
    api.enqueue(answer("unsafe", 0.9), answer("safe", 0.9), model=STRONG)
    for text in ("one", "two", "three", "four"):
        await router.route("classify", text, labels=LABELS)
    await router.aclose()


@pytest.fixture(scope="module")
def date_report(date_db):
    with LogReader(date_db) as reader:
        return build_report(reader, clock=CLOCK)


def test_markdown_report_on_the_date_pairs(date_report):
    md = render_markdown(date_report)
    assert md.startswith("# routermon audit\n\nGenerated 2026-01-01 00:00 UTC from ")
    for heading in (
        "## Traffic",
        "## Recommendation",
        "## Threshold sweep",
        "## Calibration of the cheap model's confidence",
        "## Where complexity lives (per task, at threshold 0.70)",
        "## The costliest disagreements",
        "## What these figures assume",
    ):
        assert heading in md
    assert "No routed traffic in the log yet" in md
    assert "## Guarantee\n\nNo threshold is guaranteed to lose at most 1.0 point" in md
    assert md.index("## Guarantee") < md.index("## Recommendation")
    assert "Observed on the same pairs (not guaranteed): No threshold reaches" in md
    assert json.loads(render_json(date_report))["analysis"]["guarantee"]["reason_code"] == "confidently_wrong"
    assert "No threshold reaches the target accuracy of 87.6%" in md
    assert "| cheap only | 0.0% | 64.5% (" in md and "| strong only | 100.0% | 88.6% (" in md
    assert "| 0.70 | 23.0% | 78.3% (73.8%–82.2%) |" in md
    assert "confidently wrong on 69 of 369 pairs" in md
    disagreements = md.split("## The costliest disagreements")[1].split("## What")[0]
    assert disagreements.count("\n| date |") == 10
    # Answers read as text, not JSON; the costliest first.
    first = date_report.analysis.disagreements[0]
    assert f"| date | {usd(first.cost_usd)} | 0.65 | 10/06/2010 | 02/06/2010 |" in disagreements


def test_report_sweep_is_condensed(date_report):
    assert [r.threshold for r in date_report.sweep] == [round(i / 10, 1) for i in range(11)]
    assert len(date_report.analysis.rows) == 21


def test_json_report_has_every_section(date_report):
    data = json.loads(render_json(date_report))
    assert data["generated_at"] == CLOCK.now()
    assert data["traffic"]["requests"] == 0
    analysis = data["analysis"]
    assert {
        "rows",
        "cheap_only",
        "strong_only",
        "recommended",
        "calibration",
        "per_task",
        "disagreements",
    } <= set(analysis)
    assert len(analysis["disagreements"]) == 10
    costs = [d["cost_usd"] for d in analysis["disagreements"]]
    assert costs == sorted(costs, reverse=True)
    assert data["no_pairs"] is None


async def test_report_counts_traffic_and_escalation_reasons(tmp_path):
    db = tmp_path / "calls.db"
    await route_some(db)
    import_pairs(DATE_FILE, db)
    with LogReader(db) as reader:
        assert reader.escalation_reasons() == {"invalid_output": 1, "low_confidence": 1}
        report = build_report(reader, clock=CLOCK)
    t = report.traffic
    assert (t.requests, t.escalated, t.calls) == (4, 2, 6)  # imported pairs are not traffic
    assert t.escalation_share == 0.5 and t.spend_usd > 0
    assert [(s.task, s.requests) for s in t.per_task] == [("classify", 4)]
    md = render_markdown(report)
    assert "| 4 | 0 | 6 |" in md and "| 2 (50.0%) |" in md
    assert "| low_confidence | 1 | 50.0% |" in md and "| invalid_output | 1 | 50.0% |" in md
    assert report.analysis is not None and report.analysis.pairs == 369


async def test_traffic_without_pairs_still_reports_and_says_how_to_get_pairs(tmp_path):
    db = tmp_path / "calls.db"
    await route_some(db)
    with LogReader(db) as reader:
        report = build_report(reader, clock=CLOCK)
    assert report.analysis is None and report.sweep == []
    md = render_markdown(report)
    assert "## Threshold analysis" in md and "routermon import FILE" in md and "## Recommendation" not in md


def test_empty_log_is_a_clear_error(tmp_path):
    db = tmp_path / "calls.db"
    CallLog(db).close()
    with (
        LogReader(db) as reader,
        pytest.raises(NoPairsError, match="no routed traffic and no paired outcomes"),
    ):
        build_report(reader)


def test_condensed_rows_keep_the_recommended_threshold(date_db):
    with LogReader(date_db) as reader:
        report = build_report(reader, target_accuracy=0.83)
    assert report.analysis.recommended.threshold == 0.85
    assert 0.85 in [r.threshold for r in condensed_rows(report.analysis)]
    assert "| 0.85 ← recommended |" in render_markdown(report)
