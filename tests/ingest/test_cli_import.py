"""`excx import`: exit 0 and a summary for a good file, exit 1 and the problems."""

from __future__ import annotations

from typer.testing import CliRunner

import excx
from excx.cli import app
from tests.ingest.conftest import UNITS_CSV, write

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _text(result) -> str:
    """The output with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_good_file_then_same_file_then_bad_file(tmp_path):
    url = f"duckdb://{tmp_path / 'cli.duckdb'}"
    units = write(tmp_path, "units.csv", UNITS_CSV)
    assert _run("init", "--store", url).exit_code == 0

    first = _run("import", "units", str(units), "--store", url)
    again = _run("import", "units", str(units), "--store", url)
    bad = write(tmp_path, "bad.csv", "unit_id,name,kind\nB7,Ostia,kiosk\n")
    failed = _run("import", "units", str(bad), "--store", url)

    assert first.exit_code == 0, first.output
    assert "4 rows valid; added 4 rows" in _text(first)
    assert again.exit_code == 0
    assert "already imported as units on" in _text(again)
    assert failed.exit_code == 1
    assert "ImportValidationError" in _text(failed)
    for fragment in (bad.name, "row 2", "column kind", "'kiosk'"):
        assert fragment in _text(failed)
    with excx.connect(url) as store:
        assert store.count("units") == 4
        assert store.count("imports") == 1


def test_dry_run_and_mapping_options(tmp_path):
    url = f"duckdb://{tmp_path / 'cli.duckdb'}"
    _run("init", "--store", url)
    units = write(tmp_path, "u.csv", "Codice,Nome,Tipo\nC,Co,company\n")
    mapping = write(
        tmp_path,
        "m.toml",
        '[columns]\n"Codice" = "unit_id"\n"Nome" = "name"\n"Tipo" = "kind"\n',
    )

    result = _run(
        "import",
        "units",
        str(units),
        "--mapping",
        str(mapping),
        "--dry-run",
        "--store",
        url,
    )

    assert result.exit_code == 0, result.output
    assert "would add 1 rows" in _text(result)
    with excx.connect(url) as store:
        assert store.count("units") == 0
