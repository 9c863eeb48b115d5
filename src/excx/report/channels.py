"""The report's human-touch page: KPIs by channel × served_by, preference for a
person, common journey paths and the cost of a bot-to-human hand-off.

Every figure comes from :mod:`excx.channels` (KPIs through
:func:`excx.metrics.compute`; the hand-off model sees unit eNPS only through the
privacy gate). This module only lays them out, offline with vendored Vega.

>>> import pandas as pd
>>> rows = pd.DataFrame({"kpi": "csat", "channel": ["web"], "served_by": ["bot"],
...     "n": [40], "value": [70.0], "ci_low": [55.0], "ci_high": [82.0],
...     "suppressed": [False]})
>>> kpi_chart(rows, "csat").to_dict()["layer"][0]["mark"]["type"]
'bar'
"""

from __future__ import annotations

import logging
import warnings
from html import escape
from pathlib import Path

import altair as alt
import pandas as pd

from excx.errors import ExcxWarning, InputError
from excx.report.charts import SERVED_BY_COLOURS
from excx.report.page import html_table, number, text, value_cell, write_page
from excx.schema import CHANNELS
from excx.store import Store

__all__ = ["kpi_chart", "handoff_with_notes", "write_human_touch_page"]

log = logging.getLogger("excx")

_LABELS = {"nps": "NPS (−100..100)", "csat": "CSAT (% 4–5)", "ces": "CES (mean 1–7)"}


def kpi_chart(rows: pd.DataFrame, kpi: str, *, level: float = 0.95):
    """One KPI per channel, a bar per kind of service, with interval whiskers."""
    rows = rows.loc[
        (rows["kpi"] == kpi) & ~rows["suppressed"],
        ["channel", "served_by", "n", "value", "ci_low", "ci_high"],
    ]
    base = alt.Chart(rows, title=alt.Title(_LABELS.get(kpi, kpi))).encode(
        x=alt.X("channel:N", title=None, sort=list(CHANNELS)),
        xOffset=alt.XOffset("served_by:N", sort=list(SERVED_BY_COLOURS)),
    )
    bars = base.mark_bar().encode(
        y=alt.Y("value:Q", title=kpi.upper()),
        color=alt.Color(
            "served_by:N",
            title="served by",
            scale=alt.Scale(
                domain=list(SERVED_BY_COLOURS), range=list(SERVED_BY_COLOURS.values())
            ),
        ),
        tooltip=[
            "channel:N",
            "served_by:N",
            alt.Tooltip("value:Q", format=".2f"),
            alt.Tooltip("ci_low:Q", format=".2f", title=f"{level:.0%} from"),
            alt.Tooltip("ci_high:Q", format=".2f", title="to"),
            "n:Q",
        ],
    )
    whiskers = base.mark_rule(color="#333").encode(y="ci_low:Q", y2="ci_high:Q")
    return alt.layer(bars, whiskers).properties(width=360, height=220)


def write_human_touch_page(
    store: Store,
    out: str | Path,
    *,
    item: str = "prefers_person",
    top: int = 10,
    level: float = 0.95,
    handoff: tuple[pd.DataFrame | None, str | None, list[str]] | None = None,
) -> Path:
    """Write ``out/human_touch.html`` (and the Vega scripts into ``out/vendor/``).

    Parameters
    ----------
    store
        The open store.
    out
        Folder of the report; created if missing.
    item
        The customer item asking whether they prefer a person (1–5).
    top
        How many journey paths to show.
    level
        Confidence level of every interval.
    handoff
        :func:`handoff_with_notes` when already computed.

    Returns
    -------
    pathlib.Path
        The page written. Sections without data say so (no interaction logs, no
        answers to `item`, a hand-off model that cannot be fitted and why).

    Examples
    --------
    >>> import excx, tempfile
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> write_human_touch_page(store, tempfile.mkdtemp()).name
    'human_touch.html'
    """
    from excx.channels import human_touch, journeys

    kpis = human_touch.by_channel(store, level=level)
    overall = human_touch.prefers_person(store, item=item, level=level)
    by_channel = human_touch.prefers_person(
        store, item=item, by=["channel", "served_by"], level=level
    )
    paths = journeys.common_paths(store, top=top, level=level)
    handoff, reason, said = handoff or handoff_with_notes(store, level=level)

    specs = {
        f"kpi-{kpi}": kpi_chart(kpis, kpi, level=level)
        for kpi in ("nps", "csat", "ces")
        if ((kpis["kpi"] == kpi) & ~kpis["suppressed"]).any()
    }
    fields = {
        "meta": escape(f"From a {store.backend} store; {level:.0%} intervals."),
        "kpi_divs": "".join(f'<div id="{key}"></div>' for key in specs)
        or "<p>No customer answers.</p>",
        "kpi_table": _kpi_table(kpis),
        "prefers": _prefers(overall, by_channel, item),
        "paths": _paths(paths),
        "handoff": _handoff(handoff, reason, said),
    }
    page = write_page(out, "human_touch.html", fields, specs)
    log.info("wrote human-touch page %s", page)
    return page


