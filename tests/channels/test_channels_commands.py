"""``excx channels …`` commands through Typer's runner."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
from typer.testing import CliRunner

import excx
from excx.cli import app

runner = CliRunner()

LOG = (
    "customer_ref,timestamp,channel,served_by,unit_id,response_id\n"
    "c1,2025-01-02 10:00,chatbot,bot,,\n"
    "c1,2025-01-02 10:05,store,human,b1,r1\n"
    "c2,2025-01-02 11:00,store,human,b1,r2\n"
)


def test_import_paths_and_human_touch(store_url, tmp_path):
    with excx.connect(store_url) as opened:
        opened.init()
        opened.write(
            {
                "units": pa.table(
                    {"unit_id": ["b1"], "name": ["B1"], "kind": ["branch"]}
                ),
                "customer_responses": pa.table(
                    {
                        "response_id": ["r1", "r2"],
                        "submitted_at": pa.array(
                            [dt.datetime(2025, 1, 2, 12)] * 2, pa.timestamp("us")
                        ),
                        "channel": ["store", "store"],
                        "served_by": ["human", "human"],
                        "unit_id": ["b1", "b1"],
                        "nps": pa.array([10, 2], pa.int16()),
                    }
                ),
            }
        )
    log = tmp_path / "log.csv"
    log.write_text(LOG)
    done = runner.invoke(
        app, ["channels", "import-interactions", str(log), "--store", store_url]
    )
    assert done.exit_code == 0, done.output
    assert "3 interaction events imported" in done.output
    again = runner.invoke(
        app, ["channels", "import-interactions", str(log), "--store", store_url]
    )
    assert again.exit_code == 1 and "already imported" in again.output

    shown = runner.invoke(app, ["channels", "paths", "--store", store_url])
    assert shown.exit_code == 0, shown.output
    assert "chatbot:bot > store:human" in shown.output

    touch = runner.invoke(app, ["channels", "human-touch", "--store", store_url])
    assert touch.exit_code == 0, touch.output
    assert "store" in touch.output and "no answers to item 'prefers_person'" in (
        touch.output
    )
    refused = runner.invoke(app, ["channels", "handoff", "--store", store_url])
    assert refused.exit_code == 1 and "no answered journeys" in refused.output
