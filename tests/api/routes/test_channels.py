"""``/api/v1/channels``: human touch, preference for a person, paths, hand-offs.

Each answer is compared with the library call it wraps, on both backends.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from excx.channels import human_touch, journeys
from excx.channels.synth import interactions
from excx.schema import ROLES

BASE = "/api/v1/channels"
ADMITTED = ("admin", "analyst", "viewer")
PATHS = ["human-touch", "prefers-person", "paths", "handoff"]
CASES = [
    pytest.param(path, role, role in ADMITTED, id=f"{role}-{path}")
    for path in PATHS
    for role in ROLES
]


@pytest.mark.parametrize(("path", "role", "admitted"), CASES)
def test_role_refused_or_admitted(bank, path, role, admitted):
    answer = bank.client.get(f"{BASE}/{path}", headers=bank.as_role(role))
    if admitted:
        assert answer.status_code not in (401, 403), answer.text
    else:
        assert answer.status_code == 403, answer.text
        assert "may not use this route" in answer.json()["detail"]


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_refused(bank, path):
    assert bank.client.get(f"{BASE}/{path}").status_code == 401


def _preference_items(customers: pa.Table) -> pa.Table:
    """A "prefers_person" answer (1–5) on every fourth customer response."""
    ids = customers.column("response_id").to_numpy(zero_copy_only=False)[::4]
    values = (np.arange(len(ids)) % 5 + 1).astype("int16")
    return pa.table(
        {
            "response_id": ids,
            "item_id": ["prefers_person"] * len(ids),
            "value": values,
        }
    )


@pytest.fixture
def journeyed(fresh, company):
    """The bank's answers with interaction logs and a 15-point hand-off cost
    (excx.channels.synth), written into the fresh store."""
    tables, truth = interactions(company, handoff_cost=15.0)
    fresh.store.write(
        {
            "employee_responses": company.tables["employee_responses"],
            "customer_items": _preference_items(tables["customer_responses"]),
            **tables,
        }
    )
    return fresh, truth


def _get(api, path, role="viewer", **params):
    answer = api.client.get(f"{BASE}/{path}", params=params, headers=api.as_role(role))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _values(rows, column="value"):
    return [np.nan if r[column] is None else r[column] for r in rows]


def test_figures_equal_the_library(journeyed):
    api, truth = journeyed
    rows = _get(api, "human-touch", level=0.9)["rows"]
    expected = human_touch.by_channel(api.store, level=0.9)
    assert [(r["kpi"], r["channel"], r["served_by"]) for r in rows] == list(
        expected[["kpi", "channel", "served_by"]].itertuples(index=False, name=None)
    )
    assert _values(rows, "ci_low") == pytest.approx(list(expected["ci_low"]))

    share = _get(api, "prefers-person", by="served_by")["rows"]
    expected = human_touch.prefers_person(api.store, by=["served_by"])
    assert [r["n"] for r in share] == list(expected["n"])
    assert _values(share) == pytest.approx(list(expected["value"]))
    # Answers 1..5 in turn: 4 and 5 are 2 of every 5, i.e. 40 % overall.
    overall = _get(api, "prefers-person")["rows"][0]
    assert overall["value"] == pytest.approx(40, abs=0.1)

    paths = _get(api, "paths", top=3)["rows"]
    expected = journeys.common_paths(api.store, top=3)
    assert [p["path"] for p in paths] == list(expected["path"])
    assert _values(paths) == pytest.approx(list(expected["value"]))

    handoff = _get(api, "handoff", role="analyst")
    expected = human_touch.handoff_effect(api.store)
    assert [r["term"] for r in handoff["rows"]] == ["handoff", "handoff_x_enps"]
    assert _values(handoff["rows"], "estimate") == pytest.approx(
        list(expected["estimate"])
    )
    # The set cost is 15 NPS points (excx.channels.synth); the interval covers it.
    first = handoff["rows"][0]
    assert first["ci_low"] < -truth.handoff_cost < first["ci_high"]


def test_bad_arguments_are_422(journeyed):
    api, _ = journeyed
    headers = api.as_role("analyst")
    for query in (
        "prefers-person?by=region",
        "prefers-person?threshold=9",
        "paths?top=0",
        "handoff?period=decade",
        "human-touch?level=2",
    ):
        answer = api.client.get(f"{BASE}/{query}", headers=headers)
        assert answer.status_code == 422, query
    refused = api.client.get(f"{BASE}/prefers-person?by=region", headers=headers)
    assert "accepted: channel, served_by, unit_id" in refused.json()["detail"]


def test_handoff_without_journeys_says_why(fresh):
    answer = fresh.client.get(f"{BASE}/handoff", headers=fresh.as_role("admin"))
    assert answer.status_code == 422
    assert "import interaction logs" in answer.json()["detail"]
