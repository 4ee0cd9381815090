"""Authentication: bearer tokens for API clients and session cookies for browsers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from spineguide.api.schemas import Me, Problem, SessionResponse, TokenRequest, TokenResponse
from spineguide.api.security import (
    Principal,
    check_login,
    check_origin,
    issue_token,
    login_session,
    logout_session,
    rate_limit,
    require_user,
)
from spineguide.store.models import User, utcnow

router = APIRouter(prefix="/auth", tags=["auth"])
_LOGIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "unknown username or wrong password"},
    403: {"model": Problem, "description": "sign-in posted from another origin"},
    429: {"model": Problem, "description": "too many attempts (client or account lockout)"},
}


def _login(request: Request, body: TokenRequest) -> User:
    return check_login(request, body.username, body.password)


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=_LOGIN_ERRORS,
    dependencies=[Depends(rate_limit("login"))],
)
async def token(request: Request, body: TokenRequest) -> TokenResponse:
    """Exchange a username and password for a bearer token (send it as `Authorization: Bearer`).

    Five failed attempts lock the account for 15 minutes (429 with Retry-After); every attempt
    is audited.
    """
    check_origin(request)
    sg = request.app.state.sg
    user = await run_in_threadpool(_login, request, body)
    tok, expires = await run_in_threadpool(
        issue_token, sg.sessions, user, sg.settings.token_ttl_hours
    )
    return TokenResponse(
        access_token=tok,
        expires_at=expires,
        expires_in=int((expires - utcnow()).total_seconds()),
    )


@router.post(
    "/session",
    response_model=SessionResponse,
    responses=_LOGIN_ERRORS,
    dependencies=[Depends(rate_limit("login"))],
)
async def session(request: Request, response: Response, body: TokenRequest) -> SessionResponse:
    """Start a browser session: sets an HttpOnly, SameSite=Lax session cookie.

    A request whose Origin is another site is refused (login CSRF).
    """
    check_origin(request)
    user = await run_in_threadpool(_login, request, body)
    csrf = await run_in_threadpool(login_session, request, response, user)
    return SessionResponse(username=user.username, role=user.role, csrf_token=csrf)


@router.post("/logout", status_code=204, responses={403: {"model": Problem}})
async def logout(request: Request, response: Response) -> Response:
    """Sign out: revoke the bearer token sent with the request and end the browser session."""
    await run_in_threadpool(logout_session, request, response)
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, responses={401: {"model": Problem}})
async def me(principal: Principal = Depends(require_user)) -> Me:
    """The signed-in account."""
    return Me(id=principal.id, username=principal.username, role=principal.role, via=principal.via)
