"""Incremental build: scan files, reuse what is unchanged, process the rest, write a new generation."""
from __future__ import annotations

import hashlib
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from indexer import store
from indexer.analyze import ANALYZER_VERSION, document_tokens, folded
from indexer.chunking import chunk_document
from indexer.diacritics import train_restorer
from indexer.embed import DEFAULT_MODEL, Embedder, embedder_name, load_embedder
from indexer.errors import IndexMismatch, LoadError, TracuuError
from indexer.loaders import SUPPORTED_EXTENSIONS, load_file
from indexer.normalize import NORMALIZER_VERSION, normalize_text
from indexer.structure import parse_document
from indexer.types import BuildSummary, Chunk, Document, FileWarning, LoadedFile, SkippedFile

# Bump when structure parsing, chunking or embedding text changes, so every file is reprocessed
# (the normalizer and the analyzer carry versions of their own).
PIPELINE_VERSION = "8"        # 8: one titled view per passage; OCR of scanned pages; the vocabulary owner's metadata
CHUNK_TOKENS = 220           # e5-small reads 512; ~220 keeps one idea per passage
EMBED_BATCH = 256           # passages handed to the embedder per call (it sorts them by length)
_PAGE_SEPARATOR = "\n\n"
# Not directives: the corpus README and editor/OS leftovers.
_IGNORED_NAMES = {"readme.md", "readme.txt", "thumbs.db"}


@dataclass
class BuildConfig:
    index_dir: Path
    roots: list[Path] = field(default_factory=list)   # empty: the roots recorded in the index
    model: str = DEFAULT_MODEL
    faiss_type: str = "auto"                           # store.FAISS_TYPES; auto: exact below store.ANN_MIN_CHUNKS
    rebuild: bool = False
    progress: bool = True
    cache_dir: Path | None = None                     # where the model file is assembled (Settings.cache_dir)


@dataclass
class _Processed:
    document: Document
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: np.ndarray | None = None


def build_index(config: BuildConfig, embedder: Embedder | None = None) -> BuildSummary:
    """Bring the index at `config.index_dir` in line with the files under its roots."""
    began = time.perf_counter()
    summary = BuildSummary()
    with store.build_lock(config.index_dir):
        before = None if config.rebuild else _previous_manifest(config)
        previous = _Previous(store.IndexReader(config.index_dir)) if _reusable(before) else None
        try:
            return _build(config, embedder, before, previous, summary, began)
        finally:
            if previous is not None:
                previous.reader.close()


def _build(config: BuildConfig, embedder: Embedder | None, before: store.Manifest | None,
           previous: _Previous | None, summary: BuildSummary, began: float) -> BuildSummary:
    roots = [p.resolve() for p in config.roots] or [Path(r) for r in (before.roots if before else [])]
    if not roots:
        raise TracuuError("nothing to index: name a file or folder, e.g. `tracuu index corpus/`")
    files = scan(roots, summary)
    name = embedder.name if embedder else embedder_name(config.model)
    known = before.files if before else {}
    reusable = known if previous else {}        # outdated text rules: every file is reprocessed
    kept: dict[str, _Processed] = {}
    todo: list[tuple[str, Path, str]] = []
    for source, path in tqdm(files, desc="Kiểm tra tệp", unit="tệp", disable=not config.progress):
        digest = _sha256(path, source, summary)
        if digest is None:
            continue
        if reusable.get(source, {}).get("sha256") == digest:
            assert previous is not None        # reusable is empty without a previous index
            kept[source] = previous.take(reusable[source]["doc_id"])
        else:
            todo.append((source, path, digest))
            (summary.changed if source in known else summary.added).append(source)
    summary.removed = sorted(set(known) - set(kept) - {s for s, _, _ in todo} - {s.source for s in summary.skipped})
    summary.unchanged = len(kept)
    if before is not None and not todo and not summary.removed \
            and store.faiss_kind(config.faiss_type, before.chunks) == before.faiss_type \
            and sorted(map(str, roots)) == sorted(before.roots):
        summary.documents, summary.chunks = before.documents, before.chunks
        summary.seconds = time.perf_counter() - began
        return summary  # nothing changed: no model load, no write
    if embedder is None and (todo or before is None):
        embedder = load_embedder(config.model, config.cache_dir)
    fresh: dict[str, _Processed] = {}
    if todo:
        assert embedder is not None        # loaded above whenever there is a file to embed
        fresh = _process_and_embed(todo, embedder, summary, config.progress)
    if embedder is not None:
        dim = embedder.dim
    else:
        assert before is not None          # no model loaded: nothing new, the previous index has the vectors
        dim = before.dim
    merged = {**kept, **fresh}
    data = _assemble(merged)
    manifest = store.Manifest(
        embedder=name,
        dim=dim,
        normalizer_version=NORMALIZER_VERSION,
        analyzer_version=ANALYZER_VERSION,
        pipeline_version=PIPELINE_VERSION,
        faiss_type=config.faiss_type,
        roots=[str(r) for r in roots],
        files={s: {"sha256": p.document.sha256, "doc_id": p.document.doc_id} for s, p in merged.items()},
    )
    manifest.build_seconds = round(time.perf_counter() - began, 3)
    store.write_index(config.index_dir, data, manifest)
    summary.documents, summary.chunks = len(data.documents), len(data.chunks)
    summary.seconds = time.perf_counter() - began
    return summary


