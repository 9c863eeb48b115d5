"""The dashboard's pages: server-rendered Jinja2 (autoescaped), charts drawn by the
vendored vega-embed from specs in the page, nothing loaded from elsewhere.

Access reuses :mod:`excx.api.deps`: ``require`` for roles and the manager's
:class:`~excx.api.deps.Scope` for the subtree. A request without a valid session
is sent to ``/login`` instead of receiving a 401.

========================  =====  =======  ============  ======
page                      admin  analyst  manager       viewer
========================  =====  =======  ============  ======
/dashboard (overview)     yes    yes      own subtree   yes
/dashboard/heatmap        yes    yes      own subtree   yes
/dashboard/channels       yes    yes      own subtree   yes
/dashboard/comments       yes    yes      own subtree   yes
/dashboard/linkage        yes    yes      no            yes
/dashboard/journey        yes    yes      see below     no
/dashboard/human-touch    yes    yes      own subtree   yes
========================  =====  =======  ============  ======

The journey page follows ``GET /api/v1/journey/initiatives/{id}/kpis``: it
lists figures per unit of an initiative, so a manager may open an initiative
only when every one of its units is in their subtree (the choice lists only
those; another one is a 403 page), and a viewer, whom the API refuses the
journey routes, is refused here too. The human-touch page shows customer
figures only; a manager sees the answers of their subtree's units (bot and
self-service answers, which have no unit, drop out), as on the channels page.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import escape

from excx.api.deps import (
    SESSION_COOKIE,
    Scope,
    ScopeDep,
    SettingsDep,
    StoreDep,
    csrf_token,
    require,
)
from excx.api.users import User, session_user
from excx.errors import ExcxError, InputError, PrivacyError
from excx.schema import CHANNELS
from excx.web import colours, figures
from excx.web.cache import cache_header, cached, store_state
from excx.web.filters import parse_filters, period_options, units_in

__all__ = ["router", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent / "static"


def _number(value, digits: int = 1) -> str:
    """A figure with `digits` decimals; a dash when there is none."""
    if not isinstance(value, (int, float)) or pd.isna(value):
        return "–"
    return f"{value:.{digits}f}"


_env = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
_env.filters["number"] = _number
# JSON inside <script type="application/json">: no markup character is left raw
# (names typed by users end up in chart titles), JSON.parse restores them.
_env.filters["tojson_safe"] = lambda v: (
    json.dumps(v)
    .replace("<", "\\u003c")
    .replace(">", "\\u003e")
    .replace("&", "\\u0026")
)


def _logged_in(request: Request, store: StoreDep) -> None:
    """Send a visitor without a valid session to the login page (303)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id and session_user(store, session_id) is not None:
        return
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    raise HTTPException(
        status.HTTP_303_SEE_OTHER,
        "log in first",
        headers={"Location": f"/login?next={quote(target, safe='')}"},
    )


router = APIRouter(tags=["dashboard"], include_in_schema=False)
pages = APIRouter(prefix="/dashboard", dependencies=[Depends(_logged_in)])
_EVERYONE = require("admin", "analyst", "manager", "viewer")


# Stand-ins for the user name and the CSRF token in a cached page: the page is
# rendered once per scope and role, and each request puts its own values in.
_MARK = secrets.token_hex(12)
_USER_MARK, _CSRF_MARK = f"user{_MARK}", f"csrf{_MARK}"


def _html(request: Request, scope: Scope, template: str, **context):
    """The page as (HTML with the stand-ins, status code)."""
    user = User(_USER_MARK, scope.user.role, scope.user.unit_id)
    html = _env.get_template(template).render(
        user=user, csrf=_CSRF_MARK, path=request.url.path, **context
    )
    return html, context.get("status_code", 200)


def _personal(html: str, user: User, csrf: str) -> str:
    """`html` with the stand-ins replaced by the user's name and CSRF token."""
    html = html.replace(_USER_MARK, str(escape(user.username)))
    return html.replace(_CSRF_MARK, str(escape(csrf)))


