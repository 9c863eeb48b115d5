"""``GET /api/v1/linkage``: the estimates of ``excx.linkage.link.link``, cached."""

from __future__ import annotations

import json

from excx.linkage.link import link


def test_estimates_equal_the_library_and_are_cached(bank):
    headers = bank.as_role("viewer")
    first = bank.client.get("/api/v1/linkage?boot=60&seed=3", headers=headers)
    assert first.status_code == 200
    expected = link(bank.store, n_boot=60, seed=3)
    body = first.json()
    assert body["estimates"] == json.loads(expected.estimates.to_json(orient="records"))
    assert body["readings"] == expected.readings()
    assert {"fixed_effects", "chain_money"} <= {e["model"] for e in body["estimates"]}
    assert body["cached"] is False
    second = bank.client.get("/api/v1/linkage?boot=60&seed=3", headers=headers)
    assert second.json() == body | {"cached": True}


def test_linkage_arguments_are_checked(bank):
    headers = bank.as_role("analyst")
    for query in ("boot=10", "lag=0", "level=1.5", "period=decade"):
        answer = bank.client.get(f"/api/v1/linkage?{query}", headers=headers)
        assert answer.status_code == 422, query
