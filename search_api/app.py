"""The FastAPI application: JSON API at /api, probe at /healthz, OpenAPI at /docs, web pages at /."""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from anyio import to_thread
from fastapi import FastAPI

from indexer.errors import TracuuError
from search_api import routes
from search_api.config import Settings
from search_api.errors import ContentLengthLimit, install_error_handlers
from search_api.schemas import SearchParams
from search_api.service import SearchService

DESCRIPTION = """Tra cứu văn bản chỉ đạo ngành giáo dục — semantic search and question answering over
Vietnamese education directives. Errors always have the shape `{"error": {"code", "message"}}`.
Writes (upload, delete, reindex) need `Authorization: Bearer $TRACUU_ADMIN_TOKEN`."""


def create_app(settings: Settings, service: SearchService | None = None) -> FastAPI:
    """Build the app around one SearchService; settings are built by the caller (CLI or tests)."""
    service = service or SearchService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service.health().status != "ok":
            # First start builds the corpus index (progress bars on stderr); later starts just load it.
            await to_thread.run_sync(service.ensure_index)
        await to_thread.run_sync(_warm_up, service)
        yield

    app = FastAPI(title="tracuu", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.service = service
    install_error_handlers(app)
    app.add_middleware(ContentLengthLimit, max_bytes=routes.MAX_REQUEST_BYTES)
    app.include_router(routes.router)
    app.include_router(routes.health_router)
    _include_ui(app)  # UI: web pages at / from search_api/web.py (ui/pages.py renders); optional for the API
    return app


def _warm_up(service: SearchService) -> None:
    """One search at startup loads the word segmenter and the model, so the first visitor does not wait."""
    try:
        service.search(SearchParams(q="kế hoạch năm học", k=1))
    except TracuuError:
        pass  # an empty index has nothing to warm; its errors are reported per request


def _include_ui(app: FastAPI) -> None:
    """Add the web pages (search_api/web.py: an APIRouter using routes.ServiceDep) once that module exists."""
    try:
        from search_api import web
    except ModuleNotFoundError as exc:
        if exc.name != "search_api.web":
            raise  # web.py exists but one of its own imports is missing: that is a real bug
        return
    app.include_router(web.router)
    app.state.render_error = web.render_error_page  # errors outside /api become pages for browsers
