"""``/api/v1/journey``: programme records, maturity, phase KPIs and DiD effects.

Every answer is compared with the library call the route wraps; bad input is a
422 carrying the library's message with nothing stored.
"""

from __future__ import annotations

import pytest

from excx.journey import maturity, programme
from excx.journey.did import did
from excx.journey.phases import phase_kpis
from excx.journey.synth import programme as synthetic_programme
from excx.schema import ROLES

BASE = "/api/v1/journey"
READERS = ("admin", "analyst", "manager")
# (method, path, JSON body or None, roles admitted)
ROUTES = [
    ("GET", f"{BASE}/initiatives", None, READERS),
    ("POST", f"{BASE}/initiatives", {}, ("admin",)),
    ("GET", f"{BASE}/activities", None, READERS),
    ("GET", f"{BASE}/recognitions", None, READERS),
    ("GET", f"{BASE}/actions", None, READERS),
    ("POST", f"{BASE}/activities", {}, ("admin",)),
    ("POST", f"{BASE}/recognitions", {}, ("admin",)),
    ("POST", f"{BASE}/actions", {}, ("admin",)),
    ("POST", f"{BASE}/maturity", {}, ("admin", "analyst")),
    ("GET", f"{BASE}/maturity/none", None, ("admin", "analyst")),
    ("GET", f"{BASE}/initiatives/none/kpis", None, READERS),
    ("GET", f"{BASE}/activities/none/effect", None, READERS),
]
CASES = [
    pytest.param(
        method, path, body, role, role in admitted, id=f"{role}-{method}-{path}"
    )
    for method, path, body, admitted in ROUTES
    for role in ROLES
]
TABLES = ("initiatives", "activities", "activity_units", "recognitions")
TABLES += ("feedback_actions", "maturity_answers")


@pytest.mark.parametrize(("method", "path", "body", "role", "admitted"), CASES)
def test_role_refused_or_admitted(bank, method, path, body, role, admitted):
    answer = bank.client.request(method, path, json=body, headers=bank.as_role(role))
    if admitted:
        assert answer.status_code not in (401, 403), answer.text
    else:
        assert answer.status_code == 403, answer.text
        assert "may not use this route" in answer.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body", "admitted"), ROUTES)
def test_anonymous_refused(bank, method, path, body, admitted):
    assert bank.client.request(method, path, json=body).status_code == 401


def _post(api, path, body, role="admin"):
    return api.client.post(f"{BASE}/{path}", json=body, headers=api.as_role(role))


def _get(api, path, role="admin", **params):
    return api.client.get(f"{BASE}/{path}", params=params, headers=api.as_role(role))


def _programme(api):
    """An initiative in the North (R1) and one in the South (R2), via the API."""
    for initiative_id, unit in (("crm-north", "R1-B001"), ("crm-south", "R2-B001")):
        made = _post(
            api,
            "initiatives",
            {
                "name": f"CRM {initiative_id}",
                "starts_on": "2025-01-01",
                "ends_on": "2025-12-31",
                "initiative_id": initiative_id,
            },
        )
        assert made.status_code == 201, made.text
        made = _post(
            api,
            "activities",
            {
                "initiative_id": initiative_id,
                "activity_id": f"{initiative_id}-pilot",
                "phase": "activate",
                "name": "Pilot",
                "units": [unit],
                "starts_on": "2025-03-01",
                "ends_on": "2025-06-30",
                "status": "active",
                "participants": {unit: 4},
                "eligible": {unit: 10},
            },
        )
        assert made.status_code == 201, made.text


def test_programme_records_are_stored_and_listed(fresh):
    _programme(fresh)
    recognition = _post(
        fresh,
        "recognitions",
        {"unit_id": "R1-B001", "period": "2025-04-17", "kind": "award"},
    )
    action = _post(
        fresh,
        "actions",
        {"unit_id": "R1-B001", "description": "Fix rota", "opened_on": "2025-02-01"},
    )
    assert recognition.status_code == action.status_code == 201
    assert fresh.counts(*TABLES) == {
        "initiatives": 2,
        "activities": 2,
        "activity_units": 2,
        "recognitions": 1,
        "feedback_actions": 1,
        "maturity_answers": 0,
    }

    listed = _get(fresh, "initiatives", role="analyst").json()
    expected = programme.initiatives(fresh.store)
    assert [i["initiative_id"] for i in listed] == list(expected["initiative_id"])
    assert [i["units"] for i in listed] == [1, 1]
    activities = _get(fresh, "activities", initiative_id="crm-north").json()
    assert [(a["activity_id"], a["units"], a["participants"]) for a in activities] == [
        ("crm-north-pilot", "R1-B001", 4)
    ]


