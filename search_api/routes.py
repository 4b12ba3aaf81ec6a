"""The JSON API under /api and the /healthz probe: thin adapters from HTTP to SearchService.

Routes are plain `def`: search and indexing are CPU-bound and synchronous, so FastAPI runs them in its
threadpool, and an upload's reindex runs while other requests keep searching the previous generation.
"""
from __future__ import annotations

import os
import secrets
import threading
import unicodedata
import uuid
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from indexer.errors import LoadError, TracuuError
from indexer.loaders import SUPPORTED_EXTENSIONS, load_file
from indexer.types import BuildSummary
from search_api.config import Settings
from search_api.errors import Conflict, Forbidden, PayloadTooLarge, Unauthorized, UnsupportedType, WritesDisabled
from search_api.schemas import (AskParams, AskResponse, DocumentDetail, DocumentInfo, DocumentList, Health,
                                SearchParams, SearchResponse)
from search_api.service import NotFound, SearchService

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_FOLDER = "uploads"            # inside the corpus folder, so uploads are indexed like any directive
_MULTIPART_SLACK = 64 * 1024         # form boundaries and headers around the file itself
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + _MULTIPART_SLACK
_MAX_NAME = 120


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


# -- write responses ----------------------------------------------------------------------------


class SkippedOut(BaseModel):
    source: str
    reason: str


class WarningOut(BaseModel):
    source: str
    message: str


class IndexReport(BaseModel):
    """What a (re)index changed; mirrors indexer.types.BuildSummary."""

    documents: int
    chunks: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    embedded_chunks: int
    skipped: list[SkippedOut]
    warnings: list[WarningOut] = []     # pages indexed without their text (a scan OCR could not read)
    seconds: float

    @classmethod
    def from_summary(cls, summary: BuildSummary) -> "IndexReport":
        return cls(documents=summary.documents, chunks=summary.chunks, added=summary.added, changed=summary.changed,
                   removed=summary.removed, unchanged=summary.unchanged, embedded_chunks=summary.embedded_chunks,
                   skipped=[SkippedOut(source=s.source, reason=s.reason) for s in summary.skipped],
                   warnings=[WarningOut(source=w.source, message=w.message) for w in summary.warnings],
                   seconds=round(summary.seconds, 3))


class UploadResult(BaseModel):
    status: Literal["indexed"] = "indexed"
    file: str
    document: DocumentInfo
    chunks: int
    index: IndexReport


class DeleteResult(BaseModel):
    status: Literal["deleted"] = "deleted"
    document: DocumentInfo
    index: IndexReport


# -- reads --------------------------------------------------------------------------------------


@router.get("/search", summary="Search passages")
def search_get(params: Annotated[SearchParams, Query()], service: ServiceDep) -> SearchResponse:
    return service.search(params)


@router.post("/search", summary="Search passages (JSON body)")
def search_post(params: SearchParams, service: ServiceDep) -> SearchResponse:
    return service.search(params)


@router.get("/ask", summary="Answer a question with a cited passage")
def ask_get(params: Annotated[AskParams, Query()], service: ServiceDep) -> AskResponse:
    return service.ask(params)


@router.post("/ask", summary="Answer a question (JSON body)")
def ask_post(params: AskParams, service: ServiceDep) -> AskResponse:
    return service.ask(params)


@router.get("/documents", summary="List indexed documents")
def list_documents(service: ServiceDep) -> DocumentList:
    return service.documents()


@router.get("/documents/{doc_id}", summary="One document: metadata, outline and normalized text")
def get_document(doc_id: str, service: ServiceDep) -> DocumentDetail:
    return service.document(doc_id)


@router.get("/documents/{doc_id}/source", response_class=FileResponse, summary="Download the original file")
def get_source(doc_id: str, service: ServiceDep, settings: SettingsDep) -> FileResponse:
    path = _corpus_file(service, settings, doc_id)
    if not path.is_file():
        raise NotFound(f"the original file of document {doc_id!r} is no longer in the corpus folder")
    return FileResponse(path, filename=path.name)


@health_router.get("/healthz", summary="Liveness and index facts")
def healthz(service: ServiceDep) -> Health:
    return service.health()


# -- writes -------------------------------------------------------------------------------------

_uploads_lock = threading.Lock()


@router.post("/documents", status_code=201, dependencies=[AdminDep], summary="Upload and index a file",
             max_body_size=MAX_REQUEST_BYTES)
def upload_document(file: UploadFile, service: ServiceDep, settings: SettingsDep) -> UploadResult:
    return ingest_upload(service, settings, file.filename, file.file.read(MAX_UPLOAD_BYTES + 1))


