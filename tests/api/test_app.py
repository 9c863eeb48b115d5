"""The service: health check, access log, offline docs, error mapping."""

from __future__ import annotations

import logging
import re

import pytest
from fastapi.testclient import TestClient

from excx.api import create_app
from excx.errors import StoreError


def test_healthz_checks_the_store(bank):
    answer = bank.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["backend"] == bank.store.backend


def test_healthz_is_503_when_the_store_is_gone(tmp_path):
    from excx.api import Settings

    app = create_app(
        Settings(store=f"duckdb://{tmp_path}/s.duckdb", secret_key="k" * 32)
    )
    with TestClient(app) as client:
        with app.state.pool.checkout() as store:
            store.close()
        answer = client.get("/healthz")
        assert answer.status_code == 503
        assert "does not answer" in answer.json()["detail"]
        # the dead connection was dropped: the next request opens a new one
        assert client.get("/healthz").status_code == 200


def test_one_access_line_per_request_without_survey_secrets(bank, caplog):
    headers = bank.as_role("admin")
    with caplog.at_level(logging.INFO, logger="excx"):
        bank.client.get("/api/v1/units", headers=headers)
        bank.client.get("/s/pulse/secret-token-value")
    lines = [
        r.getMessage() for r in caplog.records if r.getMessage().startswith("access ")
    ]
    assert len(lines) == 2
    fields = dict(part.split("=", 1) for part in lines[0].split()[1:])
    assert fields["method"] == "GET" and fields["path"] == "/api/v1/units"
    assert fields["status"] == "200" and fields["user"] == "ada"
    assert float(fields["ms"]) > 0
    assert "secret-token-value" not in lines[1]
    assert "path=/s/pulse/*** status=404" in lines[1] and "client=-" in lines[1]


def test_openapi_lists_the_routes_and_docs_is_offline(bank):
    spec = bank.client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {
        "/api/v1/metrics/{kpi}",
        "/api/v1/linkage",
        "/api/v1/surveys",
        "/api/v1/imports/{target}",
        "/api/v1/units",
        "/healthz",
    } <= paths
    assert not any(p.startswith("/s/") for p in paths)  # survey pages are not API
    docs = bank.client.get("/docs")
    assert docs.status_code == 200
    assert "/api/v1/metrics/{kpi}" in docs.text
    assert not re.search(r"(https?:)?//[\w.-]+\.\w", docs.text)
    assert bank.client.get("/redoc").status_code == 404


def test_service_does_not_start_on_a_store_it_cannot_open(tmp_path):
    from excx.api import Settings

    missing = tmp_path / "no-such-folder" / "s.duckdb"
    app = create_app(Settings(store=f"duckdb://{missing}", secret_key="k" * 32))
    with pytest.raises(StoreError, match="does not exist"), TestClient(app):
        pass
