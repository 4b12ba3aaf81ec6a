"""Lexical (BM25, accented + folded fields), dense (FAISS) and hybrid retrieval over one loaded index.

Hybrid fusion is a weighted sum of per-query normalized scores (BM25 divided by its best candidate,
cosine min-max scaled over the candidate pool). Reciprocal rank fusion is kept as the measured
baseline (`FusionConfig(method="rrf")`); the eval runner compares both on the same index.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from indexer.analyze import folded, query_tokens
from indexer.embed import Embedder
from indexer.normalize import fold
from indexer.store import IndexReader
from indexer.types import Chunk, Document
from search_api.query import QueryInfo

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


@dataclass(frozen=True)
class Filters:
    school_year: str | None = None
    issuer: str | None = None
    doc_type: str | None = None
    doc_id: str | None = None

    def active(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v}


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


class Retriever:
    """Scores every chunk of one index generation; cheap to build, holds no mutable state per query."""

    def __init__(self, reader: IndexReader, embedder: Embedder | None, fusion: FusionConfig = FusionConfig()):
        self.reader = reader
        self.embedder = embedder
        self.fusion = fusion
        self.chunks: list[Chunk] = reader.chunks
        self.docs: dict[str, Document] = reader.documents
        self._vectors = np.asarray(reader.vectors(), dtype=np.float32)
        self._row_doc = [self.docs[c.doc_id] for c in self.chunks]
        self._shingles: dict[int, frozenset[str]] = {}
        self._folded: dict[int, str] = {}   # folded passage texts, filled as document numbers are looked up
        self._retrievable = np.array([c.kind != "heading" for c in self.chunks], dtype=bool)

    # -- public -------------------------------------------------------------------------------

    def search(self, info: QueryInfo, k: int = 10, mode: Mode = "hybrid", filters: Filters = Filters()) -> Retrieval:
        n = len(self.chunks)
        if n == 0:
            return Retrieval([], {})
        lexical = self.lexical_scores(info) if mode in ("hybrid", "lexical") else None
        dense = self.dense_scores(info) if mode in ("hybrid", "dense") else None
        pool = self._pool(lexical, dense)
        fused = self._fuse(pool, lexical, dense, self.fusion.alpha_en if info.lang == "en" else self.fusion.alpha)
        fused = fused + self._boosts(info, pool)
        order = pool[np.lexsort((pool, -fused))]  # score desc, row asc: deterministic ties
        score_of = dict(zip(pool.tolist(), fused.tolist()))
        facets = self._facets(order[:50])
        allowed = self._mask(filters)
        ranked = [int(r) for r in order if (allowed is None or allowed[r]) and self._retrievable[r]]
        hits = self._group([Hit(r, score_of[r], _at(lexical, r), _at(dense, r)) for r in ranked], k)
        return Retrieval(hits, facets)

    def lexical_scores(self, info: QueryInfo) -> np.ndarray:
        """BM25 over the accented field (query as typed, or restored) plus the folded field."""
        n = len(self.chunks)
        accented_query = info.restored or info.text
        accented = self.reader.bm25_accented.get_scores(query_tokens(accented_query))[:n]
        folded_scores = self.reader.bm25_folded.get_scores(folded(query_tokens(info.text)))[:n]
        return np.asarray(accented, dtype=np.float32) + np.asarray(folded_scores, dtype=np.float32)

    def dense_scores(self, info: QueryInfo) -> np.ndarray:
        """Cosine similarity of every chunk (FAISS top pool exact; the rest from the same vectors)."""
        if self.embedder is None:
            raise RuntimeError("dense retrieval needs an embedder")
        vector = self.embedder.encode_queries([info.restored or info.text])
        scores = self._vectors @ vector[0]
        top_scores, top_rows = self.reader.dense_search(vector, self.fusion.pool)
        keep = top_rows[0] >= 0
        scores[top_rows[0][keep]] = top_scores[0][keep]  # FAISS is the source of truth for its pool
        return scores

    # -- fusion -------------------------------------------------------------------------------

    def _pool(self, lexical: np.ndarray | None, dense: np.ndarray | None) -> np.ndarray:
        size = self.fusion.pool
        parts = []
        if lexical is not None:
            top = _top(lexical, size)
            parts.append(top[lexical[top] > 0])
        if dense is not None:
            parts.append(_top(dense, size))
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def _fuse(self, pool: np.ndarray, lexical: np.ndarray | None, dense: np.ndarray | None,
              alpha: float) -> np.ndarray:
        if len(pool) == 0:
            return np.zeros(0, dtype=np.float32)
        if self.fusion.method == "rrf" and lexical is not None and dense is not None:
            return _rrf(lexical[pool], self.fusion.rrf_k) + _rrf(dense[pool], self.fusion.rrf_k)
        total = np.zeros(len(pool), dtype=np.float32)
        if lexical is not None:
            lex = lexical[pool]
            best = float(lex.max())
            weight = 1.0 - alpha if dense is not None else 1.0
            total += weight * (lex / best if best > 0 else lex)
        if dense is not None:
            den = dense[pool]
            low, high = float(den.min()), float(den.max())
            weight = alpha if lexical is not None else 1.0
            scaled = (den - low) / (high - low) if high > low else np.ones_like(den)
            # min-max spreads tiny cosine gaps; keep raw cosine when used alone so scores stay meaningful
            total += weight * (scaled if lexical is not None else den)
        return total

    def _boosts(self, info: QueryInfo, pool: np.ndarray) -> np.ndarray:
        boost = np.zeros(len(pool), dtype=np.float32)
        numbers = [fold(n) for n in info.doc_numbers]
        years = set(info.school_years)
        doc_type = fold(info.doc_type) if info.doc_type else None
        for i, row in enumerate(pool.tolist()):
            meta = self._row_doc[row].meta
            if years and years & set(meta.school_years):
                boost[i] += self.fusion.year_boost
            if numbers:
                own = fold(meta.number or "")
                text = self._folded_text(row)
                if own and any(_code_match(n, own) for n in numbers):
                    boost[i] += self.fusion.number_boost
                if any(_code_match(n, text) for n in numbers):
                    boost[i] += self.fusion.cites_boost
            if doc_type and meta.doc_type and fold(meta.doc_type) == doc_type:
                boost[i] += self.fusion.type_boost
        return boost

    # -- filters, facets, grouping ---------------------------------------------------------------

    def _mask(self, filters: Filters) -> np.ndarray | None:
        if not filters.active():
            return None
        wanted_issuer = fold(filters.issuer) if filters.issuer else None
        wanted_type = fold(filters.doc_type) if filters.doc_type else None
        ok_docs = set()
        for doc in self.docs.values():
            meta = doc.meta
            if filters.school_year and filters.school_year not in meta.school_years:
                continue
            if wanted_issuer and wanted_issuer not in fold(meta.issuer or ""):
                continue
            if wanted_type and wanted_type != fold(meta.doc_type or ""):
                continue
            if filters.doc_id and filters.doc_id != doc.doc_id:
                continue
            ok_docs.add(doc.doc_id)
        return np.fromiter((c.doc_id in ok_docs for c in self.chunks), dtype=bool, count=len(self.chunks))

    def _facets(self, rows: np.ndarray) -> dict[str, dict[str, int]]:
        """Counts of the best candidates per school year, issuer and type (before filters apply)."""
        facets: dict[str, dict[str, int]] = {"school_year": {}, "issuer": {}, "doc_type": {}}
        for row in rows.tolist():
            meta = self._row_doc[row].meta
            for year in meta.school_years:
                facets["school_year"][year] = facets["school_year"].get(year, 0) + 1
            for key, value in (("issuer", meta.issuer), ("doc_type", meta.doc_type)):
                if value:
                    facets[key][value] = facets[key].get(value, 0) + 1
        return facets

    def _group(self, hits: list[Hit], k: int) -> list[Hit]:
        """Fold near-identical passages from other documents into the better-ranked one."""
        kept: list[Hit] = []
        for hit in hits:
            if len(kept) >= k:
                break
            twin = next((h for h in kept if self._same_passage(h.row, hit.row)), None)
            if twin is None:
                kept.append(hit)
            elif self.chunks[hit.row].doc_id != self.chunks[twin.row].doc_id:
                twin.also_in.append(hit.row)
        return kept

    def _same_passage(self, a: int, b: int) -> bool:
        sa, sb = self._shingle(a), self._shingle(b)
        if not sa or not sb:
            return False
        return len(sa & sb) / len(sa | sb) >= self.fusion.dedup_jaccard

    def _folded_text(self, row: int) -> str:
        cached = self._folded.get(row)
        if cached is None:
            cached = self._folded[row] = fold(self.chunks[row].text)
        return cached

    def _shingle(self, row: int) -> frozenset[str]:
        cached = self._shingles.get(row)
        if cached is None:
            letters = "".join(ch for ch in fold(self.chunks[row].display) if ch.isalnum())
            cached = frozenset(letters[i : i + 8] for i in range(0, max(len(letters) - 7, 0)))
            self._shingles[row] = cached
        return cached


def _top(scores: np.ndarray, size: int) -> np.ndarray:
    if len(scores) <= size:
        return np.arange(len(scores))
    return np.argpartition(-scores, size - 1)[:size]


def _rrf(scores: np.ndarray, k: int) -> np.ndarray:
    ranks = np.empty(len(scores), dtype=np.float32)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, len(scores) + 1)
    return 1.0 / (k + ranks)


def _at(scores: np.ndarray | None, row: int) -> float:
    return float(scores[row]) if scores is not None else 0.0


def _code_match(number: str, text: str) -> bool:
    """'3089/gdtrh' matches '3089/bgddt-gdtrh': the leading number and each code part must appear."""
    if number in text:
        return True
    head, _, rest = number.partition("/")
    if not head.isdigit() or head not in text:
        return False
    parts = [p for p in rest.replace("-", "/").split("/") if p]
    return all(p in text for p in parts) and f"{head}/" in text
