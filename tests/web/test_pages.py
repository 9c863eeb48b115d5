"""The dashboard's pages over HTTP (no browser): access, filters, privacy, escaping.

Expected figures are those of ``excx.metrics.compute`` on the same store: the
dashboard must show the library's numbers, with the API's privacy rule.
"""

from __future__ import annotations

import re

import pytest

import excx
import excx.metrics

PAGES = ["", "/heatmap", "/channels", "/comments", "/linkage"]


def _tile(html: str, kpi: str) -> tuple[int | None, str]:
    """n and displayed value of one KPI tile."""
    tile = html.split(f'data-kpi="{kpi}"', 1)[1].split("</article>", 1)[0]
    n = re.search(r'data-n="(\d*)"', tile).group(1)
    value = re.search(r'<p class="value">([^<]*)</p>', tile).group(1)
    return (int(n) if n else None), value


def _answer(client, link: str, fields: dict) -> int:
    """Fill a survey form (its hidden form token included) and send it."""
    form = client.get(link)
    assert form.status_code == 200, form.text
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    return client.post(link, data={"form_token": token} | fields).status_code


@pytest.mark.parametrize("page", PAGES)
def test_a_page_without_session_sends_to_the_login(live, page):
    with live.client() as anonymous:
        answer = anonymous.get(f"/dashboard{page}?region=North")
    assert answer.status_code == 303
    assert answer.headers["location"] == (
        f"/login?next=%2Fdashboard{page.replace('/', '%2F')}%3Fregion%3DNorth"
    )


def test_the_login_page_returns_only_to_a_local_page(live):
    with live.client() as anonymous:
        local = anonymous.get("/login?next=/dashboard/heatmap").text
        elsewhere = anonymous.get("/login?next=//evil.example/x").text
    assert 'data-next="/dashboard/heatmap"' in local
    assert 'data-next="/dashboard"' in elsewhere and "evil" not in elsewhere


def test_a_manager_is_refused_linkage_and_units_outside_the_subtree(live):
    with live.client("max") as manager:
        assert manager.get("/dashboard/linkage").status_code == 403
        outside = manager.get("/dashboard/heatmap?unit=R2-B001")
        own = manager.get("/dashboard/heatmap?unit=R1-B001")
    assert outside.status_code == 403 and "outside your subtree" in outside.text
    assert own.status_code == 200 and "R1-B001" in own.text


@pytest.mark.parametrize(
    ("query", "accepted"),
    [
        ("grain=week", "month, quarter"),
        ("region=Atlantis", "Centre, Coast, East, North, South, West"),
        ("region=%3Cb%3EAtlantis%3C%2Fb%3E", "&#39;&lt;b&gt;Atlantis&lt;/b&gt;&#39;"),
        ("period=2026-13-01", "a date YYYY-MM-DD"),
        ("period=2026-02-15", "the first day of a month"),
        ("grain=quarter&period=2026-02-01", "the first day of a quarter"),
        ("channel=fax", "store, contact_centre"),
        ("unit=R9", "a unit_id of the units table"),
    ],
)
def test_an_unknown_filter_is_refused_with_what_is_accepted(live, query, accepted):
    with live.client("ada") as admin:
        answer = admin.get(f"/dashboard?{query}")
    assert answer.status_code == 422
    assert accepted in answer.text and "<b>Atlantis" not in answer.text


def test_tiles_are_the_library_figures_under_the_privacy_rule(live):
    """Employee figures of a subtree are the unit's rollup row, with the period
    grouped: the calls the API accepts for employee KPIs."""
    with live.client("ada") as admin:
        html = admin.get("/dashboard?unit=R2&grain=quarter&period=2026-04-01").text
    where = {"unit_id": ["R2"], "period": ["2026-04-01"]}
    with excx.connect(live.store_url) as store:
        for kpi in ("enps", "engagement", "nps"):
            expected = excx.metrics.compute(
                store,
                kpi,
                by=("unit_id", "period"),
                period="quarter",
                rollup=True,
                where=where,
            ).iloc[0]
            assert _tile(html, kpi) == (int(expected["n"]), f"{expected['value']:.1f}")


def test_a_manager_sees_their_subtree_by_default(live):
    with live.client("max") as manager:
        html = manager.get("/dashboard").text
    with excx.connect(live.store_url) as store:
        expected = excx.metrics.compute(
            store, "enps", by=("unit_id",), rollup=True, where={"unit_id": ["R1"]}
        ).iloc[0]
    assert _tile(html, "enps") == (int(expected["n"]), f"{expected['value']:.1f}")


def test_channel_rows_are_the_library_rows(live):
    with live.client("val") as viewer:
        html = viewer.get("/dashboard/channels?region=South&channel=contact_centre")
    with excx.connect(live.store_url) as store:
        units = excx.metrics.compute(store, "ces", by=("unit_id",))
        south = [u for u in units["unit_id"].dropna() if u.startswith("R2")]
        expected = excx.metrics.compute(
            store,
            "ces",
            by=("channel", "served_by"),
            where={"unit_id": ["R2", *south], "channel": ["contact_centre"]},
        )
    assert len(expected) > 0
    for row in expected.itertuples():
        cells = f"<td>ces</td><td>contact_centre</td><td>{row.served_by}</td>"
        assert f"{cells}<td>{row.n}</td><td>{row.value:.1f}</td>" in html.text


def test_comments_are_listed_only_above_the_threshold_and_escaped(live):
    attack = "<script>alert('x')</script> & more"
    with live.client() as employee:
        big = _answer(
            employee,
            live.take_link("R1-B001"),
            {"enps": "8", "item_pride": "3", "comment": attack},
        )
        small = _answer(
            employee,
            live.take_link("R1-B002"),
            {"enps": "2", "item_pride": "1", "comment": "only nine of us here"},
        )
    assert (big, small) == (200, 200)

    with live.client("ada") as admin:
        html = admin.get("/dashboard/comments?unit=R1").text
    # R1-B002 has 8 + 1 respondents in December 2026: under the threshold of 10.
    assert "only nine of us here" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in html
    assert "<script>alert(" not in html
    hidden = int(re.search(r"(\d+) group\(s\) with comments stay hidden", html)[1])
    assert hidden >= 1


def test_customer_comments_are_escaped(live):
    with live.client("ada") as admin:
        created = admin.post(
            "/api/v1/surveys",
            json={
                "survey_id": "cx-web",
                "audience": "customer",
                "kind": "transactional",
            },
        )
        assert created.status_code == 201, created.text
        links = admin.post(
            "/api/v1/surveys/cx-web/customer-links",
            json={
                "interactions": [
                    {
                        "interaction_id": "i-1",
                        "channel": "chatbot",
                        "served_by": "bot",
                        "unit_id": "R1-CC",
                    }
                ]
            },
        ).json()
    comment = '<img src=x onerror="alert(1)">'
    with live.client() as customer:
        fields = {"nps": "3", "csat": "2", "ces": "5", "comment": comment}
        assert _answer(customer, links[0]["link"], fields) == 200
    with live.client("val") as viewer:
        html = viewer.get("/dashboard/comments?channel=chatbot").text
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<img src=x" not in html
