"""Answers compared by their kind: labels exactly, structured answers field by field."""

from __future__ import annotations

import datetime as dt

import pytest

from routermon.core.compare import (
    answer_kind,
    as_dates,
    as_number,
    compare_fields,
    correct_against_reference,
    values_agree,
)


@pytest.mark.parametrize(
    "a,b,same",
    [
        ("  ACME  Corp ", "acme corp", True),  # whitespace and case
        ("ACME Corp", "ACME Inc", False),
        (1234.5, "1,234.50", True),  # amounts in their written forms
        ("$1,234.50", "1234.5", True),
        ("1.234,50 EUR", 1234.5, True),  # a decimal comma, thousands with dots
        ("12,5", 12.5, True),
        ("1,234", 1234, True),  # a comma before three digits groups thousands
        ("1,234.50", "1,234.51", False),
        ("2026-03-05", "5 March 2026", True),  # dates in their common written forms
        ("March 5, 2026", "2026/03/05", True),
        ("05.03.2026", "2026-03-05", True),  # day first with dots
        ("03/05/2026", "2026-03-05", True),  # slashes: either order may be meant
        ("03/05/2026", "2026-05-03", True),
        ("2026-03-05", "2026-03-06", False),
        ("5th Mar 2026", "2026-03-05", True),
        (None, "", True),  # null is equal to missing or empty
        (None, "N/A", True),
        (None, "EUR", False),
        (True, "true", True),
        (["a", "B"], ["A", "b"], True),
        (["a", "b"], ["b", "a"], False),
        ({"x": "1.0"}, {"x": 1}, True),
        ("INV-0042", "inv-0042", True),
        ("INV-0042", "INV-0043", False),
    ],
)
def test_values_agree(a, b, same):
    assert values_agree(a, b) is same
    assert values_agree(b, a) is same


def test_compare_fields_gives_agreement_per_field_and_null_equals_missing():
    cheap = {"vendor": "Acme  GmbH", "total": "1,234.50", "due_date": "2026-03-05", "currency": None}
    strong = {"vendor": "ACME GmbH", "total": 1234.5, "due_date": "5 March 2026", "po": None}
    assert compare_fields(cheap, strong) == {
        "vendor": True,
        "total": True,
        "due_date": True,
        "currency": True,  # null on one side, missing on the other
        "po": True,
    }
    slip = dict(cheap, total="1,243.50")
    assert compare_fields(slip, strong)["total"] is False


@pytest.mark.parametrize(
    "text,value",
    [
        ("42", 42.0),
        ("-3.5", -3.5),
        ("1 234", 1234.0),
        ("12 34", None),
        ("1,234,5", None),
        ("abc", None),
        (True, None),
    ],
)
def test_as_number(text, value):
    assert as_number(text) == value


def test_as_dates_refuses_impossible_dates():
    assert as_dates("2026-02-30") == set()
    assert as_dates("31/04/2026") == set()
    assert as_dates("13/04/2026") == {dt.date(2026, 4, 13)}  # only one order is a date


@pytest.mark.parametrize(
    "answers,kind",
    [
        (("billing", "refund"), "label"),
        (({"a": 1}, "x"), "fields"),
        (("The invoice from Acme is due in March and totals 1,234 euros.", "short"), "text"),
        ((None, "billing"), "label"),
    ],
)
def test_answer_kind(answers, kind):
    assert answer_kind(*answers) == kind


def test_a_reference_cannot_settle_free_text():
    summary = "Acme's invoice of 1,234 euros is due on 5 March and covers two licences."
    assert correct_against_reference(summary, summary.upper()) is None
    assert correct_against_reference("billing", "Billing") is True
    assert correct_against_reference(None, "billing") is False
    assert correct_against_reference({"total": "1,234.50"}, {"total": 1234.5}) is True
    assert correct_against_reference("billing", None) is None
