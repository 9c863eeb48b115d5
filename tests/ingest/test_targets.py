"""How a header maps onto a target's canonical columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from excx.errors import ImportValidationError, InputError
from excx.ingest.profiles import Mapping, profile
from excx.ingest.targets import resolve_columns, target

FILE = Path("export.csv")


def test_items_only_for_response_targets():
    header = ["unit_id", "name", "kind", "item_x"]

    with pytest.raises(ImportValidationError) as caught:
        resolve_columns(FILE, header, target("units"), Mapping())

    assert caught.value.problems[0]["column"] == "item_x"
    assert "unknown column" in caught.value.problems[0]["rule"]


def test_response_items_and_constants():
    header = ["response_id", "submitted_at", "served_by", "item_pride", "item_"]
    mapping = Mapping(constants={"channel": "web"}, ignore=("item_",))

    columns = resolve_columns(FILE, header, target("customer-responses"), mapping)

    assert columns.items == ["item_pride"]
    assert columns.texts["channel"] == "'web'"
    assert "item_" not in columns.texts


def test_two_columns_mapped_to_one():
    mapping = Mapping(columns={"Filiale": "unit_id", "Agenzia": "unit_id"})
    header = ["unit_id", "period", "Filiale", "Agenzia"]

    with pytest.raises(ImportValidationError) as caught:
        resolve_columns(FILE, header, target("outcomes"), mapping)

    assert [p["column"] for p in caught.value.problems] == ["Filiale", "Agenzia"]
    assert "two columns map to 'unit_id'" in str(caught.value)


def test_mapped_to_a_name_that_is_not_canonical():
    mapping = Mapping(columns={"Filiale": "unitid"})

    with pytest.raises(ImportValidationError, match=r"mapped to 'unitid'"):
        resolve_columns(FILE, ["Filiale", "period"], target("outcomes"), mapping)


def test_unknown_target_and_profile():
    with pytest.raises(InputError, match="accepted: units, employee-responses"):
        target("answers")
    with pytest.raises(InputError, match="accepted: generic, qualtrics"):
        profile("medallia")


def test_qualtrics_uses_end_date_without_recorded_date():
    assert profile("qualtrics", ["EndDate", "ResponseId"]).columns["EndDate"] == (
        "submitted_at"
    )
    with_recorded = profile("qualtrics", ["EndDate", "RecordedDate"])
    assert with_recorded.is_ignored("EndDate")
    assert not with_recorded.is_ignored("RecordedDate")
