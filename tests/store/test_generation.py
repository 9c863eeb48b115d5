"""Every committed write through the store raises its generation, in every
process; a rolled-back or refused write, or a login, leaves it alone."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

import excx
from excx.api.customer_links import submit_customer
from excx.api.db import arrow_rows, prepare, run
from excx.api.surveys import create_survey, issue_tokens, submit_pulse
from excx.api.users import add_user, find_user, start_session
from excx.errors import StoreError
from excx.ingest import import_file
from excx.journey.programme import add_initiative

UNITS = pa.table({"unit_id": ["u1"], "name": ["U1"], "kind": ["branch"]})


def _answer(response_id: str) -> pa.Table:
    return arrow_rows(
        "customer_responses",
        {
            "response_id": [response_id],
            "submitted_at": [dt.datetime(2026, 1, 5)],
            "channel": ["web"],
            "served_by": ["human"],
            "unit_id": ["u1"],
            "nps": [9],
        },
    )


def test_a_write_raises_the_generation_seen_by_another_connection(store, store_url):
    before = store.generation()
    store.write({"units": UNITS})
    assert store.generation() == before + 1
    if store.backend == "postgres":  # a second server process has its own connection
        with excx.connect(store_url) as other:
            assert other.generation() == before + 1
            other.write({"customer_responses": _answer("r1")})
        assert store.generation() == before + 2


def test_a_failed_write_rolls_back_the_rows_and_the_generation(store):
    before = store.generation()
    bad = pa.table({"unit_id": ["u1"], "name": ["U1"], "kind": ["branch"]})
    with pytest.raises(StoreError):
        store.write({"units": bad, "customer_responses": pa.table({"nps": ["x"]})})
    with pytest.raises(RuntimeError), store.transaction():
        store.write({"units": UNITS})
        raise RuntimeError("after the insert, before the commit")
    assert store.generation() == before and store.count("units") == 0


def test_nested_writes_commit_once_with_one_raise(store):
    before = store.generation()
    with store.transaction():
        store.write({"units": UNITS})
        store.write({"customer_responses": _answer("r1")})
    assert store.generation() == before + 1
    assert store.count("units") == store.count("customer_responses") == 1


def test_a_login_does_not_raise_the_generation_a_new_user_does(store):
    before = store.generation()
    add_user(store, "ann", "password-1", role="analyst")
    assert store.generation() == before + 1
    start_session(store, find_user(store, "ann"), hours=1)
    assert store.generation() == before + 1


def test_survey_answers_raise_it_only_when_stored(store, store_url):
    """Survey answers take their own light path (one statement on PostgreSQL):
    a stored answer raises the generation, a refused resend does not, and a
    second connection sees it."""
    prepare(store)  # the unique keys the service creates at start
    store.write({"units": UNITS})
    create_survey(store, "p", audience="employee", kind="pulse", items=("pride",))
    create_survey(store, "c", audience="customer", kind="transactional")
    link = issue_tokens(store, "p", {"u1": 1}, base_url="https://x")[0]["link"]
    token = link.rsplit("/", 1)[1]
    contact = {"survey_id": "c", "interaction_id": "i1", "channel": "store",
               "served_by": "human", "unit_id": "u1"}  # fmt: skip
    scores = {"nps": 9, "csat": None, "ces": None}
    before = store.generation()

    assert submit_pulse(store, token, enps=7, items={"pride": 4}, comment=None)
    assert submit_customer(store, contact, scores=scores, comment=None)
    with excx.connect(store_url) as other:
        assert other.generation() == before + 2

    assert not submit_pulse(store, token, enps=7, items={"pride": 4}, comment=None)
    assert not submit_customer(store, contact, scores=scores, comment=None)
    assert store.generation() >= before + 2
    assert store.count("employee_responses") == store.count("customer_responses") == 1


def test_an_import_raises_it(store, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text("unit_id,name,parent_id,kind,region\nC,Co,,company,\n")
    before = store.generation()
    import_file(store, "units", path)
    assert store.generation() == before + 1
    import_file(store, "units", path)  # the same file again: nothing written
    assert store.generation() == before + 1


def test_programme_rows_raise_it(store):
    before = store.generation()
    add_initiative(
        store,
        name="Listen",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 6, 30),
    )
    assert store.generation() == before + 1


def test_a_store_without_the_counter_row_gets_one_on_the_first_write(store):
    run(store, "DELETE FROM store_generation")
    assert store.generation() == 0
    store.write({"units": UNITS})
    assert store.generation() == 1


def test_a_store_created_before_the_counter_refuses_writes_until_init(store):
    run(store, "DROP TABLE store_generation")
    with pytest.raises(StoreError, match="excx init"):
        store.write({"units": UNITS})
    assert store.count("units") == 0
    store.init()
    store.write({"units": UNITS})
    assert store.generation() == 1 and store.count("units") == 1
