from __future__ import annotations

import pyarrow as pa
import pytest

import excx
from excx import schema
from excx.errors import InputError, StoreError


def test_init_creates_every_table_and_is_idempotent(store):
    store.init()
    for name in schema.TABLES:
        assert store.count(name) == 0


def test_write_fills_missing_columns_with_nulls(store):
    store.write(
        {"units": pa.table({"unit_id": ["u1"], "name": ["One"], "kind": ["branch"]})}
    )
    frame = store.execute(store.table("units"))
    assert frame.loc[0, "unit_id"] == "u1"
    assert frame["parent_id"].isna().all()


def test_write_is_all_or_nothing(store):
    good = pa.table({"unit_id": ["u1"], "name": ["One"], "kind": ["branch"]})
    bad = pa.table(
        {"response_id": ["r1"], "item_id": ["i1"], "value": ["not a number"]}
    )
    with pytest.raises(StoreError, match="employee_items.*value"):
        store.write({"units": good, "employee_items": bad})
    assert store.count("units") == 0


def test_existing_keys(store):
    store.write(
        {
            "units": pa.table(
                {"unit_id": ["u1", "u2"], "name": ["a", "b"], "kind": ["branch"] * 2}
            )
        }
    )
    found = store.existing_keys("units", pa.array(["u2", "u3"]))
    assert found.to_pylist() == ["u2"]


def test_unknown_scheme_names_what_is_accepted():
    with pytest.raises(InputError, match="postgresql://"):
        excx.connect("mysql://somewhere/db")


def test_missing_table_says_run_init(tmp_path):
    opened = excx.connect(f"duckdb://{tmp_path / 'empty.duckdb'}")
    with pytest.raises(StoreError, match="excx init"):
        opened.table("units")


def test_env_var_selects_the_store(monkeypatch, tmp_path):
    monkeypatch.setenv("EXCX_STORE", str(tmp_path / "env.duckdb"))
    assert excx.store.resolve_url() == f"duckdb://{tmp_path / 'env.duckdb'}"


def test_a_failure_in_the_database_rolls_back_every_table(store):
    store.con.drop_table("employee_items")
    units = pa.table({"unit_id": ["u1"], "name": ["One"], "kind": ["branch"]})
    items = pa.table({"response_id": ["r1"], "item_id": ["i1"], "value": [3]})
    with pytest.raises(Exception, match="employee_items"):
        store.write({"units": units, "employee_items": items})
    assert store.count("units") == 0


def test_duckdb_progress_bar_is_off(tmp_path):
    """DuckDB prints its progress bar on stdout, where `--format json` goes."""
    with excx.connect(f"duckdb://{tmp_path / 'quiet.duckdb'}") as store:
        setting = "SELECT current_setting('enable_progress_bar')"
        assert store.raw.execute(setting).fetchone()[0] is False
