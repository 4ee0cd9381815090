"""RFC 9457 problem details: one helper to build them and the handlers that map every error."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from spineguide.errors import SpineGuideError

log = logging.getLogger("spineguide.api")

PROBLEM_TYPE_BASE = "urn:spineguide:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    412: ("precondition-failed", "Precondition failed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-error", "The request did not validate"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem body."""

    def __init__(
        self,
        status: int,
        detail: str,
        hint: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        default_slug, default_title = _HTTP_TITLES.get(status, ("error", "Error"))
        self.status = status
        self.detail = detail
        self.hint = hint
        self.slug = slug or default_slug
        self.title = title or default_title
        self.headers = headers
        self.extra = extra or {}


def problem_body(
    status: int,
    slug: str,
    title: str,
    detail: str,
    hint: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A problem-details dict: type, title, status, detail, hint and any extension members."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if hint:
        body["hint"] = hint
    if extra:
        body.update(extra)
    return body


def problem_response(
    status: int,
    detail: str,
    hint: str | None = None,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    """A JSONResponse carrying a problem body with the problem+json media type."""
    default_slug, default_title = _HTTP_TITLES.get(status, ("error", "Error"))
    return JSONResponse(
        problem_body(status, slug or default_slug, title or default_title, detail, hint, extra),
        status_code=status,
        headers=headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc) or "body"


def validation_problem(errors: list[dict[str, Any]]) -> JSONResponse:
    """Turn pydantic/FastAPI validation errors into a 400 (bad JSON) or 422 problem."""
    for err in errors:
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            reason = ctx.get("error", "invalid JSON")
            return problem_response(
                400,
                f"the request body is not valid JSON: {reason}",
                "send a JSON document with Content-Type: application/json",
                slug="malformed-json",
                title="Malformed JSON",
            )
    items = [
        {"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
        for e in errors[:20]
    ]
    first = items[0] if items else {"loc": "body", "msg": "invalid"}
    detail = f"{first['loc']}: {first['msg']}"
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more)"
    return problem_response(
        422,
        detail,
        "fix the listed fields; the schema is at /openapi.json and /docs",
        extra={"errors": items},
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register handlers so every error leaves as a problem body (never an HTML page)."""

    @app.exception_handler(ProblemError)
    async def _problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.detail,
            exc.hint,
            slug=exc.slug,
            title=exc.title,
            headers=exc.headers,
            extra=exc.extra,
        )

    @app.exception_handler(SpineGuideError)
    async def _core(_request: Request, exc: SpineGuideError) -> JSONResponse:
        status = getattr(exc, "status_code", 400)
        slug = {400: "invalid-input", 404: "unknown-id", 413: "input-too-large"}.get(status)
        if status >= 500:
            log.error("core error %s", type(exc).__name__)
            return problem_response(
                500,
                "the knowledge base failed to load or validate",
                "contact the operator; see the server log",
            )
        return problem_response(status, exc.message, exc.hint, slug=slug, title=_core_title(status))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(list(exc.errors()))

    @app.exception_handler(ValidationError)
    async def _inner_validation(_request: Request, exc: ValidationError) -> JSONResponse:
        # A pydantic model inside the core rejected part of the input the request schema let
        # through (e.g. a null medication): that is bad input, not a server fault.
        err = exc.errors()[0] if exc.errors() else {}
        where = _loc(err.get("loc", ()))
        return problem_response(
            400,
            f"invalid {exc.title}: {where}: {err.get('msg', 'invalid value')}",
            "check that field against the schema at /openapi.json",
            slug="invalid-input",
            title="Invalid input",
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        hint = None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no endpoint at {request.url.path}"
            hint = "see /docs for the available endpoints"
        elif exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}"
            hint = "see /docs for the methods each endpoint accepts"
        return problem_response(exc.status_code, detail, hint, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        incident = uuid.uuid4().hex[:12]
        # Only the exception type and an incident id: messages may quote patient text.
        log.error("unhandled %s incident=%s", type(exc).__name__, incident, exc_info=False)
        return problem_response(
            500,
            f"an unexpected error occurred (incident {incident})",
            "retry; if it persists report the incident id to the operator",
        )


def _core_title(status: int) -> str:
    return {
        400: "Invalid input",
        404: "Unknown identifier",
        413: "Input too large",
    }.get(status, "Error")
