from __future__ import annotations

import datetime as dt
import importlib
import math
import warnings

import pyarrow as pa
import pytest

import excx.metrics as metrics
from excx.errors import InputError, SmallSampleWarning

COLUMNS = ["kpi", "n", "value", "ci_low", "ci_high", "suppressed"]


def _keyed(frame, by):
    """Group key tuple -> (n, value, ci_low, ci_high, suppressed)."""
    out = {}
    for row in frame.to_dict("records"):
        key = tuple(None if _missing(row[c]) else row[c] for c in by)
        out[key] = (
            row["n"],
            row["value"],
            row["ci_low"],
            row["ci_high"],
            row["suppressed"],
        )
    return out


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _assert_matches_oracle(frame, expected, by, *, gated):
    got = _keyed(frame, by)
    assert set(got) == set(expected)
    shown = 0
    for key, (n, value, low, high) in expected.items():
        g_n, g_value, g_low, g_high, suppressed = got[key]
        assert g_n == n, key
        if suppressed:
            assert gated and all(_missing(v) for v in (g_value, g_low, g_high))
            continue
        shown += 1
        for mine, theirs in ((g_value, value), (g_low, low), (g_high, high)):
            if math.isnan(theirs):
                assert _missing(mine)
            else:
                assert mine == pytest.approx(theirs, rel=1e-9, abs=1e-9), key
    assert shown > 0


# --- hand-computed tiny data ------------------------------------------------------


def _customers(store, column, answers, **extra):
    rows = [
        {
            "response_id": f"r{i}",
            "submitted_at": dt.datetime(2026, 1, 10),
            "channel": "web",
            "served_by": "self_service",
            column: a,
            **extra,
        }
        for i, a in enumerate(answers)
    ]
    store.write({"customer_responses": pa.Table.from_pylist(rows)})


def test_nps_hand_computed(store):
    # answers 10,10,9,9,9 | 8,7 | 6,2,0 (+ one missing): n=10, P=5, D=3
    # NPS = 100 * (5 - 3) / 10 = 20
    # adjusted Wald: p=(5+.75)/13=.442308, d=(3+.75)/13=.288462, c=.153846,
    # Var=(p+d-c^2)/13=.054392, half=1.959964*sqrt(Var)=.457104
    # -> 100*(c -/+ half) = (-30.326, 61.095)
    _customers(store, "nps", [10, 10, 9, 9, 9, 8, 7, 6, 2, 0, None])
    frame = metrics.nps(store)
    assert list(frame.columns) == COLUMNS
    row = frame.iloc[0]
    assert row["n"] == 10
    assert row["value"] == pytest.approx(20.0)
    assert row["ci_low"] == pytest.approx(-30.32599, abs=1e-4)
    assert row["ci_high"] == pytest.approx(61.09523, abs=1e-4)
    assert not row["suppressed"]

    # Wald: p=.5, d=.3, Var=(.8-.04)/10=.076, half=1.959964*.275681=.540325
    wald = metrics.nps(store, ci="wald").iloc[0]
    assert wald["ci_low"] == pytest.approx(-34.03248, abs=1e-4)
    assert wald["ci_high"] == pytest.approx(74.03248, abs=1e-4)


def test_csat_hand_computed_wilson(store):
    # answers 5,5,4,3,1,4,2,5: n=8, satisfied (4-5) = 5 -> 62.5 %
    # Wilson: z^2=3.841459, centre=(.625+z^2/16)/(1+z^2/8)=.584449,
    # half=z*sqrt(.625*.375/8+z^2/256)/(1+z^2/8)=.278708 -> (30.574, 86.316) %
    _customers(store, "csat", [5, 5, 4, 3, 1, 4, 2, 5])
    row = metrics.csat(store).iloc[0]
    assert (row["n"], row["value"]) == (8, pytest.approx(62.5))
    assert row["ci_low"] == pytest.approx(30.57424, abs=1e-4)
    assert row["ci_high"] == pytest.approx(86.31557, abs=1e-4)


def test_ces_hand_computed_t_interval_clipped_to_scale(store):
    # answers 1,2,3,7,7: mean 4, squared deviations 9+4+1+9+9=32, var=8,
    # se=sqrt(8/5)=1.264911, t(4, .975)=2.776445, half=3.511939
    # -> (0.488, 7.512), clipped to the 1..7 scale -> (1, 7)
    _customers(store, "ces", [1, 2, 3, 7, 7])
    row = metrics.ces(store).iloc[0]
    assert row["value"] == pytest.approx(4.0)
    assert (row["ci_low"], row["ci_high"]) == (1.0, 7.0)
    unclipped = metrics.ces(store, level=0.5).iloc[0]
    # t(4, .75) = 0.740697 -> 4 -/+ 0.740697 * 1.264911 = (3.063083, 4.936917)
    assert unclipped["ci_low"] == pytest.approx(3.063083, abs=1e-5)


