"""Survey pages: pulse tokens single use, customer links unforgeable and not
replayable, bad answers refused with nothing stored, comments escaped."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest

from excx.api.customer_links import customer_link
from excx.api.security import digest

RESPONSE_TABLES = (
    "employee_responses",
    "employee_items",
    "customer_responses",
    "survey_tokens",
    "survey_interactions",
)
INJECTION = "<script>alert('x')</script>'); DROP TABLE customer_responses; --"


def _path(link: str) -> str:
    return link.replace("http://127.0.0.1:8000", "")


def _form_token(page: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def pulse(fresh):
    """Three pulse links for branch R1-B001."""
    headers = fresh.login("ada")
    fresh.client.post(
        "/api/v1/surveys",
        headers=headers,
        json={
            "survey_id": "pulse-1",
            "audience": "employee",
            "kind": "pulse",
            "items": ["pride", "energy"],
        },
    )
    links = fresh.client.post(
        "/api/v1/surveys/pulse-1/tokens",
        json={"units": {"R1-B001": 3}},
        headers=headers,
    ).text.splitlines()[1:]
    return [_path(line.split(",")[1]) for line in links]


@pytest.fixture
def customer(fresh):
    """A signing function for links of customer survey cx-1."""
    headers = fresh.login("ada")
    fresh.client.post(
        "/api/v1/surveys",
        headers=headers,
        json={"survey_id": "cx-1", "audience": "customer", "kind": "transactional"},
    )

    def link(interaction="call-1", unit="R1-CC-T01", **extra):
        body = {
            "interactions": [
                {
                    "interaction_id": interaction,
                    "channel": "contact_centre",
                    "served_by": "human",
                    "unit_id": unit,
                }
            ]
        } | extra
        answer = fresh.client.post(
            "/api/v1/surveys/cx-1/customer-links", json=body, headers=headers
        )
        return _path(answer.json()[0]["link"])

    return link


def _answer_pulse(api, path, **fields):
    page = api.client.get(path)
    data = {
        "form_token": _form_token(page.text),
        "enps": "9",
        "item_pride": "4",
        "item_energy": "5",
    } | fields
    return api.client.post(path, data=data)


def test_pulse_answer_keeps_unit_and_day_never_token_or_time(fresh, pulse):
    page = fresh.client.get(pulse[0])
    assert page.status_code == 200
    assert '<meta name="viewport"' in page.text
    answer = _answer_pulse(fresh, pulse[0], comment="Good team")
    assert answer.status_code == 200 and "Thank you" in answer.text

    rows = fresh.store.to_pyarrow(fresh.store.table("employee_responses")).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["unit_id"] == "R1-B001" and row["survey_id"] == "pulse-1"
    assert row["enps"] == 9 and row["comment"] == "Good team"
    assert row["submitted_at"].time() == dt.time(0, 0)
    assert row["submitted_at"].date() == dt.datetime.now(dt.UTC).date()
    token = pulse[0].rsplit("/", 1)[1]
    assert token not in json.dumps(rows, default=str)
    assert digest(token) not in json.dumps(rows, default=str)
    items = fresh.store.to_pyarrow(fresh.store.table("employee_items")).to_pylist()
    assert sorted((i["item_id"], i["value"]) for i in items) == [
        ("energy", 5),
        ("pride", 4),
    ]
    assert all(i["response_id"] == row["response_id"] for i in items)
    used = fresh.store.to_pyarrow(fresh.store.table("survey_tokens")).to_pylist()
    assert [t["used"] for t in used].count(True) == 1


def test_pulse_token_answers_once(fresh, pulse):
    page = fresh.client.get(pulse[1])
    data = {"form_token": _form_token(page.text), "enps": "3"}
    assert fresh.client.post(pulse[1], data=data).status_code == 200
    before = fresh.counts(*RESPONSE_TABLES)
    again = fresh.client.post(pulse[1], data=data)
    assert again.status_code == 410
    assert fresh.client.get(pulse[1]).status_code == 410
    assert fresh.counts(*RESPONSE_TABLES) == before
    assert fresh.client.get("/s/pulse/not-a-token").status_code == 404


@pytest.mark.parametrize(
    "fields",
    [
        {"enps": "11"},
        {"enps": "-1"},
        {"enps": ""},
        {"enps": "nine"},
        {"item_pride": "6"},
        {"item_energy": "0"},
        {"comment": "x" * 2001},
    ],
)
def test_bad_pulse_answers_are_422_and_store_nothing(fresh, pulse, fields):
    before = fresh.counts(*RESPONSE_TABLES)
    answer = _answer_pulse(fresh, pulse[0], **fields)
    assert answer.status_code == 422
    assert fresh.counts(*RESPONSE_TABLES) == before
    # the token is still good
    assert _answer_pulse(fresh, pulse[0]).status_code == 200


def test_pulse_post_without_the_page_is_refused(fresh, pulse):
    before = fresh.counts(*RESPONSE_TABLES)
    for token in (None, "forged"):
        data = {"enps": "10"} | ({"form_token": token} if token else {})
        assert fresh.client.post(pulse[0], data=data).status_code == 403
    other = _form_token(fresh.client.get(pulse[1]).text)
    assert (
        fresh.client.post(
            pulse[0], data={"enps": "10", "form_token": other}
        ).status_code
        == 403
    )
    assert fresh.counts(*RESPONSE_TABLES) == before


def test_comment_is_stored_verbatim_and_rendered_escaped(fresh, pulse):
    rejected = _answer_pulse(fresh, pulse[0], enps="12", comment=INJECTION)
    assert rejected.status_code == 422
    assert "<script>" not in rejected.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in rejected.text
    assert _answer_pulse(fresh, pulse[0], comment=INJECTION).status_code == 200
    stored = fresh.store.to_pyarrow(
        fresh.store.table("employee_responses").select("comment")
    ).to_pylist()
    assert stored == [{"comment": INJECTION}]
    assert fresh.store.count("customer_responses") == 0  # the table still exists


def test_customer_answer_takes_attribution_from_the_signed_link(fresh, customer):
    path = customer()
    page = fresh.client.get(path, headers={"Accept-Language": "it-IT,it;q=0.9"})
    assert page.status_code == 200 and "Com&#39;è andata?" in page.text
    data = {
        "form_token": _form_token(page.text),
        "nps": "10",
        "csat": "5",
        "ces": "6",
        "comment": INJECTION,
        "unit_id": "R2-B001",
        "channel": "web",
    }
    answer = fresh.client.post(path + "?lang=it", data=data)
    assert answer.status_code == 200 and "Grazie" in answer.text
    rows = fresh.store.to_pyarrow(fresh.store.table("customer_responses")).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert (row["unit_id"], row["channel"], row["served_by"]) == (
        "R1-CC-T01",
        "contact_centre",
        "human",
    )
    assert (row["nps"], row["csat"], row["ces"]) == (10, 5, 6)
    assert row["comment"] == INJECTION


def test_customer_link_replay_is_refused(fresh, customer):
    path = customer("call-7")
    form_token = _form_token(fresh.client.get(path).text)
    assert (
        fresh.client.post(path, data={"form_token": form_token, "nps": "8"}).status_code
        == 200
    )
    before = fresh.counts(*RESPONSE_TABLES)
    assert (
        fresh.client.post(path, data={"form_token": form_token, "nps": "0"}).status_code
        == 409
    )
    # a second link for the same interaction is a replay too
    fresh_link = customer("call-7")
    assert fresh.client.get(fresh_link).status_code == 409
    assert fresh.counts(*RESPONSE_TABLES) == before


def _tamper(path: str, **changes) -> str:
    token = path.rsplit("/", 1)[1]
    body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload |= changes
    encoded = (
        base64.urlsafe_b64encode(
            json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    return f"/s/cx/{encoded}.{signature}"


def test_forged_customer_link_is_refused(fresh, customer):
    path = customer("call-9")
    form_token = _form_token(fresh.client.get(path).text)
    before = fresh.counts(*RESPONSE_TABLES)
    for forged in (
        _tamper(path, u="R2-B001"),
        _tamper(path, b="bot"),
        path[:-3] + "AAA",
        "/s/cx/garbage",
    ):
        assert fresh.client.get(forged).status_code == 403
        answer = fresh.client.post(forged, data={"form_token": form_token, "nps": "9"})
        assert answer.status_code == 403
    assert fresh.counts(*RESPONSE_TABLES) == before
    # the genuine link still works
    assert (
        fresh.client.post(path, data={"form_token": form_token, "nps": "9"}).status_code
        == 200
    )


@pytest.mark.parametrize(
    "fields",
    [{"nps": "11"}, {"nps": ""}, {"csat": "0"}, {"ces": "8"}, {"ces": "1.5"}],
)
def test_bad_customer_scores_are_422_and_store_nothing(fresh, customer, fields):
    path = customer()
    data = {"form_token": _form_token(fresh.client.get(path).text), "nps": "9"}
    before = fresh.counts(*RESPONSE_TABLES)
    assert fresh.client.post(path, data=data | fields).status_code == 422
    assert fresh.counts(*RESPONSE_TABLES) == before


def test_oversized_answers_are_413_and_store_nothing(fresh, pulse, customer):
    before = fresh.counts(*RESPONSE_TABLES)
    huge = {"form_token": "x", "enps": "9", "comment": "x" * 100_000}
    assert fresh.client.post(pulse[0], data=huge).status_code == 413

    def chunks():  # no Content-Length: the body arrives chunked
        yield b"enps=9&comment="
        for _ in range(100):
            yield b"y" * 1000

    chunked = fresh.client.post(
        customer(),
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert chunked.status_code == 413
    assert fresh.counts(*RESPONSE_TABLES) == before


def test_pages_reference_no_external_url(fresh, pulse, customer):
    pages = [
        fresh.client.get(pulse[0]),
        fresh.client.get(customer()),
        fresh.client.get("/s/pulse/unknown"),
        fresh.client.get("/docs"),
        _answer_pulse(fresh, pulse[1], enps="99"),
    ]
    for page in pages:
        assert "<html" in page.text
        assert not re.search(r"(https?:)?//[\w.-]+\.\w", page.text), page.url


def test_expired_customer_link_is_410(fresh, customer):
    customer()  # creates survey cx-1
    settings = fresh.client.app.state.settings
    expired = customer_link(
        settings.secret_key,
        base_url="",
        survey_id="cx-1",
        interaction_id="call-old",
        channel="store",
        served_by="human",
        unit_id="R1-B001",
        expires_at=dt.datetime(2020, 1, 1),
    )
    assert fresh.client.get(expired).status_code == 410
    before = fresh.counts(*RESPONSE_TABLES)
    answer = fresh.client.post(expired, data={"form_token": "x", "nps": "9"})
    assert answer.status_code == 410
    assert fresh.counts(*RESPONSE_TABLES) == before


def test_closed_pulse_is_410(fresh):
    headers = fresh.login("ada")
    fresh.client.post(
        "/api/v1/surveys",
        headers=headers,
        json={
            "survey_id": "old",
            "audience": "employee",
            "kind": "pulse",
            "opens_at": "2025-01-01T00:00:00Z",
            "closes_at": "2025-02-01T00:00:00Z",
        },
    )
    links = fresh.client.post(
        "/api/v1/surveys/old/tokens", json={"units": {"R1-B001": 1}}, headers=headers
    ).text.splitlines()[1:]
    path = _path(links[0].split(",")[1])
    assert fresh.client.get(path).status_code == 410
    answer = fresh.client.post(path, data={"form_token": "x", "enps": "9"})
    assert answer.status_code == 410
    assert fresh.store.count("employee_responses") == 0
