"""Roles per route: every route refuses the roles it does not admit, and anonymous
callers; the admitted roles get past the check (whatever their request's fate).

The table below is the access policy of the API, stated once:
admin everything; analyst data and imports, no surveys; manager metrics and units
of their subtree; viewer metrics summaries and linkage results only.
"""

from __future__ import annotations

import pytest

from excx.schema import ROLES

# (method, path, JSON body or None, roles admitted)
ROUTES = [
    ("GET", "/api/v1/me", None, ROLES),
    ("GET", "/api/v1/metrics/nps?by=region", None, ROLES),
    ("GET", "/api/v1/units", None, ("admin", "analyst", "manager")),
    ("GET", "/api/v1/units/R1/subtree", None, ("admin", "analyst", "manager")),
    ("GET", "/api/v1/surveys", None, ("admin",)),
    ("POST", "/api/v1/surveys", {}, ("admin",)),
    ("POST", "/api/v1/surveys/none/tokens", {}, ("admin",)),
    ("POST", "/api/v1/surveys/none/customer-links", {}, ("admin",)),
    ("POST", "/api/v1/imports/units", None, ("admin", "analyst")),
    ("GET", "/api/v1/linkage?boot=50", None, ("admin", "analyst", "viewer")),
]
CASES = [
    pytest.param(
        method, path, body, role, role in admitted, id=f"{role}-{method}-{path}"
    )
    for method, path, body, admitted in ROUTES
    for role in ROLES
]


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
    answer = bank.client.request(method, path, json=body)
    assert answer.status_code == 401
    assert "POST /api/v1/login" in answer.json()["detail"]


def test_manager_units_are_their_subtree(bank):
    headers = bank.as_role("manager")
    units = bank.client.get("/api/v1/units", headers=headers).json()
    ids = {u["unit_id"] for u in units}
    # R1 (North) holds its contact centre, its branches and the centre's teams.
    assert "R1" in ids and "R1-CC" in ids and "R1-CC-T01" in ids
    assert all(u.startswith("R1") for u in ids)
    assert len(ids) == 1 + len(
        [
            u
            for u in bank.client.get(
                "/api/v1/units", headers=bank.as_role("admin")
            ).json()
            if u["parent_id"] in ids
        ]
    )


def test_manager_refused_outside_subtree(bank):
    headers = bank.as_role("manager")
    outside = bank.client.get("/api/v1/units/R2/subtree", headers=headers)
    assert outside.status_code == 403
    assert "outside your subtree" in outside.json()["detail"]
    above = bank.client.get("/api/v1/units/bank/subtree", headers=headers)
    assert above.status_code == 403
    inside = bank.client.get("/api/v1/units/R1-CC/subtree", headers=headers)
    assert inside.status_code == 200
    assert {u["unit_id"] for u in inside.json()} >= {"R1-CC", "R1-CC-T01"}


def test_unknown_unit_is_404(bank):
    answer = bank.client.get(
        "/api/v1/units/nope/subtree", headers=bank.as_role("admin")
    )
    assert answer.status_code == 404
