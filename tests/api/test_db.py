"""The service's light writes: parameterised INSERTs inside one transaction."""

from __future__ import annotations

import datetime as dt

import pytest

from excx.api.db import insert, run
from excx.errors import StoreError

DAY = dt.datetime(2026, 12, 3)


def _answer(response_id: str) -> dict:
    return {
        "response_id": response_id,
        "survey_id": "p",
        "unit_id": "u1",
        "submitted_at": DAY,
        "enps": 9,
        "comment": None,
    }


def test_insert_appends_rows_with_absent_columns_null(store):
    insert(store, "employee_responses", [_answer("r1"), _answer("r2")])
    insert(store, "employee_items", [])  # nothing to write: no statement
    rows = run(
        store,
        "SELECT response_id, enps, role, submitted_at FROM employee_responses "
        "ORDER BY response_id",
    )
    assert rows == [("r1", 9, None, DAY), ("r2", 9, None, DAY)]


def test_transaction_rolls_back_every_statement_on_error(store):
    with pytest.raises(RuntimeError), store.transaction():
        insert(store, "employee_responses", [_answer("r1")])
        insert(
            store,
            "employee_items",
            [{"response_id": "r1", "item_id": "pride", "value": 4}],
        )
        raise RuntimeError("stop before the commit")
    assert store.count("employee_responses") == 0
    assert store.count("employee_items") == 0

    with store.transaction():
        insert(store, "employee_responses", [_answer("r2")])
    assert store.count("employee_responses") == 1


def test_insert_refuses_a_column_the_table_lacks(store):
    with pytest.raises(StoreError, match="token"):
        insert(store, "employee_responses", [_answer("r1") | {"token": "secret"}])
    assert store.count("employee_responses") == 0
