"""Imports from several connections into one PostgreSQL store run one at a time."""

from __future__ import annotations

import threading

import psycopg
import pytest

import excx
from excx.errors import ExcxError
from excx.ingest import import_file
from excx.ingest.staging import IMPORT_LOCK
from tests.ingest.conftest import UNITS_CSV, write

HEADER = "response_id,submitted_at,channel,served_by,unit_id,nps\n"
pytestmark = pytest.mark.postgres


def _store(url):
    opened = excx.connect(url)
    opened.init()
    return opened


def test_an_import_waits_for_the_one_running(postgres_url, tmp_path):
    store = _store(postgres_url)
    import_file(store, "units", write(tmp_path, "units.csv", UNITS_CSV))
    answers = write(tmp_path, "a.csv", HEADER + "r1,2026-01-05,store,human,B1,9\n")
    done = threading.Event()

    def run() -> None:
        with excx.connect(postgres_url) as other:
            import_file(other, "customer-responses", answers)
        done.set()

    with psycopg.connect(postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (IMPORT_LOCK,))
        worker = threading.Thread(target=run)
        worker.start()
        assert not done.wait(1.5)  # held back while another import holds the lock
        assert store.count("customer_responses") == 0
        holder.execute("SELECT pg_advisory_unlock(%s)", (IMPORT_LOCK,))
    worker.join(30)
    assert done.is_set()
    assert store.count("customer_responses") == 1
    store.close()


def test_two_files_with_one_key_at_once_store_it_once(postgres_url, tmp_path):
    store = _store(postgres_url)
    import_file(store, "units", write(tmp_path, "units.csv", UNITS_CSV))
    files = [
        write(tmp_path, f"{name}.csv", HEADER + f"r1,2026-01-05,store,human,B1,{nps}\n")
        for name, nps in (("first", 9), ("second", 3))
    ]
    outcomes: list[object] = []

    def run(path) -> None:
        with excx.connect(postgres_url) as other:
            try:
                outcomes.append(import_file(other, "customer-responses", path))
            except ExcxError as exc:
                outcomes.append(exc)

    workers = [threading.Thread(target=run, args=(path,)) for path in files]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    errors = [o for o in outcomes if isinstance(o, ExcxError)]
    assert len(outcomes) == 2 and len(errors) == 1
    assert "r1" in str(errors[0])
    assert store.count("customer_responses") == 1
    store.close()
