"""The audit report: what the router did and what the paired outcomes say, for a team lead.

``build_report(reader, ...) -> AuditReport`` gathers traffic, spend, escalation share and
reasons (from ``LogReader``, imported pairs excluded) and the threshold analysis
(``routermon.core.measure.analysis.analyse``: sweep, recommendation, calibration, per task, the ten
costliest disagreements). ``render_markdown(report)`` and ``render_json(report)`` turn it into a
document. A log with traffic but no pairs still reports, and says how to get pairs.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from pydantic import BaseModel

from ..clock import SYSTEM_CLOCK, Clock
from ..formatting import DASH, count, escalation_basis, json_text, ms, pct, plural, usd
from ..log.reader import GroupStats, LogReader
from .analysis import DEFAULT_THRESHOLD, REPORT_ROW_STEP, SweepResult, SweepRow, analyse, shown_rows
from .guarantee import DEFAULT_CONFIDENCE, DEFAULT_MAX_LOSS
from .judge import JudgeFigures, logged_judge_figures
from .judge_check import JudgeCheck, judge_checks
from .pairs import NoPairsError
from .pairtable import read_table
from .production import ProductionAccuracy, from_pairs
from .quality import TaskQuality, table_quality, task_cheap_accuracy
from .watch import DEFAULT_WINDOW, CheckResult, check

EXAMPLES_SHOWN = 10


class TaskTraffic(BaseModel):
    """Routed traffic of one task."""

    task: str
    requests: int
    cascade_requests: int = 0
    shadow_requests: int = 0
    escalated: int  # cascade requests escalated
    escalation_share: float | None  # over cascade requests
    spend_usd: float
    spend_share: float | None
    cheap_accuracy: float | None  # ``quality.task_cheap_accuracy``: the judged pairs', else the log's
    cheap_judged: int = 0  # answers that figure is over
    cheap_accuracy_sources: str = ""  # what it rests on: the pairs' sources, or "log"


class Traffic(BaseModel):
    """Routed requests in the log (imported pairs are not traffic)."""

    requests: int
    calls: int
    escalated: int  # cascade requests escalated
    escalation_share: float | None  # over cascade requests; shadow requests apart
    errors: int
    spend_usd: float
    input_tokens: int
    output_tokens: int
    first_ts: float | None
    last_ts: float | None
    escalation_reasons: dict[str, int]
    per_task: list[TaskTraffic]
    thinking_tokens: int = 0  # part of output_tokens, billed as output (so inside spend_usd)
    cascade_requests: int = 0
    shadow_requests: int = 0
    shadow_escalated: int = 0  # shadow requests the policy would have escalated
    failed_requests: int = 0  # requests that got no answer
    recovered: int = 0  # failed calls that escalated, in requests then answered
    degraded: int = 0  # cascade answers from a lower tier because the tier above failed
    latency_p50_ms: float | None = None  # per answered request, first call to answer
    latency_p95_ms: float | None = None


class AuditReport(BaseModel):
    """Everything ``routermon report`` shows."""

    generated_at: float
    db_path: str
    task: str | None
    traffic: Traffic
    analysis: SweepResult | None
    sweep: list[SweepRow]  # condensed rows of ``analysis.rows``
    no_pairs: str | None  # why there is no analysis, and how to get one
    production: ProductionAccuracy | None = None  # from the audits (cascade traffic only)
    watch: CheckResult | None = None  # drift per task and the budget, as ``routermon check``
    judge_checks: list[JudgeCheck] = []  # the judge against human labels, per task (and overall)
    # The LLM judge's verdicts, position bias and spend: the cost of measuring, not in traffic spend.
    judge: JudgeFigures | None = None


def condensed_rows(result: SweepResult) -> list[SweepRow]:
    """The report's sweep rows: every 0.1, plus the recommended and the chosen thresholds."""
    return shown_rows(result, step=REPORT_ROW_STEP)


def _traffic(reader: LogReader, quality: dict[str, TaskQuality]) -> Traffic:
    """The log's traffic; each task's cheap accuracy from its judged pairs in ``quality`` where it has some."""
    summary = reader.summary()
    tasks = reader.per_task()
    latencies = reader.latency_histogram()
    total = sum(t.spend_usd for t in tasks)
    return Traffic(
        requests=summary.requests,
        calls=summary.calls,
        escalated=summary.cascade_escalated,
        escalation_share=summary.escalation_share,
        cascade_requests=summary.cascade_requests,
        shadow_requests=summary.shadow_requests,
        shadow_escalated=summary.shadow_escalated,
        failed_requests=summary.failed_requests,
        recovered=summary.recovered,
        degraded=summary.degraded,
        latency_p50_ms=latencies.percentile(50),
        latency_p95_ms=latencies.percentile(95),
        errors=summary.errors,
        spend_usd=summary.spend_usd,
        input_tokens=summary.input_tokens,
        output_tokens=summary.output_tokens,
        thinking_tokens=summary.thinking_tokens,
        first_ts=summary.first_ts,
        last_ts=summary.last_ts,
        escalation_reasons=reader.escalation_reasons(),
        per_task=[_task_traffic(t, quality.get(t.key), total) for t in tasks],
    )


