"""rwg and rwg(J): hand-computed values, scales, suppression, engines."""

from __future__ import annotations

import warnings

import ibis
import numpy as np
import pandas as pd
import pytest

from excx.errors import AggregationWarning, InputError, PrivacyError
from excx.linkage.agreement import rwg, rwg_j


def agreement_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unit": ["a"] * 5 + ["b"] * 5 + ["c"] * 4 + ["d"],
            "q1": [4, 4, 5, 4, 4, 1, 5, 3, 2, 4, 3, 3, 3, 4, 5],
            "q2": [4, 5, 5, 4, 4, 5, 1, 2, 5, 1, 3, 3, 4, 4, 2],
        }
    )


def test_rwg_hand_computed_and_truncated():
    with pytest.warns(AggregationWarning, match="across 3 units"):
        result = rwg(agreement_frame(), value="q1", group="unit", min_group_size=3)
    units = result[result.level == "unit"].set_index("unit")
    # hand: unit a variance 0.2; uniform null on 5 options (25 - 1) / 12 = 2
    assert units.loc["a", "value"] == pytest.approx(1 - 0.2 / 2)
    # hand: unit b variance 2.5 > 2, so 1 - 1.25 < 0 is truncated to 0
    assert units.loc["b", "value"] == 0 and units.loc["b", "truncated"]
    # hand: unit c variance 0.25 -> 0.875
    assert units.loc["c", "value"] == pytest.approx(0.875)
    assert np.isnan(units.loc["d", "value"])
    assert units.loc["d", "reason"].startswith("one respondent")
    summary = result[result.level != "unit"].set_index("level")["value"]
    assert summary["mean"] == pytest.approx((0.9 + 0 + 0.875) / 3)
    assert summary["median"] == pytest.approx(0.875)


def test_rwg_null_variance_on_other_scales():
    # a unit answering 1..7 once each has sample variance 28/6; the uniform null on
    # 7 options is (49 - 1) / 12 = 4 (James, Demaree & Wolf 1984, eq. 2)
    data = pd.DataFrame(
        {
            "unit": [1] * 7 + [2] * 7 + [3] * 7,
            "item": list(range(1, 8)) + [4] * 7 + [3, 4] * 3 + [5],
        }
    )
    with pytest.warns(AggregationWarning):
        result = rwg(data, value="item", group="unit", scale=(1, 7))
    assert result.loc[0, "variance"] == pytest.approx(28 / 6)
    assert result.loc[0, "value"] == 0 and result.loc[0, "truncated"]
    assert result.loc[1, "value"] == 1.0
    with pytest.raises(InputError, match="outside the scale 1..5"):
        rwg(data, value="item", group="unit", scale=(1, 5))


def test_rwg_suppresses_small_units():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AggregationWarning)
        result = rwg(agreement_frame(), value="q1", group="unit")
    units = result[result.level == "unit"].set_index("unit")
    assert units.loc["c", "suppressed"] and np.isnan(units.loc["c", "value"])
    assert "fewer than 5" in units.loc["c", "reason"]
    assert not units.loc["a", "suppressed"]
    with pytest.raises(PrivacyError, match="min_group_size: .*floor of 3"):
        rwg(agreement_frame(), value="q1", group="unit", min_group_size=2)


def test_rwg_j_hand_computed():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AggregationWarning)
        result = rwg_j(
            agreement_frame(), items=["q1", "q2"], group="unit", min_group_size=3
        ).set_index("unit")
    # hand: unit a item variances 0.2 and 0.3, mean 0.25, ratio 0.125;
    # rwg(2) = 2 * 0.875 / (2 * 0.875 + 0.125) (James, Demaree & Wolf 1984, eq. 5)
    assert result.loc["a", "value"] == pytest.approx(1.75 / 1.875)
    # hand: unit b variances 2.5 and 4.3 exceed the null variance 2 -> 0
    assert result.loc["b", "value"] == 0 and result.loc["b", "truncated"]
    assert result.loc["a", "statistic"] == "rwg_j"


def test_rwg_j_engine_matches_pandas():
    data = agreement_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AggregationWarning)
        in_pandas = rwg_j(data, items=["q1", "q2"], group="unit", min_group_size=3)
        in_engine = rwg_j(
            ibis.memtable(data), items=["q1", "q2"], group="unit", min_group_size=3
        )
    pd.testing.assert_frame_equal(in_pandas, in_engine, check_dtype=False)
    with pytest.raises(InputError, match="at least two item"):
        rwg_j(data, items=["q1"], group="unit")
    with pytest.raises(InputError, match=r"items\[1\]='q9'"):
        rwg_j(data, items=["q1", "q9"], group="unit")
