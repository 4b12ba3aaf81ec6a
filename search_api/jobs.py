"""Background ingestion jobs: their state in a small SQLite file beside the index, and the thread that runs them.

A job is a list of files staged in the corpus's hidden `uploads/.incoming/<job>/` folder. The runner
moves a batch of them into place and rebuilds the index (the service's reindex, i.e. indexer.build),
so what is committed is searchable while the job goes on. Each step is recorded (SQLite commits are
atomic) before the next begins, so a server stopped at any point resumes the job at its next start:
every file is pending, placed, indexed or skipped with a reason, never silently half-done.
"""
from __future__ import annotations

import hashlib
import logging
import os
import queue
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from indexer.errors import TracuuError
from indexer.types import BuildSummary
from search_api.errors import NotFound
from search_api.schemas import JobFile, JobStatus, SkippedOut, WarningOut

log = logging.getLogger("tracuu.jobs")

FIRST_BATCH = 4          # files in the first commit, so the first results are searchable soon
BATCH_SECONDS = 30.0     # later batches are sized to about this much indexing work each
MAX_BATCH = 50           # and never more files than this, so a stop waits for one bounded commit
STAGING = ("uploads", ".incoming")
_TERMINAL = ("done", "failed")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, kind TEXT, state TEXT, created_at TEXT, updated_at TEXT,
                                 message TEXT, commits INTEGER DEFAULT 0, processed INTEGER DEFAULT 0,
                                 work_seconds REAL DEFAULT 0);
CREATE TABLE IF NOT EXISTS files (job_id TEXT, ord INTEGER, name TEXT, target TEXT, staged TEXT, sha256 TEXT,
                                  state TEXT, reason TEXT, doc_id TEXT, PRIMARY KEY (job_id, ord));
