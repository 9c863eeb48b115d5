"""A live ``excx serve`` per backend over the synthetic bank, and a browser.

``live`` starts the app with uvicorn in a thread on 127.0.0.1 and a free port,
over a store holding ``excx.synth.generate("small", seed=0)`` with the programme
of :func:`excx.journey.synth.programme` (an initiative in every region), the
interaction logs of :func:`excx.channels.synth.interactions`, answers to the
``prefers_person`` item and a second initiative in the North (:data:`NORTH`,
HTML in its names), three users and a pulse survey created through the REST API
(its links kept for the tests). The
store is shared by every test of the session: tests that answer surveys only add
answers to groups whose suppression they do not change.

``browser`` is Debian's Chromium driven by Playwright; without it the browser
tests fail under CI (``CI=true``) and are skipped elsewhere, as PostgreSQL is
treated in ``tests/conftest.py``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pyarrow as pa
import pytest
import uvicorn

import excx
from excx.api import Settings, create_app
from excx.api.users import add_user
from excx.channels.synth import interactions
from excx.journey import programme
from excx.journey.synth import programme as synthetic_programme
from excx.synth import generate

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PAGE_TIMEOUT_MS = 300_000
SECRET = "web-test-secret-" + "y" * 40
PASSWORD = "password-1"
USERS = {
    "ada": ("admin", None),
    "ann": ("analyst", None),
    "max": ("manager", "R1"),
    "val": ("viewer", None),
}
# Pulse invitations: a big group (R1-B001, 30 answers in Dec 2026) and a small one
# (R1-B002, 8 answers, under the comment threshold of 10).
INVITEES = {"R1-B001": 6, "R1-B002": 2}
# An initiative whose units are all in the manager's subtree (R1), on the North
# units the synthetic programme leaves untreated; HTML in the names.
NORTH = "ini-north"
NORTH_NAME = '<script>alert("ini")</script> North & co'
NORTH_ACTIVITY = "<img src=x onerror=alert(1)> rota"


@dataclass
class Live:
    """A running server: its address, its store's URL and unused pulse links."""

    url: str
    store_url: str
    backend: str
    links: dict[str, list[str]] = field(default_factory=dict)

    @contextlib.contextmanager
    def client(self, username: str | None = None) -> Iterator[httpx2.Client]:
        """An httpx2 client on the server, logged in as `username` if given
        (CSRF header set)."""
        with httpx2.Client(
            base_url=self.url, follow_redirects=False, timeout=120
        ) as client:
            if username is not None:
                answer = client.post(
                    "/api/v1/login", json={"username": username, "password": PASSWORD}
                )
                answer.raise_for_status()
                client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
            yield client

    def take_link(self, unit_id: str) -> str:
        """A pulse link of `unit_id` that no test has used yet."""
        return self.links[unit_id].pop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _postgres_schema() -> tuple[str, str, str]:
    base = os.environ.get("EXCX_TEST_POSTGRES_URL")
    if not base:
        if IN_CI:
            pytest.fail("CI must run the PostgreSQL tests: set EXCX_TEST_POSTGRES_URL")
        pytest.skip("no PostgreSQL: set EXCX_TEST_POSTGRES_URL")
    import psycopg

    schema = f"t_web_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    return base, schema, f"{base}{sep}options=-csearch_path%3D{schema}"


def _serve(app, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.05)
    return server, thread


def _pulse_links(live: Live) -> dict[str, list[str]]:
    """Create a pulse survey and its links through the REST API, as an admin."""
    with live.client("ada") as admin:
        created = admin.post(
            "/api/v1/surveys",
            json={
                "survey_id": "pulse-web",
                "audience": "employee",
                "kind": "pulse",
                "items": ["pride", "energy"],
                "comment": True,
            },
        )
        assert created.status_code == 201, created.text
        issued = admin.post(
            "/api/v1/surveys/pulse-web/tokens", json={"units": INVITEES}
        )
        assert issued.status_code == 200, issued.text
    links: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(issued.text)):
        links.setdefault(row["unit_id"], []).append(row["link"])
    return links


