"""What every report page shares: vendored Vega, the chart block, table cells.

Pages carry their charts as Vega-Lite JSON in one script element; the vendored
``vega``, ``vega-lite`` and ``vega-embed`` scripts, copied next to the page, draw
them, so the pages open offline. Cells escape their text and keep a figure's full
precision in ``data-value``, which the tests read back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from html import escape
from pathlib import Path
from string import Template

import pandas as pd

__all__ = [
    "VENDOR",
    "VENDOR_FILES",
    "chart_scripts",
    "copy_scripts",
    "write_page",
    "number",
    "text",
    "value_cell",
    "html_table",
]

_PACKAGE = Path(__file__).resolve().parent.parent
TEMPLATES = _PACKAGE / "report" / "templates"
CHARTS = TEMPLATES / "charts.html"
VENDOR = _PACKAGE / "web" / "static" / "vendor"
VENDOR_FILES = (
    "vega.min.js",
    "vega-lite.min.js",
    "vega-embed.min.js",
    "LICENSE-vega-6.2.0",
    "LICENSE-vega-lite-6.4.1",
    "LICENSE-vega-embed-7.1.0",
)


def chart_scripts(specs: dict[str, dict]) -> str:
    """The script elements that draw `specs` (element id → Vega-Lite dict).

    The specs travel as JSON in the page and are drawn by the vendored scripts
    that :func:`copy_scripts` puts in ``vendor/``.
    """
    # "</" would close the script element early.
    text = json.dumps(specs).replace("</", "<\\/")
    block = Template(CHARTS.read_text(encoding="utf-8").rstrip("\n"))
    return block.substitute(specs=text)


def copy_scripts(out: str | Path) -> None:
    """Copy the vendored Vega scripts and their licences into ``out/vendor/``."""
    folder = Path(out) / "vendor"
    folder.mkdir(parents=True, exist_ok=True)
    for name in VENDOR_FILES:
        shutil.copy2(VENDOR / name, folder / name)


def write_page(out: str | Path, name: str, fields: dict, specs: dict) -> Path:
    """Fill ``templates/<name>`` with `fields` and the chart `specs` (as JSON);
    copy the Vega scripts next to it."""
    out = Path(out)
    copy_scripts(out)
    charts = chart_scripts({key: chart.to_dict() for key, chart in specs.items()})
    template = Template((TEMPLATES / name).read_text(encoding="utf-8"))
    page = out / name
    page.write_text(
        template.substitute(fields, charts=charts),
        encoding="utf-8",
    )
    return page


def number(value, digits: int = 1) -> str:
    """A figure for a table cell; an en dash when missing."""
    return "–" if value is None or pd.isna(value) else f"{value:,.{digits}f}"


def text(value) -> str:
    """Escaped text for a cell; empty when missing."""
    return "" if value is None or pd.isna(value) else escape(str(value))


def value_cell(value, *, suppressed: bool = False, digits: int = 1) -> str:
    """A table cell whose ``data-value`` keeps the full precision (for checks)."""
    if suppressed:
        return '<td class="suppressed" data-suppressed="true">suppressed</td>'
    if value is None or pd.isna(value):
        return '<td class="missing">–</td>'
    return f'<td data-value="{float(value)!r}">{number(value, digits)}</td>'


def html_table(header: Sequence[str], rows: Sequence[str], *, css: str) -> str:
    """A table of already rendered ``<tr>`` rows."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    return (
        f'<table class="{css}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
