"""Scenario behaviour: the seeded ``Reply`` a scenario's model gives to one request.

Per model: latency and error rates (429 with retry-after, 500, 529, timeouts, connection resets,
malformed replies, refusals). Per task and tier: accuracy and confidence on the clear and the
ambiguous slice, and output token counts. The scenario file itself is ``routermon.core.simulate.scenario``.
"""

from __future__ import annotations

import random
from typing import Any

from ...measure.judge import POSITION_VERDICTS, parse_judge_message
from ..scenario import ErrorRates, Scenario, TaskProfile, is_ambiguous, item_hash, true_label
from ..simtext import invoice_fields, keeps_facts, key_facts, slip, write_summary
from .replies import (
    Reply,
    answer,
    broken_body,
    connection_reset,
    empty,
    http_error,
    refusal,
    text_only,
    timeout,
    tool_input,
    truncated,
)

MALFORMED_KINDS = (
    "broken_body",
    "confidence_out_of_range",
    "missing_confidence",
    "wrong_type",
    "empty",
    "truncated",
    "text_only",
)

_MALFORMED_PAYLOADS = {
    "confidence_out_of_range": {"answer": "safe", "confidence": 1.7},
    "missing_confidence": {"answer": "safe"},
    "wrong_type": {"answer": 123, "confidence": "high"},
}


def scenario_reply(scenario: Scenario, request: dict, task_name: str | None, rng: random.Random) -> Reply:
    """The reply ``scenario``'s model gives to ``request``; ``task_name`` picks the task by name."""
    profile = scenario.model_profile(request["model"])
    latency_ms = profile.latency_ms.sample(rng)
    failure = _pick_failure(profile.errors, rng.random())
    if failure is not None:
        return failure_reply(failure, rng, latency_ms)
    schema = _answer_schema(request)
    if schema.get("enum") == list(POSITION_VERDICTS):
        shown = _judged_texts(request)
        if shown is not None:
            return _judge_reply(scenario, *shown, rng, latency_ms)
    text = _user_text(request)
    task = _task_for(scenario, task_name, schema)
    behaviour = task.cheap if profile.tier == "cheap" else task.strong
    ambiguous = is_ambiguous(text, task)
    p_right = behaviour.ambiguous_accuracy if ambiguous else behaviour.accuracy
    right = rng.random() < p_right
    if ambiguous:
        confidence = behaviour.confidence_ambiguous.sample(rng)
    else:
        confidence = (behaviour.confidence_right if right else behaviour.confidence_wrong).sample(rng)
    value = _make_answer(schema, text, right, rng, wording=f"{request['model']}:{confidence!r}")
    out_tokens = max(1, round(task.output_tokens.sample(rng)))
    return answer(value, round(confidence, 4), output_tokens=out_tokens, latency_ms=latency_ms)


def failure_reply(failure: str, rng: random.Random, latency_ms: float) -> Reply:
    """The reply for one of ``ErrorRates``' failure names (``malformed`` draws one of MALFORMED_KINDS)."""
    if failure == "rate_limited":
        reply = http_error(429, retry_after=round(rng.uniform(0.2, 2.0), 3))
    elif failure == "server_error":
        reply = http_error(500)
    elif failure == "overloaded":
        # A 529 may carry retry-after ("use it if it's there": learn.microsoft.com/en-us/
        # microsoft-cloud/dev/dev-proxy/concepts/anthropic-529-overloaded-error, after Anthropic's
        # errors page); the stand-in sends one, so the client's handling of it is exercised. A fixed
        # second: no draw from the scenario's generator, so a seed's traffic stays what it was.
        reply = http_error(529, retry_after=1.0)
    elif failure == "timeout":
        reply = timeout()
    elif failure == "connection_reset":
        reply = connection_reset()
    elif failure == "refusal":
        reply = refusal()
    else:
        kind = MALFORMED_KINDS[rng.randrange(len(MALFORMED_KINDS))]
        makers = {"broken_body": broken_body, "empty": empty, "truncated": truncated, "text_only": text_only}
        reply = makers[kind]() if kind in makers else tool_input(_MALFORMED_PAYLOADS[kind])
    # A timeout's wait is the API's timeout_s, not the model's latency.
    reply.latency_ms = latency_ms if failure != "timeout" else 0.0
    return reply


def _pick_failure(errors: ErrorRates, draw: float) -> str | None:
    edge = 0.0
    for name in type(errors).model_fields:
        edge += getattr(errors, name)
        if draw < edge:
            return name
    return None


def _answer_schema(request: dict) -> dict:
    # The structured-output schema, else the first tool's input schema, else a plain string answer.
    schema = ((request.get("output_config") or {}).get("format") or {}).get("schema")
    if not isinstance(schema, dict):
        tools = request.get("tools") or []
        schema = tools[0].get("input_schema", {}) if tools else {}
    answer_schema = schema.get("properties", {}).get("answer", {"type": "string"})
    return _resolve(answer_schema, schema.get("$defs", {}))


