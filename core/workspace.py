"""The workspace: every choice the settings, ``ROUTERMON_*`` variables and options make, made once.

The ``routermon`` group builds one ``Workspace`` per process and hands it to every command
(``ctx.obj``) and to the app; none of them reads the settings, resolves ``--db``, builds a price
book or picks a default model on its own. From Python::

    ws = Workspace.load(db="calls.db")
    router = ws.router(stand_in=True)          # or the real API with ANTHROPIC_API_KEY
    cheap, strong = ws.models()                # the settings' models, else the newest priced ones
    judge = ws.judge_model()                   # the settings' judge_model, else the strong model
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import DatabaseError
from .location import PostgresLog
from .log.db import check_persistent
from .prices import PriceBook
from .settings import Settings, SettingSource, default_db_path, load_settings, setting_sources

if TYPE_CHECKING:  # the router pulls in the anthropic SDK: loaded only when a router is built
    from .log.store import CallLog
    from .measure.judge import Judge
    from .route.router import Router
    from .simulate.simulator import Simulation


class Workspace:
    """Where the log is, how calls are priced, and the router's defaults, for one process.

    Args:
        settings: the read settings (``load_settings()``; ``Workspace.load`` reads them).
        db: ``--db`` as given, or ``None`` for ``ROUTERMON_DB`` / the settings file / the default.
        prices: a price book to share (one per process caches what genai-prices resolves);
            default: one with the settings' price overrides.
    """

    def __init__(
        self, settings: Settings, *, db: str | os.PathLike | None = None, prices: PriceBook | None = None
    ) -> None:
        self.settings = settings
        self.db_option = db
        self._prices = prices
        self._models = None

    @classmethod
    def load(cls, *, db: str | os.PathLike | None = None) -> Workspace:
        """Read the settings (``ConfigError`` naming the variable or file at fault) and build one."""
        return cls(load_settings(), db=db)

    def with_db(self, db: str | os.PathLike | None) -> Workspace:
        """This workspace on another log (a command's own ``--db``); ``None`` keeps this one."""
        if db is None:
            return self
        return Workspace(self.settings, db=db, prices=self.prices)

    # -- what the settings decide --------------------------------------------------------------

    @property
    def db_path(self) -> Path | PostgresLog:
        """``--db``, else ``ROUTERMON_DB`` / the file's ``db``, else the per-user default."""
        if self.db_option is not None and not str(self.db_option).strip():
            raise DatabaseError("--db is empty: give the path of the call log file.")
        path = self.settings.db_path(self.db_option)
        check_persistent(path)
        return path

    @property
    def explicit_db_path(self) -> Path | PostgresLog | None:
        """The log named for this run: ``--db``, else ``ROUTERMON_DB``; ``None`` when only the
        settings file or the default would choose (``routermon demo`` then keeps its own log)."""
        named = self.db_option or os.environ.get("ROUTERMON_DB")
        return self.settings.db_path(named) if named else None

    def setting_sources(self) -> list[SettingSource]:
        """Every effective setting and where it came from (command line, environment, file or
        default). ``db`` is the log this workspace uses: the default is the per-user path."""
        overrides = {}
        if self.db_option is not None:
            overrides["db"] = (str(self.db_path), "--db")
        out = setting_sources(self.settings, overrides)
        for item in out:
            if item.name == "db":
                # A URL is shown as every message shows it: without its password.
                item.value = str(
                    default_db_path() if item.value is None else self.settings.db_path(item.value)
                )
            elif item.name in ("cheap_model", "strong_model") and item.value is None:
                # What the router would pick: the newest priced Haiku / Sonnet.
                item.value = self.models()[0 if item.name == "cheap_model" else 1]
        return out

    @property
    def threshold(self) -> float:
        """The cheap answer is kept at or above this confidence (settings; 0.7 by default)."""
        return self.settings.threshold

    @property
    def audit_share(self) -> float:
        return self.settings.audit_share

    @property
    def labeller(self) -> str:
        """Who a human label is from: the settings' ``labeller``, else the OS user."""
        from .measure.review import default_labeller

        return self.settings.labeller or default_labeller()

    @property
    def store_inputs(self) -> str:
        return self.settings.store_inputs

    @property
    def store_answers(self) -> str:
        return self.settings.store_answers

    @property
    def preview_chars(self) -> int:
        return self.settings.preview_chars

    @property
    def watch_policy(self) -> dict:
        """What the policy promises and over which audits it is watched, as ``watch.check`` takes
        it (``max_loss``, ``confidence``, ``budget_usd``, ``window``, ``days``): one reading of
        the settings for ``routermon check``, the report, the Live banner and the drift chart."""
        s = self.settings
        return {
            "max_loss": s.max_loss,
            "confidence": s.confidence,
            "budget_usd": s.monthly_budget_usd,
            "window": s.drift_window,
            "days": s.drift_days,
        }

    @property
    def telemetry(self):
        """The OpenTelemetry exporter when the settings turn it on (``otel = true``), else ``None``."""
        if not self.settings.otel:
            return None
        from .route.telemetry import Telemetry

        return Telemetry.configured()

    @property
    def prices(self) -> PriceBook:
        """The price book with the settings' ``[prices."model"]`` overrides (built on first use)."""
        if self._prices is None:
            self._prices = PriceBook(overrides=self.settings.prices)
        return self._prices

    @property
    def model_table(self):
        """The capability table with the settings' ``[models."<id>"]`` overrides (built on first use)."""
        if self._models is None:
            from .route.models import ModelTable

            self._models = ModelTable(self.settings.models)
        return self._models

    def read_models_api(self, models: list[str] | tuple[str, ...], client=None) -> dict[str, dict]:
        """Lay what the Models API reports about ``models`` over the capability table: from the
        cache in the data folder, else read once with ``client`` (default: a real client, when
        ``ANTHROPIC_API_KEY`` is set; ``ANTHROPIC_BASE_URL`` is honoured). Returns what was laid."""
        from .route.models import ModelTable
        from .route.models_api import CACHE_FILE, DEFAULT_BASE_URL, ModelsAPICache
        from .settings import data_dir

        if client is None and os.environ.get("ANTHROPIC_API_KEY"):
            import anthropic

            # One quick try per model: a Models API that does not answer leaves the bundled facts.
            client = anthropic.Anthropic(max_retries=0, timeout=5.0)
        base_url = os.environ.get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        reported = ModelsAPICache(data_dir() / CACHE_FILE).reported(models, client, base_url=base_url)
        self._models = ModelTable(self.settings.models, reported=reported)
        return reported

    def models(self, cheap_model: str | None = None, strong_model: str | None = None) -> tuple[str, str]:
        """``(cheap, strong)``: as given, else the settings', else the newest priced Haiku / Sonnet."""
        from .route.catalog import default_models  # lazy: it reads the SDK's model list

        return default_models(
            cheap_model or self.settings.cheap_model, strong_model or self.settings.strong_model, self.prices
        )

    def judge_model(self, judge_model: str | None = None, strong_model: str | None = None) -> str:
        """The judge of free-text pairs: as given, else ``judge_model`` of the settings
        (``ROUTERMON_JUDGE_MODEL``), else the strong model."""
        return judge_model or self.settings.judge_model or self.models(None, strong_model)[1]

    # -- what it builds ------------------------------------------------------------------------

    def stand_in_api(
        self,
        *,
        scenario=None,
        seed: int = 0,
        time_scale: float = 0.0,
        clock=None,
        record_requests: bool = True,
        record_limit: int | None = None,
    ):
        """The built-in stand-in API (``simulate.standin.StandInAPI``), answering from the same
        capability table as the router (the settings' ``[models]`` overrides included).

        ``scenario``: default the built-in one; ``time_scale``: the share of each simulated latency
        really slept; ``clock``: a ``VirtualClock`` to advance instead of sleeping."""
        from .simulate.scenario import load_scenario
        from .simulate.standin import StandInAPI

        limit = {} if record_limit is None else {"record_limit": record_limit}
        return StandInAPI(
            scenario=scenario or load_scenario(),
            seed=seed,
            time_scale=time_scale,
            clock=clock,
            record_requests=record_requests,
            models=self.model_table,
            **limit,
        )

    def stand_in_client(self, *, seed: int = 0, latency: float = 0.0, simulation: Simulation | None = None):
        """An ``anthropic.AsyncAnthropic`` talking to the built-in stand-in API (no key, no network);
        for ``simulation``, on its scenario and clock, keeping no request bodies."""
        if simulation is None:
            return self.stand_in_api(seed=seed, time_scale=latency).client()
        return self.stand_in_api(
            scenario=simulation.scenario,
            seed=seed,
            time_scale=latency,
            clock=simulation.clock,
            record_requests=False,
        ).client()

    def stand_in_server(self, *, seed: int = 0, latency: float = 0.0, port: int = 0):
        """The stand-in Messages API served on a loopback port in a thread: ``(base_url, stop)``."""
        from .simulate.standin import serve_in_thread

        server, stop = serve_in_thread(
            self.stand_in_api(seed=seed, time_scale=latency, record_requests=False), port=port
        )
        host, bound = server.server_address[:2]
        return f"http://{host}:{bound}", stop

    def gateway(
        self,
        *,
        upstream_url: str,
        token: str | None = None,
        log: bool = True,
        transport=None,
        shadow_share: float | None = None,
        judge: bool = False,
        pair_observer=None,
        say=None,
    ):
        """The gateway (``core.gateway``) on this workspace's log, prices and privacy settings; the
        key it adds for clients that send none is ``ANTHROPIC_API_KEY`` of its environment.

        Shadowing (``core/gateway/shadow.py``) copies ``shadow_share`` (default: the settings'
        ``[gateway] shadow_share``; ``[gateway.shadow]`` per task) of the calls to the other model of
        ``models()``; ``judge``: free-text pairs judged in the background by ``judge_model()``
        through the upstream (``pair_observer`` instead gives the observer itself).
        """
        from .gateway.app import Gateway, GatewayConfig
        from .log.privacy import Keeper
        from .log.store import CallLog

        call_log = CallLog(self.db_path) if log else None
        keeper = Keeper.for_log(self.db_path if log else None, self.store_inputs, self.store_answers)
        config = GatewayConfig(
            upstream_url=upstream_url,
            log=call_log,
            keeper=keeper,
            prices=self.prices,
            preview_chars=self.preview_chars,
            token=token,
            api_key=os.environ.get("ANTHROPIC_API_KEY") or None,
            transport=transport,
            shadow=self._shadow_config(shadow_share),
            models=self.model_table,
        )
        if say is not None:
            config.say = say
        if config.shadow is not None:
            config.pair_observer = pair_observer or (self._gateway_judge(upstream_url) if judge else None)
        return Gateway(config)

    def _shadow_config(self, shadow_share: float | None):
        """The gateway's shadowing from the settings' ``[gateway]`` table; ``None`` when no share is set."""
        from .gateway.shadow import ShadowConfig

        settings = self.settings.gateway
        share = settings.shadow_share if shadow_share is None else shadow_share
        if share <= 0.0 and not any(settings.shadow.values()):
            return None
        cheap, strong = self.models()
        return ShadowConfig(
            cheap_model=cheap,
            strong_model=strong,
            share=share,
            task_shares=dict(settings.shadow),
            budget_usd=settings.shadow_budget_usd,
            max_in_flight=settings.shadow_in_flight,
            queue_size=settings.shadow_queue,
        )

    def _gateway_judge(self, upstream_url: str):
        """The gateway's pair observer: ``Judge.judge`` through a router on the gateway's upstream
        (its key: ``ANTHROPIC_API_KEY`` of this environment), logging to this workspace's log."""
        import anthropic

        from .measure.judge import Judge

        client = anthropic.AsyncAnthropic(
            base_url=upstream_url, api_key=os.environ.get("ANTHROPIC_API_KEY") or "routermon-gateway"
        )
        judge = Judge(self.router(client=client, source="gateway"), self.judge_model(), source="gateway")

        async def observe_pair(request_id, task, text, digest, cheap_answer, strong_answer):
            return await judge.judge(request_id, task, text, cheap_answer, strong_answer, input_sha256=digest)

        return observe_pair

    def router(
        self,
        *,
        cheap_model: str | None = None,
        strong_model: str | None = None,
        threshold: float | None = None,
        mode: str = "cascade",
        source: str = "live",
        stand_in: bool = False,
        seed: int = 0,
        stand_in_latency: float = 0.0,
        client=None,
        request_prefix: str = "req_",
        log: bool | CallLog = True,
        judge: bool = False,
        audit_share: float | None = None,
        store_inputs: str | None = None,
        judge_model: str | None = None,
        simulation: Simulation | None = None,
    ) -> Router:
        """A router on this workspace's log, prices and defaults; options given here win.

        ``stand_in`` answers from the built-in stand-in API (``seed``, and ``stand_in_latency``: the
        share of each simulated latency really slept); otherwise ``client``, else the real API
        (whose Models API is read first: ``read_models_api``). ``log``: ``False`` for a router that
        logs nothing, or an open ``CallLog`` to write to instead of this workspace's log.
        ``judge``: judge free-text shadow pairs and audits as they are made, with ``judge_model``
        (default ``judge_model()``; giving one turns judging on). ``simulation``: simulated traffic
        (the simulator's scenario, clock and seed for the stand-in, which keeps no request bodies,
        and the router's own seed for audit sampling and request ids).
        """
        cheap, strong = self.models(cheap_model, strong_model)
        if stand_in:
            client = self.stand_in_client(seed=seed, latency=stand_in_latency, simulation=simulation)
        elif client is None and os.environ.get("ANTHROPIC_API_KEY"):
            self.read_models_api((cheap, strong))  # the real API: what it reports, read once
        router = self._build_router(
            cheap,
            strong,
            threshold,
            mode=mode,
            source=source,
            client=client,
            request_prefix=request_prefix,
            log=self.db_path if log is True else (log or None),
            audit_share=self.audit_share if audit_share is None else audit_share,
            store_inputs=store_inputs or self.store_inputs,
            clock=simulation.clock if simulation else None,
            seed=simulation.router_seed if simulation else None,
        )
        if judge or judge_model is not None:
            from .measure.judge import Judge

            Judge.observing(
                router,
                judge_model or self.judge_model(strong_model=strong_model),
                seed=simulation.router_seed if simulation else 0,
                source=source,
            )
        return router

    def judge(self, router: Router, model: str | None = None, *, source: str = "judge") -> Judge:
        """A judge calling models through ``router``, with ``model`` (default: ``judge_model()``)."""
        from .measure.judge import Judge

        return Judge(router, model or self.judge_model(), source=source)

    def _build_router(self, cheap: str, strong: str, threshold: float | None, **options) -> Router:
        """The one place a ``Router`` is made: the settings' tiers, per-task thresholds, privacy,
        capability table, telemetry and prices, with this call's ``options``."""
        from .errors import ConfigError
        from .route.router import Router, Tier

        threshold_given = threshold
        threshold = self.threshold if threshold is None else threshold
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(
                f"The threshold must be between 0 and 1 (a confidence score, not a percent); got {threshold}."
            )
        cheap_tier, strong_tier = (self.settings.tiers.get(k) for k in ("cheap", "strong"))
        tiers = (
            Tier(cheap, threshold, **(cheap_tier.model_dump() if cheap_tier else {})),
            Tier(strong, **(strong_tier.model_dump() if strong_tier else {})),
        )
        return Router(
            tiers=tiers,
            # A threshold given for this run wins over the per-task policy, as every option does.
            task_thresholds=self.settings.thresholds if threshold_given is None else None,
            telemetry=self.telemetry,
            models=self.model_table,
            prices=self.prices,
            store_answers=self.store_answers,
            preview_chars=self.preview_chars,
            **options,
        )


OBSERVE_BASE_URL = "http://routermon.observe"  # the wrapped client's base URL: never on a network


def observe(client, shadow_share: float | None = 0.05, task: str | None = None, *, workspace=None):
    """``client`` (an ``anthropic.Anthropic`` or ``AsyncAnthropic``) wrapped so that every call goes
    through the gateway's ASGI app in-process (``core/gateway/inprocess.py``) to ``client``'s own
    base URL: ``messages.create`` and ``messages.stream`` behave as before (the same bytes) and are
    logged and shadowed as the gateway does. ``shadow_share``: of each task's calls (``None``: the
    settings'); ``task``: every call's task (``x-routermon-task``), else the key from its shape.

    The wrapped client's ``routermon`` attribute is the gateway's thread: ``.app`` (the gateway,
    with its counters) and ``.close()`` (finish shadow calls, write every row; also run at exit).
    """
    import atexit

    import anthropic
    import httpx2

    from .gateway.inprocess import AsyncInProcessTransport, GatewayThread, InProcessTransport

    is_async = isinstance(client, anthropic.AsyncAnthropic)
    if not is_async and not isinstance(client, anthropic.Anthropic):
        raise TypeError(
            f"observe() wraps an anthropic.Anthropic or AsyncAnthropic, not {type(client).__name__}."
        )
    ws = workspace or Workspace.load()
    upstream = str(client.base_url).rstrip("/")
    app = ws.gateway(
        upstream_url=upstream, shadow_share=shadow_share, judge=bool(os.environ.get("ANTHROPIC_API_KEY"))
    )
    thread = GatewayThread(app, on_close=lambda: atexit.unregister(thread.close))
    atexit.register(thread.close)
    if is_async:
        http_client = httpx2.AsyncClient(transport=AsyncInProcessTransport(thread), timeout=client.timeout)
    else:
        http_client = httpx2.Client(transport=InProcessTransport(thread), timeout=client.timeout)
    headers = {"x-routermon-task": task} if task else None
    wrapped = client.copy(base_url=OBSERVE_BASE_URL, http_client=http_client, default_headers=headers)
    wrapped.routermon = thread
    return wrapped
