"""Every command's output at 80 and 120 columns: no line wider than the terminal, and no model
name, cost or reason cut with an ellipsis (Rich cuts a cell that does not fit with "…")."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from conftest import DATE_FILE
from review_helpers import build_review_log
from rich.text import Text

from routermon.core.simulate.simulator import simulate
from routermon.core.workspace import Workspace
from routermon.tui.cli import main
from routermon.tui.tables import Column, fit

WIDTHS = (80, 120)
BOX = re.compile("[│┃┏┗┡└]")
MONEY = re.compile(r"\$[0-9][0-9,.]*")


def run(width: int, *args: str):
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": str(width)})
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def assert_fits(out: str, width: int, *whole: str) -> None:
    """No table line wider than ``width``, no "…" anywhere, and each of ``whole`` printed in one
    piece. (A line of prose may be longer: the terminal wraps it and nothing is lost, and ``check``
    keeps one line per check for logs.)"""
    for line in out.splitlines():
        if BOX.search(line):
            assert Text(line).cell_len <= width, line
    assert "…" not in out, out
    for text in whole:
        assert text in out, (text, out)
    for money in MONEY.findall(out):  # a cost is never cut at a line's end
        assert not money.endswith((".", ",")), (money, out)


@pytest.fixture(scope="module")
def tasks_db(tmp_path_factory):
    """A log with shadow pairs of three tasks and cascade traffic with audits."""
    db = tmp_path_factory.mktemp("widths") / "calls.db"
    simulate(routers=Workspace.load(), requests=150, db_path=db, mode="shadow", seed=1)
    simulate(routers=Workspace.load(), requests=150, db_path=db, audit_share=0.2, seed=2)
    return db


@pytest.mark.parametrize("width", WIDTHS)
def test_route_shows_models_costs_and_reasons_whole(tmp_path, width):
    db = str(tmp_path / "calls.db")
    out = run(
        width,
        "route",
        "is this fine?",
        "--labels",
        "safe,unsafe",
        "--stand-in",
        "--threshold",
        "1",
        "--db",
        db,
    )
    assert_fits(out, width, "haiku-5-5", "sonnet-5-5", "low_confidence")
    assert re.search(r"\$0\.0000[0-9]{3}", out)  # the cheap call's cost with its three digits


@pytest.mark.parametrize("width", WIDTHS)
def test_thresholds_fit_with_and_without_a_task(date_db, tasks_db, width):
    one = run(width, "thresholds", "--db", str(date_db))
    assert_fits(one, width, "59.5%–69.2%", "$0.00114")
    task = run(width, "thresholds", "--db", str(tasks_db), "--task", "classify")
    assert_fits(task, width)
    several = run(width, "thresholds", "--db", str(tasks_db))
    assert_fits(several, width, "Per task at threshold", "classify", "extract")
    if width >= 120:
        assert "Left out" not in several
    every = run(width, "thresholds", "--db", str(date_db), "--all")
    assert_fits(every, width)


@pytest.mark.parametrize("width", WIDTHS)
def test_simulate_whatif_and_check_fit(tmp_path, tasks_db, width):
    # Half the kept answers audited: at 10% about one run in 40 drew no audit (the seed follows the
    # clock), so the audits' row this test looks for was missing.
    out = run(width, "simulate", "--requests", "40", "--audit-share", "50%", "--db", str(tmp_path / "s.db"))
    assert_fits(out, width, "haiku-5-5 -> sonnet-5-5", "of which audits")
    out = run(
        width,
        "whatif",
        "--volume",
        "1000000",
        "--cheap-share",
        "90",
        "--input-tokens",
        "300",
        "--output-tokens",
        "50",
        "--audit-share",
        "2%",
        "--overhead",
        "50",
    )
    assert_fits(out, width, "$1,100.00", "claude-sonnet-5-5")
    out = run(width, "whatif", "--from-log", "--db", str(tasks_db), "--days", "30")
    assert_fits(out, width)
    assert_fits(run(width, "check", "--db", str(tasks_db)), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_shadow_import_and_labels_fit(tmp_path, width):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"text": f"message {i}"}) + "\n" for i in range(4)))
    db = str(tmp_path / "shadow.db")
    out = run(width, "shadow", str(inputs), "--labels", "safe,unsafe", "--stand-in", "--db", db)
    assert_fits(out, width, "4 pairs logged")
    assert_fits(
        run(width, "import", str(DATE_FILE), "--db", str(tmp_path / "date.db")), width, "369 new pairs"
    )
    review = build_review_log(tmp_path / "review.db", pairs=4)
    assert_fits(
        run(width, "label", "req_0001", "cheap", "--by", "dana", "--db", str(review)), width, "1 label"
    )
    labels = tmp_path / "labels.jsonl"
    labels.write_text(json.dumps({"request_id": "req_0002", "label": "both"}) + "\n")
    out = run(width, "import-labels", str(labels), "--db", str(review))
    assert_fits(out, width, "1 new label of 1 line")


def test_fit_leaves_out_low_rank_columns_before_cutting_a_kept_one():
    columns = [Column("model"), Column("cost", drop=2), Column("note", keep=False), Column("extra", drop=1)]
    rows = [["haiku-5-5", "$0.0000378", "a few words to wrap", "x" * 30]]
    shown, widths = fit(columns, rows, 40)
    assert [columns[i].header for i in shown] == ["model", "cost", "note"]
    assert widths[0] == len("haiku-5-5") and widths[1] == len("$0.0000378")
    assert sum(widths) + 3 * len(shown) + 1 <= 40
