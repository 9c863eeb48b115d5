"""Login, logout, session cookies, CSRF and login throttling."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from excx.api import create_app

SURVEY = {"survey_id": "pulse-x", "audience": "employee", "kind": "pulse"}


PASSWORD = "password-1"  # the fixtures' users' password


def _login(client, username="ada", password=PASSWORD):
    return client.post(
        "/api/v1/login", json={"username": username, "password": password}
    )


def test_login_sets_a_safe_cookie_and_me_answers(fresh):
    answer = _login(fresh.client)
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie  # plain http, not behind TLS
    body = answer.json()
    assert body["role"] == "admin" and len(body["csrf_token"]) > 30
    me = fresh.client.get("/api/v1/me")
    assert me.json() == body
    # only a hash of the session id is stored
    session = answer.cookies["excx_session"]
    stored = fresh.store.to_pyarrow(fresh.store.table("sessions")).to_pylist()
    assert len(stored) == 1 and session not in str(stored)


def test_cookie_is_secure_over_https_or_behind_tls(fresh):
    over_https = TestClient(fresh.client.app, base_url="https://testserver")
    assert "secure" in _login(over_https).headers["set-cookie"].lower()

    app = create_app(fresh.settings(behind_tls=True))
    with TestClient(app) as client:
        assert "secure" in _login(client).headers["set-cookie"].lower()


def test_wrong_password_and_unknown_user_are_401(fresh):
    assert _login(fresh.client, password="wrong-password").status_code == 401
    assert _login(fresh.client, username="nobody").status_code == 401
    assert fresh.store.count("sessions") == 0


def test_logout_ends_the_session(fresh):
    headers = fresh.login("ann")
    assert fresh.client.get("/api/v1/me", headers=headers).status_code == 200
    refused = fresh.client.post("/api/v1/logout", headers={"Cookie": headers["Cookie"]})
    assert refused.status_code == 403  # logout needs the CSRF token too
    assert fresh.client.post("/api/v1/logout", headers=headers).status_code == 200
    assert fresh.client.get("/api/v1/me", headers=headers).status_code == 401


def test_expired_session_is_refused(fresh):
    app = create_app(fresh.settings(session_hours=1e-9))
    with TestClient(app) as client:
        assert _login(client).status_code == 200
        assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_state_change_without_csrf_token_is_refused(fresh, token):
    headers = dict(fresh.login("ada"))
    if token is None:
        del headers["X-CSRF-Token"]
    else:
        headers["X-CSRF-Token"] = token
    before = fresh.counts("surveys")
    answer = fresh.client.post("/api/v1/surveys", json=SURVEY, headers=headers)
    assert answer.status_code == 403
    assert "X-CSRF-Token" in answer.json()["detail"]
    assert fresh.counts("surveys") == before
    accepted = fresh.client.post(
        "/api/v1/surveys", json=SURVEY, headers=fresh.login("ada")
    )
    assert accepted.status_code == 201


def test_csrf_token_of_another_session_is_refused(fresh):
    ada, ann = fresh.login("ada"), fresh.login("ann")
    mixed = {"Cookie": ada["Cookie"], "X-CSRF-Token": ann["X-CSRF-Token"]}
    answer = fresh.client.post("/api/v1/surveys", json=SURVEY, headers=mixed)
    assert answer.status_code == 403


def test_login_is_throttled_after_five_failures(fresh):
    for _ in range(5):
        assert _login(fresh.client, password="guess-guess").status_code == 401
    blocked = _login(fresh.client)  # even the right password, for a while
    assert blocked.status_code == 429
    assert "too many failed logins" in blocked.json()["detail"]
    # another user from the same address is not affected
    assert _login(fresh.client, username="ann").status_code == 200
    assert fresh.store.count("sessions") == 1


def test_login_takes_json_only(fresh):
    form = fresh.client.post(
        "/api/v1/login", data={"username": "ada", "password": PASSWORD}
    )
    assert form.status_code == 422
    malformed = fresh.client.post(
        "/api/v1/login",
        content=b'{"username": "ada", ',
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 422
