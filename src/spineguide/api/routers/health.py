"""GET /api/v1/health: service, knowledge-base and database status."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from spineguide import __version__
from spineguide.api.schemas import Health

router = APIRouter(tags=["service"])


def _db_status(request: Request) -> dict[str, object]:
    from spineguide.store import db

    engine = request.app.state.sg.engine
    ok = db.ping(engine)
    revision = None
    if ok:
        try:
            revision = db.current_revision(engine)
        except Exception:
            ok = False
    return {
        "status": "ok" if ok else "unavailable",
        "dialect": engine.dialect.name,
        "revision": revision,
    }


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(request: Request) -> JSONResponse:
    """Versions of the service and knowledge base, and whether the database answers."""
    db_status = await run_in_threadpool(_db_status, request)
    ok = db_status["status"] == "ok"
    body = {
        "status": "ok" if ok else "degraded",
        "version": __version__,
        "kb_version": request.app.state.sg.kb.version,
        "db": db_status,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
