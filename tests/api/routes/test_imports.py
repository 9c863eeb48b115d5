"""``POST /api/v1/imports/{target}``: the library's import, its errors as 422 JSON."""

from __future__ import annotations

HEADER = (
    "response_id,survey_id,submitted_at,channel,served_by,unit_id,nps,csat,ces,comment"
)
GOOD = (
    f"{HEADER}\n"
    "r1,cx,2026-01-05 10:00:00,web,self_service,,9,5,6,fine\n"
    "r2,cx,2026-01-06 11:00:00,store,human,R1-B001,7,4,3,\n"
)
BAD = GOOD + "r3,cx,2026-01-07,store,human,R1-B001,11,4,3,\n"


def _upload(api, text, name="answers.csv", role="analyst", **form):
    return api.client.post(
        "/api/v1/imports/customer-responses",
        files={"file": (name, text.encode(), "text/csv")},
        data=form,
        headers=api.as_role(role),
    )


def test_import_adds_rows_once(fresh):
    answer = _upload(fresh, GOOD)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["file"], body["rows_read"], body["rows_written"]) == (
        "answers.csv",
        2,
        2,
    )
    assert fresh.store.count("customer_responses") == 2
    again = _upload(fresh, GOOD, role="admin").json()
    assert again["skipped_as_already_imported"] and again["rows_written"] == 0
    assert fresh.store.count("customer_responses") == 2


def test_dry_run_writes_nothing(fresh):
    body = _upload(fresh, GOOD, dry_run="true").json()
    assert body["dry_run"] and body["rows_read"] == 2
    assert fresh.store.count("customer_responses") == 0


def test_invalid_file_is_422_with_row_and_column(fresh):
    answer = _upload(fresh, BAD, name="march.csv")
    assert answer.status_code == 422
    body = answer.json()
    assert body["file"] == "march.csv"
    assert "march.csv" in body["detail"] and "/tmp" not in body["detail"]
    # header = row 1, so the third data row is row 4
    assert {"row": 4, "column": "nps", "value": "11"}.items() <= body["problems"][
        0
    ].items()
    assert fresh.store.count("customer_responses") == 0
    assert fresh.store.count("imports") == 0


def test_wrong_extension_and_target(fresh):
    assert _upload(fresh, GOOD, name="answers.exe").status_code == 422
    wrong = fresh.client.post(
        "/api/v1/imports/salaries",
        files={"file": ("a.csv", GOOD.encode(), "text/csv")},
        headers=fresh.as_role("admin"),
    )
    assert wrong.status_code == 422
    assert fresh.store.count("customer_responses") == 0


def test_import_bodies_have_their_own_limit(fresh):
    app = fresh.client.app
    small = app.state.settings.max_body_bytes
    padded = GOOD + "".join(
        f"p{i},cx,2026-01-05 10:00:00,web,self_service,,9,5,6,{'z' * 40}\n"
        for i in range(small // 60)
    )
    assert len(padded) > small
    assert _upload(fresh, padded).status_code == 200
