"""Errors a user can cause. The CLI prints their message as one sentence and exits 2."""

from __future__ import annotations


class RoutermonError(Exception):
    """Base class for errors caused by input, configuration or environment, not by a bug."""


class ConfigError(RoutermonError):
    """A setting, model name, price or threshold is not usable."""


class UnknownModelError(ConfigError):
    """A model has no price in genai-prices and no override in the settings file."""


class DatabaseError(RoutermonError):
    """The call log cannot be opened or written: locked, corrupt, or not a database."""


class ImportFormatError(RoutermonError):
    """A paired-outcome file has lines that cannot be imported."""


class DegradedAnswerError(RoutermonError):
    """A higher tier failed after an escalation, so the answer is a lower tier's (``on_degraded="raise"``).

    Attributes:
        result: the degraded ``RouteResult`` (``result.degraded_reason`` says what failed).
    """

    def __init__(self, result):
        self.result = result
        super().__init__(f"Request {result.request_id} is degraded: {result.degraded_reason}.")


class RouteFailedError(RoutermonError):
    """Every tier of the cascade failed; carries each tier's failure.

    Attributes:
        request_id: the id shared by every call this request logged.
        failures: one ``(model, reason, detail)`` triple per failed tier, in order.
    """

    def __init__(self, request_id: str, failures: list[tuple[str, str, str]]):
        self.request_id = request_id
        self.failures = failures
        parts = "; then ".join(f"{model} failed ({reason}: {detail})" for model, reason, detail in failures)
        super().__init__(f"Request {request_id} could not be answered: {parts}.")
