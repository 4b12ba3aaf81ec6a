"""BEIR-like benchmarks as tracuu corpora: one .txt per document in a cache folder, indexed once.

The folder is keyed by a hash of corpus.jsonl, so a changed benchmark never reuses a stale index
and an unchanged one is neither rewritten nor re-embedded (the build is incremental).
File name = document id (percent-quoted), so retrieved passages map back to benchmark ids.
"""
from __future__ import annotations

import hashlib
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

from tqdm import tqdm

from search_api.config import Settings

if TYPE_CHECKING:
    from search_api.service import SearchService


@dataclass
class PreparedBenchmark:
    service: SearchService  # with the default (weighted) fusion
    rrf: SearchService      # the same index with FusionConfig(method="rrf")
    index: Path
    digest: str            # sha256 of corpus.jsonl
    base: Path             # the cache folder (corpus/ and index-<embedder>/)


def sample_corpus(corpus: dict, qrels: list[dict[str, int]], size: int) -> dict:
    """Every gold document of the given qrels plus a fixed pseudo-random sample of the rest.

    The sample is chosen by a hash of the document id, so reruns and other machines index the same
    documents. It makes retrieval easier for every system alike: compare systems, not absolute figures.
    """
    gold = {doc for rels in qrels for doc in rels if doc in corpus}
    others = sorted((d for d in corpus if d not in gold), key=lambda d: hashlib.sha1(d.encode()).hexdigest())
    keep = gold | set(others[: max(0, size - len(gold))])
    return {d: corpus[d] for d in corpus if d in keep}


def prepare_benchmark(directory: Path, corpus: dict, cache: Path, model: str,
                      sample: int | None = None) -> PreparedBenchmark:
    """Benchmark corpus -> one .txt per document in a cache folder keyed by the corpus hash -> index.

    Both steps are cached: a rerun finds the files in place and the incremental build re-embeds nothing.
    """
    from indexer.build import BuildConfig, build_index
    from indexer.embed import embedder_name, load_embedder
    from search_api.retriever import FusionConfig
    from search_api.service import SearchService

    digest = sha256_file(directory / "corpus.jsonl")
    base = cache / f"{directory.name}-{digest[:12]}" if not sample else \
        cache / f"{directory.name}-{digest[:12]}-sample{len(corpus)}"
    corpus_dir = base / "corpus"
    if not (base / "corpus.done").is_file():
        write_corpus(corpus, corpus_dir)
        (base / "corpus.done").write_text(f"{len(corpus)}\n", encoding="utf-8")
    index_dir = base / f"index-{_slug(embedder_name(model))}"
    embedder = load_embedder(model)
    summary = build_index(BuildConfig(index_dir, roots=[corpus_dir], model=model, progress=True), embedder)
    if summary.skipped:
        print(f"warning: {len(summary.skipped)} benchmark documents were not indexed, "
              f"e.g. {summary.skipped[0].source}: {summary.skipped[0].reason}", file=sys.stderr)
    settings = Settings(index_dir=index_dir, corpus_dir=corpus_dir, model=model)
    service = SearchService(settings, embedder)
    service.reload()
    rrf = SearchService(settings, embedder, FusionConfig(method="rrf"))
    rrf.reload()
    return PreparedBenchmark(service, rrf, index_dir, digest, base)


def write_corpus(corpus: dict, corpus_dir: Path) -> None:
    """Write "title\\n\\ntext" files into a temporary folder, then move it into place in one rename."""
    staging = corpus_dir.with_name(corpus_dir.name + ".tmp")
    for folder in (staging, corpus_dir):
        if folder.exists():
            shutil.rmtree(folder)
    for doc_id, doc in tqdm(corpus.items(), desc="Ghi tệp benchmark", unit="tệp", file=sys.stderr):
        path = staging / doc_source(doc_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc_text(doc) + "\n", encoding="utf-8")
    staging.rename(corpus_dir)


def doc_text(doc: dict) -> str:
    """What a benchmark document becomes: its title, a blank line, its text (title first, as in a directive)."""
    title, text = doc.get("title", "").strip(), doc.get("text", "").strip()
    return f"{title}\n\n{text}" if title else text


def doc_source(doc_id: str) -> str:
    """Benchmark document id -> its file's path under the cache corpus folder (reversible).

    Each "/"-separated part is percent-quoted, and a leading dot is quoted too: the indexer skips
    hidden files (and README), and ".." must never climb out of the folder.
    """
    parts = []
    for part in doc_id.split("/"):
        quoted = quote(part, safe="-_.") or "%"
        parts.append("%2E" + quoted[1:] if quoted.startswith(".") else quoted)
    if parts[-1].lower() == "readme":  # the indexer skips README files as corpus notes
        parts[-1] = f"%{ord(parts[-1][0]):02X}{parts[-1][1:]}"
    return "/".join(parts) + ".txt"


def doc_id_of(source: str) -> str:
    """The inverse of doc_source: file path -> benchmark document id."""
    stem = source[: -len(".txt")] if source.endswith(".txt") else source
    return "/".join("" if part == "%" else unquote(part) for part in stem.split("/"))


# -- small helpers ------------------------------------------------------------------------------

def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slug(name: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in name).strip("-").lower()
