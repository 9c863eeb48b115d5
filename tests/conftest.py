"""Fixtures shared by the whole suite.

``store`` runs a test on every backend: DuckDB in a temporary file, and PostgreSQL
when ``EXCX_TEST_POSTGRES_URL`` names a server (``.ci/run`` starts one). Under CI
(``CI=true``) a missing PostgreSQL is an error, never a quiet skip.
"""

from __future__ import annotations

import os
import uuid

import pytest

import excx

POSTGRES_URL = os.environ.get("EXCX_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _postgres_url() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail("CI must run the PostgreSQL tests: set EXCX_TEST_POSTGRES_URL")
    pytest.skip("no PostgreSQL: set EXCX_TEST_POSTGRES_URL to run these tests")


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL schema for one test; dropped afterwards."""
    import psycopg

    base = _postgres_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path):
    """The URL of an empty store, once per backend."""
    if request.param == "duckdb":
        return f"duckdb://{tmp_path / 'excx.duckdb'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url):
    """An initialised, empty store, once per backend."""
    opened = excx.connect(store_url)
    opened.init()
    yield opened
    opened.close()


@pytest.fixture
def duckdb_store(tmp_path):
    """An initialised, empty DuckDB store, for tests that need only one backend."""
    opened = excx.connect(f"duckdb://{tmp_path / 'excx.duckdb'}")
    opened.init()
    yield opened
    opened.close()
