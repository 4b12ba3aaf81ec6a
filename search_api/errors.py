"""HTTP translation of domain errors: one shape `{"error": {"code", "message"}}` for every failure.

The core raises TracuuError subclasses without knowing about HTTP; this module alone decides the status
codes. Input problems are 422 everywhere (FastAPI validation, BadQuery, unreadable uploads), so a
client needs to handle one status for "fix your input".
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from indexer.errors import BadQuery, IndexMismatch, IndexMissing, LoadError, TracuuError
from search_api.schemas import AskParams, ErrorBody, ErrorDetail, SearchParams
from search_api.service import NotFound

log = logging.getLogger("tracuu.api")


class Unauthorized(TracuuError):
    """No bearer token was sent to a write route."""

    code = "unauthorized"


class Forbidden(TracuuError):
    """A bearer token was sent but it is not the admin token."""

    code = "forbidden"


class WritesDisabled(TracuuError):
    code = "writes_disabled"


class PayloadTooLarge(TracuuError):
    code = "too_large"


class UnsupportedType(TracuuError):
    code = "unsupported_type"


class Conflict(TracuuError):
    code = "conflict"


# Most specific class first: the first isinstance match wins.
STATUS: list[tuple[type[TracuuError], int]] = [
    (BadQuery, 422),
    (UnsupportedType, 415),
    (PayloadTooLarge, 413),
    (LoadError, 422),
    (NotFound, 404),
    (Unauthorized, 401),
    (Forbidden, 403),
    (WritesDisabled, 403),
    (Conflict, 409),
    (IndexMismatch, 409),
    (IndexMissing, 503),
    (TracuuError, 400),
]

# Input models by route, so messages can quote their rules ("k must be between 1 and 100").
_PARAM_MODELS: dict[str, type[BaseModel]] = {"/api/search": SearchParams, "/api/ask": AskParams}


def status_for(exc: TracuuError) -> int:
    return next(status for cls, status in STATUS if isinstance(exc, cls))


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves the app in the one shape; a page renderer may take over for HTML routes."""

    @app.exception_handler(TracuuError)
    async def _domain(request: Request, exc: TracuuError) -> Response:
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return _render(request, status_for(exc), exc.code, str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        model = _PARAM_MODELS.get(request.url.path.rstrip("/"))
        allowed = list(model.model_fields) if model else None
        return _render(request, 422, "invalid_request", describe_errors(exc.errors(), allowed))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        message = _http_message(request, exc)
        return _render(request, exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; the server log has the details")


class ContentLengthLimit:
    """Refuses a request whose declared body is over the limit before reading it, in the one error shape.

    Routes with `max_body_size` still guard bodies sent without Content-Length; this middleware only
    exists because the route-level guard answers a declared oversize body in plain text.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                limit_mb = self.max_bytes // (1024 * 1024)
                message = f"request body of {int(declared)} bytes is over the {limit_mb} MB limit"
                response = _render(Request(scope, receive), 413, "too_large", message)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _render(request: Request, status: int, code: str, message: str,
            headers: dict[str, str] | None = None) -> Response:
    """JSON for the API; the UI may register `app.state.render_error(request, status, message)` for pages."""
    renderer: Callable[..., Response] | None = getattr(request.app.state, "render_error", None)
    wants_html = "text/html" in request.headers.get("accept", "")
    if renderer is not None and wants_html and not request.url.path.startswith(("/api", "/healthz")):
        return renderer(request, status, message)
    return error_response(status, code, message, headers)


def _http_message(request: Request, exc: StarletteHTTPException) -> str:
    if exc.status_code == 404:
        return f"no such page: {request.url.path}; the API is under /api (see /docs)"
    if exc.status_code == 405:
        return f"{request.method} is not allowed on {request.url.path}"
    if exc.status_code == 413:
        return "request body too large"
    return str(exc.detail)


# -- validation messages ------------------------------------------------------------------------


def describe_errors(errors: list[dict[str, Any]] | Any, allowed: list[str] | None = None) -> str:
    """Pydantic/FastAPI errors as one sentence a person can act on, naming the parameter and the rule."""
    messages: list[str] = []
    for error in errors:
        message = _describe(error, allowed)
        if message not in messages:
            messages.append(message)
    return "; ".join(messages) or "invalid request"


def _describe(error: dict[str, Any], allowed: list[str] | None) -> str:
    kind = error.get("type", "")
    loc = [str(part) for part in error.get("loc", ()) if part not in ("query", "body", "path", "header")]
    name = loc[-1] if loc else ""
    ctx = error.get("ctx") or {}
    where = "field" if error.get("loc", ("",))[0] == "body" else "parameter"
    if kind == "json_invalid":
        return f"malformed JSON body: {ctx.get('error', 'cannot parse')}"
    if kind in ("model_attributes_type", "dict_type", "model_type") or (kind == "missing" and not name):
        if kind == "missing":
            return "request body is required: a JSON object such as {\"q\": \"...\"}"
        return "request body must be a JSON object (Content-Type: application/json), e.g. {\"q\": \"...\"}"
    if kind == "extra_forbidden":
        hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
        return f"unknown {where} '{name}'{hint}"
    if kind == "missing":
        return f"missing required {where} '{name}'"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return _range_message(name, ctx)
    if kind == "int_parsing" or kind == "int_type" or kind == "int_from_float":
        return f"{name} must be a whole number"
    if kind == "literal_error":
        return f"{name} must be one of {ctx.get('expected', '')}"
    if kind == "string_too_short":
        return f"{name} must not be empty"
    if kind == "string_too_long":
        return f"{name} is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_type":
        return f"{name} must be a string"
    if kind.startswith("date_"):
        return f"{name} must be a date written YYYY-MM-DD"
    text = str(error.get("msg", "invalid value"))
    return f"{name}: {text}" if name else text


def _range_message(name: str, ctx: dict[str, Any]) -> str:
    low, high = _bounds(name)
    if low is not None and high is not None:
        return f"{name} must be between {low} and {high}"
    for key, words in (("ge", "at least"), ("le", "at most"), ("gt", "greater than"), ("lt", "less than")):
        if key in ctx:
            return f"{name} must be {words} {ctx[key]}"
    return f"{name} is out of range"


def _bounds(name: str) -> tuple[Any, Any]:
    """The ge/le constraints declared on a parameter of the API's input models."""
    for model in _PARAM_MODELS.values():
        field = model.model_fields.get(name)
        if field is None:
            continue
        low = next((m.ge for m in field.metadata if getattr(m, "ge", None) is not None), None)
        high = next((m.le for m in field.metadata if getattr(m, "le", None) is not None), None)
        return low, high
    return None, None
