"""FastAPI dependencies: the store, the logged-in user, roles, CSRF and unit scope.

Every data route declares who may call it with ``require(...)`` and, when it
touches units, takes a :class:`Scope`: the one place where a manager's subtree is
enforced. The access policy (tested route by route in ``tests/api/test_deps.py``):

=========================  =====  =======  =================  ======
route                      admin  analyst  manager            viewer
=========================  =====  =======  =================  ======
GET  /metrics/{kpi}        yes    yes      own subtree        yes
GET  /units, …/subtree     yes    yes      own subtree        no
/surveys (all)             yes    no       no                 no
POST /imports/{target}     yes    yes      no                 no
GET  /linkage              yes    yes      no (whole company)  yes
=========================  =====  =======  =================  ======

A viewer reads the figures a dashboard shows (every one privacy-gated), never
lists of units, surveys or imports. Users are created with ``excx user add``.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from excx.api.security import derive
from excx.api.settings import Settings
from excx.api.users import User, session_user
from excx.store import Store

__all__ = [
    "SESSION_COOKIE",
    "CSRF_HEADER",
    "get_settings",
    "get_store",
    "checkout",
    "SettingsDep",
    "StoreDep",
    "current_user",
    "require",
    "Scope",
    "unit_scope",
    "csrf_token",
    "subtree",
]

SESSION_COOKIE = "excx_session"
CSRF_HEADER = "X-CSRF-Token"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with (async: no worker thread needed)."""
    return request.app.state.settings


@contextlib.asynccontextmanager
async def checkout(request: Request) -> AsyncIterator[Store]:
    """A store from the app's pool for an ``async with`` block.

    Requests wait for a free connection on a semaphore of the pool's size, in
    the event loop: waiting in worker threads instead could take every thread
    and starve the requests that hold the connections.
    """
    async with request.app.state.store_slots:
        with request.app.state.pool.checkout() as store:
            yield store


async def get_store(request: Request) -> AsyncIterator[Store]:
    """A store from the app's pool (:func:`checkout`), for the whole request."""
    async with checkout(request) as store:
        yield store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def csrf_token(settings: Settings, session_id: str) -> str:
    """The CSRF token of a session: an HMAC of its id under the secret."""
    return derive(settings.secret_key, "csrf", session_id)


def current_user(request: Request, store: StoreDep, settings: SettingsDep) -> User:
    """The user of the session cookie; checks CSRF on state-changing methods.

    Raises
    ------
    HTTPException
        401 without a valid, unexpired session; 403 when a POST, PUT, PATCH or
        DELETE lacks the session's token in the ``X-CSRF-Token`` header.
    """
    session_id = request.cookies.get(SESSION_COOKIE)
    user = session_user(store, session_id) if session_id else None
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "not logged in or the session expired: POST /api/v1/login",
        )
    if request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent, csrf_token(settings, session_id)):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"missing or wrong {CSRF_HEADER} header: send the csrf_token that "
                "POST /api/v1/login or GET /api/v1/me returned",
            )
    request.scope.setdefault("state", {})["username"] = user.username
    return user


UserDep = Annotated[User, Depends(current_user)]


def require(*roles: str):
    """A dependency that lets only `roles` through (403 otherwise)."""

    def check(user: UserDep) -> User:
        if user.role not in roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {user.role!r} may not use this route; allowed: "
                f"{', '.join(roles)}",
            )
        return user

    return Depends(check)


def subtree(store: Store, unit_id: str) -> list[str]:
    """`unit_id` and every unit below it (``units.parent_id``), from the small
    units table."""
    units = store.to_pyarrow(store.table("units").select("unit_id", "parent_id"))
    children: dict[str, list[str]] = {}
    for child, parent in zip(*units.to_pydict().values(), strict=True):
        children.setdefault(parent, []).append(child)
    found, frontier = {unit_id}, [unit_id]
    while frontier:
        below = [c for u in frontier for c in children.get(u, []) if c not in found]
        found.update(below)
        frontier = below
    return sorted(found)


@dataclass(frozen=True)
class Scope:
    """The units a user may see: None means all of them."""

    user: User
    units: frozenset[str] | None

    def restrict(self, requested: Iterable[str] | None) -> list[str] | None:
        """The requested units (None: all) narrowed to the scope.

        Raises
        ------
        HTTPException
            403 when a requested unit lies outside a manager's subtree.
        """
        if self.units is None:
            return None if requested is None else list(requested)
        if requested is None:
            return sorted(self.units)
        outside = sorted(set(requested) - self.units)
        if outside:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"units {outside[:5]} are outside your subtree (unit "
                f"{self.user.unit_id!r} and the units below it)",
            )
        return list(requested)


def unit_scope(user: UserDep, store: StoreDep) -> Scope:
    """The caller's :class:`Scope`: a manager's subtree, everything for others."""
    if user.role != "manager":
        return Scope(user, None)
    return Scope(user, frozenset(subtree(store, user.unit_id)))


ScopeDep = Annotated[Scope, Depends(unit_scope)]
