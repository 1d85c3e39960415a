"""OpenTelemetry export (optional: ``pip install routermon[otel]``, ``otel = true`` in the settings).

Each routed request becomes a span (``route {task}``) with a child span per model call
(``chat {model}``), following the OpenTelemetry GenAI semantic conventions for the calls
(https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/): ``gen_ai.operation.name``
(``chat``), ``gen_ai.provider.name`` (``anthropic``), ``gen_ai.request.model``,
``gen_ai.response.model``, ``gen_ai.usage.input_tokens`` (cache reads and writes included, as the
conventions ask: Anthropic's ``input_tokens`` leaves them out), ``gen_ai.usage.output_tokens``,
``gen_ai.usage.cache_read.input_tokens``, ``gen_ai.usage.cache_creation.input_tokens`` and
``error.type``. routermon's own figures go under ``routermon.``: confidence, escalation reason,
tier, role, mode, cost in USD, thinking tokens, request id.

Spans are made after each request finishes, with the calls' own start and end times, from the
same figures the call log gets: the log stays the source of truth, and a tracing backend that is
down costs the request path nothing but the span processor's queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError

PROVIDER = "anthropic"
_NS = 1_000_000_000


class Telemetry:
    """Turns a finished request's calls into spans on ``tracer`` (an OpenTelemetry ``Tracer``)."""

    def __init__(self, tracer: Any):
        from opentelemetry import trace

        self._tracer = tracer
        self._set_in_context = trace.set_span_in_context
        self._error = trace.StatusCode.ERROR

    @classmethod
    def configured(cls) -> Telemetry:
        """The application's tracer; if the application set up no tracer provider, one that sends
        spans over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the exporter's own defaults)."""
        try:
            from opentelemetry import trace
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            raise ConfigError(
                "otel = true needs the OpenTelemetry SDK: pip install 'routermon[otel]'."
            ) from None
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):  # the API's no-op proxy: nobody configured one
            try:
                from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            except ImportError:
                raise ConfigError(
                    "otel = true with no tracer provider set up needs the OTLP exporter: "
                    "pip install 'routermon[otel]'."
                ) from None
            provider = TracerProvider()
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            trace.set_tracer_provider(provider)
        return cls(trace.get_tracer("routermon"))

    def record(
        self,
        task: str,
        request_id: str,
        mode: str,
        calls: Sequence[tuple[float, dict[str, Any]]],
        final_index: int | None,
    ) -> None:
        """Spans for one request: ``calls`` are ``(start ts, the call's fields)`` in tier order."""
        if not calls:
            return
        start = min(ts for ts, _ in calls)
        end = max(ts + f["latency_ms"] / 1000.0 for ts, f in calls)
        escalated = any(f["escalation_reason"] for _, f in calls[:-1]) if mode == "cascade" else False
        parent = self._tracer.start_span(
            f"route {task}",
            start_time=int(start * _NS),
            attributes={
                "routermon.task": task,
                "routermon.request_id": request_id,
                "routermon.mode": mode,
                "routermon.escalated": escalated,
                "routermon.calls": len(calls),
                "routermon.cost_usd": sum(f["cost_usd"] or 0.0 for _, f in calls),
                "routermon.answered": final_index is not None,
            },
        )
        if final_index is None:
            parent.set_status(self._error, "no tier answered")
            parent.set_attribute("error.type", "no_answer")
        context = self._set_in_context(parent)
        for ts, f in calls:
            self._call_span(ts, f, context)
        parent.end(end_time=int(end * _NS))

    def _call_span(self, ts: float, f: dict[str, Any], context: Any) -> None:
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.model": f["model"],
            "gen_ai.response.model": f["model"],
            "gen_ai.usage.input_tokens": f["input_tokens"] + f["cache_read_tokens"] + f["cache_write_tokens"],
            "gen_ai.usage.output_tokens": f["output_tokens"],
            "gen_ai.usage.cache_read.input_tokens": f["cache_read_tokens"],
            "gen_ai.usage.cache_creation.input_tokens": f["cache_write_tokens"],
            "routermon.tier": f["tier"],
            "routermon.role": f["role"],
            "routermon.cost_usd": f["cost_usd"] or 0.0,
            "routermon.thinking_tokens": f["thinking_tokens"] or 0,
        }
        if f["confidence"] is not None:
            attributes["routermon.confidence"] = f["confidence"]
        if f["escalation_reason"]:
            attributes["routermon.escalation_reason"] = f["escalation_reason"]
        if f["error_type"]:
            attributes["error.type"] = f["error_type"]
        span = self._tracer.start_span(
            f"chat {f['model']}", context=context, start_time=int(ts * _NS), attributes=attributes
        )
        if f["error_type"]:
            span.set_status(self._error, f["error_detail"] or f["error_type"])
        span.end(end_time=int((ts + f["latency_ms"] / 1000.0) * _NS))
