"""The organisation of the synthetic bank: regions, branches, contact-centre teams."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from excx.synth._params import Size, SynthParams

REGION_NAMES = ("North", "South", "East", "West", "Centre", "Coast")
COMPANY_ID = "bank"
CUSTOMERS_PER_EMPLOYEE = 300


@dataclass(frozen=True)
class Organisation:
    """The serving units (branches and teams) as parallel arrays, plus the units table.

    Attributes
    ----------
    unit_id, region_index, is_branch, headcount
        One entry per serving unit.
    affluence
        One entry per region, evenly spread over [-1, 1] in a seeded order.
    region_names
        One entry per region.
    units
        The canonical ``units`` table: company, regions, contact centres, branches
        and teams.
    """

    unit_id: np.ndarray
    region_index: np.ndarray
    is_branch: np.ndarray
    headcount: np.ndarray
    affluence: np.ndarray
    region_names: tuple[str, ...]
    units: pa.Table

    @property
    def unit_affluence(self) -> np.ndarray:
        """Affluence of each serving unit's region."""
        return self.affluence[self.region_index]


def build(size: Size, params: SynthParams, rng: np.random.Generator) -> Organisation:
    """Lay out the bank: regions, one contact centre each, branches and teams."""
    names = tuple(
        REGION_NAMES[i] if i < len(REGION_NAMES) else f"Region {i + 1}"
        for i in range(params.regions)
    )
    affluence = rng.permutation(np.linspace(-1.0, 1.0, params.regions))

    per_region = size.branches_per_region + size.teams_per_region
    region_index = np.repeat(np.arange(params.regions), per_region)
    is_branch = np.tile(
        np.r_[
            np.ones(size.branches_per_region, bool),
            np.zeros(size.teams_per_region, bool),
        ],
        params.regions,
    )
    unit_id = np.array(
        [
            f"R{r + 1}-B{i + 1:03d}"
            if i < size.branches_per_region
            else f"R{r + 1}-CC-T{i - size.branches_per_region + 1:02d}"
            for r in range(params.regions)
            for i in range(per_region)
        ]
    )
    headcount = _headcounts(is_branch, params, rng)
    units = _units_table(names, unit_id, region_index, is_branch, params)
    return Organisation(
        unit_id, region_index, is_branch, headcount, affluence, names, units
    )


def _headcounts(
    is_branch: np.ndarray, params: SynthParams, rng: np.random.Generator
) -> np.ndarray:
    """Branches: a share with 5-15 people, the rest 16-60; teams 15-40."""
    n = len(is_branch)
    small = is_branch & (rng.random(n) < params.small_unit_share)
    return np.where(
        small,
        rng.integers(5, 16, n),
        np.where(is_branch, rng.integers(16, 61, n), rng.integers(15, 41, n)),
    )


def _units_table(
    names: tuple[str, ...],
    unit_id: np.ndarray,
    region_index: np.ndarray,
    is_branch: np.ndarray,
    params: SynthParams,
) -> pa.Table:
    region_ids = [f"R{r + 1}" for r in range(len(names))]
    centre_ids = [f"{rid}-CC" for rid in region_ids]
    serving_names = [
        f"{names[r]} branch {uid.rsplit('B', 1)[1]}"
        if branch
        else f"{names[r]} contact centre team {uid.rsplit('T', 1)[1]}"
        for uid, r, branch in zip(unit_id, region_index, is_branch, strict=True)
    ]
    serving_parents = [
        region_ids[r] if branch else centre_ids[r]
        for r, branch in zip(region_index, is_branch, strict=True)
    ]
    rows = {
        "unit_id": [COMPANY_ID, *region_ids, *centre_ids, *unit_id.tolist()],
        "name": [
            "Synthetic Bank",
            *names,
            *[f"{name} contact centre" for name in names],
            *serving_names,
        ],
        "parent_id": [None, *[COMPANY_ID] * len(names), *region_ids, *serving_parents],
        "kind": [
            "company",
            *["region"] * len(names),
            *["contact_centre"] * len(names),
            *np.where(is_branch, "branch", "team").tolist(),
        ],
        "region": [None, *names, *names, *[names[r] for r in region_index]],
    }
    start = dt.date.fromisoformat(params.start)
    n = len(rows["unit_id"])
    return pa.table(
        {
            **rows,
            "valid_from": pa.array([start] * n, pa.date32()),
            "valid_to": pa.nulls(n, pa.date32()),
        }
    )
