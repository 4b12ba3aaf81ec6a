"""How documents and chunks are laid out as rows of the index's SQLite file, and read back (with a cache).

The store runs the SQL (it alone touches index files); this module only defines the tables and
converts objects to rows and rows to objects. Documents carry their filter columns (issuer, type,
date, school years) beside the JSON of their metadata, so the store can load them as columns.
"""
from __future__ import annotations

import dataclasses
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from indexer.types import Chunk, DocMeta, Document, Footnote, Section, TableRow

SCHEMA = """
CREATE TABLE documents (doc_row INTEGER PRIMARY KEY, doc_id TEXT UNIQUE, source TEXT UNIQUE, sha256 TEXT,
                        text TEXT, meta TEXT, sections TEXT, tables TEXT, footnotes TEXT, pages TEXT,
                        issuer TEXT, doc_type TEXT, date TEXT, school_years TEXT);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE, doc_id TEXT, doc_row INTEGER, ordinal INTEGER,
                     section TEXT, start INTEGER, "end" INTEGER, page INTEGER, text TEXT, kind TEXT,
                     rendered TEXT, context TEXT, tokens TEXT);
CREATE INDEX chunks_doc ON chunks(doc_id);
"""
DOC_COLUMNS = "doc_id, source, sha256, meta, sections, tables, footnotes, pages"
DOC_META_SELECT = "SELECT doc_id, source, sha256, meta FROM documents"  # what a search result shows
DOC_SELECT_FULL = f"SELECT {DOC_COLUMNS}, text FROM documents"
CHUNK_COLUMNS = 'chunk_id, doc_id, ordinal, section, start, "end", page, text, kind, rendered, context'
CHUNK_SELECT = f"SELECT row, {CHUNK_COLUMNS} FROM chunks"
DOC_INSERT = "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
CHUNK_INSERT = "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


def document_row(doc_row: int, d: Document) -> tuple:
    """A document as a row of `documents`."""
    return (doc_row, d.doc_id, d.source, d.sha256, d.text, _dump(d.meta), _dump(d.sections), _dump(d.tables),
            _dump(d.footnotes), json.dumps(d.pages), d.meta.issuer, d.meta.doc_type, d.meta.date,
            json.dumps(list(d.meta.school_years), ensure_ascii=False))


def chunk_row(row: int, c: Chunk, doc_row: int, tokens: list[str]) -> tuple:
    """A passage as a row of `chunks`, with its BM25 tokens (an incremental build reuses them)."""
    return (row, c.chunk_id, c.doc_id, doc_row, c.ordinal, c.section, c.start, c.end, c.page, c.text, c.kind,
            c.rendered, c.context, json.dumps(tokens, ensure_ascii=False))


def _dump(value: Any) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json.dumps(dataclasses.asdict(value), ensure_ascii=False)
    return json.dumps([dataclasses.asdict(v) for v in value], ensure_ascii=False)


def chunk_from_row(row: tuple) -> Chunk:
    """A passage from the CHUNK_COLUMNS of a row."""
    chunk_id, doc_id, ordinal, section, start, end, page, text, kind, rendered, context = row
    return Chunk(chunk_id, doc_id, ordinal, section, start, end, page, text, kind, rendered, context)


def document_from_row(row: tuple) -> Document:
    """A document from a DOC_SELECT_FULL row, or its metadata alone from a DOC_META_SELECT row."""
    doc_id, source, sha256, meta = row[:4]
    meta_raw = json.loads(meta)
    meta_raw["school_years"] = tuple(meta_raw.get("school_years") or ())
    meta_raw["references"] = tuple(meta_raw.get("references") or ())
    meta_raw["ocr"] = tuple((page, conf) for page, conf in meta_raw.get("ocr") or ())
    document = Document(doc_id=doc_id, source=source, sha256=sha256, text="", meta=DocMeta(**meta_raw))
    if len(row) == 4:
        return document
    sections, tables, footnotes, pages, text = row[4:]
    return dataclasses.replace(
        document, text=text,
        sections=tuple(Section(**{**s, "path": tuple(s["path"])}) for s in json.loads(sections)),
        tables=tuple(TableRow(**{**t, "cells": tuple(tuple(c) for c in t["cells"])}) for t in json.loads(tables)),
        footnotes=tuple(Footnote(**f) for f in json.loads(footnotes)),
        pages=tuple(tuple(p) for p in json.loads(pages)),
    )


_Key = TypeVar("_Key", bound=Hashable)
_Value = TypeVar("_Value")


class RecentRows(Generic[_Key, _Value]):
    """The most recently read rows, decoded, up to `size` of them (thread-safe).

    The same passages and documents come back query after query, so decoding them once saves the
    SQL round trip; the bound keeps memory flat however large the archive is."""

    def __init__(self, size: int) -> None:
        self._items: OrderedDict[_Key, _Value] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def fetch(self, keys: Iterable[_Key], load: Callable[[list[_Key]], dict[_Key, _Value]]) -> dict[_Key, _Value]:
        """The values of the keys found, reading the missing ones with `load`."""
        wanted = list(dict.fromkeys(keys))
        with self._lock:
            out = {k: self._items[k] for k in wanted if k in self._items}
            for key in out:
                self._items.move_to_end(key)
        missing = [k for k in wanted if k not in out]
        if missing:
            found = load(missing)
            out.update(found)
            with self._lock:
                self._items.update(found)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return out
