"""`tracuu serve` as a real subprocess, told to stop (SIGTERM) in the middle of an ingestion job.

It must exit promptly, leave every file of the job indexed or on record (pending, placed or skipped with
a reason), and the next start must finish the job: nothing half-done, nothing silently lost.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, REPO

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# 40 files: after the first commit (4 files) the job sizes its next batch to ~30 s of work, so on an idle
# machine ten files were all indexed before the signal came and the job was over, not interrupted
TOPICS = [f"{name}{n}" for n in range(1, 5) for name in ("Andromeda", "Bootes", "Carina", "Dorado", "Eridanus",
                                                          "Fornax", "Grus", "Hydrus", "Indus", "Lacerta")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def directive(topic: str) -> bytes:
    """A directive long enough to take a few passages (so commits take measurable time)."""
    body = "\n".join(f"{i}. Các trường THCS tổ chức hoạt động {topic} lần thứ {i}, báo cáo kết quả về Phòng "
                     f"Giáo dục và Đào tạo trước ngày {i + 5} tháng 10 năm 2025." for i in range(1, 25))
    return f"KẾ HOẠCH\nTổ chức chuyên đề {topic} năm học 2025-2026\n\n{body}\n".encode()


class Server:
    """One `tracuu serve` process on copied folders; stderr goes to a log file for the failure message."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "eval.cli", "serve", "--port", str(self.port)],
                                         cwd=REPO, env=env, stdout=out, stderr=out)
        deadline = time.monotonic() + 600
        while True:
            assert self.proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    def stop(self, timeout: float = 90) -> tuple[int, float]:
        began = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        return code, time.monotonic() - began


@pytest.fixture()
def folders(settings, service, tmp_path: Path) -> Iterator[tuple[dict[str, str], Path, Path]]:
    """Environment of a server on a copy of the session index and corpus: (env, index dir, corpus dir)."""
    shutil.copytree(settings.index_dir, tmp_path / "index")
    shutil.copytree(settings.corpus_dir, tmp_path / "corpus", ignore=shutil.ignore_patterns("uploads"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACUU_")}
    env.update(TRACUU_INDEX=str(tmp_path / "index"), TRACUU_CORPUS=str(tmp_path / "corpus"),
               TRACUU_ADMIN_TOKEN=ADMIN_TOKEN, PYTHONPATH=str(REPO))
    yield env, tmp_path / "index", tmp_path / "corpus"


def test_sigterm_mid_job_exits_and_the_next_start_finishes_it(folders, tmp_path: Path) -> None:
    from indexer.store import read_manifest
    from search_api.config import Settings
    from search_api.jobs import JobStore

    env, index_dir, _corpus_dir = folders
    server = Server(env, tmp_path / "serve.log")
    files = [("files", (f"chuyen-de-{t.lower()}.txt", directive(t), "text/plain")) for t in TOPICS]
    job = httpx.post(f"{server.url}/api/jobs", files=files, headers=AUTH, timeout=120).json()
    deadline = time.monotonic() + 600
    while httpx.get(f"{server.url}/api/jobs/{job['id']}").json()["commits"] < 1:  # some work is committed
        assert time.monotonic() < deadline
        time.sleep(0.2)
    sync: dict = {}  # a single-file upload still waiting for its build when the signal comes
    single = threading.Thread(target=lambda: sync.update(response=_upload(server.url)), daemon=True)
    single.start()
    time.sleep(1)

    code, took = server.stop()
    assert code in (0, -signal.SIGTERM), server.log.read_text()[-3000:]
    assert took < 45, f"SIGTERM took {took:.1f} s"
    print(f"SIGTERM mid-job: exited in {took:.1f} s")

    store = JobStore(Settings(index_dir=index_dir).jobs_file)
    stopped = store.status(job["id"], with_files=True)
    assert stopped.state in ("interrupted", "running") and stopped.indexed >= 1, stopped
    manifest = read_manifest(index_dir)
    for item in stopped.files:
        assert item.state in ("indexed", "pending", "placed"), item  # nothing lost, nothing skipped
        if item.state == "indexed":
            assert item.target in manifest.files  # what was reported indexed is in the index on disk

    again = Server(env, tmp_path / "serve-again.log")
    try:
        deadline = time.monotonic() + 900
        while (status := httpx.get(f"{again.url}/api/jobs/{job['id']}").json())["state"] != "done":
            assert status["state"] in ("queued", "running") and time.monotonic() < deadline, status
            time.sleep(0.5)
        assert status["indexed"] == len(TOPICS) and status["message"] == "resumed after the server restarted"
        sources = {d["source"] for d in httpx.get(f"{again.url}/api/documents").json()["documents"]}
        assert {f"uploads/chuyen-de-{t.lower()}.txt" for t in TOPICS} <= sources
        singles = [j for j in httpx.get(f"{again.url}/api/jobs", headers=AUTH).json()["jobs"] if j["total"] == 1]
        assert len(singles) == 1, singles
        for one in singles:  # the interrupted single upload was on record and is finished too
            deadline = time.monotonic() + 600
            while httpx.get(f"{again.url}/api/jobs/{one['id']}").json()["state"] != "done":
                assert time.monotonic() < deadline
                time.sleep(0.5)
        documents = httpx.get(f"{again.url}/api/documents").json()["documents"]
        assert "uploads/don-le-vela.txt" in {d["source"] for d in documents}
    finally:
        code, _ = again.stop()
    assert code in (0, -signal.SIGTERM)


def _upload(url: str) -> int | None:
    try:
        return httpx.post(f"{url}/api/documents", files={"file": ("don-le-vela.txt", directive("Vela"))},
                          headers=AUTH, timeout=120).status_code
    except httpx.HTTPError:
        return None  # the server stopped before answering
