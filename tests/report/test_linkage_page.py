"""The report's linkage page (src/excx/report/linkage.py)."""

from __future__ import annotations

import datetime as dt
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from scipy import stats

import excx.metrics
from excx import synth
from excx.linkage.link import link
from excx.report import write_report
from excx.report.linkage import fit_band, unit_points


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("linkage")
    store = excx.connect(f"duckdb://{folder / 'excx.duckdb'}")
    store.init()
    store.write(synth.generate("small", seed=4).tables)
    store.write(_tiny_unit())
    write_report(store, folder / "report", linkage=link(store, n_boot=200))
    yield store, folder / "report"
    store.close()


def _tiny_unit() -> dict[str, pa.Table]:
    """A branch with 3 employee answers in all: hidden however it is grouped."""
    employees = pa.table(
        {
            "response_id": ["tiny-e1", "tiny-e2", "tiny-e3"],
            "unit_id": ["R1-TINY"] * 3,
            "submitted_at": [dt.datetime(2025, 3, 2)] * 3,
            "enps": pa.array([10, 9, 2], pa.int16()),
        }
    )
    customers = pa.table(
        {
            "response_id": [f"tiny-c{i}" for i in range(30)],
            "unit_id": ["R1-TINY"] * 30,
            "submitted_at": [dt.datetime(2025, 3, 3)] * 30,
            "channel": ["store"] * 30,
            "served_by": ["human"] * 30,
            "nps": pa.array([9, 3, 10] * 10, pa.int16()),
        }
    )
    unit = pa.table(
        {
            "unit_id": ["R1-TINY"],
            "name": ["Tiny branch"],
            "parent_id": ["R1"],
            "kind": ["branch"],
            "region": ["North"],
        }
    )
    return {
        "units": unit,
        "employee_responses": employees,
        "customer_responses": customers,
    }


def _specs(html: str) -> dict:
    text = re.search(r'id="excx-specs">(.*?)</script>', html, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def test_the_main_page_links_to_the_linkage_page(page):
    _, out = page
    assert 'href="linkage.html"' in (out / "index.html").read_text()
    html = (out / "linkage.html").read_text()
    assert set(_specs(html)) == {"scatter", "coefficients"}
    assert "chain_money" in html


def test_the_page_loads_nothing_from_the_network(page):
    _, out = page
    html = (out / "linkage.html").read_text()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert sources and all(s.startswith("vendor/") for s in sources)
    # The only URLs are the Vega-Lite "$schema" identifiers, which nothing fetches.
    urls = set(re.findall(r'https?://[^"\s]+', html))
    assert all(u.startswith("https://vega.github.io/schema/") for u in urls)


def test_units_hidden_by_the_privacy_gate_are_not_drawn(page):
    store, out = page
    gated = excx.metrics.enps(store, by=("unit_id",))
    hidden = set(gated.loc[gated["suppressed"], "unit_id"])
    assert "R1-TINY" in hidden and len(hidden) >= 2

    scatter = _specs((out / "linkage.html").read_text())["scatter"]
    drawn = {
        row["unit_id"]
        for rows in scatter["datasets"].values()
        for row in rows
        if "unit_id" in row
    }
    assert drawn and not drawn & hidden
    assert drawn == set(unit_points(store)["unit_id"])


def test_fit_band_matches_scipy_linregress():
    rng = np.random.default_rng(5)
    units = pd.DataFrame({"enps": rng.normal(10, 15, 40)})
    units["nps"] = 3 + 0.4 * units["enps"] + rng.normal(0, 5, 40)
    band = fit_band(units)
    reference = stats.linregress(units["enps"], units["nps"])
    expected = reference.intercept + reference.slope * band["enps"]
    np.testing.assert_allclose(band["fit"], expected)
    assert (band["low"] < band["fit"]).all() and (band["fit"] < band["high"]).all()
