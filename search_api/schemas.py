"""The JSON contract of DESIGN.md as pydantic models: input and output schemas are separate classes."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from search_api.query import MAX_QUERY_CHARS

Mode = Literal["hybrid", "lexical", "dense"]
MAX_K = 100


class SearchParams(BaseModel):
    """Input of /api/search (query string or JSON body) and of `tracuu search`."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS, description="Câu truy vấn / query")
    k: int = Field(10, ge=1, le=MAX_K, description="Số kết quả (1-100)")
    mode: Mode = Field("hybrid", description="hybrid | lexical | dense")
    school_year: str | None = Field(None, max_length=20, description="Lọc theo năm học, ví dụ 2020-2021")
    issuer: str | None = Field(None, max_length=200, description="Lọc theo cơ quan ban hành")
    doc_type: str | None = Field(None, max_length=100, description="Lọc theo loại văn bản")
    doc_id: str | None = Field(None, max_length=64, description="Chỉ tìm trong một văn bản")


class AskParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS, description="Câu hỏi / question")
    school_year: str | None = Field(None, max_length=20)
    issuer: str | None = Field(None, max_length=200)
    doc_type: str | None = Field(None, max_length=100)


class DocumentInfo(BaseModel):
    id: str
    source: str
    title: str | None = None
    number: str | None = None
    issuer: str | None = None
    date: str | None = None
    doc_type: str | None = None
    school_years: list[str] = []
    level: str | None = None
    place: str | None = None


class AlsoIn(BaseModel):
    """Another document carrying (nearly) the same passage."""

    chunk_id: str
    start: int
    end: int
    document: DocumentInfo


class SearchResult(BaseModel):
    """One passage. `text` is always document.text[start:end]; a table row is also shown as `display`."""

    rank: int
    score: float
    chunk_id: str
    text: str = Field(description="Đoạn văn đúng như trong văn bản: document.text[start:end] "
                                  "(the passage exactly as in the normalized document text)")
    highlights: list[tuple[int, int]] = Field(description="[start, end) offsets into `text` of words matching "
                                                          "the query")
    display: str | None = Field(None, description="Table rows only: the row with its column headers, "
                                                  "'label (caption): header: value; header: value', which is "
                                                  "what a reader should see; null for other passages")
    display_highlights: list[tuple[int, int]] = Field([], description="[start, end) offsets into `display` of "
                                                                      "words matching the query")
    section: str
    start: int
    end: int
    page: int | None
    kind: str = "text"
    document: DocumentInfo
    also_in: list[AlsoIn] = []


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResponse(BaseModel):
    query: str
    took_ms: float
    mode: Mode = "hybrid"
    filters: dict[str, str] = {}
    analysis: dict[str, object] = {}
    facets: dict[str, list[FacetValue]] = {}
    results: list[SearchResult]


class Answer(BaseModel):
    text: str = Field(description="The answer: a span of the passage, or 'row, column: value' for a table cell")
    span: tuple[int, int] = Field(description="[start, end) of the answer in `passage.text` (a table row's cell "
                                              "value, or the whole row when the answer is not in its text)")
    display_span: tuple[int, int] | None = Field(None, description="[start, end) of the answer in "
                                                                  "`passage.display`; null when it has none")
    passage: SearchResult


class AskResponse(BaseModel):
    question: str
    took_ms: float
    answer: Answer | None
    confidence: float
    citations: list[SearchResult]


class Section(BaseModel):
    label: str
    path: list[str]
    level: int
    start: int
    end: int


class DocumentDetail(DocumentInfo):
    text: str
    references: list[str] = []
    sections: list[Section] = []
    pages: list[tuple[int, int, int]] = []


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentInfo]


class Health(BaseModel):
    status: Literal["ok", "building", "empty"]
    documents: int
    chunks: int
    embedder: str
    index: str | None
    built_at: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
