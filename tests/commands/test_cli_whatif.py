"""The `routermon` command side of test_whatif.py: what a user types and reads."""

from __future__ import annotations

import json
import time

import pytest
from test_whatif import DAY, HAIKU, ISSUE_ARGS, SONNET, _audits, _cascade_traffic, _run, _write

from routermon.core.route.catalog import default_models


def test_cli_json_has_the_issue_figures():
    result = _run([*ISSUE_ARGS, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["monthly_usd"]["always_strong"] == pytest.approx(600)
    assert data["monthly_usd"]["always_cheap"] == pytest.approx(160)
    assert data["monthly_usd"]["cascade"] == pytest.approx(190)
    assert data["monthly_usd"]["simple_split"] == pytest.approx(182)
    assert data["savings_usd"] == pytest.approx(410)
    assert data["savings_pct"] == pytest.approx(68.333333)
    assert data["simple_split_savings_usd"] == pytest.approx(418)
    assert data["break_even_cheap_share"] == pytest.approx(4 / 15)
    assert data["break_even_monthly_requests"] is None


def test_cli_table_labels_the_simple_split():
    result = _run([*ISSUE_ARGS, "--overhead", "41"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    for figure in (
        "$600.00",
        "$160.00",
        "$190.00",
        "$182.00",
        "$410.00 (68.3%)",
        "$418.00",
        "26.7%",
        "$369.00",
        "100,000",
    ):
        assert figure in out
    assert "Simple split (ignores the wasted cheap call" in out
    assert "Break-even volume" in out


def test_cli_table_without_overhead_has_no_net_rows_and_prints_notes():
    result = _run([*ISSUE_ARGS, "--batch"])
    assert result.exit_code == 0, result.output
    assert "Net savings" not in result.stdout
    assert f"Batch prices unavailable for {HAIKU}" in " ".join(result.stdout.split())


def test_cli_defaults_to_the_catalog_models():
    result = _run(
        [
            "whatif",
            "--volume",
            "10",
            "--cheap-share",
            "0.5",
            "--input-tokens",
            "1",
            "--output-tokens",
            "1",
            "--json",
        ]
    )
    assert result.exit_code == 0, result.output
    inputs = json.loads(result.stdout)["inputs"]
    assert (inputs["cheap_model"], inputs["strong_model"]) == default_models()


def test_cli_cached_share_and_overhead_reach_the_projection():
    result = _run([*ISSUE_ARGS, "--cached-share", "0.5", "--overhead", "41", "--json"])
    data = json.loads(result.stdout)
    assert data["monthly_usd"]["always_strong"] == pytest.approx(330)
    assert data["net_savings_usd"] == pytest.approx(330 - (88 + 0.05 * 330) - 41)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--cheap", "claude-nonexistent-9", "has no price"),
        ("--strong", "gpt-nonexistent", "has no price"),
        ("--cheap-share", "150", "--cheap-share must be between 0% and 100%"),
        ("--cheap-share", "-0.5", "--cheap-share must be between 0% and 100%"),
        ("--cheap-share", "most", "--cheap-share must be a percent or a share"),
        ("--volume", "-10", "The monthly request volume must be"),
        ("--input-tokens", "-1", "The input token count must be"),
        ("--output-tokens", "-1", "The output token count must be"),
        ("--cached-share", "300", "--cached-share must be between 0% and 100%"),
        ("--overhead", "-5", "The monthly overhead must be"),
        ("--audit-share", "101%", "--audit-share must be between 0% and 100%"),
    ],
)
def test_cli_bad_input_is_one_sentence_and_exit_2(flag, value, message):
    args = list(ISSUE_ARGS)
    if flag in args:
        args[args.index(flag) + 1] = value
    else:
        args += [flag, value]
    result = _run(args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert message in result.stderr
    assert result.stderr.startswith("routermon: ") and result.stderr.count("\n") == 1


def test_cli_missing_figures_is_one_sentence_and_exit_2():
    result = _run(["whatif", "--volume", "5"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "Give --cheap-share, --input-tokens, --output-tokens" in result.stderr


def test_cli_from_log_uses_observed_traffic_and_flags_override(tmp_path):
    path = tmp_path / "calls.db"
    now = time.time()
    _write(path, _cascade_traffic(now - 3 * 3600, 12, 3))
    result = _run(["whatif", "--from-log", "--days", "1", "--db", str(path), "--json"])
    assert result.exit_code == 0, result.output
    inputs = json.loads(result.stdout)["inputs"]
    # The log is three hours old: 12 requests in 3 hours, not in the day asked for.
    assert inputs["observed"]["covered_days"] == pytest.approx(3 / 24, rel=1e-3)
    assert inputs["monthly_requests"] == pytest.approx(12 / inputs["observed"]["covered_days"] * 30)
    assert inputs["cheap_share"] == pytest.approx(0.75)
    assert (inputs["cheap_model"], inputs["strong_model"]) == (HAIKU, SONNET)
    result = _run(
        ["--db", str(path), "whatif", "--from-log", "--days", "1", "--cheap-share", "0.5", "--json"]
    )
    assert result.exit_code == 0, result.output
    inputs = json.loads(result.stdout)["inputs"]
    assert inputs["cheap_share"] == 0.5 and inputs["monthly_requests"] == pytest.approx(2880, rel=1e-3)


def test_cli_audit_share_from_the_flag_and_from_the_log(tmp_path):
    result = _run([*ISSUE_ARGS, "--audit-share", "0.1"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "10.0% of cheap answers audited" in out
    assert "of which audits" in out and "$57.00" in out and "$247.00" in out
    path = tmp_path / "calls.db"
    now = time.time()
    _write(path, _cascade_traffic(now - 3 * 3600, 12, 3) + _audits(now - 3 * 3600, 3))
    logged = _run(["whatif", "--from-log", "--days", "1", "--db", str(path), "--json"])
    assert logged.exit_code == 0, logged.output
    data = json.loads(logged.stdout)
    assert data["inputs"]["audit_share"] == pytest.approx(3 / 9)
    assert data["monthly_usd"]["audits"] > 0
    # Tokens given as flags apply to the audit calls too; the flag overrides the observed share.
    given = _run(
        [
            "whatif",
            "--from-log",
            "--days",
            "1",
            "--db",
            str(path),
            "--input-tokens",
            "50",
            "--audit-share",
            "0",
            "--json",
        ]
    )
    data = json.loads(given.stdout)
    assert data["inputs"]["audit_input_tokens"] is None and data["monthly_usd"]["audits"] == 0


def test_cli_from_log_errors_are_one_sentence(tmp_path):
    missing = _run(["whatif", "--from-log", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output
    path = tmp_path / "calls.db"
    _write(path, _cascade_traffic(time.time() - 30 * DAY, 2, 0))
    empty = _run(["whatif", "--from-log", "--days", "7", "--db", str(path)])
    assert empty.exit_code == 2 and "Traceback" not in empty.output
    assert "no routed requests in the last 7 days" in empty.stderr
