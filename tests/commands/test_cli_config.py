"""`routermon config path|show`: where the settings live and where each value came from."""

from __future__ import annotations

import json

from click.testing import CliRunner

from routermon.tui.cli import main


def _show(*args: str, env: dict | None = None) -> dict:
    result = CliRunner().invoke(main, [*args, "config", "show", "--json"], env=env)
    assert result.exit_code == 0, result.output
    return {item["name"]: item for item in json.loads(result.stdout)}


def test_config_path_follows_routermon_config(isolated_settings):
    result = CliRunner().invoke(main, ["config", "path"])
    assert result.exit_code == 0 and result.stdout.strip() == str(isolated_settings)


def test_show_says_where_each_value_came_from(isolated_settings, tmp_path):
    isolated_settings.write_text(
        'threshold = 0.8\nstore_inputs = "full"\n[prices."my-ft"]\ninput_mtok = 1.0\noutput_mtok = 2.0\n'
    )
    db = tmp_path / "cli.db"
    items = _show("--db", str(db), env={"ROUTERMON_AUDIT_SHARE": "0.05", "ROUTERMON_THRESHOLD": "0.6"})
    assert items["db"] == {"name": "db", "value": str(db), "source": "command line", "origin": "--db"}
    assert (items["threshold"]["value"], items["threshold"]["source"]) == (0.6, "environment")  # env wins
    assert items["threshold"]["origin"] == "ROUTERMON_THRESHOLD"
    assert (items["audit_share"]["value"], items["audit_share"]["source"]) == (0.05, "environment")
    assert (items["store_inputs"]["value"], items["store_inputs"]["source"]) == ("full", "file")
    assert items["store_inputs"]["origin"] == str(isolated_settings)
    assert items["prices"]["value"] == {"my-ft": {"input_mtok": 1.0, "output_mtok": 2.0}}
    assert (items["preview_chars"]["value"], items["preview_chars"]["source"]) == (80, "default")
    assert items["cheap_model"]["source"] == "default" and "haiku" in items["cheap_model"]["value"]


def test_show_db_from_environment_and_file(isolated_settings, tmp_path):
    isolated_settings.write_text(f'db = "{tmp_path / "file.db"}"\n')
    assert _show()["db"]["value"] == str(tmp_path / "file.db")
    assert _show()["db"]["source"] == "file"
    env = _show(env={"ROUTERMON_DB": str(tmp_path / "env.db")})["db"]
    assert (env["value"], env["source"], env["origin"]) == (
        str(tmp_path / "env.db"),
        "environment",
        "ROUTERMON_DB",
    )


def test_show_table_fits_80_columns(isolated_settings):
    result = CliRunner().invoke(main, ["config", "show"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "threshold" in result.stdout and "default" in result.stdout
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_bad_setting_is_one_sentence(isolated_settings):
    isolated_settings.write_text("threshold = 7\n")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 2 and "threshold" in result.stderr and "Traceback" not in result.stderr