def test_manager_sees_initiatives_touching_their_subtree(fresh):
    _programme(fresh)
    initiatives = _get(fresh, "initiatives", role="manager").json()
    assert [i["initiative_id"] for i in initiatives] == ["crm-north"]
    activities = _get(fresh, "activities", role="manager").json()
    assert [a["activity_id"] for a in activities] == ["crm-north-pilot"]
    refused = _get(fresh, "initiatives/crm-south/kpis", role="manager")
    assert refused.status_code == 403
    assert "R2-B001" in refused.json()["detail"]
    refused = _get(fresh, "activities/crm-south-pilot/effect", role="manager")
    assert refused.status_code == 403


def _unit_records(api):
    """Recognitions and feedback actions in the North (R1) and South (R2)."""
    for unit, period, kind in (
        ("R1-B001", "2025-04-17", "award"),
        ("R1-B002", "2025-05-02", "thanks"),
        ("R2-B001", "2025-04-30", "bonus"),
    ):
        made = _post(
            api, "recognitions", {"unit_id": unit, "period": period, "kind": kind}
        )
        assert made.status_code == 201, made.text
    for unit, closed_on in (("R1-B001", "2025-03-01"), ("R2-B001", None)):
        body = {
            "unit_id": unit,
            "description": f"Rota {unit}",
            "opened_on": "2025-02-01",
        }
        made = _post(api, "actions", body | {"closed_on": closed_on})
        assert made.status_code == 201, made.text


def test_recognitions_and_actions_are_listed_within_the_scope(fresh):
    _unit_records(fresh)

    def listed(path, key, role="admin", **params):
        answer = _get(fresh, path, role=role, **params)
        assert answer.status_code == 200, answer.text
        return [(row["unit_id"], row[key]) for row in answer.json()]

    assert listed("recognitions", "kind", role="analyst") == [
        ("R1-B002", "thanks"),
        ("R1-B001", "award"),
        ("R2-B001", "bonus"),
    ]
    assert listed("recognitions", "kind", role="manager") == [
        ("R1-B002", "thanks"),
        ("R1-B001", "award"),
    ]
    assert listed("recognitions", "kind", period="2025-04-01") == [
        ("R1-B001", "award"),
        ("R2-B001", "bonus"),
    ]
    assert listed("recognitions", "kind", unit_id="R2") == [("R2-B001", "bonus")]
    assert listed("actions", "closed_on", role="manager") == [
        ("R1-B001", "2025-03-01T00:00:00.000")
    ]
    assert listed("actions", "unit_id", status="open") == [("R2-B001", "R2-B001")]


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("recognitions", {"unit_id": "R2"}, 403, "outside your subtree"),
        ("actions", {"unit_id": "R2-B001"}, 403, "outside your subtree"),
        ("recognitions", {"unit_id": "R9"}, 422, "unit_id='R9' is not a unit_id"),
        ("recognitions", {"period": "April"}, 422, "period='April' is not a date"),
        ("actions", {"status": "pending"}, 422, "'open' or 'closed'"),
    ],
)
def test_listing_refuses_units_outside_and_bad_filters(
    fresh, path, params, status, message
):
    answer = _get(fresh, path, role="manager", **params)
    assert answer.status_code == status, answer.text
    assert message in str(answer.json()["detail"])


