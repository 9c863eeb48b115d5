"""``excx serve --workers 2`` on PostgreSQL, end to end: two processes start on an
empty database (creating its tables once), answer a pulse and a customer link."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time

import httpx2
import pyarrow as pa
import pytest

import excx
from excx.api.customer_links import customer_link
from excx.api.security import derive
from excx.api.surveys import create_survey, issue_tokens

SECRET = "workers-secret-" + "w" * 40
STARTUP_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def two_workers(postgres_url, tmp_path):
    """(base URL, store URL) of ``excx serve --workers 2`` on an empty schema,
    once both workers have opened the store."""
    port = _free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-c", "from excx.cli import app; app()", "serve"]
    command += ["--store", postgres_url, "--port", str(port), "--workers", "2"]
    env = os.environ | {"EXCX_SECRET_KEY": SECRET}
    env.pop("EXCX_DEV", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=out, cwd=tmp_path
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while log.read_text().count("excx serve: store") < 2:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", postgres_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_two_workers_answer_a_pulse_and_a_customer_link(two_workers):
    base, store_url = two_workers
    with excx.connect(store_url) as store:
        units = pa.table({"unit_id": ["u1"], "name": ["U1"], "kind": ["branch"]})
        store.write({"units": units})
        create_survey(store, "p", audience="employee", kind="pulse", items=("pride",))
        create_survey(store, "c", audience="customer", kind="transactional")
        pulse = issue_tokens(store, "p", {"u1": 1}, base_url=base)[0]["link"]
    cx = customer_link(
        SECRET,
        base_url=base,
        survey_id="c",
        interaction_id="call-1",
        channel="store",
        served_by="human",
        unit_id="u1",
        expires_at=dt.datetime(2100, 1, 1),
    )

    with httpx2.Client(timeout=30) as client:
        for link, fields in ((pulse, {"enps": "9"}), (cx, {"nps": "10"})):
            form = fields | {"form_token": derive(SECRET, "form", link.rsplit("/")[-1])}
            answer = client.post(link, data=form)
            assert answer.status_code == 200 and "Thank you" in answer.text
            # whichever worker takes the resend, the credential is spent
            assert client.post(link, data=form).status_code in (409, 410)

    with excx.connect(store_url) as store:
        assert store.count("employee_responses") == 1
        assert store.count("employee_items") == 0
        assert store.count("customer_responses") == 1
