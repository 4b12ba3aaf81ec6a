"""Shared fixtures: one real index of corpus/*.txt (the shipped model), a SearchService on it, and a live server.

Everything runs on a copy of the corpus in a temporary folder, so uploads and deletes made by the API
tests never touch the repository. Fixtures here are session-scoped because building the index embeds
every passage with the real model; add new shared fixtures below, grouped by what they need.
"""
from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
ADMIN_TOKEN = "test-admin-token"


# -- corpus and index ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the default corpus (the .txt directives only)."""
    folder = tmp_path_factory.mktemp("corpus")
    for path in sorted(CORPUS.glob("*.txt")):
        shutil.copy2(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path):
    """Settings of the shared index: the shipped model (tracuu-e5), the corpus copy, writes enabled with
    ADMIN_TOKEN."""
    from search_api.config import Settings

    return Settings(index_dir=tmp_path_factory.mktemp("index"), corpus_dir=corpus_dir,
                    cache_dir=tmp_path_factory.getbasetemp() / "cache", admin_token=ADMIN_TOKEN)


@pytest.fixture(scope="session")
def service(settings):
    """The SearchService on one real index of the corpus, built once per test session."""
    from search_api.service import SearchService

    svc = SearchService(settings)
    svc.reindex([settings.corpus_dir])
    return svc


# -- live HTTP server ---------------------------------------------------------------------------


@contextmanager
def live_server(app) -> Iterator[str]:
    """Run an ASGI app with a real uvicorn on a free local port; yields its base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    httpx.get(f"{url}/healthz", timeout=10).raise_for_status()
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def server(settings, service) -> Iterator[str]:
    """Base URL of the real app (uvicorn in a thread) serving the shared index, writes enabled."""
    from search_api.app import create_app

    with live_server(create_app(settings, service)) as url:
        yield url


@pytest.fixture()
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=120) as http:
        yield http


@pytest.fixture()
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
