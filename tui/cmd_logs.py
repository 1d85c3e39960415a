"""``routermon logs``: the logged calls, newest first, filtered and searched; ``logs path``: where
the log is. Like ``llm logs``: ``-n`` calls (20; 0 for all), a table that fits the terminal, or
``--json`` / ``--nl`` / ``--csv`` for other tools."""

from __future__ import annotations

import csv
import sys
import time

import click

from .echo import echo
from .options import db_option, workspace

ROLES = ("cheap", "strong", "shadow", "audit", "judge")
FORMATS = ("json", "nl", "csv")
WIDE = 120  # from this width the table adds the request id and the input preview
TOKENS_WIDTH = 100  # and from this one the tokens


def _choice(name: str, allowed: tuple[str, ...]):
    """A callback refusing a value outside ``allowed`` in one sentence (exit 2)."""

    def check(ctx, param, value):
        from routermon.core.log.logquery import QueryError

        if value is not None and value not in allowed:
            raise QueryError(f"There is no {name} {value!r}: choose one of {', '.join(allowed)}.")
        return value

    return check


def _reasons() -> tuple[str, ...]:
    from routermon.core.log.records import ESCALATION_REASONS

    return ESCALATION_REASONS


def _check_reason(ctx, param, value):
    return _choice("escalation reason", _reasons())(ctx, param, value)


@click.group("logs", invoke_without_command=True)
@click.option(
    "-n", "--count", "limit", type=int, default=20, show_default=True, help="Calls to list (0: all)."
)
@click.option("--task", default=None, help="Only calls of this task.")
@click.option(
    "--model",
    default=None,
    help="Only calls to this model (claude-haiku-4-5, or haiku-4-5 as the table shows it).",
)
@click.option(
    "--role",
    default=None,
    callback=_choice("role", ROLES),
    help=f"Only calls in this role: {', '.join(ROLES)}.",
)
@click.option(
    "--reason",
    default=None,
    callback=_check_reason,
    help="Only calls that escalated for this reason (low_confidence, invalid_output, refusal, api_error).",
)
@click.option(
    "--since",
    default=None,
    help="From this time: ISO date or datetime (local unless it has an offset), or 30m, 2h, 7d ago.",
)
@click.option(
    "--until",
    default=None,
    help="Before this time (a bare date takes in all of that day), same forms as --since.",
)
@click.option("--request", "request_id", default=None, help="Only the calls of this request id.")
@click.option(
    "-q",
    "--query",
    "search",
    default=None,
    help=(
        "Calls whose stored input or answer holds all these words. A word is a run of letters and "
        "digits; case and accents do not count (É finds e) and terminal control sequences are not "
        "part of the text. The same on SQLite and PostgreSQL."
    ),
)
@click.option(
    "--fts",
    "search_syntax",
    is_flag=True,
    help='Read -q as FTS5 query syntax (OR, NEAR, prefix*, "phrases").',
)
@click.option("--json", "fmt", flag_value="json", help="Print a JSON array.")
@click.option("--nl", "fmt", flag_value="nl", help="Print one JSON object per line.")
@click.option(
    "--csv",
    "fmt",
    flag_value="csv",
    help="Print CSV (RFC 4180) with a header line; safe to open in a spreadsheet: a text starting "
    "with = + - @, a tab or a CR gets a leading ' (OWASP CSV injection), a NUL byte shows as ␀.",
)
@db_option
@click.pass_context
def logs_command(
    ctx, limit, task, model, role, reason, since, until, request_id, search, search_syntax, fmt, db
):
    """List logged calls, newest first (times in local time with the UTC offset).

    `routermon logs path` prints where the log is.
    """
    if ctx.invoked_subcommand is not None:
        return  # `logs path`: its own options (and --db given before it) are read there
    from routermon.core.log.logquery import MAX_COUNT, CallFilters, QueryError, parse_when

    if not 0 <= limit <= MAX_COUNT:
        raise QueryError(f"-n/--count must be 0 (all) to {MAX_COUNT}; got {limit}.")
    if search_syntax and search is None:
        raise QueryError("--fts reads the -q search as FTS5 syntax: give -q too.")
    now = time.time()
    filters = CallFilters(
        task=task,
        model=model,
        role=role,
        reason=reason,
        request_id=request_id,
        since=None if since is None else parse_when(since, now),
        until=None if until is None else parse_when(until, now, end_of_day=True),
        search=search,
        search_syntax=search_syntax,
    )
    from .cmd_thresholds import open_log

    with open_log(workspace(ctx, db)) as reader:
        rows = reader.search_calls(filters, limit or None)
        if not rows and model is not None and f"claude-{model}" in reader.models():
            # The name as the table shows it (haiku-4-5): the model it abbreviates.
            filters = filters.model_copy(update={"model": f"claude-{model}"})
            rows = reader.search_calls(filters, limit or None)
        elif not rows:
            _say_unknown(reader, task, model)
    if fmt is None:
        print_table(rows)
    else:
        write_rows(rows, fmt)


