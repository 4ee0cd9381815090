"""The FastAPI application: REST API under /api/v1, CDS Hooks under /cds-services, OpenAPI docs.

The knowledge base is loaded once at startup; CPU-heavy work (assessment, parsing, FHIR
mapping) runs in the thread pool so one large request never stalls the event loop (assessments of
short inputs, a millisecond or two, run on the loop: see routers/assessments.py). Middleware,
outermost first: CatchAll (500 with an incident id, nothing sensitive logged), BodySizeLimit,
InputGuard (NUL, surrogates, nesting depth), SecurityHeaders (no-store, nosniff).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from spineguide import __version__
from spineguide.api.cds_auth import JwksCache
from spineguide.api.logsafe import install_log_filter
from spineguide.api.middleware import CatchAll, InputGuard, SecurityHeaders
from spineguide.api.openapi_docs import install_docs, secure_openapi
from spineguide.api.problems import install_problem_handlers, problem_body
from spineguide.api.ratelimit import SharedWindowLimiter, TokenBucketLimiter
from spineguide.api.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from spineguide.api.schemas import ConditionSummary
    from spineguide.knowledge.loader import KnowledgeBase

log = logging.getLogger("spineguide.api")


@dataclass
class Services:
    """Process-wide state shared by the routers (app.state.sg)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]  # may write (SQLite: BEGIN IMMEDIATE)
    read_sessions: sessionmaker[Session]  # read-only (SQLite: deferred, beside writers)
    kb: KnowledgeBase
    limiters: dict[str, TokenBucketLimiter | SharedWindowLimiter]
    jwks_cache: JwksCache
    condition_summaries: list[ConditionSummary] = field(default_factory=list)


class BodySizeLimit:
    """Pure-ASGI middleware: refuse request bodies over `max_bytes` with a 413 problem."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check Content-Length up front, then count streamed bytes (chunked bodies)."""
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(send)
                    return
                break
        # Buffer the body (bounded) so an oversize stream is refused before any handler runs.
        messages: list[Message] = []
        total = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > self.max_bytes:
                await self._reject(send)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replay_receive() -> Message:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replay_receive, send)

    async def _reject(self, send: Send) -> None:
        import json

        body = json.dumps(
            problem_body(
                413,
                "payload-too-large",
                "Request body too large",
                f"the request body exceeds the limit of {self.max_bytes} bytes",
                "send less data (split a batch, shorten the text)",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _build_services(settings: Settings) -> Services:
    from spineguide.api.schemas import ConditionSummary
    from spineguide.knowledge.loader import get_kb
    from spineguide.store import db

    kb = get_kb()
    engine = db.make_engine(settings.database_url)
    if settings.auto_migrate:
        db.upgrade(engine)
    summaries = [
        ConditionSummary(
            id=c.id,
            name=c.name,
            group=c.group,
            default_urgency=str(getattr(c.default_urgency, "value", c.default_urgency)),
            icd10cm=[getattr(code, "code", str(code)) for code in c.icd10cm],
        )
        for c in sorted(kb.conditions.values(), key=lambda c: (c.group, c.id))
    ]
    sessions = db.make_session_factory(engine)
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=db.make_read_session_factory(engine),
        kb=kb,
        limiters={
            # shared by every worker (database): brute force must not scale with workers
            "login": SharedWindowLimiter.from_rate(sessions, "login", settings.login_rate),
            "cds": SharedWindowLimiter(sessions, "cds", settings.cds_default_rate_per_minute, 60),
            # per worker: protects that worker's CPU
            "assess": TokenBucketLimiter(*settings.assess_rate),
        },
        jwks_cache=JwksCache(ttl=settings.cds_jwks_cache_s),
        condition_summaries=summaries,
    )


def _include_web(app: FastAPI) -> None:
    """Mount the web app's router when the web package exists (built separately)."""
    try:
        views = importlib.import_module("spineguide.web.views")
    except ModuleNotFoundError as exc:
        if exc.name not in ("spineguide.web.views", "spineguide.web"):
            raise
        return
    router = getattr(views, "router", None)
    if router is not None:
        app.include_router(router)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application (the KB and database are set up eagerly, once)."""
    from spineguide.api import cds_hooks
    from spineguide.api.routers import assessments, auth, health, knowledge, patients

    settings = settings or Settings.from_env()
    install_log_filter()
    services = _build_services(settings)
    if settings.cds_allow_anonymous:
        log.warning(
            "CDS Hooks calls without a JWT are accepted (sandbox mode); never in production"
        )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        services.engine.dispose()

    app = FastAPI(
        title="SpineGuide API",
        version=__version__,
        description=(
            "Evidence-linked decision support for lumbar spine conditions: assessments, imaging "
            "report parsing, medication safety, outcome instruments, patients over time, and a "
            "CDS Hooks 2.0 service. Errors are RFC 9457 problem details. SpineGuide supports, "
            "and does not replace, the judgement of a qualified clinician."
        ),
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # FastAPI's native OpenTelemetry hooks switch themselves on when any OTel provider is
        # configured and then record exception messages and request data (patient text must
        # never reach logs or traces); off, they also stop costing a provider lookup per request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.sg = services
    install_problem_handlers(app)
    api_prefix = "/api/v1"
    for module in (health, auth, assessments, knowledge, patients):
        app.include_router(module.router, prefix=api_prefix)
    app.include_router(cds_hooks.router)
    install_docs(app)  # before the web app, whose catch-all route would shadow /docs
    _include_web(app)
    secure_openapi(app)
    # add_middleware wraps: the last added runs first.
    app.add_middleware(SecurityHeaders)
    app.add_middleware(InputGuard, max_depth=settings.json_max_depth)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAll)
    return app


def app_from_env() -> Any:
    """Uvicorn factory: `uvicorn --factory spineguide.api.app:app_from_env`."""
    return create_app()
