"""The sibling sets of one level: groups of cells that partition a parent total.

Each dimension is a hierarchy. A set is the cells sharing every other key and the
same parent in one dimension; its ``tag`` names the coarser level whose call would
publish that parent (empty when no coarser level is simulated, e.g. a unit's
subtree, whose total only a rolled-up call shows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from excx.errors import InputError

DIMENSIONS = ("unit_id", "region", "period", "role", "tenure_band")
PERIOD_GRAINS = ("month", "quarter", "year")
# The coarser periods each grain's cells are summed into by other calls.
COARSER = {"month": ("quarter", "year", "all"), "quarter": ("year", "all")}
COARSER["year"] = ("all",)


def sibling_sets(
    keys: pd.DataFrame,
    codes: pd.DataFrame,
    n: np.ndarray,
    *,
    units: pd.DataFrame,
    lineage: pd.DataFrame | None,
    period: str | None,
    rollup: bool,
) -> list[dict[str, np.ndarray]]:
    """The sibling sets of each dimension of ``keys``, as arrays.

    One dict per dimension with arrays ``set``, ``cell`` (row of the cells, -1 for
    a rolled-up parent's direct respondents), ``n``, ``tag`` and ``parent_cell``
    (the row of the set's parent when the call itself holds it, else -1).
    """
    by = list(keys.columns)
    cell = np.arange(len(keys))
    families = []
    if "unit_id" in by:
        other = [c for c in by if c not in ("unit_id", "region")]
        if rollup:
            members = _rollup_members(keys["unit_id"], codes, n, units, other)
        else:
            pairs = _unit_pairs(keys["unit_id"], units, lineage)
            members = _with_keys(pairs, codes, n, other)
        families.append(_numbered(members, other))
    elif "region" in by:
        other = [c for c in by if c != "region"]
        pairs = pd.DataFrame({"cell": cell, "parent": "all", "tag": "region:all"})
        families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    if "period" in by:
        other = [c for c in by if c != "period"]
        pairs = _period_pairs(keys["period"], period)
        families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    for column in ("role", "tenure_band"):
        if column in by:
            other = [c for c in by if c != column]
            pairs = pd.DataFrame(
                {"cell": cell, "parent": "all", "tag": f"{column}:all"}
            )
            families.append(_numbered(_with_keys(pairs, codes, n, other), other))
    return families


def _with_keys(
    pairs: pd.DataFrame, codes: pd.DataFrame, n: np.ndarray, other: list[str]
) -> pd.DataFrame:
    """Attach ``n`` and the other dimensions' codes to (cell, parent) pairs."""
    cell = pairs["cell"].to_numpy()
    out = pd.DataFrame(
        {
            "parent": pairs["parent"].to_numpy(),
            "cell": cell,
            "n": n[cell],
            "tag": pairs["tag"].to_numpy(),
            "parent_cell": -1,
        }
    )
    for column in other:
        out[column] = codes[column].to_numpy()[cell]
    return out


def _numbered(members: pd.DataFrame, other: list[str]) -> dict[str, np.ndarray]:
    """Number the sets: members sharing the parent and every other key.

    Members without respondents are left out, and so are sets of one member
    (child = parent) unless a coarser call or this call holds their parent.
    """
    members = members[members["n"] > 0]
    number = members.groupby(["parent", *other], sort=False).ngroup().to_numpy()
    # A lone member equals its parent: it matters only if a coarser call hides it,
    # or if the parent is a cell of this call (a rolled-up unit whose only child
    # holds all its respondents): then the two must be hidden or shown together.
    keep = np.bincount(number, minlength=number.max(initial=0) + 1)[number] > 1
    keep |= members["tag"].to_numpy() != ""
    keep |= members["parent_cell"].fillna(-1).to_numpy() >= 0
    return {
        "set": number[keep],
        "cell": members["cell"].to_numpy()[keep],
        "n": members["n"].to_numpy()[keep],
        "tag": members["tag"].to_numpy()[keep],
        "parent_cell": members["parent_cell"].fillna(-1).to_numpy(dtype=np.int64)[keep],
    }


def unit_edges(units: pd.DataFrame, unit_ids: pd.Series) -> pd.DataFrame:
    """(unit_id, parent_id) pairs of every version of the units table."""
    missing = [c for c in ("unit_id", "parent_id") if c not in units.columns]
    if missing:
        raise InputError(
            f"units lacks column(s) {missing}, needed to group by unit_id; "
            f"pass the units table (unit_id, parent_id, region, kind)"
        )
    unknown = sorted(set(unit_ids.dropna()) - set(units["unit_id"]))
    if unknown or unit_ids.isna().any():
        shown = unknown[:5] if unknown else [None]
        raise InputError(
            f"cells column unit_id holds {len(unknown) or 1} unit(s) not in units, "
            f"e.g. {shown}; expected unit_id values of the units table"
        )
    edges = units[["unit_id", "parent_id"]].dropna().drop_duplicates()
    return edges.astype({"unit_id": object, "parent_id": object})


def lineage_of(edges: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """(unit_id, ancestor) for every unit, itself included."""
    known = pd.unique(pd.concat([units["unit_id"], edges["parent_id"]]))
    lineage = pd.DataFrame({"unit_id": known, "ancestor": known})
    frontier = lineage
    for _ in range(len(known) + 1):
        step = frontier.merge(edges, left_on="ancestor", right_on="unit_id")
        frontier = pd.DataFrame(
            {"unit_id": step["unit_id_x"], "ancestor": step["parent_id"]}
        ).drop_duplicates()
        if frontier.empty:
            break
        lineage = pd.concat([lineage, frontier])
    else:
        raise InputError("units: parent_id forms a cycle; expected a tree of units")
    return lineage.drop_duplicates()


def _unit_pairs(
    unit_ids: pd.Series, units: pd.DataFrame, lineage: pd.DataFrame
) -> pd.DataFrame:
    """(cell, parent) pairs for cells holding each unit's direct respondents."""
    cells = pd.DataFrame(
        {"cell": np.arange(len(unit_ids)), "unit_id": unit_ids.to_numpy()}
    )
    tree = cells.merge(lineage, on="unit_id")
    parent = "tree:" + tree["ancestor"].astype(str)
    pairs = [pd.DataFrame({"cell": tree["cell"], "parent": parent, "tag": ""})]
    if "region" in units.columns:
        regions = units[["unit_id", "region"]].dropna().drop_duplicates()
        in_region = cells.merge(regions, on="unit_id")
        parent = "region:" + in_region["region"].astype(str)
        pairs.append(
            pd.DataFrame(
                {"cell": in_region["cell"], "parent": parent, "tag": "unit_id:region"}
            )
        )
    pairs.append(
        pd.DataFrame({"cell": cells["cell"], "parent": "all", "tag": "unit_id:all"})
    )
    return pd.concat(pairs, ignore_index=True)


def _rollup_members(
    unit_ids: pd.Series,
    codes: pd.DataFrame,
    n: np.ndarray,
    units: pd.DataFrame,
    other: list[str],
) -> pd.DataFrame:
    """Members for cells whose unit figures include their whole subtree.

    A parent's children and its direct respondents (parent n - children n, a member
    with ``cell = -1``) partition the parent; the top units partition the company
    and the top units of each region partition the region.
    """
    edges = unit_edges(units, unit_ids)
    cells = pd.DataFrame(
        {"cell": np.arange(len(unit_ids)), "unit_id": unit_ids.to_numpy()}
    )
    children = cells.merge(edges, on="unit_id")
    pairs = pd.DataFrame(
        {"cell": children["cell"], "parent": children["parent_id"], "tag": ""}
    )
    members = _with_keys(pairs, codes, n, other)

    present = cells.assign(n=n, **{c: codes[c].to_numpy() for c in other})
    sums = members.groupby(["parent", *other], as_index=False)["n"].sum()
    parents = present.rename(columns={"unit_id": "parent", "n": "parent_n"})
    direct = sums.merge(parents, on=["parent", *other])
    direct = direct.assign(n=direct["parent_n"] - direct["n"])
    if (direct["n"] < 0).any():
        row = int(direct.loc[direct["n"] < 0, "cell"].iloc[0])
        raise InputError(
            f"cells row {row}: unit {unit_ids.iloc[row]!r} has fewer respondents than "
            f"its child units together; with rollup=True each unit's n must include "
            f"its subtree"
        )
    # A tree set's parent is a cell of this call: once hidden, its set must hide
    # a member too, or the parent would be the sum of its visible children.
    parent_rows = parents[["parent", *other, "cell"]].rename(
        columns={"cell": "parent_cell"}
    )
    members = members.drop(columns="parent_cell").merge(
        parent_rows, on=["parent", *other], how="left"
    )
    direct = direct.assign(parent_cell=direct["cell"], cell=-1, tag="")
    columns = ["parent", "cell", "n", "tag", "parent_cell", *other]
    members = pd.concat([members[columns], direct[columns]])
    members["parent"] = "tree:" + members["parent"].astype(str)
    tops = _with_keys(_rollup_tops(cells, children, units), codes, n, other)
    return pd.concat([members, tops], ignore_index=True)


def _rollup_tops(
    cells: pd.DataFrame, children: pd.DataFrame, units: pd.DataFrame
) -> pd.DataFrame:
    """(cell, parent) pairs: top units partition the company, a region's its total."""
    on_top = ~cells["unit_id"].isin(
        children.loc[children["parent_id"].isin(cells["unit_id"]), "unit_id"]
    )
    tops = [
        pd.DataFrame(
            {"cell": cells.loc[on_top, "cell"], "parent": "all", "tag": "unit_id:all"}
        )
    ]
    if "region" in units.columns:
        region = units[["unit_id", "region"]].dropna().drop_duplicates()
        linked = children.merge(region, on="unit_id").merge(
            region.rename(columns={"unit_id": "parent_id"}), on="parent_id"
        )
        nested = linked.loc[
            (linked["region_x"] == linked["region_y"])
            & linked["parent_id"].isin(cells["unit_id"]),
            "unit_id",
        ]
        head = cells[~cells["unit_id"].isin(nested)].merge(region, on="unit_id")
        tops.append(
            pd.DataFrame(
                {
                    "cell": head["cell"],
                    "parent": "region:" + head["region"].astype(str),
                    "tag": "unit_id:region",
                }
            )
        )
    return pd.concat(tops, ignore_index=True)


def _period_pairs(values: pd.Series, grain: str) -> pd.DataFrame:
    """(cell, parent) pairs linking each period to the coarser ones it sums into."""
    dates = pd.to_datetime(values, format="%Y-%m-%d")
    year = dates.dt.year.astype(str).to_numpy()
    quarter = year + "Q" + ((dates.dt.month - 1) // 3 + 1).astype(str).to_numpy()
    parents = {"quarter": "q:" + quarter, "year": "y:" + year, "all": "all"}
    cell = np.arange(len(values))
    return pd.concat(
        [
            pd.DataFrame(
                {"cell": cell, "parent": parents[level], "tag": f"period:{level}"}
            )
            for level in COARSER[grain]
        ],
        ignore_index=True,
    )
