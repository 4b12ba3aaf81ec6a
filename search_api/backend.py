"""The one interface between shared retrieval code and an index engine.

The retriever (query analysis, fusion, boosts, grouping, facet assembly) talks to an index only
through these calls: candidates per route within a filter, the other route's scores for given
rows, payloads by row, and facet counts over a filter. Rows are the engine's integer ids.

The first implementation is `indexer.store.IndexReader` (FAISS + bm25s + SQLite on one machine). A
distributed engine (../shared/research/scale-out.md recommends Qdrant) plugs in by implementing the
same calls; the retriever does not change, so rankings stay the same across engines.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

import numpy as np

from indexer.types import Chunk, Document, Filters


class Backend(Protocol):
    size: int                    # rows in the index (chunks)
    retrievable: np.ndarray      # per row: False for rows kept for coverage but never returned (headings)

    def lexical(self, accented: Sequence[str], folded_tokens: Sequence[str], k: int,
                filters: Filters = ...) -> tuple[np.ndarray, np.ndarray]:
        """Up to k (rows, BM25 scores) within the filters, score > 0, ordered by score desc then row asc.

        The score is the sum of two BM25 fields: accented tokens and their folded twins."""
        ...

    def lexical_at(self, accented: Sequence[str], folded_tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """BM25 scores (same definition) of the given rows, 0 where no token matches."""
        ...

    def dense(self, vector: np.ndarray, k: int, filters: Filters = ...) -> tuple[np.ndarray, np.ndarray]:
        """Up to k (rows, cosine) within the filters, ordered by cosine desc then row asc."""
        ...

    def dense_at(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Exact cosine of the given rows."""
        ...

    def chunks(self, rows: Iterable[int]) -> dict[int, Chunk]:
        """The passages at the given rows."""
        ...

    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """Metadata of the given documents (their text may be left empty)."""
        ...

    def facets(self, filters: Filters = ...) -> dict[str, dict[str, int]]:
        """Documents per school year, issuer and type within the filters (each field ignoring its own)."""
        ...
