"""What `eval.upload_bench` checks after the job: the report, searches for scanned and .doc text, OCR error rate.

Everything is read back through the HTTP API (`GET /api/jobs/{id}`, `/api/documents`, `/api/search`), as a
client would; only `ocr_alone` calls the loader in this process, to time OCR on a quiet server.
"""
from __future__ import annotations

import math
import os
import statistics
import time
import unicodedata
from typing import Any

import httpx

from eval.upload_archive import GoodFile, Upload

PHRASE_FILES = 5            # files of each kind (scanned, .doc) whose phrase is searched
PHRASE_WORDS = 8


def check_report(http: httpx.Client, upload: Upload, status: dict, seed_documents: int) -> list[str]:
    """Every good file indexed and listed, every bad one skipped by name with its reason, the blank page
    warned about; each problem is one line."""
    failures: list[str] = []
    if status["state"] != "done":
        failures.append(f"the job ended {status['state']}: {status.get('message')}")
    files = {f["name"]: f for f in status["files"]}
    expected = {g.name for g in upload.good} | {b.name for b in upload.bad}
    failures += [f"unexpected file in the report: {name}" for name in sorted(set(files) - expected)]
    for good in upload.good:
        row = files.get(good.name)
        if row is None or row["state"] != "indexed" or not row["document_id"]:
            failures.append(f"{good.name}: not indexed ({row and row['state']}: {row and row['reason']})")
    skipped = {s["source"]: s["reason"] for s in status["skipped"]}
    for bad in upload.bad:
        reason = skipped.get(bad.name)
        if reason is None:
            failures.append(f"{bad.name} ({bad.kind}): not in the skipped list")
        elif not reason or bad.expect not in reason:
            failures.append(f"{bad.name} ({bad.kind}): reason {reason!r} does not say {bad.expect!r}")
    if status["indexed"] != len(upload.good) or status["total"] != len(expected):
        failures.append(f"counts: indexed {status['indexed']} of {len(upload.good)}, total {status['total']} "
                        f"of {len(expected)}")
    listed = http.get("/api/documents").json()
    ids = {d["id"] for d in listed["documents"]}
    if listed["count"] != seed_documents + len(upload.good):
        failures.append(f"/api/documents lists {listed['count']} documents, expected {seed_documents} + "
                        f"{len(upload.good)}")
    failures += [f"{name}: its document {row['document_id']} is not listed" for name, row in files.items()
                 if row["state"] == "indexed" and row["document_id"] not in ids]
    failures += _warnings(upload, status)
    return failures


def _warnings(upload: Upload, status: dict) -> list[str]:
    """The scan with a blank page must be reported with that page."""
    out = []
    for scan in (g for g in upload.good if g.blank_page):
        if "warnings" not in status:
            out.append(f"the job report has no warnings: page {scan.blank_page} of {scan.name} (blank) is "
                       "not reported")
            continue
        if not any(w["source"] == scan.name and f"page {scan.blank_page}" in w["message"] for w in status["warnings"]):
            out.append(f"{scan.name}: no warning for its blank page {scan.blank_page} ({status['warnings']})")
    return out


def document_ids(status: dict) -> dict[str, str]:
    return {f["name"]: f["document_id"] for f in status["files"] if f["document_id"]}


def phrase(text: str, others: str = "", rarity: dict[str, float] | None = None) -> str:
    """PHRASE_WORDS words of the file that `others` (the other files' text) does not contain and whose words
    are rarest in the upload (`rarity`: idf by lowercased word), nearest the middle on ties: what someone
    remembers of a page. Boilerplate such as "có hiệu lực thi hành kể từ ngày" is in every article of the
    archive, and a run of common words ("dục và Đào tạo, các tổ chức và") names no document either."""
    windows = []
    for line in text.splitlines():
        words = line.split()
        windows += [" ".join(words[i:i + PHRASE_WORDS]) for i in range(0, len(words) - PHRASE_WORDS + 1, 2)]
    if not windows:
        return " ".join(text.split()[:PHRASE_WORDS])
    middle = len(windows) // 2
    own = [i for i in range(len(windows)) if windows[i] not in others] or list(range(len(windows)))

    def weight(i: int) -> tuple[float, int]:
        rare = sum((rarity or {}).get(word.lower(), 0.0) for word in windows[i].split())
        return -rare, abs(i - middle)

    return windows[min(own, key=weight)]


