"""Scoring over loaded index arrays: BM25 from bm25s's postings, and deterministic top-k selection.

bm25s stores each field as a token-by-document CSC matrix of precomputed BM25 contributions: for a
token, `indptr` gives its slice of `indices` (document rows, ascending) and `data` (scores). A query's
scores are the sum of its tokens' slices (every occurrence of a token in the query counts, as in
bm25s). The store memory-maps those arrays; this module only reads them, so a query touches the
postings of its own tokens and nothing else. Scoring a few given rows (rescoring dense candidates)
binary-searches each token's slice instead of scanning it.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np


@lru_cache(maxsize=1)
def _accumulate() -> Callable[..., np.ndarray]:
    """bm25s's own scoring loop, compiled once per process with numba (bm25s compiles it per index)."""
    from bm25s.scoring import _compute_relevance_from_scores_jit_ready

    try:
        from numba import njit
    except ImportError:  # numba is a dependency; without it the loop still runs, slowly
        return _compute_relevance_from_scores_jit_ready
    return njit(nogil=True)(_compute_relevance_from_scores_jit_ready)


class Postings:
    """One BM25 field (a loaded bm25s.BM25, arrays memory-mapped) scored for whole queries or given rows."""

    def __init__(self, bm25: Any) -> None:
        self.vocab: dict[str, int] = bm25.vocab_dict
        # np.asarray: a plain ndarray view of the memory map (numba takes it; nothing is copied)
        self.data = np.asarray(bm25.scores["data"])
        self.indices = np.asarray(bm25.scores["indices"])
        self.indptr = np.asarray(bm25.scores["indptr"])
        self.num_docs = int(bm25.scores["num_docs"])
        self.dtype = np.dtype(bm25.dtype)

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Vocabulary ids of the tokens the field knows, repeats kept (a repeated query word counts twice)."""
        return np.asarray([self.vocab[t] for t in tokens if t in self.vocab], dtype=np.int64)

    def scores(self, tokens: Sequence[str], size: int) -> np.ndarray:
        """BM25 score of every row < size (a fresh, writable float32 array)."""
        ids = self.ids(tokens)
        if len(ids) == 0:
            return np.zeros(size, dtype=np.float32)
        out = _accumulate()(self.data, self.indptr, self.indices, self.num_docs, ids, self.dtype)
        return np.asarray(out[:size], dtype=np.float32)

    def scores_at(self, tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """BM25 scores of given rows only: each query token's postings are searched for the rows."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows), dtype=np.float32)
        if len(rows) == 0:
            return out
        for token_id in self.ids(tokens):
            start, end = int(self.indptr[token_id]), int(self.indptr[token_id + 1])
            docs = self.indices[start:end]
            at = np.searchsorted(docs, rows)
            inside = at < len(docs)
            found = np.zeros(len(rows), dtype=bool)
            found[inside] = docs[at[inside]] == rows[inside]
            out[found] += self.data[start + at[found]]
        return out

    def warm(self) -> None:
        """Compile the scoring loop now rather than inside the first search."""
        self.scores([next(iter(self.vocab), "")], 1)


def top_rows(scores: np.ndarray, k: int, positive: bool = False) -> np.ndarray:
    """Rows of the k highest scores, ordered by score desc then row asc (deterministic at every tie).

    `positive` keeps only scores > 0 (BM25: a row without any query word is not a candidate).
    """
    n = len(scores)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        edge = np.partition(scores, n - k)[n - k]   # the k-th highest value
        above = np.flatnonzero(scores > edge)
        ties = np.flatnonzero(scores == edge)[: k - len(above)]
        rows = np.concatenate([above, ties])
    else:
        rows = np.arange(n)
    if positive:
        rows = rows[scores[rows] > 0]
    return rows[np.lexsort((rows, -scores[rows]))].astype(np.int64)
