"""Traffic scenarios: how the stand-in models behave, per task, and what traffic looks like.

A scenario is a TOML file (see ``default_scenario.toml``, which mirrors the original field report).
Items are *clear* or *ambiguous* by a hash of their text, so the cheap and the strong model see the
same item the same way; the cheap model's failures cluster in the ambiguous slice.
"""

from __future__ import annotations

import hashlib
import math
import random
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import ConfigError


class Beta(BaseModel):
    """A Beta(a, b) distribution on [0, 1] (for confidences)."""

    model_config = ConfigDict(extra="forbid")
    a: float = Field(gt=0)
    b: float = Field(gt=0)

    def sample(self, rng: random.Random) -> float:
        return rng.betavariate(self.a, self.b)


class LogNormal(BaseModel):
    """A log-normal distribution given by its median and sigma (for latencies and token counts)."""

    model_config = ConfigDict(extra="forbid")
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def sample(self, rng: random.Random) -> float:
        return self.median * math.exp(rng.gauss(0.0, self.sigma)) if self.sigma else self.median


class TierBehaviour(BaseModel):
    """How one model tier does on one task."""

    model_config = ConfigDict(extra="forbid")
    accuracy: float = Field(0.98, ge=0, le=1)  # on clear items
    ambiguous_accuracy: float = Field(0.6, ge=0, le=1)
    confidence_right: Beta = Beta(a=18, b=1.2)
    confidence_wrong: Beta = Beta(a=3, b=3)
    confidence_ambiguous: Beta = Beta(a=3, b=4)


class TaskProfile(BaseModel):
    """One task of the traffic mix."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: Literal["classify", "extract", "summarize"]
    share: float = Field(gt=0)
    labels: list[str] = Field(default_factory=lambda: ["safe", "unsafe", "review-needed"])
    ambiguous_share: float = Field(0.05, ge=0, le=1)
    input_tokens: LogNormal = LogNormal(median=250, sigma=0.4)
    output_tokens: LogNormal = LogNormal(median=40, sigma=0.3)
    cheap: TierBehaviour = TierBehaviour()
    strong: TierBehaviour = TierBehaviour(
        accuracy=0.995,
        ambiguous_accuracy=0.92,
        confidence_right=Beta(a=20, b=1),
        confidence_ambiguous=Beta(a=8, b=2),
    )


class ErrorRates(BaseModel):
    """Share of HTTP attempts that fail in each way (the SDK retries some of them)."""

    model_config = ConfigDict(extra="forbid")
    rate_limited: float = Field(0.0, ge=0, le=1)  # 429 with retry-after
    server_error: float = Field(0.0, ge=0, le=1)  # 500
    overloaded: float = Field(0.0, ge=0, le=1)  # 529
    timeout: float = Field(0.0, ge=0, le=1)
    connection_reset: float = Field(0.0, ge=0, le=1)
    malformed: float = Field(0.0, ge=0, le=1)  # a reply that does not fit the schema, or a broken body
    refusal: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _at_most_one(self) -> ErrorRates:
        if self.total() > 1.0 + 1e-9:
            raise ValueError("error rates add up to more than 1")
        return self

    def total(self) -> float:
        return sum(getattr(self, name) for name in type(self).model_fields)


class ModelProfile(BaseModel):
    """Behaviour shared by the models whose name contains one of ``match``."""

    model_config = ConfigDict(extra="forbid")
    match: list[str]
    tier: Literal["cheap", "strong"]
    latency_ms: LogNormal = LogNormal(median=600, sigma=0.35)
    errors: ErrorRates = ErrorRates()


class Scenario(BaseModel):
    """A traffic mix and how the stand-in models behave on it."""

    model_config = ConfigDict(extra="forbid")
    name: str = "scenario"
    description: str = ""
    tasks: list[TaskProfile]
    # The stand-in as LLM judge (``core/judge.py``): how often its verdict is the truth (which of
    # the two answers keeps the input's key facts), and the share of its decisive verdicts (one
    # answer acceptable, not the other) that go to the answer shown first (0.5: no position bias).
    judge_accuracy: float = Field(0.95, ge=0, le=1)
    judge_first_bias: float = Field(0.5, ge=0, le=1)
    judge_confidence: Beta = Beta(a=12, b=2)
    models: list[ModelProfile] = Field(
        default_factory=lambda: [
            ModelProfile(match=["haiku"], tier="cheap", latency_ms=LogNormal(median=450, sigma=0.35)),
            ModelProfile(
                match=["sonnet", "opus"], tier="strong", latency_ms=LogNormal(median=1400, sigma=0.4)
            ),
        ]
    )

    @model_validator(mode="after")
    def _names_unique(self) -> Scenario:
        names = [t.name for t in self.tasks]
        if len(set(names)) != len(names):
            raise ValueError("task names must be unique")
        if not self.tasks:
            raise ValueError("a scenario needs at least one task")
        return self

    def task(self, name: str | None) -> TaskProfile | None:
        for task in self.tasks:
            if task.name == name:
                return task
        return None

    def task_of_kind(self, kind: str) -> TaskProfile | None:
        for task in self.tasks:
            if task.kind == kind:
                return task
        return None

    def model_profile(self, model: str) -> ModelProfile:
        """The profile whose ``match`` names this model; unmatched models behave as strong."""
        lowered = model.lower()
        for profile in self.models:
            if any(m.lower() in lowered for m in profile.match):
                return profile
        return ModelProfile(match=[model], tier="strong")


def item_hash(text: str) -> int:
    """A stable 64-bit hash of an item's text: decides its slice and its true answer."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:8], "big")


def is_ambiguous(text: str, task: TaskProfile) -> bool:
    """Whether the item is in the task's ambiguous slice (same for every model)."""
    return (item_hash(text) % 1_000_000) / 1_000_000 < task.ambiguous_share


def true_label(text: str, labels: list[str] | tuple[str, ...]) -> str:
    """The item's right label in a simulation."""
    return labels[(item_hash(text) >> 20) % len(labels)]


def load_scenario(path: str | Path | None = None) -> Scenario:
    """Read a scenario TOML file; ``None`` loads the built-in field-report scenario."""
    try:
        if path is None:
            text = resources.files("routermon.core.simulate").joinpath("default_scenario.toml").read_text()
            where = "the built-in scenario"
        else:
            where = str(path)
            text = Path(path).read_text()
        return Scenario.model_validate(tomllib.loads(text))
    except FileNotFoundError:
        raise ConfigError(f"The scenario file {path} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"The scenario path {path} is a directory, not a TOML file.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The scenario file {where} is not valid TOML ({exc}).") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"The scenario file {where} is invalid at {loc or 'top level'}: {first['msg']}."
        ) from None