CREATE TABLE IF NOT EXISTS warnings (job_id TEXT, ord INTEGER, message TEXT);
"""


@dataclass(frozen=True)
class NewFile:
    """A file entering a job: shown name, corpus-relative target, staged file name, content hash; or a
    file refused before staging (target None) with its reason."""

    name: str
    target: str | None
    staged: str | None
    sha256: str | None
    reason: str | None = None


@dataclass(frozen=True)
class FileRow:
    ord: int
    name: str
    target: str | None
    staged: str | None
    sha256: str | None
    state: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class JobStore:
    """Jobs and their files in one SQLite file; each call is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ready = False

    def _db(self) -> sqlite3.Connection:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path)) as db, db:
                db.executescript(_SCHEMA)
            self._ready = True
        return sqlite3.connect(self.path, timeout=30)

    def _write(self, sql: str, *args: object) -> None:
        with self._lock, closing(self._db()) as db, db:
            db.execute(sql, args)

    def _read(self, sql: str, *args: object) -> list[tuple]:
        with self._lock, closing(self._db()) as db:
            return db.execute(sql, args).fetchall()

    def create(self, job_id: str, kind: str, files: list[NewFile]) -> None:
        now = _now()
        with self._lock, closing(self._db()) as db, db:
            db.execute("INSERT INTO jobs (id, kind, state, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?)",
                       (job_id, kind, now, now))
            db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)", [
                (job_id, i, f.name, f.target, f.staged, f.sha256, "skipped" if f.reason else "pending", f.reason)
                for i, f in enumerate(files)])

    def set_state(self, job_id: str, state: str, message: str | None = None) -> None:
        self._write("UPDATE jobs SET state = ?, message = COALESCE(?, message), updated_at = ? WHERE id = ?",
                    state, message, _now(), job_id)

    def set_file(self, job_id: str, ordinal: int, state: str, reason: str | None = None,
                 doc_id: str | None = None, warnings: tuple[str, ...] = ()) -> None:
        """A file's new state; an indexed file's warnings (pages OCR could not read) replace any earlier ones."""
        with self._lock, closing(self._db()) as db, db:
            db.execute("UPDATE files SET state = ?, reason = ?, doc_id = ? WHERE job_id = ? AND ord = ?",
                       (state, reason, doc_id, job_id, ordinal))
            db.execute("DELETE FROM warnings WHERE job_id = ? AND ord = ?", (job_id, ordinal))
            db.executemany("INSERT INTO warnings VALUES (?, ?, ?)", [(job_id, ordinal, w) for w in warnings])

    def add_commit(self, job_id: str, seconds: float, processed: int) -> None:
        self._write("UPDATE jobs SET commits = commits + 1, processed = processed + ?, work_seconds = work_seconds + ?,"
                    " updated_at = ? WHERE id = ?", processed, seconds, _now(), job_id)

    def files(self, job_id: str, state: str) -> list[FileRow]:
        rows = self._read("SELECT ord, name, target, staged, sha256, state FROM files WHERE job_id = ? AND state = ?"
                          " ORDER BY ord", job_id, state)
        return [FileRow(*row) for row in rows]

    def unfinished(self) -> list[tuple[str, str]]:
        """(id, state) of jobs a previous run did not finish, oldest first."""
        rows = self._read("SELECT id, state FROM jobs WHERE state NOT IN ('done', 'failed') ORDER BY created_at, id")
        return [(row[0], row[1]) for row in rows]

    def recent(self, limit: int) -> list[JobStatus]:
        ids = self._read("SELECT id FROM jobs ORDER BY created_at DESC, id LIMIT ?", limit)
        return [self.status(row[0], with_files=False) for row in ids]

    def status(self, job_id: str, with_files: bool) -> JobStatus:
        jobs = self._read("SELECT state, created_at, updated_at, message, commits, processed, work_seconds "
                          "FROM jobs WHERE id = ?", job_id)
        if not jobs:
            raise NotFound(f"no job with id {job_id!r}; see /api/jobs for recent jobs")
        state, created, updated, message, commits, processed, work = jobs[0]
        rows = self._read("SELECT ord, name, target, state, reason, doc_id FROM files WHERE job_id = ? ORDER BY ord",
                          job_id)
        notes: dict[int, list[str]] = {}
        for ordinal, text in self._read("SELECT ord, message FROM warnings WHERE job_id = ? ORDER BY ord, rowid",
                                        job_id):
            notes.setdefault(ordinal, []).append(text)
        files = [JobFile(name=r[1], target=r[2], state=r[3], reason=r[4], document_id=r[5],
                         warnings=notes.get(r[0], [])) for r in rows]
        indexed = sum(f.state == "indexed" for f in files)
        skipped = [SkippedOut(source=f.name, reason=f.reason or "") for f in files if f.state == "skipped"]
        left = len(files) - indexed - len(skipped)
        eta = round(left * work / processed, 1) if processed and state not in _TERMINAL else None
        warned = [WarningOut(source=f.name, message=w) for f in files for w in f.warnings]
        return JobStatus(id=job_id, state=state, created_at=created, updated_at=updated, total=len(files),
                         done=indexed + len(skipped), indexed=indexed, skipped=skipped, warnings=warned,
                         eta_seconds=0.0 if state == "done" else eta, commits=commits, message=message,
                         files=files if with_files else [])


