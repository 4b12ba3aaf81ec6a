"""A real `tracuu serve` in a subprocess, for the benchmarks that measure through HTTP (upload, ask).

It serves `work`/index built from `work`/corpus, into which the named files of corpus/ are copied;
`work` is the benchmark's own folder, so a run never touches the repository's index. The server is
ready when /healthz answers, which is after the index is built or loaded and the models are warm.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


class Server:
    def __init__(self, work: Path, seed: Sequence[str], admin_token: str = "") -> None:
        self.work = work
        self.seed = seed
        self.admin_token = admin_token
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        corpus = self.work / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        for path in [REPO / "corpus" / name for name in self.seed]:
            shutil.copy2(path, corpus / path.name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRACUU_") or k in ("TRACUU_MODEL",)}
        env.update(TRACUU_INDEX=str(self.work / "index"), TRACUU_CORPUS=str(corpus),
                   TRACUU_CACHE=os.environ.get("TRACUU_CACHE", str(REPO / ".cache")), PYTHONPATH=str(REPO))
        if self.admin_token:
            env["TRACUU_ADMIN_TOKEN"] = self.admin_token
        with open(self.work / "serve.log", "ab") as log:   # the child keeps its own copy of the handle
            self.proc = subprocess.Popen([sys.executable, "-m", "eval.cli", "serve", "--port", str(self.port)],
                                         cwd=REPO, env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + 1800       # the first start builds the index (model load included)
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tracuu serve exited: {(self.work / 'serve.log').read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("tracuu serve did not start in 30 minutes")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def cpu(self) -> dict[str, float]:
        """CPU seconds of the server itself and of its finished children (tesseract, catdoc), from /proc."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return {"self": (int(fields[11]) + int(fields[12])) / tick, "children": (int(fields[13]) + int(fields[14])) / tick}
