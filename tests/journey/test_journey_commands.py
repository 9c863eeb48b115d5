"""``excx journey …`` commands through Typer's runner."""

from __future__ import annotations

import pyarrow as pa
from typer.testing import CliRunner

import excx
from excx.cli import app

runner = CliRunner()


def _run(url, *args):
    return runner.invoke(app, [*args, "--store", url])


def test_programme_commands(store_url):
    with excx.connect(store_url) as opened:
        opened.init()
        opened.write(
            {
                "units": pa.table(
                    {
                        "unit_id": ["b1", "b2"],
                        "name": ["B1", "B2"],
                        "kind": ["branch", "branch"],
                    }
                )
            }
        )
    made = _run(
        store_url,
        "journey",
        "add-initiative",
        "New CRM",
        "--starts-on",
        "2025-01-01",
        "--ends-on",
        "2025-12-31",
        "--id",
        "crm",
    )
    assert made.exit_code == 0, made.output
    made = _run(
        store_url,
        "journey",
        "add-activity",
        "crm",
        "--phase",
        "tell",
        "--name",
        "Roadshow",
        "--starts-on",
        "2025-02-01",
        "--ends-on",
        "2025-02-28",
        "--unit",
        "b1",
        "--unit",
        "b2",
        "--id",
        "show",
    )
    assert made.exit_code == 0, made.output
    refused = _run(
        store_url,
        "journey",
        "add-activity",
        "crm",
        "--phase",
        "tell",
        "--name",
        "No units",
        "--starts-on",
        "2025-02-01",
        "--ends-on",
        "2025-02-28",
    )
    assert refused.exit_code == 1
    assert "InputError" in refused.output and "has no units" in refused.output
    assert (
        _run(
            store_url,
            "journey",
            "recognise",
            "b1",
            "--period",
            "2025-03-03",
            "--kind",
            "award",
        ).exit_code
        == 0
    )
    listed = _run(store_url, "journey", "list")
    assert listed.exit_code == 0
    assert "Roadshow" in listed.output and "b1,b2" in listed.output
    with excx.connect(store_url) as opened:
        assert opened.count("activities") == 1
        assert opened.count("recognitions") == 1


def test_maturity_command(tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("item_id,value\nbudget_1,1\nbudget_2,1\ndata_1,5\n")
    shown = runner.invoke(app, ["journey", "maturity", str(answers)])
    assert shown.exit_code == 0, shown.output
    assert "First: Budget" in shown.output
    bad = runner.invoke(app, ["journey", "maturity", "--answer", "budget_1=9"])
    assert bad.exit_code == 1 and "accepted: whole numbers 1..5" in bad.output


def test_kpis_command_on_an_initiative_without_answers(store_url):
    with excx.connect(store_url) as opened:
        opened.init()
        opened.write(
            {"units": pa.table({"unit_id": ["b1"], "name": ["B1"], "kind": ["branch"]})}
        )
    assert (
        _run(
            store_url,
            "journey",
            "add-initiative",
            "CRM",
            "--starts-on",
            "2025-01-01",
            "--ends-on",
            "2025-06-30",
            "--id",
            "crm",
        ).exit_code
        == 0
    )
    assert (
        _run(
            store_url,
            "journey",
            "add-activity",
            "crm",
            "--phase",
            "activate",
            "--name",
            "Pilot",
            "--starts-on",
            "2025-02-01",
            "--ends-on",
            "2025-02-28",
            "--unit",
            "b1",
        ).exit_code
        == 0
    )
    shown = _run(store_url, "journey", "kpis", "crm", "--phase", "activate")
    assert shown.exit_code == 0, shown.output
    assert "coverage" in shown.output and "participation" in shown.output
    missing = _run(store_url, "journey", "kpis", "nope")
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_did_command(store_url):
    import datetime as dt

    import numpy as np

    units = [f"b{i}" for i in range(6)]
    unit = np.repeat(np.arange(6), 8 * 6)
    month = np.tile(np.repeat(np.arange(1, 9), 6), 6)
    # Treated units (b0-b2) answer 10 from May; everyone else answers 7 or 3.
    score = np.where((unit < 3) & (month >= 5), 10, np.where(month % 2, 7, 3))
    with excx.connect(store_url) as opened:
        opened.init()
        opened.write(
            {
                "units": pa.table(
                    {"unit_id": units, "name": units, "kind": ["branch"] * 6}
                ),
                "employee_responses": pa.table(
                    {
                        "response_id": [f"e{i}" for i in range(len(unit))],
                        "unit_id": [units[u] for u in unit],
                        "submitted_at": [dt.datetime(2025, m, 10) for m in month],
                        "enps": pa.array(score, pa.int16()),
                    }
                ),
            }
        )
    _run(
        store_url,
        "journey",
        "add-initiative",
        "CRM",
        "--starts-on",
        "2025-01-01",
        "--ends-on",
        "2025-12-31",
        "--id",
        "crm",
    )
    _run(
        store_url,
        "journey",
        "add-activity",
        "crm",
        "--phase",
        "activate",
        "--name",
        "Pilot",
        "--starts-on",
        "2025-05-01",
        "--ends-on",
        "2025-08-31",
        "--unit",
        "b0",
        "--unit",
        "b1",
        "--unit",
        "b2",
        "--id",
        "pilot",
    )
    shown = _run(store_url, "journey", "did", "pilot", "--window", "3")
    assert shown.exit_code == 0, shown.output
    # Everyone answers 7 (eNPS 0) in odd months and 3 (-100) in even ones; treated
    # units answer 10 (+100) from May. Window 3 keeps Feb-Jul, balanced, so the DiD
    # is exact: (100 - (-200/3)) - ((-100/3) - (-200/3)) = 133.3.
    assert "3 treated of 6 units over 6 periods" in shown.output
    assert "133" in shown.output
    assert "did" in shown.output and "event" in shown.output
