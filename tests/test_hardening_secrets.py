"""Hardening, secrets and privacy.

* A distinctive API key, set as ``ANTHROPIC_API_KEY`` and really sent to the stand-in API over
  loopback HTTP, never shows up in the call log's files (database, WAL, shared memory), in the
  audit report, in an error message or on the command line's stdout/stderr.
* Inputs are stored as the privacy setting says (``none`` / ``preview`` / ``full``), checked by
  reading the raw bytes of the database files, for routed requests, imports and the CLI.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from routermon.core.errors import RouteFailedError
from routermon.core.log.importing import import_pairs
from routermon.core.log.privacy import key_path, log_key
from routermon.core.log.reader import LogReader
from routermon.core.measure.report import build_report, render_json, render_markdown
from routermon.core.route.client import real_client
from routermon.core.route.router import Router
from routermon.core.simulate.standin import (
    StandInAPI,
    answer,
    broken_body,
    connection_reset,
    http_error,
    tool_input,
)

CHEAP = "claude-haiku-4-5"
STRONG = "claude-sonnet-4-6"
LABELS = ["safe", "unsafe"]
SECRET_CORE = "RMSECRET7f3c9a1e5b2d4c6e8a0f1b3d5c7e9a2b"
API_KEY = f"sk-ant-api03-{SECRET_CORE}-Zx9Qw8Er7Ty6"
# The key and the fragments a careless formatter might still leak.
FRAGMENTS = (API_KEY, SECRET_CORE, SECRET_CORE[:16], API_KEY[-12:])


def log_files(db: Path) -> dict[str, bytes]:
    """The raw bytes of every file of the database that exists right now."""
    return {
        path.name: path.read_bytes()
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal"))
        if path.exists()
    }


def assert_no_secret(where: str, data: str | bytes) -> None:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for fragment in FRAGMENTS:
        assert fragment not in text, f"the API key leaked into {where}"
    if isinstance(data, bytes):  # also as UTF-16, in case something stored it that way
        assert API_KEY.encode("utf-16-le") not in data, f"the API key leaked into {where}"


class KeyCheckingAPI(StandInAPI):
    """The stand-in, remembering the API key each request carried (``x-api-key`` or a bearer token)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.keys_seen: list[str | None] = []

    def handle(self, method, path, body, headers=None):
        headers = headers or {}
        bearer = (headers.get("authorization") or "").removeprefix("Bearer ")
        self.keys_seen.append(headers.get("x-api-key") or bearer or None)
        return super().handle(method, path, body, headers)


