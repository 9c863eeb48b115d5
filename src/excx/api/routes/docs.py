"""``/docs``: the endpoints of ``/openapi.json`` as a local page (works offline)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from excx.api.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> HTMLResponse:
    """Every endpoint with its method and summary; no external asset."""
    spec = request.app.openapi()
    endpoints = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", "")}
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]
    return render("docs.html", title="excx API", endpoints=endpoints)
