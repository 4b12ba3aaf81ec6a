"""The probes of issue 12 against a real uvicorn server: bounded bodies, one error shape, strict input,
no server paths in any response, an honest OpenAPI schema, local /docs, safe downloads, a copied index.

Writes go to a server of their own (a copy of the session index and corpus in another folder), which is
also the "copied index" case: the index was built from another corpus folder than the one configured.
"""
from __future__ import annotations

import json
import select
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import ADMIN_TOKEN, REPO, live_server

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MB = 1024 * 1024


def check_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return body["error"]


@pytest.fixture(scope="module")
def own(settings, service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """(URL, settings) of a server on a copy of the session index, configured with a *different* corpus
    folder than the one the index was built from (and records in its manifest)."""
    from dataclasses import replace

    from search_api.app import create_app
    from search_api.service import SearchService

    root = tmp_path_factory.mktemp("copied")
    shutil.copytree(settings.index_dir, root / "index")
    shutil.copytree(settings.corpus_dir, root / "corpus", ignore=shutil.ignore_patterns("uploads"))
    copied = replace(settings, index_dir=root / "index", corpus_dir=root / "corpus")
    own_service = SearchService(copied, embedder=service.embedder)
    own_service.reload()
    with live_server(create_app(copied, own_service)) as url:
        yield url, copied


# -- bodies ---------------------------------------------------------------------------------------


def send_chunked(url: str, path: str, total: int, content_type: str, prefix: bytes = b"",
                 headers: dict[str, str] | None = None) -> tuple[int, int, dict]:
    """POST a chunked body of `total` bytes over a raw socket, stopping as soon as the server answers.
    Returns (status, bytes sent, JSON body)."""
    host, port = urlsplit(url).hostname, urlsplit(url).port
    sock = socket.create_connection((host, port), timeout=60)
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n{extra}"
                 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n".encode())
    piece = b"a" * 65536
    sent, answered = 0, False
    try:
        if prefix:
            sock.sendall(f"{len(prefix):x}\r\n".encode() + prefix + b"\r\n")
        while sent < total:
            if select.select([sock], [], [], 0)[0]:
                answered = True  # the server answered before the body ended: stop sending
                break
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            sent += len(piece)
        if not answered:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server stopped reading and closed: its answer is still in our receive buffer
    raw = b""
    try:
        while chunk := sock.recv(65536):
            raw += chunk
    except ConnectionResetError:
        pass  # a server that closes with our unread bytes in its buffer resets; its answer came first
    sock.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), sent, json.loads(body)


@pytest.mark.parametrize("path", ["/api/search", "/api/ask"])
def test_a_63_mb_chunked_body_is_refused_while_it_streams(server: str, path: str) -> None:
    status, sent, body = send_chunked(server, path, 63 * MB, "application/json", b'{"q": "')
    assert status == 413 and body["error"]["code"] == "too_large", body
    assert "1 MB limit" in body["error"]["message"]
    assert sent < 16 * MB  # stopped near the 1 MB limit (plus socket buffers), not after 63 MB


def test_a_chunked_upload_is_bounded_by_the_upload_limit(own) -> None:
    url, copied = own
    prefix = (b'--XYZ\r\nContent-Disposition: form-data; name="file"; filename="lon.txt"\r\n'
              b"Content-Type: text/plain\r\n\r\n")
    status, sent, body = send_chunked(url, "/api/documents", 40 * MB, "multipart/form-data; boundary=XYZ",
                                      prefix, headers=AUTH)
    assert status == 413 and "20 MB limit" in body["error"]["message"], body
    assert 20 * MB < sent < 36 * MB
    assert not (copied.corpus_dir / "uploads" / "lon.txt").exists()


