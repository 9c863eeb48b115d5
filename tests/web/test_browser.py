"""The dashboard in Debian's Chromium: log in, filter, heatmap, answer a pulse,
the journey and human-touch pages.

Expected figures are those of ``excx.metrics.compute`` on the same store (the
dashboard must show the library's numbers, not its own), read in the test.
"""

from __future__ import annotations

import re

import excx
import excx.metrics
from excx.journey.synth import INITIATIVE_ID
from excx.schema import PHASES

KPI_COUNT = 5


def _tile(tab, kpi: str) -> tuple[int, str]:
    """A tile's n and displayed value."""
    tile = tab.page.locator(f".tile[data-kpi={kpi}]")
    n = int(tile.locator(".n").get_attribute("data-n"))
    return n, tile.locator(".value").inner_text()


def _charts_drawn(tab, expected: int) -> None:
    """Wait until vega-embed has drawn `expected` charts as SVG."""
    tab.page.wait_for_function(
        "n => document.querySelectorAll('.chart[data-drawn=true] svg').length >= n",
        arg=expected,
    )
    assert tab.page.locator(".chart svg").count() == expected
    assert "could not be drawn" not in tab.page.inner_text("main")


def test_login_overview_and_a_filter_change_the_figures(tab, live):
    tab.login("ada")
    assert tab.page.locator(".tile").count() == KPI_COUNT
    _charts_drawn(tab, KPI_COUNT)
    tab.screenshot("overview")
    all_n, all_value = _tile(tab, "nps")

    tab.page.select_option("select[name=region]", "North")
    tab.page.click("#filters button[type=submit]")
    tab.page.wait_for_url(re.compile(r".*region=North.*"))
    _charts_drawn(tab, KPI_COUNT)
    north_n, north_value = _tile(tab, "nps")
    tab.screenshot("overview-north")

    with excx.connect(live.store_url) as store:
        whole = excx.metrics.compute(store, "nps")
        north = excx.metrics.compute(
            store, "nps", by=("region",), where={"region": ["North"]}
        )
    assert all_n == int(whole["n"].iloc[0])
    assert north_n == int(north["n"].iloc[0]) < all_n
    assert north_value == f"{north['value'].iloc[0]:.1f}" != all_value
    assert tab.outside == []


def test_heatmap_marks_suppressed_cells(tab, live):
    tab.login("ada", start="/dashboard/heatmap")
    marked = tab.page.locator("table.heatmap td.suppressed")
    tab.screenshot("heatmap")

    with excx.connect(live.store_url) as store:
        frame = excx.metrics.compute(
            store, "enps", by=("unit_id", "period"), rollup=True
        )
    expected = int(frame["suppressed"].sum())
    assert expected > 0
    assert marked.count() == expected
    assert set(marked.all_inner_texts()) == {"×"}
    shown = "table.heatmap td.cell:not(.suppressed):not(.empty)"
    assert tab.page.locator(shown).count() > expected


def test_a_pulse_answer_changes_the_response_count(tab, live):
    tab.login("ada", start="/dashboard?unit=R1-B001")
    before, _ = _tile(tab, "enps")

    link = live.take_link("R1-B001")
    pulse = tab.page.context.new_page()
    pulse.goto(link)
    pulse.check("input[name=enps][value='9']")
    pulse.check("input[name=item_pride][value='4']")
    pulse.check("input[name=item_energy][value='5']")
    pulse.fill("textarea[name=comment]", "More <b>training</b>, please")
    pulse.click("button[type=submit]")
    pulse.wait_for_selector("text=your answer has been saved")
    tab.screenshot("pulse-thanks", page=pulse)
    assert pulse.goto(link).status == 410  # a link answers once

    tab.page.reload()
    after, _ = _tile(tab, "enps")
    tab.screenshot("overview-after-pulse")
    assert after == before + 1
    assert tab.outside == []


def test_channels_and_linkage_pages_draw_their_charts(tab, live):
    tab.login("val", start="/dashboard/channels")
    _charts_drawn(tab, 1)
    assert tab.page.locator("table.figures tbody tr").count() > 3
    tab.screenshot("channels")

    tab.page.click("nav >> text=Linkage")
    tab.page.wait_for_url("**/dashboard/linkage")
    _charts_drawn(tab, 2)
    assert "chain_money" in tab.page.inner_text("main")
    tab.screenshot("linkage")


def test_a_manager_sees_only_their_subtree_and_no_linkage(tab, live):
    tab.login("max")
    units = tab.page.locator("select[name=unit] option").all_inner_texts()
    assert units[0] == "my units"
    assert all("(R1" in label for label in units[1:]) and len(units) > 3
    assert tab.page.locator("nav >> text=Linkage").count() == 0

    answer = tab.page.goto(live.url + "/dashboard/linkage")
    assert answer.status == 403
    answer = tab.page.goto(live.url + "/dashboard?unit=R2")
    assert answer.status == 403
    assert "outside your subtree" in tab.page.inner_text("main")


def test_logout_ends_the_session(tab, live):
    tab.login("val")
    tab.page.click("#logout")
    tab.page.wait_for_url("**/login")
    tab.page.goto(live.url + "/dashboard")
    tab.page.wait_for_url("**/login?next=*")


def test_the_journey_page_shows_the_six_phases(tab, live):
    tab.login("ann", start=f"/dashboard/journey?initiative={INITIATIVE_ID}")
    phases = tab.page.locator("article.phase h3")
    assert phases.count() == len(PHASES)
    for phase in PHASES:
        tab.page.locator(f"article.phase[data-phase={phase}] h3").wait_for()
        assert phase.capitalize() in tab.page.inner_text(f"[data-phase={phase}] h3")
    _charts_drawn(tab, tab.page.locator(".chart").count())
    tab.screenshot("journey")

    tab.page.click("nav >> text=Human touch")
    tab.page.wait_for_url("**/dashboard/human-touch")
    assert "would rather deal with a person" in tab.page.inner_text("main")
    assert tab.page.locator("table.paths tbody tr").count() == 10
    tab.screenshot("human-touch")
