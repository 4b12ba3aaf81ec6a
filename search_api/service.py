"""The one place that produces search data: the JSON API, the web page, the CLI and eval all call this.

It owns the loaded index generation. A reindex builds a new generation on disk while searches keep
using the old one; the swap is a single reference assignment under a lock.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from indexer.build import BuildConfig, build_index
from indexer.diacritics import Restorer
from indexer.embed import Embedder, ShippedModel, embedder_name, load_embedder
from indexer.errors import IndexMissing
from indexer.normalize import fold
from indexer.store import IndexReader, read_manifest
from indexer.types import BuildSummary, Chunk, Document
from indexer.vocab import word_spans
from search_api import answer as answering
from search_api import facts
from search_api.confidence import Candidate, Combiner, candidates
from search_api.config import Settings
from search_api.errors import NotFound
from search_api.ingest import Ingest
from search_api.query import QueryInfo, analyze
from search_api.reader import Reader
from search_api.retriever import Filters, FusionConfig, Hit, Retrieval, Retriever
from search_api.schemas import (
    AlsoIn,
    Answer,
    AskParams,
    AskResponse,
    DocumentDetail,
    DocumentInfo,
    DocumentList,
    FacetValue,
    Health,
    ScannedPage,
    SearchParams,
    SearchResponse,
    SearchResult,
    Section,
)

ASK_PASSAGES = 5  # the answerer reads this many top passages
READ_PASSAGES = 2  # and the span reader the first of them (12 layers over ~200 tokens each: ~100 ms a passage)
log = logging.getLogger("tracuu.service")


@dataclass
class _Loaded:
    reader: IndexReader
    retriever: Retriever
    restorer: Restorer | None


class SearchService:
    def __init__(self, settings: Settings, embedder: Embedder | None = None,
                 fusion: FusionConfig = FusionConfig()) -> None:
        self.settings = settings
        self.fusion = fusion
        self._embedder = embedder
        self._state: _Loaded | None = None
        self._swap = threading.Lock()
        self._build = threading.Lock()
        self._combiner: Combiner | None = None
        self._reader: Reader | None = None
        self._models = threading.Lock()
        self.ingest = Ingest(self)  # uploads, bulk jobs, deletes and reindex of the configured corpus

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        """The embedder the settings name: what a build writes with (a loaded index brings its own)."""
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model, self.settings.cache_dir)
        return self._embedder

    def ensure_index(self, progress: bool = True) -> BuildSummary | None:
        """Build the corpus index if there is none yet (first `tracuu serve`), re-embed it if another model
        built it, then load it."""
        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            return self.reindex([self.settings.corpus_dir], progress=progress)
        wanted = embedder_name(self.settings.model)
        if manifest.embedder != wanted:
            log.warning("the index at %s was built with %s; this tracuu uses %s: rebuilding it (%d documents)",
                        self.settings.index_dir.name, manifest.embedder, wanted, manifest.documents)
            return self.reindex(progress=progress, rebuild=True)
        self.reload()
        return None

    def reload(self) -> None:
        """Load the current generation with the model that built it (never another one)."""
        manifest = read_manifest(self.settings.index_dir)
        if manifest is None:
            raise IndexMissing(f"no index in {self.settings.index_dir.name}; run `tracuu index corpus/` first")
        embedder = self.embedder if self.embedder.name == manifest.embedder else \
            load_embedder(manifest.embedder, self.settings.cache_dir)
        reader = IndexReader(self.settings.index_dir, expected_embedder=embedder.name)
        restorer = _restorer(reader)
        loaded = _Loaded(reader, Retriever(reader, embedder, self.fusion), restorer)
        with self._swap:
            self._state = loaded  # searches holding the previous state finish on it

    def reindex(self, roots: list[Path] | None = None, progress: bool = False, rebuild: bool = False) -> BuildSummary:
        with self._build:
            config = BuildConfig(self.settings.index_dir, roots=list(roots or []), model=self.settings.model,
                                 progress=progress, rebuild=rebuild, cache_dir=self.settings.cache_dir)
            summary = build_index(config, self.embedder)
            self.reload()
            return summary

    def _current(self) -> _Loaded:
        state = self._state
        if state is None:
            raise IndexMissing(f"no index loaded from {self.settings.index_dir}; run `tracuu index corpus/` first")
        return state

    # -- queries ---------------------------------------------------------------------------------

    def search(self, params: SearchParams) -> SearchResponse:
        return self._search(params)[0]

    def _search(self, params: SearchParams) -> tuple[SearchResponse, QueryInfo]:
        """The response and the query analysis behind it (ask reuses the analysis)."""
        began = time.perf_counter()
        state = self._current()
        info = analyze(params.q, state.restorer)  # analyze() validates the query itself
        filters = search_filters(params)
        retrieval = state.retriever.search(info, params.k, params.mode, filters)
        results = [_result(retrieval, hit, rank, info) for rank, hit in enumerate(retrieval.hits, start=1)]
        facets = {
            name: [FacetValue(value=v, count=c) for v, c in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
            for name, counts in retrieval.facets.items()
        }
        response = SearchResponse(
            query=params.q, took_ms=round((time.perf_counter() - began) * 1000, 2), mode=params.mode,
            filters=filters.active(), analysis=_analysis(info), facets=facets, results=results,
        )
        return response, info

    def ask(self, params: AskParams, search: SearchResponse | None = None) -> AskResponse:
        """An answer from the top passages with one calibrated confidence (search_api.confidence), or none
        when it is too unsure; pass the page's own search to avoid searching twice."""
        began = time.perf_counter()
        search, found = self.ask_candidates(params, search)
        chosen, probability = self.combiner.decide(found)
        return AskResponse(question=params.q, took_ms=round((time.perf_counter() - began) * 1000, 2),
                           answer=chosen.answer if chosen else None, confidence=round(probability, 4),
                           citations=search.results[:ASK_PASSAGES])

    def ask_candidates(self, params: AskParams, search: SearchResponse | None = None,
                       with_reader: bool | None = None) -> tuple[SearchResponse, list[Candidate]]:
        """The search behind an answer and every candidate answer with its features (eval.calibration
        fits the combiner on these). The reader runs when the shipped combiner uses it (`with_reader`
        None) or when asked to."""
        if with_reader is None:
            with_reader = self.combiner.uses_reader
        if search is None:
            search, info = self._search(SearchParams(q=params.q, k=ASK_PASSAGES, school_year=params.school_year,
                                                     issuer=params.issuer, doc_type=params.doc_type,
                                                     date_from=params.date_from, date_to=params.date_to))
        else:
            info = analyze(params.q, self._current().restorer)
        citations = search.results[:ASK_PASSAGES]
        rule, rule_confidence = answering.extract(info, citations, threshold=0.0)
        read = [answering.passage_text(c) for c in citations[:READ_PASSAGES]] if with_reader else []
        spans = self.reader.read(info.restored or info.text, read) if read else []  # diacritics restored
        return search, candidates(info, citations, rule, rule_confidence, spans, read, self._stated(info, citations))

    def _stated(self, info: QueryInfo, citations: list[SearchResult]) -> facts.Stated | None:
        """The number, date or signer the question asks of the cited directive it describes best, where
        that directive states it (search_api.facts)."""
        wanted = facts.asked(info)
        if wanted is None:
            return None
        store, terms = self._current().reader, answering.question_terms(info)
        opened = [(cited, store.first_chunks(cited.document.id, facts.HEADER_PASSAGES))
                  for cited in facts.cited_documents(citations)]
        described = sorted(((facts.describes(terms, cited.document, first), cited, first) for cited, first in opened),
                           key=lambda d: (-d[0], d[1].rank))
        for coverage, cited, first in described:
            signed = store.last_chunks_with(cited.document.id, facts.SIGNING_TITLES, facts.SIGNATURE_PASSAGES) \
                if wanted == "signer" else []
            found = facts.locate(wanted, cited.document, first, signed)
            if found is None:
                continue
            passage = next((c for c in citations if c.chunk_id == found.chunk.chunk_id), None)
            if passage is None:     # a passage the search did not return: ranked as its document's cited one
                passage = _passage(found.chunk, cited.document, cited.rank, cited.score, info)
            answer = Answer(text=found.chunk.text[found.start:found.end], span=(found.start, found.end),
                            passage=passage)
            return facts.Stated(answer, wanted, coverage)
        return None

    @property
    def reader(self) -> Reader:
        """The trained span reader (indexer/models/tracuu-reader-v*), loaded on first use (about a second)."""
        with self._models:
            if self._reader is None:
                self._reader = Reader.load(ShippedModel.latest(family="tracuu-reader"), self.settings.cache_dir / "models")
            return self._reader

    @property
    def combiner(self) -> Combiner:
        with self._models:
            if self._combiner is None:
                self._combiner = Combiner.load()
            return self._combiner

    # -- documents -------------------------------------------------------------------------------

    def documents(self) -> DocumentList:
        docs = self._current().reader.list_documents()
        return DocumentList(count=len(docs), documents=[document_info(d) for d in docs])

    def document(self, doc_id: str) -> DocumentDetail:
        doc = self._current().reader.document(doc_id)
        if doc is None:
            raise NotFound(f"no document with id {doc_id!r}; see /api/documents for the list")
        info = document_info(doc)
        return DocumentDetail(
            **info.model_dump(), text=doc.text, references=list(doc.meta.references),
            sections=[Section(label=s.label, path=list(s.path), level=s.level, start=s.start, end=s.end)
                      for s in doc.sections],
            pages=[tuple(p) for p in doc.pages],
            scanned_pages=[ScannedPage(page=page, confidence=conf) for page, conf in doc.meta.ocr],
            ocr_confidence=round(sum(c for _, c in doc.meta.ocr) / len(doc.meta.ocr), 1) if doc.meta.ocr else None,
        )

    def source_path(self, doc_id: str) -> Path:
        doc = self._current().reader.documents([doc_id]).get(doc_id)
        if doc is None:
            raise NotFound(f"no document with id {doc_id!r}")
        return self.settings.corpus_dir / doc.source

    def health(self) -> Health:
        state = self._state
        if state is None:
            return Health(status="building" if self._build.locked() else "empty", documents=0, chunks=0,
                          embedder=self.settings.model, index=None)
        manifest = state.reader.manifest
        return Health(status="ok", documents=manifest.documents, chunks=manifest.chunks,
                      embedder=manifest.embedder, index=state.reader.path.name, built_at=manifest.built_at)


