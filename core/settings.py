"""Settings: environment variables (``ROUTERMON_*``) over a TOML file over defaults.

The file is ``$ROUTERMON_CONFIG`` or ``settings.toml`` in the per-user config directory::

    db = "/var/lib/routermon/calls.db"
    threshold = 0.7
    store_inputs = "preview"          # full | preview | none (see core/privacy.py)
    store_answers = "full"            # full | none: summaries and extractions as keyed digests
    audit_share = 0.02
    labeller = "alice"                # who labels pairs on the Review screen (default: $USER)
    judge_model = "claude-sonnet-4-6" # the LLM judge of free-text pairs (default: the strong model)
    max_loss = 0.01                   # what the policy tolerates against always-strong, with
    confidence = 0.95                 # this confidence, over the last drift_window audits (or
    drift_window = 500                # drift_days); routermon check alerts when it stops holding
    monthly_budget_usd = 2000         # optional: alert when the projected month exceeds it

    [thresholds]                      # the routing policy per task (the cheap tier's threshold);
    classify = 0.82                   # `routermon thresholds --apply` writes it

    [prices."my-finetune"]            # for models genai-prices lacks, USD per million tokens
    input_mtok = 1.0
    output_mtok = 5.0

    [tiers.cheap]                     # per tier: thinking off|default|adaptive|disabled|between_tools,
    thinking = "off"                  # effort auto|low|medium|high|xhigh|max (see core/requests.py)
    effort = "auto"
    [tiers.strong]
    thinking = "off"
    effort = "auto"

    [models."claude-sonnet-5-5"]      # override a fact of the capability table (core/models.py)
    structured_outputs = true

    [gateway]                         # routermon gateway and observe(): shadowing the app's calls
    shadow_share = "5%"               # of each task's calls, copied to the other model
    shadow_budget_usd = 5.0           # per UTC day; shadowing stops when spent
    shadow_in_flight = 4              # shadow calls at once
    shadow_queue = 256                # shadow calls waiting; more are dropped (counted)
    [gateway.shadow]                  # per task (the task key, or x-routermon-task)
    "support-reply" = "20%"
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from .errors import ConfigError
from .formatting import parse_share
from .location import PostgresLog, is_url
from .prices import MAX_PRICE_PER_MTOK


def _typed_share(value: Any) -> Any:
    # A share in the file or the environment may be written as a percent, as on the command line.
    if isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool)):
        return parse_share(value)
    return value


# 80, "80%" and 0.8 all give 0.8 (``formatting.parse_share``).
Share = Annotated[float, BeforeValidator(_typed_share)]

APP_NAME = "routermon"


def config_path() -> Path:
    """Where the settings file is read from."""
    env = os.environ.get("ROUTERMON_CONFIG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "settings.toml"


def data_dir() -> Path:
    """The per-user data directory (databases live here by default)."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_db_path() -> Path:
    return data_dir() / "calls.db"


class TierSettings(BaseModel):
    """One tier's request settings (``[tiers.cheap]``, ``[tiers.strong]``)."""

    model_config = ConfigDict(extra="forbid")

    thinking: Literal["off", "default", "adaptive", "disabled", "between_tools"] = "off"
    effort: Literal["auto", "low", "medium", "high", "xhigh", "max"] | None = "auto"


ThinkingType = Literal["adaptive", "enabled", "disabled", "between_tools"]  # models.THINKING_TYPES
EffortLevel = Literal["low", "medium", "high", "xhigh", "max"]  # models.EFFORT_LEVELS


