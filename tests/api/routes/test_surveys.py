"""``/api/v1/surveys``: create, list, issue pulse links, sign customer links."""

from __future__ import annotations

import csv
import io
import json


def _create(api, **fields):
    body = {
        "survey_id": "pulse-1",
        "audience": "employee",
        "kind": "pulse",
        "items": ["pride", "energy"],
    } | fields
    return api.client.post("/api/v1/surveys", json=body, headers=api.login("ada"))


def test_create_and_list(fresh):
    assert _create(fresh).status_code == 201
    listed = fresh.client.get("/api/v1/surveys", headers=fresh.login("ada")).json()
    assert [s["survey_id"] for s in listed] == ["pulse-1"]
    assert listed[0]["questions"] == ["enps", "pride", "energy", "comment"]
    assert listed[0]["tokens_issued"] == 0
    again = _create(fresh)
    assert again.status_code == 422 and "exists already" in again.json()["detail"]
    assert fresh.store.count("surveys") == 1


def test_tokens_export_one_link_per_invitee_and_keep_only_hashes(fresh):
    _create(fresh)
    answer = fresh.client.post(
        "/api/v1/surveys/pulse-1/tokens",
        json={"units": {"R1-B001": 3, "R2-B001": 2}},
        headers=fresh.login("ada"),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["unit_id"] for r in rows] == ["R1-B001"] * 3 + ["R2-B001"] * 2
    tokens = [r["link"].rsplit("/", 1)[1] for r in rows]
    assert len(set(tokens)) == 5 and all(len(t) >= 40 for t in tokens)
    assert all(r["link"].startswith("http://127.0.0.1:8000/s/pulse/") for r in rows)

    stored = fresh.store.to_pyarrow(fresh.store.table("survey_tokens")).to_pylist()
    assert len(stored) == 5
    assert set(stored[0]) == {"token_hash", "survey_id", "unit_id", "used"}
    assert not any(t in json.dumps(stored) for t in tokens)
    assert not any(r["used"] for r in stored)


def test_tokens_for_unknown_units_store_nothing(fresh):
    _create(fresh)
    answer = fresh.client.post(
        "/api/v1/surveys/pulse-1/tokens",
        json={"units": {"R1-B001": 3, "nowhere": 1}},
        headers=fresh.login("ada"),
    )
    assert answer.status_code == 422
    assert "nowhere" in answer.json()["detail"]
    assert fresh.store.count("survey_tokens") == 0


def test_customer_links_need_a_customer_survey_and_valid_attribution(fresh):
    _create(fresh)
    headers = fresh.login("ada")
    body = {
        "interactions": [
            {
                "interaction_id": "call-1",
                "channel": "contact_centre",
                "served_by": "human",
                "unit_id": "R1-CC-T01",
            }
        ]
    }
    wrong = fresh.client.post(
        "/api/v1/surveys/pulse-1/customer-links", json=body, headers=headers
    )
    assert wrong.status_code == 422
    _create(
        fresh, survey_id="cx-1", audience="customer", kind="transactional", items=[]
    )
    links = fresh.client.post(
        "/api/v1/surveys/cx-1/customer-links", json=body, headers=headers
    )
    assert links.status_code == 200
    assert links.json()[0]["link"].startswith("http://127.0.0.1:8000/s/cx/")
    body["interactions"][0]["channel"] = "carrier_pigeon"
    bad = fresh.client.post(
        "/api/v1/surveys/cx-1/customer-links", json=body, headers=headers
    )
    assert bad.status_code == 422 and "carrier_pigeon" in bad.json()["detail"]


def test_malformed_and_invalid_bodies_are_422_and_store_nothing(fresh):
    headers = fresh.login("ada") | {"Content-Type": "application/json"}
    for content in (
        b'{"survey_id": "p", ',
        b"[1, 2]",
        b'{"survey_id": "a b", "audience": "employee", "kind": "pulse"}',
        b'{"survey_id": "p", "audience": "robots", "kind": "pulse"}',
    ):
        answer = fresh.client.post("/api/v1/surveys", content=content, headers=headers)
        assert answer.status_code == 422, content
    assert fresh.store.count("surveys") == 0


def test_oversized_body_is_413_and_stores_nothing(fresh):
    headers = fresh.login("ada")
    body = {
        "survey_id": "big",
        "audience": "employee",
        "kind": "pulse",
        "items": ["x" * 90] * 40,
        "padding": "y" * 70_000,
    }
    answer = fresh.client.post("/api/v1/surveys", json=body, headers=headers)
    assert answer.status_code == 413
    assert fresh.store.count("surveys") == 0
