"""THE on-disk index format: the only module that writes or reads index files, and the only faiss importer.

An index folder holds generations and a pointer:

    INDEX/CURRENT              -> "gen-20261122T190501-1234"  (replaced atomically with os.replace)
    INDEX/gen-.../manifest.json   format version, embedder, normalizer/analyzer versions, files, counts
    INDEX/gen-.../docs.sqlite     documents and chunks (chunk row i <-> vector i <-> BM25 doc i)
    INDEX/gen-.../vectors.npy     float32 embeddings, kept so incremental builds reuse them
    INDEX/gen-.../vectors.faiss   the FAISS index built from them
    INDEX/gen-.../bm25_accented/, bm25_folded/   bm25s indexes (with and without diacritics)
    INDEX/gen-.../<name>.json     auxiliary models (e.g. the diacritic restorer)

A build writes a complete new generation beside the old one and only then moves the pointer, so a
run killed at any moment leaves the previous generation untouched and in use.
"""
from __future__ import annotations

import dataclasses
import fcntl
import json
import logging
import os
import shutil
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from indexer.errors import IndexMismatch, IndexMissing, TracuuError
from indexer.types import Chunk, DocMeta, Document, Footnote, Section, TableRow

FORMAT_VERSION = 1
FAISS_TYPES = ("flat", "hnsw")
_POINTER = "CURRENT"


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
    manifest.built_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _write_sqlite(partial / "docs.sqlite", data)
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


def read_manifest(index_dir: Path) -> Manifest | None:
    generation = current_generation(index_dir)
    if generation is None:
        return None
    raw = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    if raw.get("format_version") != FORMAT_VERSION:
        raise IndexMismatch(
            f"{index_dir}: index format {raw.get('format_version')} but this tracuu reads {FORMAT_VERSION}; "
            f"rebuild it with `tracuu index --rebuild --index {index_dir}`"
        )
    return Manifest(**raw)


