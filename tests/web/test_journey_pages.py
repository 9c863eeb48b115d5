"""The journey and human-touch pages over HTTP: access, figures, privacy, escaping.

Expected figures are the library's on the same store (``phase_kpis``,
``activity_effects``, ``prefers_person``, ``common_paths``, ``handoff_effect``):
the pages must show its numbers, never their own.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

import excx
from excx.api import Settings, create_app
from excx.api.deps import subtree
from excx.api.users import add_user
from excx.channels.human_touch import handoff_effect, prefers_person
from excx.channels.journeys import common_paths
from excx.errors import InputError
from excx.journey import programme
from excx.journey.phases import phase_kpis
from excx.journey.synth import INITIATIVE_ID
from excx.report.journey import activity_effects, phase_status
from excx.schema import PHASES
from tests.journey.test_phases import SIZES, _answers
from tests.web.conftest import NORTH, NORTH_ACTIVITY, NORTH_NAME, PASSWORD, SECRET

ROLE_USERS = {"admin": "ada", "analyst": "ann", "manager": "max", "viewer": "val"}
# page -> roles admitted (a manager within their subtree): see excx.web.pages
ACCESS = {
    "/dashboard/journey": ("admin", "analyst", "manager"),
    "/dashboard/human-touch": ("admin", "analyst", "manager", "viewer"),
}
CASES = [(page, role) for page in ACCESS for role in ROLE_USERS]
KPI_ROW = re.compile(
    r'<tr data-kpi="([^"]*)" data-unit="([^"]*)">\s*<td>[^<]*</td><td>[^<]*</td>'
    r"<td>([^<]*)</td><td>([^<]*)</td>\s*<td[^>]*>([^<]*)</td>"
)


@pytest.fixture
def small_app(store, store_url):
    """An app over the hand-made company of tests/journey/test_phases (no
    interaction logs, no customer answers) with initiative ``crm`` over its four
    units; ``get`` as a logged-in admin."""
    responses, items = _answers()
    units = {"unit_id": list(SIZES), "name": list(SIZES), "kind": ["branch"] * 4}
    store.write(
        {
            "units": pa.table(units),
            "employee_responses": responses,
            "employee_items": items,
        }
    )
    programme.add_initiative(
        store,
        name="CRM",
        starts_on="2025-02-01",
        ends_on="2025-05-31",
        initiative_id="crm",
    )
    programme.add_activity(
        store,
        "crm",
        phase="activate",
        name="Pilot",
        units=list(SIZES),
        starts_on="2025-02-01",
        ends_on="2025-03-31",
    )
    add_user(store, "ada", PASSWORD, role="admin")
    app = create_app(Settings(store=store_url, secret_key=SECRET))
    with TestClient(app) as client:
        answer = client.post(
            "/api/v1/login", json={"username": "ada", "password": PASSWORD}
        )
        assert answer.status_code == 200, answer.text
        yield SimpleNamespace(get=client.get, store_url=store_url)


def _figure(value, digits: int = 1) -> str:
    """A number as the dashboard's ``number`` filter writes it."""
    return "–" if value is None or value != value else f"{value:.{digits}f}"


@pytest.mark.parametrize(("page", "role"), CASES)
def test_each_role_is_admitted_or_refused(live, page, role):
    with live.client(ROLE_USERS[role]) as client:
        answer = client.get(page)
    if role in ACCESS[page]:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 403
        assert "may not use this route" in answer.text


@pytest.mark.parametrize("role", ROLE_USERS)
def test_the_nav_links_only_the_pages_a_role_may_open(live, role):
    with live.client(ROLE_USERS[role]) as client:
        nav = client.get("/dashboard/human-touch").text.split("</nav>")[0]
    for page, admitted in ACCESS.items():
        assert (f'href="{page}"' in nav) == (role in admitted)


def test_the_journey_page_shows_the_phases_kpis_and_effects(live):
    with live.client("ann") as analyst:
        html = analyst.get(f"/dashboard/journey?initiative={INITIATIVE_ID}").text
    with excx.connect(live.store_url) as store:
        acts = programme.activities(store, initiative_id=INITIATIVE_ID)
        status = phase_status(acts)
        kpis = phase_kpis(store, INITIATIVE_ID)
        effects, notes = activity_effects(store, INITIATIVE_ID)

    cards = re.findall(r'<article class="phase" data-phase="(\w+)" data-status', html)
    assert cards == list(PHASES)
    for row in status.itertuples():
        assert f'data-phase="{row.phase}" data-status="{row.status}"' in html
    assert 'data-phase="activate" data-status="active"' in html

    expected = [
        (
            k.kpi,
            k.unit_id if isinstance(k.unit_id, str) else "",
            "" if k.period is None or k.period != k.period else str(k.period)[:10],
            _figure(k.n, 0),
            "suppressed" if k.suppressed else _figure(k.value),
        )
        for k in kpis.itertuples()
    ]
    assert KPI_ROW.findall(html) == expected and len(expected) > 10

    did = effects[effects["term"] == "did"]
    assert set(did["outcome"]) == {"enps", "nps"}
    for e in did.itertuples():
        row = html.split(f'data-activity="{e.activity_id}" data-outcome="{e.outcome}"')
        cells = f"<td>{e.outcome}</td><td>{e.estimate:.2f}</td>"
        assert cells in row[1].split("</tr>")[0]
    for note in notes["note"]:
        assert str(escape(note)) in html
    events = effects[effects["term"] == "event"]
    assert (
        html.count('class="chart"')
        == events.groupby(["activity_id", "outcome"]).ngroups
    )


