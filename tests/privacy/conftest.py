"""Shared by the privacy tests: the unit tree and a factory of gate input cells.

Under ``--import-mode=importlib`` test modules cannot import each other, so what
both :mod:`test_gate` and :mod:`test_attacks` need is provided as fixtures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

UNITS = pd.DataFrame(
    {
        "unit_id": [
            "co",
            "r_north",
            "r_south",
            "b1",
            "b2",
            "b3",
            "b4",
            "b5",
            "t1",
            "t2",
            "d1",
        ],
        "parent_id": [
            None,
            "co",
            "co",
            "r_north",
            "r_north",
            "r_north",
            "r_south",
            "r_south",
            "b1",
            "b1",
            "co",
        ],
        "region": [
            None,
            "north",
            "south",
            "north",
            "north",
            "north",
            "south",
            "south",
            "north",
            "north",
            None,
        ],
        "kind": [
            "company",
            "region",
            "region",
            "branch",
            "branch",
            "branch",
            "branch",
            "branch",
            "team",
            "team",
            "digital",
        ],
    }
)


def _cells(by: dict[str, list], n: list[int], seed: int = 0) -> pd.DataFrame:
    """Cells with the given keys and sizes, and distinct values (means of -100..100)."""
    values = np.random.default_rng(seed).uniform(-100, 100, len(n)).round(3)
    return pd.DataFrame(
        {**by, "n": n, "value": values, "ci_low": values - 10, "ci_high": values + 10}
    )


@pytest.fixture
def unit_tree() -> pd.DataFrame:
    """Company, two regions, five branches, two teams under b1, a digital unit."""
    return UNITS.copy()


@pytest.fixture
def make_cells():
    """The :func:`_cells` factory: ``make_cells(by, n, seed=0)``."""
    return _cells