BAD_ACTIVITIES = [
    ({"units": []}, "has no units"),
    ({"units": ["NOPE"]}, "unknown unit(s) NOPE"),
    ({"phase": "dream"}, "phase='dream'; accepted: know, tell"),
    ({"starts_on": "2025-07-01", "ends_on": "2025-06-01"}, "is before starts_on"),
    ({"starts_on": "soon"}, "starts_on='soon' is not a date"),
    ({"initiative_id": "ghost"}, "initiative 'ghost' does not exist"),
    ({"units": ["R2-B001"]}, "overlaps initiative 'crm-south'"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ACTIVITIES)
def test_bad_activity_is_422_with_the_library_message(fresh, change, message):
    _programme(fresh)
    before = fresh.counts(*TABLES)
    body = {
        "initiative_id": "crm-north",
        "phase": "tell",
        "name": "Town hall",
        "units": ["R1-B002"],
        "starts_on": "2025-02-01",
        "ends_on": "2025-02-28",
    } | change
    answer = _post(fresh, "activities", body)
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["detail"]
    assert fresh.counts(*TABLES) == before


def test_bad_initiative_recognition_and_action_store_nothing(fresh):
    cases = [
        (
            "initiatives",
            {"name": "X", "starts_on": "2025-05-01", "ends_on": "2025-01-01"},
        ),
        ("recognitions", {"unit_id": "NOPE", "period": "2025-01-01", "kind": "award"}),
        ("actions", {"unit_id": "R1-B001", "description": "x", "opened_on": "nope"}),
    ]
    for path, body in cases:
        answer = _post(fresh, path, body)
        assert answer.status_code == 422, (path, answer.text)
        assert answer.json()["detail"].startswith("InputError: ")
    assert set(fresh.counts(*TABLES).values()) == {0}


def test_maturity_scores_like_the_library_and_stores_for_admins(fresh):
    answers = {item: 4 for item in maturity.ITEMS} | {"budget_1": 1, "budget_2": 2}
    scored = _post(fresh, "maturity", {"answers": answers}, role="analyst")
    assert scored.status_code == 200, scored.text
    expected = maturity.score(answers)
    assert [r["dimension"] for r in scored.json()["profile"]] == list(
        expected["dimension"]
    )
    assert scored.json()["profile"][0]["value"] == pytest.approx(
        expected["value"].iloc[0]
    )
    assert fresh.store.count("maturity_answers") == 0

    refused = _post(fresh, "maturity", {"answers": answers, "save": True}, "analyst")
    assert refused.status_code == 403 and fresh.store.count("maturity_answers") == 0
    saved = _post(
        fresh, "maturity", {"answers": answers, "save": True, "assessment_id": "q1"}
    )
    assert saved.json()["assessment_id"] == "q1"
    assert fresh.store.count("maturity_answers") == len(maturity.ITEMS)
    stored = _get(fresh, "maturity/q1", role="analyst").json()
    assert stored["profile"] == saved.json()["profile"]

    bad = _post(fresh, "maturity", {"answers": {"budget_1": 7}, "save": True})
    assert bad.status_code == 422 and "accepted: whole numbers 1..5" in bad.text
    assert fresh.store.count("maturity_answers") == len(maturity.ITEMS)


@pytest.fixture
def piloted(fresh, company):
    """The bank's answers with an Activate pilot that raised eNPS by 10 points
    (excx.journey.synth), written into the fresh store."""
    tables, truth = synthetic_programme(company, enps_effect=10.0, start_month=12)
    fresh.store.write(tables)
    return fresh, truth


def test_kpis_and_effect_equal_the_library(piloted):
    api, truth = piloted
    kpis = _get(api, "initiatives/ini-omnichannel/kpis", phase=["know", "activate"])
    assert kpis.status_code == 200, kpis.text
    expected = phase_kpis(api.store, "ini-omnichannel", phases=["know", "activate"])
    rows = kpis.json()["rows"]
    assert len(rows) == len(expected)
    values = [float("nan") if r["value"] is None else r["value"] for r in rows]
    assert values == pytest.approx(expected["value"].tolist(), nan_ok=True)
    assert [r["suppressed"] for r in rows] == expected["suppressed"].tolist()
    assert {r["phase"] for r in rows} == {"know", "activate"}

    effect = _get(api, f"activities/{truth.activity_id}/effect", role="analyst")
    assert effect.status_code == 200, effect.text
    body = effect.json()
    reference = did(api.store, truth.activity_id)
    assert body["effect"][0]["estimate"] == pytest.approx(
        reference.effect["estimate"].iloc[0]
    )
    assert [r["relative_period"] for r in body["event_study"]] == list(
        reference.event_study["relative_period"]
    )
    # The set effect is 10 eNPS points (excx.journey.synth); the interval covers it.
    assert body["effect"][0]["ci_low"] < 10 < body["effect"][0]["ci_high"]

    manager = _get(api, f"activities/{truth.activity_id}/effect", role="manager")
    assert manager.status_code == 403  # treated units in every region
    bad = _get(api, f"activities/{truth.activity_id}/effect", outcome="csat")
    assert bad.status_code == 422
