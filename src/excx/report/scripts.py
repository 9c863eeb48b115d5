"""The scripts every report page shares: vendored Vega and the chart block.

Pages carry their charts as Vega-Lite JSON in one script element; the vendored
``vega``, ``vega-lite`` and ``vega-embed`` scripts, copied next to the page, draw
them, so the pages open offline.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from string import Template

__all__ = ["VENDOR", "VENDOR_FILES", "chart_scripts", "copy_scripts"]

_PACKAGE = Path(__file__).resolve().parent.parent
CHARTS = _PACKAGE / "report" / "templates" / "charts.html"
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