def _task_traffic(stats: GroupStats, quality: TaskQuality | None, total_spend: float) -> TaskTraffic:
    accuracy = task_cheap_accuracy(stats, quality)
    return TaskTraffic(
        task=stats.key,
        requests=stats.requests,
        cascade_requests=stats.cascade_requests,
        shadow_requests=stats.shadow_requests,
        escalated=stats.cascade_escalated,
        escalation_share=stats.escalation_share,
        spend_usd=stats.spend_usd,
        spend_share=stats.spend_usd / total_spend if total_spend else None,
        cheap_accuracy=accuracy.accuracy,
        cheap_judged=accuracy.judged,
        cheap_accuracy_sources=accuracy.sources,
    )


def build_report(
    reader: LogReader,
    *,
    task: str | None = None,
    target_accuracy: float | None = None,
    max_escalation: float | None = None,
    threshold: float | None = None,
    default_threshold: float = DEFAULT_THRESHOLD,
    clock: Clock | None = None,
    max_loss: float = DEFAULT_MAX_LOSS,
    confidence: float = DEFAULT_CONFIDENCE,
    budget_usd: float | None = None,
    window: int = DEFAULT_WINDOW,
    days: float | None = None,
) -> AuditReport:
    """The audit of the log behind ``reader``; ``NoPairsError`` when it has neither traffic nor pairs."""
    # The log's pairs, read once (bounded memory) for the sweep, the production figure, the judge
    # and the cheap accuracy per task.
    table = read_table(reader, task, (threshold, default_threshold))
    traffic = _traffic(reader, {q.task: q for q in table_quality(table)})
    try:
        result = analyse(
            reader,
            task,
            table=table,
            target_accuracy=target_accuracy,
            max_escalation=max_escalation,
            threshold=threshold,
            default_threshold=default_threshold,
            max_loss=max_loss,
            confidence=confidence,
        )
    except NoPairsError as exc:
        if traffic.requests == 0 and not (table.scope(task).n if task is None else reader.pair_tasks()):
            raise NoPairsError(
                f"The call log {reader.path} has no routed traffic and no paired outcomes to report on; "
                "route some requests, or run `routermon shadow FILE --task T` or `routermon import FILE`."
            ) from None
        result, missing = None, str(exc)
    else:
        missing = None
    judged = table.scope(task)
    outcomes = reader.cascade_outcomes(task)
    production = from_pairs(judged, outcomes, task) if sum(outcomes) else None
    watch = check(
        reader,
        max_loss=max_loss,
        confidence=confidence,
        budget_usd=budget_usd,
        window=window,
        days=days,
        task=task,
        clock=clock,
    )
    # Only pairs with a judge verdict and a human label (of the spot checks) count.
    checks = judge_checks(judged) if result is not None else []
    return AuditReport(
        production=production,
        watch=watch,
        generated_at=(clock or SYSTEM_CLOCK).now(),
        db_path=str(reader.path),
        task=task,
        traffic=traffic,
        analysis=result,
        sweep=condensed_rows(result) if result else [],
        no_pairs=missing,
        judge_checks=checks,
        judge=_judge(reader, task),
    )


def _judge(reader: LogReader, task: str | None) -> JudgeFigures | None:
    return logged_judge_figures(reader, task)