def _bank_with_programme() -> dict[str, pa.Table]:
    """The small bank, its programme (no NPS effect, so that the customer
    answers are those the interaction logs score), the logs, and answers to the
    ``prefers_person`` item (1 to 5 in turn) for every fourth customer answer."""
    company = generate("small", seed=0)
    tables = dict(company.tables)
    tables |= synthetic_programme(company, enps_effect=10, nps_effect=0)[0]
    tables |= interactions(company, handoff_cost=15)[0]
    answered = company.tables["customer_responses"].column("response_id")[::4]
    items = tables["customer_items"]
    extra = pa.table(
        {
            "response_id": answered,
            "item_id": ["prefers_person"] * len(answered),
            "value": [1 + i % 5 for i in range(len(answered))],
        }
    ).cast(items.schema)
    tables["customer_items"] = pa.concat_tables([items, extra])
    return tables


def _north_initiative(store) -> None:
    """:data:`NORTH`, with a done Tell and an active Reward activity, and a
    recognition and a feedback action of its units."""
    programme.add_initiative(
        store,
        name=NORTH_NAME,
        starts_on="2026-01-01",
        ends_on="2026-12-31",
        initiative_id=NORTH,
    )
    for phase, status, units in (
        ("tell", "done", ["R1-B004", "R1-CC-T01"]),
        ("reward", "active", ["R1-B004"]),
    ):
        programme.add_activity(
            store,
            NORTH,
            phase=phase,
            name=NORTH_ACTIVITY if phase == "tell" else "Team awards",
            units=units,
            starts_on="2026-03-01",
            ends_on="2026-06-30",
            status=status,
            activity_id=f"{NORTH}-{phase}",
        )
    programme.recognise(store, unit_id="R1-B004", period="2026-04-10", kind="award")
    programme.add_action(
        store, unit_id="R1-CC-T01", description="New rota", opened_on="2026-03-02"
    )


@pytest.fixture(
    scope="session",
    params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def live(request, tmp_path_factory):
    """The bank behind a running ``excx serve``, once per backend."""
    schema = None
    if request.param == "duckdb":
        store_url = f"duckdb://{tmp_path_factory.mktemp('web') / 'excx.duckdb'}"
    else:
        base, schema, store_url = _postgres_schema()
    with excx.connect(store_url) as store:
        store.init()
        store.write(_bank_with_programme())
        _north_initiative(store)
        for name, (role, unit) in USERS.items():
            add_user(store, name, PASSWORD, role=role, unit_id=unit)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(store=store_url, secret_key=SECRET, public_url=url)
    server, thread = _serve(create_app(settings), port)
    running = Live(url, store_url, request.param)
    running.links = _pulse_links(running)
    yield running

    server.should_exit = True
    thread.join(timeout=300)  # lets a request still running finish first
    if schema is not None:
        import psycopg

        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (never a downloaded browser)."""
    if not os.access(CHROMIUM, os.X_OK):
        if IN_CI:
            pytest.fail(f"CI must run the browser tests: {CHROMIUM} is missing")
        pytest.skip(f"no {CHROMIUM}: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Tab:
    """A browser page, and every URL it asked for outside 127.0.0.1 (blocked)."""

    page: object
    live: Live
    outside: list[str] = field(default_factory=list)

    def login(self, username: str, *, start: str = "/dashboard") -> None:
        """Open `start`, get sent to the login form, log in, come back."""
        self.page.goto(self.live.url + start)
        self.page.wait_for_url("**/login?next=*")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("#login button[type=submit]")
        self.page.wait_for_url(f"**{start}")

    def screenshot(self, name: str, *, page=None) -> Path:
        """Save a full-page PNG under test-artifacts/screenshots/."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.live.backend}-{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=True)
        return path


def _local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1"


@pytest.fixture
def tab(browser, live):
    """A fresh browser context on the live server; requests to any other host
    are aborted and recorded, and fail the test."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    # Generous: the overview runs ten metric calls (3-15 s on PostgreSQL here,
    # on two cores shared with other benchmarks; seconds when run alone).
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
    opened = Tab(context.new_page(), live)

    def guard(route) -> None:
        if _local(route.request.url):
            route.continue_()
        else:
            opened.outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.on(
        "request",
        lambda r: None if _local(r.url) else opened.outside.append(r.url),
    )
    yield opened
    context.close()
    assert opened.outside == [], f"requests left 127.0.0.1: {opened.outside}"
