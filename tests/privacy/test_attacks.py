"""The privacy gate, tested by attacking it.

Each test publishes figures through :func:`excx.privacy.gate`, then tries to recover
a hidden group by subtraction: a parent total minus its visible children. The
reference is arithmetic itself: the n-weighted sums of a partition add up to the
parent's sum, so a lone hidden child is recovered exactly.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

import excx.metrics
from excx.privacy import gate


def _lone_hidden(parent: pd.Series, children: pd.DataFrame) -> pd.DataFrame:
    """The attack: if ``parent`` is visible and one child is hidden, recover it.

    Returns the recovered children (zero or one row) with the attacker's estimate.
    """
    hidden = children[children["suppressed"]]
    if parent["suppressed"] or len(hidden) != 1:
        return hidden.iloc[:0]
    visible = children[~children["suppressed"]]
    known = (visible["value"] * visible["n"]).sum()
    estimate = (parent["value"] * parent["n"] - known) / hidden["n"].iloc[0]
    return hidden.assign(estimate=estimate)


def _pooled(cells: pd.DataFrame) -> pd.Series:
    """The figure a call over the union of ``cells`` would publish (n-weighted)."""
    n = cells["n"].sum()
    return pd.Series({"n": n, "value": (cells["value"] * cells["n"]).sum() / n})


def test_small_unit_hides_a_sibling_and_the_region_attack_fails(unit_tree, make_cells):
    cells = make_cells({"unit_id": ["b1", "b2", "b3", "b4", "b5"]}, [3, 12, 15, 30, 40])
    out = gate(cells, by=["unit_id"], units=unit_tree, period=None)

    # b1 (n=3) is primary, b2 (next smallest in region north) is its complement.
    assert out["suppressed"].tolist() == [True, True, False, False, False]
    assert out.loc[out["suppressed"], ["value", "ci_low", "ci_high"]].isna().all().all()
    assert out["n"].tolist() == [3, 12, 15, 30, 40]

    north = _pooled(cells[cells["unit_id"].isin(["b1", "b2", "b3"])])
    region_call = gate(
        pd.DataFrame(
            {
                "region": ["north", "south"],
                "n": [30, 70],
                "value": [north["value"], 1.0],
            }
        ),
        by=["region"],
        units=unit_tree,
        period=None,
    )
    parent = region_call.iloc[0]
    assert not parent["suppressed"]

    # What subtraction yields is the pooled figure of b1 and b2, not b1's.
    hidden = out[out["suppressed"]]
    visible_sum = (out["value"] * out["n"])[out["unit_id"] == "b3"].sum()
    pooled = (parent["value"] * parent["n"] - visible_sum) / hidden["n"].sum()
    assert pooled == pytest.approx(_pooled(cells.iloc[:2])["value"])
    assert pooled != pytest.approx(cells["value"].iloc[0])

    members = out[out["unit_id"].isin(["b1", "b2", "b3"])]
    assert _lone_hidden(parent, members).empty


def test_unit_call_and_region_call_together_reveal_nothing(unit_tree, make_cells):
    # Region south is small as a whole (2 + 2 respondents): both its units are
    # hidden, and so is the digital unit d1 (no region), the smallest complement.
    # The region call makes the same choice: south and the no-region group.
    units = ["b1", "b2", "b3", "b4", "b5", "d1"]
    cells = make_cells({"unit_id": units}, [9, 12, 15, 2, 2, 6])
    by_unit = gate(cells, by=["unit_id"], units=unit_tree, period=None)
    assert by_unit["suppressed"].tolist() == [False, False, False, True, True, True]

    north, south = _pooled(cells.iloc[:3]), _pooled(cells.iloc[3:5])
    regions = pd.DataFrame(
        {
            "region": ["north", "south", None],
            "n": [north["n"], south["n"], 6],
            "value": [north["value"], south["value"], cells["value"].iloc[5]],
        }
    )
    by_region = gate(regions, by=["region"], units=unit_tree, period=None)
    assert by_region["suppressed"].tolist() == [False, True, True]

    company = gate(
        _pooled(cells).to_frame().T, by=[], units=unit_tree, period=None
    ).iloc[0]
    assert _lone_hidden(company, by_region).empty
    assert _lone_hidden(company, by_unit).empty
    north_row = by_region.iloc[0]
    assert _lone_hidden(north_row, by_unit.iloc[:3]).empty


def test_months_against_their_quarter(unit_tree, make_cells):
    months = ["2026-01-01", "2026-02-01", "2026-03-01"]
    cells = make_cells(
        {"unit_id": ["b1"] * 3 + ["b2"] * 3, "period": months * 2},
        [3, 20, 25, 30, 30, 30],
    )
    out = gate(cells, by=["unit_id", "period"], units=unit_tree, period="month")

    # b1 Jan (3) is primary; b1 Feb is its complement within b1's quarter, b2 Jan
    # within January, then b2 Feb (tie with Mar at 30, broken by the period key).
    assert out["suppressed"].tolist() == [True, True, False, True, True, False]

    quarters = pd.concat(
        [_pooled(cells.iloc[:3]), _pooled(cells.iloc[3:])], axis=1
    ).T.assign(unit_id=["b1", "b2"], period="2026-01-01")
    by_quarter = gate(
        quarters, by=["unit_id", "period"], units=unit_tree, period="quarter"
    )
    assert not by_quarter["suppressed"].any()
    for i, unit in enumerate(["b1", "b2"]):
        assert _lone_hidden(by_quarter.iloc[i], out[out["unit_id"] == unit]).empty
    for month in months:
        january = gate(
            _pooled(cells[cells["period"] == month]).to_frame().T,
            by=[],
            units=unit_tree,
            period=None,
        ).iloc[0]
        assert _lone_hidden(january, out[out["period"] == month]).empty


def test_roles_within_a_unit(unit_tree, make_cells):
    roles = ["agent", "manager", "advisor"]
    cells = make_cells(
        {"unit_id": ["b3"] * 3 + ["b4"] * 3, "role": roles * 2}, [30, 2, 10, 20, 6, 8]
    )
    out = gate(cells, by=["unit_id", "role"], units=unit_tree, period=None)

    # b3's 2 managers are primary, b3's advisors their complement; across units
    # the managers and advisors of b4 then have to go too.
    assert out["suppressed"].tolist() == [False, True, True, False, True, True]
    for unit in ("b3", "b4"):
        members = out[out["unit_id"] == unit]
        total = gate(
            _pooled(cells[cells["unit_id"] == unit]).to_frame().T,
            by=[],
            units=unit_tree,
            period=None,
        ).iloc[0]
        assert _lone_hidden(total, members).empty


def test_rollup_protects_a_parents_direct_respondents(unit_tree, make_cells):
    # b1 has 2 direct respondents; teams t1 (18) and t2 (20) are under it.
    direct = make_cells(
        {"unit_id": ["b1", "t1", "t2", "b2", "b3"]}, [2, 18, 20, 30, 25]
    )
    rolled = direct.copy()
    rolled.loc[0, ["n", "value"]] = [40, _pooled(direct.iloc[:3])["value"]]
    rolled_out = gate(rolled, by=["unit_id"], units=unit_tree, period=None, rollup=True)

    # b1 - t1 - t2 would give the 2 direct respondents: t1 is hidden.
    assert rolled_out["suppressed"].tolist() == [False, True, False, False, False]
    parent = rolled_out.iloc[0]
    children = rolled_out.iloc[1:3]
    direct_part = direct.iloc[:1].assign(suppressed=True)
    assert _lone_hidden(parent, pd.concat([children, direct_part])).empty

    # The same data unrolled: b1's own cell is primary and t1 the complement, the
    # same choice, so the two calls together reveal nothing either.
    direct_out = gate(direct, by=["unit_id"], units=unit_tree, period=None)
    assert direct_out["suppressed"].tolist() == [True, True, False, False, False]
    assert _lone_hidden(parent, direct_out.iloc[:3]).empty


def test_rollup_without_the_direct_member_would_leak(unit_tree, make_cells):
    # Control for the test above: treating the children as the whole partition
    # (rollup=False on rolled-up cells) hides nothing, and the attack succeeds.
    direct = make_cells({"unit_id": ["b1", "t1", "t2"]}, [2, 18, 20])
    rolled = direct.assign(n=[40, 18, 20])
    rolled.loc[0, "value"] = _pooled(direct)["value"]
    naive = gate(rolled, by=["unit_id"], units=unit_tree, period=None)
    assert not naive["suppressed"].any()
    parent = naive.iloc[0]
    known = (naive["value"] * naive["n"]).iloc[1:].sum()
    recovered = (parent["value"] * parent["n"] - known) / 2
    assert recovered == pytest.approx(direct["value"].iloc[0])


# --- end to end: excx.metrics.enps on a store passes through the gate ---


def _write_company(store, unit_tree: pd.DataFrame, sizes: dict[str, int]) -> None:
    units = unit_tree[unit_tree["unit_id"].isin(["co", "r_north", "r_south", *sizes])]
    rows = [
        {
            "response_id": f"{unit}-{i}",
            "unit_id": unit,
            "enps": (i * 7) % 11,
            "submitted_at": dt.datetime(2026, 2, 3),
            "role": "agent",
        }
        for unit, size in sizes.items()
        for i in range(size)
    ]
    store.write(
        {
            "units": pa.Table.from_pandas(
                units.assign(name=units["unit_id"]), preserve_index=False
            ),
            "employee_responses": pa.Table.from_pylist(rows),
        }
    )


def test_enps_from_the_store_is_gated(store, unit_tree):
    import excx.metrics

    _write_company(store, unit_tree, {"b1": 3, "b2": 12, "b3": 15, "b4": 30, "b5": 40})
    by_unit = (
        excx.metrics.enps(store, by=("unit_id",)).set_index("unit_id").sort_index()
    )
    assert by_unit["suppressed"].to_dict() == {
        "b1": True,
        "b2": True,
        "b3": False,
        "b4": False,
        "b5": False,
    }
    assert by_unit.loc[["b1", "b2"], "value"].isna().all()

    by_region = excx.metrics.enps(store, by=("region",)).set_index("region")
    assert not by_region["suppressed"].any()
    north = by_region.loc["north"]
    assert _lone_hidden(north, by_unit.loc[["b1", "b2", "b3"]]).empty


def test_a_unit_and_its_only_child_are_hidden_together(duckdb_store):
    # A contact centre whose one team holds all its respondents has the same
    # figure as that team: hiding one and showing the other gives it away, and
    # with it the small branch the contact centre was hidden to protect
    # (found on the dashboard heatmap, synth small seed 0, 2025-08).
    from excx import synth

    duckdb_store.write(synth.generate("small", seed=0).tables)
    units = duckdb_store.execute(duckdb_store.table("units"))
    cells = excx.metrics.enps(duckdb_store, by=("unit_id", "period"), rollup=True)
    keyed = cells.set_index(["unit_id", "period"])

    only_children = units.groupby("parent_id")["unit_id"].agg(list)
    pairs = [(p, c[0]) for p, c in only_children.items() if len(c) == 1]
    assert pairs, "the small bank has units with a single child"
    checked = 0
    for parent, child in pairs:
        for period in cells.loc[cells["unit_id"] == parent, "period"]:
            if (child, period) not in keyed.index:
                continue
            mother, daughter = keyed.loc[(parent, period)], keyed.loc[(child, period)]
            if mother["n"] != daughter["n"]:
                continue  # the parent has direct respondents of its own
            assert mother["suppressed"] == daughter["suppressed"], (parent, period)
            checked += 1
    assert checked > 0
    assert keyed.loc[("R1-CC", "2025-08-01"), "suppressed"]
    assert keyed.loc[("R1-CC-T01", "2025-08-01"), "suppressed"]
