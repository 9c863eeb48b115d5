"""``/api/v1/units``: the unit hierarchy, limited to the caller's scope.

Answers are cached per store generation and scope (:mod:`excx.web.cache`); the
scope check runs on every request, before the lookup.
"""

from __future__ import annotations

import ibis
from fastapi import APIRouter, HTTPException, Request, Response, status

from excx.api.deps import ScopeDep, StoreDep, require, subtree
from excx.web.cache import cache_header, cached, store_state

router = APIRouter(
    tags=["units"], dependencies=[require("admin", "analyst", "manager")]
)


def _units(store, unit_ids: list[str] | None) -> bytes:
    """The rows of `unit_ids` (None: all), ordered by id, as a JSON array."""
    units = store.table("units")
    if unit_ids is not None:
        units = units.filter(units.unit_id.isin(unit_ids))
    units = units.order_by("unit_id")
    frame = store.to_pyarrow(units).to_pandas()
    return frame.to_json(orient="records", date_format="iso").encode()


def _json(request: Request, body: bytes) -> Response:
    return Response(body, media_type="application/json", headers=cache_header(request))


@router.get("/units", summary="Every unit the caller may see")
def list_units(request: Request, store: StoreDep, scope: ScopeDep) -> list[dict]:
    """All columns of the units table; a manager gets their subtree."""
    allowed = scope.restrict(None)
    key = (*store_state(store), "api.units", scope.units)
    return _json(request, cached(request, key, lambda: _units(store, allowed)))


@router.get("/units/{unit_id}/subtree", summary="A unit and every unit below it")
def unit_subtree(
    request: Request, unit_id: str, store: StoreDep, scope: ScopeDep
) -> list[dict]:
    """404 if the unit does not exist, 403 if it is outside a manager's subtree."""

    def rows() -> bytes | None:
        count = store.table("units").filter(ibis._.unit_id == unit_id).count()
        if not int(store.execute(count)):
            return None
        return _units(store, subtree(store, unit_id))

    body = cached(request, (*store_state(store), "api.subtree", unit_id), rows)
    if body is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no unit {unit_id!r}")
    scope.restrict([unit_id])
    return _json(request, body)
