"""Hardening, bad input: fuzz the model-reply parser and the import reader with hypothesis.

Only the documented outcomes may come out:

* ``TaskSpec.parse``: an ``(answer, confidence)`` that fits the task, or ``InvalidOutput``.
* The router, whatever the cheap model's tool input or whole response body: the call ends as a
  valid answer, ``invalid_output``, ``malformed_response`` or ``refusal`` (and the request escalates),
  never another exception; every call is logged.
* The import reader (``routermon.core.log.importing``), whatever the bytes or JSON: pairs and line problems,
  or ``ImportFormatError``/``InvalidPairsError``; an import writes exactly the rows it reports.
"""

from __future__ import annotations

import json
import math
import sqlite3

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from routermon.core.errors import ImportFormatError
from routermon.core.log.importing import (
    ImportedPair,
    ImportProblem,
    import_pairs,
    parse_pair_line,
    read_pairs_file,
)
from routermon.core.log.reader import LogReader
from routermon.core.log.records import CALL_COLUMNS
from routermon.core.log.store import CallLog
from routermon.core.prices import PriceBook
from routermon.core.route import tasks
from routermon.core.route.router import Router
from routermon.core.simulate.standin import Reply, StandInAPI, answer, tool_input

CHEAP = "claude-haiku-4-5"
STRONG = "claude-sonnet-4-6"
LABELS = ["safe", "unsafe", "review-needed"]
CALL_ENDINGS = {None, "invalid_output", "malformed_response", "refusal"}

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# JSON values, including the awkward ones: NaN, infinities, huge integers, lone surrogates.
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["\ud800", "a\udfffb", "\x00", "safe", "SAFE ", "1e999", ""])
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
confidences = (
    st.floats(min_value=0, max_value=1) | st.sampled_from([0, 1, -0.0, 1.0000001, -1e-9]) | json_values
)
tool_inputs = json_values | st.fixed_dictionaries(
    {"answer": st.sampled_from(LABELS) | json_values, "confidence": confidences},
    optional={"extra": json_values},
)


class Invoice(BaseModel):
    number: str
    total: float | None = None
    paid: bool = False


SPECS = {
    "classify": tasks.classify(LABELS),
    "summarize": tasks.summarize(),
    "extract": tasks.extract(Invoice),
    "custom": tasks.custom("score", "Score {what} from 1 to 5.", int, what="the text"),
}


def roundtrip(value):
    """What the payload looks like after the stand-in's JSON and the SDK's parsing."""
    return json.loads(json.dumps(value))


# -- the reply parser --------------------------------------------------------------------------


@FUZZ
@given(name=st.sampled_from(sorted(SPECS)), payload=tool_inputs)
def test_task_parse_returns_a_fitting_answer_or_invalid_output(name, payload):
    spec = SPECS[name]
    try:
        value, confidence = spec.parse(payload)
    except tasks.InvalidOutput as exc:
        assert str(exc)
        return
    assert type(confidence) is float and 0.0 <= confidence <= 1.0 and not math.isnan(confidence)
    if name == "classify":
        assert value in LABELS
    elif name == "summarize":
        assert isinstance(value, str)
    elif name == "extract":
        assert set(value) == {"number", "total", "paid"} and isinstance(value["number"], str)
    else:
        assert isinstance(value, int)
    json.dumps(value)  # the answer can be logged as JSON


def test_router_handles_arbitrary_tool_inputs(tmp_path):
    api = StandInAPI(record_requests=False)
    router = Router(CHEAP, STRONG, 0.7, client=api.client(max_retries=0), log=tmp_path / "fuzz.db", seed=1)
    spec = SPECS["classify"]
    calls = 0

    @FUZZ
    @given(payload=tool_inputs)
    @example(payload={"answer": "\ud800", "confidence": 0.9})
    @example(payload={"answer": "safe", "confidence": float("nan")})
    @example(payload={"answer": "safe", "confidence": True})
    def check(payload):
        nonlocal calls
        api.enqueue(tool_input(payload), model=CHEAP)
        api.enqueue(answer("unsafe", 0.95), model=STRONG)
        result = router.route_sync(spec, "some user text")
        calls += len(result.calls)
        cheap = result.calls[0]
        try:
            expected, confidence = spec.parse(roundtrip(payload))
        except tasks.InvalidOutput:
            assert cheap.error_type == "invalid_output" and result.escalation_reason == "invalid_output"
            assert result.answer == "unsafe" and result.model == STRONG
            return
        assert cheap.error_type is None and (cheap.answer, cheap.confidence) == (expected, confidence)
        if confidence >= 0.7:
            assert (result.model, result.answer, result.escalated) == (CHEAP, expected, False)
        else:
            assert result.escalation_reason == "low_confidence" and result.model == STRONG

    try:
        check()
    finally:
        router.close()
    with LogReader(tmp_path / "fuzz.db") as reader:
        summary = reader.summary()
        answers = [r.answer for r in reader.iter_calls() if r.answer is not None]
    assert summary.calls == calls and summary.requests > 100
    assert all(json.loads(a) in LABELS for a in answers)
    assert api.internal_errors == []


