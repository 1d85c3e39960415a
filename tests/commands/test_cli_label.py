"""`routermon label` and `routermon import-labels`: what a user types and reads."""

from __future__ import annotations

import json

from click.testing import CliRunner
from review_helpers import build_review_log

from routermon.core.log.reader import LogReader
from routermon.tui.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def labels_of(db):
    with LogReader(db) as reader:
        return reader.human_labels()


def test_label_stores_one_label_and_says_so(tmp_path, monkeypatch):
    db = build_review_log(tmp_path / "calls.db", pairs=6)
    monkeypatch.setenv("USER", "dana")
    result = run("label", "req_0001", "strong", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Labelled req_0001 'strong' by dana in {db} (1 label written).\n"
    stored = labels_of(db)["req_0001"]
    assert (stored.label, stored.labeller, stored.source) == ("strong", "dana", "cli")


def test_label_by_and_json(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=6)
    result = run("label", "req_0002", "both", "--by", "erin", "--json", "--db", str(db))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["written"] == 1 and data["label"]["labeller"] == "erin" and data["label"]["label"] == "both"


def test_label_settings_labeller(tmp_path, monkeypatch):
    db = build_review_log(tmp_path / "calls.db", pairs=3)
    monkeypatch.setenv("ROUTERMON_LABELLER", "reviewer-1")
    assert run("label", "req_0000", "cheap", "--db", str(db)).exit_code == 0
    assert labels_of(db)["req_0000"].labeller == "reviewer-1"


def test_label_bad_input_is_one_sentence_exit_2(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=3)
    for args, message in (
        (("req_0000", "maybe"), "routermon: The label 'maybe' is not one of cheap, strong, both, neither.\n"),
        (("req_9999", "cheap"), "routermon: Cannot label it: the log has no request 'req_9999'.\n"),
    ):
        result = run("label", *args, "--db", str(db))
        assert (result.exit_code, result.stderr, result.stdout) == (2, message, "")
    assert labels_of(db) == {}


def test_import_labels_then_reimport_says_0_new(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=6)
    src = tmp_path / "labels.jsonl"
    src.write_text(
        '{"request_id": "req_0001", "label": "cheap", "labeller": "ann"}\n\n'
        '{"request_id": "req_0002", "label": "neither"}\n'
    )
    first = run("import-labels", str(src), "--by", "bo", "--db", str(db))
    assert first.exit_code == 0, first.output
    assert first.stdout == f"Stored 2 new labels of 2 lines into {db}; 0 already present.\n"
    assert {k: (v.label, v.labeller, v.source) for k, v in labels_of(db).items()} == {
        "req_0001": ("cheap", "ann", "import-labels"),
        "req_0002": ("neither", "bo", "import-labels"),
    }
    second = run("import-labels", str(src), "--by", "bo", "--db", str(db))
    assert second.stdout == f"Stored 0 new labels of 2 lines into {db}; 2 already present.\n"
    data = json.loads(run("import-labels", str(src), "--by", "bo", "--json", "--db", str(db)).stdout)
    assert (data["written"], data["already_present"], data["skipped_count"]) == (0, 2, 0)


def test_import_labels_bad_lines_all_or_nothing(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=6)
    src = tmp_path / "labels.jsonl"
    src.write_text(
        '{"request_id": "req_0001", "label": "cheap"}\n'
        "not json\n"
        '{"request_id": "req_0002", "label": "right"}\n'
        '{"request_id": "ghost", "label": "cheap"}\n'
        '{"id": "q-1", "label": "cheap"}\n'
        '{"request_id": "req_0001", "label": "strong"}\n'
    )
    result = run("import-labels", str(src), "--db", str(db))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr == (
        f"routermon: {src} has 5 bad lines (line 2: not JSON; line 3: label must be one of cheap, strong,"
        " both, neither, not 'right'; line 4: the log has no request 'ghost'; line 5: an imported pair's id"
        " needs its task; line 6: labels the pair of line 1 again (same labeller)); fix them, or pass"
        " --skip-invalid to store the rest.\n"
    )
    assert labels_of(db) == {}
    skipped = run("import-labels", str(src), "--skip-invalid", "--db", str(db))
    assert skipped.exit_code == 0
    assert skipped.stdout.startswith("Stored 1 new label of 1 line")
    assert "Skipped 5 bad lines:\n  line 2: not JSON\n" in skipped.stderr
    assert set(labels_of(db)) == {"req_0001"}


def test_import_labels_missing_or_empty_file(tmp_path):
    db = build_review_log(tmp_path / "calls.db", pairs=3)
    missing = run("import-labels", str(tmp_path / "nope.jsonl"), "--db", str(db))
    assert missing.exit_code == 2 and missing.stderr.startswith("routermon: There is no file")
    (tmp_path / "empty.jsonl").write_text("")
    empty = run("import-labels", str(tmp_path / "empty.jsonl"), "--db", str(db))
    assert empty.exit_code == 2 and "has no labels (it is empty)" in empty.stderr


# -- issue 34, "Smaller": labellers, ids and tasks as `import` takes them, on both backends ----------


def test_label_by_an_empty_name_is_refused_in_one_sentence(tmp_path, monkeypatch):
    db = build_review_log(tmp_path / "calls.db", pairs=3)
    monkeypatch.setenv("USER", "dana")
    for by in ("", "   "):
        result = run("label", "req_0000", "cheap", "--by", by, "--db", str(db))
        assert result.exit_code == 2 and result.stdout == ""
        assert (
            result.stderr
            == "routermon: The labeller's name is empty: give a name to --by, or leave --by out.\n"
        )
        src = tmp_path / "labels.jsonl"
        src.write_text('{"request_id": "req_0001", "label": "cheap"}\n')
        result = run("import-labels", str(src), "--by", by, "--db", str(db))
        assert result.exit_code == 2 and "labeller's name is empty" in result.stderr
    assert labels_of(db) == {}


def test_import_labels_refuses_a_nul_labeller_on_its_line_on_both_backends(log_db, tmp_path):
    db = build_review_log(log_db, pairs=4)
    src = tmp_path / "labels.jsonl"
    src.write_text(
        '{"request_id": "req_0001", "label": "cheap", "labeller": "ann"}\n'
        '{"request_id": "req_0002", "label": "strong", "labeller": "b\\u0000o"}\n'
        '{"request_id": "req_\\u00003", "label": "both"}\n'
        '{"request_id": "req_0000", "label": "both", "labeller": ""}\n'
    )
    refused = run("import-labels", str(src), "--by", "cy", "--db", str(db))
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "line 2: labeller holds a NUL character" in refused.stderr
    assert "line 3: request_id holds a NUL character" in refused.stderr
    assert "line 4: labeller must be a name" in refused.stderr
    assert labels_of(db) == {}
    kept = run("import-labels", str(src), "--by", "cy", "--skip-invalid", "--db", str(db))
    assert kept.exit_code == 0, kept.output
    assert {k: v.labeller for k, v in labels_of(db).items()} == {"req_0001": "ann"}


def test_import_labels_takes_the_id_forms_and_task_import_takes(log_db, tmp_path):
    from test_import import pair, write_lines

    pairs = write_lines(tmp_path / "pairs.jsonl", pair(7, task=" date "), pair("q-2", task="date"))
    assert run("import", str(pairs), "--db", str(log_db)).exit_code == 0
    src = tmp_path / "labels.jsonl"
    src.write_text(
        '{"id": 7, "task": "date", "label": "cheap"}\n{"id": "q-2", "task": "  date\\t", "label": "strong"}\n'
    )
    result = run("import-labels", str(src), "--by", "ann", "--db", str(log_db))
    assert result.exit_code == 0, result.output
    assert sorted(v.label for v in labels_of(log_db).values()) == ["cheap", "strong"]
