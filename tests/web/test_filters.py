"""Dashboard filters: parsing, the compute calls they make, the unit tree."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from excx.errors import InputError
from excx.web.filters import Filters, parse_filters, period_options, units_in

UNITS = pd.DataFrame(
    {
        "unit_id": ["bank", "R1", "R2", "R1-B1", "R1-B2", "R2-B1"],
        "parent_id": [None, "bank", "bank", "R1", "R1", "R2"],
        "region": [None, "North", "South", "North", "North", "South"],
    }
)


def test_employee_calls_filter_only_on_grouped_columns():
    filters = Filters(grain="quarter", period="2026-04-01", channel="web")
    for unit, region in [("R1", None), (None, "North"), (None, None)]:
        call = replace_region(filters, region).metric_call("employee", unit=unit)
        assert set(call["where"]) <= set(call["by"])
    assert filters.metric_call("employee", unit="R1") == {
        "by": ("unit_id", "period"),
        "where": {"unit_id": ["R1"], "period": ["2026-04-01"]},
        "rollup": True,
    }


def replace_region(filters: Filters, region: str | None) -> Filters:
    return Filters(**{**vars(filters), "region": region})


def test_customer_calls_add_the_channel_and_a_unit_wins_over_the_region():
    call = Filters(region="North", channel="web").metric_call("customer", unit="R2")
    assert call == {
        "by": ("unit_id",),
        "where": {"unit_id": ["R2"], "channel": ["web"]},
        "rollup": True,
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"grain": "year"}, "grain='year'"),
        ({"region": "East"}, "accepted: North, South"),
        ({"unit": "R9"}, "unit='R9'"),
        ({"channel": "fax"}, "channel='fax'"),
        ({"period": "2026-02-30"}, "a date YYYY-MM-DD"),
        ({"grain": "quarter", "period": "2026-05-01"}, "first day of a quarter"),
    ],
)
def test_bad_filters_say_what_is_accepted(params, message):
    with pytest.raises(InputError, match=message):
        parse_filters(params, regions=["North", "South"], units=UNITS)


def test_empty_parameters_are_no_filter():
    params = {"grain": "", "period": " ", "region": "North", "unit": ""}
    parsed = parse_filters(params, regions=["North"], units=UNITS)
    assert parsed == Filters(region="North")
    assert parsed.query(channel="web") == "region=North&channel=web"


def test_units_in_tree_order_within_a_subtree_and_region():
    assert units_in(UNITS, root=None, region=None) == [
        "bank", "R1", "R1-B1", "R1-B2", "R2", "R2-B1"
    ]  # fmt: skip
    assert units_in(UNITS, root="R1", region=None) == ["R1", "R1-B1", "R1-B2"]
    assert units_in(UNITS, root=None, region="South") == ["R2", "R2-B1"]
    assert units_in(UNITS, root="R1", region="South") == []


def test_period_options_cover_the_answers_newest_first():
    months = period_options(dt.date(2025, 11, 20), dt.date(2026, 1, 3), grain="month")
    assert months == [
        ("2026-01-01", "Jan 2026"),
        ("2025-12-01", "Dec 2025"),
        ("2025-11-01", "Nov 2025"),
    ]
    assert period_options(None, None, grain="month") == []
