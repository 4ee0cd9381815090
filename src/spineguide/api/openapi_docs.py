"""The OpenAPI document (security schemes, problem+json errors) and the locally served /docs.

Swagger UI is served from local files when the `swagger-ui-bundle` package is installed; without
it /docs is a small server-rendered page listing every operation (no CDN is ever contacted).
"""

from __future__ import annotations

import html
import importlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, Response

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "Opaque token from POST /api/v1/auth/token; revoked by POST /api/v1/auth/logout.",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "sg_session",
        "description": "Browser session from POST /api/v1/auth/session; state changes also need "
        "the X-CSRF-Token header.",
    },
    "cdsHooksJwt": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "CDS Hooks 2.0: a JWT signed by a registered EHR (iss, aud = the service "
        "URL, exp <= 5 min, iat, jti), asymmetric algorithms only.",
    },
}
_USER = [{"bearerAuth": []}, {"sessionCookie": []}]
_OPTIONAL_USER = [{}, *_USER]


def _security_for(path: str, method: str) -> list[dict[str, list[str]]] | None:
    if path.startswith("/cds-services/{service_id}"):
        return [{"cdsHooksJwt": []}]
    if path.startswith("/api/v1/patients") or path == "/api/v1/assessments/{assessment_id}":
        return _USER
    if path == "/api/v1/auth/me":
        return _USER
    if (path, method) in (("/api/v1/assessments", "post"), ("/api/v1/auth/logout", "post")):
        return _OPTIONAL_USER
    return None


def _problem_content(existing: dict[str, Any] | None) -> dict[str, Any]:
    content: dict[str, Any] = {"application/problem+json": {"schema": PROBLEM_REF}}
    if existing and "application/json" in existing:
        content["application/json"] = existing["application/json"]
        if "HTTPValidationError" in str(content["application/json"]):
            content["application/json"] = {"schema": PROBLEM_REF}
    return content


def secure_openapi(app: FastAPI) -> None:
    """Replace app.openapi with a generator that adds security schemes and problem errors."""

    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = spec.setdefault("components", {})
        components["securitySchemes"] = SECURITY_SCHEMES
        schemas = components.setdefault("schemas", {})
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        problem = schemas.setdefault("Problem", {"type": "object"})
        problem.setdefault("properties", {}).update(
            {
                "errors": {"type": "array", "items": {"type": "object"}},
                "incident": {"type": "string"},
            }
        )
        problem["description"] = (
            "RFC 9457 problem details (media type application/problem+json); `hint` says what "
            "to do, `errors` lists field errors, `incident` identifies a server fault."
        )
        for path, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if not isinstance(op, dict) or "responses" not in op:
                    continue
                security = _security_for(path, method)
                if security is not None:
                    op["security"] = security
                responses = op["responses"]
                for code, resp in list(responses.items()):
                    if code[:1] in ("4", "5"):
                        resp["content"] = _problem_content(resp.get("content"))
                        if resp.get("description") in (None, "", "Validation Error"):
                            resp["description"] = "problem details"
                responses.setdefault(
                    "default",
                    {
                        "description": "any error: RFC 9457 problem details",
                        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
                    },
                )
        app.openapi_schema = spec
        return spec

    app.openapi = build  # type: ignore[method-assign]


def _swagger_dir() -> Path | None:
    try:
        bundle = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        return None
    path = getattr(bundle, "swagger_ui_path", None) or getattr(bundle, "swagger_ui_5_path", None)
    if path and (Path(path) / "swagger-ui-bundle.js").is_file():
        return Path(path)
    return None


def docs_page(spec: dict[str, Any]) -> str:
    """A minimal, self-contained HTML reference of every operation (no scripts, no CDN)."""
    rows: list[str] = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method, op in item.items():
            if not isinstance(op, dict):
                continue
            auth = ", ".join(sorted({k for s in op.get("security", []) for k in s})) or "none"
            codes = ", ".join(sorted(op.get("responses", {})))
            rows.append(
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td>"
                "<td>{}</td></tr>".format(
                    html.escape(method.upper()),
                    html.escape(path),
                    html.escape(op.get("summary", "")),
                    html.escape(auth),
                    html.escape(codes),
                )
            )
    title = html.escape(spec.get("info", {}).get("title", "API"))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{title} reference</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;"
        "padding:.3rem .5rem;text-align:left;vertical-align:top}</style></head><body>"
        f"<h1>{title}</h1><p>The machine-readable schema is at "
        "<a href='/openapi.json'>/openapi.json</a>. Errors are RFC 9457 problem details "
        "(<code>application/problem+json</code>).</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Auth</th>"
        "<th>Responses</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></body></html>"
    )


def install_docs(app: FastAPI) -> None:
    """Serve /docs from local assets (Swagger UI if installed, else a plain reference page)."""
    swagger = _swagger_dir()

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        if swagger is None:
            return HTMLResponse(docs_page(app.openapi()))
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} - docs",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )

    @app.get("/docs-assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        allowed = {
            "swagger-ui-bundle.js": "text/javascript",
            "swagger-ui.css": "text/css",
            "favicon-32x32.png": "image/png",
        }
        if swagger is None or name not in allowed or not (swagger / name).is_file():
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(
            swagger / name,
            media_type=allowed[name],
            headers={"Cache-Control": "public, max-age=86400"},
        )
