"""The JSON contract of DESIGN.md as pydantic models: input and output schemas are separate classes."""
from __future__ import annotations

from datetime import date
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from search_api.query import MAX_QUERY_CHARS

Mode = Literal["hybrid", "lexical", "dense"]
_Dated = TypeVar("_Dated", "SearchParams", "AskParams")
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
    date_from: date | None = Field(None, description="Ban hành từ ngày (YYYY-MM-DD), tính cả ngày này")
    date_to: date | None = Field(None, description="Ban hành đến ngày (YYYY-MM-DD), tính cả ngày này")

    @model_validator(mode="after")
    def _dates_in_order(self) -> "SearchParams":
        return _date_range(self)


class AskParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS, description="Câu hỏi / question")
    school_year: str | None = Field(None, max_length=20)
    issuer: str | None = Field(None, max_length=200)
    doc_type: str | None = Field(None, max_length=100)
    date_from: date | None = Field(None, description="Ban hành từ ngày (YYYY-MM-DD)")
    date_to: date | None = Field(None, description="Ban hành đến ngày (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _dates_in_order(self) -> "AskParams":
        return _date_range(self)


def _date_range(params: "_Dated") -> "_Dated":
    """A range that ends before it starts is a mistake to report, not a silent empty result."""
    if params.date_from and params.date_to and params.date_from > params.date_to:
        raise ValueError(f"date_from {params.date_from} is after date_to {params.date_to} "
                         "(ngày bắt đầu sau ngày kết thúc)")
    return params


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
    rank: int
    score: float
    chunk_id: str
    text: str
    highlights: list[tuple[int, int]]
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
    text: str
    span: tuple[int, int]
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
