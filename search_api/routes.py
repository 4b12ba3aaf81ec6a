"""The JSON API under /api and the /healthz probe: thin adapters from HTTP to SearchService and its Ingest.

Reads are plain `def`: search is CPU-bound and synchronous, so FastAPI runs them in its threadpool.
Writes await `in_daemon_thread`: an upload's reindex runs while other requests keep searching the
previous generation, and a server told to stop does not wait at exit for a build it abandons (the
index stays on its previous generation and the job store knows what to redo at the next start).
"""
from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response, UploadFile
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from search_api.config import Settings
from search_api.errors import Forbidden, NotFound, Unauthorized, WritesDisabled, error_responses
from search_api.ingest import MAX_BATCH_BYTES, MAX_BATCH_FILES, MAX_UPLOAD_BYTES, Incoming, index_report
from search_api.limits import body_limit
from search_api.schemas import (
    AskParams,
    AskResponse,
    DeleteResult,
    DocumentDetail,
    DocumentList,
    Health,
    IndexReport,
    JobList,
    JobStatus,
    SearchParams,
    SearchResponse,
    UploadResult,
    WholeNumber,
)
from search_api.service import SearchService

_MULTIPART_SLACK = 64 * 1024         # form boundaries and headers around the files themselves
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + _MULTIPART_SLACK
MAX_BATCH_REQUEST_BYTES = MAX_BATCH_BYTES + _MULTIPART_SLACK
# The original file of a document is downloaded, never rendered: an uploaded .html must not run here.
SOURCE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}
T = TypeVar("T")


def get_service(request: Request) -> SearchService:
    return request.app.state.service


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


