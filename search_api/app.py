"""The FastAPI application: JSON API at /api, probe at /healthz, OpenAPI at /docs, web pages at /."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI

from indexer.errors import TracuuError
from search_api import routes
from search_api.config import Settings
from search_api.docs import install_docs
from search_api.errors import install_error_handlers
from search_api.limits import BodyLimit
from search_api.schemas import AskParams
from search_api.service import SearchService

DESCRIPTION = """Tra cứu văn bản chỉ đạo ngành giáo dục — semantic search and question answering over
Vietnamese education directives. Errors always have the shape `{"error": {"code", "message"}}`.
Writes (upload, bulk jobs, delete, reindex) need `Authorization: Bearer $TRACUU_ADMIN_TOKEN`."""
STOP_GRACE_SECONDS = 10.0  # at shutdown, how long a running ingestion commit may take to finish


def create_app(settings: Settings, service: SearchService | None = None) -> FastAPI:
    """Build the app around one SearchService; settings are built by the caller (CLI or tests)."""
    service = service or SearchService(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if service.health().status != "ok":
            # First start builds the corpus index (progress bars on stderr); later starts just load it.
            await to_thread.run_sync(service.ensure_index)
        await to_thread.run_sync(_warm_up, service)
        service.ingest.start()  # resumes the jobs a previous run left unfinished
        try:
            yield
        finally:
            await to_thread.run_sync(service.ingest.stop, STOP_GRACE_SECONDS)

    app = FastAPI(title="tracuu", version="0.1.0", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.service = service
    install_error_handlers(app)
    app.add_middleware(BodyLimit, ceiling=routes.MAX_BATCH_REQUEST_BYTES)
    app.include_router(routes.router)
    app.include_router(routes.health_router)
    install_docs(app)
    _include_ui(app)  # UI: web pages at / from search_api/web.py (ui/pages.py renders); optional for the API
    return app


def _warm_up(service: SearchService) -> None:
    """One question at startup loads the word segmenter, the embedder, the combiner and (when the combiner
    uses it) the span reader, so the first visitor does not wait."""
    try:
        service.ask(AskParams(q="kế hoạch năm học là gì?"))
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
    app.state.render_error = web.render_error_page  # errors of pages (and browsers off /api) become pages