class RawBodyAPI(StandInAPI):
    """The stand-in, plus a scripted reply whose body is sent exactly as given (``Reply("raw", bytes)``)."""

    def _render(self, reply, request, message_id):
        if reply.kind == "raw":
            return reply.status, {"content-type": "application/json"}, reply.payload, 0.0
        return super()._render(reply, request, message_id)


blocks = st.fixed_dictionaries(
    {"type": st.sampled_from(["tool_use", "text", "thinking"]) | json_values},
    optional={
        "name": st.just("submit_answer") | json_values,
        "id": json_values,
        "input": tool_inputs,
        "text": json_values,
    },
)
usages = json_values | st.fixed_dictionaries(
    {
        "input_tokens": json_values | st.integers(0, 10**6),
        "output_tokens": json_values | st.integers(0, 10**6),
    },
    optional={"cache_read_input_tokens": json_values, "cache_creation_input_tokens": json_values},
)
messages = st.fixed_dictionaries(
    {
        "content": st.lists(blocks, max_size=3) | json_values,
        "stop_reason": st.sampled_from(["tool_use", "end_turn", "max_tokens", "refusal"]) | json_values,
        "usage": usages,
    },
    optional={
        "id": json_values,
        "type": st.just("message") | json_values,
        "role": st.just("assistant") | json_values,
        "model": json_values,
    },
)
bodies = (
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | messages.map(lambda m: json.dumps(m).encode())
    | messages.map(lambda m: json.dumps(m).encode()[: len(json.dumps(m)) // 2])  # cut off mid-body
)


def test_router_handles_arbitrary_response_bodies(tmp_path):
    api = RawBodyAPI(record_requests=False)
    router = Router(CHEAP, STRONG, 0.7, client=api.client(max_retries=0), log=tmp_path / "fuzz.db", seed=2)
    calls = 0
    endings = set()

    @FUZZ
    @given(body=bodies)
    @example(body=b"\x80")  # not UTF-8
    @example(body=b"\x00\x00\x00\x00\x00")  # looks like UTF-32 to json.loads
    @example(body=b"null")
    @example(body=b'{"usage": []}')
    @example(body=b'{"content": "abc", "stop_reason": "tool_use", "usage": {"input_tokens": "12"}}')
    @example(body=json.dumps({"content": [], "usage": {"input_tokens": 2**80}}).encode())
    def check(body):
        nonlocal calls
        api.enqueue(Reply("raw", body), model=CHEAP)
        api.enqueue(answer("unsafe", 0.95), model=STRONG)
        result = router.route_sync("classify", "another user text", labels=LABELS)
        calls += len(result.calls)
        cheap = result.calls[0]
        endings.add(cheap.error_type)
        assert cheap.error_type in CALL_ENDINGS
        if cheap.error_type is None:
            assert cheap.answer in LABELS and 0.0 <= cheap.confidence <= 1.0
            assert cheap.input_tokens >= 0 and cheap.output_tokens >= 0 and cheap.cost_usd >= 0
        else:
            assert result.escalation_reason in ("invalid_output", "refusal")
            assert result.answer == "unsafe"

    try:
        check()
    finally:
        router.close()
    assert {"invalid_output", "malformed_response"} <= endings
    with LogReader(tmp_path / "fuzz.db") as reader:
        assert reader.summary().calls == calls
    assert api.internal_errors == []


# -- the import reader -------------------------------------------------------------------------

sides = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from([CHEAP, STRONG, "gpt-4", "no-such-model"]) | json_values,
        "answer": json_values,
        "confidence": confidences,
        "input_tokens": st.integers(0, 5000) | json_values,
        "output_tokens": st.integers(0, 5000) | json_values,
        "latency_ms": st.floats(0, 1e5) | json_values,
        "correct": st.booleans() | json_values,
    },
)
pair_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=6) | st.integers() | json_values,
        "task": st.sampled_from(["date", "classify"]) | json_values,
        "input": st.text(max_size=30) | json_values,
        "reference": json_values,
        "cheap": sides | json_values,
        "strong": sides | json_values,
    },
)
lines = (
    st.binary(max_size=120)
    | json_values.map(json.dumps).map(str.encode)
    | pair_objects.map(lambda o: json.dumps(o).encode())
)


@FUZZ
@given(raw=lines)
def test_parse_pair_line_returns_a_pair_or_a_problem(raw):
    parsed = parse_pair_line(raw, 7)
    assert isinstance(parsed, ImportedPair | ImportProblem)
    assert parsed.line == 7
    if isinstance(parsed, ImportProblem):
        assert parsed.message and str(parsed).startswith("line 7: ")
    else:
        assert parsed.task.strip() and parsed.cheap.confidence is not None
        assert 0.0 <= parsed.cheap.confidence <= 1.0


