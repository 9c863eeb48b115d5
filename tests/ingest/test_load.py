"""import_file on both backends: what is written, once, all or nothing."""

from __future__ import annotations

import datetime as dt

from excx.ingest import import_file
from tests.ingest.conftest import counts, rejected, write

CUSTOMERS = """\
response_id,submitted_at,channel,served_by,unit_id,nps,csat,ces,item_courtesy,\
item_speed
c1,2026-01-31 10:22:05,store,human,B1,10,5,2,5,4
c2,2026-02-01T09:00:00,web,self_service,,6,3,,,3
c3,2026-02-02,Contact_Centre,bot,B2,0,1,7,1,
"""

EMPLOYEES = """\
response_id;survey_id;unit_id;submitted_at;enps;role;tenure_band;item_pride;\
item_recommend_work
e1;S1;B1;31/01/2026;9;teller;1-3y;5;4
e2;S1;B2;01/02/2026 08:30;3;advisor;3y+;2;
"""


def test_units_are_written_with_their_hierarchy(units_store):
    units = units_store.execute(units_store.table("units").order_by("unit_id"))
    assert list(units.unit_id) == ["B1", "B2", "C", "R1"]
    assert units.set_index("unit_id").parent_id.to_dict()["B1"] == "R1"
    assert units_store.count("imports") == 1


def test_customer_responses_and_items_are_written(units_store, tmp_path):
    path = write(tmp_path, "customers.csv", CUSTOMERS)

    report = import_file(units_store, "customer-responses", path)

    assert (report.rows_read, report.rows_written, report.items_written) == (3, 3, 4)
    rows = units_store.execute(
        units_store.table("customer_responses").order_by("response_id")
    )
    assert list(rows.channel) == ["store", "web", "contact_centre"]
    assert rows.submitted_at.iloc[0] == dt.datetime(2026, 1, 31, 10, 22, 5)
    assert rows.unit_id.isna().tolist() == [False, True, False]
    items = units_store.execute(
        units_store.table("customer_items").order_by(["response_id", "item_id"])
    )
    assert items.values.tolist() == [
        ["c1", "courtesy", 5],
        ["c1", "speed", 4],
        ["c2", "speed", 3],
        ["c3", "courtesy", 1],
    ]


def test_employee_responses_with_items(units_store, tmp_path):
    path = write(tmp_path, "employees.csv", EMPLOYEES)

    report = import_file(units_store, "employee-responses", path)

    assert (report.rows_written, report.items_written) == (2, 3)
    rows = units_store.execute(
        units_store.table("employee_responses").order_by("response_id")
    )
    assert rows.submitted_at.tolist() == [
        dt.datetime(2026, 1, 31),
        dt.datetime(2026, 2, 1, 8, 30),
    ]
    assert rows.enps.tolist() == [9, 3]


def test_outcomes_with_decimal_comma(units_store, tmp_path):
    text = (
        "unit_id;period;revenue;customers;churned\n"
        'B1;2026-01;"1.234.567,89";1.234;12\n'
        "B2;01/02/2026;987,5;800;0\n"
    )
    path = write(tmp_path, "outcomes.csv", text, "cp1252")

    import_file(units_store, "outcomes", path)

    rows = units_store.execute(units_store.table("unit_outcomes").order_by("unit_id"))
    assert rows.revenue.tolist() == [1234567.89, 987.5]
    assert rows.customers.tolist() == [1234, 800]
    assert [p.date() for p in rows.period] == [dt.date(2026, 1, 1), dt.date(2026, 2, 1)]


def test_same_file_twice_is_a_no_op(units_store, tmp_path):
    path = write(tmp_path, "customers.csv", CUSTOMERS)
    import_file(units_store, "customer-responses", path)
    before = counts(units_store)

    again = import_file(units_store, "customer-responses", path)

    assert again.skipped_as_already_imported
    assert again.already_imported_at is not None
    assert again.rows_written == 0
    assert counts(units_store) == before


def test_other_file_reusing_a_stored_response_id(units_store, tmp_path):
    import_file(units_store, "customer-responses", write(tmp_path, "a.csv", CUSTOMERS))
    other = write(
        tmp_path,
        "b.csv",
        "response_id,submitted_at,channel,served_by\n"
        "c9,2026-03-01,web,bot\n"
        "c2,2026-03-01,web,bot\n",
    )

    rejected(
        units_store,
        "customer-responses",
        other,
        str(other),
        "row 3",
        "column response_id",
        "'c2'",
        "already in the store",
    )


def test_outcome_already_stored_for_unit_and_period(units_store, tmp_path):
    first = "unit_id,period,revenue\nB1,2026-01,10\n"
    import_file(units_store, "outcomes", write(tmp_path, "a.csv", first))
    second = write(tmp_path, "b.csv", "unit_id,period,revenue\nB1,2026-01-01,11\n")

    rejected(units_store, "outcomes", second, "row 2", "already in the store")


def test_unknown_unit_is_rejected_and_nothing_is_written(units_store, tmp_path):
    text = CUSTOMERS + "c4,2026-02-02,store,human,B9,8,4,2,4,4\n"
    path = write(tmp_path, "customers.csv", text)

    rejected(
        units_store,
        "customer-responses",
        path,
        str(path),
        "row 5",
        "column unit_id",
        "'B9'",
        "unknown unit",
    )
    assert units_store.count("customer_items") == 0


def test_dry_run_validates_and_writes_nothing(units_store, tmp_path):
    path = write(tmp_path, "customers.csv", CUSTOMERS)
    before = counts(units_store)

    report = import_file(units_store, "customer-responses", path, dry_run=True)

    assert report.dry_run and report.rows_read == 3 and report.rows_written == 0
    assert counts(units_store) == before
    assert not import_file(units_store, "customer-responses", path).dry_run


def test_unit_whose_parent_does_not_exist(store, tmp_path):
    path = write(
        tmp_path,
        "units.csv",
        "unit_id,name,parent_id,kind\nC,Co,,company\nB1,Roma,R9,branch\n",
    )

    rejected(
        store,
        "units",
        path,
        str(path),
        "row 3",
        "column parent_id",
        "'R9'",
        "parent unit does not exist",
    )


def test_cycle_in_the_hierarchy(store, tmp_path):
    path = write(
        tmp_path,
        "units.csv",
        "unit_id,name,parent_id,kind\nC,Co,,company\nA,A,B,region\nB,B,A,branch\n",
    )

    error = rejected(
        store,
        "units",
        path,
        str(path),
        "row 3",
        "row 4",
        "column parent_id",
        "cycle in the hierarchy",
    )
    assert error.counts == {"parent_id: makes a cycle in the hierarchy": 2}


def test_unit_already_in_the_store(units_store, tmp_path):
    path = write(
        tmp_path, "more.csv", "unit_id,name,kind\nB3,Ostia,branch\nB1,X,branch\n"
    )

    rejected(
        units_store, "units", path, "row 3", "column unit_id", "already in the store"
    )


def test_progress_is_reported_step_by_step(units_store, tmp_path):
    seen = []
    path = write(tmp_path, "customers.csv", CUSTOMERS)

    import_file(
        units_store,
        "customer-responses",
        path,
        progress=lambda step, done, total: seen.append((step, done, total)),
    )

    assert [done for _, done, _ in seen] == [1, 2, 3, 4]
    assert seen[-1] == ("writing", 4, 4)