def _say_unknown(reader, task: str | None, model: str | None) -> None:
    """No calls: say so when it is because no call has that task or model at all (a typo)."""
    from routermon.core.log.logquery import QueryError

    for name, value, known in (("task", task, reader.tasks), ("model", model, reader.models)):
        if value is not None and value not in (names := known()):
            raise QueryError(
                f"No call in this log has the {name} {value!r}; it has {', '.join(names) or 'none'}."
            )


@logs_command.command("path")
@db_option
@click.pass_context
def path_command(ctx, db) -> None:
    """Print the path of the call log (--db, else ROUTERMON_DB, else the settings, else the default)."""
    echo(str(workspace(ctx, db or ctx.parent.params.get("db")).db_path))


def record(row) -> dict:
    """One call as exported: every column, and ``time`` in local time with its UTC offset."""
    from routermon.core.formatting import local_time

    data = row.model_dump()
    return {"id": data.pop("id"), "time": local_time(row.ts), **data}


def write_rows(rows, fmt: str) -> None:
    """``rows`` as a JSON array, JSON lines or CSV on stdout."""
    from routermon.core.formatting import json_text

    records = [record(row) for row in rows]
    if fmt == "json":
        echo(json_text(records))
    elif fmt == "nl":
        for item in records:
            echo(json_text(item, indent=None))
    else:
        from routermon.core.formatting import csv_cell
        from routermon.core.log.records import CALL_COLUMNS

        # RFC 4180: CRLF between rows, which also makes the writer quote a cell holding a bare CR.
        writer = csv.DictWriter(sys.stdout, fieldnames=["id", "time", *CALL_COLUMNS], lineterminator="\r\n")
        writer.writeheader()
        writer.writerows({key: csv_cell(value) for key, value in item.items()} for item in records)


def print_table(rows) -> None:
    """The calls as a table that fits the terminal: nothing cut but the input preview."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table

    from routermon.core.formatting import DASH, ms_short, plural, short_model, tokens, usd

    from .text import console, literal

    out = console()
    if not rows:
        out.print("No calls match.")
        return
    width = out.width
    offsets = {_offset(row.ts) for row in rows}
    wide, with_tokens = width >= WIDE, width >= TOKENS_WIDTH
    # (header, justify): one space between columns; at 80 columns eight fit with the longest
    # reason and a cost of $0.0000492 whole (80 cells), tokens join from 100, the request id
    # (whole, to paste into --request) and the input preview from 120.
    columns = [("Time", "left"), *([("Request", "left")] if wide else [])]
    columns += [("Task", "left"), ("Model", "left"), ("Role", "left"), ("Conf", "right"), ("Reason", "left")]
    columns += [*([("Tokens", "right")] if with_tokens else []), ("Cost", "right"), ("Lat", "right")]
    body = []
    for row in rows:
        reason = row.escalation_reason or ""
        if row.error_type and row.error_type != reason:
            reason = f"{reason} ✗{row.error_type}".strip()
        cells = [_clock(row.ts, len(offsets) > 1), *([row.request_id] if wide else [])]
        cells += [row.task, short_model(row.model), row.role]
        cells += [DASH if row.confidence is None else f"{row.confidence:.2f}", reason or DASH]
        if with_tokens:
            cells.append(f"{tokens(row.input_tokens)}→{tokens(row.output_tokens)}")
        cells += [usd(row.cost_usd), ms_short(row.latency_ms)]
        body.append((cells, (row.input_preview or "").replace("\n", " ")))
    # The input takes what the other columns leave (one line, cut with …: --json carries it whole).
    used = sum(max(cell_len(h), *(cell_len(c[i]) for c, _ in body)) for i, (h, _) in enumerate(columns))
    input_cells = width - used - len(columns)
    with_input = wide and input_cells >= 10
    table = Table(box=box.SIMPLE_HEAD, padding=0, show_edge=False)
    for header, justify in columns:
        table.add_column(header, justify=justify, overflow="fold")
    if with_input:
        table.add_column("Input", no_wrap=True, overflow="ellipsis", max_width=input_cells)
    for cells, preview in body:
        table.add_row(*(literal(c) for c in cells), *([literal(preview)] if with_input else []))
    out.print(table)
    shown = plural(len(rows), "call")
    when = f"times in UTC{offsets.pop()}" if len(offsets) == 1 else "times in local time"
    out.print(f"{shown}, newest first; {when}.", style="dim")


def _offset(ts: float) -> str:
    from routermon.core.formatting import local_time

    return local_time(ts)[-6:]


def _clock(ts: float, with_offset: bool) -> str:
    """``03-18 13:00:00`` (the offset is said once below the table, unless rows differ in it)."""
    from routermon.core.formatting import local_time

    text = local_time(ts)
    return text[5:] if with_offset else text[5:19]