@FUZZ
@given(content=st.lists(lines, max_size=6).map(b"\n".join) | st.binary(max_size=300))
def test_read_pairs_file_reports_every_bad_line(tmp_path, content):
    path = tmp_path / "pairs.jsonl"
    path.write_bytes(content)
    try:
        pairs, problems = read_pairs_file(path)
    except ImportFormatError as exc:
        assert "empty" in str(exc)
        assert all(not line.strip() for line in content.removeprefix(b"\xef\xbb\xbf").split(b"\n"))
        return
    numbered = {p.line for p in pairs} | {p.line for p in problems}
    assert len(numbered) == len(pairs) + len(problems)
    # Lines end at b"\n" only (a JSON line may hold a lone \r, U+2028 or U+0085); a BOM is not text.
    lines_ = content.removeprefix(b"\xef\xbb\xbf").split(b"\n")
    assert numbered == {n for n, line in enumerate(lines_, start=1) if line.strip()}


HUGE_TOKENS = {"model": CHEAP, "answer": "a", "confidence": 0.5, "input_tokens": 2**80, "output_tokens": 1}
SURROGATES = {"model": CHEAP, "answer": "\ud800", "confidence": 0.5, "input_tokens": 1, "output_tokens": 1}
STRONG_SIDE = {"model": STRONG, "answer": "a", "input_tokens": 1, "output_tokens": 1}


@FUZZ
@given(content=st.lists(lines, min_size=1, max_size=5).map(b"\n".join))
@example(content=json.dumps({"task": "t", "id": 1, "cheap": HUGE_TOKENS, "strong": STRONG_SIDE}).encode())
@example(
    content=json.dumps({"task": "t", "input": "\udc00", "cheap": SURROGATES, "strong": STRONG_SIDE}).encode()
)
def test_import_writes_exactly_what_it_reports_or_raises_a_documented_error(tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("import")
    path, db = folder / "pairs.jsonl", folder / "log.db"
    path.write_bytes(content)
    try:
        result = import_pairs(path, db, skip_invalid=True, prices=PriceBook())
    except ImportFormatError as exc:  # InvalidPairsError is one: no line could be imported
        assert str(exc).endswith(".")
        return
    conn = sqlite3.connect(db)
    try:
        stored = conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    finally:
        conn.close()
    assert stored == result.rows_written == 2 * result.imported


# -- the writer itself -------------------------------------------------------------------------

column_values = st.one_of(
    scalars,
    st.dictionaries(st.text(max_size=3), scalars, max_size=2),  # not a type SQLite stores
    st.binary(max_size=8),
)


@FUZZ
@given(
    values=st.lists(
        st.lists(column_values, min_size=len(CALL_COLUMNS), max_size=len(CALL_COLUMNS)), max_size=8
    )
)
def test_writer_stores_or_rejects_every_row_and_never_stops(tmp_path_factory, values):
    db = tmp_path_factory.mktemp("writer") / "log.db"
    good = [_good_row(i) for i in range(3)]
    with CallLog(db, max_delay=0.001) as log:
        log.log_rows(good[:1])
        log.log_rows([tuple(v) for v in values])
        log.log_rows(good[1:])
        acknowledged = log.flush(timeout=10)
        rejected = log.rejected
        # The writer is still alive and well after whatever came before.
        log.log_rows([_good_row(99)])
        assert log.flush(timeout=10) == acknowledged + 1
    conn = sqlite3.connect(db)
    try:
        stored = conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
        ids = {r[0] for r in conn.execute("SELECT request_id FROM calls")}
        unkeyed = conn.execute("SELECT COUNT(*) FROM calls WHERE dedup_key IS NULL").fetchone()[0]
        keys = [r[0] for r in conn.execute("SELECT dedup_key FROM calls WHERE dedup_key IS NOT NULL")]
        required = {r[1] for r in conn.execute("PRAGMA table_info(calls)") if r[3]} - {"id"}
    finally:
        conn.close()
    # Every row is acknowledged or rejected. Rejected: a value SQLite cannot hold (text is repaired,
    # not rejected), or a NULL where the schema needs a value. Acknowledged but not stored: only a
    # row repeating a dedup_key already stored.
    refused = [
        any(not _bindable(v) for v in row)
        or any(v is None for c, v in zip(CALL_COLUMNS, row, strict=True) if c in required)
        for row in values
    ]
    assert rejected == sum(refused)
    assert acknowledged + rejected == len(values) + len(good)
    key = CALL_COLUMNS.index("dedup_key")
    accepted = [row for row, no in zip(values, refused, strict=True) if not no]
    assert unkeyed == sum(row[key] is None for row in accepted) + len(good) + 1
    assert len(keys) == len(set(keys)) <= sum(row[key] is not None for row in accepted)
    assert stored == unkeyed + len(keys) <= acknowledged + 1
    assert {"good-0", "good-1", "good-2", "good-99"} <= ids


def _bindable(value) -> bool:
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return value is None or isinstance(value, float | str | bytes)


def _good_row(n: int) -> tuple:
    values = dict.fromkeys(CALL_COLUMNS, 0)
    values.update(request_id=f"good-{n}", task="classify", mode="cascade", source="fuzz", model=CHEAP)
    values.update(role="cheap", input_sha256="0" * 64, ts=1.75e9 + n, dedup_key=None)
    return tuple(values[c] for c in CALL_COLUMNS)
