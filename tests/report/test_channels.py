"""The report's human-touch page (src/excx/report/channels.py).

Written once on the synthetic bank with interaction logs (excx.channels.synth)
and a "prefers_person" item; its figures are read back from the ``data-value``
attributes and compared with the library calls that produced them.
"""

from __future__ import annotations

import re
from html import unescape

import numpy as np
import pyarrow as pa
import pytest

import excx
from excx.channels import human_touch, journeys
from excx.channels.synth import interactions
from excx.report.channels import write_human_touch_page
from excx.report.html import VENDOR_FILES
from excx.synth import generate


def _preference_items(customers: pa.Table) -> pa.Table:
    """A "prefers_person" answer (1–5 in turn) on every fourth customer response."""
    ids = customers.column("response_id").to_numpy(zero_copy_only=False)[::4]
    return pa.table(
        {
            "response_id": ids,
            "item_id": ["prefers_person"] * len(ids),
            "value": (np.arange(len(ids)) % 5 + 1).astype("int16"),
        }
    )


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("human_touch")
    store = excx.connect(f"duckdb://{folder / 'excx.duckdb'}")
    store.init()
    company = generate("small", seed=0)
    tables, truth = interactions(company, handoff_cost=15.0)
    items = _preference_items(tables["customer_responses"])
    store.write(dict(company.tables) | tables | {"customer_items": items})
    out = write_human_touch_page(store, folder / "report", top=5)
    yield store, out, truth
    store.close()


def _values(html: str, row_pattern: str) -> list[tuple]:
    """(row attributes..., value) of the rows matching `row_pattern`."""
    pattern = row_pattern + r'.*?<td (?:data-value="([^"]+)"|class="suppressed")'
    return re.findall(pattern, html)


def test_files_written_and_nothing_loaded_from_the_network(page):
    _, out, _ = page
    assert out.name == "human_touch.html"
    assert all((out.parent / "vendor" / name).exists() for name in VENDOR_FILES)
    html = out.read_text()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert sources and all(s.startswith("vendor/") for s in sources)
    urls = set(re.findall(r'https?://[^"\s<]+', html))
    assert all(u.startswith("https://vega.github.io/schema/") for u in urls)
    for section in ("kpis", "prefers", "paths", "handoff"):
        assert f'<section id="{section}">' in html
    for chart in ("kpi-nps", "kpi-csat", "kpi-ces"):
        assert f'<div id="{chart}"></div>' in html


def test_kpis_by_channel_equal_the_library(page):
    store, out, _ = page
    shown = _values(
        out.read_text(),
        r'<tr data-kpi="(\w+)" data-channel="(\w*)" data-served-by="(\w*)">',
    )
    expected = human_touch.by_channel(store)
    assert [s[:3] for s in shown] == list(
        expected[["kpi", "channel", "served_by"]].itertuples(index=False, name=None)
    )
    assert [float(s[3]) for s in shown] == pytest.approx(list(expected["value"]))


def test_preference_paths_and_handoff_equal_the_library(page):
    store, out, truth = page
    html = out.read_text()

    overall = human_touch.prefers_person(store)
    headline = re.search(r'class="headline" data-value="([^"]+)"', html).group(1)
    assert float(headline) == pytest.approx(overall["value"].iloc[0])
    # Answers 1..5 in turn, 4 and 5 count: 2 of every 5 (40 %) prefer a person.
    assert float(headline) == pytest.approx(40, abs=0.1)
    shown = _values(html, r'<tr data-channel="(\w+)" data-served-by="(\w+)">')
    expected = human_touch.prefers_person(store, by=["channel", "served_by"])
    assert [float(v) for *_, v in shown] == pytest.approx(list(expected["value"]))

    paths = _values(html, r'<tr data-path="([^"]+)">')
    expected = journeys.common_paths(store, top=5)
    assert [unescape(p) for p, _ in paths] == list(expected["path"])
    assert [float(v) for _, v in paths] == pytest.approx(list(expected["value"]))

    handoff = _values(html, r'<tr data-term="(\w+)">')
    expected = human_touch.handoff_effect(store)
    assert [t for t, _ in handoff] == ["handoff", "handoff_x_enps"]
    assert [float(v) for _, v in handoff] == pytest.approx(list(expected["estimate"]))
    # The set cost is 15 points (excx.channels.synth): the interval covers −15.
    assert (
        expected["ci_low"].iloc[0] < -truth.handoff_cost < expected["ci_high"].iloc[0]
    )


def test_an_empty_store_says_what_is_missing(duckdb_store, tmp_path):
    html = write_human_touch_page(duckdb_store, tmp_path).read_text()
    assert "No customer answers." in html
    assert "No interaction logs imported." in html
    assert "No hand-off estimate: no answered journeys of both kinds" in html
    assert "No customer answered the item" in html
