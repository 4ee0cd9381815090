"""Authentication: bearer tokens for API clients and session cookies for browsers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from spineguide.api.problems import ProblemError
from spineguide.api.schemas import Me, Problem, SessionResponse, TokenRequest, TokenResponse
from spineguide.api.security import (
    Principal,
    authenticate,
    client_key,
    issue_token,
    login_session,
    logout_session,
    rate_limit,
    require_user,
)
from spineguide.store import repository as repo
from spineguide.store.models import User, utcnow

router = APIRouter(prefix="/auth", tags=["auth"])
_BAD_LOGIN = "unknown username or wrong password"


def _login(request: Request, body: TokenRequest) -> User:
    sg = request.app.state.sg
    user = authenticate(sg.sessions, body.username, body.password)
    with sg.sessions.begin() as s:
        repo.audit(
            s,
            user,
            "auth.login",
            "ok" if user else "denied",
            client=client_key(request),
            detail=None if user else "bad credentials",
        )
    if user is None:
        raise ProblemError(401, _BAD_LOGIN, "check the username and password", slug="bad-login")
    return user


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={401: {"model": Problem}, 429: {"model": Problem}},
    dependencies=[Depends(rate_limit("login"))],
)
async def token(request: Request, body: TokenRequest) -> TokenResponse:
    """Exchange a username and password for a bearer token (send it as `Authorization: Bearer`)."""
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
    responses={401: {"model": Problem}, 429: {"model": Problem}},
    dependencies=[Depends(rate_limit("login"))],
)
async def session(request: Request, response: Response, body: TokenRequest) -> SessionResponse:
    """Start a browser session: sets an HttpOnly, SameSite=Lax session cookie."""
    user = await run_in_threadpool(_login, request, body)
    csrf = await run_in_threadpool(login_session, request, response, user)
    return SessionResponse(username=user.username, role=user.role, csrf_token=csrf)


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response) -> Response:
    """End the browser session and clear its cookie."""
    await run_in_threadpool(logout_session, request, response)
    response.status_code = 204
    return response


@router.get("/me", response_model=Me, responses={401: {"model": Problem}})
async def me(principal: Principal = Depends(require_user)) -> Me:
    """The signed-in account."""
    return Me(id=principal.id, username=principal.username, role=principal.role, via=principal.via)
