"""This machine's limit for an import file's rows: the ceiling ``import_lines_per_s`` is held to
(``bench/scale.py`` runs it in a child process of its own, on the same file, in the same run).

    python bench/_scale_bare_import.py FILE LOG

Each line is parsed with the standard ``json`` module and nothing is checked; its cheap and shadow
rows (the same request ids, dedup keys, digests, previews and prices ``routermon import`` writes, so
every index sees the same keys) are written by one plain ``executemany`` per chunk of
``IMPORT_CHUNK`` pairs into a log made by ``db.connect`` (the same schema and indexes), with the
search index and the rollups kept in the same transaction as every writer keeps them
(``db.after_insert``). Prints one JSON line: the rows written.
"""

from __future__ import annotations

import hashlib
import json
import sys

from routermon.core.log.db import after_insert, connect, last_call_id
from routermon.core.log.importing import IMPORT_CHUNK
from routermon.core.log.records import CALL_COLUMNS
from routermon.core.log.store import INSERT_SQL
from routermon.core.prices import PriceBook

_AT = {name: i for i, name in enumerate(CALL_COLUMNS)}


def side_row(blank: list, obj: dict, side: dict, role: str, tier: int, rates: dict) -> tuple:
    """One side of a pair as a row in ``CALL_COLUMNS`` order, with no check of any value."""
    row = blank.copy()
    task, text, reference = obj["task"], obj["input"], obj["reference"]
    key = f"{task}\0{obj['id']}"
    row[_AT["request_id"]] = "imp_" + hashlib.sha256(key.encode()).hexdigest()[:16]
    row[_AT["task"]], row[_AT["model"]], row[_AT["role"]], row[_AT["tier"]] = task, side["model"], role, tier
    row[_AT["input_sha256"]] = hashlib.sha256(text.encode()).hexdigest()
    row[_AT["input_preview"]] = text[:80]
    row[_AT["reference"]] = reference if isinstance(reference, str) else json.dumps(reference, sort_keys=True)
    row[_AT["input_tokens"]], row[_AT["output_tokens"]] = side["input_tokens"], side["output_tokens"]
    model_rates = rates.get(side["model"]) or rates.setdefault(
        side["model"], PriceBook().rates(side["model"])
    )
    row[_AT["cost_usd"]] = model_rates.cost(side["input_tokens"], side["output_tokens"])
    row[_AT["latency_ms"]], row[_AT["confidence"]] = float(side["latency_ms"]), side["confidence"]
    row[_AT["answer"]] = json.dumps(side["answer"], sort_keys=True, ensure_ascii=False)
    row[_AT["correct"]] = int(side["answer"] == reference)
    row[_AT["final"]] = 1
    row[_AT["dedup_key"]] = f"import:{task}:{obj['id']}:{role}"
    return tuple(row)


def main(source: str, log: str) -> int:
    conn = connect(log)
    blank = [None] * len(CALL_COLUMNS)
    for name, value in {
        "ts": 1.0, "mode": "import", "source": "import", "cache_read_tokens": 0,
        "cache_write_tokens": 0, "escalated": 0, "thinking_tokens": 0,
    }.items():  # fmt: skip
        blank[_AT[name]] = value
    rates: dict = {}
    written = 0

    def write(rows: list[tuple]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        before = last_call_id(conn)
        conn.executemany(INSERT_SQL, rows)
        after_insert(conn, before)
        conn.execute("COMMIT")

    rows: list[tuple] = []
    with open(source, "rb") as handle:
        for line in handle:
            obj = json.loads(line)
            rows.append(side_row(blank, obj, obj["cheap"], "cheap", 0, rates))
            rows.append(side_row(blank, obj, obj["strong"], "shadow", 1, rates))
            if len(rows) >= 2 * IMPORT_CHUNK:
                write(rows)
                written += len(rows)
                rows = []
    if rows:
        write(rows)
        written += len(rows)
    conn.close()
    print(json.dumps({"rows": written}))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
