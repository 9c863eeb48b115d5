"""Login, logout and who am I.

Sessions are server-side: the ``excx_session`` cookie holds a random id
(HttpOnly, SameSite=Lax, Secure over https or behind TLS) and the store keeps only
its hash. State-changing requests carry the session's CSRF token in the
``X-CSRF-Token`` header. Login takes JSON only, which a cross-site HTML form
cannot send.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from excx.api.deps import (
    SESSION_COOKIE,
    SettingsDep,
    StoreDep,
    csrf_token,
    current_user,
)
from excx.api.security import LoginThrottle
from excx.api.users import User, authenticate, end_session, start_session

router = APIRouter(tags=["auth"])


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    username: str
    role: str
    unit_id: str | None
    csrf_token: str


def _throttle(request: Request) -> LoginThrottle:
    state = request.app.state
    if not hasattr(state, "login_throttle"):
        settings = state.settings
        state.login_throttle = LoginThrottle(
            failures=settings.login_failures,
            window_seconds=settings.login_window_seconds,
        )
    return state.login_throttle


@router.post("/login", summary="Log in; sets the session cookie")
def login(
    body: Login,
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
) -> Me:
    """Check the password; 401 if wrong, 429 after too many failures."""
    throttle = _throttle(request)
    address = request.client.host if request.client else "-"
    if throttle.blocked(body.username, address):
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins for {body.username!r} from this address; "
            f"try again in {settings.login_window_seconds // 60} minutes",
        )
    user = authenticate(store, body.username, body.password)
    if user is None:
        throttle.fail(body.username, address)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    throttle.reset(body.username, address)

    session_id = start_session(store, user, hours=settings.session_hours)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=settings.behind_tls or request.url.scheme == "https",
        path="/",
    )
    return Me(**vars(user), csrf_token=csrf_token(settings, session_id))


@router.post("/logout", summary="End the session")
def logout(
    request: Request,
    response: Response,
    store: StoreDep,
    user: Annotated[User, Depends(current_user)],
) -> dict:
    """Delete the session server-side and clear the cookie (needs CSRF)."""
    end_session(store, request.cookies[SESSION_COOKIE])
    response.delete_cookie(SESSION_COOKIE, path="/")
    return {"logged_out": user.username}


@router.get("/me", summary="The logged-in user and their CSRF token")
def me(
    request: Request,
    settings: SettingsDep,
    user: Annotated[User, Depends(current_user)],
) -> Me:
    return Me(
        **vars(user),
        csrf_token=csrf_token(settings, request.cookies[SESSION_COOKIE]),
    )
