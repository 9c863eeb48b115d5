"""The privacy gate against a generic attacker, on random companies.

Every call a user could make (units, regions, months, quarters, roll-ups) is
published through :func:`excx.privacy.gate`; the attacker then combines every
published parent with its visible parts, over several rounds, to recover hidden
cells exactly. Against the gate it must recover nothing; against a release that
hides only the small groups themselves it must succeed, which shows the attack
is strong enough to mean something.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from excx.privacy import PrivacyRule, gate

MONTHS = [f"2026-{m:02d}-01" for m in range(1, 7)]
LEAVES = ["b1", "t1", "t2", "b2", "b3", "b4", "b5", "d1"]


def _respondents(seed: int, unit_tree: pd.DataFrame) -> pd.DataFrame:
    """Base cells (unit, month) with n respondents and the sum of their answers."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        [(u, m) for u in LEAVES for m in MONTHS], columns=["unit_id", "month"]
    )
    base["n"] = rng.choice([0, 1, 2, 3, 4, 6, 8, 12, 20, 35], len(base))
    base = base[base["n"] > 0].reset_index(drop=True)
    base["sum"] = base["n"] * rng.uniform(-100, 100, len(base)).round(1)
    base["cell_id"] = base.index
    month = pd.to_datetime(base["month"]).dt.month
    base["quarter"] = "2026-" + ((month - 1) // 3 * 3 + 1).map("{:02d}".format) + "-01"
    return base.merge(unit_tree[["unit_id", "region"]], on="unit_id")


def _lineage(unit_tree: pd.DataFrame) -> pd.DataFrame:
    """(unit_id, ancestor) for every unit and itself, from the unit tree."""
    parent = dict(zip(unit_tree["unit_id"], unit_tree["parent_id"], strict=True))
    rows = []
    for unit in unit_tree["unit_id"]:
        node = unit
        while isinstance(node, str):
            rows.append((unit, node))
            node = parent[node]
    return pd.DataFrame(rows, columns=["unit_id", "ancestor"])


def _publish(base, by, *, unit_tree, period=None, rollup=False, rule=None, gated=True):
    """Aggregate the base cells as a metrics call would, and pass them through gate.

    ``gated=False`` hides only the groups under ``rule.min_n`` (primary only).
    """
    frame = base.assign(period=base[period] if period else None)
    if rollup:
        frame = frame.merge(_lineage(unit_tree), on="unit_id")
        frame = frame.drop(columns="unit_id")
        frame = frame.rename(columns={"ancestor": "unit_id"})
    if by:
        grouped = frame.groupby(by, dropna=False)
        cells = grouped.agg(
            n=("n", "sum"), sum=("sum", "sum"), ids=("cell_id", frozenset)
        ).reset_index()
    else:
        cells = pd.DataFrame(
            {
                "n": [frame["n"].sum()],
                "sum": [frame["sum"].sum()],
                "ids": [frozenset(frame["cell_id"])],
            }
        )
    cells["value"] = cells["sum"] / cells["n"]
    grain = {"month": "month", "quarter": "quarter", None: None}[period]
    rule = rule or PrivacyRule()
    if not gated:
        return cells.assign(suppressed=cells["n"] < rule.min_n)
    out = gate(
        cells.drop(columns="sum"),
        by=by,
        units=unit_tree,
        period=grain,
        rollup=rollup,
        rule=rule,
    )
    return out.assign(sum=out["value"] * out["n"])


def _relations(calls):
    """(parent, children) pairs: children partition the parent's respondents."""
    aggregates = {ids for call in calls for ids in call["ids"]}
    pools = [set(call["ids"]) for call in calls]
    pools += [set(calls[a]["ids"]) | set(calls[b]["ids"]) for a, b in [(5, 8), (2, 9)]]
    relations = []
    for parent in aggregates:
        for pool in pools:
            inside = [ids for ids in pool if ids < parent]
            children = [c for c in inside if not any(c < other for other in inside)]
            if (
                children
                and sum(map(len, children)) == len(parent)
                and (frozenset().union(*children) == parent)
            ):
                relations.append((parent, children))
    return relations


def _attack(calls, *, rounds):
    """Solve parent = sum(children) for lone unknowns; return what becomes known."""
    known = {}
    for call in calls:
        visible = call[~call["suppressed"]]
        known.update(zip(visible["ids"], visible["sum"], strict=True))
    published = set(known)
    relations = _relations(calls)
    for _ in range(rounds):
        learned = {}
        for parent, children in relations:
            unknown = [x for x in [parent, *children] if x not in known]
            if len(unknown) == 1 and parent not in unknown:
                rest = sum(known[c] for c in children if c != unknown[0])
                learned[unknown[0]] = known[parent] - rest
            elif len(unknown) == 1:
                learned[parent] = sum(known[c] for c in children)
        if not learned:
            break
        known.update(learned)
    return {ids: s for ids, s in known.items() if ids not in published}


def _every_call(base, unit_tree, rule=None, gated=True):
    options = dict(unit_tree=unit_tree, rule=rule, gated=gated)
    return [
        _publish(base, ["unit_id", "period"], period="month", **options),
        _publish(base, ["region", "period"], period="month", **options),
        _publish(base, ["unit_id", "period"], period="quarter", **options),
        _publish(base, ["region", "period"], period="quarter", **options),
        _publish(base, ["period"], period="quarter", **options),
        _publish(base, ["unit_id"], **options),
        _publish(base, ["region"], **options),
        _publish(base, [], **options),
        _publish(base, ["unit_id"], rollup=True, **options),
        _publish(base, ["unit_id", "period"], period="quarter", rollup=True, **options),
    ]


@pytest.mark.parametrize("seed", range(3))
def test_no_hidden_cell_is_recoverable_across_ten_calls(seed, unit_tree):
    base = _respondents(seed, unit_tree)
    calls = _every_call(base, unit_tree)
    hidden = sum(int(call["suppressed"].sum()) for call in calls)
    small = sum(int((call["n"] < 5).sum()) for call in calls)
    assert hidden > small > 0

    # The brief's attacker: one subtraction under a published parent.
    assert _attack(calls, rounds=1) == {}
    # A stronger one: chains of subtractions, each recovered total reused.
    assert _attack(calls, rounds=50) == {}


def test_the_attacker_recovers_what_an_ungated_release_exposes(unit_tree):
    # Control: the same attacker against the raw cells with only primary
    # suppression recovers small groups, so the tests above can fail.
    base = _respondents(0, unit_tree)
    calls = _every_call(base, unit_tree, gated=False)
    recovered = _attack(calls, rounds=50)
    truth = base.set_index("cell_id")
    small = [ids for ids in recovered if truth.loc[list(ids), "n"].sum() < 5]
    assert small
    for ids in small:
        assert recovered[ids] == pytest.approx(truth.loc[list(ids), "sum"].sum())
