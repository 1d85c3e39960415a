"""Text is data, everywhere: answers, inputs, task and model names are shown literally in every CLI
table, the Markdown report and every screen, whatever characters they hold."""

from __future__ import annotations

import asyncio
import io
import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from rich.console import Console
from rich.table import Table
from tui_helpers import FIXED_NOW, fixed_clock, make_app, request_records, settle

from routermon.core.log.importing import import_pairs
from routermon.core.log.reader import LogReader
from routermon.core.log.store import CallLog
from routermon.core.measure.report import _cell, build_report, md_text, render_markdown
from routermon.tui.cli import main
from routermon.tui.text import console, literal

# Strings an attacker (or an ordinary forum post) puts in front of a renderer.
HOSTILE = [
    "[/quote]",
    "[b]bold[/b]",
    "[link=https://evil.example]click[/link]",
    "a[/]b",
    "[bold red on white]x",
    ":smile: :warning:",
    "| col | injected |",
    "# heading\n## another",
    "<script>alert(1)</script> <b>html</b> &amp; &lt;",
    "`code` ``more``",
    "*em* **strong** _em_ __strong__ ~~struck~~",
    "[text](https://link.example) ![img](x.png) <https://auto.example>",
    "line one\nline two\r\n\tline three",
    "\\[escaped\\] \\",
    "$variable $accent [$error]",
]
# Mostly markup-significant characters, so generated strings hit the edge cases often.
MARKUP_TEXT = st.text(alphabet=st.sampled_from(list("[]/\\|#<>`*_~!&:$=()@ \n\tabcé漢🙂-.,'\"")), max_size=40)


# -- the Markdown report -------------------------------------------------------------------------

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
_STRUCTURE = {
    "html_inline",
    "html_block",
    "code_inline",
    "link_open",
    "image",
    "em_open",
    "strong_open",
    "s_open",
    "softbreak",
    "hardbreak",
}


def _inline_types(tokens) -> set[str]:
    types = set()
    for t in tokens:
        types.add(t.type)
        for child in t.children or []:
            types.add(child.type)
    return types


@settings(max_examples=300, deadline=None)
@given(MARKUP_TEXT)
def test_markdown_cells_are_literal(value):
    """A table cell holding any string is one cell of one row, whose text is the string itself."""
    doc = "| a | b |\n|---|---|\n| " + _cell(value, width=10_000) + " | end |\n"
    tokens = _MD.parse(doc)
    assert [t.type for t in tokens].count("tr_open") == 2  # header and exactly one body row
    cells = [t for t in tokens if t.type == "inline"]
    assert len(cells) == 4, doc
    assert not _inline_types(cells) & _STRUCTURE, doc
    rendered = "".join(c.content for c in (cells[2].children or []))
    expected = " ".join(value.split())
    assert rendered == expected
    assert cells[3].content == "end"


@settings(max_examples=300, deadline=None)
@given(MARKUP_TEXT)
def test_markdown_paragraph_text_is_literal(value):
    """Text in a paragraph or a list item makes no heading, list, quote, code, HTML or link."""
    for doc in (f"Recommendation for {md_text(value)}.\n", f"- {md_text(value)}\n"):
        tokens = _MD.parse(doc)
        kinds = [t.type for t in tokens]
        assert "heading_open" not in kinds and "blockquote_open" not in kinds
        assert "table_open" not in kinds and "fence" not in kinds and "code_block" not in kinds
        assert kinds.count("inline") == (1 if doc.strip(" -\n") else 0)
        assert kinds.count("bullet_list_open") <= 1 and "ordered_list_open" not in kinds
        assert not _inline_types(tokens) & _STRUCTURE, doc


