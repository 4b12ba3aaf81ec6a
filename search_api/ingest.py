"""Writes to the corpus and its index (upload, bulk jobs, delete, reindex): the service layer behind
`routes.py` and `web.py`, which only translate HTTP to these calls.

The corpus is the folder the server is configured with (`TRACUU_CORPUS`), whatever folder a copied
index was built from: uploads are stored under its `uploads/` folder and every reindex scans exactly
that folder. Files wait in a hidden staging folder beside their destination (the indexer skips dot
folders), so moving one in place is an atomic rename on the same file system.
"""
from __future__ import annotations

import os
import shutil
import threading
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from indexer.errors import LoadError, TracuuError
from indexer.loaders import SUPPORTED_EXTENSIONS
from indexer.types import BuildSummary
from search_api import archive
from search_api.errors import Conflict, PayloadTooLarge, Stopping, UnsupportedType
from search_api.jobs import JobRunner, JobStore, NewFile, sha256_file
from search_api.schemas import (
    DeleteResult,
    DocumentInfo,
    IndexReport,
    JobList,
    JobStatus,
    SkippedOut,
    UploadResult,
    WarningOut,
)

if TYPE_CHECKING:
    from search_api.service import SearchService

MAX_UPLOAD_BYTES = 20 * 1024 * 1024       # one file (and one archive member)
MAX_BATCH_BYTES = 512 * 1024 * 1024       # one bulk request: all its files and archives together
MAX_BATCH_FILES = 1000                    # multipart parts of one bulk request
UPLOAD_FOLDER = "uploads"                 # inside the corpus folder, so uploads are indexed like any directive
STAGING_FOLDER = ".incoming"              # uploads/.incoming/<job>/: hidden from the indexer's scan
_MAX_NAME = 120
_MAX_DEPTH = 4                            # folders kept from an archive's member paths
_COPY_CHUNK = 1024 * 1024


@dataclass
class Incoming:
    """One file part of a request: its client-side name and a readable binary stream."""

    filename: str | None
    stream: BinaryIO


