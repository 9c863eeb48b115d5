"""Programme items (readiness_*, journey_*) stay out of the engagement index."""

from __future__ import annotations

import pyarrow as pa
import pytest

from excx.metrics import compute
from excx.metrics.reliability import cronbach_alpha


def _programme_answers(company) -> pa.Table:
    """Extreme answers to a Tell and a Know item from every respondent: if they
    counted, every respondent's index and the scale's alpha would move."""
    rows = []
    for response in company.employees:
        rid = response["response_id"]
        rows += [
            {"response_id": rid, "item_id": "journey_vision", "value": 5},
            {"response_id": rid, "item_id": "readiness_tools", "value": 1},
        ]
    return pa.Table.from_pylist(rows)


def _engagement(store):
    frame = compute(store, "engagement", by=["unit_id"])
    return frame.sort_values("unit_id").reset_index(drop=True)


def test_programme_items_do_not_move_engagement(store, company):
    before, alpha_before = _engagement(store), cronbach_alpha(store)

    store.write({"employee_items": _programme_answers(company)})

    after = _engagement(store)
    assert after["value"].tolist() == pytest.approx(before["value"].tolist())
    assert after["n"].tolist() == before["n"].tolist()
    assert cronbach_alpha(store) == pytest.approx(alpha_before, rel=1e-12)
    assert store.count("employee_items") == len(company.items) + 2 * len(
        company.employees
    )