class _Selection:
    """The request's filters, checked, with the units they select."""

    def __init__(self, request: Request, store, scope: Scope) -> None:
        self.request, self.state = request, store_state(store)
        self.units_table = self.cached(_units_table, store)
        regions = sorted(self.units_table["region"].dropna().unique().tolist())
        self.filters = parse_filters(
            request.query_params, regions=regions, units=self.units_table
        )
        if self.filters.unit is not None:
            scope.restrict([self.filters.unit])
        own = scope.user.unit_id if scope.units is not None else None
        self.unit = self.filters.unit or own
        visible = units_in(self.units_table, root=own, region=None)
        first, last = self.cached(figures.date_range, store)
        self.options = {
            "periods": period_options(first, last, grain=self.filters.grain),
            "regions": regions,
            "units": self._labelled(visible),
            "channels": list(CHANNELS),
        }

    def cached(self, figure, *arguments, **options):
        """``figure(*arguments, **options)``, computed once per store state."""
        named = [
            (k, tuple(v) if isinstance(v, list) else v) for k, v in options.items()
        ]
        key = (*self.state, figure.__name__, *arguments[1:], *sorted(named))
        return cached(self.request, key, lambda: figure(*arguments, **options))

    def units(self) -> list[str]:
        """The units the filters select, in tree order."""
        return units_in(self.units_table, root=self.unit, region=self.filters.region)

    def _labelled(self, unit_ids: list[str]) -> list[tuple[str, str]]:
        names = dict(
            zip(self.units_table["unit_id"], self.units_table["name"], strict=True)
        )
        return [(u, f"{names.get(u) or u} ({u})") for u in unit_ids]


def _units_table(store) -> pd.DataFrame:
    """Id, name, parent and region of every unit."""
    units = store.table("units").select("unit_id", "name", "parent_id", "region")
    return store.to_pyarrow(units).to_pandas()


def _render(request, settings, store, scope, template: str, build) -> HTMLResponse:
    """Render `template` with the filters and what `build(selection)` returns;
    a refused filter becomes the page's message with a 4xx status.

    The page is cached per store state, path, query, scope and role, with
    stand-ins for the user's name and CSRF token that each request fills in:
    `build` must depend on nothing else (not on the clock, not on the user's
    name).
    """
    query = tuple(sorted(request.query_params.multi_items()))
    who = (scope.user.role, scope.user.unit_id)
    page = (request.url.path, query, scope.units, *who)
    key = (*store_state(store), "page", *page)

    def compute() -> tuple[str, int]:
        try:
            selection = _Selection(request, store, scope)
            context = build(selection)
        except (ExcxError, HTTPException) as exc:
            code = 403 if isinstance(exc, PrivacyError) else 422
            code = getattr(exc, "status_code", code)
            text = getattr(exc, "detail", None) or str(exc)
            return _html(
                request,
                scope,
                "message.html",
                title="Not shown",
                text=text,
                status_code=code,
            )
        options = {"filters": selection.filters, "options": selection.options}
        return _html(request, scope, template, **options, **context)

    html, code = cached(request, key, compute)
    csrf = csrf_token(settings, request.cookies[SESSION_COOKIE])
    html = _personal(html, scope.user, csrf)
    return HTMLResponse(html, status_code=code, headers=cache_header(request))


@pages.get("", dependencies=[_EVERYONE])
def overview(request: Request, store: StoreDep, settings: SettingsDep, scope: ScopeDep):
    """KPI tiles with intervals, and each KPI's trend with its band."""

    def build(selection: _Selection) -> dict:
        unit = selection.unit
        tiles = selection.cached(figures.kpi_tiles, store, selection.filters, unit=unit)
        specs = selection.cached(
            figures.trend_specs, store, selection.filters, unit=unit
        )
        return {"title": "Overview", "tiles": tiles, "specs": specs}

    return _render(request, settings, store, scope, "overview.html", build)


@pages.get("/heatmap", dependencies=[_EVERYONE])
def heatmap(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
    kpi: str = "enps",
):
    """Units × periods of eNPS (or another KPI), suppressed cells marked."""

    def build(selection: _Selection) -> dict:
        if kpi not in figures.KPIS:
            raise InputError(f"kpi={kpi!r}; accepted: {', '.join(figures.KPIS)}")
        units = selection.units()
        frame = selection.cached(
            figures.heatmap, store, kpi, selection.filters, units=units
        )
        grid = colours.grid(frame, units=units, kpi=kpi)
        labels = dict(selection.options["units"])
        return {"title": "Unit heatmap", "kpi": kpi, "grid": grid, "labels": labels}

    return _render(request, settings, store, scope, "heatmap.html", build)