class Ingest:
    """Owned by SearchService: every write to the corpus folder and the index goes through here."""

    def __init__(self, service: SearchService) -> None:
        self.service = service
        self.corpus = service.settings.corpus_dir
        self.store = JobStore(service.settings.jobs_file)
        self.runner = JobRunner(self.store, self.corpus, self.reindex, self._sources)
        self._apps = 0  # apps serving this service (tests run several on one); the last to stop stops the runner
        self._apps_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Resume the jobs a previous run left unfinished, then take new ones (called by the app's startup)."""
        with self._apps_lock:
            self._apps += 1
            if self._apps == 1:
                self.runner.start()

    def stop(self, grace: float = 10.0) -> None:
        """Ask the job runner to stop at its next safe point; an unfinished job resumes at the next start."""
        with self._apps_lock:
            self._apps = max(0, self._apps - 1)
            if self._apps == 0:
                self.runner.stop(grace)

    # -- writes ----------------------------------------------------------------------------------

    def reindex(self) -> BuildSummary:
        """Bring the index in line with the configured corpus folder (and only it)."""
        return self.service.reindex([self.corpus])

    def upload(self, incoming: Incoming) -> UploadResult:
        """Store one file under uploads/ and index it before returning; a rejected file leaves nothing behind.

        It is recorded as a one-file job, so a server stopped halfway finishes (or reports) it at the next start.
        """
        name = safe_filename(incoming.filename)
        rel = f"{UPLOAD_FOLDER}/{name}"
        if (self.corpus / rel).exists():
            raise Conflict(f"{rel} already exists; delete that document first or rename the file")
        job_id = new_job_id()
        try:
            staged = self._stage_stream(job_id, 0, name, incoming.stream)
        except BaseException:
            self._discard(job_id)
            raise
        self.store.create(job_id, "upload", [NewFile(name, rel, staged.name, sha256_file(staged))])
        summary = self.runner.run(job_id)
        status = self.store.status(job_id, with_files=True)
        outcome = status.files[0]
        if outcome.state in ("pending", "placed"):
            raise Stopping(f"{name}: the server is stopping; the upload is on record as job {job_id} and is "
                           "indexed at the next start (GET /api/jobs/{id})")
        if outcome.state != "indexed" or summary is None:
            reason = outcome.reason or "the file was not indexed"
            if reason.startswith(f"{rel} already exists"):
                raise Conflict(reason)
            raise LoadError(name, reason)
        document = next(d for d in self.service.documents().documents if d.id == outcome.document_id)
        return UploadResult(file=rel, document=document, chunks=summary.embedded_chunks,
                            index=index_report(summary))

    def submit(self, files: Iterable[Incoming]) -> JobStatus:
        """Stage many files (and the members of .zip archives) as one background job; returns it queued.

        Files refused before indexing (unsupported type, too large, unsafe archive member) are recorded
        as skipped with their reason; the rest are indexed by the job runner in batches.
        """
        job_id = new_job_id()
        records: list[NewFile] = []
        try:
            for incoming in files:
                records.extend(self._stage_part(job_id, len(records), incoming))
            if not records:
                raise LoadError("(no files)", "the request has no files: send one or more `files` parts")
        except BaseException:
            self._discard(job_id)
            raise
        self.store.create(job_id, "batch", records)
        if any(r.reason is None for r in records):
            self.runner.submit(job_id)
        else:
            self.store.set_state(job_id, "done", "nothing to index: every file was refused")
        return self.store.status(job_id, with_files=True)

    def delete(self, doc_id: str) -> DeleteResult:
        """Remove a document's file from the corpus and the index."""
        detail = self.service.document(doc_id)
        path = self.source_file(doc_id)
        path.unlink(missing_ok=True)
        summary = self.reindex()
        if any(d.id == doc_id for d in self.service.documents().documents):
            raise Conflict(f"the file of document {doc_id!r} ({detail.source}) could not be removed from the "
                           "corpus folder; remove it by hand and POST /api/reindex")
        info = DocumentInfo(**detail.model_dump(include=set(DocumentInfo.model_fields)))
        return DeleteResult(document=info, index=index_report(summary))

    # -- reads -----------------------------------------------------------------------------------

    def source_file(self, doc_id: str) -> Path:
        """The document's file in the corpus folder, refusing any path that would leave it."""
        path = self.service.source_path(doc_id).resolve()
        if not path.is_relative_to(self.corpus.resolve()):
            raise Conflict(f"the file of document {doc_id!r} is outside the corpus folder")
        return path

    def job(self, job_id: str) -> JobStatus:
        return self.store.status(job_id, with_files=True)

    def jobs(self, limit: int = 20) -> JobList:
        statuses = self.store.recent(limit)
        return JobList(count=len(statuses), jobs=statuses)

    # -- staging ---------------------------------------------------------------------------------

    def _staging(self, job_id: str) -> Path:
        folder = self.corpus / UPLOAD_FOLDER / STAGING_FOLDER / job_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _discard(self, job_id: str) -> None:
        """Remove a staging folder whose job was never recorded."""
        shutil.rmtree(self.corpus / UPLOAD_FOLDER / STAGING_FOLDER / job_id, ignore_errors=True)

    def _stage_stream(self, job_id: str, ordinal: int, name: str, stream: BinaryIO) -> Path:
        """Copy a stream into the job's staging folder, refusing it past MAX_UPLOAD_BYTES or when empty."""
        target = self._staging(job_id) / f"{ordinal:05d}{PurePosixPath(name).suffix.lower()}"
        written, blank = 0, True
        with open(target, "wb") as out:
            while chunk := stream.read(_COPY_CHUNK):
                written += len(chunk)
                if written > MAX_UPLOAD_BYTES:
                    break
                blank = blank and not chunk.strip()
                out.write(chunk)
        if written > MAX_UPLOAD_BYTES or blank:
            target.unlink(missing_ok=True)
            if written > MAX_UPLOAD_BYTES:
                raise PayloadTooLarge(f"{name}: larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
            raise LoadError(name, "the file is empty")
        return target

    def _stage_part(self, job_id: str, first: int, incoming: Incoming) -> list[NewFile]:
        """One multipart file of a bulk upload as job records: itself, or each member of a .zip."""
        shown = unicodedata.normalize("NFC", incoming.filename or "(no name)")
        if shown.lower().endswith(".zip"):
            return self._stage_zip(job_id, first, shown, incoming.stream)
        try:
            name = safe_filename(incoming.filename)
            staged = self._stage_stream(job_id, first, name, incoming.stream)
        except TracuuError as exc:
            return [NewFile(shown, None, None, None, reason=_reason(exc))]
        return [NewFile(shown, f"{UPLOAD_FOLDER}/{name}", staged.name, sha256_file(staged))]

    def _stage_zip(self, job_id: str, first: int, shown: str, stream: BinaryIO) -> list[NewFile]:
        """Unpack an archive with archive.py's guards; members keep their folders under uploads/<archive>/."""
        folder = self._staging(job_id)
        raw = folder / f"{first:05d}.zip.part"  # dot-free suffix check: not a member name
        with open(raw, "wb") as out:
            shutil.copyfileobj(stream, out, _COPY_CHUNK)
        unpacked = folder / f"{first:05d}.members"
        try:
            with open(raw, "rb") as handle:
                members = archive.unpack(handle, shown, unpacked, MAX_UPLOAD_BYTES)
        finally:
            raw.unlink(missing_ok=True)
        base = safe_component(PurePosixPath(shown).stem) or "archive"
        records: list[NewFile] = []
        for member in members:
            if member.reason is not None or member.path is None:
                records.append(NewFile(member.name, None, None, None, reason=member.reason))
                continue
            try:
                name = safe_filename(member.parts[-1])
                folders = [c for c in (safe_component(p) for p in member.parts[:-1]) if c][:_MAX_DEPTH]
            except TracuuError as exc:
                member.path.unlink(missing_ok=True)
                records.append(NewFile(member.name, None, None, None, reason=_reason(exc)))
                continue
            staged = folder / f"{first + len(records):05d}{PurePosixPath(name).suffix.lower()}"
            os.replace(member.path, staged)
            if not staged.stat().st_size:
                staged.unlink()
                records.append(NewFile(member.name, None, None, None, reason="the file is empty"))
                continue
            rel = "/".join([UPLOAD_FOLDER, base, *folders, name])
            records.append(NewFile(member.name, rel, staged.name, sha256_file(staged)))
        shutil.rmtree(unpacked, ignore_errors=True)
        return records

    def _sources(self) -> dict[str, str]:
        """Indexed documents by corpus-relative source: the job runner checks its files against it."""
        return {d.source: d.id for d in self.service.documents().documents}


# -- helpers ------------------------------------------------------------------------------------


def new_job_id() -> str:
    return uuid.uuid4().hex


def index_report(summary: BuildSummary) -> IndexReport:
    return IndexReport(documents=summary.documents, chunks=summary.chunks, added=summary.added,
                       changed=summary.changed, removed=summary.removed, unchanged=summary.unchanged,
                       embedded_chunks=summary.embedded_chunks,
                       skipped=[SkippedOut(source=s.source, reason=s.reason) for s in summary.skipped],
                       warnings=[WarningOut(source=w.source, message=w.message) for w in summary.warnings],
                       seconds=round(summary.seconds, 3))


def safe_component(raw: str) -> str:
    """A folder or file name made safe: letters (Vietnamese included), digits and - _ . ( ) and spaces."""
    base = unicodedata.normalize("NFC", raw)
    return "".join(ch if ch.isalnum() or ch in "-_.() " else "_" for ch in base).strip(" ._")


def safe_filename(raw: str | None) -> str:
    """A plain file name with a supported extension: no folders, no leading dots, at most 120 characters."""
    base = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = safe_component(base)
    stem, ext = os.path.splitext(cleaned)
    ext = ext.lower()
    if not stem:
        raise LoadError(raw or "(no name)", "the upload needs a file name, e.g. ke-hoach.pdf")
    if ext not in SUPPORTED_EXTENSIONS:
        allowed = " ".join(sorted(SUPPORTED_EXTENSIONS | {".zip"}))
        raise UnsupportedType(f"{cleaned}: unsupported file type {ext or '(none)'}; upload one of {allowed}")
    return stem[: _MAX_NAME - len(ext)].rstrip(" .") + ext


def _reason(exc: TracuuError) -> str:
    return exc.reason if isinstance(exc, LoadError) else str(exc)

