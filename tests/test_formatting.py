"""The one formatter: money, shares and counts read the same in every command, widget and report."""

from __future__ import annotations

import json
import math
import pathlib
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routermon.core.formatting import DASH, json_text, level, parse_share, pct, plural, points, usd, usd_short

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "value,text",
    [
        (None, DASH),
        (0.0, "$0.00"),
        (1234.5, "$1,234.50"),
        (52_200.0, "$52,200.00"),
        (0.5, "$0.500"),
        (0.0123, "$0.0123"),
        (0.0011373, "$0.00114"),
        (0.000012, "$0.0000120"),
        (0.9996, "$1.00"),
        (-1.2, "-$1.20"),
        (-0.0123, "-$0.0123"),
    ],
)
def test_usd_follows_the_documented_rules(value, text):
    assert usd(value) == text


def test_usd_short_drops_cents_only_in_tight_columns():
    assert usd_short(12_345.67) == "$12,346"
    assert usd_short(12.5) == "$12.50"


@given(st.floats(min_value=1e-9, max_value=0.999, allow_nan=False))
def test_usd_below_a_dollar_keeps_three_significant_digits(value):
    text = usd(value)
    digits = text.removeprefix("$").replace(".", "").lstrip("0")
    assert len(digits) >= 3 or text == "$1.00"
    assert abs(float(text.removeprefix("$")) - value) <= 0.005 * value + 1e-12


def test_pct_and_plural():
    assert pct(0.125) == "12.5%"
    assert pct(None) == DASH
    assert plural(1, "call") == "1 call"
    assert plural(2, "paired outcome") == "2 paired outcomes"
    assert plural(12_000, "row") == "12,000 rows"


def test_points_and_levels():
    assert points(0.01) == "1.0 point" and points(0.004) == "0.4 points" and points(0.1) == "10.0 points"
    assert points(None) == DASH
    assert level(0.95) == "95%" and level(0.975) == "97.5%" and level(0.9995) == "99.95%"


def test_json_money_has_no_float_noise_and_other_figures_are_untouched():
    data = {"cost_usd": 0.1 + 0.2, "monthly_usd": {"cascade": 521.9999999999999}, "share": 0.1 + 0.2}
    parsed = json.loads(json_text(data))
    assert parsed["cost_usd"] == 0.3
    assert parsed["monthly_usd"]["cascade"] == 522.0
    assert parsed["share"] == 0.1 + 0.2  # not money: unrounded


def test_json_writes_infinity_and_nan_as_null_and_says_where(caplog):
    # Strict JSON always; a number that is not finite (a log written by an older version) is null.
    for bad in (math.inf, -math.inf, math.nan):
        caplog.clear()
        assert json.loads(json_text({"calls": [{"id": 7, "savings_usd": bad}]})) == {
            "calls": [{"id": 7, "savings_usd": None}]
        }
        said = " ".join(r.getMessage() for r in caplog.records)
        assert "calls[0] (id 7).savings_usd" in said and "not finite" in said


def test_no_formatter_outside_the_formatting_module():
    """Dollar and percent formatting is written once: no other module formats money or shares itself."""
    money = re.compile(r'f"[^"]*\$\{[^}]*:[,.0-9]*f\}|:\.[0-9]%\}|def (_?usd|_?pct|share)\(')
    offenders = []
    for path in [*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("tui").rglob("*.py")]:
        if path.name == "formatting.py":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if money.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert offenders == []


# Numbers made text by hand: thousands separators, a share times 100 or a percent sign after a
# float format, a noun's "s" chosen in place.
HAND_FORMATTING = {
    "count": re.compile(r"\{[^{}]*:,[^{}]*\}"),
    "percent": re.compile(r"\.\d?f\}%|\.\d?%\}|\*\s?100[^0-9]*:\."),
    "plural": re.compile(r"""["']s["'] if|else ["']s["']"""),
}
# The formatter, and the simulated texts' own invoice amounts (made-up data, not a figure shown).
FORMATTING_ALLOWED = {"core/formatting.py", "core/simulate/simtext.py"}


def test_counts_percents_and_plurals_are_made_only_by_the_formatter():
    """Counts, percents and plurals are written once: no other module makes them by hand."""
    offenders = []
    for path in sorted([*ROOT.joinpath("core").rglob("*.py"), *ROOT.joinpath("tui").rglob("*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name in FORMATTING_ALLOWED:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            offenders += [
                f"{name}:{n}: {what}: {line.strip()}"
                for what, pattern in HAND_FORMATTING.items()
                if pattern.search(line)
            ]
    assert offenders == []


@pytest.mark.parametrize(
    ("text", "share"),
    [
        ("80", 0.8),
        ("80%", 0.8),
        ("0.8", 0.8),
        (" 95 % ", 0.95),
        ("1", 1.0),
        ("1%", 0.01),
        ("0", 0.0),
        (2.5, 0.025),
    ],
)
def test_a_share_is_typed_as_a_percent_or_a_share(text, share):
    assert parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize("text", ["150", "101%", "-0.5", "nan", "inf", "most", ""])
def test_a_share_outside_0_to_100_percent_is_one_sentence(text):
    with pytest.raises(
        ValueError, match=r"^The audit share must be (between 0% and 100%|a percent or a share)"
    ):
        parse_share(text, "The audit share")


def test_chart_labels_carry_the_date_when_the_chart_spans_more_than_a_day():
    from routermon.core.formatting import bucket_label

    ts = 1_764_806_400.0 + 7 * 3600  # 2025-12-04 07:00 UTC
    assert bucket_label(ts, 3600) == "07:00"  # within a day: the hour says it
    assert bucket_label(ts, 3600, span_seconds=3 * 86400) == "Dec 04 07:00"  # "all" over three days
    assert bucket_label(ts, 60) == "07:00"
    assert bucket_label(ts, 86400, span_seconds=30 * 86400) == "Dec 04"


def test_a_huge_dollar_figure_is_written_short_not_digit_by_digit():
    from routermon.core.formatting import USD_SCIENTIFIC_FROM, usd, usd_short

    for value in (1e308, -1e308, 1e15, 123456789012345678.0):
        for write in (usd, usd_short):
            assert len(write(value)) <= 11, write(value)
    assert usd(1e308) == "$1.00e+308" and usd_short(-1e308) == "-$1.00e+308"
    assert usd(USD_SCIENTIFIC_FROM / 10) == "$100,000,000,000,000.00"  # below the bound: as before


def test_quoted_cuts_a_long_text_and_says_how_long_it_was():
    from routermon.core.formatting import clip, quoted

    assert quoted("short") == "'short'"
    assert quoted("x" * 6000) == repr("x" * 80) + "… (6,000 characters)"
    assert clip("abc", 2) == "ab…" and clip("ab", 2) == "ab"


def test_a_309_digit_budget_is_printed_short():
    from routermon.core.measure.watch import BudgetCheck

    message = BudgetCheck(budget_usd=1e308, projected_usd=12.5, days_measured=3, spend_usd=1.25).message()
    assert "the $1.00e+308 budget" in message and len(message) < 120