def rarities(texts: list[str]) -> dict[str, float]:
    """Inverse document frequency of each lowercased word over the files' texts."""
    seen: dict[str, int] = {}
    for text in texts:
        for word in set(text.lower().split()):
            seen[word] = seen.get(word, 0) + 1
    return {word: math.log(len(texts) / count) for word, count in seen.items()}


def find_phrases(http: httpx.Client, upload: Upload, status: dict) -> dict[str, Any]:
    """Search a phrase found only in that file for a few scanned and .doc files: its document must be among
    the top 10 (or in the `also_in` of one of them)."""
    ids = document_ids(status)
    rarity = rarities([g.text for g in upload.good])
    items, found = [], {}
    for kind in ("scan", "doc"):
        files = [g for g in upload.good if g.kind == kind][:PHRASE_FILES]
        hits = 0
        for good in files:
            q = phrase(good.text, "\n".join(g.text for g in upload.good if g is not good), rarity)
            results = http.get("/api/search", params={"q": q, "k": 10}).json().get("results", [])
            # a passage shared by several documents (the same "Trách nhiệm thi hành" article) is shown once,
            # with the other documents in `also_in`: finding the file there counts
            ranks = [r["rank"] for r in results
                     if ids.get(good.name) in {r["document"]["id"], *(a["document"]["id"] for a in r["also_in"])}]
            items.append({"kind": kind, "file": good.name, "phrase": q, "found": bool(ranks),
                          "rank": ranks[0] if ranks else None})
            hits += bool(ranks)
        found[kind] = f"{hits}/{len(files)}"
    return {"found": found, "items": items}


def cer(reference: str, hypothesis: str) -> float:
    """Levenshtein distance over the reference length, both NFC and whitespace-collapsed (as tests/test_ocr.py)."""
    from rapidfuzz.distance import Levenshtein

    def flat(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).split())

    return Levenshtein.distance(flat(reference), flat(hypothesis)) / max(1, len(flat(reference)))


def cer_pages(http: httpx.Client, upload: Upload, status: dict) -> dict[str, Any]:
    """CER of every scanned page: the document's page text (`text[start:end]` of its `pages`) against the
    rendered lines, passed through the indexer's normalizer as the document was (tone placement, dashes)."""
    from indexer.normalize import normalize_text

    ids = document_ids(status)
    items = []
    for scan in (g for g in upload.good if g.kind == "scan" and g.name in ids):
        detail = http.get(f"/api/documents/{ids[scan.name]}").json()
        spans = {page: (start, end) for page, start, end in detail["pages"]}
        confidence = {p["page"]: p["confidence"] for p in detail["scanned_pages"]}
        for number, reference in enumerate(scan.scan_pages, start=1):
            start, end = spans.get(number, (0, 0))
            items.append({"file": scan.name, "page": number, "confidence": confidence.get(number),
                          "cer": round(cer(normalize_text(reference), detail["text"][start:end]), 5)})
    rates: list[float] = [float(i["cer"]) for i in items]  # type: ignore[arg-type]
    return {"pages": len(items), "mean": statistics.fmean(rates) if rates else None,
            "max": max(rates) if rates else None, "items": items}


def ocr_alone(scan: GoodFile | None) -> dict[str, Any]:
    """OCR of one scanned file's text pages in this process after the job (the server stopped): seconds a page."""
    if scan is None:
        return {}
    from indexer.loaders import ocr

    data = scan.path.read_bytes()
    pages = list(range(len(scan.scan_pages)))
    before, wall = os.times(), time.perf_counter()
    ocr.read_pdf_pages(data, pages)
    wall, after = time.perf_counter() - wall, os.times()
    cpu = sum(after[:4]) - sum(before[:4])        # this process and its finished children (tesseract)
    return {"pages": len(pages), "wall_per_page": round(wall / len(pages), 2), "cpu_per_page": round(cpu / len(pages), 2)}
