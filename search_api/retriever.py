"""Lexical (BM25, accented + folded fields), dense and hybrid retrieval over one index backend.

Each route brings its best `pool` candidates within the filters; the pool is their union, and each
candidate gets the other route's score too (rescoring by row), so fusion sees true scores for every
candidate. Hybrid fusion is a weighted sum of per-query normalized scores (BM25 divided by its best
candidate, cosine min-max scaled over the pool). Reciprocal rank fusion is kept as the measured
baseline (`FusionConfig(method="rrf")`); the eval runner compares both on the same index. Query
analysis, fusion, boosts and near-duplicate grouping live here, whatever the engine behind
`search_api.backend.Backend`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from indexer.analyze import folded, query_tokens
from indexer.embed import Embedder
from indexer.normalize import fold
from indexer.types import Chunk, Document, Filters
from search_api.backend import Backend
from search_api.query import QueryInfo

__all__ = ["Filters", "FusionConfig", "Hit", "Mode", "Retrieval", "Retriever"]

Mode = Literal["hybrid", "lexical", "dense"]


@dataclass(frozen=True)
class FusionConfig:
    method: Literal["weighted", "rrf"] = "weighted"
    alpha: float = 0.5            # weight of the dense score in the weighted sum (flat from 0.4 to 0.55 on eval/queries.jsonl)
    alpha_en: float = 0.9         # the same for English queries, where BM25 over Vietnamese text is weak
    rrf_k: int = 60
    pool: int = 100               # candidates taken from each retriever before fusion
    year_boost: float = 0.10      # the document is about the school year the query names
    number_boost: float = 0.30    # the document IS the document number the query names
    cites_boost: float = 0.30     # the passage cites that number (outweighs sharing words like "Công văn")
    type_boost: float = 0.05      # the document is of the type the query names
    dedup_jaccard: float = 0.8    # passages this similar are grouped into one result


@dataclass
class Hit:
    row: int
    score: float
    lexical: float = 0.0
    dense: float = 0.0
    also_in: list[int] = field(default_factory=list)


@dataclass
class Retrieval:
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    chunks: dict[int, Chunk] = field(default_factory=dict)        # payloads of the hits and their also_in rows
    documents: dict[str, Document] = field(default_factory=dict)  # ... and of their documents


class Retriever:
    """Ranks the passages of one index backend; cheap to build, holds no mutable state per query."""

    def __init__(self, backend: Backend, embedder: Embedder | None, fusion: FusionConfig = FusionConfig()):
        self.backend = backend
        self.embedder = embedder
        self.fusion = fusion

    # -- public -------------------------------------------------------------------------------

    def search(self, info: QueryInfo, k: int = 10, mode: Mode = "hybrid", filters: Filters = Filters()) -> Retrieval:
        if self.backend.size == 0:
            return Retrieval([], {})
        tokens = _tokens(info) if mode in ("hybrid", "lexical") else None
        vector = self._vector(info) if mode in ("hybrid", "dense") else None
        pool, lexical, dense = self._pool(tokens, vector, filters)
        fused = self._fuse(lexical, dense, self.fusion.alpha_en if info.lang == "en" else self.fusion.alpha)
        payloads = _Payloads(self.backend)
        if info.school_years or info.doc_numbers or info.doc_type:
            fused = fused + self._boosts(info, pool, payloads)
        order = pool[np.lexsort((pool, -fused))]  # score desc, row asc: deterministic ties
        ranked = order[np.asarray(self.backend.retrievable)[order]]
        at = {int(r): i for i, r in enumerate(pool.tolist())}
        hits = [Hit(r, float(fused[at[r]]), _at(lexical, at[r]), _at(dense, at[r])) for r in ranked.tolist()]
        hits = self._group(hits, k, payloads)
        return Retrieval(hits, self.backend.facets(filters), payloads.chunks, payloads.docs)

    # -- candidates ---------------------------------------------------------------------------

    def _vector(self, info: QueryInfo) -> np.ndarray:
        if self.embedder is None:
            raise RuntimeError("dense retrieval needs an embedder")
        return self.embedder.encode_queries([info.restored or info.text])[0]

    def _pool(self, tokens: tuple[list[str], list[str]] | None, vector: np.ndarray | None,
              filters: Filters) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """The union of each route's best candidates, with both routes' scores for every row of it."""
        size = self.fusion.pool
        routes = []
        if tokens is not None:
            routes.append(self.backend.lexical(*tokens, size, filters))
        if vector is not None:
            routes.append(self.backend.dense(vector, size, filters))
        pool = np.unique(np.concatenate([rows for rows, _ in routes])).astype(np.int64)
        scored = [_spread(pool, rows, scores) for rows, scores in routes]
        if tokens is not None and vector is not None:  # each route scores the other route's finds
            (lex, lex_known), (den, den_known) = scored
            lex[~lex_known] = self.backend.lexical_at(*tokens, pool[~lex_known])
            den[~den_known] = self.backend.dense_at(vector, pool[~den_known])
            return pool, lex, den
        only = scored[0][0]
        return (pool, only, None) if tokens is not None else (pool, None, only)

    # -- fusion -------------------------------------------------------------------------------

    def _fuse(self, lexical: np.ndarray | None, dense: np.ndarray | None, alpha: float) -> np.ndarray:
        size = len(lexical if lexical is not None else dense)  # type: ignore[arg-type]
        if size == 0:
            return np.zeros(0, dtype=np.float32)
        if self.fusion.method == "rrf" and lexical is not None and dense is not None:
            return _rrf(lexical, self.fusion.rrf_k) + _rrf(dense, self.fusion.rrf_k)
        total = np.zeros(size, dtype=np.float32)
        if lexical is not None:
            best = float(lexical.max())
            weight = 1.0 - alpha if dense is not None else 1.0
            total += weight * (lexical / best if best > 0 else lexical)
        if dense is not None:
            low, high = float(dense.min()), float(dense.max())
            weight = alpha if lexical is not None else 1.0
            scaled = (dense - low) / (high - low) if high > low else np.ones_like(dense)
            # min-max spreads tiny cosine gaps; keep raw cosine when used alone so scores stay meaningful
            total += weight * (scaled if lexical is not None else dense)
        return total

    def _boosts(self, info: QueryInfo, pool: np.ndarray, payloads: _Payloads) -> np.ndarray:
        boost = np.zeros(len(pool), dtype=np.float32)
        payloads.load(pool.tolist())
        numbers = [fold(n) for n in info.doc_numbers]
        years = set(info.school_years)
        doc_type = fold(info.doc_type) if info.doc_type else None
        for i, row in enumerate(pool.tolist()):
            chunk = payloads.chunks[row]
            meta = payloads.docs[chunk.doc_id].meta
            if years and years & set(meta.school_years):
                boost[i] += self.fusion.year_boost
            if numbers:
                own = fold(meta.number or "")
                text = _folded(chunk.text)
                if own and any(_code_match(n, own) for n in numbers):
                    boost[i] += self.fusion.number_boost
                if any(_code_match(n, text) for n in numbers):
                    boost[i] += self.fusion.cites_boost
            if doc_type and meta.doc_type and fold(meta.doc_type) == doc_type:
                boost[i] += self.fusion.type_boost
        return boost

    # -- grouping -----------------------------------------------------------------------------

    def _group(self, hits: list[Hit], k: int, payloads: _Payloads) -> list[Hit]:
        """Fold near-identical passages from other documents into the better-ranked one."""
        kept: list[Hit] = []
        batch = 2 * k + 10  # payloads are read a batch of ranked rows at a time, as grouping needs them
        for i, hit in enumerate(hits):
            if len(kept) >= k:
                break
            if i % batch == 0:
                payloads.load([h.row for h in hits[i : i + batch]])
            chunk = payloads.chunks[hit.row]
            twin = next((h for h in kept if self._same_passage(payloads.chunks[h.row], chunk)), None)
            if twin is None:
                kept.append(hit)
            elif chunk.doc_id != payloads.chunks[twin.row].doc_id:
                twin.also_in.append(hit.row)
        return kept

    def _same_passage(self, a: Chunk, b: Chunk) -> bool:
        sa, sb = _shingles(a.display), _shingles(b.display)
        if not sa or not sb:
            return False
        return len(sa & sb) / len(sa | sb) >= self.fusion.dedup_jaccard


class _Payloads:
    """Passages and documents of one query, read from the backend only for the rows that need them."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.chunks: dict[int, Chunk] = {}
        self.docs: dict[str, Document] = {}

    def load(self, rows: list[int]) -> None:
        missing = [r for r in rows if r not in self.chunks]
        if not missing:
            return
        found = self.backend.chunks(missing)
        self.chunks.update(found)
        wanted = {c.doc_id for c in found.values()} - self.docs.keys()
        if wanted:
            self.docs.update(self.backend.documents(wanted))