def scan(roots: list[Path], summary: BuildSummary) -> list[tuple[str, Path]]:
    """Files under the roots as (source, path); source is relative to its root, sorted for determinism."""
    found: dict[str, Path] = {}
    for root in roots:
        if not root.exists():
            summary.skipped.append(SkippedFile(str(root), "no such file or folder"))
            continue
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            rel = path.name if root.is_file() else path.relative_to(root).as_posix()
            if any(part.startswith(".") for part in Path(rel).parts) or path.name.lower() in _IGNORED_NAMES:
                continue
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                summary.skipped.append(SkippedFile(rel, f"unsupported file type {path.suffix or '(none)'}"))
                continue
            if rel in found:
                summary.skipped.append(SkippedFile(rel, f"same name under two roots ({found[rel]} and {path})"))
                continue
            found[rel] = path
    return sorted(found.items())


def doc_id_for(source: str) -> str:
    """Stable id from the corpus-relative path, so links survive edits of the file."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()[:12]


def prepare_document(loaded: LoadedFile, sha256: str) -> Document:
    """Normalize page by page (so page spans survive), then parse structure and metadata."""
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    offset = 0
    for number, raw in enumerate(loaded.pages, start=1):
        text = normalize_text(raw)
        if parts:
            offset += len(_PAGE_SEPARATOR)
        pages.append((number, offset, offset + len(text)))
        parts.append(text)
        offset += len(text)
    text = _PAGE_SEPARATOR.join(parts)
    parsed = parse_document(text)
    return Document(
        doc_id=doc_id_for(loaded.source), source=loaded.source, sha256=sha256, text=text,
        meta=replace(parsed.meta, ocr=loaded.ocr) if loaded.ocr else parsed.meta,
        sections=parsed.sections, tables=parsed.tables, footnotes=parsed.footnotes,
        pages=tuple(pages) if loaded.paged else (),
    )


def titled_text(chunk: Chunk) -> str:
    """What the dense model sees: the passage under its title and section path.

    One pass per passage. Earlier pipelines also embedded the bare passage and kept the mean of the
    two vectors (dense R@5 0.862 against 0.805 for the titled view alone with the base model); the
    fine-tuned model was trained on titled passages, and README "Embeddings" has the one-run comparison
    that retired the second view.
    """
    return f"{chunk.context}\n{chunk.display}" if chunk.context else chunk.display


def lexical_text(chunk: Chunk) -> str:
    """What BM25 sees: the section path and the passage, but not the title, which every passage of a
    directive shares: measured on eval/queries.jsonl it only lifted short header passages."""
    return f"{chunk.section}\n{chunk.display}" if chunk.section else chunk.display


def _previous_manifest(config: BuildConfig) -> store.Manifest | None:
    """The current index's manifest; building onto another embedder's index is an error."""
    manifest = store.read_manifest(config.index_dir)
    wanted = embedder_name(config.model)
    if manifest is not None and manifest.embedder != wanted:
        raise IndexMismatch(
            f"{config.index_dir} was built with {manifest.embedder!r}, not {wanted!r}; "
            "rebuild it with --rebuild or choose another --index folder"
        )
    return manifest


def _reusable(manifest: store.Manifest | None) -> bool:
    """Chunks, tokens and vectors can be carried over only when the text rules are unchanged."""
    if manifest is None:
        return False
    built_with = (manifest.normalizer_version, manifest.analyzer_version, manifest.pipeline_version)
    return built_with == (NORMALIZER_VERSION, ANALYZER_VERSION, PIPELINE_VERSION)


class _Previous:
    """The previous generation, read one unchanged document at a time to carry it over unembedded."""

    def __init__(self, reader: store.IndexReader) -> None:
        self.reader = reader

    def take(self, doc_id: str) -> _Processed:
        document = self.reader.document(doc_id)
        if document is None:
            raise TracuuError(f"{self.reader.path}: the manifest lists document {doc_id} but the index lacks it; "
                              "rebuild with `tracuu index --rebuild`")
        rows, chunks, tokens = self.reader.doc_chunks(doc_id)
        return _Processed(document=document, chunks=chunks, tokens=tokens,
                          vectors=np.asarray(self.reader.vectors()[rows], dtype=np.float32))


def _sha256(path: Path, source: str, summary: BuildSummary) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        summary.skipped.append(SkippedFile(source, f"cannot read file: {exc.strerror or exc}"))
        return None


def _process_and_embed(todo: list[tuple[str, Path, str]], embedder: Embedder, summary: BuildSummary,
                       progress: bool) -> dict[str, _Processed]:
    """Parse files on a worker thread while the main thread embeds what is ready (PyTorch releases the
    GIL while it computes, so parsing the next files overlaps embedding the previous ones)."""
    ready: queue.Queue[_Processed | None] = queue.Queue(maxsize=64)
    failed: list[BaseException] = []

    def produce() -> None:
        try:
            for source, path, digest in todo:
                item = _process_file(source, path, digest, embedder, summary)
                if item is not None:
                    ready.put(item)
        except BaseException as exc:  # surfaced on the main thread below
            failed.append(exc)
        finally:
            ready.put(None)

    worker = threading.Thread(target=produce, name="tracuu-parse", daemon=True)
    worker.start()
    out: dict[str, _Processed] = {}
    pending: list[_Processed] = []
    with tqdm(total=len(todo), desc="Đọc, phân tích và nhúng", unit="tệp", disable=not progress) as bar:
        while True:
            item = ready.get()
            if item is not None:
                out[item.document.source] = item
                pending.append(item)
            waiting = sum(len(p.chunks) for p in pending)
            if pending and (item is None or waiting >= EMBED_BATCH):
                _embed(pending, embedder, summary)
                bar.update(len(pending))
                pending = []
            if item is None:
                break
    worker.join()
    if failed:
        raise failed[0]
    return out


def _process_file(source: str, path: Path, digest: str, embedder: Embedder,
                  summary: BuildSummary) -> _Processed | None:
    """One file -> document, chunks and BM25 tokens; a file that cannot be indexed is reported and skipped."""
    try:
        loaded = load_file(path, source)
        document = prepare_document(loaded, digest)
        chunks = chunk_document(document, embedder.token_len, CHUNK_TOKENS)
        if not chunks:
            raise LoadError(source, "no text left after normalization")
    except LoadError as exc:
        summary.skipped.append(SkippedFile(source, exc.reason))
        _undo_change(summary, source)
        return None
    except Exception as exc:  # one bad file must never stop the build or damage the index
        summary.skipped.append(SkippedFile(source, f"could not be processed ({type(exc).__name__}: {exc})"))
        _undo_change(summary, source)
        return None
    summary.warnings.extend(FileWarning(source, message) for message in loaded.warnings)
    return _Processed(document, chunks, [document_tokens(lexical_text(c)) for c in chunks])


def _undo_change(summary: BuildSummary, source: str) -> None:
    for bucket in (summary.added, summary.changed):
        if source in bucket:
            bucket.remove(source)


def _embed(items: list[_Processed], embedder: Embedder, summary: BuildSummary) -> None:
    """One titled view per passage, embedded in one call (the embedder batches by length)."""
    chunks = [c for item in items for c in item.chunks]
    if not chunks:
        return
    vectors = embedder.encode_documents([titled_text(c) for c in chunks])
    summary.embedded_chunks += len(chunks)
    offset = 0
    for item in items:
        item.vectors = vectors[offset : offset + len(item.chunks)]
        offset += len(item.chunks)


def _assemble(merged: dict[str, _Processed]) -> store.IndexData:
    documents, chunks, tokens, blocks = [], [], [], []
    for source in sorted(merged):
        item = merged[source]
        documents.append(item.document)
        chunks.extend(item.chunks)
        tokens.extend(item.tokens)
        assert item.vectors is not None    # embedded, or taken from the previous index with its vectors
        blocks.append(item.vectors)
    dim = blocks[0].shape[1] if blocks else 0
    vectors = np.concatenate(blocks) if blocks else np.zeros((0, dim), np.float32)
    return store.IndexData(documents=documents, chunks=chunks, vectors=vectors, tokens=tokens,
                           folded_tokens=[folded(t) for t in tokens], aux=_aux(chunks))


def _aux(chunks: list[Chunk]) -> dict:
    """Models learned from the indexed text itself (the query-side diacritic restorer)."""
    return {"diacritics": train_restorer([c.display for c in chunks])}
