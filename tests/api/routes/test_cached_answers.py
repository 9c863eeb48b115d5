"""Cached API answers: recomputed after a committed write (from any connection),
kept apart per caller's scope, and never a way around the privacy refusals."""

from __future__ import annotations

import pytest

from excx.api.deps import subtree
from tests.api.routes.test_metrics import _library_rows

CACHE = "X-Excx-Cache"


def _get(api, role: str, path: str):
    answer = api.client.get(path, headers=api.as_role(role))
    assert answer.status_code == 200, answer.text
    return answer


def test_a_committed_write_is_in_the_next_answer(fresh, company):
    path = "/api/v1/metrics/nps?by=channel"
    empty = _get(fresh, "analyst", path)
    assert empty.headers[CACHE] == "computed" and empty.json()["rows"] == []
    assert _get(fresh, "analyst", path).headers[CACHE] == "hit"

    answers = company.tables["customer_responses"]
    # fresh.store is not one of the app's connections: as another server process
    fresh.store.write({"customer_responses": answers.slice(0, 300)})
    first = _get(fresh, "analyst", path)
    assert first.headers[CACHE] == "computed"
    assert sum(row["n"] for row in first.json()["rows"]) == 300
    assert first.json()["rows"] == _library_rows(fresh.store, "nps", by=("channel",))

    fresh.store.write({"customer_responses": answers.slice(300, 1)})
    second = _get(fresh, "analyst", path)
    assert second.headers[CACHE] == "computed"
    assert sum(row["n"] for row in second.json()["rows"]) == 301


def test_the_unit_list_follows_writes_too(fresh, company):
    before = _get(fresh, "admin", "/api/v1/units").json()
    assert _get(fresh, "admin", "/api/v1/units").headers[CACHE] == "hit"
    units = company.tables["units"]
    extra = units.slice(0, 1).set_column(0, "unit_id", [["NEW-1"]])
    fresh.store.write({"units": extra})
    after = _get(fresh, "admin", "/api/v1/units")
    assert after.headers[CACHE] == "computed"
    assert len(after.json()) == len(before) + 1
    assert "NEW-1" in {u["unit_id"] for u in after.json()}


def test_each_scope_gets_its_own_answer(bank):
    path = "/api/v1/metrics/nps?by=unit_id&level=0.8"
    everyone = _get(bank, "analyst", path).json()["rows"]
    mine = subtree(bank.store, "R1")
    first = _get(bank, "manager", path)
    assert first.headers[CACHE] == "computed"  # not the analyst's entry
    rows = first.json()["rows"]
    assert rows == _library_rows(
        bank.store, "nps", by=("unit_id",), level=0.8, where={"unit_id": mine}
    )
    assert {r["unit_id"] for r in rows} < {r["unit_id"] for r in everyone}
    again = _get(bank, "manager", path)
    assert again.headers[CACHE] == "hit" and again.json()["rows"] == rows
    assert _get(bank, "analyst", path).json()["rows"] == everyone

    units = _get(bank, "manager", "/api/v1/units").json()
    assert sorted(u["unit_id"] for u in units) == mine
    assert len(_get(bank, "admin", "/api/v1/units").json()) > len(units)
    assert len(_get(bank, "manager", "/api/v1/units").json()) == len(mine)


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("manager", "/api/v1/metrics/enps?by=region"),  # implicit subtree filter
        ("analyst", "/api/v1/metrics/enps?by=region&unit=R1-B001,R1-B002"),
        ("manager", "/api/v1/units/R2/subtree"),  # outside the manager's subtree
    ],
)
def test_refusals_hold_once_the_answer_is_cached(bank, role, path):
    warm = bank.client.get(path.split("&unit=")[0], headers=bank.as_role("admin"))
    assert warm.status_code == 200
    answer = bank.client.get(path, headers=bank.as_role(role))
    assert answer.status_code == 403
    assert "rows" not in answer.json()
