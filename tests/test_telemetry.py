"""OpenTelemetry export: a span per routed request and per model call, GenAI conventions."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip(
    "opentelemetry.sdk", reason="the OpenTelemetry SDK is not installed (pip install 'routermon[otel]')"
)

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from routermon.core.log.reader import LogReader  # noqa: E402
from routermon.core.route.router import Router  # noqa: E402
from routermon.core.route.telemetry import Telemetry  # noqa: E402
from routermon.core.simulate.standin import StandInAPI, answer, http_error  # noqa: E402

CHEAP, STRONG = "claude-haiku-4-5", "claude-sonnet-4-5"


def _spans(tmp_path, *replies_by_model):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    api = StandInAPI()
    for model, replies in replies_by_model:
        api.enqueue(*replies, model=model)
    db = tmp_path / "calls.db"

    async def run():
        router = Router(
            CHEAP,
            STRONG,
            0.7,
            client=api.client(max_retries=0),
            log=db,
            telemetry=Telemetry(provider.get_tracer("t")),
        )
        try:
            return await router.route("classify", "some text", labels=["a", "b"])
        finally:
            await router.aclose()

    result = asyncio.run(run())
    return result, exporter.get_finished_spans(), db


def test_an_escalated_request_is_a_span_with_a_child_per_call(tmp_path):
    result, spans, db = _spans(
        tmp_path, (CHEAP, [answer("a", 0.3, input_tokens=40, output_tokens=9)]), (STRONG, [answer("b", 0.9)])
    )
    assert result.escalated
    by_name = {s.name: s for s in spans}
    parent = by_name["route classify"]
    cheap, strong = by_name[f"chat {CHEAP}"], by_name[f"chat {STRONG}"]
    assert cheap.parent.span_id == parent.context.span_id == strong.parent.span_id
    assert cheap.attributes["gen_ai.operation.name"] == "chat"
    assert cheap.attributes["gen_ai.provider.name"] == "anthropic"
    assert cheap.attributes["gen_ai.request.model"] == CHEAP
    assert cheap.attributes["gen_ai.usage.input_tokens"] == 40
    assert cheap.attributes["gen_ai.usage.output_tokens"] == 9
    assert cheap.attributes["routermon.escalation_reason"] == "low_confidence"
    assert cheap.attributes["routermon.confidence"] == 0.3
    assert strong.attributes["routermon.tier"] == 1 and strong.attributes["routermon.role"] == "strong"
    assert parent.attributes["routermon.escalated"] is True
    assert parent.start_time <= cheap.start_time <= cheap.end_time <= strong.start_time <= parent.end_time
    # The call log is the source of truth: the spans carry the same cost.
    with LogReader(db) as reader:
        rows = reader.calls_after(0)
    assert parent.attributes["routermon.cost_usd"] == pytest.approx(sum(r.cost_usd for r in rows))


def test_a_failed_call_carries_its_error_type(tmp_path):
    _result, spans, _db = _spans(tmp_path, (CHEAP, [http_error(529)]), (STRONG, [answer("b", 0.9)]))
    cheap = next(s for s in spans if s.name == f"chat {CHEAP}")
    assert cheap.attributes["error.type"] == "overloaded"
    assert cheap.status.status_code.name == "ERROR"


def test_otel_off_by_default_and_on_from_the_settings(tmp_path, monkeypatch):
    from routermon.core.settings import load_settings
    from routermon.core.workspace import Workspace

    assert Workspace(load_settings(), db=tmp_path / "c.db").telemetry is None
    config = tmp_path / "settings.toml"
    config.write_text("otel = true\n")
    monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
    from opentelemetry import trace

    provider = TracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    monkeypatch.setattr(trace, "get_tracer", lambda name: provider.get_tracer(name))
    assert isinstance(Workspace(load_settings(), db=tmp_path / "c.db").telemetry, Telemetry)
