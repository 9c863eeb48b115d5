"""``excx user add`` and ``excx serve``."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

import excx
from excx.api.users import authenticate
from excx.cli import app

runner = CliRunner()


def test_user_add_reads_the_password_from_stdin(tmp_path):
    url = f"duckdb://{tmp_path / 'excx.duckdb'}"
    added = runner.invoke(
        app,
        ["user", "add", "root", "--role", "admin", "--password-stdin", "--store", url],
        input="a long password\n",
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(
        app,
        ["user", "add", "root", "--role", "viewer", "--password-stdin", "--store", url],
        input="another password\n",
    )
    assert again.exit_code == 1 and "exists already" in again.output
    with excx.connect(url) as store:
        assert authenticate(store, "root", "a long password").role == "admin"


def test_serve_refuses_the_default_secret(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("EXCX_SECRET_KEY", raising=False)
    monkeypatch.delenv("EXCX_DEV", raising=False)
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append((a, k)))
    refused = runner.invoke(app, ["serve", "--store", "x.duckdb"])
    assert refused.exit_code == 1 and "EXCX_SECRET_KEY" in refused.output
    assert started == []

    ok = runner.invoke(app, ["serve", "--store", "x.duckdb", "--dev", "--port", "9001"])
    assert ok.exit_code == 0, ok.output
    (server, *_), options = started[0]
    assert isinstance(server, FastAPI)
    assert options["port"] == 9001 and options["access_log"] is False


def test_serve_with_workers_starts_uvicorn_from_the_app_factory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXCX_SECRET_KEY", "k" * 40)
    for name in ("EXCX_DEV", "EXCX_STORE"):  # serve sets them: restored afterwards
        monkeypatch.delenv(name, raising=False)
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append((a, k)))
    url = "postgresql://postgres@127.0.0.1:1/nowhere"  # not reached: uvicorn is mocked
    ok = runner.invoke(app, ["serve", "--store", url, "--workers", "3"])
    assert ok.exit_code == 0, ok.output
    (target,), options = started[0]
    assert target == "excx.api.app:create_app_from_env"
    assert options["factory"] is True and options["workers"] == 3
    assert options["access_log"] is False
    # the workers read the resolved settings from the environment
    assert os.environ["EXCX_STORE"] == url and os.environ["EXCX_DEV"] == "0"


def test_serve_refuses_workers_on_a_duckdb_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: started.append((a, k)))
    refused = runner.invoke(
        app, ["serve", "--store", "x.duckdb", "--dev", "--workers", "2"]
    )
    assert refused.exit_code == 1
    assert "--workers 2" in refused.output and "postgresql://" in refused.output
    assert started == []
    zero = runner.invoke(
        app, ["serve", "--store", "x.duckdb", "--dev", "--workers", "0"]
    )
    assert zero.exit_code == 2 and started == []