def _judge_md(j: JudgeFigures) -> list[str]:
    low, high = j.first_interval
    bias = {
        "first": "the judge favours the answer shown first",
        "second": "the judge favours the answer shown second",
        None: "no position bias shown",
    }[j.favours]
    out = [
        "## The LLM judge (cost of measuring)",
        "",
        f"{count(j.calls)} judge calls by {md_text(', '.join(j.models) or DASH)} cost {usd(j.spend_usd)}: "
        "the cost of measuring, not part of the serving spend above.",
        "",
    ]
    if j.pruned_calls:
        out += [
            f"The rows of {plural(j.pruned_calls, 'judge call')} were pruned: their cost is counted above "
            "(the rollups keep it), their verdicts are gone with them.",
            "",
        ]
    if j.pruned_calls and not j.verdicts:
        return out  # every verdict was pruned: what judging cost is what is left
    out += [
        f"Cheap answer acceptable in {pct(j.cheap_acceptable_share)} of {count(j.verdicts)} verdicts; "
        f"balanced over the order shown {pct(j.balanced_accuracy)} (cheap shown first "
        f"{pct(j.accuracy_cheap_first)}, second {pct(j.accuracy_cheap_second)}).",
        "",
    ]
    if j.decisive:
        out += [
            f"Position bias: {pct(j.first_share)} of {count(j.decisive)} decisive verdicts chose the "
            f"answer shown first (95% CI {pct(low)} to {pct(high)}): {bias}.",
            "",
        ]
    return out


# -- rendering -------------------------------------------------------------------------------------


def render_json(report: AuditReport) -> str:
    """The report as indented JSON (every figure, not only the condensed ones)."""
    return json_text(report.model_dump(mode="json"))


def answer_text(answer_json: str | None) -> str | None:
    """A logged answer (JSON text) as a person reads it: a string without its quotes."""
    if answer_json is None:
        return None
    try:
        value = json.loads(answer_json)
    except ValueError:
        return answer_json
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _when(ts: float | None) -> str:
    return DASH if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M UTC")


# Characters that can start Markdown structure inside a line (emphasis, code, links, images, HTML,
# entities, table cells, strikethrough, headings, escapes). Each is backslash-escaped in data, which
# CommonMark defines as the literal character for any ASCII punctuation
# (https://spec.commonmark.org/0.31.2/#backslash-escapes).
# An underscore between two letters or digits cannot open or close emphasis, so ``low_confidence``
# stays readable; anywhere else it is escaped.
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|&~#!]|(?<![^\W_])_|_(?![^\W_]))")

_MD_LINE_START = re.compile(r"^(\d{0,9})([-+=.)])(?=\s|$)")


def md_text(value: object) -> str:
    """Text from data as literal Markdown on one line: whitespace (newlines included) collapsed to
    single spaces and every character that could make structure escaped, so an answer containing
    ``|``, a heading, an HTML tag or a backtick reads as written and never changes the document."""
    text = _MD_SPECIAL.sub(r"\\\1", " ".join((DASH if value is None else str(value)).split()))
    # At the start of a line (a list item's text, a cell), a list marker or a setext underline
    # would still make structure: escape it too.
    return _MD_LINE_START.sub(r"\1\\\2", text, count=1)


