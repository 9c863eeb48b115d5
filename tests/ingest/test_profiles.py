"""Profiles (Qualtrics) and TOML mappings with answer labels and constants."""

from __future__ import annotations

import datetime as dt

import pytest

from excx.errors import InputError
from excx.ingest import import_file, load_mapping
from tests.ingest.conftest import rejected, write

QUALTRICS = (
    "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,"
    "RecordedDate,ResponseId,RecipientEmail,LocationLatitude,UserLanguage,"
    "unit_id,channel,served_by,nps,nps_NPS_GROUP,item_courtesy\n"
    "Start Date,End Date,Response Type,IP Address,Progress,Duration (in seconds),"
    "Finished,Recorded Date,Response ID,Recipient Email,Location Latitude,"
    'User Language,unit_id,channel,served_by,"How likely are you to recommend us?\n'
    '(0-10)",How likely - Group,The staff were courteous\n'
    '"{""ImportId"":""startDate""}","{""ImportId"":""endDate""}",'
    '"{""ImportId"":""status""}","{""ImportId"":""ipAddress""}",'
    '"{""ImportId"":""progress""}","{""ImportId"":""duration""}",'
    '"{""ImportId"":""finished""}","{""ImportId"":""recordedDate""}",'
    '"{""ImportId"":""_recordId""}","{""ImportId"":""recipientEmail""}",'
    '"{""ImportId"":""locationLatitude""}","{""ImportId"":""userLanguage""}",'
    '"{""ImportId"":""unit_id""}","{""ImportId"":""channel""}",'
    '"{""ImportId"":""served_by""}","{""ImportId"":""QID1""}",'
    '"{""ImportId"":""QID1_NPS_GROUP""}","{""ImportId"":""QID2""}"\n'
)


def _qualtrics_row(response_id: str, nps: str) -> str:
    return (
        "2026-01-31 10:00:00,2026-01-31 10:03:00,0,1.2.3.4,100,180,1,"
        f"2026-01-31 10:03:01,{response_id},a@b.it,41.9,IT,B1,store,human,{nps},3,5\n"
    )


def test_qualtrics_export(units_store, tmp_path):
    text = QUALTRICS + _qualtrics_row("R_1a", "9") + _qualtrics_row("R_2b", "4")
    path = write(tmp_path, "qualtrics.csv", text)

    report = import_file(units_store, "customer-responses", path, profile="qualtrics")

    assert (report.rows_read, report.rows_written, report.items_written) == (2, 2, 2)
    rows = units_store.execute(
        units_store.table("customer_responses").order_by("response_id")
    )
    assert rows.response_id.tolist() == ["R_1a", "R_2b"]
    assert rows.submitted_at.iloc[0] == dt.datetime(2026, 1, 31, 10, 3, 1)
    assert rows.nps.tolist() == [9, 4]


def test_qualtrics_rows_counted_as_the_spreadsheet_shows(units_duckdb, tmp_path):
    text = QUALTRICS + _qualtrics_row("R_1a", "9") + _qualtrics_row("R_2b", "12")
    path = write(tmp_path, "qualtrics.csv", text)

    error = rejected(
        units_duckdb,
        "customer-responses",
        path,
        "row 5",
        "column nps",
        "'12'",
        profile="qualtrics",
    )
    assert error.problems[0]["row"] == 5


def test_qualtrics_without_data(units_duckdb, tmp_path):
    path = write(tmp_path, "qualtrics.csv", QUALTRICS)

    rejected(
        units_duckdb,
        "customer-responses",
        path,
        "no data rows",
        "from row 4",
        profile="qualtrics",
    )


ITALIAN = """\
Codice;Data;Filiale;Probabilità di raccomandarci;Cortesia
I-1;31/01/2026;B1;10 - Estremamente probabile;Molto d'accordo
I-2;01/02/2026;B2;0 - Per niente probabile;In disaccordo
I-3;02/02/2026;B2;7;
"""

MAPPING = """\
[columns]
"Codice" = "response_id"
"Data" = "submitted_at"
"Filiale" = "unit_id"
"Probabilità di raccomandarci" = "nps"
"Cortesia" = "item_courtesy"

[values.nps]
"10 - Estremamente probabile" = 10
"0 - Per niente probabile" = 0

[values.item_courtesy]
"Molto d'accordo" = 5
"In disaccordo" = 2

[constants]
channel = "store"
served_by = "human"
"""


def test_toml_mapping_with_italian_labels(units_store, tmp_path):
    path = write(tmp_path, "filiali.csv", ITALIAN, "cp1252")
    mapping = write(tmp_path, "mapping.toml", MAPPING)

    report = import_file(units_store, "customer-responses", path, mapping=mapping)

    assert (report.rows_written, report.items_written) == (3, 2)
    rows = units_store.execute(
        units_store.table("customer_responses").order_by("response_id")
    )
    assert rows.nps.tolist() == [10, 0, 7]
    assert set(rows.channel) == {"store"} and set(rows.served_by) == {"human"}
    items = units_store.execute(units_store.table("customer_items").order_by("value"))
    assert items.value.tolist() == [2, 5]


def test_unmapped_label_is_rejected(units_duckdb, tmp_path):
    text = ITALIAN.replace("Molto d'accordo", "Abbastanza")
    path = write(tmp_path, "filiali.csv", text, "cp1252")
    mapping = write(tmp_path, "mapping.toml", MAPPING)

    rejected(
        units_duckdb,
        "customer-responses",
        path,
        "row 2",
        "column item_courtesy",
        "'Abbastanza'",
        "not a whole number",
        mapping=mapping,
    )


def test_constant_clashing_with_a_file_column(units_duckdb, tmp_path):
    path = write(tmp_path, "filiali.csv", ITALIAN.replace("Cortesia", "channel"))
    mapping = write(
        tmp_path, "m.toml", MAPPING.replace('"Cortesia" = "item_courtesy"', "")
    )

    rejected(
        units_duckdb,
        "customer-responses",
        path,
        "column channel",
        "both as a file column and as a constant",
        mapping=mapping,
    )


def test_mapping_file_with_unknown_part(tmp_path):
    path = write(tmp_path, "m.toml", '[colums]\n"A" = "nps"\n')

    with pytest.raises(InputError, match=r"unknown part\(s\) \['colums'\]"):
        load_mapping(path)


def test_mapping_with_a_non_scalar_value(tmp_path):
    path = write(tmp_path, "m.toml", '[values.nps]\n"dieci" = [10]\n')

    with pytest.raises(InputError, match="values.nps"):
        load_mapping(path)