def search_filters(params: SearchParams) -> Filters:
    """The retrieval filters a search asks for (dates as ISO strings)."""
    return Filters(params.school_year, params.issuer, params.doc_type, params.doc_id,
                   params.date_from.isoformat() if params.date_from else None,
                   params.date_to.isoformat() if params.date_to else None)


def _result(retrieval: Retrieval, hit: Hit, rank: int, info: QueryInfo) -> SearchResult:
    chunk = retrieval.chunks[hit.row]
    return _passage(chunk, document_info(retrieval.documents[chunk.doc_id]), rank, hit.score, info,
                    [_also_in(retrieval, row) for row in hit.also_in])


def _passage(chunk: Chunk, document: DocumentInfo, rank: int, score: float, info: QueryInfo,
             also_in: list[AlsoIn] | None = None) -> SearchResult:
    shown = chunk.rendered      # a table row: the row with its headers; highlights go with each field
    return SearchResult(
        rank=rank, score=round(score, 6), chunk_id=chunk.chunk_id, text=chunk.text,
        highlights=highlight(chunk.text, info), display=shown,
        display_highlights=highlight(shown, info) if shown else [],
        section=chunk.section, start=chunk.start, end=chunk.end,
        page=chunk.page, kind=chunk.kind, document=document, also_in=also_in or [],
    )


