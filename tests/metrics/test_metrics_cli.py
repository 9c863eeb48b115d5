"""The ``excx metrics`` command (src/excx/metrics/commands.py), on a DuckDB file."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from excx.cli import app

runner = CliRunner()


@pytest.fixture
def url(company_file):
    return company_file[0]


def test_json_is_a_list_of_rows_with_stable_columns(company_file):
    url, company = company_file
    result = runner.invoke(
        app,
        [
            "metrics",
            "nps",
            "--by",
            "unit_id,channel",
            "--format",
            "json",
            "--store",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and list(rows[0]) == [
        "unit_id", "channel", "kpi", "n", "value", "ci_low", "ci_high", "suppressed",
    ]  # fmt: skip
    assert sum(r["n"] for r in rows) == len(company.scored("nps"))


def test_table_shows_suppressed_cells_and_alpha(url):
    result = runner.invoke(
        app, ["metrics", "engagement", "--by", "unit_id,role", "--store", url]
    )
    assert result.exit_code == 0, result.output
    assert "suppressed" in result.stdout
    assert "Cronbach's alpha" in result.stdout


def test_csv_quarter_grain(url):
    result = runner.invoke(
        app,
        ["metrics", "csat", "--by", "period", "--period", "quarter", "--format", "csv",
         "--store", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["period"] for r in rows} <= {"2025-10-01", "2026-01-01", "2026-04-01"}
    assert all(0 <= float(r["ci_low"]) <= float(r["value"]) <= 100 for r in rows)


def test_known_error_exits_1_with_name_and_message(url):
    result = runner.invoke(app, ["metrics", "enps", "--by", "channel", "--store", url])
    assert result.exit_code == 1
    assert "InputError" in result.output and "unit_id, region, role" in result.output