def handoff_with_notes(
    store: Store, **options
) -> tuple[pd.DataFrame | None, str | None, list[str]]:
    """:func:`excx.channels.human_touch.handoff_effect` for a page.

    Returns
    -------
    handoff, reason, notes
        The estimates (None when the model cannot be fitted), the library's
        message saying why not (None otherwise), and the messages of the excx
        warnings raised (e.g. units left out because their eNPS is suppressed).
    """
    from excx.channels import human_touch

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ExcxWarning)
        try:
            handoff, reason = human_touch.handoff_effect(store, **options), None
        except InputError as exc:
            handoff, reason = None, str(exc)
    said = [str(w.message) for w in caught if issubclass(w.category, ExcxWarning)]
    return handoff, reason, said


def _interval(low, high) -> str:
    return "" if pd.isna(low) else f"{number(low, 2)} to {number(high, 2)}"


def _kpi_table(kpis: pd.DataFrame) -> str:
    rows = [
        f'<tr data-kpi="{k.kpi}" data-channel="{text(k.channel)}" '
        f'data-served-by="{text(k.served_by)}"><td>{k.kpi}</td>'
        f"<td>{text(k.channel)}</td><td>{text(k.served_by)}</td><td>{k.n}</td>"
        f"{value_cell(k.value, suppressed=k.suppressed, digits=2)}"
        f"<td>{_interval(k.ci_low, k.ci_high)}</td></tr>"
        for k in kpis.itertuples(index=False)
    ]
    if not rows:
        return ""
    header = ("KPI", "channel", "served by", "n", "value", "interval")
    return html_table(header, rows, css="kpis")


def _prefers(overall: pd.DataFrame, by_channel: pd.DataFrame, item: str) -> str:
    if overall.empty:
        return f"<p>No customer answered the item {escape(item)!r}.</p>"
    first = overall.iloc[0]
    headline = (
        f'<p class="headline" data-value="{float(first["value"])!r}">'
        f"{number(first['value'])}% of {first['n']:,} customers would rather deal "
        f"with a person ({_interval(first['ci_low'], first['ci_high'])}).</p>"
    )
    rows = [
        f'<tr data-channel="{text(p.channel)}" data-served-by="{text(p.served_by)}">'
        f"<td>{text(p.channel)}</td><td>{text(p.served_by)}</td><td>{p.n}</td>"
        f"{value_cell(p.value)}<td>{_interval(p.ci_low, p.ci_high)}</td></tr>"
        for p in by_channel.itertuples(index=False)
    ]
    header = ("channel", "served by", "n", "% prefer a person", "interval")
    return headline + html_table(header, rows, css="prefers")


def _paths(paths: pd.DataFrame) -> str:
    if paths.empty:
        return "<p>No interaction logs imported.</p>"
    rows = [
        f'<tr data-path="{escape(p.path)}"><td>{escape(p.path)}</td>'
        f"<td>{p.journeys:,}</td><td>{'yes' if p.handoff else ''}</td>"
        f"<td>{p.n:,}</td>{value_cell(p.value)}"
        f"<td>{_interval(p.ci_low, p.ci_high)}</td></tr>"
        for p in paths.itertuples(index=False)
    ]
    header = ("path", "journeys", "bot → human", "answers", "NPS", "interval")
    return html_table(header, rows, css="paths")


def _handoff(handoff: pd.DataFrame | None, reason: str | None, said: list) -> str:
    notes = "".join(f"<li>{escape(s)}</li>" for s in said)
    notes = f'<ul class="notes">{notes}</ul>' if notes else ""
    if handoff is None:
        return f'<p class="reason">No hand-off estimate: {escape(reason)}</p>{notes}'
    labels = {
        "handoff": "NPS points of a bot-to-human hand-off (at the mean unit eNPS)",
        "handoff_x_enps": "change of that gap per +1 eNPS point of the unit",
    }
    rows = [
        f'<tr data-term="{h.term}"><td>{escape(labels.get(h.term, h.term))}</td>'
        f"{value_cell(h.estimate, digits=2)}<td>{_interval(h.ci_low, h.ci_high)}</td>"
        f"<td>{number(h.p_value, 3)}</td><td>{h.n:,}</td><td>{h.n_units}</td></tr>"
        for h in handoff.itertuples(index=False)
    ]
    header = ("term", "estimate", "interval", "p", "answers", "units")
    return html_table(header, rows, css="handoff") + notes