def test_declared_oversize_bodies_are_refused_before_reading(server: str) -> None:
    """Only headers are sent: the answer must come without the server waiting for the body."""
    host, port = urlsplit(server).hostname, urlsplit(server).port
    form = "multipart/form-data; boundary=XYZ"
    for path, size, limit, kind in (("/api/jobs", 600 * MB, "512 MB", form), ("/upload", 600 * MB, "512 MB", form),
                                    ("/api/search", 2 * MB, "1 MB", "application/json"),
                                    ("/api/documents", 30 * MB, "20 MB", form)):
        with socket.create_connection((host, port), timeout=30) as sock:
            sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {kind}\r\n"
                         f"Content-Length: {size}\r\nAccept: application/json\r\n"
                         f"Authorization: Bearer {ADMIN_TOKEN}\r\nConnection: close\r\n\r\n".encode())
            raw = b""
            while b"}}" not in raw and (chunk := sock.recv(65536)):
                raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), (path, raw[:300])
        error = json.loads(body[body.index(b"{"):])["error"]
        assert error["code"] == "too_large" and f"{limit} limit" in error["message"], (path, error)


@pytest.mark.parametrize("body,expected", [
    (b'{"q": "\xff\xfe STEM"}', "not valid UTF-8"),
    (b"[" * 1000 + b"]" * 1000, "nested too deeply"),
    (b'{"q": ' + b"[" * 5000 + b"]" * 5000 + b"}", "nested too deeply"),
])
@pytest.mark.parametrize("path", ["/api/search", "/api/ask"])
def test_undecodable_json_gets_the_error_shape(client: httpx.Client, path: str, body: bytes, expected: str) -> None:
    error = check_error(client.post(path, content=body, headers={"Content-Type": "application/json"}), 422)
    assert error["code"] == "invalid_request" and expected in error["message"]


@pytest.mark.parametrize("method,body,params", [
    ("POST", {"q": "STEM", "k": True}, None),
    ("POST", {"q": "STEM", "k": 2.0}, None),
    ("POST", {"q": "STEM", "k": False}, None),
    ("GET", None, {"q": "STEM", "k": "true"}),
    ("GET", None, {"q": "STEM", "k": "2.5"}),
])
def test_counts_are_whole_numbers_not_booleans(client: httpx.Client, method: str, body: dict | None,
                                               params: dict | None) -> None:
    response = client.request(method, "/api/search", json=body, params=params)
    assert check_error(response, 422)["message"] == "k must be a whole number"
    assert client.post("/api/search", json={"q": "STEM", "k": 2}).status_code == 200


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\x85"])
@pytest.mark.parametrize("path,field", [("/api/search", "q"), ("/api/search", "school_year"),
                                        ("/api/search", "issuer"), ("/api/search", "doc_type"),
                                        ("/api/search", "doc_id"), ("/api/ask", "q"), ("/api/ask", "issuer")])
def test_control_characters_are_refused_in_every_text_parameter(client: httpx.Client, path: str, field: str,
                                                                char: str) -> None:
    values = {"q": "STEM", field: f"Phòng{char}GD"}
    for response in (client.get(path, params=values), client.post(path, json=values)):
        error = check_error(response, 422)
        assert field in error["message"] or "U+00" in error["message"], error


# -- paths, schema, docs, downloads ----------------------------------------------------------------


