"""`python -m eval.upload_bench`: a mixed upload of real Vietnamese legal files through the real HTTP API.

It makes the archive (eval/upload_archive.py), starts `tracuu serve` as a subprocess on a temporary index
and corpus (seeded with one directive of corpus/), sends everything in one `POST /api/jobs` and polls the job to its
end while another thread searches every 0.5 s. Then it checks the job report (every good file indexed
and listed by `GET /api/documents`, every bad file skipped by name with its reason, the blank scanned
page reported as a warning), searches phrases of scanned and .doc files, and measures the character
error rate of the OCR'd pages against the text they were rendered from. It prints one table and
writes the figures as JSON. A benchmark, not a test: it takes minutes on two cores (OCR is ~4 CPU-s a page).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from eval import upload_archive
from eval.latency import percentiles
from eval.server import Server
from eval.upload_checks import cer_pages, check_report, find_phrases, ocr_alone, phrase

REPO = Path(__file__).resolve().parent.parent
TOKEN = "upload-bench-token"
SEED = ("giao-ban-thcs-lan-1-2020-2021.txt",)   # the corpus the server starts with: one short directive
PROBE_SECONDS = 0.5
PROBES = ["học phí đối với cơ sở giáo dục công lập", "điều kiện thành lập trường trung học phổ thông",
          "chuẩn nghề nghiệp giáo viên", "tuyển sinh đại học", "phổ cập giáo dục xóa mù chữ", "hồ sơ học sinh",
          "kế hoạch năm học 2020-2021 cấp trung học cơ sở", "sách giáo khoa"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m eval.upload_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300, help="files in the upload, bad ones included")
    parser.add_argument("--scanned", type=int, default=20, help="scanned PDFs among them (1-2 pages each)")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--report", type=Path, default=REPO / "eval" / "reports" / "upload-bench.json")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="make everything in DIR and keep it (files, archives, index, server log)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="upload-bench-"))
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        print(f"--keep {args.keep}: the folder is not empty", file=sys.stderr)
        return 2
    try:
        began = time.perf_counter()
        upload = upload_archive.make(work, args.files, args.scanned, args.seed)
        made = time.perf_counter() - began
        print(f"made {len(upload.good) + len(upload.bad)} files in {made:.0f} s (.doc: {upload.doc_maker}); "
              f"sending {len(upload.parts)} parts, {sum(p.stat().st_size for p in upload.parts) / 2 ** 20:.1f} MB",
              file=sys.stderr)
        with Server(work, SEED, admin_token=TOKEN) as server:
            figures = run(server, upload)
        figures["archive"] = {"files": args.files, "scanned": args.scanned, "seed": args.seed,
                              "doc_maker": upload.doc_maker, "make_seconds": round(made, 1),
                              "parts": [p.name for p in upload.parts],
                              "bytes": sum(p.stat().st_size for p in upload.parts)}
        figures["ocr_alone"] = ocr_alone(next((g for g in upload.good if g.kind == "scan"), None))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(figures))
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(figures, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if not figures["failures"] else 1


# -- the job, with searches alongside ------------------------------------------------------------


class Prober(threading.Thread):
    """Searches every PROBE_SECONDS and records (time, milliseconds, HTTP status) of each."""

    def __init__(self, url: str, queries: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.queries = url, queries
        self.samples: list[tuple[float, float, int]] = []
        self.halt = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            i = 0
            while not self.halt.is_set():
                began = time.monotonic()
                try:
                    status = http.get("/api/search", params={"q": self.queries[i % len(self.queries)], "k": 10}).status_code
                except httpx.HTTPError:
                    status = 0
                self.samples.append((began, (time.monotonic() - began) * 1000, status))
                i += 1
                self.halt.wait(max(0.0, PROBE_SECONDS - (time.monotonic() - began)))


def run(server: Server, upload: upload_archive.Upload) -> dict[str, Any]:
    """Upload, follow the job to its end with searches alongside, then check and measure everything."""
    http = httpx.Client(base_url=server.url, timeout=600)
    before = http.get("/healthz").json()
    probes = PROBES + [phrase(g.text) for g in upload.good[:: max(1, len(upload.good) // 8)]]
    prober = Prober(server.url, probes)
    prober.start()
    time.sleep(5)                                # a few searches before the upload: the idle baseline
    cpu0, t0 = server.cpu(), time.monotonic()
    handles = [open(p, "rb") for p in upload.parts]
    try:
        response = http.post("/api/jobs", files=[("files", (p.name, h)) for p, h in zip(upload.parts, handles)],
                             headers={"Authorization": f"Bearer {TOKEN}"})
    finally:
        for handle in handles:
            handle.close()
    if response.status_code != 202:
        raise RuntimeError(f"POST /api/jobs answered {response.status_code}: {response.text[:500]}")
    t_accepted = time.monotonic()
    polls, status = follow(http, response.json()["id"])
    t_done, cpu1 = time.monotonic(), server.cpu()
    raw = {"polls": polls, "status": status, "t0": t0, "accepted": t_accepted, "done": t_done}
    (server.work / "job.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    time.sleep(20)                               # searches after the job, on the final index
    prober.halt.set()
    prober.join()
    after = http.get("/healthz").json()
    figures = summarize(upload, polls, prober.samples, (t0, t_accepted, t_done), before, after, cpu0, cpu1)
    figures["by_type"] = by_type(upload, status)
    figures["failures"] = check_report(http, upload, status, before["documents"])
    figures["phrases"] = find_phrases(http, upload, status)
    figures["cer"] = cer_pages(http, upload, status)
    figures["failures"] += [f"phrase not found: {p['file']}: {p['phrase']!r}"
                            for p in figures["phrases"]["items"] if not p["found"]]
    if figures["cer"]["max"] is not None and figures["cer"]["max"] > 0.02:
        figures["failures"].append(f"a scanned page has CER {figures['cer']['max']:.2%} (> 2 %)")
    figures["job"] = {k: status[k] for k in ("state", "total", "done", "indexed", "commits", "message")}
    figures["job"].update(skipped=status["skipped"], warnings=status.get("warnings"))
    return figures


def follow(http: httpx.Client, job_id: str, every: float = 1.0) -> tuple[list[dict], dict]:
    """Poll the job until it is done or failed; every poll as (t, state, done, total, indexed, eta, commits)."""
    polls = []
    while True:
        status = http.get(f"/api/jobs/{job_id}").json()
        polls.append({"t": time.monotonic(), **{k: status[k] for k in
                                               ("state", "done", "total", "indexed", "eta_seconds", "commits")}})
        if status["state"] in ("done", "failed"):
            return polls, status
        last = polls[-1]
        print(f"\r{last['done']}/{last['total']} files, {last['commits']} commits, eta {last['eta_seconds']} s   ",
              end="", file=sys.stderr)
        time.sleep(every)


# -- figures --------------------------------------------------------------------------------------


def summarize(upload: upload_archive.Upload, polls: list[dict], samples: list[tuple[float, float, int]],
              times: tuple[float, float, float], before: dict, after: dict, cpu0: dict, cpu1: dict) -> dict:
    t0, accepted, done = times
    wall = done - t0
    during = [ms for t, ms, code in samples if accepted <= t <= done and code == 200]
    idle = [ms for t, ms, code in samples if (t < t0 or t > done) and code == 200]
    errors = [code for t, _, code in samples if code != 200]
    pages = sum(len(g.scan_pages) + (1 if g.blank_page else 0) for g in upload.good)
    tesseract = cpu1["children"] - cpu0["children"]
    return {
        "wall_seconds": round(wall, 1), "upload_request_seconds": round(accepted - t0, 1),
        "files_per_second": round((len(upload.good) + len(upload.bad)) / wall, 3),
        "passages": after["chunks"] - before["chunks"],
        "passages_per_second": round((after["chunks"] - before["chunks"]) / wall, 2),
        "documents_before": before["documents"], "documents_after": after["documents"],
        "server_cpu_seconds": round(cpu1["self"] - cpu0["self"], 1),
        "ocr": {"pages": pages, "tesseract_cpu_seconds": round(tesseract, 1),
                "tesseract_cpu_per_page": round(tesseract / pages, 2) if pages else None},
        "search_ms": {"during_job": percentiles(during) if during else None,
                      "idle": percentiles(idle) if idle else None, "errors": len(errors)},
        "eta": eta_error(polls, done),
    }


def eta_error(polls: list[dict], done: float) -> dict[str, Any]:
    """The job's ETA against the time it really took from each poll, overall and at 25/50/75 % of files."""
    rows = [(p["done"] / max(p["total"], 1), p["eta_seconds"], done - p["t"]) for p in polls
            if p["state"] == "running" and p["eta_seconds"] is not None and done - p["t"] > 0]
    if not rows:
        return {"polls": 0}
    errors = sorted(abs(eta - actual) for _, eta, actual in rows)
    relative = sorted(abs(eta - actual) / actual for _, eta, actual in rows if actual >= 10)
    marks = {}
    for share in (0.25, 0.5, 0.75):
        hit = next(((eta, actual) for frac, eta, actual in rows if frac >= share), None)
        if hit:
            marks[f"{int(share * 100)}%"] = {"eta": round(hit[0], 1), "actual": round(hit[1], 1)}
    return {"polls": len(rows), "median_abs_seconds": round(errors[len(errors) // 2], 1),
            "median_relative": round(relative[len(relative) // 2], 3) if relative else None, "at": marks}


def by_type(upload: upload_archive.Upload, status: dict) -> dict[str, dict[str, int]]:
    """Files of each kind and what the job made of them (bad files count as their own kind)."""
    states = {f["name"]: f["state"] for f in status["files"]}
    out: dict[str, dict[str, int]] = {}
    for kind, name in [(g.kind, g.name) for g in upload.good] + [("bad", b.name) for b in upload.bad]:
        row = out.setdefault(kind, {"count": 0, "indexed": 0, "skipped": 0})
        row["count"] += 1
        state = str(states.get(name))
        row[state] = row.get(state, 0) + 1
    return out


TYPE_LABELS = {"txt": ".txt", "docx": ".docx", "pdf": "PDF (text)", "scan": "PDF (scanned)", "doc": ".doc",
               "bad": "bad files"}


def table(f: dict) -> str:
    """The figures as one plain-text table."""
    lines = [f"{'files by type':<34}{'count':>7}{'indexed':>9}{'skipped':>9}"]
    for kind, row in f["by_type"].items():
        lines.append(f"  {TYPE_LABELS.get(kind, kind):<32}{row['count']:>7}{row['indexed']:>9}{row['skipped']:>9}")
    ocr, alone, search, eta, cer = f["ocr"], f.get("ocr_alone") or {}, f["search_ms"], f["eta"], f["cer"]

    def lat(p: dict | None) -> str:
        return f"p50 {p['p50']:.0f} ms, p95 {p['p95']:.0f} ms (n={p['n']})" if p else "-"

    rows = [
        ("total wall time (upload to done)", f"{f['wall_seconds']:.0f} s (request {f['upload_request_seconds']:.0f} s,"
                                              f" {f['job']['commits']} commits)"),
        ("throughput", f"{f['files_per_second']:.2f} files/s, {f['passages_per_second']:.1f} passages/s "
                       f"({f['passages']} passages)"),
        ("OCR pages", f"{ocr['pages']}; tesseract {ocr['tesseract_cpu_per_page']} CPU-s/page in the job; "
                      f"alone {alone.get('wall_per_page', '-')} s/page wall, {alone.get('cpu_per_page', '-')} CPU-s"),
        ("search during the job", lat(search["during_job"]) + f", {search['errors']} errors"),
        ("search before/after the job", lat(search["idle"])),
        ("ETA error", f"median |eta - actual| {eta.get('median_abs_seconds', '-')} s, relative "
                      f"{eta.get('median_relative', '-')}; " +
                      ", ".join(f"at {k}: {v['eta']:.0f} vs {v['actual']:.0f} s" for k, v in eta.get("at", {}).items())),
        ("OCR CER (scanned pages)", f"mean {cer['mean']:.2%}, max {cer['max']:.2%} over {cer['pages']} pages"
         if cer["pages"] else "-"),
        ("phrases found", ", ".join(f"{k} {v}" for k, v in f["phrases"]["found"].items())),
        ("checks", "all passed" if not f["failures"] else f"{len(f['failures'])} FAILED"),
    ]
    lines += [f"{name:<34}{value}" for name, value in rows]
    lines += [f"  - {failure}" for failure in f["failures"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
