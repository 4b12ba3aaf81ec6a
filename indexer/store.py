"""THE on-disk index format: the only module that writes or reads index files, and the only faiss importer.

An index folder holds generations and a pointer:

    INDEX/CURRENT                 -> "gen-20261122T190501-1234"  (replaced atomically with os.replace)
    INDEX/gen-.../manifest.json   format version, embedder, normalizer/analyzer versions, files, counts
    INDEX/gen-.../docs.sqlite     documents (doc_row) and chunks (row i <-> vector i <-> BM25 doc i)
    INDEX/gen-.../vectors.npy     float32 embeddings: memory-mapped for exact scores, reused by incremental builds
    INDEX/gen-.../vectors.faiss   the FAISS index that picks dense candidates (exact or IVF, see FAISS_TYPES)
    INDEX/gen-.../chunk_doc.npy, retrievable.npy   per chunk row: its document row, and "not a heading"
    INDEX/gen-.../bm25_accented/, bm25_folded/     bm25s indexes (with and without diacritics), memory-mapped
    INDEX/gen-.../<name>.json     auxiliary models (e.g. the diacritic restorer)

A build writes a complete new generation beside the old one and only then moves the pointer, so a
run killed at any moment leaves the previous generation untouched and in use. A loaded generation is
the local retrieval backend (search_api.backend): texts and metadata stay in SQLite and are read per
query, postings and vectors are memory-mapped, and only FAISS and the metadata columns sit in memory.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from indexer import ranking, records
from indexer.columns import DocColumns
from indexer.errors import IndexMismatch, IndexMissing, TracuuError
from indexer.types import Chunk, Document, Filters

FORMAT_VERSION = 2           # 2: doc rows, metadata columns, per-chunk arrays, IVF; memory-mapped reads
FAISS_TYPES = ("auto", "flat", "ivf", "hnsw")
# "auto" is exact (IndexFlatIP) below this many chunks and IVF at or above it. Measured on the 2-core
# machine (one thread, loaded): exact search 1.5 ms at 10k vectors, 15 ms at 20k (past the CPU cache),
# 69 ms at 100k; IVF 0.3-0.7 ms at every size. Recall@10 of IVF is in the bench-scale table.
ANN_MIN_CHUNKS = 20_000
IVF_NPROBE = 24              # lists searched per query; recall@10 after exact rescoring is in the bench table
ANN_OVERFETCH = 2            # an ANN route asks FAISS for twice the candidates and keeps the exact best
EXACT_FILTER_ROWS = 4096     # a filter this narrow is scored exactly from the vectors, whatever the index type
RECENT_ROWS = 20_000         # decoded passages (and documents) kept for the next queries: ~10-30 MB
_POINTER = "CURRENT"
_SQL_BATCH = 900             # ids per "IN (...)" (below SQLite's smallest variable limit)


@dataclass
class Manifest:
    embedder: str
    dim: int
    normalizer_version: str
    analyzer_version: str
    pipeline_version: str = ""
    faiss_type: str = "flat"
    roots: list[str] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)  # source -> {sha256, doc_id}
    documents: int = 0
    chunks: int = 0
    format_version: int = FORMAT_VERSION
    built_at: str = ""
    build_seconds: float = 0.0


@dataclass
class IndexData:
    """Everything a build produces; rows of `chunks`, `vectors` and both token fields are aligned."""

    documents: list[Document]
    chunks: list[Chunk]
    vectors: np.ndarray
    tokens: list[list[str]]             # the accented BM25 field (indexer.analyze)
    folded_tokens: list[list[str]]      # the diacritic-free BM25 field (indexer.analyze)
    aux: dict[str, Any] = field(default_factory=dict)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (a second `tracuu index` fails fast instead of racing)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise TracuuError(f"{index_dir}: another build is running on this index; wait for it") from None
        yield


def faiss_kind(requested: str, chunks: int) -> str:
    """The vector index a build of `chunks` rows gets: "auto" picks exact or IVF by size."""
    if requested not in FAISS_TYPES:
        raise TracuuError(f"unknown faiss index type {requested!r} (choose from {', '.join(FAISS_TYPES)})")
    if requested == "auto":
        return "ivf" if chunks >= ANN_MIN_CHUNKS else "flat"
    return requested if chunks or requested != "ivf" else "flat"  # IVF cannot train on nothing


def write_index(index_dir: Path, data: IndexData, manifest: Manifest) -> Path:
    """Write a complete generation, then atomically point CURRENT at it; returns the generation path."""
    if not len(data.chunks) == len(data.tokens) == len(data.folded_tokens):
        raise TracuuError(f"{len(data.chunks)} chunks but {len(data.tokens)} accented and "
                          f"{len(data.folded_tokens)} folded token lists: the fields must be aligned")
    index_dir.mkdir(parents=True, exist_ok=True)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    partial = index_dir / f"{name}.partial"
    partial.mkdir()
    manifest.documents, manifest.chunks = len(data.documents), len(data.chunks)
    manifest.faiss_type = faiss_kind(manifest.faiss_type, len(data.chunks))
    manifest.built_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    doc_rows = _write_sqlite(partial / "docs.sqlite", data)
    np.save(partial / "chunk_doc.npy", np.asarray([doc_rows[c.doc_id] for c in data.chunks], dtype=np.int32))
    np.save(partial / "retrievable.npy", np.asarray([c.kind != "heading" for c in data.chunks], dtype=bool))
    vectors = np.ascontiguousarray(data.vectors, dtype=np.float32).reshape(len(data.chunks), manifest.dim)
    np.save(partial / "vectors.npy", vectors)
    _write_faiss(partial / "vectors.faiss", vectors, manifest.faiss_type)
    _write_bm25(partial / "bm25_accented", data.tokens)
    _write_bm25(partial / "bm25_folded", data.folded_tokens)
    for aux_name, payload in data.aux.items():
        (partial / f"{aux_name}.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    (partial / "manifest.json").write_text(
        json.dumps(dataclasses.asdict(manifest), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    _fsync_tree(partial)
    final = index_dir / name
    partial.rename(final)
    pointer_tmp = index_dir / f"{_POINTER}.tmp"
    pointer_tmp.write_text(name, encoding="utf-8")
    with open(pointer_tmp, "rb+") as handle:
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / _POINTER)
    _remove_stale(index_dir, keep=name)
    return final


def current_generation(index_dir: Path) -> Path | None:
    pointer = index_dir / _POINTER
    if not pointer.is_file():
        return None
    generation = index_dir / pointer.read_text(encoding="utf-8").strip()
    return generation if (generation / "manifest.json").is_file() else None


def read_manifest(index_dir: Path, generation: Path | None = None) -> Manifest | None:
    """The manifest of `generation` (default: the current one), checked to be of this tracuu's format."""
    generation = generation or current_generation(index_dir)
    if generation is None:
        return None
    raw = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"{index_dir}: index format {raw.get('format_version')} but this tracuu reads {FORMAT_VERSION}; "
            f"rebuild it with `tracuu index --rebuild --index {index_dir}`"
        )
    return Manifest(**raw)


