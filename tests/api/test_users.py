"""Users and sessions in the store."""

from __future__ import annotations

import pyarrow as pa
import pytest

from excx.api.users import (
    add_user,
    authenticate,
    find_user,
    session_user,
    start_session,
)
from excx.errors import InputError


@pytest.fixture
def units(store):
    store.write(
        {
            "units": pa.table(
                {
                    "unit_id": ["co", "r1"],
                    "name": ["Co", "R1"],
                    "parent_id": [None, "co"],
                    "kind": ["company", "region"],
                }
            )
        }
    )
    return store


def test_add_and_authenticate(units):
    add_user(units, "max", "long enough", role="manager", unit_id="r1")
    user = authenticate(units, "max", "long enough")
    assert (user.username, user.role, user.unit_id) == ("max", "manager", "r1")
    assert authenticate(units, "max", "wrong password") is None
    stored = units.to_pyarrow(units.table("users")).to_pylist()[0]
    assert "long enough" not in str(stored)
    session = start_session(units, user, hours=1)
    assert session_user(units, session) == user
    assert session_user(units, session + "x") is None


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("ann", {"role": "owner"}, "role 'owner'"),
        ("ann", {"role": "manager"}, "needs --unit"),
        ("ann", {"role": "analyst", "unit_id": "r1"}, "take no --unit"),
        ("ann", {"role": "manager", "unit_id": "r9"}, "unit 'r9'"),
        ("ann; DROP TABLE users", {"role": "admin"}, "username"),
    ],
)
def test_refusals(units, name, options, message):
    with pytest.raises(InputError, match=message):
        add_user(units, name, "long enough", **options)
    assert units.count("users") == 0


def test_username_is_unique(units):
    add_user(units, "ann", "long enough", role="admin")
    with pytest.raises(InputError, match="exists already"):
        add_user(units, "ann", "other password", role="viewer")
    assert find_user(units, "ann").role == "admin"