class IndexReader:
    """A loaded generation: FAISS + both BM25 fields in memory, chunks in memory, texts in SQLite."""

    def __init__(self, index_dir: Path, expected_embedder: str | None = None) -> None:
        import bm25s
        import faiss

        generation = current_generation(index_dir)
        if generation is None:
            raise IndexMissing(f"no index at {index_dir}; build one with `tracuu index --index {index_dir}`")
        self.path = generation
        manifest = read_manifest(index_dir)
        assert manifest is not None  # current_generation() just found it
        if expected_embedder and manifest.embedder != expected_embedder:
            raise IndexMismatch(
                f"{index_dir} was built with embedder {manifest.embedder!r}, not {expected_embedder!r}; "
                f"search it with --model {manifest.embedder} or rebuild it with "
                f"`tracuu index --rebuild --model {expected_embedder}`"
            )
        self.manifest = manifest
        self.faiss_index = faiss.read_index(str(generation / "vectors.faiss"))
        self.bm25_accented = bm25s.BM25.load(str(generation / "bm25_accented"))
        self.bm25_folded = bm25s.BM25.load(str(generation / "bm25_folded"))
        self._db = sqlite3.connect(f"file:{generation / 'docs.sqlite'}?mode=ro", uri=True, check_same_thread=False)
        self.chunks: list[Chunk] = [_chunk_from_row(row) for row in self._db.execute(_CHUNK_SELECT)]
        self.documents: dict[str, Document] = {
            d.doc_id: d for d in (_document_from_row(row, with_text=False) for row in self._db.execute(_DOC_SELECT))
        }

    def dense_search(self, query_vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Inner-product (cosine, vectors are unit length) top-k: (scores, row ids), -1 where fewer."""
        k = max(1, min(k, len(self.chunks)))
        return self.faiss_index.search(np.ascontiguousarray(query_vectors, dtype=np.float32), k)

    def document(self, doc_id: str) -> Document | None:
        """The full document, including its normalized text."""
        row = self._db.execute(_DOC_SELECT_FULL + " WHERE doc_id = ?", (doc_id,)).fetchone()
        return _document_from_row(row, with_text=True) if row else None

    def vectors(self) -> np.ndarray:
        return np.load(self.path / "vectors.npy", mmap_mode="r")

    def tokens(self) -> list[list[str]]:
        return [json.loads(row[0]) for row in self._db.execute("SELECT tokens FROM chunks ORDER BY row")]

    def aux(self, name: str) -> Any | None:
        path = self.path / f"{name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def close(self) -> None:
        self._db.close()


# --- writing helpers -------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, source TEXT UNIQUE, sha256 TEXT, text TEXT, meta TEXT,
                        sections TEXT, tables TEXT, footnotes TEXT, pages TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc_id TEXT, ordinal INTEGER,
                     section TEXT, start INTEGER, "end" INTEGER, page INTEGER, text TEXT, kind TEXT,
                     rendered TEXT, context TEXT, tokens TEXT);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""
_DOC_SELECT = "SELECT doc_id, source, sha256, meta, sections, tables, footnotes, pages FROM documents ORDER BY source"
_DOC_SELECT_FULL = "SELECT doc_id, source, sha256, meta, sections, tables, footnotes, pages, text FROM documents"
_CHUNK_SELECT = (
    'SELECT chunk_id, doc_id, ordinal, section, start, "end", page, text, kind, rendered, context '
    "FROM chunks ORDER BY row"
)


def _write_sqlite(path: Path, data: IndexData) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(_SCHEMA)
        db.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (d.doc_id, d.source, d.sha256, d.text, _dump(d.meta), _dump(d.sections), _dump(d.tables),
                 _dump(d.footnotes), json.dumps(d.pages))
                for d in data.documents
            ],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [
                (i, c.chunk_id, c.doc_id, c.ordinal, c.section, c.start, c.end, c.page, c.text, c.kind,
                 c.rendered, c.context, json.dumps(tokens, ensure_ascii=False))
                for i, (c, tokens) in enumerate(zip(data.chunks, data.tokens, strict=True))
            ],
        )
        db.commit()
    finally:
        db.close()


def _write_faiss(path: Path, vectors: np.ndarray, faiss_type: str) -> None:
    import faiss

    dim = vectors.shape[1]
    if faiss_type == "flat":
        index = faiss.IndexFlatIP(dim)  # exact: the default, fine up to ~10^5 chunks on a laptop
    elif faiss_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
    else:
        raise TracuuError(f"unknown faiss index type {faiss_type!r} (choose from {', '.join(FAISS_TYPES)})")
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(path))


def _write_bm25(path: Path, tokens: list[list[str]]) -> None:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every build at DEBUG to the root handler

    retriever = bm25s.BM25(k1=1.2, b=0.75)
    # An empty corpus still gets a valid index: one empty pseudo-document is never returned
    # because the reader only maps rows < len(chunks).
    retriever.index(tokens if tokens else [[""]], show_progress=False)
    retriever.save(str(path))


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


def _dump(value: Any) -> str:
    if dataclasses.is_dataclass(value):
        return json.dumps(dataclasses.asdict(value), ensure_ascii=False)
    return json.dumps([dataclasses.asdict(v) for v in value], ensure_ascii=False)


# --- reading helpers -------------------------------------------------------------------------


def _chunk_from_row(row: tuple) -> Chunk:
    chunk_id, doc_id, ordinal, section, start, end, page, text, kind, rendered, context = row
    return Chunk(chunk_id, doc_id, ordinal, section, start, end, page, text, kind, rendered, context)


def _document_from_row(row: tuple, with_text: bool) -> Document:
    doc_id, source, sha256, meta, sections, tables, footnotes, pages = row[:8]
    meta_raw = json.loads(meta)
    meta_raw["school_years"] = tuple(meta_raw.get("school_years") or ())
    meta_raw["references"] = tuple(meta_raw.get("references") or ())
    meta_raw["ocr"] = tuple((page, conf) for page, conf in meta_raw.get("ocr") or ())
    return Document(
        doc_id=doc_id,
        source=source,
        sha256=sha256,
        text=row[8] if with_text else "",
        meta=DocMeta(**meta_raw),
        sections=tuple(Section(**{**s, "path": tuple(s["path"])}) for s in json.loads(sections)),
        tables=tuple(TableRow(**{**t, "cells": tuple(tuple(c) for c in t["cells"])}) for t in json.loads(tables)),
        footnotes=tuple(Footnote(**f) for f in json.loads(footnotes)),
        pages=tuple(tuple(p) for p in json.loads(pages)),
    )