def _employees(store, enps, items=None, unit="b1"):
    store.write(
        {
            "units": pa.table({"unit_id": [unit], "name": [unit], "kind": ["branch"]}),
            "employee_responses": pa.Table.from_pylist(
                [
                    {
                        "response_id": f"e{i}",
                        "unit_id": unit,
                        "submitted_at": dt.datetime(2026, 3, 2),
                        "enps": score,
                        "role": "agent",
                    }
                    for i, score in enumerate(enps)
                ]
            ),
            "employee_items": pa.Table.from_pylist(
                [
                    {"response_id": f"e{i}", "item_id": f"q{j}", "value": v}
                    for i, values in enumerate(items or [])
                    for j, v in enumerate(values)
                ]
            ),
        }
    )


def test_enps_hand_computed(store):
    # eNPS answers 10,9,9,7,3,0: n=6, P=3, D=2 -> 100*(3-2)/6 = 16.667
    # adjusted: p=3.75/9=.416667, d=2.75/9=.305556, c=.111111,
    # Var=(.722222-.012346)/9=.078875, half=1.959964*.280847=.550446
    # -> (-43.934, 66.156)
    _employees(store, [10, 9, 9, 7, 3, 0])
    row = metrics.enps(store, by=("unit_id",)).iloc[0]
    assert (row["unit_id"], row["n"], row["suppressed"]) == ("b1", 6, False)
    assert row["value"] == pytest.approx(100 / 6)
    assert row["ci_low"] == pytest.approx(-43.93394, abs=1e-4)
    assert row["ci_high"] == pytest.approx(66.15616, abs=1e-4)


def test_engagement_hand_computed_with_alpha(store):
    # items (q0, q1) per respondent: (5,5) (4,4) (3,5) (1,3) (2,2)
    # respondent index (mean-1)/4*100: 100, 75, 75, 25, 25 -> mean 60
    # squared deviations 1600+225+225+1225+1225=4500, var=1125, se=15,
    # t(4,.975)=2.776445 -> (18.353, 101.647), clipped to 0..100 -> high 100
    # alpha: var(q0)=2.5, var(q1)=1.7, var(total)=7.2 (totals 10,8,8,4,4)
    # -> 2/1 * (1 - 4.2/7.2) = 0.833333
    _employees(store, [None] * 5, items=[(5, 5), (4, 4), (3, 5), (1, 3), (2, 2)])
    frame = metrics.engagement(store)
    row = frame.iloc[0]
    assert (row["n"], row["value"]) == (5, pytest.approx(60.0))
    assert row["ci_low"] == pytest.approx(18.35332, abs=1e-4)
    assert row["ci_high"] == 100.0
    assert frame.attrs["cronbach_alpha"] == pytest.approx(0.833333, abs=1e-6)


def test_small_employee_group_is_suppressed_not_dropped(store):
    _employees(store, [10, 9, 3])
    row = metrics.enps(store, by=("unit_id",)).iloc[0]
    assert (row["n"], row["suppressed"]) == (3, True)
    assert all(_missing(row[c]) for c in ("value", "ci_low", "ci_high"))


def test_single_answer_mean_warns_and_has_no_interval(store):
    _customers(store, "ces", [5])
    with pytest.warns(SmallSampleWarning, match="1 group"):
        row = metrics.ces(store).iloc[0]
    assert row["value"] == 5 and _missing(row["ci_low"])