def test_suppressed_kpis_are_shown_as_suppressed(small_app):
    """The hand-made company of tests/journey/test_phases: b4 is under the
    threshold in the baseline month and b2 hidden with it."""
    html = small_app.get("/dashboard/journey").text
    with excx.connect(small_app.store_url) as store:
        kpis = phase_kpis(store, "crm")
    hidden = kpis[kpis["suppressed"]]
    assert set(hidden["unit_id"]) == {"b2", "b4"}
    shown = [row for row in KPI_ROW.findall(html) if row[4] == "suppressed"]
    assert [(r[0], r[1]) for r in shown] == list(
        zip(hidden["kpi"], hidden["unit_id"], strict=True)
    )
    assert html.count('data-suppressed="true"') == len(hidden)


def test_a_manager_opens_only_initiatives_within_their_subtree(live):
    with live.client("max") as manager:
        default = manager.get("/dashboard/journey")
        outside = manager.get(f"/dashboard/journey?initiative={INITIATIVE_ID}")
    choice = default.text.split('name="initiative"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([^"]+)"', choice) == [NORTH]
    assert f'data-initiative="{NORTH}"' in default.text
    assert outside.status_code == 403 and "outside your subtree" in outside.text
    assert "data-phase" not in outside.text


def test_an_unknown_initiative_is_refused_with_the_ids_accepted(live):
    with live.client("ada") as admin:
        answer = admin.get("/dashboard/journey?initiative=%3Cb%3Enope")
    assert answer.status_code == 422
    assert f"accepted: {NORTH}, {INITIATIVE_ID}" in answer.text
    assert "<b>nope" not in answer.text


def test_initiative_and_activity_names_are_escaped(live):
    with live.client("ada") as admin:
        html = admin.get(f"/dashboard/journey?initiative={NORTH}").text
    assert str(escape(NORTH_NAME)) in html and str(escape(NORTH_ACTIVITY)) in html
    assert "<script>alert(" not in html and "<img src=x" not in html
    # The event-study titles carry the activity name inside JSON: no raw markup.
    assert "\\u003cimg src=x onerror=alert(1)\\u003e rota" in html


def test_human_touch_shows_the_library_figures(live):
    with live.client("val") as viewer:
        html = viewer.get("/dashboard/human-touch").text
    with excx.connect(live.store_url) as store:
        overall = prefers_person(store).iloc[0]
        paths = common_paths(store, top=10)
        handoff = handoff_effect(store)

    headline = re.search(r'class="headline" data-value="([^"]+)">([^<]*)<', html)
    assert float(headline[1]) == pytest.approx(overall["value"])
    assert headline[2].startswith(f"{overall['value']:.1f}% of {overall['n']} ")
    assert re.findall(r'<tr data-path="([^"]+)">', html) == [
        str(escape(p)) for p in paths["path"]
    ]
    for p in paths.itertuples():
        row = html.split(f'<tr data-path="{escape(p.path)}">')[1].split("</tr>")[0]
        assert f"<td>{p.journeys}</td>" in row and f"<td>{_figure(p.value)}</td>" in row
    for h in handoff.itertuples():
        row = html.split(f'<tr data-term="{h.term}">')[1].split("</tr>")[0]
        assert f"<td>{h.estimate:.2f}</td>" in row
    assert handoff.set_index("term").loc["handoff", "ci_high"] < 0  # a set cost
    assert 'name="channel"' not in html  # a journey crosses channels


@pytest.mark.parametrize(
    ("user", "query", "unit", "between"),
    [
        ("max", "", "R1", None),
        ("ada", "?unit=R2&period=2026-03-01", "R2", ("2026-03-01", "2026-04-01")),
    ],
)
def test_human_touch_keeps_to_the_selected_units_and_period(
    live, user, query, unit, between
):
    with live.client(user) as client:
        html = client.get(f"/dashboard/human-touch{query}").text
    with excx.connect(live.store_url) as store:
        selection = {"units": subtree(store, unit), "between": between}
        overall = prefers_person(store, **selection).iloc[0]
        paths = common_paths(store, top=10, **selection)
        try:
            handoff, reason = handoff_effect(store, **selection), None
        except InputError as exc:
            handoff, reason = None, str(exc)
    assert f"{overall['value']:.1f}% of {overall['n']} customers" in html
    shown = re.findall(r'<tr data-path="[^"]+"><td>[^<]*</td><td>(\d+)</td>', html)
    assert [int(n) for n in shown] == paths["journeys"].tolist()
    if handoff is None:
        assert str(escape(reason)) in html
    else:
        estimate = handoff.set_index("term").loc["handoff", "estimate"]
        assert f"<td>{estimate:.2f}</td>" in html


def test_a_manager_is_refused_human_touch_outside_the_subtree(live):
    with live.client("max") as manager:
        answer = manager.get("/dashboard/human-touch?unit=R2")
    assert answer.status_code == 403 and "outside your subtree" in answer.text


def test_human_touch_without_interaction_logs_says_so(small_app):
    html = small_app.get("/dashboard/human-touch").text
    assert "No interaction logs imported" in html
    assert "No customer in this selection answered" in html
    assert 'class="figures paths"' not in html