def probe_every_route(url: str) -> list[tuple[str, str, int, str]]:
    """One valid and a few invalid requests to every route: (method, path template, status, raw response)."""
    http = httpx.Client(base_url=url, timeout=120)
    doc_id = http.get("/api/documents").json()["documents"][0]["id"]
    upload = {"file": ("hong.pdf", b"%PDF-1.4 broken", "application/pdf")}
    calls = [
        ("GET", "/api/search", dict(params={"q": "STEM"})), ("GET", "/api/search", dict(params={"q": ""})),
        ("POST", "/api/search", dict(json={"q": "STEM", "k": 0})), ("GET", "/api/ask", dict(params={"q": "STEM?"})),
        ("POST", "/api/ask", dict(content=b"{", headers={"Content-Type": "application/json"})),
        ("GET", "/api/documents", {}), ("GET", "/api/documents/{doc_id}", dict(path=f"/api/documents/{doc_id}")),
        ("GET", "/api/documents/{doc_id}", dict(path="/api/documents/khong-co")),
        ("GET", "/api/documents/{doc_id}/source", dict(path=f"/api/documents/{doc_id}/source")),
        ("GET", "/api/documents/{doc_id}/source", dict(path="/api/documents/khong-co/source")),
        ("GET", "/healthz", {}), ("POST", "/api/reindex", {}), ("POST", "/api/reindex", dict(headers=AUTH)),
        ("POST", "/api/documents", dict(files=upload, headers=AUTH)),
        ("POST", "/api/documents", dict(files={"file": ("x.exe", b"MZ", "x")}, headers=AUTH)),
        ("POST", "/api/documents", dict(files={"file": ("a.txt", b"x")}, headers={"Authorization": "Bearer sai"})),
        ("POST", "/api/jobs", dict(files={"files": ("hong.pdf", b"%PDF-1.4 broken")}, headers=AUTH)),
        ("POST", "/api/jobs", dict(data={"x": "1"}, headers=AUTH)),
        ("GET", "/api/jobs", dict(headers=AUTH)), ("GET", "/api/jobs", {}),
        ("GET", "/api/jobs/{job_id}", dict(path="/api/jobs/khong-co")),
        ("DELETE", "/api/documents/{doc_id}", dict(path="/api/documents/khong-co", headers=AUTH)),
        ("GET", "/", dict(params={"q": "STEM"})), ("GET", "/", dict(params={"q": "a" * 1200})),
        ("GET", "/documents", {}), ("GET", "/documents/{doc_id}", dict(path="/documents/khong-co")),
        ("GET", "/upload", {}), ("POST", "/upload", dict(data={"token": "sai"}, files={"files": ("a.txt", b"x")})),
        ("GET", "/docs", {}), ("GET", "/openapi.json", {}), ("GET", "/khong-co", dict(headers={"Accept": "text/html"})),
    ]
    seen = []
    for method, template, options in calls:
        options = dict(options)
        path = options.pop("path", template)
        response = http.request(method, path, **options)
        raw = "\n".join(f"{k}: {v}" for k, v in response.headers.items()) + "\n" + response.text
        seen.append((method, template, response.status_code, raw))
    http.close()
    return seen


def test_no_response_carries_a_server_path(own, settings) -> None:
    url, copied = own
    forbidden = {str(p) for p in (copied.index_dir, copied.corpus_dir, settings.index_dir, settings.corpus_dir,
                                  REPO, Path(tempfile.gettempdir()) / "pytest-of-")}
    for method, template, status, raw in probe_every_route(url):
        assert status < 500, (method, template, raw[-500:])
        leaked = [p for p in forbidden if p in raw]
        assert not leaked, f"{method} {template} ({status}) shows {leaked}: {raw[-400:]}"
    health = httpx.get(f"{url}/healthz").json()
    assert health["index"].startswith("gen-") and "/" not in health["index"]