class JobRunner:
    """Runs jobs one at a time in a daemon thread; `run` processes one job in the caller's thread instead."""

    def __init__(self, store: JobStore, corpus: Path, reindex: Callable[[], BuildSummary],
                 sources: Callable[[], dict[str, str]]) -> None:
        self.store = store
        self.corpus = corpus
        self.reindex = reindex
        self.sources = sources
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._place_lock = threading.Lock()

    def start(self) -> None:
        """Queue the jobs a previous run left unfinished, then start the worker thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._queue = queue.Queue()  # a fresh queue: the old one may hold the previous stop's sentinel
        for job_id, _state in self.store.unfinished():  # left by a previous run of the server
            self.store.set_state(job_id, "queued", "resumed after the server restarted")
            self._queue.put(job_id)
        self._thread = threading.Thread(target=self._loop, name="tracuu-jobs", daemon=True)
        self._thread.start()

    def submit(self, job_id: str) -> None:
        self._queue.put(job_id)

    def stop(self, grace: float) -> None:
        """Stop at the next safe point, waiting at most `grace` seconds; the thread is a daemon, so a commit
        still running then is abandoned (the index stays on its previous generation) and redone next start."""
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(grace)

    def run(self, job_id: str) -> BuildSummary | None:
        """Process one job now, in this thread (the synchronous single-file upload); its last build summary."""
        return self._process(job_id)

    def _loop(self) -> None:
        while not self._stop.is_set():
            job_id = self._queue.get()
            if job_id is None or self._stop.is_set():
                break
            try:
                self._process(job_id)
            except Exception:  # a bug must not kill the runner or leave the job looking alive
                log.exception("ingestion job %s failed", job_id)
                self._fail(job_id, "internal error while indexing; the server log has the details")

    def _process(self, job_id: str) -> BuildSummary | None:
        self.store.set_state(job_id, "running")
        batch, last = FIRST_BATCH, None
        while True:
            if self._stop.is_set():
                self.store.set_state(job_id, "interrupted", "the server stopped; the job resumes at its next start")
                return last
            pending = self.store.files(job_id, "pending")
            if not pending and not self.store.files(job_id, "placed"):
                break
            for row in pending[:batch]:
                self._place(job_id, row)
            began = time.monotonic()
            try:
                last = self.reindex()
            except TracuuError as exc:
                self._fail(job_id, f"indexing failed: {exc}")
                return None
            processed = self._resolve(job_id, last)
            seconds = time.monotonic() - began
            self.store.add_commit(job_id, seconds, processed)
            batch = max(1, min(MAX_BATCH, int(BATCH_SECONDS * max(processed, 1) / max(seconds, 1e-3))))
        self.store.set_state(job_id, "done")
        shutil.rmtree(self._staging(job_id), ignore_errors=True)
        return last

    def _staging(self, job_id: str) -> Path:
        return self.corpus.joinpath(*STAGING, job_id)

    def _place(self, job_id: str, row: FileRow) -> None:
        """Move a staged file into the corpus (an atomic rename), or skip it when its name is taken."""
        assert row.target is not None and row.staged is not None  # pending rows always have both
        staged, target = self._staging(job_id) / row.staged, self.corpus / row.target
        with self._place_lock:
            if not staged.exists():
                if target.exists() and sha256_file(target) == row.sha256:  # moved before a crash, not yet recorded
                    self.store.set_file(job_id, row.ord, "placed")
                else:
                    self.store.set_file(job_id, row.ord, "skipped",
                                        "the uploaded copy was lost before it was indexed; upload it again")
                return
            if target.exists():
                staged.unlink(missing_ok=True)
                self.store.set_file(job_id, row.ord, "skipped",
                                    f"{row.target} already exists; delete that document first or rename the file")
                return
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
            self.store.set_file(job_id, row.ord, "placed")

    def _resolve(self, job_id: str, summary: BuildSummary) -> int:
        """After a commit: each placed file is indexed, or removed again and skipped with the build's reason."""
        sources = self.sources()
        reasons = {s.source: s.reason for s in summary.skipped}
        warnings: dict[str, list[str]] = {}
        for warning in summary.warnings:
            warnings.setdefault(warning.source, []).append(warning.message)
        placed = self.store.files(job_id, "placed")
        for row in placed:
            assert row.target is not None
            if row.target in sources and row.target not in reasons:
                self.store.set_file(job_id, row.ord, "indexed", doc_id=sources[row.target],
                                    warnings=tuple(warnings.get(row.target, ())))
                continue
            (self.corpus / row.target).unlink(missing_ok=True)  # nothing of it entered the index
            reason = reasons.get(row.target, "the indexer did not pick it up")
            self.store.set_file(job_id, row.ord, "skipped", reason)
        return len(placed)

    def _fail(self, job_id: str, message: str) -> None:
        """A failed job reports every file it did not index; files it had placed leave the corpus again."""
        for state in ("placed", "pending"):
            for row in self.store.files(job_id, state):
                if state == "placed" and row.target:
                    (self.corpus / row.target).unlink(missing_ok=True)
                self.store.set_file(job_id, row.ord, "skipped", f"not indexed: {message}")
        self.store.set_state(job_id, "failed", message)
        shutil.rmtree(self._staging(job_id), ignore_errors=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()

