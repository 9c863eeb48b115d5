"""The report's journey page (src/excx/report/journey.py), on the synthetic bank.

The page is written once (DuckDB); its figures are read back from the
``data-value`` attributes and the embedded Vega-Lite specs and compared with the
library calls that produced them.
"""

from __future__ import annotations

import json
import re
from html import escape

import pandas as pd
import pytest

import excx
from excx.journey import maturity, programme
from excx.journey.did import did
from excx.journey.phases import phase_kpis
from excx.journey.synth import programme as synthetic_programme
from excx.report.html import VENDOR_FILES
from excx.report.journey import phase_status, write_journey_page
from excx.synth import generate

INITIATIVE = "ini-omnichannel"
ANSWERS = {item: 4 for item in maturity.ITEMS} | {"budget_1": 1, "budget_2": 2}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("journey")
    store = excx.connect(f"duckdb://{folder / 'excx.duckdb'}")
    store.init()
    company = generate("small", seed=0)
    tables, truth = synthetic_programme(company, enps_effect=10.0)
    store.write(dict(company.tables) | tables)
    # A Tell activity in a region unit, which has no answers of its own: no DiD.
    programme.add_activity(
        store,
        INITIATIVE,
        phase="tell",
        name="Town halls",
        units=["R1"],
        starts_on=truth.starts_on,
        ends_on=truth.starts_on,
        activity_id="act-town-halls",
    )
    maturity.record(store, ANSWERS, assessment_id="m-1")
    out = write_journey_page(store, INITIATIVE, folder / "report")
    yield store, out, truth
    store.close()


def _specs(html: str) -> dict:
    text = re.search(r'id="excx-specs">(.*?)</script>', html, re.S).group(1)
    return json.loads(text.replace("<\\/", "</"))


def _section(html: str, section_id: str) -> str:
    start = html.index(f'<section id="{section_id}">')
    end = html.find('<section id="', start + 1)
    return html[start : end if end > 0 else len(html)]


def test_files_written_and_nothing_loaded_from_the_network(page):
    _, out, _ = page
    assert out.name == "journey.html"
    assert all((out.parent / "vendor" / name).exists() for name in VENDOR_FILES)
    html = out.read_text()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert sources and all(s.startswith("vendor/") for s in sources)
    urls = set(re.findall(r'https?://[^"\s<]+', html))
    assert all(u.startswith("https://vega.github.io/schema/") for u in urls)


def test_six_phases_with_their_status(page):
    store, out, _ = page
    cards = re.findall(r'data-phase="(\w+)" data-status="([\w ]+)"', out.read_text())
    expected = phase_status(programme.activities(store, initiative_id=INITIATIVE))
    assert cards == list(
        expected[["phase", "status"]].itertuples(index=False, name=None)
    )
    assert dict(cards) == {
        "know": "not started",
        "tell": "planned",
        "activate": "active",  # the synthetic pilot is active
        "reward": "not started",
        "listen": "not started",
        "measure": "not started",
    }


def test_kpis_equal_phase_kpis(page):
    store, out, _ = page
    section = _section(out.read_text(), "kpis")
    shown = re.findall(
        r'<tr data-kpi="([^"]*)" data-unit="([^"]*)">(?:<td>[^<]*</td>){4}'
        r'<td (?:data-value="([^"]+)"|class="(suppressed|missing)")',
        section,
    )
    expected = phase_kpis(store, INITIATIVE)
    assert len(shown) == len(expected) > 20
    assert [k for k, *_ in shown] == list(expected["kpi"])
    values = [float(v) if v else float("nan") for _, _, v, _ in shown]
    reference = expected["value"].where(~expected["suppressed"].astype(bool))
    assert values == pytest.approx(reference.tolist(), nan_ok=True)
    hidden = [flag == "suppressed" for *_, flag in shown]
    assert hidden == expected["suppressed"].astype(bool).tolist()


def test_effects_equal_did_and_say_why_not(page):
    store, out, truth = page
    html = out.read_text()
    effects = _section(html, "effects")
    shown = dict(
        re.findall(
            r'data-activity="act-pilot" data-outcome="(\w+)">'
            r'<td>[^<]*</td><td>\w+</td><td data-value="([^"]+)"',
            effects,
        )
    )
    for outcome in ("enps", "nps"):
        expected = did(store, truth.activity_id, outcome=outcome)
        assert float(shown[outcome]) == pytest.approx(
            expected.effect["estimate"].iloc[0]
        )
    # The DiD of the town halls fails in the library; the page gives its reason.
    assert "Town halls</b>, enps: none of the activity&#x27;s units" in effects

    specs = _specs(html)
    assert set(specs) == {"event-0", "event-1"}
    expected = did(store, truth.activity_id, outcome="enps").event_study
    rows = [
        row
        for spec in specs.values()
        if "(act-pilot): enps" in json.dumps(spec)
        for data in spec["datasets"].values()
        for row in data
        if "relative_period" in row
    ]
    assert [r["relative_period"] for r in rows] == list(expected["relative_period"])
    drawn = pd.Series([r["ci_low"] for r in rows], dtype=float)
    assert drawn.tolist() == pytest.approx(expected["ci_low"].tolist(), nan_ok=True)


def test_maturity_profile_of_the_stored_assessment(page):
    _, out, _ = page
    section = _section(out.read_text(), "maturity")
    assert "Assessment m-1" in section
    shown = re.findall(r'data-dimension="(\w+)">.*?data-value="([^"]+)"', section)
    expected = maturity.score(ANSWERS)
    assert [d for d, _ in shown] == list(expected["dimension"])
    assert [float(v) for _, v in shown] == pytest.approx(list(expected["value"]))
    assert escape(expected["recommendation"].iloc[0]) in section


def test_unknown_initiative_is_refused(duckdb_store, tmp_path):
    with pytest.raises(excx.errors.InputError, match="'nope' does not exist"):
        write_journey_page(duckdb_store, "nope", tmp_path)
    assert not (tmp_path / "journey.html").exists()
