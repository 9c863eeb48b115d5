"""Render the report as one offline HTML page with vendored Vega scripts."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template

import pandas as pd

from excx.linkage.link import LinkageReport
from excx.report.charts import channel_chart, trend_chart
from excx.report.data import KPIS, ReportData, collect
from excx.report.linkage import write_linkage_page
from excx.report.page import VENDOR, VENDOR_FILES, chart_scripts, copy_scripts
from excx.store import Store

__all__ = ["write_report", "render", "VENDOR", "VENDOR_FILES"]

log = logging.getLogger("excx")

_PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATE = _PACKAGE / "report" / "templates" / "report.html"
_FORMATS = {
    "nps": "{:+.1f}",
    "enps": "{:+.1f}",
    "csat": "{:.1f}%",
    "ces": "{:.2f}",
    "engagement": "{:.1f}",
}
_UNIT_COLUMNS = ("unit_id", "name", "region", "kind")
_LINKAGE_PAGE = (
    "linkage.html",
    "Linkage: does employee experience move customer experience?",
)


def write_report(
    store: Store,
    out: str | Path = "excx-report",
    *,
    title: str = "Employee and customer experience",
    level: float = 0.95,
    data: ReportData | None = None,
    linkage: LinkageReport | None = None,
    pages: Sequence[tuple[str, str]] = (),
) -> Path:
    """Write ``out/index.html`` and the Vega scripts it needs into ``out/vendor/``.

    Parameters
    ----------
    store
        The open store; every number comes from :mod:`excx.metrics`.
    out
        Folder of the report; created if missing, files of the same name replaced.
    title
        Heading of the page.
    level
        Confidence level of every interval.
    data
        Figures already computed with :func:`excx.report.collect` (then `level`
        is theirs); None computes them.
    linkage
        The result of :func:`excx.linkage.link.link` on the same store; when
        given, ``out/linkage.html`` is written too and the main page links to it.
    pages
        Other pages already written into `out`, as (file name, link text): the
        main page links to them after the linkage page.

    Returns
    -------
    pathlib.Path
        The ``index.html`` written.

    Notes
    -----
    The page opens offline: charts are Vega-Lite specs embedded as JSON and drawn
    by the copied ``vega``, ``vega-lite`` and ``vega-embed`` scripts (with their
    licences), referenced by relative paths.

    Examples
    --------
    >>> import excx, tempfile
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> write_report(store, tempfile.mkdtemp()).name
    'index.html'
    """
    data = data if data is not None else collect(store, level=level)
    out = Path(out)
    copy_scripts(out)
    links = list(pages)
    if linkage is not None:
        write_linkage_page(store, linkage, out, level=data.level)
        links.insert(0, _LINKAGE_PAGE)
    page = out / "index.html"
    html = render(data, title=title, source=store.backend, links=links)
    page.write_text(html, encoding="utf-8")
    log.info("wrote report %s", page)
    return page


def render(
    data: ReportData,
    *,
    title: str,
    source: str = "",
    links: Sequence[tuple[str, str]] = (),
) -> str:
    """The HTML page of `data` (see :func:`write_report`).

    Examples
    --------
    >>> import excx
    >>> from excx.report import collect
    >>> store = excx.connect("duckdb://:memory:"); store.init()
    >>> "No answers in the store yet." in render(collect(store), title="Demo")
    True
    """
    specs = {}
    for kpi in KPIS:
        if (data.trends["kpi"] == kpi).any():
            specs[f"trend-{kpi}"] = trend_chart(data.trends, kpi, level=data.level)
    if not data.channels.empty:
        specs["channels"] = channel_chart(data.channels, level=data.level)

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"Generated {now}" + (f" from a {source} store" if source else "")
    if data.cronbach_alpha is not None:
        meta += f"; engagement items Cronbach's alpha {data.cronbach_alpha:.2f}"
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=escape(title),
        meta=escape(meta),
        page_links="\n".join(
            f'<p><a href="{escape(href)}">{escape(text)} →</a></p>'
            for href, text in links
        ),
        kpi_cards=_kpi_cards(data.summary, data.level),
        level_text=f"{data.level:.0%}",
        trend_divs=_divs(k for k in specs if k.startswith("trend-")),
        channel_div=_divs(k for k in specs if k == "channels")
        or "<p>No customer answers.</p>",
        latest_period=escape(_month_name(data.latest_period)),
        unit_table=_unit_table(data.units),
        caveats=_caveats(data.caveats),
        charts=chart_scripts({key: chart.to_dict() for key, chart in specs.items()}),
    )


def _divs(ids) -> str:
    return "\n".join(f'<div id="{escape(i)}"></div>' for i in ids)


def _month_name(period: str | None) -> str:
    if period is None:
        return "no month"
    return dt.date.fromisoformat(str(period)[:10]).strftime("%B %Y")


def _number(kpi: str, value: float) -> str:
    return _FORMATS[kpi].format(value)


def _kpi_cards(summary: pd.DataFrame, level: float) -> str:
    if summary.empty or (summary["n"] == 0).all():
        return "<p>No answers in the store yet.</p>"
    cards = []
    for row in summary.itertuples(index=False):
        label, scale = KPIS[row.kpi]
        if row.suppressed:
            figure, interval = "suppressed", ""
        elif row.n == 0 or pd.isna(row.value):
            figure, interval = "no answers", ""
        else:
            figure = _number(row.kpi, row.value)
            interval = (
                f"{level:.0%} CI {_number(row.kpi, row.ci_low)} to "
                f"{_number(row.kpi, row.ci_high)}"
            )
        cards.append(
            f'<div class="kpi" data-kpi="{row.kpi}"><div>{escape(label)}</div>'
            f'<div class="value">{escape(figure)}</div>'
            f'<div class="interval">{escape(interval)}</div>'
            f'<div class="n">n = {row.n:,}</div>'
            f'<div class="scale">{escape(scale)}</div></div>'
        )
    return "\n".join(cards)


def _unit_cell(row) -> str:
    if row is None:
        return '<td class="missing">&ndash;</td>'
    if row.suppressed:
        return (
            '<td class="suppressed" data-suppressed="true" '
            'title="hidden by the privacy gate">suppressed</td>'
        )
    if pd.isna(row.value):
        return '<td class="missing">&ndash;</td>'
    interval = f"{_number(row.kpi, row.ci_low)} to {_number(row.kpi, row.ci_high)}"
    return (
        f"<td>{escape(_number(row.kpi, row.value))}"
        f'<span class="interval">{escape(interval)}, n = {row.n}</span></td>'
    )


def _unit_table(units: pd.DataFrame) -> str:
    if units.empty:
        return "<p>No unit has answers.</p>"
    # Answers without a serving unit (bots, self-service) form their own row.
    units = units.assign(
        unit_id=units["unit_id"].fillna(""),
        name=units["name"].mask(units["unit_id"].isna(), "no serving unit"),
    )
    cells = {(r.unit_id, r.kpi): r for r in units.itertuples(index=False)}
    described = (
        units[list(_UNIT_COLUMNS)]
        .drop_duplicates("unit_id")
        .sort_values(["region", "unit_id"], na_position="last")
        .fillna("")
    )
    header = "".join(
        f"<th>{escape(c)}</th>"
        for c in (*_UNIT_COLUMNS, *(v[0] for v in KPIS.values()))
    )
    rows = []
    for unit in described.itertuples(index=False):
        text = "".join(f"<td>{escape(str(v))}</td>" for v in unit)
        kpis = "".join(_unit_cell(cells.get((unit.unit_id, kpi))) for kpi in KPIS)
        rows.append(f'<tr data-unit="{escape(unit.unit_id)}">{text}{kpis}</tr>')
    return (
        f'<table class="units"><thead><tr>{header}</tr></thead>'
        f"<tbody>\n{chr(10).join(rows)}\n</tbody></table>"
    )


def _caveats(caveats: list[str]) -> str:
    if not caveats:
        return ""
    items = "".join(f"<li>{escape(c)}</li>" for c in caveats)
    return f'<section class="caveats"><h2>Caveats</h2><ul>{items}</ul></section>'
