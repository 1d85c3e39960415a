"""The Models API: with a key, what it reports is read once, cached in the data folder and laid over
the bundled table (the settings over both); the stand-in serves it, so all of it runs offline over
loopback HTTP (ANTHROPIC_BASE_URL)."""

from __future__ import annotations

import json
import socket

import pytest

from routermon.core.route.models import BUNDLED, ModelTable, bundled_models
from routermon.core.route.models_api import CACHE_FILE, fields_from_info
from routermon.core.settings import data_dir
from routermon.core.simulate.standin import StandInAPI, answer, serve_in_thread
from routermon.core.simulate.standin.catalog import model_info
from routermon.core.workspace import Workspace

CHEAP, STRONG = "claude-haiku-5-5", "claude-sonnet-5-5"
LABELS = ["safe", "unsafe"]


@pytest.mark.parametrize("model", bundled_models())
def test_what_the_stand_in_reports_reads_back_as_the_bundled_facts(model):
    caps = BUNDLED.get(model)
    fields = fields_from_info(model_info(caps))
    assert fields["structured_outputs"] == caps.structured_outputs
    assert set(fields["thinking_types"]) == set(caps.thinking_types)
    assert tuple(fields["effort_levels"]) == caps.effort_levels
    assert fields["context_window"] == caps.context_window
    assert ModelTable(reported={model: fields}).get(model).effort_when_off == caps.effort_when_off


def serve(api: StandInAPI, monkeypatch):
    server, stop = serve_in_thread(api)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    return stop


def counting_gets(api: StandInAPI) -> list[str]:
    gets: list[str] = []
    handle = api.handle

    def counted(method, path, body, headers=None):
        if method == "GET":
            gets.append(path)
        return handle(method, path, body, headers)

    api.handle = counted  # type: ignore[method-assign]
    return gets


def test_a_key_reads_the_models_api_once_and_caches_it_in_the_data_folder(tmp_path, monkeypatch):
    api = StandInAPI()
    gets = counting_gets(api)
    stop = serve(api, monkeypatch)
    try:
        Workspace.load(db=tmp_path / "calls.db").router().close()
        Workspace.load(db=tmp_path / "calls.db").router().close()
    finally:
        stop()
    assert sorted(gets) == [f"/v1/models/{CHEAP}", f"/v1/models/{STRONG}"]  # once, not per router
    cached = json.loads((data_dir() / CACHE_FILE).read_text())
    (base_url,) = cached  # kept per API address: a stand-in's facts never stand for the real API's
    assert base_url.startswith("http://127.0.0.1:")
    assert set(cached[base_url]) == {CHEAP, STRONG} and cached[base_url][STRONG]["info"]["type"] == "model"


def test_the_router_builds_its_request_from_what_the_api_reports_and_the_settings_win(tmp_path, monkeypatch):
    # This "API" says Sonnet 5.5 has no structured outputs: the router offers the tool instead.
    api = StandInAPI(models=ModelTable({STRONG: {"structured_outputs": False}}))
    api.enqueue(answer("safe", 0.2), model=CHEAP)
    api.enqueue(answer("unsafe", 0.9), model=STRONG)
    stop = serve(api, monkeypatch)
    try:
        router = Workspace.load(db=tmp_path / "calls.db").router()
        assert router.models.get(STRONG).sources[-1] == "models-api"
        assert router._requests[1].answer_mode == "auto_tool"
        result = router.route_sync("classify", "text", labels=LABELS)
        router.close()
        strong_request = api.requests[-1]
        assert strong_request["tool_choice"] == {"type": "auto"}
        assert "format" not in strong_request.get("output_config", {})
        assert (result.answer, result.model, result.degraded) == ("unsafe", STRONG, False)

        config = tmp_path / "settings.toml"
        config.write_text(f'[models."{STRONG}"]\nstructured_outputs = true\n')
        monkeypatch.setenv("ROUTERMON_CONFIG", str(config))
        router = Workspace.load(db=tmp_path / "calls.db").router()
        assert router._requests[1].answer_mode == "json_schema"  # the settings entry overrides the API
        router.close()
    finally:
        stop()


def test_an_unreachable_models_api_leaves_the_bundled_table(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: connections are refused
    monkeypatch.setenv("ANTHROPIC_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key")
    router = Workspace.load(db=tmp_path / "calls.db").router()
    assert router.models.get(STRONG) == BUNDLED.get(STRONG)
    assert not (data_dir() / CACHE_FILE).exists()
    router.close()


def test_the_cache_is_read_without_the_network_and_read_again_after_a_week(tmp_path):
    from routermon.core.route.models_api import MAX_AGE_S, ModelsAPICache

    class Client:  # a sync client's models.retrieve, counting its calls
        def __init__(self):
            self.calls = 0
            self.models = self

        def retrieve(self, model):
            self.calls += 1
            import anthropic

            return anthropic.types.ModelInfo.model_validate(model_info(BUNDLED.get(model)))

    cache, client = ModelsAPICache(tmp_path / CACHE_FILE), Client()
    first = cache.reported([STRONG], client, now=1000.0)
    assert client.calls == 1 and first[STRONG]["structured_outputs"] is True
    assert cache.reported([STRONG], None, now=2000.0) == first  # offline: the cache answers
    cache.reported([STRONG], client, now=1000.0 + MAX_AGE_S - 1)
    assert client.calls == 1
    cache.reported([STRONG], client, now=1000.0 + MAX_AGE_S + 1)
    assert client.calls == 2
    assert cache.reported([STRONG], None, base_url="http://elsewhere") == {}
