"""What each Claude model's Messages API accepts and does by default: one table, read by the router
(to build each tier's request) and by the stand-in (to refuse what the real API refuses).

Each fact names the page it was taken from. Where the pages leave a fact open, the table takes the
stricter reading (a parameter is refused rather than accepted), so a request the router builds and
the stand-in accepts is one the real service accepts too. A model missing from the table gets
``UNKNOWN``: no structured outputs, no forced tool, no sampling parameters, no thinking or effort
parameter. A settings entry (``[models."<id>"]``) overrides any field per model.

With a real key, what the Models API reports (``models_api.py``: structured outputs, thinking
types, effort levels, context window) is read once, cached in the data folder, and laid over the
bundled facts; the settings entry is laid over both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

EFFORT_LEVELS: tuple[str, ...] = ("low", "medium", "high", "xhigh", "max")
THINKING_TYPES: tuple[str, ...] = ("adaptive", "enabled", "disabled", "between_tools")
SAMPLING_PARAMS: tuple[str, ...] = ("temperature", "top_p", "top_k")

# Sources, named once; each table entry says which ones it follows.
S55_NEW = "https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5"
H55_NEW = "https://platform.claude.com/docs/en/models/haiku-5-5/whats-new-haiku-5-5"
H55_OVERVIEW = (
    "https://platform.claude.com/docs/en/models/haiku-5-5/overview"  # its table compares the 5.x line
)
H55_PROMPTING = (
    "https://platform.claude.com/docs/en/build-with-claude/prompt-engineering/prompting-claude-haiku-5-5"
)
S5_MIGRATION = "https://platform.claude.com/docs/en/models/sonnet-5/migration-guide"
H45_MIGRATION = "https://platform.claude.com/docs/en/models/haiku-4-5/migration-guide"
THINKING_TABLE = "https://platform.claude.com/docs/en/build-with-claude/thinking-troubleshooting"
STRUCTURED = "https://platform.claude.com/docs/en/build-with-claude/structured-outputs"
CACHING = "https://platform.claude.com/docs/en/build-with-claude/prompt-caching"
# Reported, not on an Anthropic page we could read: forced tool_choice refused by claude-fable-5-1.
FABLE_FORCED = "https://github.com/anomalyco/opencode/issues/46735"


@dataclass(frozen=True)
class ModelCapabilities:
    """What one model accepts on ``POST /v1/messages`` and what it does when a field is left out.

    ``thinking_types``: the ``thinking.type`` values accepted (``disabled`` is accepted by a model
    that does not think at all). ``thinking_default``: the type the model runs with when ``thinking``
    is omitted (``None``: off). ``effort_levels``: accepted ``output_config.effort`` values (empty:
    the parameter is refused). ``effort_when_off``: the effort levels allowed with thinking turned
    off (``disabled`` / ``between_tools``). ``sampling_params``: ``temperature``/``top_p``/``top_k``
    accepted at all. ``sampling_exclusive``: ``temperature`` and ``top_p`` refused together.
    """

    model: str
    known: bool = True
    structured_outputs: bool = False
    forced_tool_choice: bool = False
    sampling_params: bool = False
    sampling_exclusive: bool = False
    thinking_types: frozenset[str] = frozenset({"disabled"})
    thinking_default: str | None = None
    effort_levels: tuple[str, ...] = ()
    default_effort: str | None = None
    effort_when_off: tuple[str, ...] = ()
    context_window: int = 200_000
    min_cacheable_tokens: int = 4096
    sources: tuple[str, ...] = ()

    @property
    def thinks_by_default(self) -> bool:
        return self.thinking_default is not None

    def thinking_off(self) -> str | None:
        """The ``thinking.type`` that turns thinking off here, or ``None`` when it cannot be (or is off already)."""
        if self.thinking_default is None:
            return None
        for kind in ("disabled", "between_tools"):
            if kind in self.thinking_types:
                return kind
        return None


_ALL_EFFORT = EFFORT_LEVELS
_UP_TO_HIGH = ("low", "medium", "high")

_TABLE: dict[str, ModelCapabilities] = {
    m.model: m
    for m in (
        # Sonnet 5.5: forced tool use returns an error; "disabled" is a 400, "between_tools" turns
        # thinking off and only at low/medium/high effort; adaptive on by default, effort default high;
        # 1M context. Sampling: unchanged from Sonnet 5, where non-default values are a 400 (stricter
        # here: any value is refused). Minimum cacheable prompt 512 tokens (Sonnet 5: 1,024).
        ModelCapabilities(
            "claude-sonnet-5-5",
            structured_outputs=True,
            forced_tool_choice=False,
            thinking_types=frozenset({"adaptive", "between_tools"}),
            thinking_default="adaptive",
            effort_levels=_ALL_EFFORT,
            default_effort="high",
            effort_when_off=_UP_TO_HIGH,
            context_window=1_000_000,
            min_cacheable_tokens=512,
            sources=(S55_NEW, S5_MIGRATION, THINKING_TABLE, STRUCTURED),
        ),
        # Haiku 5.5: adaptive thinking on by default, effort low..max with medium the default;
        # manual extended thinking ("enabled"), non-default sampling parameters and prefill are 400s;
        # "disabled" works at low/medium/high only. Forced tool use is not among its breaking changes.
        # JSON output format (output_config.format) is named in its prompting guide. 1M context.
        ModelCapabilities(
            "claude-haiku-5-5",
            structured_outputs=True,
            forced_tool_choice=True,
            thinking_types=frozenset({"adaptive", "disabled"}),
            thinking_default="adaptive",
            effort_levels=_ALL_EFFORT,
            default_effort="medium",
            effort_when_off=_UP_TO_HIGH,
            context_window=1_000_000,
            min_cacheable_tokens=512,
            sources=(H55_NEW, H55_OVERVIEW, H55_PROMPTING, THINKING_TABLE),
        ),
        # Opus 5.5: adaptive thinking always on (no "disabled"), default effort medium, 1M context;
        # forced tool use is reported refused like Sonnet 5.5's. Minimum cacheable length not found:
        # the conservative 4,096.
        ModelCapabilities(
            "claude-opus-5-5",
            structured_outputs=True,
            forced_tool_choice=False,
            thinking_types=frozenset({"adaptive"}),
            thinking_default="adaptive",
            effort_levels=_ALL_EFFORT,
            default_effort="medium",
            context_window=1_000_000,
            sources=(H55_OVERVIEW, THINKING_TABLE),
        ),
        # Fable 5.1: adaptive always on, default effort high, 1M context; forced tool_choice refused.
        ModelCapabilities(
            "claude-fable-5-1",
            structured_outputs=True,
            forced_tool_choice=False,
            thinking_types=frozenset({"adaptive"}),
            thinking_default="adaptive",
            effort_levels=_ALL_EFFORT,
            default_effort="high",
            context_window=1_000_000,
            sources=(H55_OVERVIEW, THINKING_TABLE, FABLE_FORCED),
        ),
        # Sonnet 5: adaptive on by default, "enabled" and non-default sampling parameters are 400s;
        # it accepts "disabled" and forced tool use (Sonnet 5.5 changed both). 1M context.
        ModelCapabilities(
            "claude-sonnet-5",
            structured_outputs=True,
            forced_tool_choice=True,
            thinking_types=frozenset({"adaptive", "disabled"}),
            thinking_default="adaptive",
            effort_levels=_ALL_EFFORT,
            default_effort="high",
            effort_when_off=_UP_TO_HIGH,
            context_window=1_000_000,
            min_cacheable_tokens=1024,
            sources=(S5_MIGRATION, S55_NEW, THINKING_TABLE),
        ),
        # Sonnet 4.6: adaptive and (deprecated) extended thinking, off by default; structured outputs
        # GA; sampling parameters accepted. Effort: not confirmed for this model, so refused here.
        ModelCapabilities(
            "claude-sonnet-4-6",
            structured_outputs=True,
            forced_tool_choice=True,
            sampling_params=True,
            thinking_types=frozenset({"adaptive", "enabled", "disabled"}),
            context_window=1_000_000,
            min_cacheable_tokens=1024,
            sources=(THINKING_TABLE, STRUCTURED, CACHING),
        ),
        # Sonnet 4.5 / Opus 4.5 / Haiku 4.5: extended thinking only ("adaptive" is a 400), off by
        # default; structured outputs GA; sampling accepted (Haiku 4.5: temperature or top_p, not both).
        ModelCapabilities(
            "claude-sonnet-4-5",
            structured_outputs=True,
            forced_tool_choice=True,
            sampling_params=True,
            thinking_types=frozenset({"enabled", "disabled"}),
            min_cacheable_tokens=1024,
            sources=(THINKING_TABLE, STRUCTURED, CACHING),
        ),
        ModelCapabilities(
            "claude-opus-4-5",
            structured_outputs=True,
            forced_tool_choice=True,
            sampling_params=True,
            thinking_types=frozenset({"enabled", "disabled"}),
            min_cacheable_tokens=4096,
            sources=(THINKING_TABLE, STRUCTURED, CACHING),
        ),
        ModelCapabilities(
            "claude-haiku-4-5",
            structured_outputs=True,
            forced_tool_choice=True,
            sampling_params=True,
            sampling_exclusive=True,
            thinking_types=frozenset({"enabled", "disabled"}),
            min_cacheable_tokens=4096,
            sources=(H45_MIGRATION, THINKING_TABLE, STRUCTURED, CACHING),
        ),
    )
}
_ALIASES = {
    "claude-haiku-4-5-20251001": "claude-haiku-4-5",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
}

# A model the table does not know: the request that the fewest models refuse (no structured outputs,
# no forced tool, no sampling, thinking and effort left to the model's own defaults).
UNKNOWN = ModelCapabilities("", known=False)

_FIELDS = {f.name for f in dataclasses.fields(ModelCapabilities)} - {"model", "known", "sources"}


def _typed(fields: Mapping[str, Any]) -> dict[str, Any]:
    # Lists from TOML or JSON as the dataclass's frozenset and tuples.
    out = dict(fields)
    if "thinking_types" in out:
        out["thinking_types"] = frozenset(out["thinking_types"])
    for name in ("effort_levels", "effort_when_off"):
        if name in out:
            out[name] = tuple(out[name])
    return out


class ModelTable:
    """The bundled table with per-model overrides (the settings' ``[models."<id>"]`` entries).

    An override names fields of ``ModelCapabilities``; an override for a model the table lacks
    starts from ``UNKNOWN`` and makes the model known.
    """

    def __init__(
        self,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        *,
        reported: Mapping[str, Mapping[str, Any]] | None = None,
    ):
        self._overrides = {name: dict(fields) for name, fields in (overrides or {}).items()}
        # What the Models API reported (models_api.py): over the bundled facts, under the settings.
        self._reported = {name: dict(fields) for name, fields in (reported or {}).items()}
        for name, fields in self._overrides.items():
            unknown = set(fields) - _FIELDS
            if unknown:
                raise ConfigError(
                    f"The [models.{name!r}] settings entry has unknown field(s) {', '.join(sorted(unknown))}; "
                    f"known: {', '.join(sorted(_FIELDS))}."
                )
        self._cache: dict[str, ModelCapabilities] = {}

    def get(self, model: str) -> ModelCapabilities:
        """The model's capabilities (``known=False`` when neither the table nor an override names it)."""
        cached = self._cache.get(model)
        if cached is not None:
            return cached
        base = _TABLE.get(_ALIASES.get(model, model))
        override = self._overrides.get(model)
        reported = self._reported.get(model)
        if base is None:
            base = dataclasses.replace(
                UNKNOWN, model=model, known=override is not None or reported is not None
            )
        if reported:
            fields = _typed(reported)
            # Effort with thinking off: the bundled levels the API still reports.
            levels = fields.get("effort_levels", base.effort_levels)
            fields["effort_when_off"] = tuple(level for level in base.effort_when_off if level in levels)
            base = dataclasses.replace(base, **fields, known=True, sources=(*base.sources, "models-api"))
        if override:
            fields = _typed(override)
            try:
                base = dataclasses.replace(base, **fields, sources=(*base.sources, "settings"))
            except TypeError as exc:
                raise ConfigError(f"The [models.{model!r}] settings entry is invalid: {exc}.") from None
        self._cache[model] = base
        return base

    def knows(self, model: str) -> bool:
        return self.get(model).known


BUNDLED = ModelTable()


def bundled_models() -> tuple[str, ...]:
    """The model ids the bundled table describes, in its order."""
    return tuple(_TABLE)


def capabilities(model: str) -> ModelCapabilities:
    """The bundled table's entry for ``model`` (``known=False`` for a model it does not list)."""
    return BUNDLED.get(model)
