"""``excx demo`` (src/excx/report/demo.py and its command in src/excx/cli.py)."""

from __future__ import annotations

import pyarrow.csv as pa_csv
from typer.testing import CliRunner

import excx
from excx import metrics
from excx.cli import app
from excx.ingest import import_file

runner = CliRunner()


def _demo(url, out, data):
    """``excx demo --size small`` into the store `url`."""
    options = ["--store", url, "--out", str(out), "--data", str(data)]
    return runner.invoke(app, ["demo", "--size", "small", *options])


def test_demo_imports_the_files_like_a_user_and_writes_the_report(tmp_path):
    url = f"duckdb://{tmp_path / 'demo.duckdb'}"
    out, data = tmp_path / "report", tmp_path / "data"

    result = _demo(url, out, data)

    assert result.exit_code == 0, result.output
    assert (out / "index.html").is_file()
    assert (out / "vendor" / "vega-embed.min.js").is_file()
    assert {p.name for p in data.iterdir()} == {
        "units.csv",
        "employee_responses.csv",
        "customer_responses.csv",
        "outcomes.csv",
        "interactions.csv",
    }
    index = (out / "index.html").read_text()
    for page in ("linkage.html", "journey.html", "human_touch.html"):
        assert f'href="{page}"' in index
        assert (out / page).is_file()
    journey = (out / "journey.html").read_text()
    for phase in ("know", "tell", "activate", "reward", "listen", "measure"):
        assert f'data-phase="{phase}"' in journey
    # The programme's own pulse items reach Know and Tell (and not engagement).
    assert "item_readiness_tools" in journey and "item_journey_vision" in journey
    with excx.connect(url) as store:
        written = pa_csv.read_csv(data / "customer_responses.csv").num_rows
        assert store.count("customer_responses") == written
        assert store.count("imports") == 4
        nps = metrics.nps(store)["value"].iloc[0]
        # The same files again are recognised and skipped: the demo can be rerun.
        again = import_file(
            store, "customer-responses", data / "customer_responses.csv"
        )
        assert again.skipped_as_already_imported
        assert (
            store.count("interactions")
            == pa_csv.read_csv(data / "interactions.csv").num_rows
        )
        assert store.count("activities") == 6
        assert store.count("recognitions") > 0
    assert "Key figures" in result.stdout
    assert f"{nps:.1f}" in result.stdout  # the table prints what excx.metrics returns
    assert "0.514 NPS points per eNPS point" in result.stdout
    assert "pilot effect on eNPS, difference in differences: " in result.stdout
    assert "built in: +10.0" in result.stdout
    assert "bot-to-human hand-off effect on NPS: " in result.stdout
    assert "built in: -15.0" in result.stdout

    # A second run finds its files, programme and interaction log in the store.
    again = _demo(url, out, data)
    assert again.exit_code == 0, again.output
    with excx.connect(url) as store:
        assert store.count("activities") == 6
        assert store.count("imports") == 4


def test_demo_refuses_an_unknown_size(tmp_path):
    result = runner.invoke(app, ["demo", "--size", "huge", "--data", str(tmp_path)])

    assert result.exit_code != 0
    assert "huge" in result.output
