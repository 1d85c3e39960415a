"""The calls table's row in one place: ``records.call_row`` beside ``records.CALL_COLUMNS``."""

from __future__ import annotations

import inspect

import pytest

from routermon.core.log.records import CALL_COLUMNS, CallRecord, call_row


def test_call_row_takes_every_column_by_name_and_returns_them_in_column_order():
    """Each value given as its own column's name comes back at that column's place, so a keyword
    missing, extra or out of order in the builder fails here."""
    assert tuple(inspect.signature(call_row).parameters) == CALL_COLUMNS
    assert call_row(**{name: name for name in CALL_COLUMNS}) == CALL_COLUMNS


def test_call_row_takes_no_positional_values():
    """A row is never built by position: the order lives in the column list alone."""
    with pytest.raises(TypeError):
        call_row(*CALL_COLUMNS)


def test_call_row_is_what_a_record_writes():
    """The router's rows (``call_row``) and a ``CallRecord``'s are the same tuple for one call."""
    record = CallRecord(
        ts=1.5, request_id="req_1", task="classify", model="m", role="cheap", escalated=True, final=False,
        cost_usd=0.25, answer='"yes"', correct=True, threshold=0.7,
    )  # fmt: skip
    values = {name: getattr(record, name) for name in CALL_COLUMNS}
    values.update({name: int(v) for name, v in values.items() if isinstance(v, bool)})
    assert call_row(**values) == record.as_row()
