"""Scoring over loaded index arrays: BM25 from bm25s's postings, and deterministic top-k selection.

bm25s stores each field as a token-by-document CSC matrix of precomputed BM25 contributions: for a
token, `indptr` gives its slice of `indices` (document rows, ascending) and `data` (scores). A query's
scores are the sum of its tokens' slices (every occurrence of a token in the query counts, as in
bm25s). The store memory-maps those arrays; this module only reads them, so a query touches the
postings of its own tokens and nothing else. Scoring a few given rows (rescoring dense candidates)
binary-searches each token's slice instead of scanning it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np


@lru_cache(maxsize=1)
def _kernels() -> tuple[Callable[..., None], Callable[..., None]]:
    """The two postings loops, compiled once per process with numba (bm25s's own accelerator).

    `add` is bm25s's scoring loop writing into a given array, so two fields share one accumulator;
    `add_at` binary-searches each token's postings for given rows (rows ascending within a token
    are what bm25s's CSC layout guarantees)."""
    from numba import njit

    @njit(nogil=True)
    def add(out, data, indptr, indices, ids):
        for t in ids:
            for j in range(indptr[t], indptr[t + 1]):
                out[indices[j]] += data[j]

    @njit(nogil=True)
    def add_at(out, data, indptr, indices, ids, rows):
        for t in ids:
            start, end = indptr[t], indptr[t + 1]
            docs = indices[start:end]
            for j in range(len(rows)):
                at = np.searchsorted(docs, rows[j])
                if at < end - start and docs[at] == rows[j]:
                    out[j] += data[start + at]

    return add, add_at


class Postings:
    """One BM25 field (a loaded bm25s.BM25, arrays memory-mapped) scored for whole queries or given rows."""

    def __init__(self, bm25: Any) -> None:
        self.vocab: dict[str, int] = bm25.vocab_dict
        # np.asarray: a plain ndarray view of the memory map (numba takes it; nothing is copied)
        self.data = np.asarray(bm25.scores["data"])
        self.indices = np.asarray(bm25.scores["indices"])
        self.indptr = np.asarray(bm25.scores["indptr"])
        self.num_docs = int(bm25.scores["num_docs"])

    def ids(self, tokens: Sequence[str]) -> np.ndarray:
        """Vocabulary ids of the tokens the field knows, repeats kept (a repeated query word counts twice)."""
        return np.asarray([self.vocab[t] for t in tokens if t in self.vocab], dtype=np.int64)

    def add_scores(self, out: np.ndarray, tokens: Sequence[str]) -> None:
        """Add the BM25 score of every row to `out` (float32, one entry per row, rows < num_docs)."""
        ids = self.ids(tokens)
        if not len(ids) or not len(out):
            return
        if len(out) < self.num_docs:  # the loop does not check bounds
            raise ValueError(f"score array of {len(out)} rows for a field of {self.num_docs}")
        _kernels()[0](out, self.data, self.indptr, self.indices, ids)

    def scores_at(self, tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """BM25 scores of given rows only: each query token's postings are searched for the rows."""
        out = np.zeros(len(rows), dtype=np.float32)
        ids = self.ids(tokens)
        if len(ids) and len(rows):
            _kernels()[1](out, self.data, self.indptr, self.indices, ids, np.asarray(rows, dtype=np.int64))
        return out

    def warm(self) -> None:
        """Compile the loops now (about a second, once per process) rather than inside the first search."""
        first = np.zeros(1, dtype=np.int64)
        self.add_scores(np.zeros(max(1, self.num_docs), dtype=np.float32), [next(iter(self.vocab), "")])
        self.scores_at([next(iter(self.vocab), "")], first)
        top_rows(np.zeros(2, dtype=np.float32), 1)


def top_rows(scores: np.ndarray, k: int, positive: bool = False) -> np.ndarray:
    """Rows of the k highest scores, ordered by score desc then row asc (deterministic at every tie).

    `positive` keeps only scores > 0 (BM25: a row without any query word is not a candidate).
    """
    n = len(scores)
    if k <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if k < n:
        from bm25s.numba.selection import topk  # bm25s's compiled one-pass heap selection

        picked = np.asarray(topk(scores, k, backend="numba", sorted=False)[1], dtype=np.int64)
        edge = scores[picked].min()  # the heap keeps any rows at the k-th value; take the lowest ones
        above = picked[scores[picked] > edge]
        rows = np.concatenate([above, np.flatnonzero(scores == edge)[: k - len(above)]])
    else:
        rows = np.arange(n)
    if positive:
        rows = rows[scores[rows] > 0]
    return rows[np.lexsort((rows, -scores[rows]))].astype(np.int64)