class ModelOverride(BaseModel):
    """A ``[models."<id>"]`` entry: facts of ``core/route/models.ModelCapabilities`` to override,
    each of its type (strict: ``thinking_types = 5`` or ``structured_outputs = "yes"`` is refused)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    structured_outputs: bool | None = None
    forced_tool_choice: bool | None = None
    sampling_params: bool | None = None
    sampling_exclusive: bool | None = None
    thinking_types: list[ThinkingType] | None = None
    thinking_default: ThinkingType | None = None
    effort_levels: list[EffortLevel] | None = None
    default_effort: EffortLevel | None = None
    effort_when_off: list[EffortLevel] | None = None
    context_window: int | None = Field(None, ge=1, le=1_000_000_000)
    min_cacheable_tokens: int | None = Field(None, ge=0, le=1_000_000_000)


# USD per million tokens: not negative (negative spend), finite and at most MAX_PRICE_PER_MTOK
# (so that no cost computed from it overflows).
UsdPerMtok = Annotated[float, Field(ge=0.0, le=MAX_PRICE_PER_MTOK, allow_inf_nan=False)]


class PriceOverride(BaseModel):
    """A ``[prices."<model>"]`` entry (``core/prices.PriceBook``'s overrides)."""

    model_config = ConfigDict(extra="forbid")

    input_mtok: UsdPerMtok
    output_mtok: UsdPerMtok
    cache_read_mtok: UsdPerMtok | None = None
    cache_write_mtok: UsdPerMtok | None = None


class GatewaySettings(BaseModel):
    """The ``[gateway]`` table: shadowing the app's calls (``core/gateway/shadow.py``)."""

    model_config = ConfigDict(extra="forbid")

    shadow_share: Share = Field(0.0, ge=0.0, le=1.0)
    shadow_budget_usd: float | None = Field(None, ge=0.0, le=1e12, allow_inf_nan=False)
    shadow_in_flight: int = Field(4, ge=1, le=1024)
    shadow_queue: int = Field(256, ge=1, le=1_000_000)
    shadow: dict[str, Annotated[float, BeforeValidator(_typed_share), Field(ge=0.0, le=1.0)]] = Field(
        default_factory=dict
    )


def _price_override_fields(entry: PriceOverride) -> dict[str, float]:
    return entry.model_dump(exclude_none=True)


def _model_override_fields(entry: ModelOverride) -> dict[str, Any]:
    # Only the facts the entry names, as the plain mapping ModelTable takes.
    return entry.model_dump(exclude_unset=True)


class Settings(BaseSettings):
    """routermon's settings; see the module docstring for the file format."""

    model_config = SettingsConfigDict(env_prefix="ROUTERMON_", extra="forbid")

    db: str | None = None  # a file's path, or a postgresql:// URL (a Path would fold its "//")
    cheap_model: str | None = None
    strong_model: str | None = None
    judge_model: str | None = None  # ROUTERMON_JUDGE_MODEL; None: the strong model
    threshold: float = Field(0.7, ge=0.0, le=1.0)
    store_inputs: Literal["full", "preview", "none"] = "preview"
    store_answers: Literal["full", "none"] = "full"  # none: free text and fields as keyed digests
    preview_chars: int = Field(80, ge=0, le=1_000_000_000)
    audit_share: Share = Field(0.0, ge=0.0, le=1.0)
    labeller: str | None = None  # who a human label is from (default: the OS user)
    prices: dict[str, Annotated[PriceOverride, AfterValidator(_price_override_fields)]] = Field(
        default_factory=dict
    )
    # The routing policy per task: ``[thresholds]`` ``classify = 0.82`` (the cheap tier's threshold);
    # a task without an entry uses ``threshold``.
    thresholds: dict[str, Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]] = Field(
        default_factory=dict
    )
    # What the policy promises and watches (``routermon check``, the Live screen's alerts): the loss
    # against always-strong it tolerates, with what confidence, over which window of audits.
    max_loss: Share = Field(0.01, gt=0.0, lt=1.0)
    confidence: Share = Field(0.95, gt=0.0, lt=1.0)
    # Upper bounds keep every figure computed from them finite (a SQL LIMIT, a date D days back, a
    # projected month against the budget).
    drift_window: int = Field(500, ge=1, le=1_000_000_000)  # the last N audits of a task
    drift_days: float | None = Field(None, gt=0.0, le=36_500.0, allow_inf_nan=False)  # or the last D days
    monthly_budget_usd: float | None = Field(None, ge=0.0, le=1e12, allow_inf_nan=False)
    # A span per routed request and per model call (OpenTelemetry; pip install 'routermon[otel]').
    otel: bool = False
    tiers: dict[Literal["cheap", "strong"], TierSettings] = Field(default_factory=dict)
    models: dict[str, Annotated[ModelOverride, AfterValidator(_model_override_fields)]] = Field(
        default_factory=dict
    )
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_path()))

    def db_path(self, override: str | os.PathLike | None = None) -> Path | PostgresLog:
        """``--db`` if given, else ``ROUTERMON_DB`` / the file's ``db``, else the per-user default:
        a file's path, or the PostgreSQL log a ``postgresql://`` URL names."""
        named = override or self.db
        if not named:
            return default_db_path()
        if isinstance(named, PostgresLog) or is_url(str(named)):
            return named if isinstance(named, PostgresLog) else PostgresLog(str(named))
        return Path(named).expanduser()