def _tokens(info: QueryInfo) -> tuple[list[str], list[str]]:
    """BM25 tokens: the accented field takes the query as typed (or restored), the folded field as typed."""
    return query_tokens(info.restored or info.text), folded(query_tokens(info.text))


def _spread(pool: np.ndarray, rows: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A route's scores laid over the pool, and which pool rows the route itself returned."""
    out = np.zeros(len(pool), dtype=np.float32)
    known = np.zeros(len(pool), dtype=bool)
    at = np.searchsorted(pool, rows)
    out[at], known[at] = scores, True
    return out, known


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    """Folded passage text, for document-number lookups; the same passages come back query after query."""
    return fold(text)


@lru_cache(maxsize=8192)
def _shingles(text: str) -> frozenset[str]:
    letters = "".join(ch for ch in fold(text) if ch.isalnum())
    return frozenset(letters[i : i + 8] for i in range(0, max(len(letters) - 7, 0)))


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def _at(scores: np.ndarray | None, i: int) -> float:
    return float(scores[i]) if scores is not None else 0.0


def _code_match(number: str, text: str) -> bool:
    """'3089/gdtrh' matches '3089/bgddt-gdtrh': the leading number and each code part must appear."""
    if number in text:
        return True
    head, _, rest = number.partition("/")
    if not head.isdigit() or head not in text:
        return False
    parts = [p for p in rest.replace("-", "/").split("/") if p]
    return all(p in text for p in parts) and f"{head}/" in text
