"""A survey answer sent to the running server is in the very next dashboard page
and API answer: the committed write raised the store generation."""

from __future__ import annotations

from tests.web.test_pages import _answer

CACHE = "X-Excx-Cache"
ENPS = "/api/v1/metrics/enps?by=unit_id&unit=R1-B001"


def _n(client) -> int:
    answer = client.get(ENPS)
    assert answer.status_code == 200, answer.text
    return sum(row["n"] for row in answer.json()["rows"])


def test_a_pulse_answer_is_counted_by_the_next_request(live):
    with live.client("ada") as admin:
        before = _n(admin)
        page = admin.get("/dashboard/comments?unit=R1")
        again = admin.get("/dashboard/comments?unit=R1")
        assert again.headers[CACHE] == "hit" and again.text == page.text
        assert admin.get(ENPS).headers[CACHE] == "hit"

        with live.client() as employee:
            link = live.take_link("R1-B001")
            fields = {"enps": "9", "item_pride": "4", "comment": "fresh after write"}
            assert _answer(employee, link, fields) == 200

        assert _n(admin) == before + 1
        after = admin.get("/dashboard/comments?unit=R1")
        assert after.headers[CACHE] == "computed"
        assert "fresh after write" in after.text


def test_a_cached_page_carries_each_users_own_name_and_token(live):
    import excx
    from excx.api.users import add_user
    from tests.web.conftest import PASSWORD

    with excx.connect(live.store_url) as store:
        add_user(store, "ada.two", PASSWORD, role="admin")
    path = "/dashboard/heatmap?kpi=nps"
    with live.client("ada") as ada, live.client("ada.two") as other:
        first = ada.get(path)
        second = other.get(path)
    assert second.headers[CACHE] == "hit"
    for page, client, name in ((first, ada, "ada"), (second, other, "ada.two")):
        token = client.headers["X-CSRF-Token"]
        assert f'data-csrf="{token}"' in page.text
        assert f'<span class="who">{name} (admin)' in page.text
    assert "ada.two" not in first.text