def _cell(value: object, width: int = 60) -> str:
    """A table cell from data: literal (``md_text``), on one line, long text cut before escaping."""
    text = DASH if value is None else " ".join(str(value).split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return md_text(text)


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _traffic_md(t: Traffic) -> list[str]:
    out = ["## Traffic", ""]
    if t.requests == 0:
        return out + ["No routed traffic in the log yet (imported pairs are not traffic).", ""]
    out += _table(
        ["requests", "shadow", "calls", "spend", "escalated (of cascade)", "failed calls", "from", "to"],
        [
            [
                count(t.requests),
                count(t.shadow_requests),
                count(t.calls),
                usd(t.spend_usd),
                f"{count(t.escalated)} ({pct(t.escalation_share)})",
                count(t.errors),
                _when(t.first_ts),
                _when(t.last_ts),
            ]
        ],
    )
    out += [
        "",
        f"Escalated {pct(t.escalation_share)} {escalation_basis(t.cascade_requests, t.shadow_requests)}.",
        "",
        f"Latency per request (first call to answer): p50 {ms(t.latency_p50_ms)}, p95 {ms(t.latency_p95_ms)}.",
        "",
        f"Errors: {count(t.failed_requests)} of {count(t.requests)} requests got no answer;"
        f" {count(t.recovered)} of the {count(t.errors)} failed calls escalated and the request was answered"
        + (
            f"; {plural(t.degraded, 'answer')} {'was' if t.degraded == 1 else 'were'} degraded (a lower"
            " tier's, because the tier it escalated to failed)."
            if t.degraded
            else "."
        ),
        "",
    ]
    if t.thinking_tokens:
        share = pct(t.thinking_tokens / t.output_tokens if t.output_tokens else None)
        out += [
            f"Thinking tokens: {count(t.thinking_tokens)} of {count(t.output_tokens)} output tokens ({share}); "
            "they are billed as output tokens and included in the spend above.",
            "",
        ]
    if t.escalation_reasons:
        out += ["Escalation reasons (first reason per escalated request):", ""]
        out += _table(
            ["reason", "requests", "share of escalations"],
            [
                [r, count(n), pct(n / t.escalated if t.escalated else None)]
                for r, n in t.escalation_reasons.items()
            ],
        )
        out.append("")
    if t.per_task:
        out += _table(
            ["task", "cascade", "shadow", "escalated", "spend", "share of spend", "cheap accuracy"],
            [
                [
                    s.task,
                    count(s.cascade_requests),
                    count(s.shadow_requests),
                    pct(s.escalation_share),
                    usd(s.spend_usd),
                    pct(s.spend_share),
                    f"{pct(s.cheap_accuracy)} ({s.cheap_accuracy_sources})" if s.cheap_judged else DASH,
                ]
                for s in t.per_task
            ],
        )
        out.append("")
    return out


def _sweep_md(report: AuditReport, a: SweepResult) -> list[str]:
    out = ["## Threshold sweep", ""]
    out.append(
        f"Escalate when the cheap model's confidence is below the threshold. {plural(a.pairs, 'paired outcome')}; "
        f"cheap: {md_text(', '.join(a.cheap_models))}; strong: {md_text(', '.join(a.strong_models))}. "
        "Accuracy with its 95% Wilson interval; costs per 1,000 requests."
    )
    out.append("")
    rows: list[list[object]] = []
    for base, label in ((a.cheap_only, "cheap only"), (a.strong_only, "strong only")):
        rows.append(
            [
                label,
                "0.0%" if base.name == "cheap_only" else "100.0%",
                f"{pct(base.accuracy)} ({pct(base.accuracy_low)}–{pct(base.accuracy_high)})",
                usd(base.cost_per_1k_requests_usd),
                pct(base.cost_vs_strong, 0),
            ]
        )
    for r in report.sweep:
        mark = " ← recommended" if r.threshold == a.recommended.threshold else ""
        rows.append(
            [
                f"{r.threshold:.2f}{mark}",
                pct(r.escalation_share),
                f"{pct(r.accuracy)} ({pct(r.accuracy_low)}–{pct(r.accuracy_high)})",
                usd(r.cost_per_1k_requests_usd),
                pct(r.cost_vs_strong, 0),
            ]
        )
    out += _table(
        ["threshold", "escalated", "accuracy (95% CI)", "cost / 1k requests", "vs always-strong"], rows
    )
    out += [
        "",
        f"Showing every {REPORT_ROW_STEP:.1f}; `routermon thresholds` lists all {len(a.rows)} thresholds.",
        "",
    ]
    return out


def _calibration_md(a: SweepResult) -> list[str]:
    c = a.calibration
    out = ["## Calibration of the cheap model's confidence", ""]
    ece = DASH if c.ece is None else f"{c.ece:.3f}"
    out.append(
        f"Expected calibration error: {ece} (0 means the confidence is the chance of being right). "
        f"At threshold {c.threshold:.2f} the cheap model is confidently wrong on {count(c.confidently_wrong)} of "
        f"{plural(c.judged, 'pair')} ({pct(c.confidently_wrong_share)}; {pct(c.confidently_wrong_share_of_kept)} of "
        "the answers it keeps): no threshold at or below this one catches them."
    )
    out.append("")
    out += _table(
        ["confidence", "pairs", "mean confidence", "accuracy"],
        [
            [f"{b.low:.1f}–{b.high:.1f}", count(b.count), pct(b.mean_confidence), pct(b.accuracy)]
            for b in c.bins
            if b.count
        ],
    )
    out.append("")
    if c.examples:
        out += ["Confidently wrong, most confident first:", ""]
        out += _table(
            ["task", "confidence", "cheap answer", "strong answer", "reference", "input"],
            [
                [
                    e.task,
                    f"{e.confidence:.2f}",
                    answer_text(e.cheap_answer),
                    answer_text(e.strong_answer),
                    e.reference,
                    e.input_preview,
                ]
                for e in c.examples[:EXAMPLES_SHOWN]
            ],
        )
        out.append("")
    return out


def _per_task_md(a: SweepResult) -> list[str]:
    out = [f"## Where complexity lives (per task, at threshold {a.chosen_threshold:.2f})", ""]
    out += _table(
        [
            "task",
            "pairs",
            "cheap accuracy (95% interval, correctness from)",
            "escalated",
            "accuracy",
            "share of spend",
            "own recommendation",
        ],
        [
            [
                s.task,
                f"{count(s.pairs)}"
                + (f" (+{count(s.quality.unjudged)} unjudged)" if s.quality.unjudged else ""),
                f"{pct(s.cheap_accuracy)} ({pct(s.quality.low)}–{pct(s.quality.high)}; {s.quality.sources})",
                pct(s.escalation_share),
                pct(s.accuracy),
                pct(s.spend_share),
                "none meets the target"
                if s.recommended_threshold is None
                else f"{s.recommended_threshold:.2f}",
            ]
            for s in a.per_task
        ],
    )
    out.append("")
    for s in a.per_task:
        if not s.quality.fields:
            continue
        out += [
            f"Fields of `{s.task}`: how often the cheap answer's field agrees with the strong answer's "
            "(weakest first; strings compared without case and spacing, numbers, amounts and dates by value):",
            "",
        ]
        out += _table(
            ["field", "agree", "95% interval"],
            [
                [f.field, f"{pct(f.agreement)} of {count(f.pairs)}", f"{pct(f.low)}–{pct(f.high)}"]
                for f in s.quality.fields
            ],
        )
        out.append("")
    return out


def _disagreements_md(a: SweepResult) -> list[str]:
    out = ["## The costliest disagreements", ""]
    if not a.disagreements:
        return out + ["The two models agree on every pair.", ""]
    out += _table(
        ["task", "cost", "confidence", "cheap answer", "strong answer", "reference", "input"],
        [
            [
                e.task,
                usd(e.cost_usd),
                "failed" if e.confidence is None else f"{e.confidence:.2f}",
                answer_text(e.cheap_answer),
                answer_text(e.strong_answer),
                e.reference,
                e.input_preview,
            ]
            for e in a.disagreements[:EXAMPLES_SHOWN]
        ],
    )
    return out + [""]


def _production_md(report: AuditReport) -> list[str]:
    if report.production is None and (
        report.watch is None or (not report.watch.drift and not report.watch.budget)
    ):
        return []
    out = ["## In production", ""]
    if report.production is not None:
        out += [md_text(report.production.message()), ""]
    if report.watch is not None:
        for d in report.watch.drift:
            flag = "**Alert:** " if d.alert else ""
            out.append(f"- {flag}{md_text(d.message())}")
        if report.watch.budget is not None:
            flag = "**Alert:** " if report.watch.budget.alert else ""
            out.append(f"- {flag}{md_text(report.watch.budget.message())}")
        if report.watch.drift or report.watch.budget:
            out.append("")
    return out


def _judge_check_md(checks: list[JudgeCheck]) -> list[str]:
    if not checks:
        return []
    out = [
        "## The judge against people",
        "",
        "Where a pair has both a judge verdict and a human label: how often they agree on whether the "
        "cheap answer is right (95% Wilson interval; Cohen's kappa on the same yes/no), and the cheap "
        "accuracy from the judge on every judged pair corrected by the labelled ones "
        "(prediction-powered inference, 95% interval).",
        "",
    ]
    for jc in checks:
        scope = md_text(jc.task) if jc.task is not None else "all tasks"
        out.append(
            f"- **{scope}**: judge and people {md_text(jc.agreement_text)}; {md_text(jc.estimate_text)}"
            f" — {md_text(jc.footing)}."
        )
    return out + [""]


def render_markdown(report: AuditReport) -> str:
    """The report as a Markdown document."""
    scope = f" for task {md_text(report.task)}" if report.task else ""
    out = [
        f"# routermon audit{scope}",
        "",
        f"Generated {_when(report.generated_at)} from {md_text(report.db_path)}.",
        "",
    ]
    out += _traffic_md(report.traffic)
    out += _production_md(report)
    if report.judge is not None:
        out += _judge_md(report.judge)
    a = report.analysis
    if a is None:
        out += ["## Threshold analysis", "", md_text(report.no_pairs or ""), ""]
        return "\n".join(out).rstrip() + "\n"
    out += ["## Guarantee", "", md_text(a.guarantee.message), ""]
    out += [
        "## Recommendation",
        "",
        f"Observed on the same pairs (not guaranteed): {md_text(a.recommended.message)}",
        "",
    ]
    out += _sweep_md(report, a)
    out += _calibration_md(a)
    out += _per_task_md(a)
    out += _disagreements_md(a)
    out += _judge_check_md(report.judge_checks)
    out += ["## What these figures assume", ""]
    out += [f"- {md_text(note)}" for note in a.notes]
    return "\n".join(out).rstrip() + "\n"


__all__ = [
    "AuditReport",
    "TaskTraffic",
    "answer_text",
    "Traffic",
    "build_report",
    "condensed_rows",
    "render_json",
    "render_markdown",
    "usd",
]
