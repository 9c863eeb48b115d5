"""The HTML report (src/excx/report/html.py): files, offline page, suppressed cells,
chart specs; every figure must be the one excx.metrics returns."""

from __future__ import annotations

import json
import re

import altair as alt
import pytest

import excx
from excx import metrics
from excx.report import KPIS, write_report
from excx.report.html import VENDOR, VENDOR_FILES
from excx.synth import SynthParams, generate

ENPS_COLUMN = 4 + list(KPIS).index("enps")  # after unit_id, name, region, kind


@pytest.fixture(scope="module")
def company():
    # Six months keep the test quick; more small branches make suppressed cells.
    return generate("small", seed=0, params=SynthParams(months=6, small_unit_share=0.5))


@pytest.fixture(scope="module")
def filled(company, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    store = excx.connect(f"duckdb://{folder / 'excx.duckdb'}")
    store.init()
    store.write(company.tables)
    yield store
    store.close()


@pytest.fixture(scope="module")
def page(filled, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "excx-report"
    return write_report(filled, out)


def _specs(html: str) -> dict:
    found = re.search(
        r'<script type="application/json" id="excx-specs">(.*?)</script>', html, re.S
    )
    return json.loads(found.group(1))


def _row_cells(html: str, unit_id: str) -> list[str]:
    row = re.search(rf'<tr data-unit="{re.escape(unit_id)}">(.*?)</tr>', html, re.S)
    return re.findall(r"<td[^>]*>.*?</td>", row.group(1), re.S)


def test_writes_the_page_and_the_vendored_scripts_with_licences(page):
    assert page.name == "index.html" and page.is_file()
    for name in VENDOR_FILES:
        copied = page.parent / "vendor" / name
        assert copied.read_bytes() == (VENDOR / name).read_bytes(), name


def test_the_page_opens_offline(page):
    html = page.read_text()
    sources = re.findall(r'<script[^>]*\bsrc="([^"]*)"', html)
    assert sources == [
        "vendor/vega.min.js",
        "vendor/vega-lite.min.js",
        "vendor/vega-embed.min.js",
    ]
    links = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert not [link for link in links if "http" in link or link.startswith("//")]
    for source in sources:
        assert (page.parent / source).is_file()


def test_suppressed_cells_are_marked_as_metrics_returns_them(filled, page):
    html = page.read_text()
    latest = metrics.nps(filled, by=("period",))["period"].max()
    enps = metrics.enps(filled, by=("unit_id", "period"), where={"period": [latest]})
    assert enps["suppressed"].any() and not enps["suppressed"].all()

    for row in enps.itertuples(index=False):
        cell = _row_cells(html, row.unit_id)[ENPS_COLUMN]
        if row.suppressed:
            assert 'class="suppressed"' in cell and "suppressed" in cell
        else:
            assert 'class="suppressed"' not in cell
            assert f"{row.value:+.1f}" in cell  # the value excx.metrics computed


def test_kpi_cards_show_the_metrics_values(filled, page):
    html = page.read_text()
    for kpi, formatted in (("nps", "{:+.1f}"), ("csat", "{:.1f}%"), ("ces", "{:.2f}")):
        value = metrics.compute(filled, kpi)["value"].iloc[0]
        card = re.search(rf'<div class="kpi" data-kpi="{kpi}">(.*?)</div></div>', html)
        assert formatted.format(value) in card.group(1), kpi


def test_chart_specs_are_valid_vega_lite(page):
    specs = _specs(page.read_text())

    assert set(specs) == {*(f"trend-{kpi}" for kpi in KPIS), "channels"}
    for key, spec in specs.items():
        assert "vega-lite/v6" in spec["$schema"], key
        chart = alt.LayerChart.from_dict(spec, validate=True)
        assert chart.to_dict()["layer"], key
        assert f'<div id="{key}"></div>' in page.read_text()
    marks = [layer["mark"]["type"] for layer in specs["trend-nps"]["layer"]]
    assert marks == ["area", "line"]


def test_trend_band_holds_the_metrics_intervals(filled, page):
    spec = _specs(page.read_text())["trend-enps"]
    rows = spec["datasets"][spec["data"]["name"]]
    expected = metrics.enps(filled, by=("period",))
    assert len(rows) == len(expected) == 6
    assert [r["ci_low"] for r in rows] == pytest.approx(list(expected["ci_low"]))


def test_report_of_an_empty_store(store, tmp_path):
    page = write_report(store, tmp_path / "empty")

    html = page.read_text()
    assert "No answers in the store yet." in html
    assert _specs(html) == {}


def test_report_on_every_backend(store, company, tmp_path):
    # Without employee items: on PostgreSQL, excx.metrics' Cronbach's alpha over
    # the whole store is slow (about a minute here), which is not this test's topic.
    names = ("units", "employee_responses", "customer_responses", "customer_items")
    store.write({name: company.tables[name] for name in names})

    html = write_report(store, tmp_path / "r").read_text()
    specs = _specs(html)
    assert set(specs) == {
        "trend-nps",
        "trend-enps",
        "trend-csat",
        "trend-ces",
        "channels",
    }
    assert 'data-suppressed="true"' in html
    channels = metrics.nps(store, by=("channel", "served_by"))
    rows = specs["channels"]["datasets"][specs["channels"]["data"]["name"]]
    shown = {(r["channel"], r["served_by"]): r["value"] for r in rows}
    computed = {
        (r.channel, r.served_by): r.value for r in channels.itertuples(index=False)
    }
    assert shown.keys() == computed.keys()
    for key, value in computed.items():
        assert shown[key] == pytest.approx(value), key