def document_info(doc: Document) -> DocumentInfo:
    meta = doc.meta
    return DocumentInfo(id=doc.doc_id, source=doc.source, title=meta.title, number=meta.number,
                        issuer=meta.issuer, date=meta.date, doc_type=meta.doc_type,
                        school_years=list(meta.school_years), level=meta.level, place=meta.place)


def highlight(text: str, info: QueryInfo) -> list[tuple[int, int]]:
    """Character ranges of passage words that match a query word.

    A word typed with marks matches only itself ("bỏ" not "bổ"); a word typed without marks matches
    any accented form ("bo" -> "bỏ", "bổ"). fold() keeps string length, so folded offsets are
    offsets in the passage.
    """
    exact: set[str] = set()
    loose: set[str] = set()
    for _, _, word in word_spans(info.text):
        if len(word) > 1 or word.isdigit():
            (loose if fold(word) == word else exact).add(word if fold(word) != word else fold(word))
    lowered, words = _passage_words(text)
    spans: list[tuple[int, int]] = []
    for start, end, word in words:
        if word in loose or lowered[start:end] in exact:
            if spans and start - spans[-1][1] <= 1:
                spans[-1] = (spans[-1][0], end)  # "học sinh" becomes one mark, not two
            else:
                spans.append((start, end))
    return spans


@lru_cache(maxsize=4096)
def _passage_words(text: str) -> tuple[str, tuple[tuple[int, int, str], ...]]:
    """A passage lowercased, and its folded words with offsets: the same passages come back query after query."""
    return text.lower(), tuple(word_spans(fold(text)))


def _also_in(retrieval: Retrieval, row: int) -> AlsoIn:
    chunk: Chunk = retrieval.chunks[row]
    return AlsoIn(chunk_id=chunk.chunk_id, start=chunk.start, end=chunk.end,
                  document=document_info(retrieval.documents[chunk.doc_id]))


def _analysis(info: QueryInfo) -> dict[str, object]:
    return {"normalized": info.text, "restored": info.restored, "school_years": list(info.school_years),
            "doc_numbers": list(info.doc_numbers), "doc_type": info.doc_type, "lang": info.lang,
            "is_question": info.is_question}


def _restorer(reader: IndexReader) -> Restorer | None:
    model = reader.aux("diacritics")
    if model is None:
        return None
    return Restorer.from_model(model)