def _hostile_pairs(path: Path) -> Path:
    lines = []
    for i, text in enumerate(HOSTILE):
        lines.append(
            {
                "id": f"p{i}",
                "task": "a[/]b|#t" if i % 2 else "[b]task[/b]",
                "input": text,
                "reference": text,
                "cheap": {
                    "model": "[red]cheap[/]",
                    "answer": text + " cheap",
                    "confidence": 0.5 + i / 100,
                    "input_tokens": 100,
                    "output_tokens": 10,
                },
                "strong": {
                    "model": "strong|model",
                    "answer": text,
                    "confidence": 0.9,
                    "input_tokens": 100,
                    "output_tokens": 20,
                },
            }
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def hostile_db(tmp_path) -> Path:
    db = tmp_path / "hostile.db"
    import_pairs(_hostile_pairs(tmp_path / "hostile.jsonl"), db, clock=fixed_clock())
    # Routed traffic under the same names, so the Live and Tasks screens list them too.
    rng = random.Random(3)
    with CallLog(db) as log:
        for n in range(40):
            rows = request_records(rng, FIXED_NOW - 3600 + n * 60, n)
            task = "a[/]b|#t" if n % 2 else "[b]task[/b]"
            log.log_many([r.model_copy(update={"task": task, "model": f"[red]{r.model}[/]"}) for r in rows])
    return db


def test_markdown_report_with_hostile_data(hostile_db):
    """Answers and names full of Markdown and HTML leave the report's structure as it was."""
    with LogReader(hostile_db) as reader:
        md = render_markdown(build_report(reader, clock=fixed_clock()))
    tokens = _MD.parse(md)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert all(not h.startswith(("heading", "another")) for h in headings), headings
    assert not {"html_block", "html_inline", "link_open", "image", "s_open"} & _inline_types(tokens)
    children = [c for t in tokens for c in t.children or []]
    # The only code spans are the report's own command hints.
    assert all(c.content.startswith("routermon ") for c in children if c.type == "code_inline")
    disagreements = md.split("## The costliest disagreements")[1].split("\n## ")[0]
    rows = [line for line in disagreements.splitlines() if line.startswith("| ")]
    # Every hostile pair disagrees (cheap answer = strong + " cheap"): up to the examples shown,
    # one row each, never split by a newline or a pipe in the data.
    assert 2 <= len(rows) <= len(HOSTILE) + 1
    assert all(line.count("|") - line.count("\\|") == 8 for line in rows), rows


# -- the commands -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(MARKUP_TEXT)
def test_cli_console_prints_any_string_literally(value):
    """The commands' console prints a table cell, a title and a line exactly as given."""
    one_line = " ".join(value.split())  # the console expands tabs; whitespace is not the point
    out = console()
    out.file = io.StringIO()
    out.width = 200
    table = Table("value", title=one_line)
    table.add_row(one_line)
    out.print(table)
    out.print(one_line)
    lines = [" ".join(line.strip("│┃ ").split()) for line in out.file.getvalue().splitlines()]
    if one_line:
        assert lines[0] == one_line  # the title
        assert lines.count(one_line) >= 3  # the title, the cell and the line


def test_cli_thresholds_with_hostile_answers(hostile_db):
    """`thresholds` prints answers with [/quote], [b] and [link=…] as they are (it used to crash)."""
    result = CliRunner().invoke(main, ["thresholds", "--db", str(hostile_db)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "a[/]b|#t" in result.stdout and "[b]task[/b]" in result.stdout
    assert "[red]cheap[/]" in result.stdout


def test_cli_route_prints_a_hostile_answer(tmp_path):
    """`route` shows an answer label full of markup literally, after the call was paid for."""
    db = tmp_path / "route.db"
    labels = "[/quote],[b]x[/b]"
    result = CliRunner().invoke(
        main,
        [
            "route",
            "--db",
            str(db),
            "--task",
            "classify",
            "--labels",
            labels,
            "--fake",
            "[link=x]y[/link] [/quote]",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert '"[/quote]"' in result.stdout or '"[b]x[/b]"' in result.stdout


def test_console_is_literal_and_rich_default_is_not():
    """The guard itself: Rich's default console parses markup; the commands' console does not."""
    default = Console(file=io.StringIO(), width=80)
    with pytest.raises(Exception):  # noqa: B017 (rich.errors.MarkupError)
        default.print("[/quote]")
    ours = console()
    ours.file = io.StringIO()
    ours.print("[/quote] [b]x[/b]")
    assert "[/quote] [b]x[/b]" in ours.file.getvalue()
    assert literal("[b]x[/b]").plain == "[b]x[/b]"


# -- the screens --------------------------------------------------------------------------------


def _texts(widget) -> list[str]:
    """The plain text of every cell of a table."""
    return [
        getattr(cell, "plain", str(cell)) for i in range(widget.row_count) for cell in widget.get_row_at(i)
    ]


@pytest.mark.parametrize("screen", ["live", "thresholds", "tasks"])
def test_screens_show_hostile_names_literally(hostile_db, screen):
    """Live, Thresholds and Tasks open on a log whose task and model names and answers hold markup
    (``a[/]b`` crashed two screens) and show them as written."""
    from textual.widgets import Select

    from routermon.tui.widgets.calls_table import CallsTable
    from routermon.tui.widgets.tasks_table import TasksTable

    key = {"live": "1", "thresholds": "4", "tasks": "5"}[screen]

    async def run():
        app = make_app(hostile_db)
        async with app.run_test(size=(160, 50)) as pilot:
            await settle(pilot)
            await pilot.press(key)
            await settle(pilot)
            app.export_screenshot()  # renders every widget: markup in data would raise here
            if screen == "tasks":
                return _texts(app.screen.query_one(TasksTable))
            if screen == "live":
                return _texts(app.screen.query_one(CallsTable))
            select = app.screen.query_one("#pairs-task", Select)
            return [str(prompt) for prompt, _value in select._options]

    texts = asyncio.run(run())
    joined = " ".join(texts)
    assert "a[/]b|#t" in joined and "[b]task[/b]" in joined, texts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MARKUP_TEXT, min_size=1, max_size=4))
def test_literal_table_shows_any_string(values):
    """Every table in the app (``LiteralTable``) renders any string cell as the string itself."""
    from textual.app import App

    from routermon.tui.widgets.literal_table import LiteralTable

    class One(App):
        def compose(self):
            yield LiteralTable()

    async def run():
        app = One()
        async with app.run_test(size=(200, 20)) as pilot:
            table = app.query_one(LiteralTable)
            table.add_column("[b]value[/b]")
            for value in values:
                table.add_row(value)
            await pilot.pause()
            return [table.get_row_at(i)[0] for i in range(len(values))], app.export_screenshot()

    cells, _svg = asyncio.run(run())
    assert [c.plain for c in cells] == values


def test_every_table_and_console_is_literal():
    """The class, not the examples: every app table derives from ``LiteralTable`` and every
    command prints through ``text.console()``."""
    import re

    root = Path(__file__).resolve().parents[1] / "tui"
    offenders = []
    for path in root.rglob("*.py"):
        source = path.read_text()
        if path.name != "literal_table.py" and re.search(r"\(DataTable\)|DataTable\(", source):
            offenders.append(f"{path.name}: DataTable")
        if path.name != "text.py" and re.search(r"\bConsole\(", source):
            offenders.append(f"{path.name}: Console")
    assert offenders == []
