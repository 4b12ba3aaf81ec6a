"""HTTP translation of domain errors: one shape `{"error": {"code", "message"}}` for every failure.

The core raises TracuuError subclasses without knowing about HTTP; this module alone decides the status
codes. Input problems are 422 everywhere (FastAPI validation, BadQuery, unreadable uploads), so a
client needs to handle one status for "fix your input".
"""
from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from indexer.errors import BadQuery, IndexMismatch, IndexMissing, LoadError, TracuuError
from search_api.config import REPO_ROOT
from search_api.schemas import AskParams, ErrorBody, ErrorDetail, SearchParams

log = logging.getLogger("tracuu.api")


class NotFound(TracuuError):
    code = "not_found"


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


class Stopping(TracuuError):
    """The server is shutting down; accepted work is on record and resumes at the next start."""

    code = "stopping"


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
    (Stopping, 503),
    (TracuuError, 400),
]

# Input models by route, so messages can quote their rules ("k must be between 1 and 100").
_PARAM_MODELS: dict[str, type[BaseModel]] = {"/api/search": SearchParams, "/api/ask": AskParams}


def status_for(exc: TracuuError) -> int:
    return next(status for cls, status in STATUS if isinstance(exc, cls))


@dataclass(frozen=True)
class Problem:
    """What went wrong, once: the JSON body and the error page are both rendered from it."""

    status: int
    code: str
    message: str
    headers: dict[str, str] | None = None


# Where the HTTP contract lives; a page renderer never answers these paths.
API_PATHS = ("/api", "/healthz", "/openapi.json", "/docs")
PAGE_TAG = "pages"  # tag of the web router's routes (search_api.web)
_PARSE_FAILURE = "There was an error parsing the body"  # FastAPI's text for a body it could not decode


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def problem_for(request: Request, exc: Exception) -> Problem:
    """The one translation from an exception to (status, code, message)."""
    if isinstance(exc, TracuuError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
        return Problem(status_for(exc), exc.code, str(exc), headers)
    if isinstance(exc, RequestValidationError):
        model = _PARAM_MODELS.get(request.url.path.rstrip("/"))
        allowed = list(model.model_fields) if model else None
        return Problem(422, "invalid_request", describe_errors(exc.errors(), allowed))
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 400 and exc.detail == _PARSE_FAILURE:
            return Problem(422, "invalid_request", _parse_failure(exc.__cause__))
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "http_error")
        return Problem(exc.status_code, code, _http_message(request, exc), getattr(exc, "headers", None))
    return Problem(500, "internal_error", "internal error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves the app through `_render`: JSON in the one shape, or the page renderer's HTML."""

    async def handle(request: Request, exc: Exception) -> Response:
        problem = problem_for(request, exc)
        if problem.code == "internal_error":
            log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return render(request, problem, exc)

    for kind in (TracuuError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, handle)


def render(request: Request, problem: Problem, exc: Exception | None = None) -> Response:
    """JSON for the API; pages (and browsers on unknown paths) get `app.state.render_error`'s HTML.

    Messages never carry a server path: the configured folders are named by their setting instead.
    """
    settings = getattr(request.app.state, "settings", None)
    problem = Problem(problem.status, problem.code, scrub_paths(problem.message, settings), problem.headers)
    renderer: Callable[..., Response] | None = getattr(request.app.state, "render_error", None)
    if renderer is not None and wants_page(request):
        return renderer(request, problem, exc)
    return error_response(problem.status, problem.code, problem.message, problem.headers)


def wants_page(request: Request) -> bool:
    """A page route (tagged PAGE_TAG), or a browser asking for a path outside the API."""
    if request.url.path.startswith(API_PATHS):
        return False
    route = request.scope.get("route")
    if route is not None and PAGE_TAG in (getattr(route, "tags", None) or ()):
        return True
    return "text/html" in request.headers.get("accept", "")


def scrub_paths(message: str, settings: Any) -> str:
    """Replace absolute server paths in a message by the setting that names them (or by "…")."""
    roots: list[tuple[str, str]] = []
    if settings is not None:
        roots += [(str(settings.index_dir), "$TRACUU_INDEX"), (str(settings.corpus_dir), "$TRACUU_CORPUS"),
                  (str(settings.jobs_file), "the jobs file")]
    roots += [(str(REPO_ROOT), "…"), (tempfile.gettempdir(), "…"), (str(Path.home()), "…")]
    expanded = [(os.path.realpath(path), label) for path, label in roots] + roots
    for path, label in sorted(set(expanded), key=lambda item: -len(item[0])):
        if len(path) > 1:
            message = message.replace(path, label)
    return message


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` for a route: each listed 4xx/5xx documented with the real error shape."""
    return {status: {"model": ErrorBody, "description": STATUS_HELP[status]} for status in statuses}


STATUS_HELP = {
    400: "Malformed request (e.g. a multipart body that cannot be parsed)",
    401: "No `Authorization: Bearer` token was sent",
    403: "Wrong admin token, or writes are disabled (TRACUU_ADMIN_TOKEN unset)",
    404: "No such document or job",
    409: "Conflict: the file already exists, or the index was built by another embedder",
    413: "Request body or file over its size limit",
    415: "Unsupported file type",
    422: "Invalid input: bad parameter, malformed JSON, unreadable or empty file",
    503: "No index loaded yet (the first start is still building it), or the server is stopping",
}


def _parse_failure(cause: BaseException | None) -> str:
    """Why FastAPI could not decode a JSON body (it only says "error parsing the body")."""
    if isinstance(cause, UnicodeDecodeError):
        return f"malformed JSON body: not valid UTF-8 (byte 0x{cause.object[cause.start]:02x} at {cause.start})"
    if isinstance(cause, RecursionError):
        return "malformed JSON body: nested too deeply"
    return "malformed request body: it could not be parsed"


def _http_message(request: Request, exc: StarletteHTTPException) -> str:
    if exc.status_code == 404:
        return f"no such page: {request.url.path}; the API is under /api (see /docs)"
    if exc.status_code == 405:
        return f"{request.method} is not allowed on {request.url.path}"
    if exc.status_code == 413:
        return str(exc.detail) if exc.detail != "Content Too Large" else "request body too large"
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
