"""The JSON contract of DESIGN.md as pydantic models: input and output schemas are separate classes."""
from __future__ import annotations

import unicodedata
from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from search_api.query import MAX_QUERY_CHARS

Mode = Literal["hybrid", "lexical", "dense"]
_Dated = TypeVar("_Dated", "SearchParams", "AskParams")
MAX_K = 100


def _whole_number(value: Any) -> Any:
    """Strict ints: JSON `true` or `2.0` is not a count (pydantic's lax mode would take them as 1 and 2)."""
    if isinstance(value, (bool, float)):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


def _plain_text(value: str) -> str:
    """Filter values are printable text: a NUL or another control character is a client bug, not a filter."""
    for i, ch in enumerate(value):
        if unicodedata.category(ch) in ("Cc", "Cs"):
            raise PydanticCustomError("control_character",
                                      "contains a control character U+{code} at position {at}; send plain text",
                                      {"code": f"{ord(ch):04X}", "at": i})
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
PlainText = Annotated[str, AfterValidator(_plain_text)]


class SearchParams(BaseModel):
    """Input of /api/search (query string or JSON body) and of `tracuu search`."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS, description="Câu truy vấn / query")
    k: WholeNumber = Field(10, ge=1, le=MAX_K, description="Số kết quả (1-100)")
    mode: Mode = Field("hybrid", description="hybrid | lexical | dense")
    school_year: PlainText | None = Field(None, max_length=20, description="Lọc theo năm học, ví dụ 2020-2021")
    issuer: PlainText | None = Field(None, max_length=200, description="Lọc theo cơ quan ban hành")
    doc_type: PlainText | None = Field(None, max_length=100, description="Lọc theo loại văn bản")
    doc_id: PlainText | None = Field(None, max_length=64, description="Chỉ tìm trong một văn bản")
    date_from: date | None = Field(None, description="Ban hành từ ngày (YYYY-MM-DD), tính cả ngày này")
    date_to: date | None = Field(None, description="Ban hành đến ngày (YYYY-MM-DD), tính cả ngày này")

    @model_validator(mode="after")
    def _dates_in_order(self) -> SearchParams:
        return _date_range(self)


class AskParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = Field(..., min_length=1, max_length=MAX_QUERY_CHARS, description="Câu hỏi / question")
    school_year: PlainText | None = Field(None, max_length=20)
    issuer: PlainText | None = Field(None, max_length=200)
    doc_type: PlainText | None = Field(None, max_length=100)
    date_from: date | None = Field(None, description="Ban hành từ ngày (YYYY-MM-DD)")
    date_to: date | None = Field(None, description="Ban hành đến ngày (YYYY-MM-DD)")

    @model_validator(mode="after")
    def _dates_in_order(self) -> AskParams:
        return _date_range(self)


def _date_range(params: _Dated) -> _Dated:
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


class AnswerItem(BaseModel):
    """One item of a list answer: a span of one cited passage."""

    text: str = Field(description="The item exactly as in its passage: citations[citation - 1].text[span[0]:span[1]]")
    span: tuple[int, int] = Field(description="[start, end) of the item in its passage's `text`")
    display_span: tuple[int, int] | None = Field(None, description="[start, end) of the item in its passage's "
                                                                  "`display` (table rows); null for other passages")
    citation: int = Field(description="`rank` of the passage the item comes from; it is citations[citation - 1]")
    chunk_id: str = Field(description="`chunk_id` of that passage")


class Answer(BaseModel):
    text: str = Field(description="The answer: a span of the passage, or 'row, column: value' for a table cell; "
                                  "for a list answer, the stretch of the passage from its first item to its last")
    span: tuple[int, int] = Field(description="[start, end) of the answer in `passage.text` (a table row's cell "
                                              "value, or the whole row when the answer is not in its text)")
    display_span: tuple[int, int] | None = Field(None, description="[start, end) of the answer in "
                                                                  "`passage.display`; null when it has none")
    passage: SearchResult
    items: list[AnswerItem] | None = Field(
        None, description="List answers only (the schools of a cluster, the documents to implement, the activities "
                          "of a month, the tasks under a heading): the items, in document order, each a span of a "
                          "cited passage, without the heading that introduces them; null for a single answer")


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


class ScannedPage(BaseModel):
    """A page read by OCR and the mean confidence of its words (0-100)."""

    page: int
    confidence: float


class DocumentDetail(DocumentInfo):
    text: str
    references: list[str] = []
    sections: list[Section] = []
    pages: list[tuple[int, int, int]] = []
    scanned_pages: list[ScannedPage] = []
    ocr_confidence: float | None = Field(None, description="mean OCR confidence of the scanned pages, 0-100")


class DocumentList(BaseModel):
    count: int
    documents: list[DocumentInfo]


# -- writes and ingestion jobs ---------------------------------------------------------------------


class SkippedOut(BaseModel):
    source: str
    reason: str


class WarningOut(BaseModel):
    source: str
    message: str


class IndexReport(BaseModel):
    """What a (re)index changed; mirrors indexer.types.BuildSummary."""

    documents: int
    chunks: int
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: int
    embedded_chunks: int
    skipped: list[SkippedOut]
    warnings: list[WarningOut] = []     # pages indexed without their text (a scan OCR could not read)
    seconds: float


class UploadResult(BaseModel):
    status: Literal["indexed"] = "indexed"
    file: str
    document: DocumentInfo
    chunks: int
    index: IndexReport


class DeleteResult(BaseModel):
    status: Literal["deleted"] = "deleted"
    document: DocumentInfo
    index: IndexReport


JobState = Literal["queued", "running", "done", "failed", "interrupted"]
FileState = Literal["pending", "placed", "indexed", "skipped"]


class JobFile(BaseModel):
    """One file of an ingestion job: where it goes in the corpus and what became of it."""

    name: str = Field(description="name as uploaded; archive members as 'archive.zip/folder/file.pdf'")
    target: str | None = Field(None, description="corpus-relative path it is stored under")
    state: FileState
    reason: str | None = Field(None, description="why it was skipped")
    document_id: str | None = None
    warnings: list[str] = Field([], description="what of an indexed file was not indexed, e.g. "
                                                "'page 3: blank page (nothing to read)'")


class JobStatus(BaseModel):
    """Progress of a background ingestion job (`GET /api/jobs/{id}`)."""

    id: str
    state: JobState
    created_at: str
    updated_at: str
    total: int = Field(description="files in the job (archive members counted one by one)")
    done: int = Field(description="files finished: indexed + skipped")
    indexed: int
    skipped: list[SkippedOut] = Field(description="files not indexed, each with its reason")
    warnings: list[WarningOut] = Field([], description="indexed files with pages OCR could not read, by file "
                                                       "and page")
    eta_seconds: float | None = Field(None, description="estimated seconds left, from this job's own pace")
    commits: int = Field(0, description="index generations written by this job so far")
    message: str | None = None
    files: list[JobFile] = []


class JobList(BaseModel):
    count: int
    jobs: list[JobStatus]


class Health(BaseModel):
    status: Literal["ok", "building", "empty"]
    documents: int
    chunks: int
    embedder: str
    index: str | None = Field(None, description="name of the loaded index generation (never a server path)")
    built_at: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail
