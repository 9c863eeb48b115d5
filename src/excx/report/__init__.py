"""The HTML report: KPI figures, trends with intervals, channels and a unit table.

Every number comes from :mod:`excx.metrics`; this package only lays them out. The
page opens offline (the Vega scripts are copied next to it).

>>> import excx, tempfile
>>> from excx.report import write_report
>>> store = excx.connect("duckdb://:memory:"); store.init()
>>> write_report(store, tempfile.mkdtemp()).name
'index.html'
"""

from __future__ import annotations

from excx.report.charts import channel_chart, trend_chart
from excx.report.data import KPIS, ReportData, collect, kpi_summary
from excx.report.html import render, write_report

__all__ = [
    "KPIS",
    "ReportData",
    "channel_chart",
    "collect",
    "kpi_summary",
    "render",
    "trend_chart",
    "write_report",
]
