"""Value objects passed between the indexer stages (frozen, so stages cannot mutate each other's data)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LoadedFile:
    """A file decoded to text. PDFs keep one string per page so citations can name the page."""

    source: str                     # corpus-relative path (posix separators)
    pages: tuple[str, ...]          # one entry for non-paged formats
    encoding: str                   # e.g. "utf-8", "cp1258", "tcvn3", "pdf", "pdf+ocr", "docx", "doc+catdoc"
    paged: bool = False             # True when pages are real pages (PDF)
    warnings: tuple[str, ...] = ()  # what was read but not indexed, e.g. "page 3: OCR found no text"
    ocr: tuple[tuple[int, float], ...] = ()  # (page number, mean OCR word confidence 0-100) of scanned pages


@dataclass(frozen=True)
class Section:
    """One heading of the document outline; [start, end) covers the heading and its body."""

    label: str                      # heading line as written, e.g. "II. NHIỆM VỤ"
    path: tuple[str, ...]           # labels from the root, e.g. ("II. NHIỆM VỤ", "7.")
    level: int
    start: int
    end: int


@dataclass(frozen=True)
class TableRow:
    """A table row rebuilt from a one-cell-per-line layout, with the headers it belongs to."""

    start: int
    end: int
    label: str                      # row label, including its parent group ("Học sinh bỏ học › Học sinh THCS")
    cells: tuple[tuple[str, str], ...]  # (column header, value)
    caption: str = ""               # a header spanning the value columns, e.g. "Tỷ lệ %"
    head_start: int = 0             # [head_start, head_end): the table's column-header lines ("STT / Nội dung /
    head_end: int = 0               # Tỷ lệ % / 2019-2020 / 2020-2021"), shared by its rows; empty when none

    def render(self) -> str:
        """'Học sinh bỏ học › Học sinh THCS (Tỷ lệ %): 2019-2020: 0,43 %; 2020-2021: 0,6 %'."""
        values = "; ".join(f"{h}: {v}" if h else v for h, v in self.cells)
        label = f"{self.label} ({self.caption})" if self.caption else self.label
        return f"{label}: {values}" if values else label


@dataclass(frozen=True)
class Footnote:
    marker: str                     # "¹"
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class DocMeta:
    """Header metadata; a field the document does not state is None, never guessed."""

    title: str | None = None
    number: str | None = None       # "897/PH-GDĐT"
    issuer: str | None = None
    place: str | None = None
    date: str | None = None         # ISO "2020-09-07"
    doc_type: str | None = None     # "phương hướng", "kế hoạch", "hướng dẫn", "thông báo", "công văn", ...
    school_years: tuple[str, ...] = ()
    level: str | None = None        # "THCS", "THPT", "trung học", "mầm non", ...
    references: tuple[str, ...] = ()  # document numbers cited in the text
    ocr: tuple[tuple[int, float], ...] = ()  # (page, mean OCR word confidence 0-100) of pages read from a scan


@dataclass(frozen=True)
class Document:
    doc_id: str
    source: str
    sha256: str                     # of the file bytes
    text: str                       # normalized full text; every offset refers to it
    meta: DocMeta
    sections: tuple[Section, ...] = ()
    tables: tuple[TableRow, ...] = ()
    footnotes: tuple[Footnote, ...] = ()
    pages: tuple[tuple[int, int, int], ...] = ()  # (page number, start, end); empty when not paged

    def page_at(self, offset: int) -> int | None:
        for number, start, end in self.pages:
            if start <= offset < end:
                return number
        return None


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage. Invariant: text == document.text[start:end]."""

    chunk_id: str
    doc_id: str
    ordinal: int
    section: str                    # "II. NHIỆM VỤ › 7."
    start: int
    end: int
    page: int | None
    text: str
    kind: str = "text"              # "text" | "table_row" | "footnote" | "heading" (a heading line or a table's
                                    # column headers: kept for coverage, not retrieved)
    rendered: str | None = None     # table rows: "label: header: value; ..." (what is shown and embedded)
    context: str = ""               # title + section path, prepended for embedding and BM25 only

    @property
    def display(self) -> str:
        return self.rendered or self.text


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return: every field that is set must hold (None: no constraint).

    The index applies them inside retrieval (indexer.store), so a filtered search ranks the best
    passages within the filter, however low they rank in the whole archive.
    """

    school_year: str | None = None  # one of the document's school years, "2020-2021"
    issuer: str | None = None       # contained in the issuer, compared folded ("an lao" in "huyện An Lão")
    doc_type: str | None = None     # the document type, compared folded
    doc_id: str | None = None
    date_from: str | None = None    # ISO date, inclusive; a document without a date never matches a range
    date_to: str | None = None      # ISO date, inclusive

    def active(self) -> dict[str, str]:
        """The constraints that are set, as they are echoed in a search response."""
        return {k: v for k, v in self.__dict__.items() if v}

    def without(self, name: str) -> Filters:
        """The same filters minus one field (facet counts of a field ignore its own constraint)."""
        return Filters(**{**self.__dict__, name: None})


@dataclass
class SkippedFile:
    source: str
    reason: str


@dataclass
class FileWarning:
    """Part of a file that was indexed without it (a page OCR could not read), by file and page."""

    source: str
    message: str


@dataclass
class BuildSummary:
    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_chunks: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    warnings: list[FileWarning] = field(default_factory=list)
    seconds: float = 0.0