class _Within(NamedTuple):
    """The rows a filter keeps: as a mask (BM25), a count (FAISS effort) and packed bits (FAISS selector)."""

    mask: np.ndarray
    count: int  # type: ignore[assignment]  # a field named like tuple.count: fine at runtime
    bits: np.ndarray


class IndexReader:
    """A loaded generation, and the local retrieval backend (the search_api.backend.Backend protocol).

    In memory: the FAISS index and the metadata columns. Memory-mapped: vectors, BM25 postings and the
    per-chunk arrays. Read per query from SQLite: passages and document metadata.
    """

    def __init__(self, index_dir: Path, expected_embedder: str | None = None) -> None:
        import faiss

        generation = current_generation(index_dir)  # read once: a concurrent swap cannot mix generations
        if generation is None:
            raise IndexMissing(f"no index at {index_dir}; build one with `tracuu index --index {index_dir}`")
        self.path = generation
        manifest = read_manifest(index_dir, generation)
        assert manifest is not None  # current_generation() just found it
        if expected_embedder and manifest.embedder != expected_embedder:
            raise IndexMismatch(
                f"{index_dir} was built with embedder {manifest.embedder!r}, not {expected_embedder!r}; "
                f"search it with --model {manifest.embedder} or rebuild it with "
                f"`tracuu index --rebuild --model {expected_embedder}`"
            )
        self.manifest = manifest
        self.size = manifest.chunks
        self.faiss_index = faiss.read_index(str(generation / "vectors.faiss"))
        if manifest.faiss_type == "ivf":
            faiss.extract_index_ivf(self.faiss_index).nprobe = IVF_NPROBE
        self._vectors = np.load(generation / "vectors.npy", mmap_mode="r")
        self._chunk_doc = np.load(generation / "chunk_doc.npy", mmap_mode="r")
        self.retrievable = np.load(generation / "retrievable.npy", mmap_mode="r")
        self._bm25 = [ranking.Postings(_load_bm25(generation / name)) for name in ("bm25_accented", "bm25_folded")]
        self._bm25[0].warm()
        self._db = sqlite3.connect(f"file:{generation / 'docs.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        self._db_lock = threading.Lock()
        self.columns = DocColumns(self._sql("SELECT issuer, doc_type, date, school_years FROM documents "
                                            "ORDER BY doc_row"))
        self._allowed = lru_cache(maxsize=16)(self._allowed_rows)
        self._recent_chunks: records.RecentRows[int, Chunk] = records.RecentRows(RECENT_ROWS)
        self._recent_docs: records.RecentRows[str, Document] = records.RecentRows(RECENT_ROWS)

    # -- retrieval (the Backend protocol) ----------------------------------------------------------

    def lexical(self, accented: Sequence[str], folded_tokens: Sequence[str], k: int,
                filters: Filters = Filters()) -> tuple[np.ndarray, np.ndarray]:
        """The k best BM25 rows (accented + folded fields) within the filters, score > 0, best first."""
        scores = np.zeros(self.size, dtype=np.float32)
        self._bm25[0].add_scores(scores, accented)
        self._bm25[1].add_scores(scores, folded_tokens)
        within = self._allowed(filters)
        if within is not None:
            scores *= within.mask
        rows = ranking.top_rows(scores, k, positive=True)
        return rows, scores[rows]

    def lexical_at(self, accented: Sequence[str], folded_tokens: Sequence[str], rows: np.ndarray) -> np.ndarray:
        """BM25 scores of given rows (looked up in the postings, no full scan)."""
        return self._bm25[0].scores_at(accented, rows) + self._bm25[1].scores_at(folded_tokens, rows)

    def dense(self, vector: np.ndarray, k: int, filters: Filters = Filters()) -> tuple[np.ndarray, np.ndarray]:
        """The k rows of highest cosine within the filters, best first: FAISS picks, the vectors score."""
        within = self._allowed(filters)
        count = self.size if within is None else within.count
        if count == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if within is not None and count <= max(EXACT_FILTER_ROWS, k * ANN_OVERFETCH):
            rows = np.flatnonzero(within.mask)  # as few rows as FAISS would return: score them all exactly
        else:
            rows = self._faiss_rows(vector, k, within)
        scores = self.dense_at(vector, rows)
        order = np.lexsort((rows, -scores))[:k]
        return rows[order], scores[order]

    def dense_at(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of given rows, from the memory-mapped vectors (exact whatever the FAISS index type)."""
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.zeros(0, dtype=np.float32)
        return (np.asarray(self._vectors[rows]) @ np.asarray(vector, dtype=np.float32).reshape(-1)).astype(np.float32)

    def facets(self, filters: Filters = Filters()) -> dict[str, dict[str, int]]:
        """Documents per school year, issuer and type within the filters (see DocColumns.facets)."""
        return self.columns.facets(filters, self._doc_row(filters.doc_id))

    # -- payloads ----------------------------------------------------------------------------------

    def chunks(self, rows: Iterable[int]) -> dict[int, Chunk]:
        """The passages at given rows."""
        return self._recent_chunks.fetch((int(r) for r in rows), self._read_chunks)

    def documents(self, doc_ids: Iterable[str]) -> dict[str, Document]:
        """Metadata of given documents (not their text, outline or pages: see `document`)."""
        return self._recent_docs.fetch(doc_ids, self._read_documents)

    def list_documents(self) -> list[Document]:
        """Every document's metadata, by source."""
        return [records.document_from_row(row) for row in self._sql(f"{records.DOC_META_SELECT} ORDER BY source")]

    def document(self, doc_id: str) -> Document | None:
        """The full document, including its normalized text."""
        rows = self._sql(records.DOC_SELECT_FULL + " WHERE doc_id = ?", (doc_id,))
        return records.document_from_row(rows[0]) if rows else None

    def iter_chunks(self) -> Iterator[Chunk]:
        """Every passage in row order, streamed (tools, eval and tests; the query path reads by row)."""
        for start in range(0, self.size, 10_000):
            found = self.chunks(range(start, min(start + 10_000, self.size)))
            yield from (found[r] for r in sorted(found))

    def doc_chunks(self, doc_id: str) -> tuple[list[int], list[Chunk], list[list[str]]]:
        """Rows, passages and BM25 tokens of one document (an incremental build carries them over)."""
        query = f"SELECT row, tokens, {records.CHUNK_COLUMNS} FROM chunks WHERE doc_id = ? ORDER BY row"
        found = self._sql(query, (doc_id,))
        return [r[0] for r in found], [records.chunk_from_row(r[2:]) for r in found], [json.loads(r[1]) for r in found]

    def first_chunks(self, doc_id: str, n: int) -> list[Chunk]:
        """A document's first `n` passages, in order (its header)."""
        rows = [r for r, in self._sql("SELECT row FROM chunks WHERE doc_id = ? ORDER BY ordinal LIMIT ?", (doc_id, n))]
        found = self.chunks(rows)
        return [found[r] for r in rows]

    def last_chunks_with(self, doc_id: str, needles: Sequence[str], n: int) -> list[Chunk]:
        """A document's last `n` passages holding any of `needles` (as written), in order."""
        holds = " OR ".join("instr(text, ?) > 0" for _ in needles)
        rows = [r for r, in self._sql(f"SELECT row FROM chunks WHERE doc_id = ? AND ({holds}) ORDER BY ordinal DESC "
                                      "LIMIT ?", (doc_id, *needles, n))][::-1]
        found = self.chunks(rows)
        return [found[r] for r in rows]

    def vectors(self) -> np.ndarray:
        return self._vectors

    def aux(self, name: str) -> Any | None:
        path = self.path / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def close(self) -> None:
        self._db.close()

    # -- internals ---------------------------------------------------------------------------------

    def _sql(self, query: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._db_lock:  # one connection shared by the server's threads
            return self._db.execute(query, args).fetchall()

    def _read_chunks(self, rows: list[int]) -> dict[int, Chunk]:
        out = {}
        for batch in _batches(sorted(rows)):
            marks = ",".join("?" * len(batch))
            for row in self._sql(f"{records.CHUNK_SELECT} WHERE row IN ({marks})", batch):
                out[row[0]] = records.chunk_from_row(row[1:])
        return out

    def _read_documents(self, doc_ids: list[str]) -> dict[str, Document]:
        out = {}
        for batch in _batches(sorted(doc_ids)):
            marks = ",".join("?" * len(batch))
            for row in self._sql(f"{records.DOC_META_SELECT} WHERE doc_id IN ({marks})", batch):
                out[row[0]] = records.document_from_row(row)
        return out

    def _doc_row(self, doc_id: str | None) -> int | None:
        if not doc_id:
            return None
        found = self._sql("SELECT doc_row FROM documents WHERE doc_id = ?", (doc_id,))
        return found[0][0] if found else -1

    def _allowed_rows(self, filters: Filters) -> _Within | None:
        """Chunk rows within the filters (None: all), cached per filter value for repeated searches."""
        docs = self.columns.mask(filters, self._doc_row(filters.doc_id))
        if docs is None:
            return None
        mask = docs[self._chunk_doc]
        mask.flags.writeable = False
        return _Within(mask, int(np.count_nonzero(mask)), np.packbits(mask, bitorder="little"))

    def _faiss_rows(self, vector: np.ndarray, k: int, within: _Within | None) -> np.ndarray:
        """Candidate rows from FAISS, kept within a filter by a bitmap selector."""
        import faiss

        kind = self.manifest.faiss_type
        count = self.size if within is None else within.count
        fetch = min(count, k * (ANN_OVERFETCH if kind != "flat" else 1))
        # One query gains nothing from OpenMP threads, and on a busy machine their barriers cost 10x
        # (measured: exact search of 10k vectors 14 ms with 2 threads, 1.5 ms with 1). Per calling thread.
        faiss.omp_set_num_threads(1)
        query = np.ascontiguousarray(np.asarray(vector, dtype=np.float32).reshape(1, -1))
        if within is None:
            _, found = self.faiss_index.search(query, fetch)
        else:
            selector = faiss.IDSelectorBitmap(len(within.mask), faiss.swig_ptr(within.bits))
            params: faiss.SearchParameters
            if kind == "ivf":
                # a filter keeping a share s of the rows probes 1/s times more lists, so about as many
                # allowed vectors are compared as an unfiltered search compares: exact at the limit
                ivf = faiss.extract_index_ivf(self.faiss_index)
                probes = min(ivf.nlist, int(np.ceil(IVF_NPROBE * self.size / count)))
                # faiss 1.15's stubs lack the keyword arguments faiss accepts and SearchParametersHNSW
                params = faiss.SearchParametersIVF(sel=selector, nprobe=probes)  # type: ignore[call-arg, unused-ignore]
            elif kind == "hnsw":
                params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined, unused-ignore]
                    sel=selector, efSearch=min(2048, int(64 * self.size / count)))
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg, unused-ignore]
            _, found = self.faiss_index.search(query, fetch, params=params)
        found = found[0]
        return found[found >= 0].astype(np.int64)


