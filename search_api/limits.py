"""Request body limits, enforced while the body streams: for every route, declared or chunked.

A route declares its own limit with `openapi_extra=body_limit(n)` (so the schema shows it too, as
`x-max-body-bytes`); every other route gets DEFAULT_BODY_BYTES. (FastAPI's own `max_body_size=` is not
used: it answers a declared oversize body in plain text, outside the one error shape.)
Checking Content-Length alone lets a chunked body through, so the limit also counts the bytes as they
arrive and stops reading past it; both cases answer 413 in the one error shape.
"""
from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from search_api.errors import problem_for, render

DEFAULT_BODY_BYTES = 1024 * 1024  # a search or ask body is a few hundred bytes; forms carry a token at most
LIMIT_KEY = "x-max-body-bytes"


def body_limit(max_bytes: int) -> dict[str, int]:
    """`openapi_extra` of a route whose bodies may be larger than the default."""
    return {LIMIT_KEY: max_bytes}


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI passes it through its body parsing untouched to the one error handler."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        size = f"of {declared} bytes " if declared is not None else ""
        super().__init__(413, f"request body {size}is over the {_human(limit)} limit of this route")


class BodyLimit:
    """ASGI middleware: refuses a declared oversize body at once, and stops a streamed one at the limit.

    The route is known only after routing, so the limit is looked up at the first read of the body
    (the router has set `scope["route"]` by then); before routing only the largest limit is checked.
    """

    def __init__(self, app: ASGIApp, ceiling: int, default: int = DEFAULT_BODY_BYTES) -> None:
        self.app = app
        self.ceiling = ceiling
        self.default = default

    def limit_for(self, scope: Scope) -> int:
        """The matched route's declared limit, else the default."""
        extra = getattr(scope.get("route"), "openapi_extra", None) or {}
        return int(extra.get(LIMIT_KEY) or self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = Headers(scope=scope).get("content-length", "")
        declared = int(raw) if raw.isdigit() else None
        if declared is not None and declared > self.ceiling:
            await self._refuse(scope, receive, send, BodyTooLarge(self.ceiling, declared))
            return
        received, limit = 0, 0

        async def counted() -> Message:
            nonlocal received, limit
            if not limit:
                limit = self.limit_for(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit, declared)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: BodyTooLarge) -> None:
        request = Request(scope, receive)
        response = render(request, problem_for(request, exc), exc)
        await response(scope, receive, send)


def _human(size: int) -> str:
    return f"{size // (1024 * 1024)} MB" if size >= 1024 * 1024 else f"{size // 1024} KB"