ServiceDep = Annotated[SearchService, Depends(get_service)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
_bearer = HTTPBearer(auto_error=False, description="TRACUU_ADMIN_TOKEN")


def require_admin(settings: SettingsDep,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
    """Writes need `Authorization: Bearer $TRACUU_ADMIN_TOKEN`; without a configured token they are off."""
    if not settings.admin_token:
        raise WritesDisabled("writes are disabled: set TRACUU_ADMIN_TOKEN")
    if credentials is None:
        raise Unauthorized("this route needs the header `Authorization: Bearer <TRACUU_ADMIN_TOKEN>`")
    if not secrets.compare_digest(credentials.credentials.encode(), settings.admin_token.encode()):
        raise Forbidden("wrong admin token")


AdminDep = Depends(require_admin)

router = APIRouter(prefix="/api", tags=["api"])
health_router = APIRouter(tags=["health"])


# -- reads --------------------------------------------------------------------------------------


READ_ERRORS = (422, 503)
WRITE_ERRORS = (401, 403)


@router.get("/search", summary="Search passages", responses=error_responses(*READ_ERRORS))
def search_get(params: Annotated[SearchParams, Query()], service: ServiceDep) -> SearchResponse:
    return service.search(params)


@router.post("/search", summary="Search passages (JSON body)", responses=error_responses(413, *READ_ERRORS))
def search_post(params: SearchParams, service: ServiceDep) -> SearchResponse:
    return service.search(params)


@router.get("/ask", summary="Answer a question with a cited passage", responses=error_responses(*READ_ERRORS))
def ask_get(params: Annotated[AskParams, Query()], service: ServiceDep) -> AskResponse:
    return service.ask(params)


@router.post("/ask", summary="Answer a question (JSON body)", responses=error_responses(413, *READ_ERRORS))
def ask_post(params: AskParams, service: ServiceDep) -> AskResponse:
    return service.ask(params)


@router.get("/documents", summary="List indexed documents", responses=error_responses(503))
def list_documents(service: ServiceDep) -> DocumentList:
    return service.documents()


@router.get("/documents/{doc_id}", summary="One document: metadata, outline and normalized text",
            responses=error_responses(404, 503))
def get_document(doc_id: str, service: ServiceDep) -> DocumentDetail:
    return service.document(doc_id)


@router.get("/documents/{doc_id}/source", response_class=FileResponse, summary="Download the original file",
            responses=error_responses(404, 409, 503))
def get_source(doc_id: str, service: ServiceDep) -> FileResponse:
    path = service.ingest.source_file(doc_id)
    if not path.is_file():
        raise NotFound(f"the original file of document {doc_id!r} is no longer in the corpus folder")
    return FileResponse(path, filename=path.name, content_disposition_type="attachment", headers=SOURCE_HEADERS)


@health_router.get("/healthz", summary="Liveness and index facts")
def healthz(service: ServiceDep) -> Health:
    return service.health()


# -- writes -------------------------------------------------------------------------------------


async def in_daemon_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking write in a daemon thread and await its result without holding a threadpool worker."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if not future.done():
            future.set_exception(error) if error is not None else future.set_result(result)

    def work() -> None:
        result, error = None, None
        try:
            result = fn(*args)
        except BaseException as exc:  # handed to the awaiting request, which renders it
            error = exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the event loop is closed: the server has stopped and nobody waits for this answer

    threading.Thread(target=work, name="tracuu-write", daemon=True).start()
    return await future


@router.post("/documents", status_code=201, dependencies=[AdminDep], summary="Upload one file and index it",
             openapi_extra=body_limit(MAX_REQUEST_BYTES), responses=error_responses(*WRITE_ERRORS, 409, 413, 415, 422, 503))
async def upload_document(file: UploadFile, service: ServiceDep) -> UploadResult:
    """Answers once the file is searchable. For many files or a .zip use `POST /api/jobs`."""
    return await in_daemon_thread(service.ingest.upload, Incoming(file.filename, file.file))


@router.post("/jobs", status_code=202, dependencies=[AdminDep], summary="Upload many files or .zip archives",
             openapi_extra=body_limit(MAX_BATCH_REQUEST_BYTES), form_limits={"max_files": MAX_BATCH_FILES},
             responses=error_responses(400, *WRITE_ERRORS, 413, 422))
async def create_job(files: list[UploadFile], response: Response, service: ServiceDep) -> JobStatus:
    """Stages the files (archive members one by one, with zip-bomb and path guards) and answers 202 at once;
    the job indexes them in batches in the background. Follow it at `GET /api/jobs/{id}` (the Location)."""
    parts = [Incoming(f.filename, f.file) for f in files if f.filename or (f.size or 0) > 0]
    status = await in_daemon_thread(service.ingest.submit, parts)
    response.headers["Location"] = f"/api/jobs/{status.id}"
    return status


@router.get("/jobs", dependencies=[AdminDep], summary="Recent ingestion jobs, newest first",
            responses=error_responses(*WRITE_ERRORS, 422))
def list_jobs(service: ServiceDep, limit: Annotated[WholeNumber, Query(ge=1, le=100)] = 20) -> JobList:
    return service.ingest.jobs(limit)


@router.get("/jobs/{job_id}", summary="Progress of one ingestion job: files done/total, skipped with reasons, ETA",
            responses=error_responses(404, 422))
def get_job(job_id: Annotated[str, Path(max_length=64)], service: ServiceDep) -> JobStatus:
    """Readable without the token: a job id is an unguessable capability (the upload page polls it)."""
    return service.ingest.job(job_id)


@router.delete("/documents/{doc_id}", dependencies=[AdminDep], summary="Delete a file from the corpus and the index",
               responses=error_responses(*WRITE_ERRORS, 404, 409, 503))
async def delete_document(doc_id: str, service: ServiceDep) -> DeleteResult:
    return await in_daemon_thread(service.ingest.delete, doc_id)


@router.post("/reindex", dependencies=[AdminDep], summary="Bring the index in line with the corpus folder",
             responses=error_responses(*WRITE_ERRORS, 409))
async def reindex(service: ServiceDep) -> IndexReport:
    return index_report(await in_daemon_thread(service.ingest.reindex))
