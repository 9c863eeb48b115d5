"""An app per backend over the synthetic bank, and clients logged in per role.

``bank`` is built once per backend for the whole folder (the synthetic "small"
bank, seed 0, written with ``Store.write``) and is only read by the tests that use
it; tests that write (surveys, imports) use ``fresh``, an app over the
function-scoped ``store`` fixture holding the bank's units only.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

import excx
from excx.api import Settings, create_app
from excx.api.users import add_user
from excx.synth import generate

SECRET = "test-secret-" + "x" * 40
PASSWORD = "password-1"
# username -> (role, unit): the manager runs region R1 (North) and its subtree.
USERS = {
    "ada": ("admin", None),
    "ann": ("analyst", None),
    "max": ("manager", "R1"),
    "val": ("viewer", None),
}
ROLE_USER = {role: name for name, (role, _) in USERS.items()}


@dataclass
class Api:
    """A TestClient over a running app, and how to act as a logged-in user."""

    client: TestClient
    store: excx.Store
    url: str
    password: str = PASSWORD
    logins: dict[str, dict[str, str]] = field(default_factory=dict)

    def login(self, username: str) -> dict[str, str]:
        """Headers (session cookie and CSRF token) of a fresh session."""
        if username not in self.logins:
            answer = self.client.post(
                "/api/v1/login", json={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            session = answer.cookies["excx_session"]
            self.client.cookies.clear()
            self.logins[username] = {
                "Cookie": f"excx_session={session}",
                "X-CSRF-Token": answer.json()["csrf_token"],
            }
        return self.logins[username]

    def as_role(self, role: str) -> dict[str, str]:
        return self.login(ROLE_USER[role])

    def counts(self, *names: str) -> dict[str, int]:
        """Row counts of canonical tables: what "nothing stored" is checked
        against."""
        return {name: self.store.count(name) for name in names}

    def settings(self, **options) -> Settings:
        """Settings of another app over the same store."""
        return _settings(self.url, **options)


def _settings(url: str, **options) -> Settings:
    return Settings(store=url, secret_key=SECRET, **options)


def _add_users(store: excx.Store) -> None:
    for name, (role, unit) in USERS.items():
        add_user(store, name, PASSWORD, role=role, unit_id=unit)


@pytest.fixture(scope="session", autouse=True)
def fast_hashes():
    """Cheap argon2 parameters: the tests check behaviour, not hashing cost."""
    from argon2 import PasswordHasher

    from excx.api import security

    saved = security._hasher, security._DUMMY_HASH
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    security._DUMMY_HASH = security._hasher.hash("excx-no-such-user")
    yield
    security._hasher, security._DUMMY_HASH = saved


@pytest.fixture(scope="session")
def company():
    """The synthetic small bank, seed 0."""
    return generate("small", seed=0)


@pytest.fixture(
    scope="session",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def bank_url(request, tmp_path_factory, company):
    """A store holding the whole bank and the four users, once per backend."""
    if request.param == "duckdb":
        url = f"duckdb://{tmp_path_factory.mktemp('bank') / 'excx.duckdb'}"
        schema = None
    else:
        base = os.environ.get("EXCX_TEST_POSTGRES_URL")
        if not base:
            if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                pytest.fail(
                    "CI must run the PostgreSQL tests: set EXCX_TEST_POSTGRES_URL"
                )
            pytest.skip("no PostgreSQL: set EXCX_TEST_POSTGRES_URL")
        import psycopg

        schema = f"t_api_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options=-csearch_path%3D{schema}"
    with excx.connect(url) as store:
        store.init()
        store.write(company.tables)
        _add_users(store)
    yield url
    if schema is not None:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def bank(bank_url):
    """The app over the bank; read-only tests only."""
    app = create_app(_settings(bank_url))
    with TestClient(app) as client, excx.connect(bank_url) as store:
        yield Api(client, store, bank_url)


@pytest.fixture
def fresh(store, store_url, company):
    """An app over an empty store holding the bank's units and the four users."""
    store.write({"units": company.tables["units"]})
    _add_users(store)
    app = create_app(_settings(store_url))
    with TestClient(app) as client:
        yield Api(client, store, store_url)