@pages.get("/channels", dependencies=[_EVERYONE])
def channels(request: Request, store: StoreDep, settings: SettingsDep, scope: ScopeDep):
    """NPS, CSAT and CES by channel × served_by with intervals."""

    def build(selection: _Selection) -> dict:
        chosen = selection.unit is not None or selection.filters.region is not None
        frames = selection.cached(
            figures.channels,
            store,
            selection.filters,
            units=selection.units() if chosen else None,
        )
        rows = pd.concat(frames.values(), ignore_index=True)
        return {
            "title": "Channels and human touch",
            "rows": figures.records(rows),
            "specs": {"channels": figures.channel_spec(frames["nps"])},
        }

    return _render(request, settings, store, scope, "channels.html", build)


@pages.get("/comments", dependencies=[_EVERYONE])
def comments(request: Request, store: StoreDep, settings: SettingsDep, scope: ScopeDep):
    """Employee comments of groups at or above the comment threshold, and the
    latest customer comments."""

    def build(selection: _Selection) -> dict:
        units = selection.units()
        chosen = selection.unit is not None or selection.filters.region is not None
        employee, hidden = selection.cached(
            figures.employee_comments, store, selection.filters, units=units
        )
        customer = selection.cached(
            figures.customer_comments,
            store,
            selection.filters,
            units=units if chosen else None,
        )
        return {
            "title": "Comments",
            "employee": figures.records(employee),
            "hidden_groups": hidden,
            "customer": figures.records(customer),
        }

    return _render(request, settings, store, scope, "comments.html", build)


@pages.get("/linkage", dependencies=[require("admin", "analyst", "viewer")])
def linkage(request: Request, store: StoreDep, settings: SettingsDep, scope: ScopeDep):
    """Unit scatter (gated units only), coefficients and the chain in money, for
    the whole company: the numbers of ``GET /api/v1/linkage``."""
    from excx.web import linkage as linkage_view

    def build(selection: _Selection) -> dict:
        return {"title": "Linkage"} | linkage_view.context(request, store)

    return _render(request, settings, store, scope, "linkage.html", build)


@pages.get("/journey", dependencies=[require("admin", "analyst", "manager")])
def journey(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    scope: ScopeDep,
    initiative: str | None = None,
):
    """An initiative's six phases: status, KPIs (employee figures gated) and the
    effect of each activity on eNPS and NPS."""
    from excx.web import journey as journey_view

    def build(selection: _Selection) -> dict:
        chosen = journey_view.context(store, scope, initiative, selection.cached)
        return {"title": "Engagement journey"} | chosen

    return _render(request, settings, store, scope, "journey.html", build)


@pages.get("/human-touch", dependencies=[_EVERYONE])
def human_touch(
    request: Request, store: StoreDep, settings: SettingsDep, scope: ScopeDep
):
    """Preference for a person, the cost of a bot-to-human hand-off and the
    common journey paths, over the selected units and period."""
    from excx.web.human_touch import human_touch_figures

    def build(selection: _Selection) -> dict:
        chosen = selection.unit is not None or selection.filters.region is not None
        selection.options["channels"] = []  # a journey crosses channels
        shown = selection.cached(
            human_touch_figures,
            store,
            selection.filters.span(),
            units=tuple(selection.units()) if chosen else None,
        )
        return {"title": "Human touch"} | shown

    return _render(request, settings, store, scope, "human_touch.html", build)


router.include_router(pages)


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/login", response_class=HTMLResponse)
def login_page(next: str = "/dashboard") -> HTMLResponse:
    """The login form; it posts JSON to ``/api/v1/login`` (see static/dashboard.js)."""
    if not next.startswith("/") or next.startswith("//"):
        next = "/dashboard"
    html = _env.get_template("login.html").render(title="Log in", next=next)
    return HTMLResponse(html)