def _resolve(schema: dict, defs: dict) -> dict:
    ref = schema.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return _resolve(defs.get(ref.rsplit("/", 1)[1], {}), defs)
    if "properties" in schema:
        schema = {**schema, "properties": {k: _resolve(v, defs) for k, v in schema["properties"].items()}}
    if "anyOf" in schema:
        schema = {**schema, "anyOf": [_resolve(s, defs) for s in schema["anyOf"]]}
    return schema


def _user_text(request: dict) -> str:
    content = request["messages"][-1].get("content", "") if request["messages"] else ""
    if isinstance(content, list):
        content = "".join(block.get("text", "") for block in content if isinstance(block, dict))
    lines = str(content).split("\n")
    if len(lines) >= 3 and lines[0].startswith("<input-") and lines[-1].startswith("</input-"):
        return "\n".join(lines[1:-1])
    return str(content)


def _task_for(scenario: Scenario, name: str | None, schema: dict) -> TaskProfile:
    task = scenario.task(name) if name else None
    if task is None:
        kind = (
            "classify" if "enum" in schema else ("extract" if schema.get("type") == "object" else "summarize")
        )
        task = scenario.task_of_kind(kind) or scenario.tasks[0]
    return task


def _make_answer(schema: dict, text: str, right: bool, rng: random.Random, wording: str = "") -> Any:
    if "enum" in schema:
        labels = list(schema["enum"])
        truth = true_label(text, labels)
        if right or len(labels) == 1:
            return truth
        return rng.choice([label for label in labels if label != truth])
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        truth = invoice_fields(text)
        if truth and set(properties) <= set(truth):
            # An invoice of the simulator, asked for its fields: the right answer is what the text
            # states; a wrong one slips on one field. One draw per field, as the generic path takes,
            # so the scenario's later draws stay where they were.
            draws = [] if right else [rng.randrange(1, 1000) for _ in properties]
            fields = {name: truth[name] for name in properties}
            # Structured outputs constrain the reply to the schema ("JSON outputs (output_config.format)",
            # https://platform.claude.com/docs/en/build-with-claude/structured-outputs), so a slip
            # leaves out only a field that may be null.
            nullable = {
                name
                for name, sub in properties.items()
                if any(o.get("type") == "null" for o in sub.get("anyOf", []))
            }
            return fields if right else slip(fields, draws, nullable)
        return {name: _field_value(sub, text, name, right, rng) for name, sub in properties.items()}
    # Free text: a paraphrase that keeps the input's key facts, or one that misses or changes one.
    # Its wording comes from its own generator, seeded by the model and a draw already made (the
    # confidence), so two models and two runs word it differently and the scenario's draws stay as
    # they were.
    return write_summary(text, right, random.Random(f"{wording}:{right}"))


def _field_value(schema: dict, text: str, name: str, right: bool, rng: random.Random) -> Any:
    options = schema.get("anyOf")
    if options:
        non_null = [s for s in options if s.get("type") != "null"]
        schema = non_null[0] if non_null else {"type": "null"}
    kind = schema.get("type", "string")
    h = item_hash(f"{name}:{text}") + (0 if right else rng.randrange(1, 1000))
    if "enum" in schema:
        return schema["enum"][h % len(schema["enum"])]
    if kind == "integer":
        return h % 1000
    if kind == "number":
        return round((h % 100000) / 100, 2)
    if kind == "boolean":
        return bool(h % 2)
    if kind == "null":
        return None
    if kind == "array":
        return [w for w in text.split()[: 1 + h % 3]]
    words = text.split() or ["unknown"]
    return words[h % len(words)]


def _judged_texts(request: dict) -> tuple[str, str, str] | None:
    # A judge request (core/judge.py): its user turn holds the input and the two answers, delimited.
    content = request["messages"][-1].get("content", "") if request["messages"] else ""
    if isinstance(content, list):
        content = "".join(block.get("text", "") for block in content if isinstance(block, dict))
    return parse_judge_message(str(content))


def _judge_reply(
    scenario: Scenario, text: str, first: str, second: str, rng: random.Random, latency_ms: float
) -> Reply:
    """The stand-in as judge: the truth is which answers keep the input's key facts; it says the
    truth with ``judge_accuracy`` (else another verdict), then favours the first-shown answer so
    that ``judge_first_bias`` of its decisive verdicts pick it (the order is random per pair, so
    its decisive verdicts pick each position equally often before that)."""
    facts = key_facts(text)
    first_ok, second_ok = keeps_facts(first, facts), keeps_facts(second, facts)
    truth = {(True, True): "both", (True, False): "A", (False, True): "B"}.get(
        (first_ok, second_ok), "neither"
    )
    shown = truth
    if rng.random() >= scenario.judge_accuracy:
        shown = rng.choice([v for v in POSITION_VERDICTS if v != truth])
    bias = scenario.judge_first_bias
    if shown == "B" and bias > 0.5 and rng.random() < 2 * bias - 1:
        shown = "A"
    elif shown == "A" and bias < 0.5 and rng.random() < 1 - 2 * bias:
        shown = "B"
    confidence = round(scenario.judge_confidence.sample(rng), 4)
    # Rendered like every answer: one JSON text under output_config.format, else the tool call
    # (wire.render, from the request).
    return answer(shown, confidence, output_tokens=12, latency_ms=latency_ms)
