"""``/api/v1/units``: the unit hierarchy, limited to the caller's scope."""

from __future__ import annotations

import json

import ibis
from fastapi import APIRouter, HTTPException, status

from excx.api.deps import ScopeDep, StoreDep, require, subtree

router = APIRouter(
    tags=["units"], dependencies=[require("admin", "analyst", "manager")]
)


def _units(store, unit_ids: list[str] | None) -> list[dict]:
    units = store.table("units")
    if unit_ids is not None:
        units = units.filter(units.unit_id.isin(unit_ids))
    units = units.order_by("unit_id")
    frame = store.to_pyarrow(units).to_pandas()
    return json.loads(frame.to_json(orient="records", date_format="iso"))


@router.get("/units", summary="Every unit the caller may see")
def list_units(store: StoreDep, scope: ScopeDep) -> list[dict]:
    """All columns of the units table; a manager gets their subtree."""
    return _units(store, scope.restrict(None))


@router.get("/units/{unit_id}/subtree", summary="A unit and every unit below it")
def unit_subtree(unit_id: str, store: StoreDep, scope: ScopeDep) -> list[dict]:
    """404 if the unit does not exist, 403 if it is outside a manager's subtree."""
    count = store.table("units").filter(ibis._.unit_id == unit_id).count()
    if not int(store.execute(count)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {unit_id!r}")
    scope.restrict([unit_id])
    return _units(store, subtree(store, unit_id))