def ingest_upload(service: SearchService, settings: Settings, filename: str | None, data: bytes) -> UploadResult:
    """Save an uploaded file under corpus/uploads/ and index it; a file that cannot be indexed is removed again.

    Shared by the API and the web upload form. Raises LoadError/UnsupportedType/PayloadTooLarge/Conflict.
    """
    name = safe_filename(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    if not data.strip():
        raise LoadError(name, "the file is empty")
    rel = f"{UPLOAD_FOLDER}/{name}"
    target = _store_upload(settings.corpus_dir / UPLOAD_FOLDER, name, rel, data)
    try:
        summary = service.reindex()
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    reason = next((s.reason for s in summary.skipped if _same_source(s.source, rel)), None)
    found = next((d for d in service.documents().documents if _same_source(d.source, rel)), None)
    if reason is not None or found is None:
        target.unlink(missing_ok=True)  # nothing of it entered the index; the other documents are untouched
        if reason is not None:
            raise LoadError(name, reason)
        raise TracuuError(f"{name}: the indexer did not pick it up; the index covers other folders than "
                          f"{settings.corpus_dir} (rebuild it with `tracuu index {settings.corpus_dir}`)")
    return UploadResult(file=rel, document=found, chunks=summary.embedded_chunks,
                        index=IndexReport.from_summary(summary))


@router.delete("/documents/{doc_id}", dependencies=[AdminDep], summary="Delete a file from the corpus and the index")
def delete_document(doc_id: str, service: ServiceDep, settings: SettingsDep) -> DeleteResult:
    detail = service.document(doc_id)
    path = _corpus_file(service, settings, doc_id)
    path.unlink(missing_ok=True)
    summary = service.reindex()
    if any(d.id == doc_id for d in service.documents().documents):
        raise Conflict(f"the file of document {doc_id!r} is not at {path}; remove it by hand and POST /api/reindex")
    info = DocumentInfo(**detail.model_dump(include=set(DocumentInfo.model_fields)))
    return DeleteResult(document=info, index=IndexReport.from_summary(summary))


@router.post("/reindex", dependencies=[AdminDep], summary="Bring the index in line with the corpus folder")
def reindex(service: ServiceDep) -> IndexReport:
    return IndexReport.from_summary(service.reindex())


# -- helpers ------------------------------------------------------------------------------------


def safe_filename(raw: str | None) -> str:
    """A plain file name: no folders, no leading dots, letters (Vietnamese included), digits and - _ . ( )."""
    base = unicodedata.normalize("NFC", (raw or "").replace("\\", "/").rsplit("/", 1)[-1])
    cleaned = "".join(ch if ch.isalnum() or ch in "-_.() " else "_" for ch in base).strip(" ._")
    stem, ext = os.path.splitext(cleaned)
    ext = ext.lower()
    if not stem:
        raise LoadError(raw or "(no name)", "the upload needs a file name, e.g. ke-hoach.pdf")
    if ext not in SUPPORTED_EXTENSIONS:
        allowed = " ".join(sorted(SUPPORTED_EXTENSIONS))
        raise UnsupportedType(f"{cleaned}: unsupported file type {ext or '(none)'}; upload one of {allowed}")
    return stem[: _MAX_NAME - len(ext)].rstrip(" .") + ext


def _store_upload(folder: Path, name: str, rel: str, data: bytes) -> Path:
    """Check the file reads as text while it is still hidden from the indexer, then move it in place."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    hidden = folder / f".upload-{uuid.uuid4().hex}-{name}"  # dot files are ignored by the indexer's scan
    hidden.write_bytes(data)
    try:
        load_file(hidden, rel)
    except LoadError as exc:
        hidden.unlink(missing_ok=True)
        raise LoadError(name, exc.reason) from None
    except Exception as exc:  # a loader bug on a hostile file must still be a 4xx about the file
        hidden.unlink(missing_ok=True)
        raise LoadError(name, f"could not be read ({type(exc).__name__})") from None
    with _uploads_lock:
        if target.exists():
            hidden.unlink(missing_ok=True)
            raise Conflict(f"{rel} already exists; delete that document first or rename the file")
        os.replace(hidden, target)
    return target


def _corpus_file(service: SearchService, settings: Settings, doc_id: str) -> Path:
    """The document's file, refusing any path that would leave the corpus folder."""
    path = service.source_path(doc_id).resolve()
    corpus = settings.corpus_dir.resolve()
    if not path.is_relative_to(corpus):
        raise Conflict(f"the file of document {doc_id!r} is outside the corpus folder {corpus}")
    return path


def _same_source(source: str, rel: str) -> bool:
    """The index names files relative to its root, which may be the corpus folder or one above it."""
    return source == rel or source.endswith("/" + rel)
