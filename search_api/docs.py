"""Interactive API docs at /docs, served entirely from this server (offices often run without internet).

Swagger UI's files come from the `fastapi-offline` wheel (a maintained copy of Swagger UI 5, which
renders OpenAPI 3.1); the page loads them and ui/static/docs-init.js from this origin only, under a CSP
without inline scripts. The OpenAPI schema documents the real error shape instead of FastAPI's default.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse, HTMLResponse, Response

from search_api.errors import NotFound
from ui import pages

SWAGGER_DIR = Path(fastapi_offline.__file__).resolve().parent / "static"
ASSETS = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"}
DOCS_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
}
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} – API</title>
<link rel="icon" type="image/png" href="/docs/assets/favicon.png">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi="/openapi.json"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="{init}"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Add /docs and its assets, and replace FastAPI's `{"detail": ...}` 422 in the schema by the real shape."""

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        body = _PAGE.format(title=app.title, init=pages.static_url("docs-init.js"))
        return HTMLResponse(body, headers=DOCS_HEADERS)

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> Response:
        if name not in ASSETS:
            raise NotFound(f"no docs asset {name!r}")
        return FileResponse(SWAGGER_DIR / name, headers={"Cache-Control": "public, max-age=86400", **DOCS_HEADERS})

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes)
            app.openapi_schema = real_error_shape(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def real_error_shape(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the 422 FastAPI adds by itself (`HTTPValidationError`, a shape this API never sends)."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            ref = str(responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {}))
            if "HTTPValidationError" in ref:
                del responses["422"]
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
