"""The survey collection library: token claims are atomic under concurrency."""

from __future__ import annotations

import threading

import pyarrow as pa

import excx
from excx.api.surveys import create_survey, issue_tokens, submit_pulse


def test_a_token_answers_once_under_concurrency(store, store_url):
    store.write(
        {"units": pa.table({"unit_id": ["u1"], "name": ["U1"], "kind": ["branch"]})}
    )
    create_survey(store, "p", audience="employee", kind="pulse", items=("pride",))
    link = issue_tokens(store, "p", {"u1": 1}, base_url="https://x")[0]["link"]
    token = link.rsplit("/", 1)[1]

    # Several connections race for the same token.
    stores = [excx.connect(store_url) for _ in range(4)]
    outcomes, start = [], threading.Barrier(len(stores))

    def answer(connection):
        start.wait()
        try:
            outcomes.append(
                submit_pulse(
                    connection, token, enps=7, items={"pride": 3}, comment=None
                )
            )
        except Exception as exc:  # a write-write conflict also refuses it
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=answer, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in stores:
        connection.close()

    assert outcomes.count(True) == 1, outcomes
    assert store.count("employee_responses") == 1
    assert store.count("employee_items") == 1