# --- writing helpers -------------------------------------------------------------------------

def _write_sqlite(path: Path, data: IndexData) -> dict[str, int]:
    """Documents and chunks into SQLite; returns each document's row."""
    doc_rows = {d.doc_id: i for i, d in enumerate(data.documents)}
    db = sqlite3.connect(path)
    try:
        db.executescript(records.SCHEMA)
        db.executemany(records.DOC_INSERT, (records.document_row(i, d) for i, d in enumerate(data.documents)))
        pairs = enumerate(zip(data.chunks, data.tokens, strict=True))
        db.executemany(records.CHUNK_INSERT, (records.chunk_row(i, c, doc_rows[c.doc_id], t) for i, (c, t) in pairs))
        db.commit()
    finally:
        db.close()
    return doc_rows


def _write_faiss(path: Path, vectors: np.ndarray, faiss_type: str) -> None:
    import faiss

    dim = vectors.shape[1]
    index: faiss.Index
    if faiss_type == "flat":
        index = faiss.IndexFlatIP(dim)
    elif faiss_type == "ivf":
        # IVF with 8-bit scalar codes: a quarter of the float vectors in memory; candidates are
        # rescored exactly from vectors.npy, so the codes only choose, they never score
        lists = int(np.clip(round(np.sqrt(len(vectors))), 1, 4096))
        lists = max(1, min(lists, len(vectors) // 39))  # FAISS wants ~39 training points per list
        index = faiss.index_factory(dim, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
        step = max(1, len(vectors) // (lists * 40))  # ~40 training points per list, spread over the rows
        index.train(np.ascontiguousarray(vectors[::step]))
    elif faiss_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        raise TracuuError(f"unknown faiss index type {faiss_type!r} (choose from {', '.join(FAISS_TYPES)})")
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(path))


def _write_bm25(path: Path, tokens: Iterable[list[str]]) -> None:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG to the root handler

    retriever = bm25s.BM25(k1=1.2, b=0.75)
    corpus = list(tokens)
    # An empty corpus still gets a valid index: one empty pseudo-document is never returned
    # because the reader only maps rows < len(chunks).
    retriever.index(corpus if corpus else [[""]], show_progress=False)
    retriever.save(str(path))


def _load_bm25(path: Path) -> Any:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s.BM25.load(str(path), mmap=True)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _remove_stale(index_dir: Path, keep: str) -> None:
    """Drop older generations and leftovers of killed builds (readers hold their files open)."""
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith("gen-") and path.name != keep:
            shutil.rmtree(path, ignore_errors=True)


def _batches(values: list, size: int = _SQL_BATCH) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]