def test_no_index_errors_carry_no_path(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from search_api.app import create_app
    from search_api.config import Settings

    settings = Settings(index_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus", admin_token=ADMIN_TOKEN)
    client = TestClient(create_app(settings))  # no lifespan: the server has no index yet
    for path in ("/api/search?q=STEM", "/api/documents", "/documents", "/?q=STEM"):
        response = client.get(path)
        assert response.status_code == 503 and str(tmp_path) not in response.text, response.text
    assert "$TRACUU_INDEX" in client.get("/api/documents").json()["error"]["message"]


def test_openapi_documents_the_real_error_shape_and_every_4xx(own) -> None:
    url, _ = own
    schema = httpx.get(f"{url}/openapi.json").json()
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text and '"detail"' not in text
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/ErrorBody"), (method, path, status)
    error_body = schema["components"]["schemas"]["ErrorBody"]
    assert error_body["required"] == ["error"]
    undocumented = set()
    for method, template, status, _raw in probe_every_route(url):
        operation = schema["paths"].get(template, {}).get(method.lower())
        if operation is not None and status >= 400 and str(status) not in operation["responses"]:
            undocumented.add((method, template, status))
    assert not undocumented, undocumented
    assert schema["paths"]["/api/jobs"]["post"]["responses"].keys() >= {"202", "401", "403", "413", "422"}


def test_docs_load_nothing_from_outside(client: httpx.Client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text and "<script>" not in page.text
    for asset in ("/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"):
        response = client.get(asset)
        assert response.status_code == 200 and len(response.content) > 10_000
    assert client.get("/docs/assets/..%2F..%2Fpyproject.toml").status_code == 404
    assert client.get("/redoc").status_code == 404  # the CDN-only ReDoc page is off


def test_uploaded_html_downloads_as_an_attachment(own) -> None:
    url, _ = own
    page = ("<html><head><title>Kế hoạch</title></head><body><p>KẾ HOẠCH tổ chức hội thi Ixion năm học 2025-2026."
            "</p><script>alert(1)</script></body></html>").encode()
    files = {"file": ("ke-hoach-ixion.html", page, "text/html")}
    created = httpx.post(f"{url}/api/documents", files=files, headers=AUTH, timeout=300)
    assert created.status_code == 201, created.text
    doc_id = created.json()["document"]["id"]
    source = httpx.get(f"{url}/api/documents/{doc_id}/source")
    assert source.status_code == 200 and source.content == page
    assert source.headers["content-disposition"].startswith("attachment;")
    assert source.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in source.headers["content-security-policy"]
    assert httpx.delete(f"{url}/api/documents/{doc_id}", headers=AUTH, timeout=300).status_code == 200


def test_a_copied_index_uploads_into_the_configured_corpus(own, settings) -> None:
    url, copied = own
    text = "KẾ HOẠCH\nTổ chức ngày hội Pyxis cho học sinh THCS năm học 2025-2026.\n".encode()
    created = httpx.post(f"{url}/api/documents", files={"file": ("ngay-hoi-pyxis.txt", text)}, headers=AUTH,
                         timeout=300)
    assert created.status_code == 201, created.text
    assert (copied.corpus_dir / "uploads" / "ngay-hoi-pyxis.txt").read_bytes() == text
    assert not (settings.corpus_dir / "uploads" / "ngay-hoi-pyxis.txt").exists()
    report = created.json()["index"]
    assert report["added"] == ["uploads/ngay-hoi-pyxis.txt"] and report["removed"] == []
    hits = httpx.get(f"{url}/api/search", params={"q": "ngày hội Pyxis", "k": 1}).json()["results"]
    assert hits[0]["document"]["source"] == "uploads/ngay-hoi-pyxis.txt"


# -- jobs over HTTP ---------------------------------------------------------------------------------


def test_searches_are_answered_while_a_job_runs(own) -> None:
    url, _ = own
    words = ["orion", "lyra", "draco", "cygnus", "aquila", "perseus"]
    files = [("files", (f"chuyen-de-{w}.txt", f"KẾ HOẠCH\nChuyên đề {w} cho học sinh THCS.\n".encode(), "text/plain"))
             for w in words]
    created = httpx.post(f"{url}/api/jobs", files=files, headers=AUTH, timeout=120)
    assert created.status_code == 202, created.text
    job = created.json()
    assert created.headers["location"] == f"/api/jobs/{job['id']}" and job["total"] == 6
    latencies: list[float] = []
    while True:
        status = httpx.get(f"{url}/api/jobs/{job['id']}").json()
        if status["state"] not in ("queued", "running"):
            break
        began = time.perf_counter()
        response = httpx.get(f"{url}/api/search", params={"q": "hội nghị giao ban", "k": 3}, timeout=120)
        assert response.status_code == 200 and response.json()["results"]
        latencies.append(time.perf_counter() - began)
    assert status["state"] == "done" and status["indexed"] == 6, status
    assert len(latencies) >= 3, latencies  # searches kept completing during the job
    print(f"searches during the job: {len(latencies)}, max {max(latencies):.2f} s")
    listed = httpx.get(f"{url}/api/jobs", headers=AUTH).json()
    assert any(j["id"] == job["id"] for j in listed["jobs"])
    hits = httpx.get(f"{url}/api/search", params={"q": "chuyên đề perseus", "k": 1}).json()["results"]
    assert hits[0]["document"]["source"] == "uploads/chuyen-de-perseus.txt"
