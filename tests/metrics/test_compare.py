from __future__ import annotations

import math

import pytest
from scipy import stats

import excx.metrics as metrics
from excx.errors import InputError, PrivacyError
from excx.privacy import PrivacyRule

COLUMNS = [
    "kpi", "n_a", "value_a", "n_b", "value_b",
    "difference", "ci_low", "ci_high", "p_value", "test",
]  # fmt: skip


def _scores(company, kpi, column, value):
    return [s for row, s in company.scored(kpi) if row[column] == value]


def test_ces_welch_matches_scipy(store, company):
    result = metrics.compare(
        store, "ces", a={"channel": "web"}, b={"channel": "store"}
    ).iloc[0]
    a = _scores(company, "ces", "channel", "web")
    b = _scores(company, "ces", "channel", "store")
    # reference: scipy.stats.ttest_ind(equal_var=False) on the inserted answers
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert (result["n_a"], result["n_b"]) == (len(a), len(b))
    assert result["difference"] == pytest.approx(sum(b) / len(b) - sum(a) / len(a))
    assert result["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx(
        (ci.low, ci.high), rel=1e-9
    )


def test_engagement_welch_matches_scipy(store, company):
    result = metrics.compare(
        store, "engagement", a={"role": "agent"}, b={"role": "lead"}
    ).iloc[0]
    a = _scores(company, "engagement", "role", "agent")
    b = _scores(company, "engagement", "role", "lead")
    # reference: scipy.stats.ttest_ind(equal_var=False) on respondents' indices
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert result["p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert list(metrics.compare(store, "engagement", a={"role": "agent"},
                                b={"role": "lead"}).columns) == COLUMNS  # fmt: skip


def test_nps_z_test_matches_scipy_normal(store, company):
    result = metrics.compare(store, "nps", a={"unit_id": "b1"}, b={"unit_id": "t2"})
    row = result.iloc[0]
    a = _scores(company, "nps", "unit_id", "b1")
    b = _scores(company, "nps", "unit_id", "t2")

    def adjusted(scores):
        n = len(scores) + 3
        p = (sum(s >= 9 for s in scores) + 0.75) / n
        d = (sum(s <= 6 for s in scores) + 0.75) / n
        return p - d, (p + d - (p - d) ** 2) / n

    (c_a, v_a), (c_b, v_b) = adjusted(a), adjusted(b)
    z = (c_b - c_a) / math.sqrt(v_a + v_b)
    # reference: two-sided normal p-value from scipy.stats.norm on the same numbers
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    half = stats.norm.ppf(0.975) * math.sqrt(v_a + v_b)
    assert row["ci_low"] == pytest.approx(100 * (c_b - c_a - half), rel=1e-9)
    nps = [
        100 * (sum(s >= 9 for s in x) - sum(s <= 6 for s in x)) / len(x) for x in (a, b)
    ]
    assert row["difference"] == pytest.approx(nps[1] - nps[0])
    assert row["test"] == "adjusted-wald"


def test_csat_two_proportion_z_matches_statsmodels(store, company):
    from statsmodels.stats.proportion import proportions_ztest

    result = metrics.compare(
        store, "csat", a={"period": "2025-12-01"}, b={"period": "2026-03-01"}
    ).iloc[0]
    months = company.groups("csat", ("period",))
    a, b = months[("2025-12-01",)], months[("2026-03-01",)]
    counts = [sum(s >= 4 for s in b), sum(s >= 4 for s in a)]
    # reference: statsmodels proportions_ztest (pooled variance), same counts
    _, p_value = proportions_ztest(counts, [len(b), len(a)])
    assert result["p_value"] == pytest.approx(p_value, rel=1e-9)
    assert result["difference"] == pytest.approx(
        100 * (counts[0] / len(b) - counts[1] / len(a))
    )


def test_employee_groups_under_the_threshold_are_refused(store, company):
    sizes = company.groups("enps", ("unit_id", "role"))
    small = min(sizes, key=lambda k: len(sizes[k]))
    other = next(k for k in sizes if k[0] != small[0])
    rule = PrivacyRule(min_n=len(sizes[small]) + 1)
    with pytest.raises(PrivacyError, match="suppressed"):
        metrics.compare(
            store,
            "enps",
            a={"unit_id": small[0], "role": small[1]},
            b={"unit_id": other[0], "role": other[1]},
            rule=rule,
        )


def test_employee_groups_hidden_as_complements_are_refused(store, company):
    # A group hidden only to protect a small sibling must not be comparable
    # either: its value minus the parent total would reveal the small one.
    sizes = company.groups("enps", ("unit_id", "role"))
    small = min(sizes, key=lambda k: len(sizes[k]))
    rule = PrivacyRule(min_n=len(sizes[small]) + 1)
    gated = metrics.enps(store, by=("unit_id", "role"), rule=rule)
    hidden = gated[gated["suppressed"] & (gated["n"] >= rule.min_n)]
    assert len(hidden), "the complementary rule hides a group above the minimum"
    target = hidden.iloc[0]
    visible = gated[~gated["suppressed"]].iloc[0]
    with pytest.raises(PrivacyError, match="suppressed"):
        metrics.compare(
            store,
            "enps",
            a={"unit_id": target["unit_id"], "role": target["role"]},
            b={"unit_id": visible["unit_id"], "role": visible["role"]},
            rule=rule,
        )


def test_employee_groups_must_be_single_cells(store, company):
    units = sorted({k[0] for k in company.groups("enps", ("unit_id",))})
    with pytest.raises(PrivacyError, match="same columns"):
        metrics.compare(store, "enps", a={"unit_id": units[0]}, b={"role": "manager"})
    with pytest.raises(PrivacyError, match="one value per column"):
        metrics.compare(
            store, "enps", a={"unit_id": units[:2]}, b={"unit_id": units[2]}
        )


def test_employee_filters_outside_by_are_refused(store):
    # enps of a region minus enps of "the region without unit X" would reveal X.
    with pytest.raises(PrivacyError, match="add unit_id to by"):
        metrics.enps(store, by=("region",), where={"unit_id": ["b1", "b2"]})


def test_empty_group_and_wrong_test_are_input_errors(duckdb_store):
    with pytest.raises(InputError, match="no answers match a="):
        metrics.compare(duckdb_store, "nps", a={"channel": "web"}, b={"channel": "app"})
    with pytest.raises(InputError, match="accepted: welch"):
        metrics.compare(duckdb_store, "ces", a={}, b={}, test="wald")