@pytest.fixture
def standin_api(monkeypatch):
    """What ``loopback`` (tests/conftest.py) serves here: a stand-in that records the keys it is
    sent, with the distinctive key in the environment for the real client to send."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", API_KEY)
    return KeyCheckingAPI(timeout_s=0.2)


def test_api_key_stays_out_of_the_log_the_report_and_error_messages(loopback, tmp_path):
    db = tmp_path / "calls.db"
    api = loopback.api
    # Answers, an escalation, and failures of every kind the key could ride along with.
    api.enqueue(answer("safe", 0.95), answer("unsafe", 0.3), model=CHEAP)
    api.enqueue(answer("unsafe", 0.9), model=STRONG)
    api.enqueue(http_error(401, "authentication_error"), model=CHEAP)
    api.enqueue(http_error(403, "permission_error"), model=STRONG)
    api.enqueue(http_error(429, retry_after=0), model=CHEAP)
    api.enqueue(http_error(500), model=STRONG)
    api.enqueue(http_error(529), model=CHEAP)
    api.enqueue(broken_body(), model=STRONG)
    api.enqueue(connection_reset(), model=CHEAP)
    api.enqueue(tool_input({"answer": API_KEY[:5], "confidence": 2}), model=STRONG)
    texts = ["a kind note", "a borderline note", "one", "two", "three", "four"]
    messages: list[str] = []

    async def run():
        # The real-API client: it reads the key (and the loopback base URL) from the environment.
        router = Router(CHEAP, STRONG, 0.7, client=real_client(max_retries=0, timeout=5), log=db)
        results = []
        try:
            for text in texts:
                try:
                    results.append(await router.route("classify", text, labels=LABELS))
                except RouteFailedError as exc:
                    messages.extend([str(exc), repr(exc), json.dumps(exc.failures)])
            assert router.log is not None
            router.log.flush()
            during = log_files(db)  # with the WAL still there
        finally:
            await router.aclose()
        return results, during

    results, during = asyncio.run(run())
    # The key really travelled with every request, so the checks below mean something.
    assert api.keys_seen and set(api.keys_seen) == {API_KEY}
    assert len(results) == 2 and len(messages) == 3 * 4
    assert "-wal" in "".join(during)
    for name, data in during.items():
        assert_no_secret(f"the log file {name} (open)", data)
    for name, data in log_files(db).items():
        assert_no_secret(f"the log file {name} (closed)", data)
    for message in messages:
        assert_no_secret("a RouteFailedError", message)
    for result in results:
        assert_no_secret("a RouteResult", result.model_dump_json())
    with LogReader(db) as reader:
        report = build_report(reader)
    assert report.traffic.requests == len(texts)
    assert_no_secret("the Markdown report", render_markdown(report))
    assert_no_secret("the JSON report", render_json(report))


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "routermon.tui.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


def test_cli_errors_do_not_show_the_api_key(loopback, tmp_path):
    db = tmp_path / "cli.db"
    api = loopback.api
    env = {k: os.environ[k] for k in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "ROUTERMON_CONFIG")}
    # Both models reject the key: the command fails with one sentence and exit 2.
    api.enqueue(http_error(401, "authentication_error"), http_error(401, "authentication_error"))
    failed = run_cli("route", "--labels", "safe,unsafe", "--db", str(db), "hello", env=env)
    assert failed.returncode == 2, failed.stderr
    assert failed.stderr.startswith("routermon: ") and "Traceback" not in failed.stderr
    assert "authentication_error" in failed.stderr
    # And a request that works, printed as JSON.
    api.enqueue(answer("safe", 0.9))
    worked = run_cli("route", "--labels", "safe,unsafe", "--db", str(db), "--json", "hello", env=env)
    assert worked.returncode == 0, worked.stderr
    assert json.loads(worked.stdout)["answer"] == "safe"
    assert set(api.keys_seen) == {API_KEY}
    for where, output in (("stderr", failed.stderr), ("stdout", failed.stdout + worked.stdout)):
        assert_no_secret(f"the CLI's {where}", output)
    for name, data in log_files(db).items():
        assert_no_secret(f"the log file {name}", data)


# -- inputs stored according to the privacy setting ------------------------------------------------

HEAD = "HEADMARK-41c9e2"  # inside the first 80 characters
TAIL = "TAILMARK-93b07d"  # beyond them
PRIVATE_TEXT = f"{HEAD} my card number is 4111 1111 1111 1111 and my address is 12 Elm St, " + "x" * 20 + TAIL
assert PRIVATE_TEXT.index(TAIL) > 80


def stored(db: Path, marker: str) -> bool:
    return any(marker.encode() in data for data in log_files(db).values())


EXPECTED = {"full": (True, True), "preview": (True, False), "none": (False, False)}


@pytest.mark.parametrize("store_inputs", ["full", "preview", "none"])
def test_routed_inputs_are_stored_as_the_setting_says(tmp_path, store_inputs):
    db = tmp_path / "calls.db"
    api = StandInAPI()
    api.enqueue(answer("safe", 0.9), answer("safe", 0.2), model=CHEAP)  # the second escalates
    api.enqueue(answer("unsafe", 0.9), model=STRONG)

    async def run():
        router = Router(
            CHEAP, STRONG, 0.7, client=api.client(max_retries=0), log=db, store_inputs=store_inputs
        )
        try:
            for suffix in ("", " (again)"):
                await router.route("classify", PRIVATE_TEXT + suffix, labels=LABELS)
            router.log.flush()
            return stored(db, HEAD), stored(db, TAIL)
        finally:
            await router.aclose()

    during = asyncio.run(run())
    after = stored(db, HEAD), stored(db, TAIL)
    assert during == after == EXPECTED[store_inputs]
    # Whatever the setting, a digest is kept (so duplicates can be found) and every call is logged;
    # with nothing of the input stored, it is keyed with the log's secret, never the plain sha256
    # (which a guess at a short input would find).
    plain = hashlib.sha256(PRIVATE_TEXT.encode()).hexdigest()
    assert stored(db, plain) is (store_inputs != "none")
    if store_inputs == "none":
        keyed = hmac.new(log_key(db), PRIVATE_TEXT.encode(), hashlib.sha256).hexdigest()
        assert stored(db, keyed)
        assert (key_path(db).stat().st_mode & 0o777) == 0o600
    with LogReader(db) as reader:
        rows = reader.calls_after(0)
    assert len(rows) == 3
    previews = {r.input_preview for r in rows}
    assert previews <= {None} if store_inputs == "none" else all(p and p.startswith(HEAD) for p in previews)


def test_a_shorter_preview_stores_only_that_many_characters(tmp_path):
    db = tmp_path / "calls.db"
    api = StandInAPI()
    api.enqueue(answer("safe", 0.9))
    router = Router(CHEAP, STRONG, 0.7, client=api.client(), log=db, store_inputs="preview", preview_chars=4)
    router.route_sync("classify", "ABCDEFGHIJ-private", labels=LABELS)
    router.close()
    assert stored(db, "ABCD") and not stored(db, "ABCDE") and not stored(db, "private")


@pytest.mark.parametrize("store_inputs", ["full", "preview", "none"])
def test_imported_inputs_are_stored_as_the_setting_says(tmp_path, store_inputs):
    pairs = tmp_path / "pairs.jsonl"
    side = {"answer": "a", "input_tokens": 10, "output_tokens": 2}
    pairs.write_text(
        json.dumps(
            {
                "id": "p1",
                "task": "date",
                "input": PRIVATE_TEXT,
                "cheap": {"model": CHEAP, "confidence": 0.8, **side},
                "strong": {"model": STRONG, **side},
            }
        )
        + "\n"
    )
    db = tmp_path / "calls.db"
    import_pairs(pairs, db, store_inputs=store_inputs)
    assert (stored(db, HEAD), stored(db, TAIL)) == EXPECTED[store_inputs]


def test_the_cli_honours_the_store_inputs_setting(tmp_path):
    db = tmp_path / "cli.db"
    env = {"ROUTERMON_STORE_INPUTS": "none", "ROUTERMON_CONFIG": str(tmp_path / "no-settings.toml")}
    done = run_cli("route", "--fake", "--labels", "safe,unsafe", "--db", str(db), PRIVATE_TEXT, env=env)
    assert done.returncode == 0, done.stderr
    assert not stored(db, HEAD) and not stored(db, TAIL)
    with LogReader(db) as reader:
        assert reader.summary().requests == 1


class Invoice(BaseModel):
    vendor: str | None = None
    total: str | None = None


SUMMARY = f"{HEAD} asks for a refund of 4111 1111 1111 1111 charges made at 12 Elm St last week {TAIL}"


def test_store_answers_none_keeps_summaries_and_extractions_as_keyed_digests(tmp_path):
    from routermon.core.measure.pairs import load_pairs

    db = tmp_path / "calls.db"
    api = StandInAPI()
    # A shadow pair per task: the cheap and the strong model write the same summary and extract
    # the same fields in different spellings; one field slips.
    api.enqueue(answer(SUMMARY, 0.9), model=CHEAP)
    api.enqueue(answer(SUMMARY.upper(), 0.9), model=STRONG)
    api.enqueue(answer({"vendor": f"{HEAD} GmbH", "total": "1,234.50"}, 0.9), model=CHEAP)
    api.enqueue(answer({"vendor": f"{HEAD.lower()}  gmbh", "total": "1243.5"}, 0.9), model=STRONG)
    api.enqueue(answer("safe", 0.9), model=CHEAP)
    api.enqueue(answer("safe", 0.9), model=STRONG)

    async def run():
        router = Router(
            CHEAP,
            STRONG,
            0.7,
            mode="shadow",
            client=api.client(max_retries=0),
            log=db,
            store_inputs="none",
            store_answers="none",
        )
        try:
            summary = await router.route("summarize", PRIVATE_TEXT)
            extraction = await router.route(router.task("extract", fields=Invoice), PRIVATE_TEXT)
            label = await router.route("classify", PRIVATE_TEXT, labels=LABELS)
            router.log.flush()
            return summary, extraction, label
        finally:
            await router.aclose()

    summary, extraction, label = asyncio.run(run())
    assert summary.answer == SUMMARY  # the caller gets the answer; the log keeps a digest of it
    assert extraction.answer["vendor"] == f"{HEAD} GmbH"
    assert not stored(db, HEAD) and not stored(db, HEAD.lower()) and not stored(db, "4111")
    assert stored(db, '"safe"')  # a label is one of the task's own: kept
    with LogReader(db) as reader:
        pairs = {p.task: p for p in load_pairs(reader, unjudged=True)}
    # The extraction is still compared field by field, on digests of the normalised values.
    assert pairs["extract"].field_agreement == {"vendor": True, "total": False}
    # The summary is free text kept only as a digest: it waits for a judge (run inline).
    assert pairs["summarize"].kind == "text" and not pairs["summarize"].judged
    assert pairs["classify"].cheap_correct and pairs["classify"].correct_source == "exact"


def _stored_in_log(db, marker: str) -> bool:
    """``stored`` for a file; for a PostgreSQL log, whether any row of ``calls`` holds ``marker``."""
    if isinstance(db, Path):
        return stored(db, marker)
    from routermon.core.log.reader import LogReader

    with LogReader(db) as reader:
        sql = "SELECT COUNT(*) FROM calls AS c WHERE CAST(c AS TEXT) LIKE ?"
        return reader.conn.execute(sql, (f"%{marker}%",)).fetchone()[0] > 0


def test_store_inputs_none_keeps_imports_and_shadow_resume_keyed(tmp_path, log_db):
    """On a file (its ``.key`` beside it) and on PostgreSQL (the secret in the database)."""
    from routermon.core.measure.shadowrun import ShadowInput, done_inputs, run_shadow

    db = log_db
    src = tmp_path / "pairs.jsonl"
    line = {
        "task": "t",
        "input": "yes",  # short enough to guess: its plain sha256 must not be in the log
        "cheap": {"model": CHEAP, "answer": "a", "confidence": 0.9, "input_tokens": 1, "output_tokens": 1},
        "strong": {"model": STRONG, "answer": "a", "input_tokens": 1, "output_tokens": 1},
    }
    src.write_text(json.dumps(line) + "\n")
    assert import_pairs(src, db, store_inputs="none").imported == 1
    assert import_pairs(src, db, store_inputs="none").imported == 0  # the keyed key deduplicates
    assert not _stored_in_log(db, hashlib.sha256(b"yes").hexdigest())
    # A shadow run resumed on a keyed log skips what it already paired.
    from routermon.core.simulate.scenario import load_scenario

    api = StandInAPI(scenario=load_scenario(), seed=1)
    items = [ShadowInput(line=1, text="first text"), ShadowInput(line=2, text="second text")]

    def shadow(skip):
        router = Router(
            CHEAP,
            STRONG,
            0.7,
            mode="shadow",
            client=api.client(),
            log=db,
            store_inputs="none",
            source="shadow-run",
        )

        async def go():
            try:
                return await run_shadow(router, "classify", items, labels=LABELS, skip=skip)
            finally:
                await router.aclose()

        return asyncio.run(go())

    first = shadow(set())
    assert first.done == 2
    again = shadow(done_inputs(db, "classify"))
    assert (again.done, again.skipped) == (0, 2)