def _env_name(field: str) -> str | None:
    """The ``ROUTERMON_*`` variable that set ``field``, if one did (names are case-insensitive)."""
    wanted = f"ROUTERMON_{field}".upper()
    return next((name for name in os.environ if name.upper() == wanted), None)


class SettingSource(BaseModel):
    """One effective setting and where its value came from (``routermon config show``).

    ``source`` is ``command line``, ``environment``, ``file`` or ``default``; ``origin`` names the
    option, variable or file (empty for a default).
    """

    name: str
    value: Any
    source: Literal["command line", "environment", "file", "default"]
    origin: str = ""


def file_keys(path: Path | None = None) -> set[str]:
    """The top-level keys the settings file sets (none when there is no file)."""
    import tomllib

    path = path or config_path()
    if not path.is_file():
        return set()
    try:
        with path.open("rb") as fh:
            return set(tomllib.load(fh))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The settings file {path} cannot be read: {exc}.") from None


def setting_sources(
    settings: Settings, overrides: dict[str, tuple[Any, str]] | None = None
) -> list[SettingSource]:
    """Every setting of ``settings`` with where it came from, in field order: an override given
    here (``{name: (value, option)}``, e.g. ``--db``), else a ``ROUTERMON_*`` variable, else the
    file, else the default; the same order ``load_settings`` reads them in."""
    overrides = overrides or {}
    path = config_path()
    in_file = file_keys(path)
    out = []
    for name in Settings.model_fields:
        value = getattr(settings, name)
        value = value.model_dump() if isinstance(value, BaseModel) else value
        if isinstance(value, dict):
            value = {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in value.items()}
        env = _env_name(name)
        if name in overrides:
            value, option = overrides[name]
            out.append(SettingSource(name=name, value=value, source="command line", origin=option))
        elif env is not None:
            out.append(SettingSource(name=name, value=value, source="environment", origin=env))
        elif name in in_file:
            out.append(SettingSource(name=name, value=value, source="file", origin=str(path)))
        else:
            out.append(SettingSource(name=name, value=value, source="default"))
    return out


def _settings_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot be the settings file (``None`` when it is a regular file or, for the
    optional per-user file, absent)."""
    named = bool(os.environ.get("ROUTERMON_CONFIG"))
    where = f"ROUTERMON_CONFIG names the settings file {path}" if named else f"The settings file {path}"
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return f"{where}, which does not exist." if named else None
    except OSError as exc:
        return f"{where}, which cannot be read: {exc.strerror or exc}."
    if stat.S_ISREG(mode):
        return None
    kind = "a folder" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "not a regular file"
    kind = "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else kind
    return f"{where}, which is {kind}, not a file." if named else f"{where} is {kind}, not a file."


def load_settings(**overrides) -> Settings:
    """Read the settings; a wrong value is a ``ConfigError`` naming the variable or file it came from.

    ``$ROUTERMON_CONFIG`` naming a file that does not exist is refused (a typo there would otherwise
    silently run on the defaults); the per-user file is optional, but neither may be anything other
    than a regular file (a folder, a FIFO, a device).
    """
    path = config_path()
    problem = _settings_file_problem(path)
    if problem:
        raise ConfigError(problem)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_invalid_setting(exc, overrides, path)) from None
    except SettingsError as exc:  # a JSON variable (ROUTERMON_MODELS, ...) that is not JSON
        raise ConfigError(_unparsable_variable(exc)) from None
    except (OSError, ValueError) as exc:  # unreadable or malformed TOML
        raise ConfigError(f"The settings file {path} cannot be read: {exc}.") from None


def _invalid_setting(exc: ValidationError, overrides: dict[str, Any], path: Path) -> str:
    first = exc.errors()[0]
    loc = [str(p) for p in first.get("loc", ())]
    where = ".".join(loc) or "settings"
    problem = f"({first.get('msg')})"
    env = _env_name(loc[0]) if loc else None
    if loc and loc[0] in overrides:
        return f"The option for {where!r} is invalid {problem}."
    if env is not None:
        return f"The environment variable {env}={os.environ[env]!r} is invalid {problem}."
    return f"Setting {where!r} in the settings file {path} is invalid {problem}."


def _unparsable_variable(exc: SettingsError) -> str:
    field = re.search(r'field "([^"]+)"', str(exc))
    env = _env_name(field.group(1)) if field else None
    cause = f": {exc.__cause__}" if exc.__cause__ else ""
    if env is None:
        return f"A ROUTERMON_* environment variable cannot be read ({exc}{cause})."
    return f"The environment variable {env} is not valid JSON{cause}."