def test_single_employee_answer_is_not_announced_by_a_warning(store):
    # The group of one is suppressed; a warning counting such groups would tell
    # the reader that a unit has exactly one respondent.
    _employees(store, [10], items=[(4, 5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        row = metrics.engagement(store, by=("unit_id",)).iloc[0]
    assert bool(row["suppressed"]) and _missing(row["value"])


# --- every KPI against the plain-Python oracle, on both engines --------------------

GROUPINGS = {
    "nps": [(), ("unit_id",), ("region", "channel"), ("served_by", "period")],
    "csat": [("channel",), ("unit_id", "period")],
    "ces": [("served_by",), ("region", "period")],
    "enps": [(), ("unit_id",), ("role",), ("region", "period")],
    "engagement": [(), ("unit_id",), ("role",)],
}


@pytest.mark.parametrize("kpi", list(GROUPINGS))
def test_kpi_matches_python_oracle(store, company, kpi):
    gated = kpi in ("enps", "engagement")
    for by in GROUPINGS[kpi]:
        frame = metrics.compute(store, kpi, by=by)
        assert list(frame.columns) == list(by) + COLUMNS
        _assert_matches_oracle(frame, company.oracle(kpi, by), by, gated=gated)


@pytest.mark.parametrize(
    ("kpi", "by"),
    [("nps", ("unit_id", "period")), ("csat", ("channel",)), ("ces", ("region",))],
)
def test_intervals_computed_a_slice_of_groups_at_a_time_match_the_oracle(
    store, company, kpi, by, monkeypatch
):
    compute_module = importlib.import_module("excx.metrics.compute")
    monkeypatch.setattr(compute_module, "_SLICE", 2)
    frame = metrics.compute(store, kpi, by=by)
    assert len(frame) > 2  # more than one slice
    _assert_matches_oracle(frame, company.oracle(kpi, by), by, gated=False)


@pytest.mark.parametrize("grain", ["quarter", "year"])
def test_period_grains(store, company, grain):
    frame = metrics.nps(store, by=("period",), period=grain)
    expected = company.oracle("nps", ("period",), period=grain)
    _assert_matches_oracle(frame, expected, ("period",), gated=False)
    assert frame["period"].str.fullmatch(r"\d{4}-\d{2}-01").all()


def test_rollup_covers_each_units_subtree(store, company):
    frame = metrics.nps(store, by=("unit_id",), rollup=True)
    expected = company.oracle("nps", ("unit_id",), rollup=True)
    _assert_matches_oracle(frame, expected, ("unit_id",), gated=False)
    n = dict(zip(frame["unit_id"].fillna("<none>"), frame["n"], strict=True))
    assert n["co"] == n["north"] + n["south"]
    assert n["cc"] == n["t1"] + n["t2"]
    assert n["<none>"] > 0  # digital self-service answers stay under unit_id null


def test_rollup_of_employee_kpi_passes_the_gate(store, company):
    frame = metrics.enps(store, by=("unit_id",), rollup=True)
    expected = company.oracle("enps", ("unit_id",), rollup=True)
    _assert_matches_oracle(frame, expected, ("unit_id",), gated=True)


def test_where_selects_groups_and_restricts_answers(store, company):
    by = ("unit_id", "channel")
    frame = metrics.csat(
        store, by=by, where={"unit_id": ["b1", None], "channel": "web"}
    )
    expected = {
        k: v
        for k, v in company.oracle("csat", by).items()
        if k[0] in ("b1", None) and k[1] == "web"
    }
    _assert_matches_oracle(frame, expected, by, gated=False)

    restricted = metrics.csat(store, by=("channel",), where={"period": "2026-01-01"})
    january = {
        (k[0],): v
        for k, v in company.oracle("csat", ("channel", "period")).items()
        if k[1] == "2026-01-01"
    }
    _assert_matches_oracle(restricted, january, ("channel",), gated=False)


def test_bootstrap_is_seeded_and_close_to_wald_for_large_groups(store, company):
    def by_unit(**options):  # rows come back in no particular order
        frame = metrics.nps(store, by=("unit_id",), **options)
        return frame.sort_values("unit_id", ignore_index=True)

    first = by_unit(ci="bootstrap", seed=3)
    again = by_unit(ci="bootstrap", seed=3)
    assert first.equals(again)
    wald = by_unit(ci="wald")
    # ~300 answers per unit: percentile bootstrap and Wald agree within a few points
    assert (first["ci_low"] - wald["ci_low"]).abs().max() < 4
    assert (first["ci_high"] - wald["ci_high"]).abs().max() < 4


@pytest.mark.parametrize(
    ("kpi", "options", "message"),
    [
        (
            "enps",
            {"by": ("channel",)},
            "accepted by values for enps: unit_id, region, role",
        ),
        (
            "nps",
            {"by": ("role",)},
            "accepted by values for nps: unit_id, region, channel",
        ),
        ("csat", {"ci": "adjusted-wald"}, "accepted: wilson, wald, bootstrap"),
        ("nps", {"period": "week"}, "accepted: month, quarter, year"),
        ("nps", {"rollup": True}, "add unit_id to by"),
        ("nps", {"where": {"period": "January"}}, "period start dates"),
        ("nps", {"level": 95}, "between 0 and 1"),
        ("happiness", {}, "accepted: nps, enps, csat, ces, engagement"),
    ],
)
def test_bad_arguments_say_what_is_accepted(duckdb_store, kpi, options, message):
    with pytest.raises(InputError, match=message):
        metrics.compute(duckdb_store, kpi, **options)
