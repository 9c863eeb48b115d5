"""The privacy gate's rules: thresholds, ties, comments, nulled columns, bad calls.

Mirrors :mod:`excx.privacy` (``gate``, ``gate_comments``, ``PrivacyRule``); the
attacks that check the suppression cannot be undone are in ``test_attacks.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from excx.errors import InputError, PrivacyError
from excx.privacy import PrivacyRule, gate, gate_comments


@pytest.mark.parametrize("field", ["min_n", "min_comments"])
def test_thresholds_cannot_go_below_three(field):
    with pytest.raises(PrivacyError, match=rf"{field}=2 is below the floor of 3"):
        PrivacyRule(**{field: 2})
    with pytest.raises(PrivacyError, match="must be an integer"):
        PrivacyRule(**{field: 4.5})
    assert getattr(PrivacyRule(**{field: 3}), field) == 3


def test_a_higher_threshold_hides_more(unit_tree, make_cells):
    cells = make_cells({"unit_id": ["b1", "b2", "b3", "b4", "b5"]}, [3, 12, 15, 7, 40])
    default = gate(cells, by=["unit_id"], units=unit_tree, period=None)
    strict = gate(
        cells, by=["unit_id"], units=unit_tree, period=None, rule=PrivacyRule(min_n=8)
    )
    assert default["suppressed"].tolist() == [True, True, False, False, False]
    assert strict["suppressed"].tolist() == [True, True, False, True, True]


def test_same_input_same_suppression_whatever_the_row_order(unit_tree, make_cells):
    rng = np.random.default_rng(7)
    cells = make_cells(
        {
            "unit_id": ["b1", "b2", "b3", "b4", "b5"] * 4,
            "period": np.repeat(
                ["2026-01-01", "2026-02-01", "2026-04-01", "2026-05-01"], 5
            ),
        },
        rng.integers(1, 15, 20).tolist(),
    )
    first = gate(cells, by=["unit_id", "period"], units=unit_tree, period="month")
    second = gate(cells, by=["unit_id", "period"], units=unit_tree, period="month")
    pd.testing.assert_frame_equal(first, second)

    shuffled = cells.sample(frac=1, random_state=3)
    again = gate(shuffled, by=["unit_id", "period"], units=unit_tree, period="month")
    assert again.index.tolist() == shuffled.index.tolist()
    pd.testing.assert_series_equal(
        again["suppressed"].sort_index(), first["suppressed"]
    )


def test_ties_are_broken_by_key(unit_tree, make_cells):
    cells = make_cells({"role": ["b", "c", "a", "z"]}, [2, 9, 9, 30])
    out = gate(cells, by=["role"], units=unit_tree, period=None)
    assert out["suppressed"].tolist() == [True, False, True, False]


def test_comments_need_more_respondents_and_their_own_complement(unit_tree, make_cells):
    cells = make_cells({"unit_id": ["b1", "b2", "b3", "b4", "b5"]}, [3, 12, 15, 11, 40])
    figures = gate(cells, by=["unit_id"], units=unit_tree, period=None)
    comments = gate_comments(cells, by=["unit_id"], units=unit_tree, period=None)
    assert figures["suppressed"].tolist() == [True, True, False, False, False]
    # Every group left has at least 10 respondents, and b1 + b2 pool 15.
    assert comments["suppressed"].tolist() == [True, True, False, False, False]
    assert (comments["suppressed"] >= figures["suppressed"]).all()

    few = cells.assign(n=[3, 12, 15, 8, 40])
    comments = gate_comments(few, by=["unit_id"], units=unit_tree, period=None)
    # b4's 8 respondents are below 10 for comments; its complement in the south is
    # b5, the only sibling.
    assert comments["suppressed"].tolist() == [True, True, False, True, True]


def test_values_and_n_can_be_nulled_too(unit_tree, make_cells):
    cells = make_cells({"role": ["agent", "lead", "advisor"]}, [30, 2, 9]).assign(
        p_value=0.5, promoters=[10, 1, 4]
    )
    out = gate(
        cells,
        by=["role"],
        units=unit_tree,
        period=None,
        values=["promoters"],
        hide_n=True,
    )
    hidden = out[out["suppressed"]]
    assert hidden["role"].tolist() == ["lead", "advisor"]
    assert (
        hidden[["value", "ci_low", "ci_high", "p_value", "promoters", "n"]]
        .isna()
        .all()
        .all()
    )
    assert out.loc[0, ["n", "promoters"]].tolist() == [30, 10]
    assert cells["n"].tolist() == [30, 2, 9]  # the input is not modified


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(by=["unit_id", "shop"]), r"by=.*expected distinct names among"),
        (dict(by=["unit_id", "unit_id"]), r"expected distinct names"),
        (dict(by=["role"]), r"cells lack column\(s\) \['role'\]"),
        (dict(period="week"), r"period='week'.*\('month', 'quarter', 'year'\)"),
        (dict(cells_n=[3, -1, 5]), r"row 1, column n: -1 is not a count"),
        (dict(cells_n=[3, 2.5, 5]), r"row 1, column n: 2.5"),
        (
            dict(cells_unit=["b1", "zz", "b3"]),
            r"unit_id holds 1 unit\(s\) not in units, e.g. \['zz'\]",
        ),
        (dict(cells_unit=["b1", "b1", "b3"]), r"rows \[0, 1\] repeat the same"),
        (
            dict(cells_period="2026-01-15"),
            r"row 0, column period: '2026-01-15' is not the first day of a month",
        ),
        (dict(values=["sd"]), r"values= names columns not in cells: \['sd'\]"),
        (
            dict(units_lacking="parent_id"),
            r"units lacks column\(s\) \['parent_id'\]",
        ),
    ],
)
def test_bad_calls_say_what_is_accepted(change, message, unit_tree, make_cells):
    cells = make_cells(
        {
            "unit_id": change.pop("cells_unit", ["b1", "b2", "b3"]),
            "period": change.pop("cells_period", "2026-01-01"),
        },
        change.pop("cells_n", [3, 12, 15]),
    )
    units = unit_tree.drop(columns=change.pop("units_lacking", []))
    options = dict(by=["unit_id", "period"], units=units, period="month") | change
    with pytest.raises(InputError, match=message):
        gate(cells, **options)


def test_inconsistent_rollup_is_refused(unit_tree, make_cells):
    cells = make_cells({"unit_id": ["b1", "t1", "t2"]}, [10, 8, 7])
    with pytest.raises(InputError, match="row 0: unit 'b1' has fewer respondents"):
        gate(cells, by=["unit_id"], units=unit_tree, period=None, rollup=True)


def test_a_cycle_in_the_unit_tree_is_refused(unit_tree, make_cells):
    units = unit_tree.copy()
    units.loc[units["unit_id"] == "co", "parent_id"] = "b1"
    cells = make_cells({"unit_id": ["b1", "b2"]}, [3, 12])
    with pytest.raises(InputError, match="parent_id forms a cycle"):
        gate(cells, by=["unit_id"], units=units, period=None)
